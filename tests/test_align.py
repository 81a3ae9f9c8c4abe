"""Scoring district lists against district exports: verdicts, recommendations, flags,
outputs. Runs on the fixture nomenclature and small hand-made export tables."""

import json

import numpy as np
import pandas as pd
import pytest

from hsmatch.align import Override, score_districts
from hsmatch.relatedness import product_space
from hsmatch.report import write_outputs

LIST = "ODOP test list"


def _sector_exports(rows):
    return pd.DataFrame([{"state": state, "district": district, "code": sector, "level": "sector",
                          "value_usd": value, "year": "2024-25", "synthetic": "False"}
                         for state, district, sector, value in rows])


SECTOR_ROWS = [
    ("UTTAR PRADESH", "BHADOHI", "textiles_garments", 900_000.0),
    ("UTTAR PRADESH", "BHADOHI", "furniture", 100_000.0),
    ("UTTAR PRADESH", "ALIGARH", "agri_livestock_other", 700_000.0),
    ("UTTAR PRADESH", "ALIGARH", "metals", 210_000.0),
    ("UTTAR PRADESH", "ALIGARH", "electronics", 90_000.0),
    ("UTTAR PRADESH", "MORADABAD", "metals", 800_000.0),
    ("UTTAR PRADESH", "MORADABAD", "textiles_garments", 200_000.0),
    ("UTTAR PRADESH", "KANPUR NAGAR", "leather", 500_000.0),
    ("UTTAR PRADESH", "KANPUR NAGAR", "agri_livestock_other", 500_000.0),
]


def _list(rows):
    return pd.DataFrame([{"state": s, "district": d, "product": p, "list": LIST} for s, d, p in rows])


PRODUCTS = _list([
    ("Uttar Pradesh", "Bhadohi", "Hand knotted woollen carpets"),
    ("Uttar Pradesh", "Aligarh", "Brass handicrafts"),
    ("Uttar Pradesh", "Moradabad", "Tourism"),
    ("Uttar Pradesh", "Nowhere Nagar", "Wooden toys"),
])


@pytest.fixture(scope="module")
def sector_result(classifier, ref_data):
    return score_districts(PRODUCTS, _sector_exports(SECTOR_ROWS), classifier=classifier,
                           data_dir=ref_data)


def _district(result, name):
    return result.districts.set_index("district").loc[name]


def test_a_list_with_its_top_export_is_aligned(sector_result):
    bhadohi = _district(sector_result, "Bhadohi")
    assert bhadohi["alignment"] == "aligned" and bhadohi["top_export"] == "textiles_garments"
    assert bhadohi["coverage"] == pytest.approx(0.9)
    assert bhadohi["herfindahl"] == pytest.approx(0.81 + 0.01)
    assert bhadohi["dominated_by"] == "one product"


def test_a_list_missing_its_top_export_is_divergent_and_gets_it_recommended(sector_result):
    aligarh = _district(sector_result, "Aligarh")
    assert aligarh["alignment"] == "divergent"
    assert aligarh["coverage"] == pytest.approx(0.21)
    recs = sector_result.recommendations
    top = recs[(recs["district"] == "Aligarh") & (recs["recommendation"] == "top export not listed")]
    assert top.iloc[0]["code"] == "agri_livestock_other"
    assert top.iloc[0]["share_of_district"] == pytest.approx(0.7)
    # RCA: 70% of Aligarh's exports against 1.2 M of 4 M (30%) nationally.
    assert top.iloc[0]["rca"] == pytest.approx(0.7 / 0.3, rel=1e-3)
    flags = sector_result.flags
    missing = flags[(flags["district"] == "Aligarh") & (flags["flag_type"] == "missing_top_export")]
    assert list(missing["code"]) == ["agri_livestock_other"]
    assert json.loads(missing.iloc[0]["evidence_json"])["top_exports"][0]["code"] == "agri_livestock_other"


def test_products_carry_their_exports_and_shares(sector_result):
    products = sector_result.products.set_index("district")
    carpets = products.loc["Bhadohi"]
    assert carpets["kind"] == "goods" and carpets["code"] == "57011010"
    assert carpets["level"] == "sector" and carpets["share_of_district"] == pytest.approx(0.9)
    # Bhadohi's textiles against all districts' textiles (0.9 M of 1.1 M).
    assert carpets["district_share_of_india"] == pytest.approx(0.9 / 1.1, rel=1e-4)
    assert carpets["rank_in_district"] == 1


def test_services_and_unmatched_districts_are_flagged_not_scored(sector_result):
    flags = sector_result.flags
    assert set(flags.loc[flags["district"] == "Moradabad", "flag_type"]) >= {"service"}
    assert _district(sector_result, "Moradabad")["alignment"] == "not checked"
    assert set(flags.loc[flags["district"] == "Nowhere Nagar", "flag_type"]) == {"unmatched_district"}
    assert _district(sector_result, "Nowhere Nagar")["alignment"] == "not checked"


