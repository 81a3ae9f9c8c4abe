"""The synthetic district x HS8 stand-in: margins, determinism, anchors, sparsity."""

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from hsmatch.cli import cli
from hsmatch.errors import DataError, InputError
from hsmatch.exports import read_district_exports, validate_exports
from hsmatch.synth import Anchor, SynthParams, sidecar_path, synth_exports, synthesize

YEAR = "2024-25"
# National exports, USD million: (code, FY2024-25, FY2018-19). Chapter 37 is in no sector.
NATIONAL = [
    ("10063020", 500.0, 300.0), ("10063010", 300.0, 200.0), ("10019910", 50.0, 40.0),
    ("10059000", 0.05, 0.0), ("11010000", 20.0, 10.0),
    ("85176290", 100.0, 60.0), ("85044090", 140.0, 30.0), ("85365090", 0.01, 0.0),
    ("27101290", 200.0, 500.0), ("25232930", 10.0, 20.0), ("26011142", 30.0, 10.0),
    ("37011010", 1.0, 1.0),
]
# District x sector exports, USD: grains 900 M (97% covered), electronics 500 M (28%),
# minerals 400 M (60%).
DISTRICTS = [
    ("HARYANA", "KARNAL", "food_grains", 600e6), ("HARYANA", "PANIPAT", "food_grains", 150e6),
    ("PUNJAB", "AMRITSAR", "food_grains", 149_995_000.0), ("PUNJAB", "MOGA", "food_grains", 5e3),
    ("HARYANA", "KARNAL", "electronics", 1e6), ("TAMIL NADU", "KANCHIPURAM", "electronics", 450e6),
    ("TAMIL NADU", "CHENNAI", "electronics", 48_990_000.0),
    ("PUNJAB", "MOGA", "electronics", 10e3),
    ("GUJARAT", "JAMNAGAR", "mineral_products", 350e6),
    ("HARYANA", "PANIPAT", "mineral_products", 49_900_000.0),
    ("TAMIL NADU", "CHENNAI", "mineral_products", 100e3),
]
ANCHORS = (
    Anchor("HARYANA", "KARNAL", "food_grains", ("10063020",), (), 0.5, "basmati"),
    Anchor("GUJARAT", "JAMNAGAR", "mineral_products", ("2710",), ("27",), 0.9, "refinery"),
)


def national_frame() -> pd.DataFrame:
    rows = []
    for code, now, then in NATIONAL:
        rows.append({"code": code, "fy": YEAR, "export_usd_million": str(now)})
        rows.append({"code": code, "fy": "2018-19", "export_usd_million": str(then)})
    return pd.DataFrame(rows)


def district_frame(rows=DISTRICTS) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["state", "district", "code", "value_usd"])
    frame["level"] = "sector"
    frame["year"] = YEAR
    return validate_exports(frame).frame


@pytest.fixture(scope="module")
def result():
    return synthesize(district_frame(), national_frame(), SynthParams(seed=3, anchors=ANCHORS))


def test_both_margins_hold(result):
    frame = result.frame
    got = frame.groupby(["district", "sector"])["value_usd"].sum()
    for _state, district, sector, value in DISTRICTS:
        assert got[(district, sector)] == pytest.approx(value, rel=1e-3), (district, sector)
    hs8 = frame[frame["level"] == "hs8"].groupby("code")["value_usd"].sum()
    for code, now, _ in NATIONAL:
        if code.startswith("37"):
            continue
        assert hs8[code] == pytest.approx(now * 1e6, rel=1e-3), code
    margins = result.report["margins"]
    assert margins["district_sector_max_rel_error"] < 1e-3
    assert margins["national_hs8_max_rel_error"] < 1e-3
    assert frame["value_usd"].sum() == pytest.approx(sum(d[3] for d in DISTRICTS), rel=1e-9)


