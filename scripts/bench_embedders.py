"""What the static (model2vec) form of all-MiniLM-L6-v2 gives up against the full model.

    .venv/bin/python scripts/bench_embedders.py           # all goods pairs
    .venv/bin/python scripts/bench_embedders.py --test    # only the held-out families

Both embedders retrieve 8-digit lines for every goods pair of training_data/ on their own
(no TF-IDF, no aliases, no ranker), from the same line texts the index embeds; the script
prints top-1 / top-5 hits at HS4, HS6 and HS8 for each, and their encoding speed.
The full model's nomenclature vectors take several minutes on two cores; they are cached
in models/bench/ (not committed) keyed by the index's build time.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def hits(ranked: np.ndarray, codes: np.ndarray, acceptable: list[tuple[str, ...]],
         level: int, top: int) -> float:
    found = []
    for row, wanted in zip(ranked, acceptable, strict=True):
        prefixes = {w[:level] for w in wanted}
        found.append(any(str(codes[j])[:level] in prefixes for j in row[:top]))
    return float(np.mean(found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", action="store_true", help="only pairs of held-out families")
    args = parser.parse_args()

    from hsmatch.classify import Classifier, _KnownCodes
    from hsmatch.embedding import load_embedder
    from hsmatch.index import _goods_documents
    from hsmatch.nomenclature import Nomenclature
    from hsmatch.paths import models_dir
    from hsmatch.text import content_query, normalize
    from hsmatch.trainset import load_pairs

    classifier = Classifier.load()
    index = classifier.index
    pairs = [p for p in load_pairs(None, _KnownCodes(index)) if p.kind == "goods"
             and (not args.test or p.split == "test")]
    queries = [content_query(normalize(p.text)) for p in pairs]
    acceptable = [p.codes for p in pairs]
    codes = index.goods.codes

    cache = models_dir() / "bench" / "transformer_goods.npz"
    full = load_embedder("transformer", models_dir())
    built = index.manifest.get("built_at", "")
    if cache.is_file() and str(np.load(cache)["built_at"]) == built:
        full_lines = np.load(cache)["emb"]
    else:
        print("embedding the nomenclature with the full model (several minutes) ...", flush=True)
        _, _, emb_docs = _goods_documents(Nomenclature.load(), list(codes))
        started = time.perf_counter()
        full_lines = full.encode(emb_docs)
        print(f"  {len(emb_docs)} lines in {time.perf_counter() - started:.0f} s", flush=True)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(cache, emb=full_lines, built_at=np.array(built))

    results = {}
    for name, embedder, lines in (("static (model2vec)", index.embedder, index.goods.emb),
                                  ("full (sentence-transformers)", full, full_lines)):
        started = time.perf_counter()
        vectors = embedder.encode(queries)
        seconds = time.perf_counter() - started
        sims = vectors @ lines.T
        ranked = np.argsort(-sims, axis=1)[:, :5]
        row = {"names_per_s": round(len(queries) / seconds)}
        for level in (4, 6, 8):
            row[f"hs{level}_top1"] = round(hits(ranked, codes, acceptable, level, 1), 3)
            row[f"hs{level}_top5"] = round(hits(ranked, codes, acceptable, level, 5), 3)
        results[name] = row
    print(f"embedding retriever alone on {len(pairs)} goods pairs"
          f"{' (held-out families)' if args.test else ''}:")
    header = list(next(iter(results.values())))
    print(f"{'embedder':<30}" + "".join(f"{h:>13}" for h in header))
    for name, row in results.items():
        print(f"{name:<30}" + "".join(f"{row[h]:>13}" for h in header))
    Path(cache.parent / "embedders.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
