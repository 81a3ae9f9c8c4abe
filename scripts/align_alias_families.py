"""Give alias rows the product family of the labelled pairs that name the same product.

    python scripts/align_alias_families.py training_data/aliases/gi_north.csv [...]

The held-out evaluation removes a test family's aliases to measure unseen products, and
the ranker's "unknown product" training view removes a pair's family: both find an
alias by its ``family``. An alias file written on its own ("gi_dharwad_pedha") would
slip past both when a pair calls the product "peda". Each alias family of the given
files that names a pair's product takes that pair's family, all its rows together. Two
names name one product when they are the same or nearly, or when one's words are all in
the other's and they are two or more, or one word the nomenclature never uses ("gajak"
in "Morena gajak"; "cotton" in "Chanderi cotton saree" is not enough). Files are
rewritten in place; a summary of every change is printed.

Files whose ``family`` groups names by heading rather than by product (the common-names
layers: ``common_0203``) take ``--per-row``: each row on its own takes the family of the
pair it names.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

from rapidfuzz import fuzz

from hsmatch.data import load_table
from hsmatch.lexicon import read_rows
from hsmatch.paths import training_data_dir
from hsmatch.text import normalize
from hsmatch.trainset import load_pairs

# rapidfuzz ratio at or above which two names are one product written two ways.
SAME_NAME = 90


def names_same_product(alias: str, text: str, trade_words: set[str]) -> bool:
    if alias == text or fuzz.ratio(alias, text) >= SAME_NAME:
        return True
    shorter, longer = sorted((set(alias.split()), set(text.split())), key=len)
    return shorter <= longer and (len(shorter) >= 2 or not shorter & trade_words)


def nomenclature_words() -> set[str]:
    lines = load_table("hs/itchs8.csv")
    texts = " ".join(lines["description"].tolist() + lines["hs6_description"].tolist()
                     + lines["heading_description"].tolist())
    return set(normalize(texts).split())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path, help="alias CSV files (alias,codes,family,note)")
    parser.add_argument("--per-row", action="store_true",
                        help="rename row by row (files whose families are headings, not products)")
    args = parser.parse_args(argv)
    pairs = [(normalize(p.text), p.family) for p in load_pairs(training_data_dir(), None)
             if p.kind == "goods" and not p.reviewed]
    trade_words = nomenclature_words()
    changed = 0
    for path in args.files:
        rows = read_rows(path)
        if rows and list(rows[0]) != ["alias", "codes", "family", "note"]:
            print(f"{path}: columns must be alias,codes,family,note", file=sys.stderr)
            return 2
        matches: dict[str, Counter[str]] = defaultdict(Counter)
        for number, row in enumerate(rows):
            alias = normalize(row["alias"])
            key = str(number) if args.per_row else row["family"]
            for text, family in pairs:
                if names_same_product(alias, text, trade_words):
                    matches[key][family] += 1
        renamed = {own: found.most_common(1)[0][0] for own, found in matches.items()}
        for number, row in enumerate(rows):
            key = str(number) if args.per_row else row["family"]
            if key in renamed:
                print(f"{path.name}: {row['alias']} ({row['family']}) -> {renamed[key]}")
                row["family"] = renamed[key]
        with open(path, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=["alias", "codes", "family", "note"], lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        changed += len(renamed)
    print(f"{changed} {'rows' if args.per_row else 'alias families'} took a labelled product's family")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
