"""classify()'s batch machinery changes no result: the batch computation of the pools'
features, the background threads, the chunking, the batched lexicon checks."""

from collections import defaultdict

import numpy as np
import pytest
from rapidfuzz import fuzz, process

import hsmatch.classify as classify_module
from hsmatch.retrieve import (
    ALIAS_MIN_SCORE,
    ALIAS_TOP,
    FEATURE_INDEX,
    FEATURES,
    NEAR_FLOOR,
    NEAR_POOL_FLOOR,
    NEAR_POOL_TOP,
    NEGATIONS,
    RANK_CAP,
    RELATIVE,
    SHORT_ALIAS,
    _top_rows,
)
from hsmatch.text import content_query, content_words, head_word, normalize

NAMES = ["Basmati rice", "Haldi", "Agra Petha", "Tourism", "Marine products", "IT services",
         "Kesar mango", "Pickles & Petha", "Basmati rice, Tourism", "rice", "turmeric powder",
         "Coconut & coconut products", "petha", "mango pulp", "Frozen shrimps", "Handicrafts",
         "10063020", "", None, "Chikankari", "basmati", "rice rice", "of the", "xyz qqq"]


def _names(n):
    """n varied names: the list above and made-up variants of it."""
    words = [w for name in NAMES if isinstance(name, str) for w in name.split()]
    rng = np.random.default_rng(0)
    out = list(NAMES)
    while len(out) < n:
        out.append(" ".join(rng.choice(words, rng.integers(1, 4))))
    return out


