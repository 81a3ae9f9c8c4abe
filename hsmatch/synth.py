"""A synthetic district x HS8 export table that agrees with every real total.

No public district x HS8 table exists. This module spreads each real district x sector
value (``district_sector_exports_fy2025.csv``) over 8-digit codes so that

- every district x sector total holds, and
- every national HS8 total of the same year (``hs/india_exports_hs8.csv``) holds,

by iterative proportional fitting (IPF) on a sparse support. Every row is marked
``synthetic``; the parameters, the seed and the margin errors are written beside it.

The model, step by step (all of it deterministic for a seed):

1. **Columns.** Per sector, the national HS8 codes of the year whose chapter is in the
   sector, each with its national value. The sector's district total minus its national
   HS8 total is value the national table lacks (codes created in 2022 and later:
   smartphones, diesel, petrol, ...). It becomes one *residual* column per chapter
   (level ``hs2_residual``, code = the chapter), split over the sector's chapters in
   proportion to each chapter's gap: its share of the sector in the reference year
   (FY2018-19, when the national table covered 97% of exports) applied to the sector
   total, less what its codes hold now. National codes in chapters of no sector (37) are
   not allocated; the sidecar reports them.
2. **Anchors** (:data:`ANCHORS`) pin known facts: a share of one district's sector value
   goes to a group of codes (and their chapter residual), split in proportion to the
   codes' national values. Pinned cells are fixed; the margins left over are fitted.
3. **Sparsity.** A district with sector value ``v`` exports
   ``k = clip(round(base_codes * (v / base_value_usd) ** elasticity), 1, codes in sector)``
   codes of that sector: log k grows linearly with log v (defaults: 1 code at USD 10
   thousand, 7 at USD 1 M, 44 at USD 100 M, 288 at USD 10 bn). Which codes is a
   weighted draw without replacement (Gumbel top-k), weight = national value **
   ``weight_power``, from one seeded generator.
4. **Room to fit.** A random draw need not admit a solution (a code no district drew;
   a district whose codes are too small to hold its value). So a code nobody drew goes
   to one district drawn in proportion to value (large districts take the rare codes);
   a district whose codes cannot hold ``capacity_slack`` times its value adds the
   sector's largest codes; a code whose districts cannot hold ``capacity_slack`` times
   its value adds the largest districts. If the fit still stalls, every cell of the
   stalled sectors is opened with seed weight ``fallback_weight`` (a full support always
   leaves room) and the fit goes on; the sidecar names those sectors (the real FY2024-25
   data needs none, and neither do the defaults on the test fixtures).
5. **IPF.** Seed = independence (district value x code value / sector total) on the
   support; rows and columns are scaled in turn, over all sectors at once (numpy
   ``bincount`` on the sparse cells), until the largest relative row error is below
   ``tolerance``. The last step scales columns, so national totals hold to rounding.
   Values are written in cents.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hsmatch.errors import DataError, InputError
from hsmatch.exports import (
    CHAPTER_SECTOR,
    RESIDUAL_LEVEL,
    SECTORS,
    DistrictExports,
)

log = logging.getLogger(__name__)

GENERATOR = "hsmatch.synth ipf-sparse v1"
OUTPUT_COLUMNS = ("state", "district", "code", "level", "value_usd", "year", "synthetic",
                  "sector", "anchored")


@dataclass(frozen=True)
class Anchor:
    """A known fact pinned before fitting: ``share`` of a district's sector value goes to
    the national codes starting with ``prefixes`` and the residual of
    ``residual_chapters``, split in proportion to their national values."""

    state: str
    district: str
    sector: str
    prefixes: tuple[str, ...]
    residual_chapters: tuple[str, ...]
    share: float
    why: str


ANCHORS: tuple[Anchor, ...] = (
    Anchor("GUJARAT", "JAMNAGAR", "mineral_products", ("2710",), ("27",), 0.95,
           "Reliance's Jamnagar refineries: refined petroleum (2710; diesel and petrol "
           "codes are in the chapter-27 residual)"),
    Anchor("TAMIL NADU", "KANCHIPURAM", "electronics", ("8517",), ("85",), 0.80,
           "Sriperumbudur smartphone assembly (8517; 85171300 itself is in the chapter-85 "
           "residual)"),
    Anchor("HARYANA", "KARNAL", "food_grains", ("10063020",), (), 0.80,
           "basmati rice (10063020), Karnal's largest export"),
)


@dataclass(frozen=True)
class SynthParams:
    """Everything that shapes the stand-in; written to the sidecar with the seed."""

    seed: int = 0
    base_value_usd: float = 1e4
    base_codes: float = 1.0
    elasticity: float = 0.41
    weight_power: float = 1.0
    capacity_slack: float = 2.0
    fallback_weight: float = 0.01
    residual_reference_year: str = "2018-19"
    tolerance: float = 1e-9
    max_iterations: int = 1000
    anchors: tuple[Anchor, ...] = ANCHORS

    def __post_init__(self) -> None:
        if self.base_value_usd <= 0 or self.base_codes <= 0 or self.elasticity < 0:
            raise InputError("base_value_usd and base_codes must be > 0 and elasticity >= 0")
        if self.capacity_slack <= 0:
            raise InputError("capacity_slack must be > 0")
        if not 0 < self.fallback_weight <= 1:
            raise InputError("fallback_weight must be in (0, 1]")
        for anchor in self.anchors:
            if anchor.sector not in SECTORS:
                raise InputError(f"anchor {anchor.district}: unknown sector {anchor.sector!r}")
            if not 0 < anchor.share <= 1:
                raise InputError(f"anchor {anchor.district}: share must be in (0, 1]")

    def codes_for(self, values: np.ndarray) -> np.ndarray:
        """How many codes a district-sector of each value draws (before clipping)."""
        ratio = np.maximum(values, 1e-9) / self.base_value_usd
        return np.maximum(1, np.rint(self.base_codes * ratio ** self.elasticity)).astype(int)


@dataclass
class SynthResult:
    frame: pd.DataFrame
    report: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------
# Inputs


def _national_for_year(national: pd.DataFrame, year: str) -> pd.DataFrame:
    missing = [c for c in ("code", "fy", "export_usd_million") if c not in national.columns]
    if missing:
        raise DataError(f"national HS8 table: missing column(s) {missing}")
    rows = national[national["fy"] == year]
    if rows.empty:
        years = sorted(national["fy"].unique())
        raise DataError(f"the national HS8 table has no rows for {year} (it has {years}); "
                        "the district table and the national table must be the same year")
    values = pd.to_numeric(rows["export_usd_million"], errors="coerce") * 1e6
    if values.isna().any() or (values < 0).any():
        bad = rows["code"][values.isna() | (values < 0)].iloc[0]
        raise DataError(f"national HS8 table: code {bad} in {year} has a missing or negative "
                        "value")
    out = pd.DataFrame({"code": rows["code"].to_numpy(), "value": values.to_numpy()})
    if out["code"].duplicated().any():
        dup = out["code"][out["code"].duplicated()].iloc[0]
        raise DataError(f"national HS8 table: code {dup} appears twice in {year}")
    return out[out["value"] > 0].reset_index(drop=True)


def _residual_split(sector: str, residual: float, covered: dict[str, float],
                    reference: dict[str, float], total: float) -> dict[str, float]:
    """Split a sector's uncovered value over its chapters (see the module docstring)."""
    chapters = SECTORS[sector].chapters
    ref_total = sum(reference.get(ch, 0.0) for ch in chapters)
    weights: dict[str, float] = {}
    if ref_total > 0:
        for ch in chapters:
            expected = total * reference.get(ch, 0.0) / ref_total
            weights[ch] = max(0.0, expected - covered.get(ch, 0.0))
        if sum(weights.values()) <= 0:
            weights = {ch: reference.get(ch, 0.0) for ch in chapters}
    elif sum(covered.values()) > 0:
        weights = {ch: covered.get(ch, 0.0) for ch in chapters}
    else:
        weights = {ch: 1.0 for ch in chapters}
    norm = sum(weights.values())
    return {ch: residual * w / norm for ch, w in weights.items() if w > 0}


