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


def test_line_words_of_other_code_are_refused(fixture_models, ref_data, tmp_path):
    # The stored line words are derived by hsmatch's own text code: when that code changes,
    # the index asks for a rebuild rather than serving words the new code would not make.
    models = _copy_models(fixture_models, tmp_path)
    path = models / "index" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["line_words_code"] = "0" * 64
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"line words made by other code.*--force"):
        load_index(data_dir_path=ref_data, models_path=models)


def test_stored_line_words_are_those_of_the_index(fixture_models, ref_data):
    from hsmatch.line_words import line_words

    index = load_index(data_dir_path=ref_data, models_path=fixture_models)
    fresh = line_words(index.goods, index.groups)
    stored = index.line_words
    assert stored.line_words == fresh.line_words and stored.negated == fresh.negated
    assert (stored.line_material == fresh.line_material).all()
    # Word ids follow set order, which varies between processes: compare what they spell.
    word_of = {i: w for w, i in stored.word_id.items()}
    lists = stored.cover_words
    for line, (own, heading) in enumerate(zip(fresh.line_words, fresh.heading_words, strict=True)):
        start, size = lists.starts[line], lists.sizes[line]
        assert {word_of[int(i)] for i in lists.ids[start:start + size]} == own | heading
    assert (stored.char_t != fresh.char_t).nnz == 0


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
