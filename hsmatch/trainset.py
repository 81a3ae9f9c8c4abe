"""Labelled pairs: product name -> acceptable codes, the ranker's training and test data.

Files: ``training_data/pairs/*.csv`` written by the team, and
``training_data/reviewed/*.csv`` made from reviewers' corrections; both with columns
``text, kind, codes, family, reason``. ``codes`` lists the acceptable codes best first:
ITC-HS 8-digit lines for goods, chapters/headings for broad entries, SAC codes for
services, nothing for unknown. ``family`` groups variants of one product, so that the
held-out split keeps near-duplicates on one side.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Container, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from hsmatch.codes import split_codes
from hsmatch.errors import CodeError, DataError
from hsmatch.lexicon import read_rows
from hsmatch.paths import training_data_dir
from hsmatch.text import normalize

log = logging.getLogger(__name__)

KINDS = ("goods", "broad", "service", "unknown")
COLUMNS = ("text", "kind", "codes", "family", "reason")
PAIR_FOLDERS = ("pairs", "reviewed")
# Families fall into FOLDS folds by a stable hash; one fold (by default fold 0) is held
# out for evaluation, and scripts/cross_validate.py holds out each in turn.
FOLDS = 5
TEST_SHARE = 1 / FOLDS


@dataclass(frozen=True)
class Pair:
    text: str
    kind: str
    codes: tuple[str, ...]
    family: str
    reason: str
    source: str
    test_fold: int = 0  # the fold of families held out (see FOLDS)

    @property
    def reviewed(self) -> bool:
        return self.source.startswith("reviewed/")

    @property
    def split(self) -> str:
        """Reviewers' corrections always train; team-written pairs split by family."""
        return "train" if self.reviewed else family_split(self.family, self.test_fold)


def family_fold(family: str) -> int:
    """A family's fold, 0 .. FOLDS-1, by a stable hash: adding rows never reshuffles."""
    bucket = int(hashlib.sha256(family.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return min(int(bucket * FOLDS), FOLDS - 1)


def family_split(family: str, test_fold: int = 0) -> str:
    """'test' for the families of ``test_fold``, else 'train'."""
    return "test" if family_fold(family) == test_fold else "train"


def holding_out(pairs: Iterable[Pair], test_fold: int) -> list[Pair]:
    """The pairs with the families of ``test_fold`` held out instead."""
    if not 0 <= test_fold < FOLDS:
        raise ValueError(f"test fold {test_fold} is not one of 0..{FOLDS - 1}")
    return [replace(p, test_fold=test_fold) for p in pairs]


def check_label(kind: str, codes: list[str], known: Container[str] | None, where: str) -> None:
    """Check that ``codes`` fit ``kind`` (and exist in ``known``); raise :class:`DataError`
    naming ``where`` otherwise. The review store checks corrections with the same rules."""
    if kind not in KINDS:
        raise DataError(f"{where}: kind {kind!r} is not one of {KINDS}")
    if kind == "unknown":
        if codes:
            raise DataError(f"{where}: kind unknown takes no codes, got {codes}")
        return
    if not codes:
        raise DataError(f"{where}: kind {kind} needs at least one code")
    for code in codes:
        if kind == "goods" and len(code) != 8:
            raise DataError(f"{where}: goods codes are 8-digit tariff lines, got {code}")
        if kind == "broad" and len(code) not in (2, 4):
            raise DataError(f"{where}: broad codes are chapters (2) or headings (4), got {code}")
        if kind == "service" and not code.startswith("99"):
            raise DataError(f"{where}: service codes are SAC codes starting 99, got {code}")
        if kind != "service" and code.startswith("99"):
            raise DataError(f"{where}: {code} is a services code but the kind is {kind}")
        if known is not None and code not in known:
            raise DataError(f"{where}: code {code} is not in the nomenclature")


def pair_files(folder: str | os.PathLike[str] | None = None) -> list[Path]:
    root = training_data_dir(folder)
    return [p for sub in PAIR_FOLDERS for p in sorted((root / sub).glob("*.csv"))]


def load_pairs(folder: str | os.PathLike[str] | None = None,
               known: Container[str] | None = None) -> list[Pair]:
    """All labelled pairs, checked; every problem names its file and line.

    A text labelled twice with the same codes is kept once (logged); labelled twice with
    different codes it is an error, because one of the two is wrong. A reviewed pair
    (``reviewed/``) overrides a team-written pair of the same text.
    """
    pairs: dict[str, Pair] = {}
    for path in pair_files(folder):
        rows = read_rows(path)
        missing = [c for c in COLUMNS if rows and c not in rows[0]]
        if missing:
            raise DataError(f"{path.name}: missing column(s) {missing}; expected {list(COLUMNS)}")
        reviewed = path.parent.name == "reviewed"
        for line, row in enumerate(rows, start=2):
            where = f"{path.parent.name}/{path.name} line {line}"
            text = row["text"]
            if not text:
                raise DataError(f"{where}: empty text")
            if not row["family"]:
                raise DataError(f"{where}: empty family; every pair belongs to a product family")
            try:
                codes = split_codes(row["codes"], where=where)
            except CodeError as exc:
                raise DataError(str(exc)) from exc
            check_label(row["kind"], codes, known, where)
            pair = Pair(text, row["kind"], tuple(codes), row["family"], row["reason"], where)
            key = normalize(text)
            previous = pairs.get(key)
            if previous and not reviewed:
                if (previous.kind, previous.codes) != (pair.kind, pair.codes):
                    raise DataError(
                        f"{where}: {text!r} is labelled {pair.kind} {list(pair.codes)} here but "
                        f"{previous.kind} {list(previous.codes)} at {previous.source}; keep one"
                    )
                log.info("%s: duplicate of %s, kept once", where, previous.source)
                continue
            pairs[key] = pair
    return list(pairs.values())


def pairs_hash(folder: str | os.PathLike[str] | None = None) -> str:
    """sha256 over the pair files (names and bytes), for model cards."""
    digest = hashlib.sha256()
    for path in pair_files(folder):
        digest.update(f"{path.parent.name}/{path.name}".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
