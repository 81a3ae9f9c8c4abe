"""The outputs of a scoring run: tables (CSV and Parquet) and an HTML report.

The report is one self-contained file (inline SVG charts, no scripts, no network): an
overview (alignment by list, coverage across districts, the most common divergences) and
a section per district with a chart of its top exports against its listed products.
Every string that comes from an input file is escaped. Each figure says which
granularity and which data (real or synthetic) it rests on.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from hsmatch.align import ScoreResult

TABLES = ("districts", "products", "recommendations", "flags")
COLOURS = {"aligned": "#2e7d32", "partly aligned": "#f9a825", "divergent": "#c62828",
           "not checked": "#9e9e9e"}


def write_outputs(result: ScoreResult, folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Write every table as CSV and Parquet, ``meta.json`` and ``report.html``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in TABLES:
        frame: pd.DataFrame = getattr(result, name)
        frame.to_csv(folder / f"{name}.csv", index=False)
        frame.to_parquet(folder / f"{name}.parquet", index=False)
        written[name] = folder / f"{name}.csv"
    (folder / "meta.json").write_text(json.dumps(result.meta, indent=2, default=str) + "\n")
    (folder / "report.html").write_text(html_report(result), encoding="utf-8")
    written["report"] = folder / "report.html"
    return written


def _e(value: Any) -> str:
    """Escaped text of any value ('' for missing)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return escape(str(value), quote=True)


def _pct(value: Any) -> str:
    return "" if value is None or pd.isna(value) else f"{100 * float(value):.1f}%"


def _usd(value: Any) -> str:
    if value is None or pd.isna(value):
        return ""
    value = float(value)
    for unit, size in (("bn", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"${value / size:,.1f} {unit}"
    return f"${value:,.0f}"


def _basis(meta: dict[str, Any]) -> str:
    data = "synthetic HS8 stand-in" if meta.get("synthetic") else "real DGCI&S data"
    return (f"{data}, {', '.join(meta.get('years', []))}; products compared at up to "
            f"{meta.get('data_level')}, districts judged at {meta.get('verdict_level')} level")


def _bar_chart(rows: list[tuple[str, float, str]], width: int = 560, label_width: int = 250) -> str:
    """Horizontal bars: (label, share 0-1, colour)."""
    bar = 18
    height = bar * len(rows) + 4
    out = [f'<svg class="chart" width="{width}" height="{height}" role="img">']
    for i, (label, share, colour) in enumerate(rows):
        y = i * bar + 2
        length = max(1.0, (width - label_width - 60) * max(0.0, min(1.0, share)))
        short = label if len(label) <= 34 else label[:33] + "…"
        out.append(f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{_e(short)}</text>'
                   f'<rect x="{label_width}" y="{y + 2}" width="{length:.1f}" height="{bar - 5}" '
                   f'fill="{colour}"/><text x="{label_width + length + 4:.1f}" y="{y + 13}">'
                   f'{100 * share:.1f}%</text>')
    out.append("</svg>")
    return "".join(out)


def _stacked(counts: dict[str, int], width: int = 520) -> str:
    total = sum(counts.values()) or 1
    x = 0.0
    parts = [f'<svg class="chart" width="{width}" height="26" role="img">']
    for name in COLOURS:
        share = counts.get(name, 0) / total
        if share:
            parts.append(f'<rect x="{x:.1f}" y="2" width="{share * width:.1f}" height="22" '
                         f'fill="{COLOURS[name]}"><title>{_e(name)}: {counts[name]}</title></rect>')
            x += share * width
    parts.append("</svg>")
    return "".join(parts)


def _histogram(values: list[float], bins: int = 10, width: int = 520, height: int = 120) -> str:
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int(v * bins))] += 1
    top = max(counts) or 1
    step = width / bins
    out = [f'<svg class="chart" width="{width}" height="{height + 18}" role="img">']
    for i, n in enumerate(counts):
        h = (height - 14) * n / top
        out.append(f'<rect x="{i * step + 1:.1f}" y="{height - h:.1f}" width="{step - 2:.1f}" '
                   f'height="{h:.1f}" fill="#1565c0"/><text x="{i * step + step / 2:.1f}" '
                   f'y="{height - h - 3:.1f}" text-anchor="middle">{n}</text>'
                   f'<text x="{i * step + step / 2:.1f}" y="{height + 14}" text-anchor="middle">'
                   f'{100 * i // bins}-{100 * (i + 1) // bins}%</text>')
    out.append("</svg>")
    return "".join(out)


