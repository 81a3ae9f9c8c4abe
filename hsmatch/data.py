"""Loading and validating the reference data and user tables.

Every code column is read as text and checked against the levels it may hold; a
column whose codes lost their leading zeros (because something read them as numbers)
is refused with a message that says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from hsmatch.errors import DataError
from hsmatch.paths import data_dir


@dataclass(frozen=True)
class Schema:
    """What a CSV must hold: required columns, code columns with their allowed levels,
    and numeric columns."""

    required: tuple[str, ...]
    codes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    numeric: tuple[str, ...] = ()
    optional_codes: tuple[str, ...] = ()


SCHEMAS: dict[str, Schema] = {
    "hs/itchs8.csv": Schema(
        required=("code", "description", "gst_description", "eidb_description", "hs6",
                  "hs6_description", "hs6_description_india", "heading", "heading_description",
                  "heading_description_india", "chapter", "section", "status",
                  "eidb_last_fy_with_exports", "gst_added_2025"),
        codes={"code": (8,), "hs6": (6,), "heading": (4,), "chapter": (2,)},
    ),
    "hs/itchs8_all.csv": Schema(
        required=("code", "description", "hs6", "heading", "chapter", "status"),
        codes={"code": (8,), "hs6": (6,), "heading": (4,), "chapter": (2,)},
    ),
    "hs/hs6.csv": Schema(
        required=("hs6", "description", "heading", "chapter", "section"),
        codes={"hs6": (6,), "heading": (4,), "chapter": (2,)},
    ),
    "hs/hs_headings.csv": Schema(
        required=("heading", "chapter", "description", "description_india", "in_hs2022"),
        codes={"heading": (4,), "chapter": (2,)},
    ),
    "hs/hs_chapters.csv": Schema(
        required=("chapter", "section", "description", "description_india", "in_hs2022"),
        codes={"chapter": (2,)},
    ),
    "hs/hs_sections.csv": Schema(
        required=("section", "section_number", "name", "first_chapter", "last_chapter"),
        codes={"first_chapter": (2,), "last_chapter": (2,)},
    ),
    "hs/sac.csv": Schema(
        required=("code", "description", "level", "parent"),
        codes={"code": (2, 4, 6), "parent": (2, 4)},
        optional_codes=("parent",),
    ),
    "hs/hs2022_hs2017.csv": Schema(
        required=("hs2022", "hs2017", "relationship", "is_conversion_target"),
        codes={"hs2022": (6,), "hs2017": (6,)},
    ),
    "hs/india_exports_hs8.csv": Schema(
        required=("code", "fy", "export_usd_million"),
        codes={"code": (8,)},
        numeric=("export_usd_million",),
    ),
    "hs/india_exports_totals.csv": Schema(
        required=("fy", "india_total_usd_million", "covered_usd_million", "coverage_share"),
        numeric=("india_total_usd_million", "covered_usd_million", "coverage_share"),
    ),
}



def read_csv_text(path: str | os.PathLike[str], *, encoding: str = "utf-8-sig",
                  what: str | None = None) -> pd.DataFrame:
    """Read a CSV with every column as text; clear errors for missing files and encodings."""
    path = Path(path)
    label = what or str(path)
    if not path.is_file():
        raise DataError(f"{label}: file not found")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{label}: cannot be read as {encoding} (byte {exc.object[exc.start]:#x} at "
            f"position {exc.start}); re-save it as UTF-8 or pass its encoding "
            "(for example --encoding cp1252)"
        ) from exc
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{label}: the file is empty; expected a CSV with a header row") from exc
    except pd.errors.ParserError as exc:
        raise DataError(f"{label}: not a well-formed CSV ({exc})") from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def validate_frame(frame: pd.DataFrame, schema: Schema, *, label: str) -> pd.DataFrame:
    """Check columns, code columns and numeric columns; return a cleaned copy."""
    missing = [c for c in schema.required if c not in frame.columns]
    if missing:
        raise DataError(
            f"{label}: missing column(s) {missing}; the columns are {list(frame.columns)}"
        )
    frame = frame.copy()
    for column, levels in schema.codes.items():
        if column not in frame.columns:
            continue
        values = frame[column].astype(str).str.strip()
        ok = values.str.fullmatch(r"\d+") & values.str.len().isin(levels)
        if column in schema.optional_codes:
            ok |= values == ""
        if not ok.all():
            bad_pos = int((~ok).to_numpy().nonzero()[0][0])
            bad = values.iloc[bad_pos]
            n_bad = int((~ok).sum())
            hint = ""
            if bad.isdigit() and len(bad) + 1 in levels:
                hint = (f" {bad} has {len(bad)} digits: was the column read as numbers? "
                        "Keep codes as text (pandas: dtype=str) so leading zeros survive.")
            elif bad.endswith(".0"):
                hint = " The column went through a float; keep codes as text (dtype=str)."
            raise DataError(
                f"{label}: column {column!r} line {bad_pos + 2} holds {bad!r}, not a code of "
                f"{'/'.join(map(str, levels))} digits ({n_bad} such rows).{hint}"
            )
        frame[column] = values
    for column in schema.numeric:
        numbers = pd.to_numeric(frame[column].replace("", "nan"), errors="coerce")
        bad_mask = numbers.isna() & (frame[column].str.strip() != "")
        if bad_mask.any():
            pos = int(bad_mask.to_numpy().nonzero()[0][0])
            raise DataError(
                f"{label}: column {column!r} line {pos + 2} holds {frame[column].iloc[pos]!r}, "
                "not a number"
            )
        frame[column] = numbers
    return frame


@lru_cache(maxsize=32)
def _load_table_cached(folder: str, name: str) -> pd.DataFrame:
    schema = SCHEMAS[name]
    path = Path(folder) / name
    frame = read_csv_text(path, what=f"{name} in {folder}")
    return validate_frame(frame, schema, label=name)


def load_table(name: str, data_dir_path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load one reference file by its name relative to the data folder ("hs/itchs8.csv").

    The parsed frame is cached per process; callers get a copy they may change.
    """
    if name not in SCHEMAS:
        raise DataError(f"unknown reference file {name!r}; known: {sorted(SCHEMAS)}")
    folder = data_dir(data_dir_path)
    return _load_table_cached(str(folder), name).copy()