def test_residuals_are_labelled_per_chapter(result):
    frame = result.frame
    residual = frame[frame["level"] == "hs2_residual"]
    assert set(residual["code"]) <= {"10", "11", "85", "25", "26", "27"}
    by_chapter = residual.groupby("code")["value_usd"].sum()
    # Electronics: 500 M in districts, 240.01 M in national codes, all in chapter 85.
    assert by_chapter["85"] == pytest.approx(500e6 - 240.01e6, rel=1e-6)
    # Minerals: chapter 27 fell from 500 to 200 since FY2018-19, so the gap is mostly there.
    assert by_chapter["27"] > 10 * by_chapter.get("25", 0.0)
    assert result.report["residual_usd_by_chapter"]["85"] == pytest.approx(by_chapter["85"])


def test_every_row_is_synthetic_and_in_the_tidy_schema(result):
    frame = result.frame
    assert frame["synthetic"].all()
    assert set(frame["level"]) == {"hs8", "hs2_residual"}
    assert (frame["value_usd"] > 0).all()
    assert not frame.duplicated(["state", "district", "code", "level"]).any()
    assert validate_exports(frame.astype({"synthetic": str})).warnings == []


def test_unsectored_codes_are_reported_not_allocated(result):
    assert not result.frame["code"].str.startswith("37").any()
    unallocated = result.report["unallocated_national"]
    assert unallocated["codes"] == ["37011010"] and unallocated["usd"] == pytest.approx(1e6)


def test_anchors_are_pinned(result):
    frame = result.frame.set_index(["district", "code"])
    assert frame.loc[("KARNAL", "10063020"), "value_usd"] == pytest.approx(0.5 * 600e6, rel=1e-9)
    assert frame.loc[("KARNAL", "10063020"), "anchored"]
    jamnagar = result.frame[(result.frame["district"] == "JAMNAGAR")]
    pinned = jamnagar[jamnagar["anchored"]]
    assert set(pinned["code"]) == {"27101290", "27"}
    assert pinned["value_usd"].sum() == pytest.approx(0.9 * 350e6, rel=1e-9)
    applied = [a for a in result.report["anchors"] if a["applied"]]
    assert len(applied) == 2


def test_small_districts_export_few_codes_large_ones_many(result):
    counts = result.frame.groupby("district")["code"].size()
    assert counts["MOGA"] <= 3
    assert counts["KARNAL"] > counts["MOGA"] and counts["KANCHIPURAM"] > counts["MOGA"]
    params = SynthParams()
    assert params.codes_for(pd.Series([1e4, 1e6, 1e8, 1e10]).to_numpy()).tolist() == [
        1, 7, 44, 288]


def test_same_seed_same_table_other_seed_other_table():
    districts, national = district_frame(), national_frame()
    one = synthesize(districts, national, SynthParams(seed=11, anchors=ANCHORS)).frame
    two = synthesize(districts, national, SynthParams(seed=11, anchors=ANCHORS)).frame
    other = synthesize(districts, national, SynthParams(seed=12, anchors=ANCHORS)).frame
    pd.testing.assert_frame_equal(one, two)
    assert not one.equals(other)


def test_full_coverage_needs_no_residual():
    rows = [("HARYANA", "KARNAL", "food_grains", 600e6), ("PUNJAB", "MOGA", "food_grains", 270.05e6)]
    national = national_frame()
    national = national[national["code"].str.startswith(("10", "11"))]
    out = synthesize(district_frame(rows), national, SynthParams(anchors=()))
    assert set(out.frame["level"]) == {"hs8"}
    assert out.report["margins"]["national_hs8_max_rel_error"] < 1e-6


def test_inconsistent_tables_are_refused():
    small = [("HARYANA", "KARNAL", "food_grains", 100e6)]  # less than the national 870 M
    with pytest.raises(DataError, match=r"food_grains.*cannot both hold"):
        synthesize(district_frame(small), national_frame(), SynthParams(anchors=()))
    other_year = national_frame().assign(fy="2023-24")
    with pytest.raises(DataError, match="no rows for 2024-25"):
        synthesize(district_frame(), other_year, SynthParams(anchors=()))
    with pytest.raises(InputError, match="share"):
        SynthParams(anchors=(Anchor("HARYANA", "KARNAL", "food_grains", ("1006",), (), 1.5, ""),))