def _reference_pool(retriever, query, matrices, alias_row, tops, near_row):
    """A pool built one query at a time, plainly (how the batch computation must come out)."""
    alias_score, alias_exact, alias_level, alias_term = defaultdict(float), {}, {}, {}
    alias_first, alias_extra, alias_cover, alias_head = {}, {}, {}, {}
    if alias_row.size:
        for a in np.argsort(-alias_row, kind="stable")[:ALIAS_TOP]:
            score = float(alias_row[a]) / 100.0
            if score * 100 < ALIAS_MIN_SCORE:
                break
            if len(retriever.alias_norms[a]) <= SHORT_ALIAS and retriever.alias_norms[a] not in query.split():
                continue
            alias_words = content_words(retriever.alias_norms[a])
            if NEGATIONS & (alias_words - content_words(query)):
                continue
            for line, first in zip(retriever.alias_lines[a], retriever.alias_order[a], strict=True):
                line = int(line)
                if score > alias_score[line]:
                    alias_score[line] = score
                    alias_exact[line] = float(retriever.alias_norms[a] == query)
                    alias_level[line] = retriever.alias_level[a]
                    alias_term[line] = retriever.aliases[a].term
                    alias_first[line] = float(first)
                    alias_extra[line] = (len(alias_words - content_words(query)) / len(alias_words)
                                         if alias_words else 0.0)
                    asked = content_words(query)
                    alias_cover[line] = len(alias_words & asked) / len(asked) if asked else 0.0
                    alias_head[line] = float(head_word(query) in alias_words)
    nearest = sorted((a for a in range(len(near_row)) if near_row[a] >= NEAR_POOL_FLOOR),
                     key=lambda a: (-near_row[a], a))[:NEAR_POOL_TOP]
    brought = [int(i) for a in nearest for i in retriever.alias_lines[a]]
    lines = np.array(list(dict.fromkeys([*(int(i) for t in tops for i in t), *alias_score, *brought])))
    F = FEATURE_INDEX
    feats = np.zeros((len(lines), len(FEATURES)), dtype=np.float32)
    for name, matrix, top in zip(("word", "emb", "char"), matrices, tops, strict=True):
        ranks = np.full(len(matrix), RANK_CAP, dtype=np.float32)
        ranks[top] = np.arange(len(top), dtype=np.float32)
        feats[:, F[f"{name}_sim"]] = matrix[lines]
        feats[:, F[f"{name}_gap"]] = matrix[top[0]] - matrix[lines]
        feats[:, F[f"{name}_rank"]] = np.log1p(ranks[lines])
    feats[:, F["alias_score"]] = [alias_score.get(int(i), 0.0) for i in lines]
    feats[:, F["alias_exact"]] = [alias_exact.get(int(i), 0.0) for i in lines]
    feats[:, F["alias_level"]] = [alias_level.get(int(i), 0.0) for i in lines]
    feats[:, F["alias_first"]] = [alias_first.get(int(i), 0.0) for i in lines]
    feats[:, F["alias_extra"]] = [alias_extra.get(int(i), 0.0) for i in lines]
    feats[:, F["alias_cover"]] = [alias_cover.get(int(i), 0.0) for i in lines]
    feats[:, F["alias_head"]] = [alias_head.get(int(i), 0.0) for i in lines]
    strength = feats[:, [F["emb_sim"], F["word_sim"], F["char_sim"]]].max(axis=1)
    hs6, heading = retriever.hs6_of[lines], retriever.heading_of[lines]
    same6, same4 = hs6[:, None] == hs6[None, :], heading[:, None] == heading[None, :]
    np.fill_diagonal(same6, False)
    np.fill_diagonal(same4, False)
    feats[:, F["hs6_support"]] = np.where(same6, strength[None, :], 0.0).max(axis=1)
    feats[:, F["heading_support"]] = same4.sum(axis=1) / len(lines)
    feats[:, F["log_export"]] = retriever.log_export[lines]
    feats[:, F["recent_export"]] = retriever.recent[lines]
    feats[:, F["gst_only"]] = retriever.gst_only[lines]
    feats[:, F["other_line"]] = retriever.other_line[lines]
    feats[:, F["query_words"]] = len(query.split())
    wanted = content_words(query)
    if wanted:
        for row, line in enumerate(lines):
            own = retriever.line_words[line]
            feats[row, F["cover_line"]] = len(wanted & own) / len(wanted)
            feats[row, F["cover_heading"]] = (len(wanted & (own | retriever.heading_words[line]))
                                              / len(wanted))
            feats[row, F["line_explained"]] = len(wanted & own) / len(own) if own else 0.0
    head = head_word(query)
    for row, line in enumerate(lines):
        feats[row, F["head_line"]] = bool(head) and head in retriever.line_words[line]
        feats[row, F["head_heading"]] = bool(head) and head in (retriever.line_words[line]
                                                                 | retriever.heading_words[line])
    materials = retriever.materials
    said = materials.of_words(wanted)
    for row, line in enumerate(lines):
        made_of = materials.of_line(retriever.line_words[line] | retriever.heading_words[line],
                                    retriever.index.goods.codes[line])
        fits = bool(made_of & materials.compatible(said))
        feats[row, F["material_match"]] = fits
        feats[row, F["material_clash"]] = bool(said and made_of and not fits)
    near_line, near_heading = defaultdict(float), defaultdict(float)
    for a in np.flatnonzero(near_row >= NEAR_FLOOR):
        for line in retriever.alias_lines[a]:
            near_line[int(line)] = max(near_line[int(line)], float(near_row[a]))
            heading = retriever.heading_of[line]
            near_heading[heading] = max(near_heading[heading], float(near_row[a]))
    feats[:, F["near_line"]] = [near_line[int(i)] for i in lines]
    feats[:, F["near_heading"]] = [near_heading[retriever.heading_of[i]] for i in lines]
    refused = [len(wanted & retriever.negated[line]) / len(wanted) if wanted else 0.0 for line in lines]
    feats[:, F["negated_clash"]] = refused
    # A batch of one: the batch path must give each name the posterior it gives it alone.
    post = retriever.name_headings.posteriors([wanted])[0]
    headings = retriever.name_headings.headings
    for row, line in enumerate(lines):
        heading = retriever.heading_of[line]
        feats[row, F["name_heading"]] = post[headings.index(heading)]
        feats[row, F["name_chapter"]] = sum(p for h, p in zip(headings, post, strict=True)
                                            if h[:2] == heading[:2])
    for name in RELATIVE:
        column = feats[:, F[name]]
        feats[:, F[f"{name}_gap"]] = column.max(initial=0.0) - column
    return lines, feats, {int(i): alias_term[int(i)] for i in lines if int(i) in alias_term}


