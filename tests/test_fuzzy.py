"""Fuzzy matching against the knowledge base: exact for small term lists, shortlisted
for large ones."""

import numpy as np
from rapidfuzz import fuzz, process

from hsmatch.fuzzy import FuzzyIndex, NearTerms
from hsmatch.tfidf import Tfidf

TERMS = ["kesar mango", "alphonso mango", "basmati rice", "onion", "turmeric powder",
         "brass lamps", "hand knotted carpets", "cotton yarn"]


def _vectorizer(texts):
    return Tfidf("char_wb", (3, 5)).fit(texts)


def test_a_small_list_is_scored_exactly():
    index = FuzzyIndex(TERMS, _vectorizer(TERMS))
    names = ["lasalgaon onion", "kesar mangoes", "onion"]
    expected = process.cdist(names, TERMS, scorer=fuzz.WRatio, dtype=np.float32)
    np.testing.assert_allclose(index.scores(names), expected)
    cut = index.scores(names, cutoff=90)
    assert (cut[(cut > 0)] >= 90).all()


def test_a_large_list_scores_its_shortlist_and_finds_the_obvious_term():
    filler = [f"product number {i} of {w}" for i, w in enumerate(["wool", "steel", "paper"] * 40)]
    terms = TERMS + filler
    index = FuzzyIndex(terms, _vectorizer(terms), shortlist=8)
    scores = index.scores(["lasalgaon onion", "kesar mangoes", "lasalgaon onion"])
    assert terms[int(scores[0].argmax())] == "onion"
    assert terms[int(scores[1].argmax())] == "kesar mango"
    assert scores[1].max() == fuzz.WRatio("kesar mangoes", "kesar mango")
    np.testing.assert_array_equal(scores[0], scores[2])  # a repeated name, scored once
    assert (scores > 0).sum(axis=1).max() <= 8


def test_near_terms_answer_as_comparing_with_every_term():
    terms = ["coconut products", "coir products", "basmati rice", "rice", "handloom silk sarees",
             "brass and bell metal", "a", "tea and coffee"]
    names = ["products coconut", "basmati rices", "rice", "ric", "silk handloom sarees",
             "bell metal and brass", "coffee and tea", "", "b", "something else entirely"]
    for cutoff in (80.0, 95.0):
        near = NearTerms(terms, cutoff).any_close(names)
        for name, is_near in zip(names, near, strict=True):
            best = process.extractOne(name, terms, scorer=fuzz.token_sort_ratio)
            assert is_near == (best is not None and best[1] >= cutoff), (name, cutoff)
    assert not NearTerms([], 95.0).any_close(["rice"]).any()
