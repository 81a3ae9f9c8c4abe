"""The learned ranker and its calibrated confidence.

Training (``hsmatch train``) fits a scikit-learn HistGradientBoostingClassifier on the
pooled candidates of the labelled pairs (is this candidate an acceptable code?), then a
logistic calibrator on out-of-fold top-1 outcomes (is the best candidate right?), so that
of matches given confidence 0.8 about 80% are right.

The saved model is plain arrays (``ranker.npz``) plus a JSON manifest and a model card:
no pickle, and no scikit-learn import when classify() loads it; the trees are evaluated
with numpy (QuickScorer-style leaf bitmasks, see :class:`LeafMasks`), and tests check the
result equals scikit-learn's.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hsmatch.errors import ModelError
from hsmatch.manifest import hsmatch_version, library_versions
from hsmatch.paths import models_dir
from hsmatch.ranker import logit
from hsmatch.retrieve import FEATURE_INDEX, FEATURES

if TYPE_CHECKING:
    from hsmatch.retrieve import Pool
    from hsmatch.trainset import Pair

log = logging.getLogger(__name__)

RANKER_FORMAT = 2
DEFAULT_THRESHOLD = 0.5
CALIBRATION_FEATURES = ("logit_top", "logit_margin", "alias_exact", "query_words")
# What the final confidence is fitted on: P(top right | goods) from the calibrator above,
# and the kind model's P(goods), both as logits (see hsmatch.ranker.joint_confidence).
JOINT_FEATURES = ("logit_p_right_if_goods", "logit_p_goods")


_FOREST_FIELDS = ("feature", "threshold", "left", "right", "value")
# Early exit: trees that score every candidate, and how many of each pool's best the
# rest of the trees score (see Forest.raw_pools).
CASCADE_HEAD = 100
CASCADE_KEEP = 12
# Candidate places spread over subheadings, and how many of the first stay as scored.
SPREAD_SHOWN = 5
SPREAD_KEPT = 2
# Rows scored at once: the (rows x trees) bitmask array is kept near this many bytes, so
# that it stays in cache (600 trees of 31 leaves: 1,024-row chunks took 0.63 s per 100,000
# rows, 256-row chunks 0.37 s).
FOREST_CHUNK_BYTES = 1 << 19
# Leaf bitmasks of up to this many leaves per tree; a larger forest is walked node by node.
_MASK_TYPES = ((16, np.uint16), (32, np.uint32), (64, np.uint64))


class LeafMasks:
    """QuickScorer-style evaluation of a forest, precomputed from its node arrays.

    The leaves of each tree are numbered left to right, and a row starts with every bit of
    every tree set. A split whose test fails (x > threshold: the row goes right) clears
    the bits of the leaves of its left subtree; the exit leaf is then the lowest bit left,
    since every leaf left of it lies in the left subtree of a split that the row passed on
    the right, and no failing split has the exit leaf on its left.

    Per feature, the splits' thresholds are sorted, and the row's value fails exactly the
    splits whose threshold is below it: a prefix. So the AND of their masks, for every tree
    at once, is one precomputed row of a table indexed by ``searchsorted(thresholds, x)``,
    and a row costs one table lookup and one AND of ``n_trees`` integers per feature used.
    """

    def __init__(self, forest: Forest, roots: np.ndarray | None = None) -> None:
        """Masks of the trees starting at ``roots`` (default: all of the forest's)."""
        roots = forest.roots if roots is None else roots
        n_nodes, n_trees = len(forest.feature), len(roots)
        left, right = forest.left.tolist(), forest.right.tolist()
        tree_of = np.zeros(n_nodes, dtype=np.int64)
        leaf_of = np.full(n_nodes, -1, dtype=np.int64)
        left_bits: dict[int, int] = {}  # inner node -> bits of the leaves of its left subtree
        most_leaves = 0
        for tree, root in enumerate(roots.tolist()):
            first: dict[int, int] = {}
            end: dict[int, int] = {}
            leaves, visits = 0, 0
            stack = [(root, False)]
            while stack:
                node, children_done = stack.pop()
                visits += 1
                if visits > 2 * n_nodes:
                    raise ModelError("the ranker's trees are not trees (a node is reached twice)")
                tree_of[node] = tree
                if left[node] == node:
                    leaf_of[node] = leaves
                    first[node], end[node] = leaves, leaves + 1
                    leaves += 1
                elif children_done:
                    first[node], end[node] = first[left[node]], end[right[node]]
                    lo, hi = first[left[node]], end[left[node]]
                    left_bits[node] = (1 << hi) - (1 << lo)
                else:
                    stack += [(node, True), (right[node], False), (left[node], False)]
            most_leaves = max(most_leaves, leaves)
        self.supported = most_leaves <= _MASK_TYPES[-1][0]
        if not self.supported:
            return
        width, dtype = next((w, t) for w, t in _MASK_TYPES if most_leaves <= w)
        full = (1 << width) - 1
        self.full = dtype(full)
        # Per feature: its sorted distinct thresholds and the table of prefix ANDs, where
        # row r holds, for each tree, the AND of the masks of its splits on this feature
        # with one of the r lowest thresholds (row 0: nothing failed, every bit set).
        self.tables: list[tuple[int, np.ndarray, np.ndarray]] = []
        inner = np.array(sorted(left_bits), dtype=np.int64)
        features = forest.feature[inner]
        for feature in np.unique(features):
            nodes = inner[features == feature]
            thresholds = np.unique(forest.threshold[nodes])
            table = np.full((len(thresholds) + 1, n_trees), full, dtype=dtype)
            ranks = np.searchsorted(thresholds, forest.threshold[nodes])
            for node, rank in zip(nodes.tolist(), ranks.tolist(), strict=True):
                table[rank + 1, tree_of[node]] &= dtype(full ^ left_bits[node])
            np.bitwise_and.accumulate(table, axis=0, out=table)
            self.tables.append((int(feature), thresholds, table))
        # Leaf values by (tree, leaf number); the exit leaf of tree t is found at
        # t * width + (exponent of its lowest bit) - 1, the exponent as np.frexp gives it.
        values = np.zeros((n_trees, width), dtype=np.float64)
        leaf_nodes = np.flatnonzero(leaf_of >= 0)
        values[tree_of[leaf_nodes], leaf_of[leaf_nodes]] = forest.value[leaf_nodes]
        self.values = values.ravel()
        self.offsets = (np.arange(n_trees, dtype=np.int64) * width - 1).astype(np.intp)
        self.n_trees = n_trees
        self.chunk = int(np.clip(FOREST_CHUNK_BYTES // (n_trees * np.dtype(dtype).itemsize), 64, 1024))

    def leaf_sums(self, X: np.ndarray, chunk: int | None = None) -> np.ndarray:
        """Sum over trees of each row's exit-leaf value (X: finite float64 rows)."""
        chunk = chunk or self.chunk
        out = np.empty(len(X), dtype=np.float64)
        for start in range(0, len(X), chunk):
            rows = X[start:start + chunk]
            bits = np.full((len(rows), self.n_trees), self.full)
            for feature, thresholds, table in self.tables:
                bits &= table[np.searchsorted(thresholds, rows[:, feature], side="left")]
            lowest = bits & (~bits + self.full.dtype.type(1))  # only the lowest set bit
            # Powers of two convert to float32 exactly; frexp(2**k) has exponent k + 1.
            exponent = np.frexp(lowest.astype(np.float32))[1]
            out[start:start + chunk] = self.values.take(exponent + self.offsets).sum(axis=1)
        return out


@dataclass
class Forest:
    """Gradient-boosted trees as flat node arrays, evaluated with numpy.

    Node ids are global across trees; a leaf's children point to itself, so every row
    walks exactly ``depth`` steps with no branching on leaves. Scoring uses leaf bitmasks
    precomputed from these arrays when the forest is made (:class:`LeafMasks`); the saved
    form is the node arrays alone.
    """

    feature: np.ndarray    # int32, split feature of each node
    threshold: np.ndarray  # float64, go left when x <= threshold
    left: np.ndarray       # int32
    right: np.ndarray      # int32
    value: np.ndarray      # float64, leaf values (0 for inner nodes)
    roots: np.ndarray      # int32, first node of each tree
    depth: int
    baseline: float
    # The leaf bitmasks of the first CASCADE_HEAD trees and of the rest (or of all trees,
    # for a small forest); None when a tree has too many leaves for bitmasks.
    masks: list[LeafMasks] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.roots) > 2 * CASCADE_HEAD:
            parts = [LeafMasks(self, self.roots[:CASCADE_HEAD]), LeafMasks(self, self.roots[CASCADE_HEAD:])]
        else:
            parts = [LeafMasks(self)]
        self.masks = parts if all(m.supported for m in parts) else None

    @classmethod
    def from_sklearn(cls, model: Any) -> Forest:
        trees = [p[0].nodes for p in model._predictors]
        if any(n["is_categorical"].any() for n in trees):
            raise ModelError("categorical splits are not supported by the exported ranker")
        fields: dict[str, list[np.ndarray]] = {k: [] for k in _FOREST_FIELDS}
        roots, offset = [], 0
        for nodes in trees:
            ids = np.arange(len(nodes)) + offset
            leaf = nodes["is_leaf"].astype(bool)
            fields["feature"].append(np.where(leaf, 0, nodes["feature_idx"]).astype(np.int32))
            fields["threshold"].append(nodes["num_threshold"].astype(np.float64))
            fields["left"].append(np.where(leaf, ids, nodes["left"] + offset).astype(np.int32))
            fields["right"].append(np.where(leaf, ids, nodes["right"] + offset).astype(np.int32))
            fields["value"].append(np.where(leaf, nodes["value"], 0.0).astype(np.float64))
            roots.append(offset)
            offset += len(nodes)
        return cls(**{k: np.concatenate(v) for k, v in fields.items()},
                   roots=np.array(roots, dtype=np.int32),
                   depth=int(max(int(n["depth"].max()) for n in trees)),
                   baseline=float(np.ravel(model._baseline_prediction)[0]))

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Sum of leaf values plus baseline for each row of X (the decision function).

        Features are finite by construction, so scikit-learn's missing-value branch is
        never taken; rows with NaN are refused rather than silently mis-scored.
        """
        X = np.ascontiguousarray(X, dtype=np.float64)
        if not np.isfinite(X).all():
            raise ModelError("ranker features contain NaN or infinity")
        if self.masks is None:
            return self.walk(X)
        return sum(m.leaf_sums(X) for m in self.masks) + self.baseline

    def raw_pools(self, X: np.ndarray, sizes: Sequence[int], keep: int) -> np.ndarray:
        """:meth:`raw` for candidate pools stacked in ``X`` (``sizes`` rows each), exact for
        each pool's ``keep`` best rows and for the order of those.

        Early exit (Cambazoglu et al., WSDM 2010): the first CASCADE_HEAD trees score every
        row, the rest only each pool's ``keep`` best so far; the others keep their order
        below those. On the held-out names, keeping 8 after 50 trees of 600 changed no
        top-1 answer; classify() keeps 12 (or k, if more) after 100."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if self.masks is None or len(self.masks) == 1:
            return self.raw(X)
        if not np.isfinite(X).all():
            raise ModelError("ranker features contain NaN or infinity")
        out = self.masks[0].leaf_sums(X) + self.baseline
        chosen = np.zeros(len(X), dtype=bool)
        starts = np.cumsum(sizes) - np.asarray(sizes)
        for start, size in zip(starts.tolist(), list(sizes), strict=True):
            if size <= keep:
                chosen[start:start + size] = True
            else:
                chosen[start + np.argpartition(-out[start:start + size], keep - 1)[:keep]] = True
        out[chosen] += self.masks[1].leaf_sums(X[chosen])
        for start, size in zip(starts.tolist(), list(sizes), strict=True):
            block, kept = out[start:start + size], chosen[start:start + size]
            if not kept.all():
                rest = block[~kept]
                block[~kept] = block[kept].min() - 1.0 - (rest.max() - rest)
        return out

    def walk(self, X: np.ndarray) -> np.ndarray:
        """The decision function by walking every tree node by node: the reference that
        the leaf bitmasks must equal, and the fallback for trees of over 64 leaves."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        n_rows, n_features = X.shape
        flat = X.ravel()
        offsets = (np.arange(n_rows, dtype=np.int64) * n_features)[:, None]
        node = np.broadcast_to(self.roots, (n_rows, len(self.roots))).copy()
        for _ in range(self.depth):
            go_left = flat[offsets + self.feature[node]] <= self.threshold[node]
            node = np.where(go_left, self.left[node], self.right[node])
        return self.value[node].sum(axis=1) + self.baseline

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        out = {f"{prefix}{k}": getattr(self, k) for k in (*_FOREST_FIELDS, "roots")}
        out[f"{prefix}meta"] = np.array([self.depth, self.baseline], dtype=np.float64)
        return out

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str) -> Forest:
        meta = arrays[f"{prefix}meta"]
        return cls(**{k: arrays[f"{prefix}{k}"] for k in (*_FOREST_FIELDS, "roots")},
                   depth=int(meta[0]), baseline=float(meta[1]))


@dataclass
class MLP:
    """A small multilayer perceptron (standardised inputs, ReLU), evaluated with numpy."""

    mean: np.ndarray
    scale: np.ndarray
    weights: list[np.ndarray]
    biases: list[np.ndarray]

    @classmethod
    def from_sklearn(cls, scaler: Any, model: Any) -> MLP:
        if model.activation != "relu":
            raise ModelError("only ReLU networks are supported by the exported ranker")
        return cls(mean=scaler.mean_.astype(np.float64), scale=scaler.scale_.astype(np.float64),
                   weights=[w.astype(np.float64) for w in model.coefs_],
                   biases=[b.astype(np.float64) for b in model.intercepts_])

    def raw(self, X: np.ndarray) -> np.ndarray:
        h = (np.asarray(X, dtype=np.float64) - self.mean) / self.scale
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            h = np.maximum(h @ w + b, 0.0)
        return (h @ self.weights[-1] + self.biases[-1]).ravel()

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        out = {f"{prefix}mean": self.mean, f"{prefix}scale": self.scale}
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            out[f"{prefix}w{i}"] = w
            out[f"{prefix}b{i}"] = b
        return out

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str) -> MLP:
        layers = sum(1 for k in arrays.files if k.startswith(f"{prefix}w"))
        return cls(mean=arrays[f"{prefix}mean"], scale=arrays[f"{prefix}scale"],
                   weights=[arrays[f"{prefix}w{i}"] for i in range(layers)],
                   biases=[arrays[f"{prefix}b{i}"] for i in range(layers)])


SCORERS: dict[str, type[Forest] | type[MLP]] = {"trees": Forest, "mlp": MLP}


def subheading_first(scores: np.ndarray, groups: np.ndarray, scope: int = CASCADE_KEEP) -> np.ndarray:
    """The order of a pool's candidates: first the best line of the subheading most likely
    to hold a right line (1 - the product of its lines' P(wrong)), then the others by score.
    Only the ``scope`` best-scored lines take part: the ones scored exactly (see
    :meth:`Forest.raw_pools`).

    Several lines of one subheading that all score fairly well say more than one line of
    another that scores a little higher. On the held-out names this raised HS6 and HS4
    top-1 by about a point each and HS8 by a little."""
    order = np.argsort(-scores, kind="stable")
    if len(order) < 2:
        return order
    head = order[:scope]
    wrong = 1.0 - np.clip(scores[head], 0.0, 1.0 - 1e-9)
    same = groups[head][:, None] == groups[head][None, :]
    miss = np.where(same, wrong[None, :], 1.0).prod(axis=1)
    # The first of the least likely misses is the best line of its subheading, and on a
    # tie, of the subheading whose best line scores higher.
    top = head[int(np.argmin(miss))]
    return np.r_[top, order[order != top]]


def spread_subheadings(order: np.ndarray, groups: np.ndarray, shown: int = SPREAD_SHOWN,
                       kept: int = SPREAD_KEPT, scope: int = CASCADE_KEEP) -> np.ndarray:
    """``order`` with its first ``shown`` places spread over subheadings: the first ``kept``
    stay, the next go to the best line of each subheading not yet among them, then the
    rest follow in order. Only the ``scope`` first lines (the exactly scored) move.

    Five lines of one subheading show a reviewer one answer five times and hide the
    next likeliest product; the best sibling still comes second. Over the five held-out
    folds this raised HS6 top-5 by 0.3 to 0.9 points (mean 0.6) and moved HS8 top-5 by
    -1.0 to +0.8 (mean -0.2); top-1 is unchanged."""
    if len(order) <= kept:
        return order
    head = order[:scope].tolist()
    group = groups.tolist()
    chosen = head[:kept]
    seen = {group[j] for j in chosen}
    for j in head[kept:]:
        if len(chosen) == shown:
            break
        if group[j] not in seen:
            chosen.append(j)
            seen.add(group[j])
    picked = set(chosen)
    return np.array(chosen + [j for j in order.tolist() if j not in picked], dtype=order.dtype)


def fit_joint(p_right: np.ndarray, p_goods: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """The coefficients of :func:`joint_confidence` (two weights, then the intercept),
    fitted on names routed to goods: out-of-fold P(right | goods), P(goods), and whether
    the top candidate was right (always wrong when the name was not goods)."""
    from sklearn.linear_model import LogisticRegression

    X = np.column_stack([logit(np.asarray(p_right, dtype=np.float64)),
                         logit(np.asarray(p_goods, dtype=np.float64))])
    y = np.asarray(correct, dtype=int)
    # As for the calibrator: one pseudo-observation of each outcome at the mean keeps the
    # fit defined on tiny data where every answer was right (or wrong).
    prior = np.vstack([X.mean(axis=0)] * 2) if len(X) else np.zeros((2, 2))
    fitted = LogisticRegression(C=1.0, max_iter=1000).fit(np.vstack([X, prior]), np.concatenate([y, [0, 1]]))
    return np.array([*fitted.coef_[0], fitted.intercept_[0]], dtype=np.float64)


def leading_orders(scores: np.ndarray, groups: np.ndarray, sizes: Sequence[int], places: int,
                   scope: int = CASCADE_KEEP) -> list[np.ndarray]:
    """For pools stacked in ``scores`` and ``groups`` (``sizes`` rows each): the first
    ``places`` of each pool's ``spread_subheadings(subheading_first(...))`` order, the same
    positions, with the sorting and the subheadings' miss products done for all pools at
    once (one pool at a time, the calls' overhead was a tenth of a batch's time)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    if not len(sizes) or not sizes.max(initial=0):
        return [np.zeros(0, dtype=np.int64) for _ in sizes]
    width = int(sizes.max())
    column = np.arange(width)
    valid = column[None, :] < sizes[:, None]
    flat = np.where(valid, (np.cumsum(sizes) - sizes)[:, None] + column[None, :], 0)
    padded = np.where(valid, scores[flat], -np.inf)  # padding sorts last, after every score
    order = np.argsort(-padded, axis=1, kind="stable")
    head = order[:, :scope]
    in_pool = head < sizes[:, None]
    # subheading_first's miss products: padding is a line that is always wrong (factor 1)
    # and never the answer.
    wrong = np.where(in_pool, 1.0 - np.clip(np.take_along_axis(padded, head, axis=1), 0.0, 1.0 - 1e-9), 1.0)
    group = np.take_along_axis(np.where(valid, groups[flat], -1), head, axis=1)
    miss = np.where(group[:, :, None] == group[:, None, :], wrong[:, None, :], 1.0).prod(axis=2)
    top = np.take_along_axis(head, np.where(in_pool, miss, np.inf).argmin(axis=1)[:, None], axis=1)[:, 0]
    # spread_subheadings, on the few first places of each pool.
    length = max(scope, places + SPREAD_SHOWN) + 1
    leading = order[:, :length].tolist()
    group_rows = np.where(valid, groups[flat], -1)[np.arange(len(sizes))[:, None], order[:, :length]].tolist()
    out = []
    for row, row_groups, first, size in zip(leading, group_rows, top.tolist(), sizes.tolist(), strict=True):
        ranked = [(j, g) for j, g in zip(row, row_groups, strict=True) if j < size]
        if not ranked:
            out.append(np.zeros(0, dtype=np.int64))
            continue
        at = next(i for i, (j, _) in enumerate(ranked) if j == first)
        ranked.insert(0, ranked.pop(at))
        if len(ranked) > SPREAD_KEPT:
            chosen = ranked[:SPREAD_KEPT]
            seen = {g for _, g in chosen}
            for j, g in ranked[SPREAD_KEPT:scope]:
                if len(chosen) == SPREAD_SHOWN:
                    break
                if g not in seen:
                    chosen.append((j, g))
                    seen.add(g)
            picked = {j for j, _ in chosen}
            ranked = chosen + [(j, g) for j, g in ranked if j not in picked]
        out.append(np.array([j for j, _ in ranked[:places]], dtype=np.int64))
    return out


def calibration_features(scores: np.ndarray, features: np.ndarray,
                         order: np.ndarray | None = None) -> np.ndarray:
    """What the calibrator sees of one pool: how sure the ranker is of its top candidate
    (``order``: the candidates' order, best first; default by score)."""
    order = np.argsort(-scores, kind="stable") if order is None else order
    top = scores[order[0]]
    second = scores[order[1]] if len(order) > 1 else 0.0
    logit_top = float(logit(np.array([top]))[0])
    logit_second = float(logit(np.array([second]))[0])
    return np.array([logit_top, logit_top - logit_second,
                     features[order[0], FEATURE_INDEX["alias_exact"]],
                     min(features[order[0], FEATURE_INDEX["query_words"]], 8.0)])


class LearnedRanker:
    """A scorer (trees or MLP) ranks candidates; a logistic calibrator gives
    P(top candidate is right)."""

    calibrated = True

    def __init__(self, scorer: Forest | MLP, calib_coef: np.ndarray, calib_intercept: float,
                 threshold: float = DEFAULT_THRESHOLD, manifest: dict[str, Any] | None = None,
                 joint: np.ndarray | None = None) -> None:
        self.scorer = scorer
        # The final confidence's weights over P(right | goods) and P(goods) (joint_confidence).
        self.joint = None if joint is None else np.asarray(joint, dtype=np.float64)
        self.kind = "trees" if isinstance(scorer, Forest) else "mlp"
        self.name = f"learned-{self.kind}"
        self.calib_coef = np.asarray(calib_coef, dtype=np.float64)
        self.calib_intercept = float(calib_intercept)
        self.threshold = threshold
        self.manifest = manifest or {}

    def score(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.scorer.raw(features)))

    def score_pools(self, features: np.ndarray, sizes: Sequence[int], keep: int = CASCADE_KEEP) -> np.ndarray:
        """:meth:`score` of stacked pools, exact for each pool's ``keep`` best candidates."""
        if isinstance(self.scorer, Forest):
            return 1.0 / (1.0 + np.exp(-self.scorer.raw_pools(features, sizes, max(keep, CASCADE_KEEP))))
        return self.score(features)

    def order(self, scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Candidates best first (``groups``: each candidate's subheading), the first few
        spread over subheadings (see spread_subheadings)."""
        return spread_subheadings(subheading_first(scores, groups), groups)

    def leading_orders(self, scores: np.ndarray, groups: np.ndarray, sizes: Sequence[int],
                       places: int) -> list[np.ndarray]:
        """The first ``places`` of :meth:`order` for each of pools stacked row-wise."""
        return leading_orders(scores, groups, sizes, places)

    def confidence(self, scores: np.ndarray, features: np.ndarray, order: np.ndarray | None = None) -> float:
        if scores.size == 0:
            return 0.0
        z = float(calibration_features(scores, features, order) @ self.calib_coef + self.calib_intercept)
        return float(1.0 / (1.0 + np.exp(-z)))

    # -- persistence ---------------------------------------------------------------
    def save(self, folder: str | os.PathLike[str], manifest: dict[str, Any]) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(folder / "ranker.npz", **self.scorer.arrays("scorer_"),
                            calib_coef=self.calib_coef, calib_intercept=np.array([self.calib_intercept]),
                            **({} if self.joint is None else {"joint": self.joint}))
        manifest = {**manifest, "format": RANKER_FORMAT, "scorer": self.kind, "features": list(FEATURES),
                    "calibration_features": list(CALIBRATION_FEATURES),
                    "joint_features": list(JOINT_FEATURES) if self.joint is not None else None,
                    "threshold": self.threshold}
        (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        self.manifest = manifest
        return folder


def ranker_dir(models_path: str | os.PathLike[str] | None = None) -> Path:
    """Where the trained ranker and kind model live: ``models/ranker``."""
    return models_dir(models_path) / "ranker"


def load_ranker(models_path: str | os.PathLike[str] | None = None) -> LearnedRanker | None:
    """The trained ranker under ``models/ranker``, or None when none has been trained.

    The manifest is checked first: a ranker trained on other features is refused.
    """
    folder = ranker_dir(models_path)
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        log.warning("no trained ranker at %s; using the uncalibrated heuristic (run `hsmatch train`)",
                    folder)
        return None
    manifest = json.loads(manifest_path.read_text())
    retrain = "run `hsmatch train` to retrain it"
    if manifest.get("format") != RANKER_FORMAT:
        raise ModelError(f"the ranker at {folder} has format {manifest.get('format')}, this hsmatch "
                         f"reads {RANKER_FORMAT}; {retrain}")
    if manifest.get("features") != list(FEATURES):
        raise ModelError(f"the ranker at {folder} was trained on other features; {retrain}")
    if manifest.get("scorer") not in SCORERS:
        raise ModelError(f"the ranker at {folder} has an unknown scorer {manifest.get('scorer')!r}; {retrain}")
    # Plain arrays only: allow_pickle stays off.
    with np.load(folder / "ranker.npz", allow_pickle=False) as arrays:
        scorer = SCORERS[manifest["scorer"]].from_arrays(arrays, "scorer_")
        coef = arrays["calib_coef"]
        intercept = float(arrays["calib_intercept"][0])
        joint = arrays["joint"] if "joint" in arrays.files else None
    return LearnedRanker(scorer, coef, intercept, float(manifest.get("threshold", DEFAULT_THRESHOLD)),
                         manifest, joint)


# -- training ----------------------------------------------------------------------------
@dataclass
class TrainingSet:
    X: np.ndarray            # candidate features
    y: np.ndarray            # 1 if the candidate is an acceptable code
    pool_of: np.ndarray      # which pool each candidate row belongs to
    groups: np.ndarray       # family of each pool
    pool_positive: np.ndarray  # 1 if an acceptable code is in the pool at all (goods pairs)
    pool_features: list[np.ndarray]
    calibrate: np.ndarray      # pools the calibrator learns from (labelled names, not aliases)
    subheading: np.ndarray     # each candidate row's 6-digit subheading
    source: np.ndarray         # each pool's position in the pairs it was made from


def training_set(codes: np.ndarray, pairs: Sequence[Pair],
                 pools: Sequence[tuple[str, Pool] | None],
                 calibrate: Sequence[bool] | None = None) -> TrainingSet:
    """The goods pairs' candidate pools, each candidate labelled by whether it is one of the
    pair's acceptable codes. ``codes`` are the index's goods codes (pool lines index them).
    ``calibrate`` (one flag per pair, default all) marks the pools the confidence is
    calibrated on: the names users write, not the clean alias names that also train.

    Only goods pairs train the ranker: whether a name is goods at all is the kind model's
    question, and the final confidence weighs the two (hsmatch.ranker.joint_confidence).
    """
    X, y, pool_of, groups, positive, per_pool, calibrated, hs6 = [], [], [], [], [], [], [], []
    source: list[int] = []
    flags = [True] * len(pairs) if calibrate is None else list(calibrate)
    for number, (pair, item, flag) in enumerate(zip(pairs, pools, flags, strict=True)):
        if item is None or pair.kind != "goods":
            continue
        calibrated.append(flag)
        source.append(number)
        _, pool = item
        acceptable = set(pair.codes)
        labels = np.array([codes[i] in acceptable for i in pool.lines], dtype=np.int8)
        hs6.append(np.array([codes[i][:6] for i in pool.lines]))
        X.append(pool.features)
        y.append(labels)
        pool_of.append(np.full(len(labels), len(groups)))
        groups.append(pair.family)
        positive.append(int(labels.any()))
        per_pool.append(pool.features)
    if not X:
        raise ModelError("no training pools: are there goods pairs in training_data/pairs?")
    return TrainingSet(np.vstack(X), np.concatenate(y), np.concatenate(pool_of), np.array(groups),
                       np.array(positive), per_pool, np.array(calibrated, dtype=bool), np.concatenate(hs6),
                       np.array(source, dtype=np.int64))


MLP_EARLY_STOP_ROWS = 20_000


def fit_scorer(X: np.ndarray, y: np.ndarray, kind: str, seed: int) -> Forest | MLP:
    """Fit the candidate scorer with scikit-learn and export it to arrays."""
    if kind == "trees":
        from sklearn.ensemble import HistGradientBoostingClassifier

        # Sized on the held-out families: 200 trees of 15 leaves gave HS8 top-1 0.715 at
        # the ranker, 600 of 31 gave 0.736 (1,000 gave 0.742 at twice the scoring time).
        trees = HistGradientBoostingClassifier(
            max_iter=600, learning_rate=0.05, max_depth=8, max_leaf_nodes=31, min_samples_leaf=50,
            l2_regularization=1.0, early_stopping=False, random_state=seed,
        ).fit(X, y)
        return Forest.from_sklearn(trees)
    if kind == "mlp":
        from sklearn.neural_network import MLPClassifier
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler().fit(X)
        # Early stopping holds out a tenth of the rows: on a few thousand rows that tenth
        # is too few positives to stop by, and the net stops on noise.
        net = MLPClassifier(hidden_layer_sizes=(32, 16), alpha=1e-3, max_iter=400,
                            early_stopping=len(y) >= MLP_EARLY_STOP_ROWS, n_iter_no_change=15,
                            random_state=seed)
        net.fit(scaler.transform(X), y)
        return MLP.from_sklearn(scaler, net)
    raise ModelError(f"unknown ranker kind {kind!r}; choose one of {sorted(SCORERS)}")


def _calibration_rows(scorer: Forest | MLP, data: TrainingSet,
                      pools: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = [], []
    for p in pools:
        mask = data.pool_of == p
        scores = 1.0 / (1.0 + np.exp(-scorer.raw(data.X[mask])))
        order = subheading_first(scores, data.subheading[mask])
        rows.append(calibration_features(scores, data.X[mask], order))
        labels.append(int(data.y[mask][order[0]] == 1))
    return np.array(rows), np.array(labels)


def train_ranker(data: TrainingSet, *, kind: str = "mlp",
                 seed: int = 0, folds: int = 5) -> tuple[LearnedRanker, dict[str, Any], np.ndarray]:
    """Fit the scorer on the training set and the calibrator on out-of-fold predictions
    (folds grouped by product family, so a family never scores itself).

    Also returns each calibration pool's out-of-fold P(top right | goods) and whether its
    top was right (pools x 2; NaN for the pools not calibrated on), for fit_joint."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    n_pools = len(data.groups)
    calib_X, calib_y, calib_pools = [], [], []
    splitter = GroupKFold(n_splits=min(folds, len(set(data.groups))))
    for train_pools, held_pools in splitter.split(np.zeros(n_pools), groups=data.groups):
        train_rows = np.isin(data.pool_of, train_pools)
        scorer = fit_scorer(data.X[train_rows], data.y[train_rows], kind, seed)
        chosen = held_pools[data.calibrate[held_pools]]
        rows, labels = _calibration_rows(scorer, data, chosen)
        calib_X.append(rows)
        calib_y.append(labels)
        calib_pools.append(chosen)
    cx, cy = np.vstack(calib_X), np.concatenate(calib_y)
    # One pseudo-observation of each outcome at the mean keeps the fit defined when every
    # out-of-fold answer was right (or wrong), as on tiny data; with real data it is noise.
    prior = np.vstack([cx.mean(axis=0)] * 2)
    calibrator = LogisticRegression(C=1.0, max_iter=1000).fit(
        np.vstack([cx, prior]), np.concatenate([cy, [0, 1]]))
    ranker = LearnedRanker(fit_scorer(data.X, data.y, kind, seed), calibrator.coef_[0],
                           float(calibrator.intercept_[0]))
    out_of_fold = np.full((n_pools, 2), np.nan)
    if len(cx):
        out_of_fold[np.concatenate(calib_pools)] = np.column_stack([calibrator.predict_proba(cx)[:, 1], cy])
    stats = {
        "scorer": kind,
        "trees": len(ranker.scorer.roots) if isinstance(ranker.scorer, Forest) else None,
        "pools": int(n_pools),
        "candidate_rows": len(data.y),
        "pools_with_an_acceptable_candidate": int(data.pool_positive.sum()),
        "out_of_fold_top1_accuracy": round(float(cy.mean()), 4),
        "seed": seed,
    }
    return ranker, stats, out_of_fold


def ranker_manifest(stats: dict[str, Any], training_hash: str, index_manifest: dict[str, Any],
                    split: str) -> dict[str, Any]:
    return {
        "hsmatch_version": hsmatch_version(),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_data_sha256": training_hash,
        "trained_on": split,
        "libraries": library_versions(("scikit-learn", "numpy")),
        "index_built_at": index_manifest.get("built_at"),
        "index_sources": index_manifest.get("sources"),
        "training": stats,
    }
