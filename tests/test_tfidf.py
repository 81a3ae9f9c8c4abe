import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hsmatch.tfidf import Tfidf

DOCS = ["basmati rice semi milled", "rice parboiled", "cotton t-shirts knitted", "a b cotton",
        "of cotton and silk yarn", "frozen shrimps and prawns", "x"] * 2


@pytest.mark.parametrize("analyzer, ngrams, min_df", [("word", (1, 2), 1), ("char_wb", (3, 5), 2)])
def test_matches_scikit_learn(analyzer, ngrams, min_df):
    from sklearn.feature_extraction.text import TfidfVectorizer

    ours = Tfidf(analyzer, ngrams, min_df=min_df).fit(DOCS)
    theirs = TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, min_df=min_df,
                             sublinear_tf=True).fit(DOCS)
    assert ours.vocabulary_ == theirs.vocabulary_
    queries = ["basmati rice", "cotton shirt", "nothing known", "", "silk silk silk"]
    np.testing.assert_allclose(ours.transform(queries).toarray(),
                               theirs.transform(queries).toarray(), atol=1e-6)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet="abc xyz", min_size=0, max_size=20), min_size=1, max_size=5))
def test_rows_are_unit_length_or_empty(queries):
    matrix = Tfidf("char_wb", (3, 5)).fit([*DOCS, "abc xyz"]).transform(queries)
    norms = np.sqrt(matrix.multiply(matrix).sum(axis=1)).A1
    assert np.all((np.abs(norms - 1) < 1e-5) | (norms == 0))
