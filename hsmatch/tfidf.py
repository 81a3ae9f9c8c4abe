"""A small TF-IDF vectoriser that needs only numpy and scipy at query time.

It computes what scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` computes for
word n-grams and ``char_wb`` n-grams (tests check the two agree), but keeps
scikit-learn's second-long import out of ``import hsmatch`` and classify()'s cold start.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_WHITE = re.compile(r"\s\s+")
_WORD_CACHE_SIZE = 200_000  # words whose char n-gram columns are kept (a few MB)


def word_ngrams(text: str, ngram_range: tuple[int, int] = (1, 2)) -> list[str]:
    tokens = _TOKEN.findall(text.lower())
    low, high = ngram_range
    out = list(tokens) if low == 1 else []
    for n in range(max(low, 2), min(high, len(tokens)) + 1):
        out.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return out


def char_wb_ngrams(text: str, ngram_range: tuple[int, int] = (3, 5)) -> list[str]:
    low, high = ngram_range
    out: list[str] = []
    for word in _WHITE.sub(" ", text.lower()).split():
        padded = f" {word} "
        for n in range(low, high + 1):
            if len(padded) <= n:  # a short word counts once, whole
                out.append(padded)
                break
            out.extend(padded[i:i + n] for i in range(len(padded) - n + 1))
    return out


class Tfidf:
    """Fit on documents, transform texts to L2-normalised sublinear TF-IDF rows."""

    def __init__(self, analyzer: str = "word", ngram_range: tuple[int, int] = (1, 2),
                 min_df: int = 1, max_features: int | None = None) -> None:
        if analyzer not in ("word", "char_wb"):
            raise ValueError(f"analyzer must be 'word' or 'char_wb', got {analyzer!r}")
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.min_df = min_df
        self.max_features = max_features

    def _terms(self, text: str) -> list[str]:
        if self.analyzer == "word":
            return word_ngrams(text, self.ngram_range)
        return char_wb_ngrams(text, self.ngram_range)

    def fit(self, documents: Iterable[str]) -> Tfidf:
        docs = list(documents)
        df: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for doc in docs:
            counts = Counter(self._terms(doc))
            df.update(counts.keys())
            total.update(counts)
        terms = [t for t, n in df.items() if n >= self.min_df]
        if self.max_features is not None and len(terms) > self.max_features:
            terms = sorted(terms, key=lambda t: (-total[t], t))[: self.max_features]
        terms.sort()
        self.vocabulary_ = {t: i for i, t in enumerate(terms)}
        n_docs = len(docs)
        counts_arr = np.array([df[t] for t in terms], dtype=np.float64)
        self.idf_ = (np.log((1 + n_docs) / (1 + counts_arr)) + 1.0).astype(np.float32)
        return self

    def __getstate__(self) -> dict[str, object]:
        # The per-word cache is rebuilt on use; it is not part of the fitted vectoriser.
        return {k: v for k, v in self.__dict__.items() if k != "_word_columns"}

    def _char_columns(self, text: str) -> np.ndarray:
        """The vocabulary columns of a text's char_wb n-grams, one per occurrence.
        char_wb n-grams never cross a word boundary, so each word's are computed once
        and cached: names repeat their words far more than they repeat whole."""
        cache: dict[str, np.ndarray] = self.__dict__.setdefault("_word_columns", {})
        parts = []
        for word in _WHITE.sub(" ", text.lower()).split():
            cols = cache.get(word)
            if cols is None:
                ids = [j for j in map(self.vocabulary_.get, char_wb_ngrams(word, self.ngram_range))
                       if j is not None]
                cols = np.array(ids, dtype=np.int64)
                if len(cache) < _WORD_CACHE_SIZE:
                    cache[word] = cols
            parts.append(cols)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        # Every text's term columns at once: the sparse constructor counts repeated terms
        # (it sums duplicate entries), then TF, IDF and row norms are single array steps.
        vocab = self.vocabulary_
        if self.analyzer == "char_wb":
            columns = [self._char_columns(text) for text in texts]
        else:
            columns = [np.fromiter((j for j in map(vocab.get, self._terms(text)) if j is not None),
                                   dtype=np.int64) for text in texts]
        sizes = np.fromiter(map(len, columns), dtype=np.int64, count=len(columns))
        cols = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
        counts = sparse.csr_matrix((np.ones(len(cols), dtype=np.float32), (np.repeat(np.arange(len(texts)), sizes),
                                                                           cols)),
                                   shape=(len(texts), len(vocab)), dtype=np.float32)
        counts.sum_duplicates()
        weights = (1.0 + np.log(counts.data)) * self.idf_[counts.indices]
        row = np.repeat(np.arange(len(texts)), np.diff(counts.indptr))
        norms = np.sqrt(np.bincount(row, weights=weights.astype(np.float64) ** 2, minlength=len(texts)))
        counts.data = (weights / norms[row]).astype(np.float32)
        return counts
