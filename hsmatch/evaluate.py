"""Held-out evaluation of classify() on the labelled pairs.

The split is by product family (see :func:`hsmatch.trainset.family_split`), so near
duplicates never sit on both sides. Two settings are reported:

- ``full knowledge base``: the alias index as shipped plus the training-split pairs as
  labelled names. This is what users get, but the alias index was written by the same
  team as the pairs, so it may know a held-out family's names.
- ``unseen families``: the aliases of held-out families are removed first; this
  measures how the engine does on products its knowledge base has never heard of.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hsmatch.text import normalize
from hsmatch.trainset import FOLDS, Pair

if TYPE_CHECKING:
    from hsmatch.classify import Classifier, Match
    from hsmatch.lexicon import Lexicon

LEVELS = (2, 4, 6, 8)
ECE_BINS = 10
# Family bootstrap: rounds, and the metrics given a 95% interval.
BOOTSTRAP_ROUNDS = 1000
INTERVAL_METRICS = ("hs4_top1", "hs6_top1", "hs8_top1", "hs6_top5", "ece")


def _hit(codes: Sequence[str], acceptable: Sequence[str], level: int) -> bool:
    wanted = {a[:level] for a in acceptable if len(a) >= level}
    return any(len(c) >= level and c[:level] in wanted for c in codes)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray,
                               bins: int = ECE_BINS) -> tuple[float, list[dict[str, float]]]:
    """ECE over equal-width confidence bins, with the per-bin table."""
    if len(confidence) == 0:
        return 0.0, []
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    ece, table = 0.0, []
    for b in range(bins):
        mask = which == b
        if not mask.any():
            continue
        conf, acc = float(confidence[mask].mean()), float(correct[mask].mean())
        ece += mask.mean() * abs(conf - acc)
        table.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "n": int(mask.sum()),
                      "mean_confidence": round(conf, 3), "accuracy": round(acc, 3)})
    return float(ece), table


def score_matches(pairs: Sequence[Pair], matches: Sequence[Match]) -> dict[str, Any]:
    """All metrics for matches of the given pairs (same order)."""
    goods = [(p, m) for p, m in zip(pairs, matches, strict=True) if p.kind == "goods"]
    out: dict[str, Any] = {"pairs": len(pairs), "goods_pairs": len(goods)}
    # A goods name the kind model took for broad ranks headings, then the likeliest lines
    # under them: a heading counts at HS2/HS4 only. SAC codes never count.
    ranked = [[c.code for c in m.candidates if not c.code.startswith("99")] for _, m in goods]
    for level in LEVELS:
        out[f"hs{level}_top1"] = _mean([_hit(r[:1], p.codes, level) for (p, _), r in zip(goods, ranked, strict=True)])
        out[f"hs{level}_top5"] = _mean([_hit(r[:5], p.codes, level) for (p, _), r in zip(goods, ranked, strict=True)])
    reciprocal = []
    for (p, _), r in zip(goods, ranked, strict=True):
        rank = next((i for i, c in enumerate(r, start=1) if c in p.codes), None)
        reciprocal.append(1.0 / rank if rank else 0.0)
    out["hs8_mrr"] = _mean(reciprocal)
    answered = [m.code is not None for _, m in goods]
    out["goods_abstention_rate"] = _mean([not a for a in answered])
    out["goods_answered_hs8_accuracy"] = _mean([m.code in p.codes for p, m in goods if m.code])
    out["goods_answered_hs6_accuracy"] = _mean([_hit([m.code], p.codes, 6) for p, m in goods if m.code])
    out["goods_kind_accuracy"] = _mean([m.kind == "goods" for _, m in goods])

    # Calibration: every match that came back as goods claims P(its top candidate is right).
    calibration = [(m.confidence, bool(m.candidates) and m.candidates[0].code in p.codes and p.kind == "goods")
                   for p, m in zip(pairs, matches, strict=True) if m.kind == "goods" and not m.parts]
    conf = np.array([c for c, _ in calibration], dtype=float)
    correct = np.array([r for _, r in calibration], dtype=float)
    out["ece"], out["calibration_bins"] = expected_calibration_error(conf, correct)
    out["ece"] = round(out["ece"], 4)

    kinds = Counter((p.kind, m.kind) for p, m in zip(pairs, matches, strict=True))
    out["kind_confusion"] = {f"{t}->{pr}": n for (t, pr), n in sorted(kinds.items())}
    out["kind_accuracy"] = _mean([p.kind == m.kind for p, m in zip(pairs, matches, strict=True)])
    services = [(p, m) for p, m in zip(pairs, matches, strict=True) if p.kind == "service"]
    out["service_pairs"] = len(services)
    out["service_kind_accuracy"] = _mean([m.kind == "service" for _, m in services])
    out["service_sac4_top1"] = _mean([bool(m.code) and _hit([m.code], p.codes, 4) for p, m in services])
    broad = [(p, m) for p, m in zip(pairs, matches, strict=True) if p.kind == "broad"]
    out["broad_pairs"] = len(broad)
    out["broad_kind_accuracy"] = _mean([m.kind == "broad" for _, m in broad])
    out["broad_chapter_overlap"] = _mean([_hit([c.code for c in m.candidates], p.codes, 2) for p, m in broad])
    # ... and the other side: how much of what it names (its chapters/headings; the example
    # lines under them repeat those) lies in a listed chapter (more candidates raise the
    # overlap; this falls when they are padding).
    named = [(p, [c for c in m.candidates if not c.example]) for p, m in broad]
    out["broad_candidate_precision"] = _mean([_mean([_hit([c.code], p.codes, 2) for c in groups])
                                              for p, groups in named if groups])
    unknown = [(p, m) for p, m in zip(pairs, matches, strict=True) if p.kind == "unknown"]
    out["unknown_pairs"] = len(unknown)
    out["unknown_no_code_rate"] = _mean([m.code is None for _, m in unknown])

    families: dict[str, list[tuple[bool, bool, bool]]] = defaultdict(list)
    for (p, _), r in zip(goods, ranked, strict=True):
        families[p.family].append((_hit(r[:1], p.codes, 8), _hit(r[:1], p.codes, 6), _hit(r[:1], p.codes, 4)))
    out["families"] = {
        f: {"n": len(v), "hs8_top1": _mean([a for a, _, _ in v]), "hs6_top1": _mean([b for _, b, _ in v]),
            "hs4_top1": _mean([c for _, _, c in v])}
        for f, v in sorted(families.items())
    }
    confusions = Counter(
        (p.codes[0][:2], r[0][:2]) for (p, _), r in zip(goods, ranked, strict=True)
        if r and not _hit(r[:1], p.codes, 2)
    )
    out["chapter_confusions"] = [{"true": t, "predicted": pr, "n": n} for (t, pr), n in confusions.most_common(10)]
    hits = {f"hs{level}_top1": np.array([_hit(r[:1], p.codes, level) for (p, _), r in zip(goods, ranked, strict=True)])
            for level in (4, 6, 8)}
    hits["hs6_top5"] = np.array([_hit(r[:5], p.codes, 6) for (p, _), r in zip(goods, ranked, strict=True)])
    calibrated = [p.family for p, m in zip(pairs, matches, strict=True) if m.kind == "goods" and not m.parts]
    out["intervals"] = family_intervals([p.family for p, _ in goods], hits, calibrated, conf, correct)
    return out


def name_breakdown(pairs: Sequence[Pair], matches: Sequence[Match], known: set[str]) -> dict[str, dict[str, Any]]:
    """Top-1 accuracy of the held-out goods names that are exactly a name the knowledge base
    holds (an alias written independently of the pairs: "Basmati rice"), apart from the
    rest, which the engine must work out. The full-knowledge-base figures mix the two."""
    groups: dict[str, list[list[str]]] = {"known": [], "new": []}
    acceptable: dict[str, list[Sequence[str]]] = {"known": [], "new": []}
    for p, m in zip(pairs, matches, strict=True):
        if p.kind != "goods":
            continue
        group = "known" if normalize(p.text) in known else "new"
        groups[group].append([c.code for c in m.candidates if not c.code.startswith("99")])
        acceptable[group].append(p.codes)
    out = {}
    for group, ranked in groups.items():
        out[group] = {"n": len(ranked)} | {
            f"hs{level}_top1": _mean([_hit(r[:1], a, level) for r, a in zip(ranked, acceptable[group], strict=True)])
            for level in (4, 6, 8)} | {
            "hs6_top5": _mean([_hit(r[:5], a, 6) for r, a in zip(ranked, acceptable[group], strict=True)])}
    return out


def family_intervals(families: Sequence[str], hits: dict[str, np.ndarray], calibration_families: Sequence[str],
                     confidence: np.ndarray, correct: np.ndarray, rounds: int = BOOTSTRAP_ROUNDS,
                     seed: int = 0) -> dict[str, list[float]]:
    """95% intervals of the accuracies (``hits``: one bool per goods pair) and of the ECE,
    by resampling whole product families: names of one family succeed or fail together,
    so resampling names would make the intervals too narrow."""
    if not len(families):
        return {}
    rng = np.random.default_rng(seed)
    names = sorted(set(families) | set(calibration_families))
    rows = {f: [] for f in names}
    for i, f in enumerate(families):
        rows[f].append(i)
    calib_rows = {f: [] for f in names}
    for i, f in enumerate(calibration_families):
        calib_rows[f].append(i)
    drawn: dict[str, list[float]] = {key: [] for key in (*hits, "ece")}
    for _ in range(rounds):
        sample = rng.choice(len(names), size=len(names), replace=True)
        picked = np.array([i for j in sample for i in rows[names[j]]], dtype=np.intp)
        for key, column in hits.items():
            if len(picked):
                drawn[key].append(float(column[picked].mean()))
        calib = np.array([i for j in sample for i in calib_rows[names[j]]], dtype=np.intp)
        if len(calib):
            drawn["ece"].append(expected_calibration_error(confidence[calib], correct[calib])[0])
    return {key: [round(float(np.percentile(v, 2.5)), 4), round(float(np.percentile(v, 97.5)), 4)]
            for key, v in drawn.items() if v}


def _mean(values: Sequence[bool | float]) -> float:
    return round(float(np.mean(values)), 4) if len(values) else float("nan")


def evaluate(classifier: Classifier, pairs: Sequence[Pair], lexicon: Lexicon) -> dict[str, Any]:
    """Metrics on the held-out families, in both knowledge-base settings.

    ``lexicon`` is the knowledge base without labelled pairs (aliases, broad categories,
    services); the training-split pairs join it here, the test pairs never do.
    """
    test = [p for p in pairs if p.split == "test"]
    train = [p for p in pairs if p.split == "train"]
    held_families = {p.family for p in test}
    results: dict[str, Any] = {
        "split": {"test_fold": pairs[0].test_fold if pairs else 0, "folds": FOLDS,
                  "train_pairs": len(train), "test_pairs": len(test),
                  "test_families": len(held_families),
                  "train_families": len({p.family for p in train})},
        "ranker": classifier.ranker.name,
    }
    texts = [p.text for p in test]
    full = classifier.with_lexicon(lexicon.with_pairs(train))
    matches = full.classify_batch(texts)
    results["full_knowledge_base"] = score_matches(test, matches)
    known = {e.norm for e in full.lexicon.entries if e.kind == "goods"}
    results["full_knowledge_base"]["by_name"] = name_breakdown(test, matches, known)
    unseen = classifier.with_lexicon(lexicon.without_families(held_families).with_pairs(train))
    results["unseen_families"] = score_matches(test, unseen.classify_batch(texts))
    return results


HEADLINE = [
    ("hs2_top1", "HS2 top-1"), ("hs4_top1", "HS4 top-1"), ("hs6_top1", "HS6 top-1"), ("hs8_top1", "HS8 top-1"),
    ("hs2_top5", "HS2 top-5"), ("hs4_top5", "HS4 top-5"), ("hs6_top5", "HS6 top-5"), ("hs8_top5", "HS8 top-5"),
    ("hs8_mrr", "HS8 MRR"), ("goods_abstention_rate", "goods abstention rate"),
    ("goods_answered_hs8_accuracy", "HS8 accuracy of answered"),
    ("goods_answered_hs6_accuracy", "HS6 accuracy of answered"), ("ece", "expected calibration error"),
    ("kind_accuracy", "kind accuracy (all pairs)"), ("service_kind_accuracy", "services recognised"),
    ("service_sac4_top1", "service SAC heading top-1"), ("broad_kind_accuracy", "broad recognised"),
    ("broad_chapter_overlap", "broad: a listed chapter among candidates"),
    ("broad_candidate_precision", "broad: share of candidates in a listed chapter"),
    ("unknown_no_code_rate", "non-products given no code"),
]


def markdown_report(results: dict[str, Any]) -> str:
    full, unseen = results["full_knowledge_base"], results["unseen_families"]
    split = results["split"]
    lines = [
        "# hsmatch evaluation", "",
        f"Ranker: `{results['ranker']}`. Held-out split by product family (fold "
        f"{split.get('test_fold', 0)} of {split.get('folds', FOLDS)}): {split['test_pairs']} test pairs "
        f"in {split['test_families']} families; {split['train_pairs']} training pairs in "
        f"{split['train_families']} families. Goods pairs in the test split: {full['goods_pairs']}.", "",
        "Fold 0 is the split whose errors guided development, so its numbers lean optimistic; "
        "`scripts/cross_validate.py` holds out every fold in turn.", "",
        "| metric | full knowledge base | unseen families (their aliases removed) |", "|---|---:|---:|",
    ]
    for key, label in HEADLINE:
        lines.append(f"| {label} | {_interval(full, key)} | {_interval(unseen, key)} |")
    lines += ["", "In brackets: 95% intervals from resampling whole product families "
              f"({BOOTSTRAP_ROUNDS} rounds). The ECE's interval leans high: resampling adds noise "
              "to each confidence bin, which ECE counts as miscalibration."]
    by_name = full.get("by_name")
    if by_name:
        lines += ["", "## Known names and new names (goods, full knowledge base)", "",
                  "Held-out names that are exactly a name in the knowledge base (an alias; no alias "
                  "copies a labelled name, see tests/test_training_data.py) against the rest, which "
                  "the engine has to work out.", "",
                  "| names | n | HS4 top-1 | HS6 top-1 | HS8 top-1 | HS6 top-5 |", "|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {label} | {by_name[key]['n']} | {_fmt(by_name[key]['hs4_top1'])} | "
                  f"{_fmt(by_name[key]['hs6_top1'])} | {_fmt(by_name[key]['hs8_top1'])} | "
                  f"{_fmt(by_name[key]['hs6_top5'])} |"
                  for key, label in (("known", "known by name"), ("new", "new names"))]
    lines += ["", "## Calibration (full knowledge base; matches of kind goods)", "",
              "| confidence | n | mean confidence | accuracy |", "|---|---:|---:|---:|"]
    lines += [f"| {b['bin']} | {b['n']} | {b['mean_confidence']} | {b['accuracy']} |" for b in full["calibration_bins"]]
    lines += ["", "## Kinds (true -> predicted, full knowledge base)", ""]
    lines += [f"- {k}: {n}" for k, n in full["kind_confusion"].items()]
    lines += ["", "## Most common chapter confusions (goods, full knowledge base)", "",
              "| true chapter | predicted chapter | n |", "|---|---|---:|"]
    lines += [f"| {c['true']} | {c['predicted']} | {c['n']} |" for c in full["chapter_confusions"]]
    lines += ["", "## Per family (goods, full knowledge base)", "",
              "| family | n | HS8 top-1 | HS6 top-1 | HS4 top-1 |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {f} | {v['n']} | {_fmt(v['hs8_top1'])} | {_fmt(v['hs6_top1'])} | {_fmt(v['hs4_top1'])} |"
              for f, v in full["families"].items()]
    return "\n".join(lines) + "\n"


def _interval(results: dict[str, Any], key: str) -> str:
    bounds = results.get("intervals", {}).get(key)
    value = _fmt(results.get(key))
    return f"{value} ({bounds[0]:.3f}-{bounds[1]:.3f})" if bounds else value


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if np.isnan(value) else f"{value:.3f}"
    return str(value)


def write_reports(results: dict[str, Any], folder: str | Path) -> tuple[Path, Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    md, js = folder / "evaluation.md", folder / "evaluation.json"
    md.write_text(markdown_report(results))
    js.write_text(json.dumps(results, indent=2, default=float) + "\n")
    return md, js
