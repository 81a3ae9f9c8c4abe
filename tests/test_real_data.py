"""What the classify foundation must show on the real data and the real model."""

import pytest

pytestmark = pytest.mark.slow


def test_basmati_rice_ranks_10063020_first(real_classifier):
    match = real_classifier.classify("Basmati rice")
    assert match.candidates[0].code == "10063020"


def test_tourism_is_a_service(real_classifier):
    match = real_classifier.classify("Tourism")
    assert match.kind == "service" and match.code.startswith("99")


def test_marine_products_is_broad_with_chapter_03(real_classifier):
    match = real_classifier.classify("Marine products")
    assert match.kind == "broad"
    assert any(c.code.startswith("03") for c in match.candidates)


def test_real_batch_with_bad_rows(real_classifier):
    names = ["Agra Petha", None, "", "Kesar mango", "Coconut & coconut based products, Tourism"]
    out = real_classifier.classify(names)
    assert len(out) == 5
    assert out[1].kind == out[2].kind == "unknown"
    assert [p.kind for p in out[4].parts][-1] == "service"
