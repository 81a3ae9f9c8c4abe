"""Fuzzy matching against the knowledge base: exact for small term lists, shortlisted
for large ones."""

import numpy as np
from rapidfuzz import fuzz, process

from hsmatch.fuzzy import FuzzyIndex
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