# ---------------------------------------------------------------------------------------
# The fit


def _draw(rows: np.ndarray, cols: np.ndarray, k_wanted: np.ndarray, col_left: np.ndarray,
          blocked: dict[int, set[int]], power: float, rng: np.random.Generator) -> np.ndarray:
    """Each row draws its k codes without replacement, weighted by national value
    (Gumbel top-k). Returns cell ids (row * n_cols + col)."""
    n_cols = len(col_left)
    keys = power * np.log(col_left[cols])[None, :] + rng.gumbel(size=(rows.size, cols.size))
    for pos, i in enumerate(rows.tolist()):
        if i in blocked:
            keys[pos, np.isin(cols, list(blocked[i]))] = -np.inf
    order = np.argsort(-keys, axis=1, kind="stable")
    k = np.minimum(k_wanted[rows], np.isfinite(keys).sum(axis=1))
    r_pos, rank = np.nonzero(np.arange(cols.size)[None, :] < k[:, None])
    return rows[r_pos].astype(np.int64) * n_cols + cols[order[r_pos, rank]]


def _repair(rows: np.ndarray, cols: np.ndarray, row_left: np.ndarray, col_left: np.ndarray,
            cells: np.ndarray, blocked: dict[int, set[int]], rng: np.random.Generator,
            slack: float) -> np.ndarray:
    """Cells that give every row and column room: a row's codes must be able to hold
    ``slack`` times its value, a code's districts ``slack`` times its value. A code no
    district drew goes to a district drawn with probability proportional to its value
    (large districts take the rare codes); shortfalls are filled largest first."""
    n_cols = len(col_left)
    present = set(cells.tolist())
    row_cap = dict.fromkeys(rows.tolist(), 0.0)
    col_cap = dict.fromkeys(cols.tolist(), 0.0)
    for cell in present:
        i, j = divmod(cell, n_cols)
        row_cap[i] += col_left[j]
        col_cap[j] += row_left[i]
    added: list[int] = []

    def add(i: int, j: int) -> bool:
        cell = i * n_cols + j
        if cell in present or j in blocked.get(i, ()):
            return False
        present.add(cell)
        added.append(cell)
        row_cap[i] += col_left[j]
        col_cap[j] += row_left[i]
        return True

    by_value = cols[np.argsort(-col_left[cols], kind="stable")].tolist()
    for i in rows.tolist():
        if row_cap[i] < slack * row_left[i]:
            for j in by_value:
                if row_cap[i] >= slack * row_left[i]:
                    break
                add(i, j)
    uncovered = [j for j in cols.tolist() if col_cap[j] == 0.0]
    if uncovered:
        picks = rng.choice(rows, size=len(uncovered), p=row_left[rows] / row_left[rows].sum())
        for j, i in zip(uncovered, picks.tolist(), strict=True):
            add(i, j)
    by_size = rows[np.argsort(-row_left[rows], kind="stable")].tolist()
    for j in cols.tolist():
        if col_cap[j] < slack * col_left[j]:
            for i in by_size:
                if col_cap[j] >= slack * col_left[j]:
                    break
                add(i, j)
    return np.array(added, dtype=np.int64)


