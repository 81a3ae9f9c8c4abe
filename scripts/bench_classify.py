"""Measure classify(): cold start, single-name latency, batch throughput, memory, build time.

    .venv/bin/python scripts/bench_classify.py            # uses the built index (builds if missing)
    .venv/bin/python scripts/bench_classify.py --rebuild  # also times a full index build

Names come from the real district product lists and the nomenclature's short (EIDB) texts,
so the batch holds 5,000 distinct, realistic names. The batch is timed once as the first
large batch of the process, then ``--repeat`` times more (the median is printed apart).
Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

COLD_START = (
    "import time; t = time.perf_counter(); import hsmatch; "
    "hsmatch.load_model(build_if_missing=False); print(time.perf_counter() - t)"
)


def bench_names(n: int) -> list[str]:
    from hsmatch.data import load_table, read_csv_text
    from hsmatch.paths import data_dir

    names: list[str] = []
    odop = data_dir() / "districts" / "odop_products.csv"
    if odop.is_file():
        names += read_csv_text(odop)["product"].tolist()
    lines = load_table("hs/itchs8.csv")
    names += [t.title() for t in lines["eidb_description"] if t]
    names += [t for t in lines["description"] if t]
    unique = list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
    return unique[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="time a full index build first")
    parser.add_argument("--batch", type=int, default=5000, help="names in the batch test")
    parser.add_argument("--single", type=int, default=300, help="names in the latency test")
    parser.add_argument("--repeat", type=int, default=3,
                        help="further runs of the same batch in the same process (their median is printed)")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()

    import hsmatch
    from hsmatch.index import build_index
    from hsmatch.paths import models_dir

    results: dict[str, float | int | str] = {}
    if args.rebuild:
        started = time.perf_counter()
        build_index(force=True)
        results["index_build_s"] = round(time.perf_counter() - started, 1)
    else:
        hsmatch.load_model()  # builds once if missing
    manifest = json.loads((models_dir() / "index" / "manifest.json").read_text())
    results.setdefault("index_build_s", manifest["build_seconds"])
    results["embedder_distill_s"] = manifest.get("embedder", {}).get("seconds", "n/a")

    colds = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", COLD_START], capture_output=True, text=True, check=True)
        colds.append(float(out.stdout.strip().splitlines()[-1]))
    results["cold_start_s"] = round(statistics.median(colds), 3)

    model = hsmatch.load_model()
    names = bench_names(max(args.batch, args.single))
    model.classify_batch(names[:20])  # warm caches
    latencies = []
    for name in names[: args.single]:
        started = time.perf_counter()
        model.classify(name)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    results["single_p50_ms"] = round(latencies[len(latencies) // 2], 2)
    results["single_p95_ms"] = round(latencies[int(len(latencies) * 0.95)], 2)

    batch = names[: args.batch]
    started = time.perf_counter()
    model.classify_batch(batch)
    elapsed = time.perf_counter() - started
    results["batch_names"] = len(batch)
    # The first batch of a process (what one scoring run of every district list pays) and,
    # apart, the same batch again: later batches run faster (warm caches and memory).
    results["batch_names_per_s"] = round(len(batch) / elapsed, 1)
    repeats = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        model.classify_batch(batch)
        repeats.append(len(batch) / (time.perf_counter() - started))
    if repeats:
        results["batch_repeat_names_per_s"] = round(statistics.median(repeats), 1)
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    results["ranker"] = model.ranker.name

    if args.json:
        print(json.dumps(results, indent=2))
        return
    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
