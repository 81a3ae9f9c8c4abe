"""The knowledge base the classifier reads from training_data/:

- ``aliases/*.csv`` (alias, codes, family, note): trade, GI and vernacular names of goods;
- ``broad_categories.csv`` (category, codes, family, note): broad categories and the
  chapters/headings they cover;
- ``services.csv`` (term, codes, family, note): services and their SAC codes;
- ``reviewed/*.csv`` (text, kind, codes, family, reason): reviewers' corrections, which
  join the knowledge base as names of their kind, so a correction takes effect at once.

Every code is checked against the nomenclature when one is given, naming the file and
line of anything that does not exist.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Container, Iterable
from dataclasses import dataclass
from pathlib import Path

from hsmatch.codes import split_codes
from hsmatch.errors import CodeError, DataError
from hsmatch.paths import training_data_dir
from hsmatch.text import normalize

KINDS = ("goods", "broad", "service")


@dataclass(frozen=True)
class LexiconEntry:
    term: str
    norm: str
    codes: tuple[str, ...]
    kind: str
    family: str
    source: str


@dataclass(frozen=True)
class Lexicon:
    entries: tuple[LexiconEntry, ...]
    sha256: str

    def of_kind(self, kind: str) -> list[LexiconEntry]:
        return [e for e in self.entries if e.kind == kind]

    def without_families(self, families: Iterable[str]) -> Lexicon:
        """The same lexicon minus entries of ``families`` (for honest held-out evaluation)."""
        drop = set(families)
        return Lexicon(tuple(e for e in self.entries if e.family not in drop),
                       f"{self.sha256}-minus-{len(drop)}")

    def __len__(self) -> int:
        return len(self.entries)


def _check_code(code: str, kind: str, known: Container[str] | None, where: str) -> None:
    if kind == "service":
        if not code.startswith("99"):
            raise DataError(f"{where}: {code} is not a SAC services code (they start with 99)")
    elif code.startswith("99") or (kind == "broad" and len(code) > 6):
        raise DataError(f"{where}: {code} does not fit a {kind} entry")
    if known is not None and code not in known:
        raise DataError(f"{where}: code {code} is not in the nomenclature; fix or remove it")


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a small UTF-8 CSV as dicts (the csv module: no pandas on the load path)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return [{(k or "").strip(): (v or "").strip() for k, v in row.items()}
                    for row in csv.DictReader(handle)]
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 (position {exc.start}); re-save it as UTF-8") from exc


def _read_entries(path: Path, term_column: str, kind: str,
                  known: Container[str] | None) -> list[LexiconEntry]:
    rows = read_rows(path)
    columns = list(rows[0]) if rows else []
    missing = [c for c in (term_column, "codes", "family") if rows and c not in columns]
    if missing:
        raise DataError(f"{path.name}: missing column(s) {missing}; columns are {columns}")
    entries = []
    for line, row in enumerate(rows, start=2):
        where = f"{path.parent.name}/{path.name} line {line}"
        term = row[term_column]
        if not term:
            raise DataError(f"{where}: empty {term_column}")
        try:
            codes = split_codes(row["codes"], where=where)
        except CodeError as exc:
            raise DataError(str(exc)) from exc
        if not codes:
            raise DataError(f"{where}: no codes for {term!r}")
        for code in codes:
            _check_code(code, kind, known, where)
        entries.append(LexiconEntry(term, normalize(term), tuple(codes), kind, row["family"], where))
    return entries


def load_lexicon(folder: str | os.PathLike[str] | None = None,
                 known: Container[str] | None = None) -> Lexicon:
    """Read aliases, broad categories and services from the training data folder.

    ``known`` (a :class:`~hsmatch.nomenclature.Nomenclature` or a set of codes) makes
    every code be checked for existence.
    """
    root = training_data_dir(folder)
    files: list[tuple[Path, str, str]] = [
        (p, "alias", "goods") for p in sorted((root / "aliases").glob("*.csv"))
    ]
    for name, column, kind in (("broad_categories.csv", "category", "broad"),
                               ("services.csv", "term", "service")):
        if (root / name).is_file():
            files.append((root / name, column, kind))
    digest = hashlib.sha256()
    entries: list[LexiconEntry] = []
    for path, column, kind in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
        entries.extend(_read_entries(path, column, kind, known))
    for path in sorted((root / "reviewed").glob("*.csv")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
        entries.extend(_reviewed_entries(path, known))
    return Lexicon(tuple(entries), digest.hexdigest())


def _reviewed_entries(path: Path, known: Container[str] | None) -> list[LexiconEntry]:
    """Reviewers' corrections as lexicon entries (goods, broad and service rows)."""
    entries = []
    for line, row in enumerate(read_rows(path), start=2):
        kind = row.get("kind", "")
        if kind not in KINDS:
            continue  # "unknown" corrections say what a name is not; they add no name
        where = f"reviewed/{path.name} line {line}"
        try:
            codes = split_codes(row.get("codes", ""), where=where)
        except CodeError as exc:
            raise DataError(str(exc)) from exc
        for code in codes:
            _check_code(code, kind, known, where)
        if row.get("text") and codes:
            entries.append(LexiconEntry(row["text"], normalize(row["text"]), tuple(codes), kind,
                                        row.get("family", ""), where))
    return entries
