"""Manifests for built artefacts: what they were built from and with.

Pickles run code when loaded, so every artefact hsmatch writes has a JSON manifest
beside it, and the manifest is checked before the pickle is opened.
"""

from __future__ import annotations

import hashlib
import os
from importlib import metadata
from pathlib import Path

from hsmatch.errors import DataError
from hsmatch.paths import data_dir

# Libraries whose version must match for a pickle written by them to be trusted.
PICKLE_LIBRARIES = ("numpy", "scipy")


def library_versions(names: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def hsmatch_version() -> str:
    try:
        return metadata.version("hsmatch")
    except metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout
        return "0+unknown"


def file_hash(path: str | os.PathLike[str]) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_hashes(names: tuple[str, ...],
                  data_dir_path: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """Hashes of reference files (names relative to the data folder)."""
    folder = data_dir(data_dir_path)
    out = {}
    for name in names:
        path = Path(folder) / name
        if not path.is_file():
            raise DataError(f"{name} not found in {folder}")
        out[name] = file_hash(path)
    return out


def changed_libraries(built: dict[str, str], names: tuple[str, ...]) -> list[str]:
    """'name old -> new' for each library whose version differs from the build's."""
    current = library_versions(names)
    return [f"{k} {built.get(k)} -> {v}" for k, v in current.items() if built.get(k) != v]
