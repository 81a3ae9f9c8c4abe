"""The kind model: goods / broad / service / unknown from a name and the engine's evidence."""

import json

import numpy as np
import pytest

from hsmatch.errors import ModelError
from hsmatch.kind import KINDS, META_FEATURES, KindModel, fit_kind_model, meta_features

NAMES = {
    "goods": ["basmati rice", "kesar mango", "brass lamps", "cotton towels", "wooden toys",
              "frozen shrimp", "turmeric powder", "leather shoes"],
    "broad": ["agro products", "engineering goods", "handicraft products", "food processing",
              "textile products", "marine products", "chemical products", "forest produce"],
    "service": ["tourism", "it services", "hospitality services", "education services",
                "software services", "health tourism", "logistics services", "travel services"],
    "unknown": ["not applicable", "none", "to be decided", "nil", "under process", "no product",
                "not identified", "na"],
}


def _training():
    """Names, kinds, evidence and stand-in embeddings (a direction per kind, plus noise)."""
    norms, kinds, meta = [], [], []
    for kind, names in NAMES.items():
        for name in names:
            norms.append(name)
            kinds.append(kind)
            lexicon = {"broad": (95, 30), "service": (20, 96)}.get(kind, (30, 20))
            meta.append(meta_features(name, *lexicon, None))
    rng = np.random.default_rng(0)
    vectors = rng.normal(0, 0.3, (len(norms), 8)) + np.eye(8)[[KINDS.index(k) for k in kinds]]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return norms, kinds, np.array(meta), vectors


def test_fit_predicts_the_kinds_it_learned_and_probabilities_sum_to_one():
    norms, kinds, meta, vectors = _training()
    model = fit_kind_model(norms, kinds, meta, vectors)
    p = model.probabilities(norms, meta, vectors)
    assert p.shape == (len(norms), len(KINDS))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    accuracy = np.mean([KINDS[i] == k for i, k in zip(p.argmax(axis=1), kinds, strict=True)])
    assert accuracy >= 0.9


def test_saved_model_loads_without_pickle_and_gives_the_same_probabilities(tmp_path):
    norms, kinds, meta, vectors = _training()
    model = fit_kind_model(norms, kinds, meta, vectors)
    model.save(tmp_path)
    loaded = KindModel.load(tmp_path)
    assert loaded is not None
    np.testing.assert_allclose(loaded.probabilities(norms, meta, vectors), model.probabilities(norms, meta, vectors))
    assert KindModel.load(tmp_path / "nothing-here") is None


def test_a_kind_model_of_other_features_is_refused(tmp_path):
    norms, kinds, meta, vectors = _training()
    fit_kind_model(norms, kinds, meta, vectors).save(tmp_path)
    manifest = json.loads((tmp_path / "kind.json").read_text())
    manifest["meta_features"] = [*META_FEATURES, "extra"]
    (tmp_path / "kind.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="hsmatch train"):
        KindModel.load(tmp_path)


def test_training_needs_every_kind():
    norms, kinds, meta, vectors = _training()
    keep = [i for i, k in enumerate(kinds) if k != "unknown"]
    with pytest.raises(ModelError, match="unknown"):
        fit_kind_model([norms[i] for i in keep], [kinds[i] for i in keep], meta[keep], vectors[keep])


def test_embeddings_of_another_size_are_refused_with_a_way_out():
    norms, kinds, meta, vectors = _training()
    model = fit_kind_model(norms, kinds, meta, vectors)
    with pytest.raises(ModelError, match=r"8 dimensions.*hsmatch train"):
        model.probabilities(norms, meta, vectors[:, :4])
