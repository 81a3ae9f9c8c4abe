"""Candidate retrieval for goods, and the features the ranker scores them by.

Four retrievers look at every name: TF-IDF word n-grams and character n-grams (robust
to misspellings and to "groundnut" / "ground-nut") over the enriched nomenclature text,
rapidfuzz over the alias index of trade and vernacular names, and embeddings. Their
candidates are pooled per name, and each candidate gets one feature row so that a
ranker can weigh the evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from hsmatch.fuzzy import FuzzyIndex
from hsmatch.index import Index
from hsmatch.lexicon import Lexicon, LexiconEntry
from hsmatch.line_words import ASKED, HEAD
from hsmatch.materials import Materials
from hsmatch.name_headings import NameHeadings
from hsmatch.text import content_words, head_word

# Per retriever, how many top lines join the pool (and the rank cap of rank features).
POOL_PER_RETRIEVER = 20
ALIAS_MIN_SCORE = 70.0
ALIAS_TOP = 8
# Aliases this short ("tv", "hal", "ups") count only as a whole word of the name: fuzzy
# matching finds "hal" in "haldi" and "ups" in "cups".
SHORT_ALIAS = 3
# Words by which an alias names the opposite of a name it contains ("non-basmati rice").
NEGATIONS = frozenset(["non"])
# Lines a heading- or subheading-level alias may lend its score to.
ALIAS_MAX_LINES = 40
RANK_CAP = POOL_PER_RETRIEVER
# Aliases near a name in meaning (embedding cosine) vouch for their lines and headings from
# NEAR_FLOOR on; the NEAR_POOL_TOP nearest from NEAR_POOL_FLOOR on also bring their lines
# into the pool ("instant coffee" brings 2101 to "soluble coffee"). Below 0.6 the static
# embedding's neighbours are mostly words in common ("soluble cutting oil", 0.69).
NEAR_FLOOR = 0.6
NEAR_POOL_FLOOR = 0.8
NEAR_POOL_TOP = 3

FEATURES = (
    "word_sim", "word_gap", "word_rank",
    "char_sim", "char_gap", "char_rank",
    "emb_sim", "emb_gap", "emb_rank",
    "alias_score", "alias_exact", "alias_level", "alias_first", "alias_extra", "alias_cover",
    "alias_head",
    "hs6_support", "heading_support",
    "log_export", "recent_export", "gst_only", "other_line",
    "query_words", "cover_line", "cover_heading", "line_explained",
    "material_match", "material_clash", "negated_clash", "name_heading", "name_chapter",
    "near_line", "near_heading", "head_line", "head_heading",
    *(f"{name}_gap" for name in ("alias_score", "cover_line", "cover_heading", "line_explained",
                                 "log_export", "hs6_support", "name_heading", "near_line", "near_heading",
                                 "head_line", "head_heading")),
)
# Features whose distance to the best of the pool is a feature too: a pointwise ranker sees
# one candidate at a time, and "as good as the best here" means more than the raw value.
RELATIVE = ("alias_score", "cover_line", "cover_heading", "line_explained", "log_export", "hs6_support",
            "name_heading", "near_line", "near_heading", "head_line", "head_heading")
FEATURE_INDEX = {name: i for i, name in enumerate(FEATURES)}
# What an alias lends a line (see _AliasEvidence).
ALIAS_FEATURES = ("alias_score", "alias_exact", "alias_level", "alias_first", "alias_extra", "alias_cover",
                  "alias_head")

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
    order: np.ndarray | None = None   # the first places of the ranker's order, once scored
    vector: np.ndarray | None = None  # the name's embedding (the kind model reads it)


def _row_tops(rows: np.ndarray, columns: np.ndarray, values: np.ndarray, n_rows: int,
              k: int, with_values: bool = False) -> list[Any]:
    """For the entries (``rows``, ``columns``, ``values``) of a sparse selection of a
    matrix (the ones above some floor): each row's (at most) k columns of largest value,
    best first, ties in column order (``with_values``: as pairs of columns and values).
    Alias rows are wide and mostly under the floor: selecting from the entries above it
    is far cheaper than partitioning whole rows."""
    order = np.lexsort((columns, -values, rows))
    rows, columns, values = rows[order], columns[order], values[order]
    counts = np.bincount(rows, minlength=n_rows)
    place = np.arange(len(rows)) - (np.cumsum(counts) - counts)[rows]
    bounds = np.cumsum(np.minimum(counts, k))[:-1]
    kept = np.split(columns[place < k], bounds)
    return list(zip(kept, np.split(values[place < k], bounds), strict=True)) if with_values else kept


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
        self.alias_index = FuzzyIndex(self.alias_norms, index.char_vectorizer)
        # Each alias lends its score to the lines its codes cover, finest first.
        self.alias_lines: list[np.ndarray] = []
        self.alias_order: list[np.ndarray] = []
        self.alias_level: list[float] = []
        self.alias_words = [content_words(a.norm) for a in self.aliases]
        sorted_codes = np.array(sorted(self.position))
        for alias in self.aliases:
            lines: list[int] = []
            order: list[int] = []
            for rank, code in enumerate(alias.codes):
                if code in self.position:
                    covered = [self.position[code]]
                else:
                    lo = np.searchsorted(sorted_codes, code)
                    hi = np.searchsorted(sorted_codes, code + "9" * (8 - len(code)), side="right")
                    covered = [self.position[c] for c in sorted_codes[lo:hi][:ALIAS_MAX_LINES]]
                lines.extend(covered)
                order.extend([rank] * len(covered))
            self.alias_lines.append(np.array(lines, dtype=np.int64))
            # Codes are written best first: the first is what the name means by default.
            self.alias_order.append(1.0 / (1.0 + np.array(order, dtype=np.float32)))
            self.alias_level.append(min(len(c) for c in alias.codes) / 8.0)
        # Transposed once here: scipy would otherwise convert on every query.
        self.word_t = index.goods.word.T.tocsr()
        self.emb_t = np.ascontiguousarray(index.goods.emb.T)
        self.log_export = np.log1p(index.export_usd_m).astype(np.float32)
        recent = np.array([fy >= "2022-23" if fy else False for fy in index.last_export_fy])
        self.recent = recent.astype(np.float32)
        self.gst_only = index.gst_only.astype(np.float32)
        self.other_line = index.other_line.astype(np.float32)
        self.hs6_of = np.array([c[:6] for c in codes])
        self.heading_of = np.array([c[:4] for c in codes])
        # Word sets for coverage: how much of the name a line's text (and its heading's)
        # accounts for, how much of the line the name accounts for, and the words a line
        # says it is not ("ground-nuts, not roasted" is no answer to "roasted peanuts"); as
        # sets and as word ids, with each line's materials (built with the index).
        words = index.line_words
        self.line_words, self.heading_words, self.negated = words.line_words, words.heading_words, words.negated
        self.word_id = words.word_id
        self.own_words, self.cover_words, self.negated_words = words.own_words, words.cover_words, words.negated_words
        self.line_material = words.line_material
        self.char_t = words.char_t
        self.materials = Materials()
        # The subheading and heading of each line, as integers.
        self.hs6_id = np.unique(self.hs6_of, return_inverse=True)[1].astype(np.int64)
        headings, heading_id = np.unique(self.heading_of, return_inverse=True)
        self.heading_id = heading_id.astype(np.int64)
        # Which headings (and chapters) the words of the knowledge base's names point to.
        self.name_headings = NameHeadings(self.aliases, headings.tolist())
        chapters, chapter_of_heading = np.unique([h[:2] for h in headings], return_inverse=True)
        self.heading_chapter = sparse.csr_matrix(
            (np.ones(len(headings), dtype=np.float32), (np.arange(len(headings)), chapter_of_heading)),
            shape=(len(headings), len(chapters)))
        self.chapter_id = chapter_of_heading[self.heading_id].astype(np.int64)
        # The aliases' embeddings, and each alias's lines and headings in CSR form: a name's
        # nearest aliases in meaning vouch for them (see NEAR_FLOOR).
        self.alias_vectors_t = np.ascontiguousarray(
            index.embedder.encode(self.alias_norms).astype(np.float32).T) if self.aliases \
            else np.zeros((index.goods.emb.shape[1], 0), dtype=np.float32)
        self.alias_line_csr = _csr(self.alias_lines)
        self.alias_order_flat = np.concatenate(self.alias_order) if self.aliases else np.zeros(0, np.float32)
        self.alias_heading_csr = _csr([np.unique(self.heading_id[lines]) for lines in self.alias_lines])

    def similarities(self, queries: Sequence[str], vectors: np.ndarray,
                     emb: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Dense (n_queries x n_lines) similarity matrices: word TF-IDF, embeddings and
        character TF-IDF (which finds "groundnut" in "ground-nut" and misspellings).
        ``emb``: the :meth:`embedding_similarities` of ``vectors``, when already computed."""
        word = (self.index.word_vectorizer.transform(queries) @ self.word_t).toarray()
        emb = self.embedding_similarities(vectors) if emb is None else emb
        char = (self.index.char_vectorizer.transform(queries) @ self.char_t).toarray()
        return word, emb, char

    def embedding_similarities(self, vectors: np.ndarray) -> np.ndarray:
        """(n_queries x n_lines) similarities of query embeddings to the lines' embeddings."""
        return np.asarray(vectors, dtype=np.float32) @ self.emb_t

    def near_scores(self, vectors: np.ndarray) -> np.ndarray:
        """(n_queries x n_aliases) cosine of query embeddings to the aliases' embeddings."""
        return np.asarray(vectors, dtype=np.float32) @ self.alias_vectors_t

    def alias_scores(self, queries: Sequence[str]) -> sparse.csr_matrix:
        """(n_queries x n_aliases) rapidfuzz WRatio scores in 0..100, sparse (the few
        aliases of each name that reach ALIAS_MIN_SCORE)."""
        # Scores under ALIAS_MIN_SCORE are never used; the cut-off lets rapidfuzz skip them.
        return self.alias_index.sparse_scores(queries, cutoff=ALIAS_MIN_SCORE)

    def pools(self, queries: Sequence[str], vectors: np.ndarray,
              alias: sparse.csr_matrix | Future[sparse.csr_matrix] | None = None,
              emb: np.ndarray | None = None) -> list[Pool]:
        """One candidate pool per query (queries are normalised texts, ``vectors`` their
        embeddings). ``alias`` and ``emb``: the queries' :meth:`alias_scores` (or a future
        of them) and :meth:`embedding_similarities`, when already computed."""
        if not queries:
            return []
        matrices = self.similarities(queries, vectors, emb)
        tops = [_top_rows(m, RANK_CAP) for m in matrices]
        if alias is None:
            alias = self.alias_scores(queries)
        elif isinstance(alias, Future):
            alias = alias.result()
        pools = self._build_pools(queries, matrices, alias, tops, self.near_scores(vectors))
        for pool, vector in zip(pools, vectors, strict=True):
            pool.vector = vector
        return pools

    def _alias_evidence(self, queries: Sequence[str], wanted: Sequence[frozenset[str]],
                        best: Sequence[tuple[np.ndarray, np.ndarray]]) -> _AliasEvidence:
        """The lines the ``best`` aliases of each query (aliases and scores, best first) lend
        their score to, with the evidence of the best alias per (query, line): the first to
        reach it."""
        asked_by: list[int] = []
        kept: list[int] = []
        values: list[tuple[float, ...]] = []
        for q in np.flatnonzero([len(a) for a, _ in best]).tolist():
            query, asked = queries[q], wanted[q]
            said = query.split()
            head = head_word(query)
            for a, score in zip(best[q][0].tolist(), best[q][1].tolist(), strict=True):
                norm, words = self.alias_norms[a], self.alias_words[a]
                if len(norm) <= SHORT_ALIAS and norm not in said:
                    continue
                # "Non-basmati rice" contains all of "basmati rice" and means its opposite.
                if NEGATIONS & (words - asked):
                    continue
                # An alias that says more than the name ("dehydrated onion" for "onion") is a
                # narrower product, though fuzzy matching scores it high ...
                extra = len(words - asked) / len(words) if words else 0.0
                # ... and one that says less ("linseed" for "linseed oil") names another
                # product: fuzzy matching scores a name containing the alias high all the same.
                cover = len(words & asked) / len(asked) if asked else 0.0
                # Whether the alias names what the name is about ("oil" of "linseed oil"), not
                # only what it is made from: "linseed" covers half of "linseed oil", wrongly.
                about = float(head in words)
                asked_by.append(q)
                kept.append(a)
                values.append((score / 100.0, float(norm == query), self.alias_level[a], 0.0,
                               extra, cover, about))
        n_lines = len(self.hs6_of)
        if not kept:
            return _AliasEvidence(np.zeros(0, dtype=np.int64), np.zeros((0, len(ALIAS_FEATURES)), np.float32),
                                  np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64),
                                  np.zeros(0, dtype=np.int64), n_lines)
        chosen = np.array(kept, dtype=np.int64)
        indptr, indices = self.alias_line_csr
        counts = indptr[chosen + 1] - indptr[chosen]
        which = np.repeat(np.arange(len(chosen)), counts)      # the kept alias of each row
        at = indptr[chosen][which] + np.arange(len(which)) - (np.cumsum(counts) - counts)[which]
        keys = np.array(asked_by, dtype=np.int64)[which] * n_lines + indices[at]
        unique, first = np.unique(keys, return_index=True)      # the first to reach each line
        table = np.array(values, dtype=np.float32)[which[first]]
        table[:, ALIAS_FEATURES.index("alias_first")] = self.alias_order_flat[at[first]]
        reached = np.sort(first)                                # in the order lines were reached
        return _AliasEvidence(unique, table, chosen[which[first]], keys[reached] // n_lines,
                              keys[reached] % n_lines, n_lines)

    def _build_pools(self, queries: Sequence[str], matrices: Sequence[np.ndarray], alias: sparse.csr_matrix,
                     tops: Sequence[np.ndarray], near: np.ndarray) -> list[Pool]:
        """The pools of a batch of queries, their features computed for the whole batch at
        once. Per pool, this is: the top lines of each retriever (word, embedding, char),
        then the lines its aliases lend a score to, then those of its nearest aliases in
        meaning, each line once in that order; and one feature row per line (see FEATURES).
        ``near``: the queries' :meth:`near_scores`."""
        n = len(queries)
        F = FEATURE_INDEX
        # Alias evidence from the aliases that reach the cut-off.
        alias = sparse.csr_matrix(alias)
        alias_q = np.repeat(np.arange(n), np.diff(alias.indptr))
        reach = alias.data >= ALIAS_MIN_SCORE
        wanted = [content_words(q) for q in queries]
        best = _row_tops(alias_q[reach], alias.indices[reach].astype(np.int64), alias.data[reach], n, ALIAS_TOP,
                         with_values=True)
        evidence = self._alias_evidence(queries, wanted, best)
        # The aliases near each name in meaning (see NEAR_FLOOR), and the nearest few.
        asked_q, asked_a = np.nonzero(near >= NEAR_FLOOR)
        cosine = near[asked_q, asked_a]
        close = cosine >= NEAR_POOL_FLOOR
        nearest = _row_tops(asked_q[close], asked_a[close], cosine[close], n, NEAR_POOL_TOP)

        # Candidate lines: first occurrence kept, in order; -1 pads the rows.
        retrieved = np.hstack([np.asarray(t, dtype=np.int64) for t in tops])
        lent = np.bincount(evidence.query, minlength=n)          # lines lent, per query
        extra = int(lent.max(initial=0))
        brought = [np.concatenate([self.alias_lines[a] for a in best]) if len(best) else
                   np.zeros(0, dtype=np.int64) for best in nearest]
        width = retrieved.shape[1] + extra
        candidates = np.full((n, width + max((len(b) for b in brought), default=0)), -1, dtype=np.int64)
        candidates[:, :retrieved.shape[1]] = retrieved
        place = np.arange(len(evidence.query)) - (np.cumsum(lent) - lent)[evidence.query]
        candidates[evidence.query, retrieved.shape[1] + place] = evidence.line
        for q, lines_of_near in enumerate(brought):
            candidates[q, width:width + len(lines_of_near)] = lines_of_near
        order = np.argsort(candidates, axis=1, kind="stable")
        ranked = np.take_along_axis(candidates, order, axis=1)
        repeated = np.zeros(candidates.shape, dtype=bool)
        np.put_along_axis(repeated, order, np.c_[np.zeros((n, 1), dtype=bool),
                                                 ranked[:, 1:] == ranked[:, :-1]], axis=1)
        keep = ~repeated & (candidates >= 0)
        lines = candidates[keep]                     # every pool's lines, pool after pool
        sizes = keep.sum(axis=1)
        ends = np.cumsum(sizes)
        starts = ends - sizes
        of = np.repeat(np.arange(n), sizes)          # the query of each row
        rows = len(lines)

        feats = np.zeros((rows, len(FEATURES)), dtype=np.float32)
        for retriever, matrix, top in zip(("word", "emb", "char"), matrices, tops, strict=True):
            sims = matrix[of, lines]
            feats[:, F[f"{retriever}_sim"]] = sims
            feats[:, F[f"{retriever}_gap"]] = matrix[np.arange(n), top[:, 0]][of] - sims
            at = lines[:, None] == top[of]
            rank = np.where(at.any(axis=1), at.argmax(axis=1), RANK_CAP).astype(np.float32)
            feats[:, F[f"{retriever}_rank"]] = np.log1p(rank)
        lent_rows, lent_at = evidence.find(of, lines)
        feats[np.ix_(lent_rows, [F[name] for name in ALIAS_FEATURES])] = evidence.values[lent_at]
        term_alias = np.full(rows, -1, dtype=np.int64)
        term_alias[lent_rows] = evidence.alias[lent_at]
        # Agreement across levels: how strongly the pool backs the line's subheading/heading.
        strength = feats[:, [F["emb_sim"], F["word_sim"], F["char_sim"]]].max(axis=1)
        feats[:, F["hs6_support"]] = _best_of_others(of * (len(self.hs6_of) + 1) + self.hs6_id[lines],
                                                     strength)
        same_heading = _group_sizes(of * (len(self.heading_of) + 1) + self.heading_id[lines]) - 1
        feats[:, F["heading_support"]] = same_heading / sizes[of]
        feats[:, F["log_export"]] = self.log_export[lines]
        feats[:, F["recent_export"]] = self.recent[lines]
        feats[:, F["gst_only"]] = self.gst_only[lines]
        feats[:, F["other_line"]] = self.other_line[lines]
        feats[:, F["query_words"]] = np.array([len(q.split()) for q in queries])[of]
        # Coverage: how much of the name a line's words (and its heading's) account for, and
        # how much of the line the name accounts for.
        n_wanted = np.array([len(w) for w in wanted], dtype=np.int64)
        known = [(q, self.word_id[w]) for q, words in enumerate(wanted) for w in words
                 if w in self.word_id]
        # ... and whether the line (or its heading) names the head word: "hats" of "bamboo
        # hats" is the product, "bamboo" only its material.
        heads = [(q, self.word_id[h]) for q, h in enumerate(map(head_word, queries)) if h in self.word_id]
        if known:
            asked = np.zeros((n, len(self.word_id)), dtype=np.int8)
            asked[tuple(np.array(known).T)] = ASKED
            if heads:
                asked[tuple(np.array(heads).T)] |= HEAD
            found, head_found = self.own_words.count(asked, of, lines)
            covered, head_covered = self.cover_words.count(asked, of, lines)
            refused, _ = self.negated_words.count(asked, of, lines)
        else:
            found = covered = refused = np.zeros(rows, dtype=np.int64)
            head_found = head_covered = np.zeros(rows, dtype=bool)
        feats[:, F["head_line"]] = head_found
        feats[:, F["head_heading"]] = head_covered
        out_of = n_wanted[of]
        named = out_of > 0
        own_size = self.own_words.sizes[lines]
        explained = named & (own_size > 0)
        feats[named, F["cover_line"]] = found[named] / out_of[named]
        feats[named, F["cover_heading"]] = covered[named] / out_of[named]
        feats[explained, F["line_explained"]] = found[explained] / own_size[explained]
        feats[named, F["negated_clash"]] = refused[named] / out_of[named]
        # The naive Bayes posterior of each line's heading and chapter (hsmatch.name_headings).
        heading_post = self.name_headings.posteriors(wanted)
        chapter_post = np.asarray(heading_post @ self.heading_chapter, dtype=np.float32)
        feats[:, F["name_heading"]] = heading_post[of, self.heading_id[lines]]
        feats[:, F["name_chapter"]] = chapter_post[of, self.chapter_id[lines]]
        # Material: whether the line is of a material the name says, or only of others.
        said = np.array([self.materials.of_words(w) for w in wanted], dtype=np.int64)
        fits = np.array([self.materials.compatible(int(m)) for m in said], dtype=np.int64)
        made_of = self.line_material[lines]
        match = (made_of & fits[of]) != 0
        feats[:, F["material_match"]] = match
        feats[:, F["material_clash"]] = (said[of] != 0) & (made_of != 0) & ~match
        # Meaning: the best cosine of an alias near the name that covers the line / heading.
        feats[:, F["near_line"]] = _best_per_key(self.alias_line_csr, asked_q, asked_a, cosine,
                                                 of, lines, len(self.hs6_of))
        feats[:, F["near_heading"]] = _best_per_key(self.alias_heading_csr, asked_q, asked_a, cosine,
                                                    of, self.heading_id[lines], len(self.hs6_of))
        relative = [F[name] for name in RELATIVE]
        columns = feats[:, relative]
        best = np.maximum(np.maximum.reduceat(columns, starts, axis=0), np.float32(0.0))
        feats[:, [F[f"{name}_gap"] for name in RELATIVE]] = best[of] - columns

        terms: list[dict[int, str]] = [{} for _ in range(n)]
        for row in lent_rows.tolist():
            terms[int(of[row])][int(lines[row])] = self.aliases[term_alias[row]].term
        return [Pool(lines=lines[starts[q]:ends[q]], features=feats[starts[q]:ends[q]], aliases=terms[q])
                for q in range(n)]


