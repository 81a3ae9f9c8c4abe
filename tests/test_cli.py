import json

import pytest
from click.testing import CliRunner

from hsmatch.cli import cli


@pytest.fixture()
def run(fixture_models, ref_data, training_dir, monkeypatch):
    monkeypatch.setenv("HSMATCH_TRAINING_DATA", str(training_dir))
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, ["--data", str(ref_data), "--models", str(fixture_models), *args])

    return invoke


def test_classify_table(run):
    result = run("classify", "Basmati rice")
    assert result.exit_code == 0, result.output
    assert "10063020" in result.output and "kind: goods" in result.output


def test_classify_json(run):
    result = run("classify", "Basmati rice", "--json", "--k", "3")
    payload = json.loads(result.output)
    assert payload["code"] == "10063020" and len(payload["candidates"]) == 3


def test_classify_file(run, tmp_path):
    source = tmp_path / "names.csv"
    source.write_text("district,product\nKarnal,Basmati rice\nX,\nGoa,Tourism\n")
    out = tmp_path / "matches.csv"
    result = run("classify", "--input", str(source), "--column", "product", "--out", str(out))
    assert result.exit_code == 0, result.output
    import pandas as pd

    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(frame["district"]) == ["Karnal", "X", "Goa"]
    assert list(frame["hs_kind"]) == ["goods", "unknown", "service"]
    assert frame["hs_code"][0] == "10063020"


def test_missing_column_is_one_clear_error(run, tmp_path):
    source = tmp_path / "names.csv"
    source.write_text("name\nrice\n")
    result = run("classify", "--input", str(source), "--column", "product", "--out", str(tmp_path / "o.csv"))
    assert result.exit_code == 1
    assert "column 'product' not found" in result.output and "--column" in result.output
    assert "Traceback" not in result.output


def test_bad_encoding_is_one_clear_error(run, tmp_path):
    source = tmp_path / "names.csv"
    source.write_bytes("product\nCaf\xe9\n".encode("latin-1"))
    result = run("classify", "--input", str(source), "--out", str(tmp_path / "o.csv"))
    assert result.exit_code == 1 and "--encoding" in result.output


def test_no_names(run):
    result = run("classify")
    assert result.exit_code == 1 and "give at least one name" in result.output


def test_missing_model_is_one_clear_error(ref_data, tmp_path, training_dir, monkeypatch):
    monkeypatch.setenv("HSMATCH_TRAINING_DATA", str(training_dir))
    from hsmatch import classify as classify_module

    monkeypatch.setattr(classify_module, "build_index", lambda **kw: (_ for _ in ()).throw(
        classify_module.ModelError("no built index; run `hsmatch build`")))
    result = CliRunner().invoke(cli, ["--data", str(ref_data), "--models", str(tmp_path), "classify", "rice"])
    assert result.exit_code == 1 and "hsmatch build" in result.output


def test_readme_lists_every_command():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for name in cli.commands:
        assert f"hsmatch {name}" in readme, name


def test_score_writes_tables_and_report(run, tmp_path):
    lists = tmp_path / "lists.csv"
    lists.write_text("state,district,product\nUttar Pradesh,Bhadohi,Bhadohi rugs\n"
                     "Uttar Pradesh,Nowhere,Wooden toys\n")
    exports = tmp_path / "exports.csv"
    exports.write_text("state,district,code,level,value_usd,year\n"
                       "UTTAR PRADESH,BHADOHI,textiles_garments,sector,900000,2024-25\n")
    out = tmp_path / "score"
    result = run("score", "--products", str(lists), "--exports", str(exports), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "scored 2 district lists" in result.output
    assert (out / "report.html").is_file() and (out / "flags.parquet").is_file()
