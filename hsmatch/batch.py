"""Classifying a column of a table: CSV in, CSV / Parquet / JSON lines out.

A bad row never stops the batch: it gets kind ``unknown`` and a reason, and every input
row comes out, in order, with its own columns kept.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from hsmatch.data import read_csv_text
from hsmatch.errors import InputError

if TYPE_CHECKING:
    from hsmatch.classify import Classifier, Match

OUTPUT_SUFFIXES = (".csv", ".parquet", ".jsonl")


def matches_frame(matches: list[Match]) -> pd.DataFrame:
    """One row per match: kind, code, description, confidence, reason, candidates, parts."""
    rows = []
    for m in matches:
        rows.append({
            "hs_kind": m.kind,
            "hs_code": m.code or "",
            "hs_description": m.description or "",
            "hs_confidence": round(m.confidence, 4),
            "hs_reason": m.reason,
            "hs_candidates": "; ".join(f"{c.code}:{c.score:.3f}" for c in m.candidates),
            "hs_parts": json.dumps([{"text": p.text, "kind": p.kind, "code": p.code,
                                     "confidence": round(p.confidence, 4)} for p in m.parts],
                                   ensure_ascii=False) if m.parts else "",
        })
    return pd.DataFrame(rows)


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise InputError(f"cannot write {path.name}: use one of {', '.join(OUTPUT_SUFFIXES)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)


def classify_file(input_path: str | os.PathLike[str], out_path: str | os.PathLike[str], *,
                  column: str = "product", k: int = 5, encoding: str = "utf-8-sig",
                  classifier: Classifier | None = None, progress: bool = False) -> str:
    """Classify ``column`` of a CSV and write the input with match columns added."""
    from hsmatch.classify import Classifier

    if Path(out_path).suffix.lower() not in OUTPUT_SUFFIXES:
        raise InputError(f"--out {out_path}: use a .csv, .parquet or .jsonl file name")
    frame = read_csv_text(input_path, encoding=encoding)
    if column not in frame.columns:
        raise InputError(
            f"{input_path}: column {column!r} not found; the columns are {list(frame.columns)}; "
            "pass --column NAME"
        )
    classifier = classifier or Classifier.load()
    matches = classifier.classify_batch(frame[column].tolist(), k=k, progress=progress)
    result = pd.concat([frame.reset_index(drop=True), matches_frame(matches)], axis=1)
    write_table(result, out_path)
    counts = result["hs_kind"].value_counts().to_dict()
    coded = int((result["hs_code"] != "").sum())
    return (f"wrote {len(result)} rows to {out_path}: {coded} with a code; kinds "
            + ", ".join(f"{kind} {counts.get(kind, 0)}" for kind in ("goods", "broad", "service", "unknown")))
