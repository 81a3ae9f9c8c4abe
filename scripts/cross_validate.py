"""Cross-validate the ranker and kind model over the family folds.

    .venv/bin/python scripts/cross_validate.py               # every fold (about 6 min each)
    .venv/bin/python scripts/cross_validate.py --folds 1 2   # some folds
    .venv/bin/python scripts/cross_validate.py --write       # also models/ranker/cross_validation.md

The committed models hold out fold 0, and fold 0's errors are the ones development
looked at: its numbers lean optimistic. Here each fold is held out in turn, the models
are trained without it (in a scratch copy of the models folder, the committed ranker is
never touched) and evaluated on it. Prints each fold's headline numbers and their mean
and spread; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

HEADLINE = ("hs4_top1", "hs6_top1", "hs8_top1", "hs6_top5", "ece")
SETTINGS = ("full_knowledge_base", "unseen_families")


def run_fold(fold: int, scratch: Path) -> dict:
    """Train without ``fold`` into a scratch models folder; its evaluation results."""
    from hsmatch.paths import models_dir
    from hsmatch.training import train

    models = scratch / f"fold{fold}"
    models.mkdir(parents=True, exist_ok=True)
    # The built index and embedder are shared read-only; the ranker folder is the fold's own.
    for part in ("index", "embedder"):
        link = models / part
        if not link.exists():
            link.symlink_to((models_dir() / part).resolve(), target_is_directory=True)
    return train(models_path=models, test_fold=fold)


def table(results: dict[int, dict]) -> str:
    lines = []
    for setting in SETTINGS:
        lines += [f"### {setting.replace('_', ' ')}", "",
                  "| fold | test goods pairs | " + " | ".join(HEADLINE) + " |",
                  "|---:|---:|" + "---:|" * len(HEADLINE)]
        for fold, result in sorted(results.items()):
            row = result[setting]
            lines.append(f"| {fold} | {row['goods_pairs']} | "
                         + " | ".join(f"{row[k]:.3f}" for k in HEADLINE) + " |")
        if len(results) > 1:
            values = {k: [r[setting][k] for r in results.values()] for k in HEADLINE}
            lines.append("| mean ± sd | | " + " | ".join(
                f"{statistics.mean(v):.3f} ± {statistics.stdev(v):.3f}" for v in values.values()) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from hsmatch.paths import models_dir
    from hsmatch.trainset import FOLDS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, nargs="+", default=list(range(FOLDS)),
                        help=f"folds to hold out, 0..{FOLDS - 1} (default: all)")
    parser.add_argument("--scratch", type=Path, default=None,
                        help="folder for the per-fold models (default: a temporary folder)")
    parser.add_argument("--write", action="store_true",
                        help="write models/ranker/cross_validation.md and .json")
    args = parser.parse_args(argv)
    bad = [f for f in args.folds if not 0 <= f < FOLDS]
    if bad:
        parser.error(f"--folds {bad}: folds are 0..{FOLDS - 1}")

    results: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="hsmatch-cv-") as tmp:
        scratch = args.scratch or Path(tmp)
        for fold in args.folds:
            start = time.perf_counter()
            results[fold] = run_fold(fold, scratch)
            print(f"fold {fold}: trained and evaluated in {time.perf_counter() - start:.0f} s",
                  file=sys.stderr, flush=True)
    committed = models_dir() / "ranker" / "evaluation.json"
    if 0 not in results and committed.is_file():
        # Fold 0 is what the committed models were trained without: their evaluation.
        evaluation = json.loads(committed.read_text(encoding="utf-8"))
        if evaluation.get("split", {}).get("test_fold", 0) == 0:
            results[0] = evaluation
    report = table(results)
    print(report)
    if args.write:
        folder = models_dir() / "ranker"
        header = ("# hsmatch cross-validation\n\nEach fold of product families held out in turn "
                  "(`scripts/cross_validate.py --write`); the committed models hold out fold 0, "
                  "and fold 0's row is their evaluation unless fold 0 was retrained here.\n\n")
        (folder / "cross_validation.md").write_text(header + report, encoding="utf-8")
        slim = {fold: {s: {k: r[s][k] for k in (*HEADLINE, "goods_pairs")} for s in SETTINGS}
                for fold, r in results.items()}
        (folder / "cross_validation.json").write_text(json.dumps(slim, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {folder / 'cross_validation.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
