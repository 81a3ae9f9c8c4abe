"""Ranking pooled candidates and turning the ranking into a confidence.

:class:`HeuristicRanker` is a fixed weighted sum of the retrievers' evidence; it is what
classify() uses when no trained ranker exists, and its confidence is not calibrated.
The learned, calibrated ranker lives in :mod:`hsmatch.learned_ranker`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from hsmatch.retrieve import FEATURE_INDEX

F = FEATURE_INDEX


class Ranker(Protocol):
    name: str
    calibrated: bool
    threshold: float
    joint: np.ndarray | None  # see joint_confidence

    def score(self, features: np.ndarray) -> np.ndarray:
        """One score per candidate row; higher is better."""
        ...

    def score_pools(self, features: np.ndarray, sizes: Sequence[int], keep: int) -> np.ndarray:
        """:meth:`score` of pools stacked row-wise (``sizes`` rows each); it may be exact
        only for each pool's ``keep`` best rows, which must come out on top in order."""
        ...

    def order(self, scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Candidate positions, best first (``groups``: each candidate's subheading)."""
        ...

    def leading_orders(self, scores: np.ndarray, groups: np.ndarray, sizes: Sequence[int],
                       places: int) -> list[np.ndarray]:
        """The first ``places`` of :meth:`order` for each of pools stacked row-wise."""
        ...

    def confidence(self, scores: np.ndarray, features: np.ndarray, order: np.ndarray | None = None) -> float:
        """Probability that the first candidate of ``order`` (default: the best-scored) is right."""
        ...


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def joint_confidence(joint: np.ndarray | None, p_right: float, p_goods: float | None) -> float:
    """P(the top candidate is right) for a name routed to goods, from the ranker's
    P(right | goods) and the kind model's P(goods) (None: no kind model).

    Their product would be right if the two were independent; they are not (a name the
    kind model doubts is often one the retrievers find poorly too), and on held-out names
    the product was underconfident for goods (0.73 claimed, 0.82 right) while the names
    that were not goods still got 0.35. ``joint`` is a logistic fit of the outcome on both
    logits over out-of-fold training names
    (see hsmatch.learned_ranker.fit_joint); without it, the product.
    """
    if p_goods is None:
        return p_right
    if joint is None:
        return p_goods * p_right
    logits = logit(np.array([p_right, p_goods]))
    return float(1.0 / (1.0 + np.exp(-(logits @ joint[:2] + joint[2]))))


class HeuristicRanker:
    """Hand-set weights over the retrievers' evidence (uncalibrated)."""

    name = "heuristic"
    calibrated = False
    joint = None
    threshold = 0.5

    def score(self, features: np.ndarray) -> np.ndarray:
        alias = features[:, F["alias_score"]]
        strong_alias = np.where(alias >= 0.85, alias, 0.0)
        return (
            0.30 * features[:, F["word_sim"]]
            + 0.15 * features[:, F["char_sim"]]
            + 0.30 * features[:, F["emb_sim"]]
            + 0.35 * strong_alias * features[:, F["alias_level"]]
            + 0.10 * features[:, F["alias_exact"]]
            + 0.05 * features[:, F["hs6_support"]]
            + 0.004 * features[:, F["log_export"]]
            + 0.02 * features[:, F["recent_export"]]
        )

    def score_pools(self, features: np.ndarray, sizes: Sequence[int], keep: int) -> np.ndarray:
        return self.score(features)

    def order(self, scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
        return np.argsort(-scores, kind="stable")

    def leading_orders(self, scores: np.ndarray, groups: np.ndarray, sizes: Sequence[int],
                       places: int) -> list[np.ndarray]:
        bounds = np.cumsum(sizes)[:-1]
        return [self.order(s, g)[:places] for s, g in zip(np.split(scores, bounds), np.split(groups, bounds),
                                                            strict=True)]

    def confidence(self, scores: np.ndarray, features: np.ndarray, order: np.ndarray | None = None) -> float:
        if scores.size == 0:
            return 0.0
        order = np.sort(scores)[::-1]
        top = float(order[0])
        margin = top - float(order[1]) if order.size > 1 else top
        return float(1.0 / (1.0 + np.exp(-(8.0 * (top - 0.45) + 12.0 * margin))))
