"""Candidate retrieval for goods, and the features the ranker scores them by.

Four retrievers look at every name: TF-IDF word n-grams and character n-grams (robust
to misspellings and to "groundnut" / "ground-nut") over the enriched nomenclature text,
rapidfuzz over the alias index of trade and vernacular names, and embeddings. Their
candidates are pooled per name, and each candidate gets one feature row so that a
ranker can weigh the evidence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from hsmatch.index import Index
from hsmatch.lexicon import Lexicon, LexiconEntry
from hsmatch.text import content_words

# Per retriever, how many top lines join the pool (and the rank cap of rank features).
POOL_PER_RETRIEVER = 20
ALIAS_MIN_SCORE = 70.0
ALIAS_TOP = 8
# Lines a heading- or subheading-level alias may lend its score to.
ALIAS_MAX_LINES = 40
RANK_CAP = POOL_PER_RETRIEVER

FEATURES = (
    "word_sim", "word_gap", "word_rank",
    "char_sim", "char_gap", "char_rank",
    "emb_sim", "emb_gap", "emb_rank",
    "alias_score", "alias_exact", "alias_level",
    "hs6_support", "heading_support",
    "log_export", "recent_export", "gst_only", "other_line",
    "query_words", "cover_line", "cover_heading", "line_explained",
    *(f"{name}_gap" for name in ("alias_score", "cover_line", "cover_heading", "line_explained",
                                 "log_export", "hs6_support")),
)
# Features whose distance to the best of the pool is a feature too: a pointwise ranker sees
# one candidate at a time, and "as good as the best here" means more than the raw value.
RELATIVE = ("alias_score", "cover_line", "cover_heading", "line_explained", "log_export", "hs6_support")
FEATURE_INDEX = {name: i for i, name in enumerate(FEATURES)}

# Evidence shown on each candidate: retriever -> (similarity feature, rank feature).
EVIDENCE = {"tfidf_word": ("word_sim", "word_rank"), "tfidf_char": ("char_sim", "char_rank"),
            "embedding": ("emb_sim", "emb_rank"), "alias": ("alias_score", None)}


@dataclass
class Pool:
    """The pooled candidates of one name: goods line positions, features, matched aliases."""

    lines: np.ndarray
    features: np.ndarray
    aliases: dict[int, str]  # line position -> the alias that lent it its score
    scores: np.ndarray | None = None  # the ranker's, once scored


def _top(row: np.ndarray, k: int) -> np.ndarray:
    k = min(k, row.shape[0])
    part = np.argpartition(-row, k - 1)[:k]
    return part[np.argsort(-row[part], kind="stable")]


def _top_rows(matrix: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k largest values of each row, best first (one call for a batch)."""
    k = min(k, matrix.shape[1])
    part = np.argpartition(-matrix, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(matrix, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


class GoodsRetriever:
    """Pools goods candidates from TF-IDF, alias and embedding retrieval."""

    def __init__(self, index: Index, lexicon: Lexicon) -> None:
        self.index = index
        codes = index.goods.codes
        self.position = {c: i for i, c in enumerate(codes)}
        self.aliases: list[LexiconEntry] = lexicon.of_kind("goods")
        self.alias_norms = [a.norm for a in self.aliases]
        # Each alias lends its score to the lines its codes cover, finest first.
        self.alias_lines: list[np.ndarray] = []
        self.alias_level: list[float] = []
        sorted_codes = np.array(sorted(self.position))
        for alias in self.aliases:
            lines: list[int] = []
            for code in alias.codes:
                if code in self.position:
                    lines.append(self.position[code])
                else:
                    lo = np.searchsorted(sorted_codes, code)
                    hi = np.searchsorted(sorted_codes, code + "9" * (8 - len(code)), side="right")
                    lines.extend(self.position[c] for c in sorted_codes[lo:hi][:ALIAS_MAX_LINES])
            self.alias_lines.append(np.array(lines, dtype=np.int64))
            self.alias_level.append(min(len(c) for c in alias.codes) / 8.0)
        # Transposed once here: scipy would otherwise convert on every query.
        self.word_t = index.goods.word.T.tocsr()
        self.char_t = index.goods.char.T.tocsr()
        self.emb_t = np.ascontiguousarray(index.goods.emb.T)
        self.log_export = np.log1p(index.export_usd_m).astype(np.float32)
        recent = np.array([fy >= "2022-23" if fy else False for fy in index.last_export_fy])
        self.recent = recent.astype(np.float32)
        self.gst_only = index.gst_only.astype(np.float32)
        self.other_line = index.other_line.astype(np.float32)
        self.hs6_of = np.array([c[:6] for c in codes])
        self.heading_of = np.array([c[:4] for c in codes])
        # Word sets for coverage: how much of the name a line's text (and its heading's)
        # accounts for, and how much of the line the name accounts for.
        heading_words = {c: content_words(t) for c, t in
                         zip(index.groups.codes, index.groups.texts, strict=True) if len(c) == 4}
        self.line_words = [content_words(t) for t in index.goods.texts]
        self.heading_words = [heading_words.get(c[:4], frozenset()) for c in codes]

    def similarities(self, queries: Sequence[str],
                     vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Dense (n_queries x n_lines) similarity matrices: word TF-IDF, embeddings and
        character TF-IDF (which finds "groundnut" in "ground-nut" and misspellings)."""
        word = (self.index.word_vectorizer.transform(queries) @ self.word_t).toarray()
        emb = np.asarray(vectors, dtype=np.float32) @ self.emb_t
        char = (self.index.char_vectorizer.transform(queries) @ self.char_t).toarray()
        return word, emb, char

    def alias_scores(self, queries: Sequence[str]) -> np.ndarray:
        """(n_queries x n_aliases) rapidfuzz WRatio scores in 0..100."""
        if not self.aliases:
            return np.zeros((len(queries), 0), dtype=np.float32)
        # Scores under ALIAS_MIN_SCORE are never used; the cut-off lets rapidfuzz skip them.
        return process.cdist(list(queries), self.alias_norms, scorer=fuzz.WRatio, dtype=np.uint8,
                             score_cutoff=ALIAS_MIN_SCORE, workers=-1).astype(np.float32)

    def pools(self, queries: Sequence[str], vectors: np.ndarray) -> list[Pool]:
        """One candidate pool per query (queries are normalised texts)."""
        if not queries:
            return []
        matrices = self.similarities(queries, vectors)
        alias = self.alias_scores(queries)
        tops = [_top_rows(m, RANK_CAP) for m in matrices]
        return [self._pool(queries[q], [m[q] for m in matrices], alias[q], [t[q] for t in tops])
                for q in range(len(queries))]

    def _pool(self, query: str, matrices: list[np.ndarray], alias_row: np.ndarray,
              tops: list[np.ndarray]) -> Pool:
        alias_score: dict[int, float] = defaultdict(float)
        alias_exact: dict[int, float] = {}
        alias_level: dict[int, float] = {}
        alias_term: dict[int, str] = {}
        if alias_row.size:
            for a in _top(alias_row, ALIAS_TOP):
                score = float(alias_row[a]) / 100.0
                if score * 100 < ALIAS_MIN_SCORE:
                    break
                exact = float(self.alias_norms[a] == query)
                for line in self.alias_lines[a]:
                    line = int(line)
                    if score > alias_score[line]:
                        alias_score[line] = score
                        alias_exact[line] = exact
                        alias_level[line] = self.alias_level[a]
                        alias_term[line] = self.aliases[a].term
        pool = list(dict.fromkeys([*(int(i) for t in tops for i in t), *alias_score]))
        lines = np.array(pool, dtype=np.int64)
        feats = np.zeros((len(lines), len(FEATURES)), dtype=np.float32)
        for retriever, matrix, top in zip(("word", "emb", "char"), matrices, tops, strict=True):
            ranks = np.full(len(matrix), RANK_CAP, dtype=np.float32)
            ranks[top] = np.arange(len(top), dtype=np.float32)
            feats[:, FEATURE_INDEX[f"{retriever}_sim"]] = matrix[lines]
            feats[:, FEATURE_INDEX[f"{retriever}_gap"]] = matrix[top[0]] - matrix[lines]
            feats[:, FEATURE_INDEX[f"{retriever}_rank"]] = np.log1p(ranks[lines])
        feats[:, FEATURE_INDEX["alias_score"]] = [alias_score.get(int(i), 0.0) for i in lines]
        feats[:, FEATURE_INDEX["alias_exact"]] = [alias_exact.get(int(i), 0.0) for i in lines]
        feats[:, FEATURE_INDEX["alias_level"]] = [alias_level.get(int(i), 0.0) for i in lines]
        # Agreement across levels: how strongly the pool backs the line's subheading/heading.
        strength = feats[:, [FEATURE_INDEX["emb_sim"], FEATURE_INDEX["word_sim"],
                             FEATURE_INDEX["char_sim"]]].max(axis=1)
        hs6 = self.hs6_of[lines]
        heading = self.heading_of[lines]
        same6 = hs6[:, None] == hs6[None, :]
        same4 = heading[:, None] == heading[None, :]
        np.fill_diagonal(same6, False)
        np.fill_diagonal(same4, False)
        feats[:, FEATURE_INDEX["hs6_support"]] = np.where(same6, strength[None, :], 0.0).max(axis=1)
        feats[:, FEATURE_INDEX["heading_support"]] = same4.sum(axis=1) / len(lines)
        feats[:, FEATURE_INDEX["log_export"]] = self.log_export[lines]
        feats[:, FEATURE_INDEX["recent_export"]] = self.recent[lines]
        feats[:, FEATURE_INDEX["gst_only"]] = self.gst_only[lines]
        feats[:, FEATURE_INDEX["other_line"]] = self.other_line[lines]
        feats[:, FEATURE_INDEX["query_words"]] = len(query.split())
        wanted = content_words(query)
        if wanted:
            for row, line in enumerate(lines):
                own = self.line_words[line]
                found = wanted & own
                feats[row, FEATURE_INDEX["cover_line"]] = len(found) / len(wanted)
                feats[row, FEATURE_INDEX["cover_heading"]] = (
                    len(wanted & (own | self.heading_words[line])) / len(wanted))
                feats[row, FEATURE_INDEX["line_explained"]] = len(found) / len(own) if own else 0.0
        for name in RELATIVE:
            column = feats[:, FEATURE_INDEX[name]]
            feats[:, FEATURE_INDEX[f"{name}_gap"]] = column.max(initial=0.0) - column
        return Pool(lines=lines, features=feats,
                    aliases={int(i): alias_term[int(i)] for i in lines if int(i) in alias_term})
