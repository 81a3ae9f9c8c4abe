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


@pytest.fixture(scope="module")
def real_scores(real_classifier, real_data):
    from hsmatch.align import score_districts
    from hsmatch.districts import read_district_list
    from hsmatch.exports import load_sector_exports

    lists = read_district_list(real_data / "districts" / "odop_products.csv")
    return score_districts(lists, load_sector_exports(real_data), classifier=real_classifier,
                           data_dir=real_data)


def test_real_sector_data_agra_and_bhadohi_aligned_aligarh_divergent(real_scores):
    national = real_scores.districts[real_scores.districts["list"].str.startswith("ODOP-DPIIT")]
    verdict = national.set_index("district")["alignment"]
    assert verdict["Agra"] == "aligned" and verdict["Bhadohi"] == "aligned"
    assert verdict["Aligarh"] == "divergent"
    recs = real_scores.recommendations
    aligarh = recs[(recs["district"] == "Aligarh") & recs["list"].str.startswith("ODOP-DPIIT")]
    assert aligarh.iloc[0]["code"] == "agri_livestock_other"


def test_every_list_row_is_scored_or_flagged(real_scores):
    scored = real_scores.districts[["list", "state", "district"]].drop_duplicates()
    assert real_scores.districts["alignment"].notna().all()
    assert len(real_scores.products) == real_scores.meta["list_rows"]
    assert len(scored) == len(real_scores.districts)
