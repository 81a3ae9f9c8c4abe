"""District exports in one tidy schema, at whatever granularity the data has.

One row per district, product and year::

    state, district, code, level, value_usd, year, synthetic[, any other column]

========  ===========================================================================
level     code
========  ===========================================================================
hs8       an 8-digit ITC-HS code ("10063020")
hs6       a 6-digit subheading; ``hs4`` a heading; ``hs2`` a chapter
sector    one of the 22 DGCI&S sector groups of chapters in :data:`SECTORS`
          ("electronics"); rows keep their ``hs2_chapters`` ("85") so that a code can
          be joined to its sector
hs2_resi- value of chapter ``code`` that no 8-digit code of the national table holds
dual      (codes created in 2022 and later). Only the synthetic HS8 stand-in writes
          these rows. ``code`` is the chapter, but the level is not ``hs2``: a filter
          on ``level == "hs8"`` leaves them out, a sum over all rows keeps them
========  ===========================================================================

``value_usd`` is in US dollars (not millions), ``year`` a financial year ("2024-25"),
``synthetic`` is true for generated rows. Loading adds ``sector`` (the sector of each
row's code, "" for chapters outside the sector map: 37, 77, 98, 99) and
``source_line``; states are written the DGCI&S way (:func:`hsmatch.districts.normalize_state`).

The real file ``districts/district_sector_exports_fy2025.csv`` (state, district, sector,
sector_label, hs2_chapters, export_usd, export_inr, fy) loads as it is: it becomes
``level == "sector"`` rows and keeps its other columns.

Bad rows (unknown sectors or codes, negative or non-numeric values, duplicated rows,
unknown states) are errors naming the line with ``strict=True``; with ``strict=False``
they are kept and returned as one :class:`~hsmatch.errors.RowWarning` each. State names
written two ways are always a warning (both read as the same state). Nothing is dropped.
"""

from __future__ import annotations

import logging
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hsmatch.codes import normalize_code
from hsmatch.data import read_csv_text
from hsmatch.errors import CodeError, DataError, InputError, RowWarning

log = logging.getLogger(__name__)

EXPORT_COLUMNS = ("state", "district", "code", "level", "value_usd", "year", "synthetic")
HS_LEVELS = {"hs8": 8, "hs6": 6, "hs4": 4, "hs2": 2}
RESIDUAL_LEVEL = "hs2_residual"
LEVELS = (*HS_LEVELS, "sector", RESIDUAL_LEVEL)
SECTOR_FILE_COLUMNS = ("state", "district", "sector", "export_usd", "fy")
UNSPECIFIED = "UNSPECIFIED"


@dataclass(frozen=True)
class Sector:
    """A DGCI&S sector: a group of HS chapters."""

    name: str
    label: str
    chapters: tuple[str, ...]


def _sector(name: str, label: str, chapters: str) -> Sector:
    return Sector(name, label, tuple(chapters.split(";")))


# The 22 sectors of district_sector_exports_fy2025.csv (source: Tiru-Kaggundi/
# dist_complexity_analysis, cluster_maps/cluster_config.py). Chapters 37 and 77 are in no
# sector; 98 and 99 are not goods chapters of the trade data.
SECTORS: dict[str, Sector] = {s.name: s for s in (
    _sector("agri_livestock_other", "Other Agricultural Products (HS 01–06, 09, 12–15, 23)",
            "01;02;03;04;05;06;09;12;13;14;15;23"),
    _sector("auto", "Automotive (HS 87)", "87"),
    _sector("chemicals", "Chemical Products (HS 28–29, 31–36, 38)",
            "28;29;31;32;33;34;35;36;38"),
    _sector("electronics", "Electronics & Electrical (HS 85)", "85"),
    _sector("food_fresh", "Fresh Fruit & Vegetables (HS 07–08)", "07;08"),
    _sector("food_grains", "Grains & Cereals (HS 10–11)", "10;11"),
    _sector("food_processed", "Processed Food & Beverages (HS 16–22, 24)",
            "16;17;18;19;20;21;22;24"),
    _sector("footwear", "Footwear (HS 64)", "64"),
    _sector("furniture", "Furniture & Furnishings (HS 94)", "94"),
    _sector("gems_jewellery", "Gems & Jewellery (HS 71)", "71"),
    _sector("leather", "Leather & Leather Goods (HS 41–43)", "41;42;43"),
    _sector("machinery", "Machinery & Machines (HS 84)", "84"),
    _sector("metals", "Metals & Metal Products (HS 72–76, 78–83)",
            "72;73;74;75;76;78;79;80;81;82;83"),
    _sector("mineral_products", "Minerals, Ores & Fuels (HS 25–27)", "25;26;27"),
    _sector("optical_medical", "Optical & Medical Equipment (HS 90)", "90"),
    _sector("other_manufactures", "Other Manufactured Goods (HS 65–67, 68–70, 91–93, 96–97)",
            "65;66;67;68;69;70;91;92;93;96;97"),
    _sector("pharma", "Pharmaceuticals (HS 30)", "30"),
    _sector("plastics_rubber", "Plastics & Rubber (HS 39–40)", "39;40"),
    _sector("textiles_garments", "Textiles & Apparel (HS 50–63)",
            "50;51;52;53;54;55;56;57;58;59;60;61;62;63"),
    _sector("toys", "Toys, Games & Sports Goods (HS 95)", "95"),
    _sector("transport_other", "Other Transport Equipment (HS 86, 88–89)", "86;88;89"),
    _sector("wood_paper", "Wood, Paper & Printing (HS 44–49)", "44;45;46;47;48;49"),
)}
CHAPTER_SECTOR: dict[str, str] = {ch: s.name for s in SECTORS.values() for ch in s.chapters}


