from pathlib import Path

import pytest

from hsmatch import data, paths
from hsmatch.errors import DataError


def test_data_dir_order(ref_data, tmp_path, monkeypatch):
    monkeypatch.setenv("HSMATCH_DATA", str(ref_data))
    assert paths.data_dir() == ref_data
    assert paths.data_dir(ref_data) == ref_data
    with pytest.raises(DataError, match="no hs/ subfolder"):
        paths.data_dir(tmp_path)
    monkeypatch.setenv("HSMATCH_DATA", str(tmp_path))
    with pytest.raises(DataError, match="from HSMATCH_DATA"):
        paths.data_dir()


def test_every_reference_file_loads_with_text_codes(ref_data):
    for name in ("hs/itchs8.csv", "hs/itchs8_all.csv", "hs/hs6.csv", "hs/hs_headings.csv",
                 "hs/hs_chapters.csv", "hs/hs_sections.csv", "hs/sac.csv", "hs/hs2022_hs2017.csv",
                 "hs/india_exports_hs8.csv"):
        frame = data.load_table(name, ref_data)
        assert len(frame) > 0
    lines = data.load_table("hs/itchs8.csv", ref_data)
    assert lines["code"].str.len().eq(8).all()
    assert "03061790" in set(lines["code"])  # the leading zero survives
    exports = data.load_table("hs/india_exports_hs8.csv", ref_data)
    assert exports["export_usd_million"].dtype.kind == "f"


def _copy_with(ref_data: Path, tmp_path: Path, name: str, edit) -> Path:
    import shutil

    root = tmp_path / "data"
    shutil.copytree(ref_data, root)
    path = root / name
    path.write_text(edit(path.read_text()))
    return root


def test_missing_column_is_named(ref_data, tmp_path):
    root = _copy_with(ref_data, tmp_path, "hs/hs_chapters.csv",
                      lambda text: text.replace("description_india", "desc_in", 1))
    with pytest.raises(DataError, match=r"missing column\(s\) \['description_india'\]"):
        data.load_table("hs/hs_chapters.csv", root)


def test_codes_read_as_numbers_are_detected(ref_data, tmp_path):
    # What a spreadsheet does to "03061790": 3061790.
    root = _copy_with(ref_data, tmp_path, "hs/itchs8.csv",
                      lambda text: text.replace("\n03038990,", "\n3038990,", 1))
    with pytest.raises(DataError, match="was the column read as numbers"):
        data.load_table("hs/itchs8.csv", root)


def test_codes_through_a_float_are_detected(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("code,fy,export_usd_million\n10063020.0,2024-25,1\n")
    frame = data.read_csv_text(path)
    with pytest.raises(DataError, match="line 2"):
        data.validate_frame(frame, data.SCHEMAS["hs/india_exports_hs8.csv"], label="x.csv")


def test_non_numeric_value_is_named(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("code,fy,export_usd_million\n10063020,2024-25,lots\n")
    with pytest.raises(DataError, match="'lots', not a number"):
        data.validate_frame(data.read_csv_text(path), data.SCHEMAS["hs/india_exports_hs8.csv"],
                            label="x.csv")


def test_unreadable_encoding_says_how_to_fix(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("product\nCaf\xe9 coffee\n".encode("latin-1"))
    with pytest.raises(DataError, match="re-save it as UTF-8 or pass its encoding"):
        data.read_csv_text(path)
    assert data.read_csv_text(path, encoding="latin-1")["product"][0] == "Café coffee"


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        data.read_csv_text(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="empty"):
        data.read_csv_text(tmp_path / "empty.csv")