@dataclass
class _AliasEvidence:
    """What a batch's aliases lend each (query, line), keyed ``query * n_lines + line``:
    in ALIAS_FEATURES order, the alias's score, exactness and level, the line's place in
    the alias's best-first codes (1, 1/2, 1/3...), the share of the alias's words that
    the query lacks, the share of the query's words the alias has, and whether the alias
    has the query's head word; and which alias lent it."""

    keys: np.ndarray      # sorted (query, line) keys
    values: np.ndarray    # per key, the ALIAS_FEATURES
    alias: np.ndarray     # per key, the alias that lent it
    query: np.ndarray     # the lent lines, query by query in the order they were reached
    line: np.ndarray
    n_lines: int

    def find(self, of: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The rows (query ``of``, line ``lines``) an alias lent to, and their keys' places."""
        if not len(self.keys):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        wanted = of * self.n_lines + lines
        at = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        rows = np.flatnonzero(self.keys[at] == wanted)
        return rows, at[rows]


def _csr(lists: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """A list of integer arrays as (indptr, indices)."""
    indptr = np.zeros(len(lists) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(x) for x in lists])
    indices = np.concatenate(lists).astype(np.int64) if lists else np.zeros(0, dtype=np.int64)
    return indptr, indices


def _best_per_key(csr: tuple[np.ndarray, np.ndarray], queries: np.ndarray, aliases: np.ndarray,
                  values: np.ndarray, of: np.ndarray, keys: np.ndarray, n_keys: int) -> np.ndarray:
    """For each pool row (query ``of``, line or heading ``keys``, all below ``n_keys``): the
    best of ``values`` among the (query, alias) pairs whose alias covers that key in
    ``csr``; 0 if none."""
    indptr, indices = csr
    counts = indptr[aliases + 1] - indptr[aliases]
    starts = np.repeat(indptr[aliases], counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    covered = indices[starts + offsets]
    pair_keys = np.repeat(queries, counts) * (n_keys + 1) + covered
    pair_values = np.repeat(values, counts)
    if len(pair_keys):
        order = np.lexsort((-pair_values, pair_keys))
        unique, first = np.unique(pair_keys[order], return_index=True)
        found = pair_values[order][first]
        row_keys = of * (n_keys + 1) + keys
        at = np.clip(np.searchsorted(unique, row_keys), 0, len(unique) - 1)
        return np.where(unique[at] == row_keys, found[at], 0.0).astype(np.float32)
    return np.zeros(len(of), dtype=np.float32)


def _group_sizes(keys: np.ndarray) -> np.ndarray:
    """How many rows share each row's key."""
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return counts[inverse]


def _best_of_others(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each row, the largest value among the other rows of the same key, and never
    below 0 (0 when the row is alone): max(0, max over others)."""
    out = np.zeros(len(values), dtype=values.dtype)
    if not len(values):
        return out
    order = np.lexsort((-values, keys))   # by key, largest value first
    keys, values = keys[order], values[order]
    first = np.r_[True, keys[1:] != keys[:-1]]
    group = np.cumsum(first) - 1
    heads = np.flatnonzero(first)
    top = values[heads]
    size = np.diff(np.r_[heads, len(values)])
    second = np.where(size > 1, values[np.minimum(heads + 1, len(values) - 1)], values.dtype.type(0))
    best = np.where(first, second[group], top[group])
    out[order] = np.maximum(best, values.dtype.type(0))
    return out