def sector_of(code: object) -> str | None:
    """The sector of an HS code at any level (by its chapter), or None for chapters in
    no sector (37, 77, 98, 99). ``sector_of("10063020") == "food_grains"``."""
    return CHAPTER_SECTOR.get(normalize_code(code)[:2])


def sector_chapters(sector: str) -> tuple[str, ...]:
    """The chapters of a sector; a clear error for an unknown sector name."""
    if sector not in SECTORS:
        raise InputError(f"unknown sector {sector!r}; the sectors are {sorted(SECTORS)}")
    return SECTORS[sector].chapters


@dataclass
class DistrictExports:
    """A validated district-exports table and the row warnings of its load."""

    frame: pd.DataFrame
    warnings: list[RowWarning] = field(default_factory=list)
    label: str = ""

    @property
    def levels(self) -> list[str]:
        return sorted(self.frame["level"].unique())

    @property
    def years(self) -> list[str]:
        return sorted(self.frame["year"].unique())


# ---------------------------------------------------------------------------------------
# Loading and validation


def from_sector_file(frame: pd.DataFrame) -> pd.DataFrame:
    """The real DGCI&S district x sector file in the tidy schema (its columns kept)."""
    missing = [c for c in SECTOR_FILE_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"district sector file: missing column(s) {missing}; the columns are "
                        f"{list(frame.columns)}")
    out = frame.rename(columns={"sector": "code", "export_usd": "value_usd", "fy": "year"})
    out["level"] = "sector"
    out["synthetic"] = "False"
    extras = [c for c in out.columns if c not in EXPORT_COLUMNS]
    return out[[*EXPORT_COLUMNS, *extras]]


_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}
_FY = re.compile(r"^\d{4}-\d{2}$")


def _known_codes(data_dir: str | os.PathLike[str] | None) -> dict[int, set[str]]:
    from hsmatch.data import load_table
    from hsmatch.paths import data_dir as resolve

    folder = resolve(data_dir)
    known = {
        8: set(load_table("hs/itchs8_all.csv", folder)["code"]),
        6: set(load_table("hs/hs6.csv", folder)["hs6"]),
        4: set(load_table("hs/hs_headings.csv", folder)["heading"]),
        2: set(load_table("hs/hs_chapters.csv", folder)["chapter"]),
    }
    national = folder / "hs" / "india_exports_hs8.csv"
    if national.is_file():
        known[8] |= set(load_table("hs/india_exports_hs8.csv", folder)["code"])
    older = folder / "hs" / "hs6_2017.csv"
    if older.is_file():
        known[6] |= set(read_csv_text(older)["hs6"])
    known[4] |= {c[:4] for c in known[6] | known[8]}
    known[2] |= {c[:2] for c in known[4]}
    return known


