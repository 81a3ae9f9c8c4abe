"""Shared fixtures: a tiny reference data folder, a small lexicon, a distilled embedder
and a classifier built on them; and (for tests marked slow) the real data and model."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.fixture_data import write_reference_data, write_training_data


@pytest.fixture(scope="session")
def ref_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_reference_data(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def training_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_training_data(tmp_path_factory.mktemp("training"))


@pytest.fixture(scope="session")
def embedder_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged MiniLM distilled to a static model, once per test session (~15 s)."""
    from hsmatch.embedding import distill_static

    folder = tmp_path_factory.mktemp("embedder") / "embedder"
    distill_static(folder)
    return folder


@pytest.fixture(scope="session")
def fixture_models(tmp_path_factory: pytest.TempPathFactory, ref_data: Path,
                   embedder_dir: Path) -> Path:
    from hsmatch.index import build_index

    models = tmp_path_factory.mktemp("models")
    shutil.copytree(embedder_dir, models / "embedder")
    build_index(data_dir_path=ref_data, models_path=models)
    return models


@pytest.fixture(scope="session")
def classifier(fixture_models: Path, ref_data: Path, training_dir: Path):
    from hsmatch.classify import Classifier

    return Classifier.load(models_dir=fixture_models, data_dir=ref_data,
                           training_dir=training_dir, build_if_missing=False)


REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def real_data() -> Path:
    folder = Path(os.environ.get("HSMATCH_DATA", REAL_DATA))
    if not (folder / "hs" / "itchs8.csv").is_file():
        pytest.skip(f"the real reference data is not at {folder}")
    return folder


@pytest.fixture(scope="session")
def real_classifier(real_data: Path):
    """The classifier on the real data with the default models folder (built if missing)."""
    from hsmatch.classify import load_model

    return load_model(data_dir=real_data)


@pytest.fixture()
def flags():
    """A small flags table (real Flag ids) for the review store's tests."""
    from tests.review_data import sample_flags

    return sample_flags()


@pytest.fixture()
def store(tmp_path, ref_data, flags):
    """A review store on the fixture data, synced with :func:`flags` as run 1."""
    from hsmatch.review import ReviewStore

    store = ReviewStore(tmp_path / "reviews.sqlite", data_dir=ref_data)
    store.sync_flags(flags, source="run 1")
    return store