def _ipf(r: np.ndarray, c: np.ndarray, x: np.ndarray, row_mass: np.ndarray,
         col_mass: np.ndarray, params: SynthParams) -> tuple[np.ndarray, int, float]:
    """Scale rows then columns until the largest relative row error is below tolerance.
    Ends on a column step, so columns hold to rounding."""
    n_rows, n_cols = len(row_mass), len(col_mass)
    live = row_mass > 0
    x = np.maximum(x, 1e-300)
    row_err = math.inf
    iterations = 0
    for iterations in range(1, params.max_iterations + 1):  # noqa: B007
        sums = np.bincount(r, weights=x, minlength=n_rows)
        x *= np.divide(row_mass, sums, out=np.zeros(n_rows), where=sums > 0)[r]
        sums = np.bincount(c, weights=x, minlength=n_cols)
        x *= np.divide(col_mass, sums, out=np.zeros(n_cols), where=sums > 0)[c]
        sums = np.bincount(r, weights=x, minlength=n_rows)
        row_err = float(np.max(np.abs(sums[live] - row_mass[live]) / row_mass[live])) \
            if live.any() else 0.0
        if row_err < params.tolerance:
            break
    return x, iterations, row_err


def synthesize(district_sectors: pd.DataFrame, national: pd.DataFrame,
               params: SynthParams | None = None) -> SynthResult:
    """Build the HS8 stand-in from a sector-level district table (level ``sector``) and
    the national HS8 table (``hs/india_exports_hs8.csv`` columns)."""
    params = params or SynthParams()
    started = time.perf_counter()
    sectors = district_sectors[district_sectors["level"] == "sector"]
    if len(sectors) != len(district_sectors):
        raise InputError("synthesize() needs district exports at the sector level; got levels "
                         f"{sorted(district_sectors['level'].unique())}")
    years = sorted(sectors["year"].unique())
    if len(years) != 1:
        raise InputError(f"the district table holds years {years}; pass one year at a time")
    year = years[0]
    sectors = (sectors[sectors["value_usd"] > 0]
               .sort_values(["code", "state", "district"]).reset_index(drop=True))
    if sectors.empty:
        raise InputError("the district table has no positive value to spread")

    nat = _national_for_year(national, year)
    nat["chapter"] = nat["code"].str[:2]
    nat["sector"] = nat["chapter"].map(CHAPTER_SECTOR)
    unallocated = nat[nat["sector"].isna()]
    nat = nat[nat["sector"].notna()].sort_values(["sector", "code"]).reset_index(drop=True)
    reference = national[national["fy"] == params.residual_reference_year]
    ref_by_chapter = (pd.to_numeric(reference["export_usd_million"], errors="coerce")
                      .groupby(reference["code"].str[:2]).sum().to_dict())

    # Columns: national codes and residual chapters, per sector.
    col_code: list[str] = []
    col_level: list[str] = []
    col_sector: list[str] = []
    col_value: list[float] = []
    coverage: dict[str, dict[str, float]] = {}
    residuals: dict[str, float] = {}
    sector_totals = sectors.groupby("code")["value_usd"].sum()
    for sector in sorted(sector_totals.index):
        total = float(sector_totals[sector])
        codes = nat[nat["sector"] == sector]
        covered = float(codes["value"].sum())
        if covered > total * (1 + 1e-9):
            raise DataError(
                f"sector {sector}: the national HS8 codes of {year} add up to "
                f"USD {covered:,.0f}, more than the districts' USD {total:,.0f}; the two "
                "tables cannot both hold (are they the same year and the same sector map?)")
        coverage[sector] = {"district_total_usd": total, "national_hs8_usd": covered,
                            "coverage": covered / total if total else 0.0}
        col_code += codes["code"].tolist()
        col_level += ["hs8"] * len(codes)
        col_sector += [sector] * len(codes)
        col_value += codes["value"].tolist()
        gap = total - covered
        if gap > max(1.0, 1e-12 * total):
            split = _residual_split(sector, gap, codes.groupby("chapter")["value"].sum().to_dict(),
                                    {k: v * 1e6 for k, v in ref_by_chapter.items()}, total)
            for chapter, value in sorted(split.items()):
                col_code.append(chapter)
                col_level.append(RESIDUAL_LEVEL)
                col_sector.append(sector)
                col_value.append(value)
                residuals[chapter] = value
    missing_sectors = sorted(set(nat["sector"]) - set(sector_totals.index))
    if missing_sectors:
        raise DataError(f"the national table has exports in sectors {missing_sectors} that no "
                        "district has; the two tables cannot both hold")
    col_code_a = np.array(col_code, dtype=object)
    col_level_a = np.array(col_level, dtype=object)
    col_sector_a = np.array(col_sector, dtype=object)
    col_target = np.array(col_value, dtype=float)
    n_cols = len(col_code_a)

    row_state = sectors["state"].to_numpy(dtype=object)
    row_district = sectors["district"].to_numpy(dtype=object)
    row_sector = sectors["code"].to_numpy(dtype=object)
    row_target = sectors["value_usd"].to_numpy(dtype=float)
    n_rows = len(row_target)
    row_left = row_target.copy()
    col_left = col_target.copy()

    # Anchors: pinned cells, taken out of the margins before fitting.
    pinned: dict[tuple[int, int], float] = {}
    blocked: dict[int, set[int]] = {}
    anchor_report = []
    for anchor in params.anchors:
        hit = np.flatnonzero((row_state == anchor.state) & (row_district == anchor.district)
                             & (row_sector == anchor.sector))
        if hit.size == 0:
            anchor_report.append({**asdict(anchor), "applied": False,
                                  "note": "district has no exports in this sector here"})
            continue
        i = int(hit[0])
        in_group = (col_sector_a == anchor.sector) & (
            ((col_level_a == "hs8") & np.array([c.startswith(anchor.prefixes) for c in col_code],
                                               dtype=bool))
            | ((col_level_a == RESIDUAL_LEVEL) & np.isin(col_code_a, anchor.residual_chapters)))
        group = np.flatnonzero(in_group & (col_left > 0))
        room = float(col_left[group].sum())
        wanted = anchor.share * row_target[i]
        value = min(wanted, room)
        if value <= 0:
            anchor_report.append({**asdict(anchor), "applied": False,
                                  "note": "no national value in the anchor's codes"})
            continue
        cells = value * col_left[group] / room
        for j, v in zip(group.tolist(), cells.tolist(), strict=True):
            pinned[(i, j)] = pinned.get((i, j), 0.0) + v
        col_left[group] -= cells
        row_left[i] -= value
        blocked.setdefault(i, set()).update(group.tolist())
        anchor_report.append({**asdict(anchor), "applied": True, "pinned_usd": value,
                              "district_sector_usd": float(row_target[i]),
                              "capped": bool(value < wanted), "codes": int(group.size)})
    col_left = np.maximum(col_left, 0.0)

    # Sparse support: a weighted draw per district-sector, repaired for capacity.
    rng = np.random.default_rng(params.seed)
    k_wanted = params.codes_for(row_target)
    drawn: list[np.ndarray] = []
    repairs: list[np.ndarray] = []
    sector_rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for sector in sorted(set(row_sector)):
        rows = np.flatnonzero((row_sector == sector) & (row_left > 0))
        cols = np.flatnonzero((col_sector_a == sector) & (col_left > 0))
        if rows.size == 0:
            continue
        if cols.size == 0:
            raise DataError(f"sector {sector}: districts have value left but no code or "
                            "residual can take it")
        sector_rows[sector] = (rows, cols)
        cells = _draw(rows, cols, k_wanted, col_left, blocked, params.weight_power, rng)
        drawn.append(cells)
        repairs.append(_repair(rows, cols, row_left, col_left, cells, blocked, rng,
                               params.capacity_slack))
    drawn_ids = np.concatenate(drawn)
    repair_ids = np.concatenate(repairs)
    ids = np.unique(np.concatenate([drawn_ids, repair_ids]))
    r, c = (ids // n_cols).astype(int), (ids % n_cols).astype(int)
    sector_left = pd.Series(col_left).groupby(col_sector_a).sum()
    x = row_left[r] * col_left[c] / sector_left.reindex(col_sector_a[c]).to_numpy()
    x, iterations, row_err = _ipf(r, c, x, row_left, col_left, params)
    fallback_sectors: list[str] = []
    fallback_cells = 0
    if row_err >= params.tolerance:
        # The drawn support admits no exact fit (or only a slow one): open every cell of
        # the stalled sectors with a small seed weight, which always leaves room, and go on.
        sums = np.bincount(r, weights=x, minlength=n_rows)
        live = row_left > 0
        stalled = live & (np.abs(sums - row_left) > params.tolerance * np.maximum(row_left, 1e-300))
        fallback_sectors = sorted(set(row_sector[stalled]))
        log.warning("IPF stalled at row error %.2e; opening every cell of %s", row_err,
                    fallback_sectors)
        extra = []
        for sector in fallback_sectors:
            rows, cols = sector_rows[sector]
            grid = (rows[:, None].astype(np.int64) * n_cols + cols[None, :]).ravel()
            ok = np.ones(grid.size, dtype=bool)
            for pos, i in enumerate(rows.tolist()):
                if i in blocked:
                    ok[pos * cols.size:(pos + 1) * cols.size] &= ~np.isin(cols, list(blocked[i]))
            extra.append(grid[ok])
        new_ids = np.setdiff1d(np.concatenate(extra), ids)
        fallback_cells = int(new_ids.size)
        merged = np.unique(np.concatenate([ids, new_ids]))
        x_new = np.zeros(merged.size)
        x_new[np.searchsorted(merged, ids)] = x
        nr, nc = (new_ids // n_cols).astype(int), (new_ids % n_cols).astype(int)
        x_new[np.searchsorted(merged, new_ids)] = params.fallback_weight * (
            row_left[nr] * col_left[nc] / sector_left.reindex(col_sector_a[nc]).to_numpy())
        ids, x = merged, x_new
        r, c = (ids // n_cols).astype(int), (ids % n_cols).astype(int)
        x, more, row_err = _ipf(r, c, x, row_left, col_left, params)
        iterations += more
    if row_err >= params.tolerance:
        log.warning("IPF ended with a relative row error of %.2e (tolerance %.0e); the "
                    "sidecar reports the margins", row_err, params.tolerance)
    log.info("IPF: %d iterations, largest row error %.2e", iterations, row_err)

    # Assemble: fitted cells and pinned cells.
    pin_r = np.array([k[0] for k in pinned], dtype=int)
    pin_c = np.array([k[1] for k in pinned], dtype=int)
    pin_v = np.array(list(pinned.values()), dtype=float)
    all_r = np.concatenate([r, pin_r])
    all_c = np.concatenate([c, pin_c])
    all_v = np.concatenate([x, pin_v])
    anchored = np.concatenate([np.zeros(r.size, dtype=bool), np.ones(pin_r.size, dtype=bool)])
    keep = all_v > 0
    frame = pd.DataFrame({
        "state": row_state[all_r[keep]], "district": row_district[all_r[keep]],
        "code": col_code_a[all_c[keep]], "level": col_level_a[all_c[keep]],
        "value_usd": all_v[keep], "year": year, "synthetic": True,
        "sector": col_sector_a[all_c[keep]], "anchored": anchored[keep],
    })
    frame = (frame.groupby(["state", "district", "sector", "level", "code"], as_index=False,
                           sort=True)
             .agg(value_usd=("value_usd", "sum"), anchored=("anchored", "any"),
                  year=("year", "first"), synthetic=("synthetic", "first")))
    # Cents: a clean file; the rounding moves no margin by more than a few parts per million.
    frame["value_usd"] = frame["value_usd"].round(2)
    frame = frame[frame["value_usd"] > 0][list(OUTPUT_COLUMNS)].reset_index(drop=True)
    seconds = time.perf_counter() - started

    report = {
        "generator": GENERATOR,
        "year": year,
        "seed": params.seed,
        "params": {k: v for k, v in asdict(params).items() if k != "anchors"},
        "anchors": anchor_report,
        "model": {
            "sparsity": "k = clip(round(base_codes * (value / base_value_usd) ** elasticity), "
                        "1, codes in sector) codes per district-sector",
            "choice": "weighted draw without replacement (Gumbel top-k), weight = national "
                      "value ** weight_power",
            "fit": "iterative proportional fitting on the drawn and repaired cells; a sector "
                   "that stalls has every cell opened (seed weight fallback_weight); pinned "
                   "anchor cells fixed",
            "residual": "level hs2_residual, code = chapter: district-sector value that no "
                        "national HS8 code holds, split over the sector's chapters by their "
                        f"gap to the {params.residual_reference_year} chapter shares",
        },
        "counts": {
            "rows": len(frame),
            "district_sectors": n_rows,
            "districts": int(pd.Series(list(zip(row_state, row_district, strict=True)))
                             .nunique()),
            "national_codes": int((col_level_a == "hs8").sum()),
            "residual_rows": int((frame["level"] == RESIDUAL_LEVEL).sum()),
            "drawn_cells": int(np.unique(drawn_ids).size),
            "repair_cells": int(np.setdiff1d(repair_ids, drawn_ids).size),
            "fallback_cells": fallback_cells,
            "support_cells": int(ids.size),
        },
        "ipf": {"iterations": iterations, "final_row_error": row_err,
                "fallback_sectors": fallback_sectors},
        "residual_usd_by_chapter": {k: residuals[k] for k in sorted(residuals)},
        "sector_coverage": coverage,
        "unallocated_national": {
            "usd": float(unallocated["value"].sum()),
            "codes": sorted(unallocated["code"].tolist()),
            "why": "chapters in no DGCI&S sector (37; 77, 98 and 99 have no exports here); "
                   "the district table has no place for them",
        },
        "run_seconds": round(seconds, 3),
    }
    report["margins"] = margin_errors(frame, sectors, nat, residuals)
    report["sparsity"] = sparsity_summary(frame)
    return SynthResult(frame=frame, report=report)


def margin_errors(frame: pd.DataFrame, district_sectors: pd.DataFrame, national: pd.DataFrame,
                  residuals: dict[str, float]) -> dict[str, Any]:
    """The largest relative error of each margin of a synthetic table."""
    got = frame.groupby(["state", "district", "sector"])["value_usd"].sum()
    want = district_sectors.set_index(["state", "district", "code"])["value_usd"]
    want.index.names = ["state", "district", "sector"]
    want = want[want > 0]
    ds = (got.reindex(want.index).fillna(0.0) - want).abs() / want
    extra_rows = got.index.difference(want.index)
    hs8 = frame[frame["level"] == "hs8"].groupby("code")["value_usd"].sum()
    nat = national.set_index("code")["value"]
    nat_err = (hs8.reindex(nat.index).fillna(0.0) - nat).abs() / nat
    res = frame[frame["level"] == RESIDUAL_LEVEL].groupby("code")["value_usd"].sum()
    res_want = pd.Series(residuals, dtype=float)
    res_err = ((res.reindex(res_want.index).fillna(0.0) - res_want).abs() / res_want
               if len(res_want) else pd.Series(dtype=float))
    worst_ds = ds.idxmax() if len(ds) else None
    worst_nat = nat_err.idxmax() if len(nat_err) else None
    return {
        "district_sector_max_rel_error": float(ds.max()) if len(ds) else 0.0,
        "district_sector_worst": list(worst_ds) if worst_ds is not None else None,
        "national_hs8_max_rel_error": float(nat_err.max()) if len(nat_err) else 0.0,
        "national_hs8_worst": worst_nat,
        "residual_max_rel_error": float(res_err.max()) if len(res_err) else 0.0,
        "rows_outside_margins": len(extra_rows) + len(hs8.index.difference(nat.index)),
        "total_usd": float(frame["value_usd"].sum()),
        "district_total_usd": float(want.sum()),
    }


def sparsity_summary(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Codes per district by size band: the median and largest count in each band."""
    per = frame.groupby(["state", "district"]).agg(value=("value_usd", "sum"),
                                                   codes=("code", "size"))
    bands = [0, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, math.inf]
    names = ["< 100k", "100k-1M", "1M-10M", "10M-100M", "100M-1bn", "1bn-10bn", ">= 10bn"]
    per["band"] = pd.cut(per["value"], bands, labels=names, right=False)
    out = []
    for name, part in per.groupby("band", observed=True):
        out.append({"band_usd": str(name), "districts": len(part),
                    "median_codes": float(part["codes"].median()),
                    "max_codes": int(part["codes"].max())})
    return out


# ---------------------------------------------------------------------------------------
# Files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sidecar_path(out: str | os.PathLike[str]) -> Path:
    """Where the parameters of an output file are written: ``<name>.meta.json``."""
    out = Path(out)
    return out.with_name(out.stem + ".meta.json")


def synth_exports(out: str | os.PathLike[str], *, params: SynthParams | None = None,
                  data_dir: str | os.PathLike[str] | None = None,
                  exports_path: str | os.PathLike[str] | None = None,
                  national_path: str | os.PathLike[str] | None = None) -> SynthResult:
    """Build the stand-in from the files and write it (``.csv``/``.parquet``/``.jsonl`` by
    suffix) with its sidecar ``<name>.meta.json``."""
    from hsmatch.batch import OUTPUT_SUFFIXES, write_table
    from hsmatch.data import SCHEMAS, read_csv_text, validate_frame
    from hsmatch.exports import read_district_exports
    from hsmatch.paths import data_dir as resolve

    out = Path(out)
    if out.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError(f"--out {out}: use a .csv, .parquet or .jsonl file name")
    started = time.perf_counter()
    if exports_path is None or national_path is None:
        folder = resolve(data_dir)
        exports_path = exports_path or folder / "districts" / "district_sector_exports_fy2025.csv"
        national_path = national_path or folder / "hs" / "india_exports_hs8.csv"
    exports_path, national_path = Path(exports_path), Path(national_path)
    exports: DistrictExports = read_district_exports(exports_path, strict=True,
                                                     check_codes=False)
    national = validate_frame(read_csv_text(national_path, what=f"national table {national_path}"),
                              SCHEMAS["hs/india_exports_hs8.csv"], label=national_path.name)
    result = synthesize(exports.frame, national, params)
    result.report["inputs"] = {
        "district_sectors": {"path": str(exports_path), "sha256": _sha256(exports_path)},
        "national_hs8": {"path": str(national_path), "sha256": _sha256(national_path)},
    }
    write_table(result.frame, out)
    result.report["output"] = str(out)
    result.report["total_seconds"] = round(time.perf_counter() - started, 3)
    sidecar_path(out).write_text(json.dumps(result.report, indent=2, default=str) + "\n")
    return result