def validate_exports(frame: pd.DataFrame, *, label: str = "district exports",
                     strict: bool = True, known_codes: dict[int, set[str]] | None = None
                     ) -> DistrictExports:
    """Check a tidy district-exports table (see the module docstring).

    ``known_codes`` (level digits -> codes) makes codes absent from the nomenclature
    errors; without it only their form is checked.
    """
    from hsmatch.districts import closest_state, normalize_state

    frame = frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    if "synthetic" not in frame.columns:
        frame["synthetic"] = "False"
    missing = [c for c in EXPORT_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{label}: missing column(s) {missing}; the columns are {list(frame.columns)}. "
            f"District exports need {list(EXPORT_COLUMNS[:6])} (synthetic is optional), or "
            f"the DGCI&S sector file's columns {list(SECTOR_FILE_COLUMNS)}"
        )
    frame = frame.reset_index(drop=True)
    if "source_line" not in frame.columns:
        frame["source_line"] = range(2, len(frame) + 2)
    lines = frame["source_line"].astype(int).to_numpy()
    errors: list[RowWarning] = []
    notes: list[RowWarning] = []

    def err(pos: int, column: str, message: str) -> None:
        errors.append(RowWarning(label, int(lines[pos]), column, message))

    text = {c: frame[c].map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v))
                            else str(v).strip())
            for c in ("state", "district", "code", "level", "year")}

    # States: DGCI&S spelling; unknown names are errors, two spellings of one a warning.
    states: list[str] = []
    first_spelling: dict[str, str] = {}
    for pos, raw in enumerate(text["state"]):
        canonical = normalize_state(raw)
        if canonical is None:
            hint = closest_state(raw) if raw else None
            err(pos, "state", f"{raw!r} is not a known state or UT name"
                + (f" (closest: {hint})" if hint else ""))
            states.append(raw.upper())
            continue
        first = first_spelling.setdefault(canonical, raw)
        if first != raw:
            notes.append(RowWarning(label, int(lines[pos]), "state",
                                    f"state written {raw!r} here and {first!r} on an earlier "
                                    f"row; both are read as {canonical}"))
        states.append(canonical)
    frame["state"] = states
    frame["district"] = text["district"].str.upper()
    for pos in np.flatnonzero((frame["district"] == "").to_numpy()):
        err(int(pos), "district", "empty district name")

    levels = text["level"].str.lower()
    frame["level"] = levels
    codes: list[str] = []
    sectors: list[str] = []
    for pos, (level, code) in enumerate(zip(levels, text["code"], strict=True)):
        if level not in LEVELS:
            err(pos, "level", f"level {level!r} is not one of {list(LEVELS)}")
            codes.append(code)
            sectors.append("")
            continue
        if level == "sector":
            if code not in SECTORS:
                err(pos, "code", f"unknown sector {code!r}; the sectors are {sorted(SECTORS)}")
            codes.append(code)
            sectors.append(code if code in SECTORS else "")
            continue
        digits = HS_LEVELS.get(level, 2)
        try:
            clean = normalize_code(code, level=digits)
        except CodeError as exc:
            err(pos, "code", str(exc))
            codes.append(code)
            sectors.append("")
            continue
        if known_codes is not None and clean not in known_codes.get(digits, set()):
            err(pos, "code", f"{level} code {clean} is not in the nomenclature or the national "
                "export table; check it (a typo, or a lost leading zero?)")
        codes.append(clean)
        sectors.append(CHAPTER_SECTOR.get(clean[:2], ""))
    frame["code"] = codes
    frame["sector"] = sectors

    if "hs2_chapters" in frame.columns:
        for pos in np.flatnonzero((levels == "sector").to_numpy()):
            code, chapters = codes[pos], str(frame["hs2_chapters"].iloc[pos]).strip()
            if code in SECTORS and chapters and chapters != ";".join(SECTORS[code].chapters):
                err(int(pos), "hs2_chapters",
                    f"sector {code!r} holds chapters {';'.join(SECTORS[code].chapters)}, not "
                    f"{chapters!r}")

    raw_values = frame["value_usd"]
    values = pd.to_numeric(raw_values, errors="coerce").astype(float)
    for pos in np.flatnonzero(values.isna().to_numpy()):
        err(int(pos), "value_usd", f"{raw_values.iloc[pos]!r} is not a number")
    for pos in np.flatnonzero((values < 0).to_numpy()):
        err(int(pos), "value_usd", f"negative value {values.iloc[pos]:g}; exports are >= 0")
    for pos in np.flatnonzero(np.isinf(values.to_numpy())):
        err(int(pos), "value_usd", "infinite value")
    frame["value_usd"] = values

    frame["year"] = text["year"]
    for pos in np.flatnonzero((~text["year"].str.match(_FY)).to_numpy()):
        err(int(pos), "year", f"{text['year'].iloc[pos]!r} is not a financial year like "
            "'2024-25'")

    flags = frame["synthetic"].map(lambda v: str(v).strip().lower())
    bad_flag = ~flags.isin(_TRUE | _FALSE)
    for pos in np.flatnonzero(bad_flag.to_numpy()):
        err(int(pos), "synthetic", f"{frame['synthetic'].iloc[pos]!r} is not true/false")
    frame["synthetic"] = flags.isin(_TRUE)

    key = ["state", "district", "code", "level", "year"]
    duplicated = frame.duplicated(key, keep="first")
    if duplicated.any():
        first_line = frame.assign(_line=lines).groupby(key, sort=False)["_line"].transform("first")
        for pos in np.flatnonzero(duplicated.to_numpy()):
            err(int(pos), "code", f"duplicate of line {int(first_line.iloc[pos])} (same state, "
                f"district, code, level and year: {frame['district'].iloc[pos]} "
                f"{codes[pos]} {frame['year'].iloc[pos]})")

    if errors and strict:
        errors.sort(key=lambda w: w.line)
        shown = "\n  ".join(str(e) for e in errors[:10])
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        raise DataError(f"{label}: {len(errors)} bad row(s):\n  {shown}{more}\n"
                        "Fix these rows, or load with strict=False to keep them with warnings")
    warnings = sorted(errors + notes, key=lambda w: (w.line, w.column))
    for warning in warnings:
        log.warning("%s", warning)
    ordered = [*EXPORT_COLUMNS, "sector", *[c for c in frame.columns
                                            if c not in (*EXPORT_COLUMNS, "sector")]]
    return DistrictExports(frame=frame[ordered], warnings=warnings, label=label)


