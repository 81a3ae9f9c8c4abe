"""Where hsmatch finds its reference data, its built models and its training data.

Order for each: an explicit argument, then an environment variable, then a default.

- data: ``HSMATCH_DATA``; default: the first ``shared/data`` folder found beside the
  source checkout (``<checkout>/../shared/data``) or beside/above the working directory.
- models: ``HSMATCH_MODELS``; default ``<checkout>/models``, or ``~/.cache/hsmatch/models``
  for an installed (non-checkout) package.
- training data: ``HSMATCH_TRAINING_DATA``; default ``<checkout>/training_data``.
"""

from __future__ import annotations

import os
from pathlib import Path

from hsmatch.errors import DataError

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parent
IN_CHECKOUT = (CHECKOUT_DIR / "pyproject.toml").is_file()


def _data_candidates() -> list[Path]:
    cwd = Path.cwd()
    found = [CHECKOUT_DIR.parent / "shared" / "data"]
    for folder in [cwd, *cwd.parents][:4]:
        found += [folder / "shared" / "data", folder.parent / "shared" / "data"]
    unique: list[Path] = []
    for path in found:
        if path not in unique:
            unique.append(path)
    return unique


def data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The reference data folder (holding ``hs/`` and ``districts/``)."""
    if path is not None:
        chosen, how = Path(path), "the data_dir argument"
    elif os.environ.get("HSMATCH_DATA"):
        chosen, how = Path(os.environ["HSMATCH_DATA"]), "HSMATCH_DATA"
    else:
        for candidate in _data_candidates():
            if (candidate / "hs").is_dir():
                return candidate
        tried = ", ".join(str(p) for p in _data_candidates()[:3])
        raise DataError(
            f"no reference data folder found (tried {tried}); pass data_dir=..., "
            "use --data DIR, or set HSMATCH_DATA to the folder that holds hs/ and districts/"
        )
    if not (chosen / "hs").is_dir():
        raise DataError(
            f"{chosen} (from {how}) is not a reference data folder: it has no hs/ subfolder. "
            "Point it at the folder that holds hs/ and districts/"
        )
    return chosen


def models_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding the built index and the trained ranker."""
    if path is not None:
        return Path(path)
    if os.environ.get("HSMATCH_MODELS"):
        return Path(os.environ["HSMATCH_MODELS"])
    if IN_CHECKOUT:
        return CHECKOUT_DIR / "models"
    return Path.home() / ".cache" / "hsmatch" / "models"


def training_data_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The folder holding labelled pairs, aliases, broad categories and services."""
    if path is not None:
        chosen = Path(path)
    elif os.environ.get("HSMATCH_TRAINING_DATA"):
        chosen = Path(os.environ["HSMATCH_TRAINING_DATA"])
    else:
        chosen = CHECKOUT_DIR / "training_data"
    if not chosen.is_dir():
        raise DataError(
            f"training data folder {chosen} not found; run from a source checkout or set "
            "HSMATCH_TRAINING_DATA to the repository's training_data/ folder"
        )
    return chosen
