"""`hsmatch train`: fit the ranker on the labelled pairs, save it with its manifest and
model card, and evaluate it on the held-out families."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hsmatch.errors import ModelError
from hsmatch.evaluate import HEADLINE, evaluate, write_reports
from hsmatch.kind import KINDS, META_FEATURES, KindModel, fit_kind_model
from hsmatch.learned_ranker import (
    CASCADE_HEAD,
    CASCADE_KEEP,
    LearnedRanker,
    TrainingSet,
    fit_joint,
    ranker_dir,
    ranker_manifest,
    train_ranker,
    training_set,
)
from hsmatch.lexicon import Lexicon, load_lexicon
from hsmatch.text import normalize
from hsmatch.trainset import Pair, holding_out, load_pairs, pairs_hash

if TYPE_CHECKING:
    from hsmatch.classify import Classifier
    from hsmatch.retrieve import Pool

log = logging.getLogger(__name__)


@dataclass
class PairViews:
    """What the engine sees of each training pair, twice: once with the knowledge base
    less the pair's own labelled name, and once less everything of the pair's family.

    The first is a new name of a known product (the aliases and the family's other names
    still speak); the second an unheard-of product. Leaving the pair's own name in would
    teach the ranker that every name is found exactly, which a new list's names are not.
    """

    pairs: list[Pair]
    norms: list[str]
    pools: list[tuple[str, Pool] | None]
    kind_meta: np.ndarray
    kind_vectors: np.ndarray


def pair_views(classifier: Classifier, pairs: Sequence[Pair], folds: int = 5) -> PairViews:
    """Both views of every pair, made a fold at a time (cheap):

    - known product, new name: the knowledge base without the pair's own labelled name
      (its family's aliases and other names stay), as a held-out name of a known product;
    - unknown product: without anything of the pair's family.
    """
    def fold(key: str) -> int:
        return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % folds

    parts = []
    for number in range(folds):
        members = [p for p in pairs if fold(p.source) == number]
        own = {p.source for p in members}
        kept = Lexicon(tuple(e for e in classifier.lexicon.entries if e.source not in own),
                       f"{classifier.lexicon.sha256}-names-{number}")
        parts.append((classifier.with_lexicon(kept), members))
    for number in range(folds):
        members = [p for p in pairs if fold(p.family) == number]
        dropped = classifier.lexicon.without_families({p.family for p in members})
        parts.append((classifier.with_lexicon(dropped), members))
    views = PairViews([], [], [], np.zeros((0, len(META_FEATURES))),
                      np.zeros((0, classifier.goods.emb_t.shape[0]), dtype=np.float32))
    for engine, members in parts:
        norms = [normalize(p.text) for p in members]
        pools = engine.goods_pools([p.text for p in members])
        meta, vectors = engine.kind_evidence(norms, engine.lexicon_kind_scores(norms), pools)
        views.pairs += members
        views.norms += norms
        views.pools += pools
        views.kind_meta = np.vstack([views.kind_meta, meta])
        views.kind_vectors = np.vstack([views.kind_vectors, vectors])
    return views


def kind_out_of_fold(views: PairViews, usable: Sequence[int], final: KindModel, *, seed: int = 0,
                     folds: int = 5) -> np.ndarray:
    """P(each kind) for each of the ``usable`` views from a kind model that never saw the
    view's product family (folds grouped by family; both views of a pair share a fold).
    A fold whose other folds lack a kind (tiny data) takes ``final``'s probabilities."""
    from sklearn.model_selection import GroupKFold

    usable = np.asarray(usable, dtype=np.int64)
    out = np.zeros((len(usable), len(KINDS)))
    families = np.array([views.pairs[i].family for i in usable])
    norms = [views.norms[i] for i in usable]
    kinds = [views.pairs[i].kind for i in usable]
    meta, vectors = views.kind_meta[usable], views.kind_vectors[usable]
    splitter = GroupKFold(n_splits=min(folds, len(set(families.tolist()))))
    for fit_on, held in splitter.split(np.zeros(len(usable)), groups=families):
        try:
            model = fit_kind_model([norms[i] for i in fit_on], [kinds[i] for i in fit_on],
                                   meta[fit_on], vectors[fit_on], seed=seed)
        except ModelError:
            model = final
        out[held] = model.probabilities([norms[i] for i in held], meta[held], vectors[held])
    return out


def joint_rows(classifier: Classifier, ranker: LearnedRanker, views: PairViews, data: TrainingSet,
               out_of_fold: np.ndarray, p_goods: dict[int, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What the final confidence is fitted on: every view the out-of-fold kind model sends
    to goods (``p_goods``: view -> P(goods), for those) and that has evidence enough for an
    answer, with P(top right | goods) (out of fold for labelled goods names; from the final
    ranker, which never trains on them, for the others) and whether the top was right."""
    from hsmatch.classify import no_evidence

    by_view = {int(v): row for v, row in zip(data.source.tolist(), out_of_fold, strict=True)
               if not np.isnan(row[0])}
    p_right, goods, correct = [], [], []
    for view, p in p_goods.items():
        item = views.pools[view]
        if item is None or not len(item[1].lines) or no_evidence(item[1].features):
            continue
        if view in by_view:
            right, hit = by_view[view]
        else:
            pool = item[1]
            scores = ranker.score(pool.features)
            order = ranker.order(scores, classifier.goods.hs6_id[pool.lines])
            right = ranker.confidence(scores, pool.features, order)
            pair = views.pairs[view]
            hit = pair.kind == "goods" and classifier.index.goods.codes[pool.lines[order[0]]] in pair.codes
        p_right.append(right)
        goods.append(p)
        correct.append(bool(hit))
    return np.array(p_right), np.array(goods), np.array(correct)


def alias_names(lexicon: Lexicon, held_families: set[str]) -> list[Pair]:
    """The alias index's names as extra goods training names for the ranker: what the
    engine does with "kurta" or "UPVC pipe" when that alias is not in its knowledge base
    teaches it as much as a labelled pair does. Aliases of held-out families, and aliases
    that point at headings rather than lines, are left out."""
    return [Pair(e.term, "goods", e.codes, e.family, "alias", e.source) for e in lexicon.entries
            if e.kind == "goods" and e.source.startswith("aliases/") and e.family not in held_families
            and all(len(code) == 8 for code in e.codes)]


def train(*, models_path: str | os.PathLike[str] | None = None,
          data_dir: str | os.PathLike[str] | None = None,
          training_dir: str | os.PathLike[str] | None = None,
          kind: str = "trees", use: str = "train", seed: int = 0,
          run_evaluation: bool = True, test_fold: int = 0) -> dict[str, Any]:
    """Train the ranker and the kind model on the training split (``use="train"``) or on
    every pair (``use="all"``), save them under models/ranker and, on the split, evaluate.
    ``test_fold``: which fold of families is held out (see trainset.FOLDS)."""
    from hsmatch.classify import Classifier, _KnownCodes

    loaded = Classifier.load(models_dir=models_path, data_dir=data_dir, training_dir=training_dir,
                             trained_models=False)
    known = _KnownCodes(loaded.index)
    pairs = holding_out(load_pairs(training_dir, known), test_fold)
    chosen = [p for p in pairs if use == "all" or p.split == "train"]
    log.info("training on %d of %d pairs (%s)", len(chosen), len(pairs), use)
    # The knowledge base knows the training pairs by name, never the held-out ones.
    base = load_lexicon(training_dir, known)
    classifier = loaded.with_lexicon(base.with_pairs(chosen))
    views = pair_views(classifier, chosen)
    chosen_sources = {p.source for p in chosen}
    held = {p.family for p in pairs if p.source not in chosen_sources}
    aliases = pair_views(classifier, alias_names(base, held))
    data = training_set(classifier.index.goods.codes, views.pairs + aliases.pairs, views.pools + aliases.pools,
                        [True] * len(views.pairs) + [False] * len(aliases.pairs))
    ranker, stats, out_of_fold = train_ranker(data, kind=kind, seed=seed)
    stats["alias_names"] = len(aliases.pairs) // 2
    # The kind model learns from the labelled pairs only: aliases are all goods, and as
    # many again would tilt it away from broad and services names.
    usable = [i for i, n in enumerate(views.norms) if n]
    kind_model = fit_kind_model([views.norms[i] for i in usable], [views.pairs[i].kind for i in usable],
                                views.kind_meta[usable], views.kind_vectors[usable], seed=seed)
    stats["kind_model_names"] = len(usable)
    # The final confidence: P(right) from P(right | goods) and P(goods), fitted on the
    # names an out-of-fold kind model routes to goods, as classify() routes them.
    probabilities = kind_out_of_fold(views, usable, kind_model, seed=seed)
    routed = {view: float(p[0]) for view, p in zip(usable, probabilities, strict=True)
              if int(np.argmax(p)) == KINDS.index("goods")}
    p_right, p_goods, correct = joint_rows(classifier, ranker, views, data, out_of_fold, routed)
    ranker.joint = fit_joint(p_right, p_goods, correct)
    stats["joint_names"] = len(correct)
    stats["joint_coefficients"] = [round(float(c), 4) for c in ranker.joint]
    stats["kinds"] = dict(Counter(p.kind for p in chosen))
    folder = ranker_dir(models_path)
    manifest = ranker_manifest(stats, pairs_hash(training_dir), classifier.index.manifest,
                               "all pairs" if use == "all" else "training split (held-out families excluded)")
    manifest["test_fold"] = test_fold
    ranker.save(folder, manifest)
    kind_model.manifest = {"trained_at": manifest["trained_at"],
                           "training_data_sha256": manifest["training_data_sha256"]}
    kind_model.save(folder)
    manifest = ranker.manifest
    classifier = Classifier(classifier.index, classifier.lexicon, ranker, kind_model)
    results: dict[str, Any] = {"training": stats}
    if run_evaluation and use != "all":
        results = {**evaluate(classifier, pairs, base), "training": stats}
        write_reports(results, folder)
    write_model_card(folder, manifest, results)
    return results


CROSS_VALIDATION = "cross_validation.json"


def cross_validation_of(manifest: dict[str, Any]) -> dict[str, Any]:
    """What ties a cross-validation to a model: the training data and the features. Code
    changes that keep both are not caught; `scripts/cross_validate.py --write` after any
    retraining keeps the card honest."""
    return {"training_data_sha256": manifest["training_data_sha256"], "features": manifest["features"]}


def cross_validation_lines(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """The model card's headline: the mean and spread over the folds of
    ``cross_validation.json``, when it was measured on this training data and these
    features; otherwise a line saying how to measure it."""
    path = folder / CROSS_VALIDATION
    saved = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    folds = saved.get("folds", {})
    if saved.get("model") != cross_validation_of(manifest) or len(folds) < 2:
        return ["## Cross-validated", "",
                "Not measured for this model: `scripts/cross_validate.py --write` trains without "
                "each fold of product families in turn (about 7 min a fold).", ""]
    lines = ["## Cross-validated", "",
             f"Mean ± sd over {len(folds)} folds of product families, each held out in turn "
             "(`models/ranker/cross_validation.md`). Read these, not fold 0 below (the split "
             "development looked at), as the estimate for names nobody has labelled.", "",
             "| metric | full knowledge base | unseen families |", "|---|---:|---:|"]
    for key, label in HEADLINE:
        cells = []
        for setting in ("full_knowledge_base", "unseen_families"):
            values = [fold[setting][key] for fold in folds.values() if fold[setting].get(key) is not None]
            cells.append(f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"
                         if len(values) > 1 else "n/a")
        if cells != ["n/a", "n/a"]:
            lines.append(f"| {label} | {cells[0]} | {cells[1]} |")
    return [*lines, ""]


def write_model_card(folder: Path, manifest: dict[str, Any], results: dict[str, Any]) -> Path:
    lines = [
        "# hsmatch ranker", "",
        "Decides whether a product name is goods, a broad category, a service or no product, "
        "scores the candidate codes that the retrievers (TF-IDF, alias index, embeddings) pool "
        "for it, and gives a calibrated probability that the best one is right.", "",
        f"- scorer: {manifest['training']['scorer']}"
        + (f" ({manifest['training']['trees']} gradient-boosted trees, the first {CASCADE_HEAD} scoring "
           f"every candidate and the rest each name's {CASCADE_KEEP} best)" if manifest['training'].get('trees') else "")
        + f" over {len(manifest['features'])} features "
        f"({', '.join(manifest['features'])})",
        f"- trained on: {manifest['trained_on']}, {manifest['training']['pools']} candidate pools "
        f"({manifest['training']['candidate_rows']} candidate rows): two views of each goods pair "
        f"and of each of {manifest['training'].get('alias_names', 0)} alias-index names",
        f"- training data sha256: `{manifest['training_data_sha256'][:16]}...`",
        f"- trained at: {manifest['trained_at']} with hsmatch {manifest['hsmatch_version']}",
        f"- abstains below confidence {manifest['threshold']}",
        f"- kind model: multinomial logistic regression (goods / broad / service / unknown) over "
        f"word and character n-grams of the name, its sentence embedding and the engine's evidence, trained on "
        f"{manifest['training'].get('kind_model_names', 'n/a')} views of the training pairs",
        "- confidence of a goods match: a logistic fit over the logits of P(top line right | goods) "
        "and P(goods), on out-of-fold training names routed to goods"
        + (f" (weights {', '.join(str(w) for w in manifest['training']['joint_coefficients'])}, "
           "the last the intercept)" if manifest['training'].get('joint_coefficients') else "")
        + "; broad and service matches carry P(kind)",
        "- files: `ranker.npz`, `kind.npz` (plain arrays, no pickle), `manifest.json`, `kind.json`"
        + (", `evaluation.md` / `evaluation.json`" if "full_knowledge_base" in results else ""), "",
    ]
    lines += cross_validation_lines(folder, manifest)
    if "full_knowledge_base" in results:
        full, unseen = results["full_knowledge_base"], results["unseen_families"]
        lines += [f"## Held-out evaluation (fold {manifest.get('test_fold', 0)})", "",
                  "| metric | full knowledge base | unseen families |", "|---|---:|---:|"]
        for key, label in HEADLINE:
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
