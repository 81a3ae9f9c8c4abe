import json
import shutil

import pytest

from hsmatch.errors import ModelError
from hsmatch.index import INDEX_FILE, INDEX_FORMAT, check_manifest, load_index


def _copy_models(fixture_models, tmp_path):
    target = tmp_path / "models"
    shutil.copytree(fixture_models, target)
    return target


def test_manifest_records_sources_and_versions(fixture_models):
    manifest = json.loads((fixture_models / "index" / "manifest.json").read_text())
    assert manifest["format"] == INDEX_FORMAT
    assert "hs/itchs8.csv" in manifest["sources"]
    assert {"numpy", "scipy"} <= set(manifest["libraries"])
    assert manifest["counts"]["goods_lines"] == 21


def test_missing_index_says_how_to_build(tmp_path, ref_data):
    with pytest.raises(ModelError, match="hsmatch build"):
        load_index(data_dir_path=ref_data, models_path=tmp_path)


def test_stale_index_is_refused(fixture_models, ref_data, tmp_path):
    models = _copy_models(fixture_models, tmp_path)
    data = tmp_path / "data"
    shutil.copytree(ref_data, data)
    with open(data / "hs" / "itchs8.csv", "a") as handle:
        handle.write("\n")
    with pytest.raises(ModelError, match=r"stale: hs/itchs8.csv changed.*--force"):
        load_index(data_dir_path=data, models_path=models)


def test_foreign_library_versions_are_refused(fixture_models, ref_data, tmp_path):
    models = _copy_models(fixture_models, tmp_path)
    path = models / "index" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["libraries"]["numpy"] = "0.0.1"
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"numpy 0\.0\.1 ->"):
        check_manifest(models / "index", ref_data)


def test_wrong_format_is_refused_before_unpickling(fixture_models, ref_data, tmp_path):
    models = _copy_models(fixture_models, tmp_path)
    (models / "index" / INDEX_FILE).write_bytes(b"not a pickle")
    path = models / "index" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format"] = 999
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="format 999"):
        load_index(data_dir_path=ref_data, models_path=models)


def test_classifier_rebuilds_an_index_of_another_format(fixture_models, ref_data, training_dir, tmp_path):
    from hsmatch.classify import Classifier
    from hsmatch.errors import IndexOutOfDate

    models = _copy_models(fixture_models, tmp_path)
    path = models / "index" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format"] = INDEX_FORMAT - 1
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexOutOfDate):
        Classifier.load(models_dir=models, data_dir=ref_data, training_dir=training_dir, build_if_missing=False)
    classifier = Classifier.load(models_dir=models, data_dir=ref_data, training_dir=training_dir,
                                 progress=False)
    assert json.loads(path.read_text())["format"] == INDEX_FORMAT
    assert classifier.classify("Basmati rice").candidates[0].code == "10063020"