def _table(frame: pd.DataFrame, columns: list[tuple[str, str]], formats: dict[str, Any] | None = None) -> str:
    formats = formats or {}
    head = "".join(f"<th>{_e(label)}</th>" for _, label in columns)
    body = []
    for record in frame.to_dict("records"):
        cells = "".join(f"<td>{formats[c](record.get(c)) if c in formats else _e(record.get(c))}</td>"
                        for c, _ in columns)
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
h1{font-size:24px}h2{font-size:19px;margin-top:32px;border-bottom:1px solid #ddd}h3{font-size:16px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ddd;padding:3px 7px;
text-align:left;vertical-align:top}th{background:#f5f5f5}.basis{color:#555;font-size:12px}
.chart text{font-size:11px;fill:#333}.tag{display:inline-block;padding:0 6px;border-radius:3px;
color:#fff;font-size:12px}section.district{border-top:1px solid #eee;margin-top:18px}
details summary{cursor:pointer;font-weight:600}.legend span{margin-right:12px}
"""


def html_report(result: ScoreResult) -> str:
    meta, districts, products = result.meta, result.districts, result.products
    flags, recs = result.flags, result.recommendations
    basis = _basis(meta)
    parts = ["<!doctype html><html lang='en'><head><meta charset='utf-8'>",
             "<title>hsmatch: district lists against district exports</title>",
             f"<style>{STYLE}</style></head><body>",
             "<h1>District export lists against district exports</h1>",
             f"<p class='basis'>Lists: {_e(meta.get('list_label'))} ({meta.get('list_rows')} rows). "
             f"Exports: {_e(meta.get('export_label'))}. Basis of every figure: {_e(basis)}.</p>"]
    if meta.get("synthetic"):
        parts.append("<p><strong>The export figures are a synthetic stand-in</strong>: real district x "
                     "sector totals spread over 8-digit codes. Code-level figures illustrate the "
                     "method; only sector totals are real.</p>")

    parts.append("<h2>Overview</h2><div class='legend'>" + "".join(
        f"<span><span class='tag' style='background:{c}'>{_e(n)}</span></span>" for n, c in COLOURS.items())
        + "</div>")
    rows = []
    for name, part in districts.groupby("list", sort=True):
        counts = Counter(part["alignment"])
        rows.append(f"<tr><td>{_e(name)}</td><td>{len(part)}</td>"
                    + "".join(f"<td>{counts.get(a, 0)}</td>" for a in COLOURS)
                    + f"<td>{_stacked(dict(counts), 260)}</td></tr>")
    parts.append("<table><thead><tr><th>list</th><th>districts</th>"
                 + "".join(f"<th>{_e(a)}</th>" for a in COLOURS) + "<th></th></tr></thead><tbody>"
                 + "".join(rows) + "</tbody></table>")
    checked = districts[districts["alignment"] != "not checked"]
    if len(checked):
        parts.append(f"<h3>Coverage across checked district lists ({len(checked)})</h3>"
                     "<p class='basis'>Share of a district's exports that its listed products "
                     f"account for; {_e(basis)}.</p>" + _histogram(checked["coverage"].astype(float).tolist()))
    parts.append("<h3>Flags</h3>" + _table(
        flags["flag_type"].value_counts().rename_axis("flag type").reset_index(name="n"),
        [("flag type", "flag type"), ("n", "flags")]))
    missing = flags[flags["flag_type"] == "missing_top_export"]
    if len(missing):
        common = missing.assign(label=[json.loads(e).get("label", "") for e in missing["evidence_json"]])
        common = common.groupby(["code", "label"]).size().sort_values(ascending=False).head(12)
        parts.append("<h3>Most common large exports missing from lists</h3>" + _table(
            common.rename("n").reset_index(), [("code", "code"), ("label", "export"), ("n", "district lists")]))
    not_exported = flags[flags["flag_type"] == "not_exported"]
    if len(not_exported):
        common = not_exported.groupby("product").size().sort_values(ascending=False).head(12)
        parts.append("<h3>Listed products most often without exports</h3>" + _table(
            common.rename("n").reset_index(), [("product", "listed product"), ("n", "district lists")]))

    parts.append("<h2>Districts</h2><p class='basis'>Bars: the district's top exports as a share "
                 f"of its exports ({_e(basis)}); green bars are covered by a listed product.</p>")
    by_state = districts.groupby("state", sort=True)
    for state, part in by_state:
        parts.append(f"<details><summary>{_e(state)} ({part['district'].nunique()} districts)</summary>")
        for district, rows in part.groupby("district", sort=True):
            parts.append(_district_section(str(state), str(district), rows, products, recs, flags, meta))
        parts.append("</details>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _district_section(state: str, district: str, rows: pd.DataFrame, products: pd.DataFrame,
                      recs: pd.DataFrame, flags: pd.DataFrame, meta: dict[str, Any]) -> str:
    anchor = escape(f"d-{state}-{district}".replace(" ", "-"), quote=True)
    first = rows.iloc[0]
    out = [f"<section class='district' id='{anchor}'><h3>{_e(district)} "
           f"<small>({_e(state)}; exports as {_e(first.get('export_district'))})</small></h3>"]
    mine = products[(products["state"] == state) & (products["district"] == district)]
    flagged = flags[(flags["state"] == state) & (flags["district"] == district)]
    covered_codes: set[str] = set()
    level = meta.get("verdict_level")
    for record in mine.to_dict("records"):
        for code in str(record.get("codes") or "").split():
            covered_codes.add(code)
    top: list[dict[str, Any]] = next(
        (json.loads(t) for t in rows.get("top_exports_json", pd.Series(dtype=str)) if isinstance(t, str)), [])
    for record in rows.to_dict("records"):
        colour = COLOURS.get(str(record["alignment"]), "#9e9e9e")
        out.append(f"<p><strong>{_e(record['list'])}</strong>: <span class='tag' style='background:"
                   f"{colour}'>{_e(record['alignment'])}</span> {_e(record.get('reason'))}"
                   + (f"; coverage {_pct(record.get('coverage'))}, top export "
                      f"{_e(record.get('top_export_label') or record.get('top_export'))} "
                      f"({_pct(record.get('top_export_share'))}), {_e(record.get('dominated_by'))} "
                      f"dominate{'s' if record.get('dominated_by') == 'one product' else ''}, "
                      f"Herfindahl {record.get('herfindahl')}, total {_usd(record.get('total_exports_usd'))}"
                      if record["alignment"] != "not checked" else "") + "</p>")
    if top:
        bars = []
        for item in top:
            code = str(item.get("code", ""))
            listed = any(_covers(c, code, level) for c in covered_codes)
            bars.append((str(item.get("label") or code), float(item.get("share", 0.0)),
                         "#2e7d32" if listed else "#90a4ae"))
        out.append(_bar_chart(bars))
    if len(mine):
        out.append(_table(mine, [("list", "list"), ("product", "listed product"), ("kind", "kind"),
                                 ("codes", "codes"), ("confidence", "confidence"), ("level", "compared at"),
                                 ("exports_usd", "exports"), ("share_of_district", "share"),
                                 ("district_share_of_india", "share of India")],
                          {"exports_usd": _usd, "share_of_district": _pct,
                           "district_share_of_india": _pct}))
    mine_recs = recs[(recs["state"] == state) & (recs["district"] == district)]
    if len(mine_recs):
        out.append("<p><strong>Recommendations</strong></p>" + _table(
            mine_recs,
            [("list", "list"), ("recommendation", "kind"), ("code", "code"), ("label", "product"),
             ("share_of_district", "share"), ("rca", "RCA"), ("density", "density"), ("reason", "why")],
            {"share_of_district": _pct}))
    if len(flagged):
        out.append("<p><strong>Flags</strong></p>" + _table(
            flagged, [("flag_id", "id"), ("flag_type", "type"), ("list", "list"), ("message", "finding")]))
    out.append("</section>")
    return "".join(out)


def _covers(listed: str, export_code: str, level: str | None) -> bool:
    """Whether a listed product's code covers an export code at the verdict level."""
    from hsmatch.exports import sector_of

    if level == "sector":
        return sector_of(listed) == export_code
    width = min(len(listed), len(export_code))
    return listed[:width] == export_code[:width] and not export_code.endswith("*")