def read_district_exports(path: str | os.PathLike[str], *, strict: bool = True,
                          check_codes: bool = True,
                          data_dir: str | os.PathLike[str] | None = None,
                          encoding: str = "utf-8-sig") -> DistrictExports:
    """Read district exports from a CSV or Parquet file in the tidy schema, or the
    DGCI&S district x sector file as it is. ``check_codes`` checks HS codes against the
    nomenclature in the data folder."""
    path = Path(path)
    label = path.name
    if path.suffix.lower() == ".parquet":
        if not path.is_file():
            raise DataError(f"{label}: file not found")
        frame = pd.read_parquet(path)
        frame = frame.astype({c: str for c in frame.columns
                              if c not in ("value_usd", "synthetic")})
    else:
        frame = read_csv_text(path, encoding=encoding, what=f"district exports {path}")
    if "level" not in frame.columns and all(c in frame.columns for c in SECTOR_FILE_COLUMNS):
        frame = from_sector_file(frame)
    has_hs = "level" in frame.columns and frame["level"].astype(str).str.lower().isin(
        [*HS_LEVELS, RESIDUAL_LEVEL]).any()
    known = _known_codes(data_dir) if check_codes and has_hs else None
    return validate_exports(frame, label=label, strict=strict, known_codes=known)


def load_sector_exports(data_dir: str | os.PathLike[str] | None = None) -> DistrictExports:
    """The real FY2024-25 district x sector exports from the data folder."""
    from hsmatch.paths import data_dir as resolve

    return read_district_exports(resolve(data_dir) / "districts" /
                                 "district_sector_exports_fy2025.csv", check_codes=False)


# ---------------------------------------------------------------------------------------
# Aggregation


