"""The knowledge base the classifier reads from training_data/:

- ``aliases/*.csv`` (alias, codes, family, note): trade, GI and vernacular names of goods;
- ``broad_categories.csv`` (category, codes, family, note): broad categories and the
  chapters/headings they cover;
- ``services.csv`` (term, codes, family, note): services and their SAC codes.

Labelled pairs (``pairs/*.csv`` and reviewers' corrections in ``reviewed/*.csv``) join it
through :meth:`Lexicon.with_pairs`, so a labelled name, or a correction, is known at once.

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
from typing import TYPE_CHECKING

from hsmatch.codes import split_codes
from hsmatch.errors import CodeError, DataError
from hsmatch.paths import training_data_dir
from hsmatch.text import normalize

if TYPE_CHECKING:
    from hsmatch.trainset import Pair

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

    def with_pairs(self, pairs: Iterable[Pair]) -> Lexicon:
        """The lexicon plus labelled names: each goods, broad or service pair (the team's,
        and reviewers' corrections) becomes an entry of its kind, so a name that has been
        labelled once is known by name. Evaluation adds only training-split pairs."""
        seen = {(e.norm, e.codes, e.kind) for e in self.entries}
        added: list[LexiconEntry] = []
        digest = hashlib.sha256(self.sha256.encode())
        for pair in pairs:
            key = (normalize(pair.text), pair.codes, pair.kind)
            if pair.kind not in KINDS or not pair.codes or key in seen:
                continue
            seen.add(key)
            digest.update(f"{pair.source}|{pair.text}|{' '.join(pair.codes)}".encode())
            added.append(LexiconEntry(pair.text, key[0], pair.codes, pair.kind, pair.family, pair.source))
        return Lexicon(self.entries + tuple(added), digest.hexdigest())

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
    return Lexicon(tuple(entries), digest.hexdigest())
