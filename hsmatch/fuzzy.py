"""Fuzzy name matching that scales with the knowledge base.

rapidfuzz's WRatio scores a name against every term; with thousands of labelled names
that dominates classify(). A character n-gram TF-IDF cosine (one sparse product for a
whole batch) shortlists the terms that share the most character n-grams with a name,
and WRatio scores only those. A term off the shortlist shares few n-grams with the name,
so WRatio would rarely have scored it high; it gets 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from rapidfuzz import fuzz, process
from scipy import sparse

from hsmatch.tfidf import Tfidf

# Terms scored exactly per name; below this many terms everything is scored.
# 48 before the knowledge base reached ~7,600 aliases; 32 keeps batch classification
# above 1,000 names/s (held-out accuracy moved within its noise).
SHORTLIST = 32


class FuzzyIndex:
    """WRatio scores (0-100) of names against a fixed list of normalised terms."""

    def __init__(self, terms: Sequence[str], char_vectorizer: Tfidf, shortlist: int = SHORTLIST) -> None:
        self.terms = list(terms)
        self.shortlist = shortlist
        self._vectorizer = char_vectorizer
        self._terms_t = char_vectorizer.transform(self.terms).T.tocsr() if self.terms else None

    def __len__(self) -> int:
        return len(self.terms)

    def scores(self, names: Sequence[str], cutoff: float = 0.0) -> np.ndarray:
        """(n_names x n_terms) float32 scores; scores under ``cutoff`` are 0."""
        return self.sparse_scores(names, cutoff).toarray()

    def sparse_scores(self, names: Sequence[str], cutoff: float = 0.0) -> sparse.csr_matrix:
        """:meth:`scores` as a sparse matrix: a name has at most ``shortlist`` scores, and
        a dense row of every term would cost more to scan than to score."""
        shape = (len(names), len(self.terms))
        if not self.terms or not names:
            return sparse.csr_matrix(shape, dtype=np.float32)
        unique, where = unique_texts(names)
        if len(self.terms) <= self.shortlist:
            scored = sparse.csr_matrix(process.cdist(unique, self.terms, scorer=fuzz.WRatio, dtype=np.float32,
                                                     score_cutoff=cutoff or None, workers=-1))
        else:
            cosine = (self._vectorizer.transform(unique) @ self._terms_t).toarray()
            k = self.shortlist
            short = np.argpartition(-cosine, k - 1, axis=1)[:, :k]
            # Each name against its shortlist, pair by pair in rapidfuzz's C++ (cpdist): a
            # Python loop over the pairs held the GIL that the main thread needs.
            rows, columns = np.repeat(np.arange(len(unique)), k), short.ravel()
            terms = self.terms
            values = process.cpdist([unique[i] for i in rows.tolist()], [terms[j] for j in columns.tolist()],
                                    scorer=fuzz.WRatio, score_cutoff=cutoff or None, dtype=np.float32, workers=1)
            found = values > 0
            scored = sparse.csr_matrix((values[found], (rows[found], columns[found])),
                                       shape=(len(unique), len(self.terms)))
        scored.eliminate_zeros()
        return scored if where is None else scored[where]


class NearTerms:
    """Whether names come within a token_sort_ratio cut-off of any of a fixed list of terms.

    token_sort_ratio is the plain ratio of the token-sorted strings, and a ratio of at
    least c (0-100) needs the shorter string to be at least c / (200 - c) of the longer.
    The sorted terms are kept in order of length, so each name is compared only with the
    terms whose length could reach the cut-off: the same answers as comparing with every
    term, several times faster on a large knowledge base.
    """

    def __init__(self, terms: Sequence[str], cutoff: float) -> None:
        self.cutoff = cutoff
        self.terms = sorted({_token_sorted(t) for t in terms}, key=len)
        self.lengths = np.array([len(t) for t in self.terms], dtype=np.int64)
        self.ratio = cutoff / (200.0 - cutoff)

    def any_close(self, names: Sequence[str]) -> np.ndarray:
        out = np.zeros(len(names), dtype=bool)
        if not self.terms or not len(names):
            return out
        by_length: dict[int, list[int]] = {}
        keys = [_token_sorted(n) for n in names]
        for i, key in enumerate(keys):
            by_length.setdefault(len(key), []).append(i)
        for length, rows in by_length.items():
            lo = int(np.searchsorted(self.lengths, math.floor(length * self.ratio)))
            hi = int(np.searchsorted(self.lengths, math.ceil(length / self.ratio), side="right"))
            if lo >= hi:
                continue
            scores = process.cdist([keys[i] for i in rows], self.terms[lo:hi], scorer=fuzz.ratio,
                                   score_cutoff=self.cutoff, dtype=np.float64, workers=-1)
            out[rows] = scores.max(axis=1) >= self.cutoff
        return out


def _token_sorted(text: str) -> str:
    return " ".join(sorted(text.split()))


def unique_texts(texts: Sequence[str]) -> tuple[list[str], np.ndarray | None]:
    """The distinct texts in first-seen order, and where each text is among them (None
    when all are distinct): ``scores(unique)[where]`` is ``scores(texts)`` row by row."""
    position: dict[str, int] = {}
    where = [position.setdefault(t, len(position)) for t in texts]
    if len(position) == len(where):
        return list(texts), None
    return list(position), np.array(where, dtype=np.intp)
