"""Cross-validate the ranker and kind model over the family folds.

    .venv/bin/python scripts/cross_validate.py               # every fold (about 6 min each)
    .venv/bin/python scripts/cross_validate.py --folds 1 2   # some folds
    .venv/bin/python scripts/cross_validate.py --write       # also models/ranker/cross_validation.md
    .venv/bin/python scripts/cross_validate.py --scratch DIR --reuse   # resume: keep folds done in DIR

The committed models hold out fold 0, and fold 0's errors are the ones development
looked at: its numbers lean optimistic. Here each fold is held out in turn, the models
are trained without it (in a scratch copy of the models folder, the committed ranker is
never touched) and evaluated on it. Prints each fold's headline numbers and their mean
and spread; asserts nothing. ``--write`` also puts the mean and spread at the head of the
model card (models/ranker/README.md), tied to the committed model's training data and
features: after a retraining the card says it has not been measured.
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


def _committed_manifest() -> dict:
    from hsmatch.paths import models_dir

    path = models_dir() / "ranker" / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _done(models: Path, fold: int) -> dict | None:
    """A fold's results already in ``models`` for the committed model's training data and
    features (see hsmatch.training.cross_validation_of), or None."""
    from hsmatch.training import cross_validation_of

    manifest_path, results_path = models / "ranker" / "manifest.json", models / "ranker" / "evaluation.json"
    committed = _committed_manifest()
    if not (committed and manifest_path.is_file() and results_path.is_file()):
        return None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("test_fold") != fold or cross_validation_of(manifest) != cross_validation_of(committed):
        return None
    return json.loads(results_path.read_text(encoding="utf-8"))


def run_fold(fold: int, scratch: Path, reuse: bool = False) -> dict:
    """Train without ``fold`` into a scratch models folder; its evaluation results."""
    from hsmatch.paths import models_dir
    from hsmatch.training import train

    models = scratch / f"fold{fold}"
    if reuse and (done := _done(models, fold)) is not None:
        print(f"fold {fold}: reusing {models}", file=sys.stderr)
        return done
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
                        help="write models/ranker/cross_validation.md and .json, and refresh the model card")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the folds already trained in --scratch for the committed model's "
                             "training data and features")
    args = parser.parse_args(argv)
    bad = [f for f in args.folds if not 0 <= f < FOLDS]
    if bad:
        parser.error(f"--folds {bad}: folds are 0..{FOLDS - 1}")

    results: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="hsmatch-cv-") as tmp:
        scratch = args.scratch or Path(tmp)
        for fold in args.folds:
            start = time.perf_counter()
            results[fold] = run_fold(fold, scratch, args.reuse)
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
        from hsmatch.evaluate import HEADLINE as CARD_METRICS
        from hsmatch.retrieve import FEATURES
        from hsmatch.training import CROSS_VALIDATION, cross_validation_of, write_model_card

        slim = {fold: {s: {k: r[s].get(k) for k in (*(key for key, _ in CARD_METRICS), "goods_pairs")}
                       for s in SETTINGS}
                for fold, r in sorted(results.items())}
        manifest = _committed_manifest()
        # The committed model is what the card describes: tie the folds to it only when they
        # were trained with its features (this code's).
        model = cross_validation_of(manifest) if manifest.get("features") == list(FEATURES) else None
        (folder / CROSS_VALIDATION).write_text(json.dumps({"model": model, "folds": slim}, indent=2) + "\n",
                                               encoding="utf-8")
        print(f"wrote {folder / 'cross_validation.md'}", file=sys.stderr)
        evaluation = folder / "evaluation.json"
        if manifest and evaluation.is_file():
            card = write_model_card(folder, manifest, json.loads(evaluation.read_text(encoding="utf-8")))
            print(f"refreshed {card}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
