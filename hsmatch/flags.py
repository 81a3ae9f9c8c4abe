"""Flags: what the alignment of a district's list with its exports finds worth a
reviewer's look. Each flag has a stable id, so a reviewer's decision on it survives
re-runs: the same finding in the next run gets the same id.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hsmatch.errors import DataError
from hsmatch.text import normalize

FLAG_TYPES: dict[str, str] = {
    "not_exported": "listed product with no or negligible exports from the district",
    "too_broad": "listed product too broad to check against export data",
    "service": "a service, not checked against goods export data",
    "unclassified": "listed product that could not be classified with confidence",
    "missing_top_export": "a large export of the district missing from its list",
    "unmatched_district": "district name that could not be matched to the export data",
    "scoring_error": "district that could not be scored (the error is in the evidence)",
}

FLAG_COLUMNS = ("flag_id", "flag_type", "list", "state", "district", "product", "code",
                "message", "evidence_json")


def flag_id(flag_type: str, list_name: str, state: str, district: str, subject: str) -> str:
    """Stable id from what the flag is about (not from its numbers, which change), so a
    reviewer's decision finds the same flag in the next run."""
    if flag_type not in FLAG_TYPES:
        raise DataError(f"unknown flag type {flag_type!r}; known: {sorted(FLAG_TYPES)}")
    key = "|".join([flag_type, normalize(list_name), normalize(state), normalize(district),
                    normalize(subject)])
    return "F" + hashlib.sha256(key.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Flag:
    """One finding. ``product`` is the listed product (empty for a missing export, whose
    subject is its ``code``)."""

    flag_type: str
    list: str
    state: str
    district: str
    product: str
    code: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def flag_id(self) -> str:
        subject = self.product if self.flag_type != "missing_top_export" else self.code
        return flag_id(self.flag_type, self.list, self.state, self.district, subject)

    def to_row(self) -> dict[str, str]:
        row = {k: str(v) for k, v in asdict(self).items() if k != "evidence"}
        row["flag_id"] = self.flag_id
        row["evidence_json"] = json.dumps(self.evidence, ensure_ascii=False, sort_keys=True, default=str)
        return {c: row[c] for c in FLAG_COLUMNS}


def read_flags(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Flags from a scoring run's flags.csv, checked; evidence parsed from JSON."""
    from hsmatch.data import read_csv_text

    frame = read_csv_text(path)
    missing = [c for c in FLAG_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{Path(path).name}: missing column(s) {missing}; is this a flags.csv "
                        "written by `hsmatch score`?")
    out = []
    for line, row in enumerate(frame.to_dict("records"), start=2):
        if row["flag_type"] not in FLAG_TYPES:
            raise DataError(f"{Path(path).name} line {line}: unknown flag type {row['flag_type']!r}")
        try:
            row["evidence"] = json.loads(row.pop("evidence_json") or "{}")
        except json.JSONDecodeError as exc:
            raise DataError(f"{Path(path).name} line {line}: evidence_json is not JSON ({exc})") from exc
        out.append(row)
    return out