def rollup(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """Sum a tidy table up to ``level`` (hs6, hs4, hs2 or sector).

    Rows at a finer HS level are truncated; rows already at ``level`` or coarser pass
    through. ``hs2_residual`` rows join their chapter at ``hs2`` and their sector at
    ``sector``, and stay as they are at hs6/hs4 (they have no finer code). Rolling up to
    ``sector`` refuses chapters that are in no sector.
    """
    if level not in ("hs6", "hs4", "hs2", "sector"):
        raise InputError(f"cannot roll up to {level!r}; use hs6, hs4, hs2 or sector")
    frame = frame.copy()
    if level == "sector":
        hs = frame["level"] != "sector"
        chapters = frame.loc[hs, "code"].str[:2]
        mapped = chapters.map(CHAPTER_SECTOR)
        if mapped.isna().any():
            bad = sorted(set(chapters[mapped.isna()]))
            raise DataError(f"chapters {bad} are in no sector; filter them out before a "
                            "sector roll-up")
        frame.loc[hs, "code"] = mapped
        frame.loc[hs, "level"] = "sector"
    else:
        digits = HS_LEVELS[level]
        finer = frame["level"].map(lambda lv: HS_LEVELS.get(lv, 0) > digits)
        frame.loc[finer, "code"] = frame.loc[finer, "code"].str[:digits]
        frame.loc[finer, "level"] = level
        if level == "hs2":
            frame.loc[frame["level"] == RESIDUAL_LEVEL, "level"] = "hs2"
    keys = ["state", "district", "code", "level", "year"]
    out = frame.groupby(keys, sort=True, as_index=False).agg(
        value_usd=("value_usd", "sum"), synthetic=("synthetic", "any"))
    return out[list(EXPORT_COLUMNS)]


def district_totals(frame: pd.DataFrame, *, include_unspecified: bool = True) -> pd.DataFrame:
    """Each district's total exports, ranked, with its share and cumulative share."""
    rows = frame
    if not include_unspecified:
        rows = rows[(rows["district"] != UNSPECIFIED) & (rows["state"] != UNSPECIFIED)]
    totals = (rows.groupby(["state", "district"], as_index=False)["value_usd"].sum()
              .sort_values(["value_usd", "state", "district"], ascending=[False, True, True])
              .reset_index(drop=True))
    grand = float(frame["value_usd"].sum())
    totals.insert(0, "rank", range(1, len(totals) + 1))
    totals["share"] = totals["value_usd"] / grand
    totals["cum_share"] = totals["share"].cumsum()
    return totals


def concentration(frame: pd.DataFrame, *, include_unspecified: bool = False,
                  bracket: int = 10, last_bracket_from: int = 301) -> dict[str, Any]:
    """How concentrated exports are: top-10 and top-100 shares, districts by rank
    bracket (1-10, 11-20, ..., 301+), and each state's top district with its largest
    sector. Shares are of all exports in ``frame`` (unspecified rows included)."""
    totals = district_totals(frame, include_unspecified=include_unspecified)
    grand = float(frame["value_usd"].sum())
    brackets = []
    starts = [*range(1, last_bracket_from, bracket), last_bracket_from]
    for i, start in enumerate(starts):
        end = starts[i + 1] - 1 if i + 1 < len(starts) else len(totals)
        part = totals[(totals["rank"] >= start) & (totals["rank"] <= end)]
        if part.empty:
            continue
        label = f"{start}-{end}" if i + 1 < len(starts) else f"{start}+"
        brackets.append({
            "ranks": label, "districts": len(part), "value_usd": float(part["value_usd"].sum()),
            "share": float(part["value_usd"].sum() / grand),
            "cum_share": float(part["cum_share"].iloc[-1]),
            "smallest_usd": float(part["value_usd"].min()),
            "largest_usd": float(part["value_usd"].max()),
        })
    named = frame[(frame["district"] != UNSPECIFIED) & (frame["state"] != UNSPECIFIED)]
    state_rows = []
    state_totals = frame.groupby("state")["value_usd"].sum()
    for state, part in named.groupby("state", sort=True):
        by_district = part.groupby("district")["value_usd"].sum().sort_values(ascending=False)
        top = str(by_district.index[0])
        rows = part[part["district"] == top]
        sector_col = "sector" if "sector" in rows.columns else "code"
        by_sector = rows.groupby(sector_col)["value_usd"].sum().sort_values(ascending=False)
        state_rows.append({
            "state": state, "top_district": top,
            "district_usd": float(by_district.iloc[0]),
            "share_of_state": float(by_district.iloc[0] / state_totals[state]),
            "largest_sector": str(by_sector.index[0]),
            "sector_usd": float(by_sector.iloc[0]),
            "sector_share_of_district": float(by_sector.iloc[0] / by_district.iloc[0]),
            "districts_in_state": int(by_district.size),
            "state_usd": float(state_totals[state]),
        })
    state_table = pd.DataFrame(state_rows).sort_values("state_usd", ascending=False)

    def top_share(n: int) -> float:
        return float(totals["value_usd"].head(n).sum() / grand)

    half = int((totals["cum_share"] < 0.5).sum()) + 1
    return {
        "total_usd": grand,
        "districts": len(totals),
        "include_unspecified": include_unspecified,
        "top10_share": top_share(10),
        "top100_share": top_share(100),
        "districts_for_half": half,
        "median_district_usd": float(totals["value_usd"].median()),
        "districts_under_1m": int((totals["value_usd"] < 1e6).sum()),
        "brackets": pd.DataFrame(brackets),
        "states": state_table.reset_index(drop=True),
        "totals": totals,
    }