def test_batch_features_equal_the_plain_computation(classifier):
    retriever = classifier.goods
    queries = [content_query(normalize(n)) for n in _names(80) if isinstance(n, str)]
    queries = [q for q in dict.fromkeys(queries) if q] + list(retriever.alias_norms)
    vectors = classifier.index.embedder.encode(queries)
    pools = retriever.pools(queries, vectors)
    matrices = retriever.similarities(queries, vectors)
    alias = retriever.alias_scores(queries).toarray()
    tops = [_top_rows(m, RANK_CAP) for m in matrices]
    near = retriever.near_scores(vectors)
    assert (alias >= ALIAS_MIN_SCORE).any(axis=1).sum() > 10  # the alias path is exercised
    assert ((near >= NEAR_POOL_FLOOR).sum(axis=1) >= 2).sum() > 10  # ... and the near one
    for q, (query, pool) in enumerate(zip(queries, pools, strict=True)):
        lines, feats, aliases = _reference_pool(retriever, query, [m[q] for m in matrices],
                                                alias[q], [t[q] for t in tops], near[q])
        np.testing.assert_array_equal(pool.lines, lines)
        assert pool.features.dtype == feats.dtype
        # Summing a chapter's headings in another order moves the last bit of a float.
        chapter = FEATURE_INDEX["name_chapter"]
        np.testing.assert_allclose(pool.features[:, chapter], feats[:, chapter], rtol=1e-5, atol=1e-7)
        feats[:, chapter] = pool.features[:, chapter]
        np.testing.assert_array_equal(pool.features, feats)
        assert list(pool.aliases.items()) == list(aliases.items())


def test_background_threads_and_chunks_change_no_result(classifier, monkeypatch):
    names = _names(150)
    monkeypatch.setattr(classify_module, "BATCH", 16)
    monkeypatch.setattr(classify_module, "EMBED_AHEAD", 3)
    monkeypatch.setattr(classify_module, "RAPIDFUZZ_AHEAD", 2)
    monkeypatch.setattr(classify_module, "BACKGROUND_MIN", 10**9)
    inline = [m.to_dict() for m in classifier.classify(names)]
    inline_pools = classifier.goods_pools([n for n in names if isinstance(n, str)])
    monkeypatch.setattr(classify_module, "BACKGROUND_MIN", 1)
    assert [m.to_dict() for m in classifier.classify(names)] == inline
    for a, b in zip(classifier.goods_pools([n for n in names if isinstance(n, str)]), inline_pools,
                    strict=True):
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert a[0] == b[0]
            np.testing.assert_array_equal(a[1].features, b[1].features)
            np.testing.assert_array_equal(a[1].scores, b[1].scores)


def test_an_error_in_the_background_reaches_the_caller(classifier, monkeypatch):
    monkeypatch.setattr(classify_module, "BACKGROUND_MIN", 1)

    def broken(queries):
        raise RuntimeError("alias scoring failed")

    monkeypatch.setattr(classifier.goods, "alias_scores", broken)
    with pytest.raises(RuntimeError, match="alias scoring failed"):
        classifier.classify(["Basmati rice", "Haldi"])


def test_lexicon_checks_in_one_call_equal_the_best_match(classifier):
    texts = [normalize(n) for n in _names(60) if isinstance(n, str)]
    texts += [normalize(e.term) for e in classifier.lexicon.entries][:40]
    near = classifier._near_lexicon(texts)
    for text, is_near in zip(texts, near, strict=True):
        best = process.extractOne(text, classifier._all_norms, scorer=fuzz.token_sort_ratio)
        assert is_near == (best is not None and best[1] >= classify_module.LEXICON_NO_SPLIT_SCORE)
    assert near.any() and not near.all()


def test_repeated_texts_are_scored_once_with_the_same_rows(classifier):
    texts = ["rice", "haldi", "rice", "marine products", "haldi", "rice"]
    alias = classifier.goods.alias_scores(texts).toarray()
    kind = classifier.lexicon_kind_scores(texts)
    for i, text in enumerate(texts):
        np.testing.assert_array_equal(alias[i], classifier.goods.alias_scores([text]).toarray()[0])
        np.testing.assert_array_equal(kind[i], classifier.lexicon_kind_scores([text])[0])
    assert alias.dtype == np.float32 and kind.dtype == np.float32
