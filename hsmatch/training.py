"""`hsmatch train`: fit the ranker on the labelled pairs, save it with its manifest and
model card, and evaluate it on the held-out families."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from hsmatch.evaluate import HEADLINE, evaluate, write_reports
from hsmatch.learned_ranker import ranker_manifest, train_ranker
from hsmatch.paths import models_dir
from hsmatch.trainset import load_pairs, pairs_hash

log = logging.getLogger(__name__)


def train(*, models_path: str | os.PathLike[str] | None = None,
          data_dir: str | os.PathLike[str] | None = None,
          training_dir: str | os.PathLike[str] | None = None,
          kind: str = "mlp", use: str = "train", seed: int = 0,
          run_evaluation: bool = True) -> dict[str, Any]:
    """Train the ranker on the training split (``use="train"``) or on every pair
    (``use="all"``), save it under models/ranker and, on the split, evaluate it."""
    from hsmatch.classify import Classifier, _KnownCodes

    classifier = Classifier.load(models_dir=models_path, data_dir=data_dir, training_dir=training_dir)
    pairs = load_pairs(training_dir, _KnownCodes(classifier.index))
    chosen = [p for p in pairs if use == "all" or p.split == "train"]
    log.info("training on %d of %d pairs (%s)", len(chosen), len(pairs), use)
    ranker, stats = train_ranker(classifier, chosen, kind=kind, seed=seed)
    folder = models_dir(models_path) / "ranker"
    manifest = ranker_manifest(stats, pairs_hash(training_dir), classifier.index.manifest,
                               "all pairs" if use == "all" else "training split (held-out families excluded)")
    ranker.save(folder, manifest)
    manifest = ranker.manifest
    classifier.ranker = ranker
    results: dict[str, Any] = {"training": stats}
    if run_evaluation and use != "all":
        results = {**evaluate(classifier, pairs), "training": stats}
        write_reports(results, folder)
    write_model_card(folder, manifest, results)
    return results


def write_model_card(folder: Path, manifest: dict[str, Any], results: dict[str, Any]) -> Path:
    lines = [
        "# hsmatch ranker", "",
        "Scores the candidate codes that the retrievers (TF-IDF, alias index, embeddings) pool "
        "for a product name, and gives a calibrated probability that the best one is right.", "",
        f"- scorer: {manifest['training']['scorer']} over {len(manifest['features'])} features "
        f"({', '.join(manifest['features'])})",
        f"- trained on: {manifest['trained_on']}, {manifest['training']['pools']} names "
        f"({manifest['training']['candidate_rows']} candidate rows)",
        f"- training data sha256: `{manifest['training_data_sha256'][:16]}...`",
        f"- trained at: {manifest['trained_at']} with hsmatch {manifest['hsmatch_version']}",
        f"- abstains below confidence {manifest['threshold']}",
        "- files: `ranker.npz` (plain arrays, no pickle), `manifest.json`"
        + (", `evaluation.md` / `evaluation.json`" if "full_knowledge_base" in results else ""), "",
    ]
    if "full_knowledge_base" in results:
        full, unseen = results["full_knowledge_base"], results["unseen_families"]
        lines += ["## Held-out evaluation", "",
                  "| metric | full knowledge base | unseen families |", "|---|---:|---:|"]
        for key, label in HEADLINE[:13]:
            lines.append(f"| {label} | {full.get(key):.3f} | {unseen.get(key):.3f} |")
        lines.append("")
    lines += ["## Limits", "",
              "- The labelled pairs were written by the team from the nomenclature; they are not a "
              "sample of real district lists, so accuracy on those lists may differ.",
              "- Features depend on the built index; rebuild and retrain together when the "
              "reference data changes.", ""]
    path = folder / "README.md"
    path.write_text("\n".join(lines))
    return path