def write_inputs(tmp_path: Path) -> tuple[Path, Path]:
    exports = tmp_path / "sectors.csv"
    pd.DataFrame([{"state": s, "district": d, "sector": c, "export_usd": str(v), "fy": YEAR}
                  for s, d, c, v in DISTRICTS]).to_csv(exports, index=False)
    national = tmp_path / "national.csv"
    national_frame().to_csv(national, index=False)
    return exports, national


def test_files_and_sidecar(tmp_path):
    exports, national = write_inputs(tmp_path)
    out = tmp_path / "out" / "hs8.csv"
    result = synth_exports(out, params=SynthParams(seed=5, anchors=ANCHORS),
                           exports_path=exports, national_path=national)
    meta = json.loads(sidecar_path(out).read_text())
    assert meta["seed"] == 5 and meta["params"]["elasticity"] == 0.41
    assert meta["margins"]["district_sector_max_rel_error"] < 1e-3
    assert meta["inputs"]["national_hs8"]["sha256"]
    again = read_district_exports(out, check_codes=False)
    assert again.warnings == [] and again.frame["synthetic"].all()
    assert len(again.frame) == len(result.frame)
    assert again.frame["code"].str.len().isin([2, 8]).all()  # leading zeros survive
    with pytest.raises(InputError, match=r"use a \.csv"):
        synth_exports(tmp_path / "x.txt", exports_path=exports, national_path=national)


def test_cli(tmp_path, ref_data):
    exports, national = write_inputs(tmp_path)
    out = tmp_path / "hs8.parquet"
    result = CliRunner().invoke(cli, ["--data", str(ref_data), "synth-exports", "--out", str(out),
                                      "--seed", "2", "--exports", str(exports),
                                      "--national", str(national)])
    assert result.exit_code == 0, result.output
    assert "largest relative margin error" in result.output
    assert out.is_file() and sidecar_path(out).is_file()
    assert pd.read_parquet(out)["synthetic"].all()


@pytest.mark.slow
def test_real_stand_in(real_data, tmp_path):
    out = tmp_path / "hs8.parquet"
    result = synth_exports(out, data_dir=real_data)
    margins = result.report["margins"]
    assert margins["district_sector_max_rel_error"] < 1e-3
    assert margins["national_hs8_max_rel_error"] < 1e-3
    assert margins["residual_max_rel_error"] < 1e-3
    assert margins["total_usd"] == pytest.approx(margins["district_total_usd"], rel=1e-6)
    frame = result.frame
    assert frame["synthetic"].all() and frame[["state", "district"]].drop_duplicates().shape[0] == 697
    karnal = frame[(frame["district"] == "KARNAL") & (frame["code"] == "10063020")]
    assert karnal["anchored"].all()
    assert karnal["value_usd"].sum() == pytest.approx(0.8 * 2_399_759_749, rel=1e-6)
    assert all(a["applied"] for a in result.report["anchors"])
    bands = {b["band_usd"]: b["median_codes"] for b in result.report["sparsity"]}
    assert bands["< 100k"] < 10 < bands["100M-1bn"]


def test_a_stalled_fit_opens_its_sectors_and_still_holds():
    # One code per district and no capacity repairs: the draw leaves no room to fit.
    params = SynthParams(seed=0, anchors=ANCHORS, elasticity=0.0, capacity_slack=1e-9,
                         max_iterations=300)
    out = synthesize(district_frame(), national_frame(), params)
    assert out.report["ipf"]["fallback_sectors"]
    assert out.report["counts"]["fallback_cells"] > 0
    assert out.report["margins"]["district_sector_max_rel_error"] < 1e-3
    assert out.report["margins"]["national_hs8_max_rel_error"] < 1e-3