def test_flag_ids_are_stable_across_runs_and_differ_by_list(classifier, ref_data, sector_result):
    again = score_districts(PRODUCTS, _sector_exports(SECTOR_ROWS), classifier=classifier,
                            data_dir=ref_data)
    assert list(again.flags["flag_id"]) == list(sector_result.flags["flag_id"])
    assert sector_result.flags["flag_id"].is_unique
    other = PRODUCTS.assign(list="another list")
    renamed = score_districts(other, _sector_exports(SECTOR_ROWS), classifier=classifier,
                              data_dir=ref_data)
    assert not set(renamed.flags["flag_id"]) & set(sector_result.flags["flag_id"])


def test_a_reviewers_correction_overrides_the_classifier(classifier, ref_data):
    corrected = {"Brass handicrafts": Override("goods", ("61091000",), "it is hosiery")}
    result = score_districts(PRODUCTS, _sector_exports(SECTOR_ROWS), classifier=classifier,
                             overrides=corrected, data_dir=ref_data)
    row = result.products.set_index("district").loc["Aligarh"]
    assert row["code"] == "61091000" and bool(row["overridden"])
    assert "reviewer" in row["classifier_reason"]


def test_one_bad_district_does_not_stop_the_run(classifier, ref_data, monkeypatch):
    from hsmatch import align

    original = align._Scorer.score_group

    def failing(self, list_name, state, district, rows, resolved):
        if district == "Aligarh":
            raise RuntimeError("boom")
        return original(self, list_name, state, district, rows, resolved)

    monkeypatch.setattr(align._Scorer, "score_group", failing)
    result = score_districts(PRODUCTS, _sector_exports(SECTOR_ROWS), classifier=classifier,
                             data_dir=ref_data)
    errors = result.flags[result.flags["flag_type"] == "scoring_error"]
    assert list(errors["district"]) == ["Aligarh"] and "boom" in errors.iloc[0]["message"]
    assert {"Bhadohi", "Moradabad", "Nowhere Nagar"} <= set(result.districts["district"])


def test_hs8_exports_are_compared_at_hs8_and_negligible_ones_flagged(classifier, ref_data):
    exports = pd.DataFrame([
        {"state": "HARYANA", "district": "KARNAL", "code": code, "level": "hs8", "value_usd": value,
         "year": "2024-25", "synthetic": "True"}
        for code, value in (("10063020", 900_000.0), ("10063090", 95_000.0), ("95030030", 5_000.0))])
    products = _list([("Haryana", "Karnal", "Basmati Rice"), ("Haryana", "Karnal", "Wooden toys")])
    result = score_districts(products, exports, classifier=classifier, data_dir=ref_data)
    rows = result.products.set_index("product")
    assert rows.loc["Basmati Rice", "level"] == "hs8"
    assert rows.loc["Basmati Rice", "share_of_district"] == pytest.approx(0.9)
    assert rows.loc["Wooden toys", "share_of_district"] == pytest.approx(0.005)
    flagged = result.flags[result.flags["flag_type"] == "not_exported"]
    assert list(flagged["product"]) == ["Wooden toys"]
    district = result.districts.iloc[0]
    assert district["level"] == "hs4" and district["top_export"] == "1006"
    assert district["alignment"] == "aligned" and result.meta["synthetic"] is True


def test_outputs_are_written_and_the_report_escapes_input(classifier, ref_data, tmp_path):
    nasty = _list([("Uttar Pradesh", "Bhadohi", "<script>alert('x')</script> carpets")])
    result = score_districts(nasty, _sector_exports(SECTOR_ROWS), classifier=classifier,
                             data_dir=ref_data)
    written = write_outputs(result, tmp_path)
    for name in ("districts", "products", "recommendations", "flags"):
        assert (tmp_path / f"{name}.csv").is_file() and (tmp_path / f"{name}.parquet").is_file()
        assert len(pd.read_parquet(tmp_path / f"{name}.parquet")) == len(getattr(result, name))
    html = written["report"].read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "real DGCI&amp;S data" in html and "sector" in html


def test_product_space_matches_a_hand_computation():
    frame = pd.DataFrame([
        {"state": "S", "district": d, "code": c, "value_usd": v}
        for d, c, v in (("A", "x", 8.0), ("A", "y", 2.0), ("B", "x", 2.0), ("B", "y", 8.0),
                        ("C", "x", 5.0), ("C", "z", 5.0))])
    space = product_space(frame)
    x, z = space.column("x"), space.column("z")
    a = space.row("S", "A")
    # x is 15/30 of all exports; A exports 8/10 in x: RCA 1.6.
    assert space.rca[a, x] == pytest.approx(1.6)
    # x has RCA >= 1 in A and C, z in C only: proximity = 1 / max(2, 1).
    assert space.proximity[x, z] == pytest.approx(0.5)
    assert space.proximity[x, x] == 0.0
    assert np.all(space.density >= 0) and np.all(space.density <= 1)
    # For B (RCA only in y), x and z are not close to y at all.
    b = space.row("S", "B")
    assert space.density[b, z] == pytest.approx(0.0)
    assert space.neighbours(a, z) == [("x", pytest.approx(0.5))]
