"""The built retrieval index: TF-IDF matrices and embeddings of the nomenclature.

``hsmatch build`` makes it once; it is cached under ``models/index`` with a manifest
(format version, library versions, hashes of the data files, build time). The manifest
is read and checked before anything is unpickled, so a stale or foreign cache is refused
with a message that says how to rebuild. The cache is derived from the reference data,
so it is not committed.

Loading needs only numpy and scipy (pandas and scikit-learn stay out of the cold start).
The index is one pickle: C's unpickler reads it about five times faster than joblib's,
which unpickles in Python.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from hsmatch.embedding import Embedder, distill_static, load_embedder
from hsmatch.errors import IndexOutOfDate, ModelError
from hsmatch.line_words import LineWords, code_hash, line_words
from hsmatch.manifest import (
    PICKLE_LIBRARIES,
    changed_libraries,
    hsmatch_version,
    library_versions,
    source_hashes,
)
from hsmatch.paths import data_dir, models_dir
from hsmatch.text import normalize
from hsmatch.tfidf import Tfidf

if TYPE_CHECKING:
    from hsmatch.nomenclature import Nomenclature

log = logging.getLogger(__name__)

INDEX_FORMAT = 5
INDEX_FILE = "index.pickle"
EXPORT_YEAR = "2024-25"
# The reference files the index is derived from; their hashes go into its manifest.
INDEX_SOURCES = (
    "hs/itchs8.csv",
    "hs/hs6.csv",
    "hs/hs_headings.csv",
    "hs/hs_chapters.csv",
    "hs/hs_sections.csv",
    "hs/sac.csv",
    "hs/india_exports_hs8.csv",
)
RECORDED_LIBRARIES = (*PICKLE_LIBRARIES, "model2vec", "rapidfuzz")


@dataclass
class Corpus:
    """One searchable list of codes (goods lines, SAC codes, chapters and headings)."""

    codes: np.ndarray          # code strings
    texts: list[str]           # readable descriptions shown to users
    word: sparse.csr_matrix    # TF-IDF word n-grams, rows unit length
    char: sparse.csr_matrix    # TF-IDF char n-grams, rows unit length
    emb: np.ndarray            # unit-length embeddings, float32


@dataclass
class Index:
    manifest: dict[str, Any]
    word_vectorizer: Tfidf
    char_vectorizer: Tfidf
    goods: Corpus
    services: Corpus
    groups: Corpus             # chapters (2) and headings (4), for broad entries
    export_usd_m: np.ndarray   # national exports of each goods line in EXPORT_YEAR
    last_export_fy: np.ndarray # latest FY with exports ("" if never)
    gst_only: np.ndarray       # bool: line only in the GST directory (2022/2025 additions)
    other_line: np.ndarray     # bool: line's own text is only "OTHER"
    line_words: LineWords      # the goods lines' words, for the coverage features
    embedder: Embedder


def _goods_documents(nom: Nomenclature, codes: Sequence[str]) -> tuple[list[str], list[str], list[str]]:
    """Readable text, TF-IDF text and embedding text of each goods line."""
    readable, tfidf_docs, emb_docs = [], [], []
    for code in codes:
        own = nom.readable(code)
        readable.append(own)
        # The line's own words count twice; its parents add context at normal weight.
        tfidf_docs.append(normalize(f"{own} {nom.enriched_text(code)}"))
        # A line whose text stands alone ("Pedestal fans", "Plastic insulated, of a kind
        # used in telecommunication") is embedded with its subheading's text before it; a
        # long prefix must not push the line's own words out of the text.
        emb = own if (":" in own or ";" in own) else f"{nom.description(code[:6])}: {own}"
        emb_docs.append(emb if len(emb) <= 200 else f"{nom.description(code)}: {own}"[:200])
    return readable, tfidf_docs, emb_docs


def _corpus(codes: Sequence[str], readable: list[str], docs: list[str], emb_docs: list[str],
            word: Tfidf, char: Tfidf, embedder: Embedder) -> Corpus:
    return Corpus(codes=np.array(codes, dtype=object), texts=readable,
                  word=word.transform(docs), char=char.transform(docs),
                  emb=embedder.encode(emb_docs).astype(np.float32))


def build_index(*, data_dir_path: str | os.PathLike[str] | None = None,
                models_path: str | os.PathLike[str] | None = None,
                force: bool = False,
                progress: bool = False) -> Path:
    """Build the embedder (if needed, or always with ``force``) and the index."""
    from tqdm.auto import tqdm

    from hsmatch.data import load_table
    from hsmatch.nomenclature import Nomenclature, is_other_text

    started = time.perf_counter()
    folder = data_dir(data_dir_path)
    out = models_dir(models_path)
    steps = tqdm(total=5, desc="hsmatch build", disable=not progress)
    steps.set_postfix_str("reading the nomenclature")
    nom = Nomenclature.load(folder)
    steps.update(1)

    embedder_dir = out / "embedder"
    if force or not (embedder_dir / "hsmatch_embedder.json").is_file():
        steps.set_postfix_str("distilling the embedding model (a few minutes)")
        # No domain vocabulary: model2vec embeds added words out of context, and on the
        # labelled goods pairs that halved the embedding retriever's accuracy (HS8 top-1
        # 0.12 with the nomenclature's words added, 0.21 without; the full model: 0.26).
        distill_static(embedder_dir)
    embedder = load_embedder("static", out)
    steps.update(1)

    codes = nom.current_lines
    readable, docs, emb_docs = _goods_documents(nom, codes)
    sac_codes = nom.codes(6, services=True) + nom.codes(4, services=True)
    sac_readable = [nom.readable(c) for c in sac_codes]
    sac_docs = [normalize(f"{t} {nom.description(c[:4])}") for c, t in zip(sac_codes, sac_readable, strict=True)]
    group_codes = [c for c in nom.codes(2) + nom.codes(4) if nom.is_current(c)]
    group_readable = [nom.readable(c) for c in group_codes]
    group_docs = [normalize(t) for t in group_readable]

    steps.set_postfix_str("fitting TF-IDF")
    corpus_docs = docs + sac_docs + group_docs
    word = Tfidf("word", (1, 2), min_df=1).fit(corpus_docs)
    char = Tfidf("char_wb", (3, 5), min_df=2, max_features=200_000).fit(corpus_docs)
    steps.update(1)
    steps.set_postfix_str("embedding the nomenclature")
    goods = _corpus(codes, readable, docs, emb_docs, word, char, embedder)
    services = _corpus(sac_codes, sac_readable, sac_docs, sac_readable, word, char, embedder)
    groups = _corpus(group_codes, group_readable, group_docs, group_readable, word, char, embedder)
    steps.update(1)

    exports = load_table("hs/india_exports_hs8.csv", folder)
    year = exports[exports["fy"] == EXPORT_YEAR].groupby("code")["export_usd_million"].sum()
    lines = load_table("hs/itchs8.csv", folder).set_index("code").loc[codes]
    arrays = {
        "export_usd_m": year.reindex(codes).fillna(0.0).to_numpy(dtype=np.float32),
        "last_export_fy": lines["eidb_last_fy_with_exports"].to_numpy(dtype=object),
        "gst_only": (lines["status"] == "gst_only").to_numpy(),
        "other_line": np.array([is_other_text(nom.description(c)) for c in codes]),
    }

    index_dir = out / "index"
    index_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = index_dir / "manifest.json"
    manifest_path.unlink(missing_ok=True)  # an interrupted build must not look valid
    (index_dir / "index.joblib").unlink(missing_ok=True)  # the file of format 3 and before
    with (index_dir / INDEX_FILE).open("wb") as f:
        pickle.dump({"word": word, "char": char, "goods": goods, "services": services,
                     "groups": groups, "line_words": line_words(goods, groups), **arrays}, f, protocol=5)
    manifest = {
        "format": INDEX_FORMAT,
        "hsmatch_version": hsmatch_version(),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "build_seconds": round(time.perf_counter() - started, 1),
        "libraries": library_versions(RECORDED_LIBRARIES),
        "sources": source_hashes(INDEX_SOURCES, folder),
        "embedder": getattr(embedder, "meta", {}),
        "counts": {"goods_lines": len(codes), "sac_codes": len(sac_codes),
                   "chapters_headings": len(group_codes)},
        "export_year": EXPORT_YEAR,
        "line_words_code": code_hash(),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2))
    steps.update(1)
    steps.close()
    log.info("built index in %.1f s", manifest["build_seconds"])
    return index_dir


def check_manifest(index_dir: Path, data_dir_path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Read the manifest and refuse a cache that is stale or was built elsewhere."""
    rebuild = "run `hsmatch build --force` to rebuild it"
    manifest_path = index_dir / "manifest.json"
    if not manifest_path.is_file() or not (index_dir / INDEX_FILE).is_file():
        raise IndexOutOfDate(f"no built index at {index_dir}; run `hsmatch build` to make it")
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"the index manifest {manifest_path} is unreadable; {rebuild}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != INDEX_FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise IndexOutOfDate(f"the index at {index_dir} has format {found}, this hsmatch reads "
                         f"format {INDEX_FORMAT}; {rebuild}")
    changed = changed_libraries(manifest.get("libraries", {}), PICKLE_LIBRARIES)
    if changed:
        raise IndexOutOfDate(f"the index at {index_dir} was built with other libraries "
                         f"({', '.join(changed)}); {rebuild}")
    if manifest.get("line_words_code") != code_hash():
        raise IndexOutOfDate(f"the index at {index_dir} holds line words made by other code "
                             f"(hsmatch.line_words, text or materials changed); {rebuild}")
    sources = manifest.get("sources") or {}
    hashes = source_hashes(tuple(sources) or INDEX_SOURCES, data_dir_path)
    stale = [name for name, digest in hashes.items() if sources.get(name) != digest]
    if stale:
        raise IndexOutOfDate(f"the index at {index_dir} is stale: {', '.join(stale)} changed since "
                         f"it was built; {rebuild}")
    return manifest


def load_index(*, data_dir_path: str | os.PathLike[str] | None = None,
               models_path: str | os.PathLike[str] | None = None) -> Index:
    """Load the built index after checking its manifest."""
    out = models_dir(models_path)
    index_dir = out / "index"
    manifest = check_manifest(index_dir, data_dir_path)
    embedder = load_embedder("static", out)
    built_vocab = manifest.get("embedder", {}).get("vocabulary_sha256")
    if built_vocab != getattr(embedder, "meta", {}).get("vocabulary_sha256"):
        raise ModelError(f"the embedding model in {out / 'embedder'} is not the one the index "
                         "was built with; run `hsmatch build --force`")
    with (index_dir / INDEX_FILE).open("rb") as f:
        parts = pickle.load(f)
    return Index(manifest=manifest, word_vectorizer=parts["word"], char_vectorizer=parts["char"],
                 goods=parts["goods"], services=parts["services"], groups=parts["groups"],
                 export_usd_m=parts["export_usd_m"], last_export_fy=parts["last_export_fy"],
                 gst_only=parts["gst_only"], other_line=parts["other_line"],
                 line_words=parts["line_words"], embedder=embedder)
