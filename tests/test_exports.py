"""District exports: the tidy schema, the real sector file's format, validation, roll-ups."""

from pathlib import Path

import pandas as pd
import pytest

from hsmatch.errors import CodeError, DataError, InputError
from hsmatch.exports import (
    EXPORT_COLUMNS,
    SECTORS,
    concentration,
    district_totals,
    read_district_exports,
    rollup,
    sector_chapters,
    sector_of,
    validate_exports,
)

SECTOR_HEADER = "state,district,sector,sector_label,hs2_chapters,export_usd,export_inr,fy"


def write(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n")
    return path


def sector_file(tmp_path: Path) -> Path:
    return write(tmp_path / "district_sector.csv", f"""
{SECTOR_HEADER}
HARYANA,KARNAL,food_grains,Grains & Cereals (HS 10–11),10;11,2400000000,200000000000,2024-25
HARYANA,KARNAL,machinery,Machinery & Machines (HS 84),84,46000000,3800000000,2024-25
GUJARAT,JAMNAGAR,mineral_products,"Minerals, Ores & Fuels (HS 25–27)",25;26;27,32600000000,1,2024-25
UNSPECIFIED,UNSPECIFIED,food_grains,Grains & Cereals (HS 10–11),10;11,1000,1,2024-25
""")


def tidy(rows: list[str]) -> str:
    return "state,district,code,level,value_usd,year\n" + "\n".join(rows)


def test_the_sector_file_loads_as_it_is(tmp_path):
    loaded = read_district_exports(sector_file(tmp_path), check_codes=False)
    frame = loaded.frame
    assert list(frame.columns[:7]) == list(EXPORT_COLUMNS)
    assert set(frame["level"]) == {"sector"}
    assert frame["code"].tolist() == ["food_grains", "machinery", "mineral_products", "food_grains"]
    assert frame["hs2_chapters"][0] == "10;11"  # kept, so a code can be joined to its sector
    assert frame["sector"].tolist() == frame["code"].tolist()
    assert frame["value_usd"].dtype.kind == "f" and frame["value_usd"][2] == 32.6e9
    assert not frame["synthetic"].any()
    assert loaded.warnings == [] and loaded.years == ["2024-25"]


def test_any_granularity_loads_with_text_codes(tmp_path, ref_data):
    path = write(tmp_path / "mixed.csv", tidy([
        "Haryana,Karnal,10063020,hs8,100,2024-25",
        "Kerala,Alappuzha,030617,hs6,50,2024-25",
        "Kerala,Alappuzha,0306,hs4,5,2024-25",
        "Kerala,Alappuzha,03,hs2,1,2024-25",
        "Kerala,Alappuzha,food_fresh,sector,7,2024-25",
    ]))
    frame = read_district_exports(path, data_dir=ref_data).frame
    assert frame["code"].tolist() == ["10063020", "030617", "0306", "03", "food_fresh"]
    assert frame["sector"].tolist() == ["food_grains", "agri_livestock_other",
                                        "agri_livestock_other", "agri_livestock_other",
                                        "food_fresh"]
    assert frame["state"].tolist()[:2] == ["HARYANA", "KERALA"]


def test_parquet_round_trip(tmp_path):
    frame = read_district_exports(sector_file(tmp_path), check_codes=False).frame
    path = tmp_path / "x.parquet"
    frame.drop(columns=["source_line"]).to_parquet(path)
    again = read_district_exports(path, check_codes=False).frame
    assert again["value_usd"].tolist() == frame["value_usd"].tolist()
    assert again["code"].tolist() == frame["code"].tolist()


def test_sector_of_a_code():
    assert sector_of("10063020") == "food_grains"
    assert sector_of("85") == "electronics"
    assert sector_of("2710.19.44") == "mineral_products"
    assert sector_of("37011010") is None  # chapter 37 is in no sector
    assert sector_chapters("toys") == ("95",)
    with pytest.raises(CodeError):
        sector_of(10063020)
    with pytest.raises(InputError, match="unknown sector 'spices'"):
        sector_chapters("spices")
    covered = [ch for s in SECTORS.values() for ch in s.chapters]
    assert len(covered) == len(set(covered)) == 95  # chapters 01-97 less 37 and 77


BAD_ROWS = [
    ("Haryana,Karnal,spices,sector,10,2024-25", "code", "unknown sector 'spices'"),
    ("Haryana,Karnal,1006302,hs8,10,2024-25", "code", "read as numbers"),
    ("Haryana,Karnal,10063020,hs6,10,2024-25", "code", "expected a subheading"),
    ("Haryana,Karnal,10063020,hs9,10,2024-25", "level", "not one of"),
    ("Haryana,Karnal,10063020,hs8,-5,2024-25", "value_usd", "negative value -5"),
    ("Haryana,Karnal,10063020,hs8,lots,2024-25", "value_usd", "'lots' is not a number"),
    ("Haryana,Karnal,10063020,hs8,,2024-25", "value_usd", "is not a number"),
    ("Haryana,Karnal,10063020,hs8,10,2024", "year", "not a financial year"),
    ("Hariyana,Karnal,10063020,hs8,10,2024-25", "state", "closest: HARYANA"),
    ("Haryana,,10063020,hs8,10,2024-25", "district", "empty district"),
]


@pytest.mark.parametrize(("row", "column", "words"), BAD_ROWS)
def test_bad_rows_are_errors_naming_the_line(tmp_path, row, column, words):
    path = write(tmp_path / "x.csv", tidy(["Haryana,Karnal,10063010,hs8,10,2024-25", row]))
    with pytest.raises(DataError, match=r"x\.csv, line 3, column") as caught:
        read_district_exports(path, check_codes=False)
    assert words in str(caught.value) and repr(column) in str(caught.value)


def test_lenient_load_keeps_every_row_with_one_warning_each(tmp_path):
    rows = ["Haryana,Karnal,10063010,hs8,10,2024-25"] + [r for r, _, _ in BAD_ROWS]
    path = write(tmp_path / "x.csv", tidy(rows))
    loaded = read_district_exports(path, strict=False, check_codes=False)
    assert len(loaded.frame) == len(rows)  # nothing dropped
    assert sorted({w.line for w in loaded.warnings}) == list(range(3, len(rows) + 2))


def test_duplicated_rows_name_the_first(tmp_path):
    path = write(tmp_path / "x.csv", tidy([
        "Haryana,Karnal,10063020,hs8,10,2024-25",
        "Haryana,Panipat,10063020,hs8,10,2024-25",
        "HARYANA,KARNAL,1006.30.20,hs8,12,2024-25",
    ]))
    with pytest.raises(DataError, match="line 4, column 'code': duplicate of line 2"):
        read_district_exports(path, check_codes=False)


def test_unknown_codes_are_errors_when_the_nomenclature_is_at_hand(tmp_path, ref_data):
    path = write(tmp_path / "x.csv", tidy(["Haryana,Karnal,10063020,hs8,10,2024-25",
                                           "Haryana,Karnal,99999999,hs8,10,2024-25"]))
    with pytest.raises(DataError, match=r"line 3.*99999999 is not in the nomenclature"):
        read_district_exports(path, data_dir=ref_data)
    assert len(read_district_exports(path, check_codes=False).frame) == 2


def test_two_spellings_of_a_state_are_a_warning(tmp_path):
    path = write(tmp_path / "x.csv", tidy(["Odisha,Puri,03,hs2,10,2024-25",
                                           "Orissa,Cuttack,03,hs2,10,2024-25"]))
    loaded = read_district_exports(path, check_codes=False)  # strict: still loads
    assert loaded.frame["state"].tolist() == ["ODISHA", "ODISHA"]
    assert len(loaded.warnings) == 1 and loaded.warnings[0].line == 3
    assert "'Orissa' here and 'Odisha'" in loaded.warnings[0].message


def test_sector_rows_must_keep_their_chapters(tmp_path):
    text = sector_file(tmp_path).read_text().replace("machinery,Machinery & Machines (HS 84),84",
                                                      "machinery,Machinery & Machines (HS 84),85")
    path = write(tmp_path / "y.csv", text)
    with pytest.raises(DataError, match=r"line 3, column 'hs2_chapters'.*holds chapters 84"):
        read_district_exports(path, check_codes=False)


def test_missing_columns_say_which_schemas_are_accepted(tmp_path):
    path = write(tmp_path / "x.csv", "state,district,value\nHaryana,Karnal,1\n")
    with pytest.raises(DataError, match=r"missing column\(s\).*sector file"):
        read_district_exports(path, check_codes=False)


def test_rollup_sums_to_every_level(tmp_path):
    frame = validate_exports(pd.DataFrame({
        "state": ["Haryana"] * 4, "district": ["Karnal"] * 4,
        "code": ["10063020", "10063010", "11010000", "10"],
        "level": ["hs8", "hs8", "hs8", "hs2_residual"],
        "value_usd": [5.0, 3.0, 2.0, 1.0], "year": ["2024-25"] * 4, "synthetic": ["true"] * 4,
    })).frame
    six = rollup(frame, "hs6")
    assert dict(zip(six["code"], six["value_usd"], strict=True)) == {
        "100630": 8.0, "110100": 2.0, "10": 1.0}
    assert set(six["level"]) == {"hs6", "hs2_residual"}
    two = rollup(frame, "hs2")
    assert dict(zip(two["code"], two["value_usd"], strict=True)) == {"10": 9.0, "11": 2.0}
    sector = rollup(frame, "sector")
    assert sector["code"].tolist() == ["food_grains"] and sector["value_usd"][0] == 11.0
    assert sector["synthetic"].all()
    with pytest.raises(InputError):
        rollup(frame, "hs8")


def test_concentration_tables():
    rows = []
    for i in range(25):
        rows.append({"state": "A" if i % 2 else "B", "district": f"D{i:02d}",
                     "code": "toys" if i % 3 else "auto", "sector": "toys" if i % 3 else "auto",
                     "value_usd": float(100 - i), "level": "sector", "year": "2024-25"})
    rows.append({"state": "UNSPECIFIED", "district": "UNSPECIFIED", "code": "toys",
                 "sector": "toys", "value_usd": 500.0, "level": "sector", "year": "2024-25"})
    frame = pd.DataFrame(rows)
    total = frame["value_usd"].sum()
    named = concentration(frame, bracket=10, last_bracket_from=21)
    assert named["top10_share"] == pytest.approx(sum(range(91, 101)) / total)
    assert named["brackets"]["ranks"].tolist() == ["1-10", "11-20", "21+"]
    assert named["brackets"]["districts"].tolist() == [10, 10, 5]
    assert named["states"].set_index("state").loc["B", "top_district"] == "D00"
    assert named["states"].set_index("state").loc["B", "largest_sector"] == "auto"
    everything = concentration(frame, include_unspecified=True)
    assert everything["top10_share"] > named["top10_share"]
    totals = district_totals(frame)
    assert totals["rank"].tolist()[:2] == [1, 2] and totals["district"][0] == "UNSPECIFIED"
    assert totals["cum_share"].iloc[-1] == pytest.approx(1.0)


@pytest.mark.slow
def test_real_sector_file_and_the_published_facts(real_data):
    from hsmatch.exports import load_sector_exports

    loaded = load_sector_exports(real_data)
    frame = loaded.frame
    assert loaded.warnings == []
    assert len(frame) == 8702 and set(frame["code"]) == set(SECTORS)
    assert frame["value_usd"].sum() == pytest.approx(437.66e9, rel=1e-4)
    facts = concentration(frame, include_unspecified=True)
    assert facts["districts"] == 697
    assert facts["top10_share"] == pytest.approx(0.342, abs=5e-4)
    assert facts["top100_share"] == pytest.approx(0.878, abs=5e-4)
    assert facts["districts_for_half"] == 21
    assert facts["districts_under_1m"] == 136
    top = concentration(frame)["states"].set_index("state")
    assert top.loc["GUJARAT", "top_district"] == "JAMNAGAR"
    assert top.loc["GUJARAT", "largest_sector"] == "mineral_products"
