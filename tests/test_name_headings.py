"""The naive Bayes that reads which headings a name's words point to."""

import math

import numpy as np
import pytest

from hsmatch.lexicon import LexiconEntry
from hsmatch.name_headings import ALPHA, NameHeadings
from hsmatch.text import content_words, normalize

HEADINGS = ["0801", "0804", "1204", "1508", "1515", "2008"]


def _entry(term, *codes):
    return LexiconEntry(term, normalize(term), codes, "goods", term, f"test:{term}")


ENTRIES = [
    _entry("Linseed", "12040090"),
    _entry("Flax seed", "12040010"),
    _entry("Groundnut oil", "15081000"),
    _entry("Mustard oil", "15149120", "15159099"),
    _entry("Sesame oil", "15155091"),
    _entry("Castor oil", "15153010"),
    _entry("Roasted cashew", "20081910"),
    _entry("Roasted almonds", "20081920"),
    _entry("Cashew kernels", "08013220"),
    _entry("Mango", "08045010"),
]


@pytest.fixture(scope="module")
def model():
    return NameHeadings(ENTRIES, HEADINGS)


def _best(model, text):
    post = model.posteriors([content_words(text)])[0]
    return model.headings[int(np.argmax(post))], post


def test_the_words_of_a_new_name_point_to_its_heading(model):
    # No entry says "linseed oil": "linseed" points to the seed, "oil" to the oils, and
    # no oil heading has been seen with linseed, so which oil it is stays open.
    assert _best(model, "linseed oil")[0] in ("1508", "1515")
    assert _best(model, "roasted pistachios")[0] == "2008"  # an unknown word says nothing
    assert _best(model, "linseed")[0] == "1204"


def test_posteriors_are_a_distribution_and_zero_for_unknown_words(model):
    post = model.posteriors([content_words("sesame oil"), content_words("qqq zzz"), frozenset()])
    assert post.shape == (3, len(HEADINGS))
    assert post[0].sum() == pytest.approx(1.0, abs=1e-6)
    assert not post[1].any() and not post[2].any()


def test_posterior_is_the_naive_bayes_formula(model):
    # By hand: heading counts of the two words, smoothed, uniform prior.
    vocabulary = {w for e in ENTRIES for w in content_words(e.norm)}
    words = content_words("castor oil")
    counts = {h: {w: 0.0 for w in words} for h in HEADINGS}
    totals = dict.fromkeys(HEADINGS, 0.0)
    for e in ENTRIES:
        weights = {}
        for rank, code in enumerate(e.codes):
            if code[:4] in HEADINGS:
                weights[code[:4]] = max(weights.get(code[:4], 0.0), 1 / (1 + rank))
        norm = sum(weights.values())
        for h, w in weights.items():
            for word in content_words(e.norm):
                totals[h] += w / norm
                if word in words:
                    counts[h][word] += w / norm
    log_post = {h: sum(math.log((counts[h][w] + ALPHA) / (totals[h] + ALPHA * len(vocabulary)))
                       for w in words) for h in HEADINGS}
    top = max(log_post.values())
    z = sum(math.exp(v - top) for v in log_post.values())
    expected = [math.exp(log_post[h] - top) / z for h in HEADINGS]
    np.testing.assert_allclose(model.posteriors([words])[0], expected, rtol=1e-5)


def test_the_first_code_of_a_name_counts_most(model):
    # "Mustard oil" is 1514 first, 1515 second; only 1515 is among the headings here,
    # so it takes the whole name; a heading outside the list takes nothing.
    post = model.posteriors([content_words("mustard")])[0]
    assert HEADINGS[int(np.argmax(post))] == "1515"
