"""Measure the review store and its web page on a queue of 10,000 synthetic flags.

    .venv/bin/python scripts/bench_review.py
    .venv/bin/python scripts/bench_review.py --flags 50000 --decisions 5000

Makes a store in a temporary folder, imports the flags (and imports them again, as a
re-run does), then prints: decisions per second with one writer and with two writers at
once (each decision its own committed transaction), and the load time of the queue page
(unfiltered, filtered, a late page) and of a flag's page, timed with urllib against the
server running in a thread on 127.0.0.1. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

STATES = ["Uttar Pradesh", "Maharashtra", "Tamil Nadu", "Gujarat", "Bihar", "Karnataka",
          "West Bengal", "Rajasthan", "Kerala", "Odisha", "Assam", "Punjab"]
TYPES = ["not_exported", "too_broad", "service", "unclassified", "missing_top_export",
         "unmatched_district"]
LISTS = ["ODOP-DPIIT (national)", "ODOP-PMFME (food processing)", "ODOP-UP (state scheme)"]


def synthetic_flags(n: int, seed: int = 0):
    """``n`` flags with real-sized evidence (candidates, top exports), ids from hsmatch.flags."""
    import pandas as pd

    from hsmatch.flags import FLAG_COLUMNS, Flag

    rng = random.Random(seed)
    rows = []
    top = [{"code": f"sector_{i}", "label": f"Sector {i} (HS {10 + i}-{12 + i})",
            "value_usd": 1e6 / (i + 1), "share": round(0.4 / (i + 1), 4)} for i in range(5)]
    for i in range(n):
        state = STATES[i % len(STATES)]
        district = f"District {i // 6:04d}"
        flag_type = TYPES[rng.randrange(len(TYPES))]
        product = "" if flag_type in ("missing_top_export", "unmatched_district") else f"Product {i:05d}"
        code = f"{rng.randrange(10**7, 10**8)}" if product else f"sector_{i % 22}"
        evidence = {"kind": "goods", "codes": [code], "confidence": round(rng.random(), 4),
                    "candidates": [{"code": f"{rng.randrange(10**7, 10**8)}",
                                    "description": "A nomenclature line of typical length, with its "
                                                   "parents' text " * 2, "score": 0.5}
                                   for _ in range(5)],
                    "classifier_reason": "benchmark", "top_exports": top, "data": "real",
                    "data_level": "sector"}
        rows.append(Flag(flag_type, LISTS[i % len(LISTS)], state, district, product, code,
                         f"{district} records only 0.1% of its exports under '{product or code}'",
                         evidence).to_row())
    return pd.DataFrame(rows, columns=list(FLAG_COLUMNS))


def decisions_per_second(path: Path, ids: list[str], writers: int, per_writer: int) -> float:
    from hsmatch.review import ReviewStore

    stores = [ReviewStore(path, known=set()) for _ in range(writers)]
    start = threading.Barrier(writers + 1)

    def work(k: int) -> None:
        store, rng = stores[k], random.Random(k)
        start.wait()
        for i in range(per_writer):
            flag_id = ids[rng.randrange(len(ids))]
            if i % 3 == 2:
                store.decide(flag_id, "note", f"reviewer {k}", note=f"note {i}", source="bench")
            else:
                store.decide(flag_id, "accept" if i % 3 else "reject", f"reviewer {k}",
                             source="bench")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(writers)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return writers * per_writer / (time.perf_counter() - began)


def page_times(url: str, repeats: int) -> tuple[float, float, int]:
    """Median and worst load time (ms) of a page, and its size in bytes."""
    times, size = [], 0
    for _ in range(repeats):
        began = time.perf_counter()
        with urllib.request.urlopen(url, timeout=30) as response:
            size = len(response.read())
        times.append(1000 * (time.perf_counter() - began))
    return statistics.median(times), max(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flags", type=int, default=10_000, help="flags in the queue")
    parser.add_argument("--decisions", type=int, default=2_000,
                        help="decisions per measurement (split between the writers)")
    parser.add_argument("--repeats", type=int, default=20, help="requests per page")
    args = parser.parse_args()

    from hsmatch.review import ReviewStore
    from hsmatch.review_web import running

    folder = Path(tempfile.mkdtemp(prefix="hsmatch-review-bench-"))
    path = folder / "reviews.sqlite"
    flags = synthetic_flags(args.flags)
    store = ReviewStore(path, known=set())
    began = time.perf_counter()
    store.sync_flags(flags, source="bench run 1")
    first_sync = time.perf_counter() - began
    began = time.perf_counter()
    store.sync_flags(flags, source="bench run 2")
    second_sync = time.perf_counter() - began
    ids = list(flags["flag_id"])
    print(f"store: {path} ({args.flags:,} flags, SQLite WAL, synchronous=FULL)")
    print(f"import a run's flags        {first_sync:8.2f} s   (again, as a re-run: {second_sync:.2f} s)")
    one = decisions_per_second(path, ids, 1, args.decisions)
    two = decisions_per_second(path, ids, 2, args.decisions // 2)
    print(f"decisions, one writer       {one:8,.0f} /s")
    print(f"decisions, two writers      {two:8,.0f} /s   (together; each decision committed)")
    print(f"decisions in the store      {len(store.decisions()):8,}")

    rows = []
    with running(store) as server:
        base = server.url
        flag = store.queue(limit=1, offset=args.flags // 2)[0]["flag_id"]
        pages = {
            "queue, first page": base,
            "queue, filtered (state, type, open)": base + "?state=Bihar&flag_type=not_exported&status=open",
            "queue, page 100": base + "?page=100",
            "queue, search": base + "?q=Product+0123",
            "flag page": base + f"flag/{flag}",
        }
        page_times(base, 2)  # warm up
        for name, url in pages.items():
            rows.append((name, *page_times(url, args.repeats)))
    print(f"page load over HTTP ({args.repeats} requests each; median / worst, ms):")
    for name, median, worst, size in rows:
        print(f"  {name:<38}{median:7.1f} / {worst:6.1f}   {size / 1024:6.1f} KB")
    print(json.dumps({"flags": args.flags, "decisions_per_s_one_writer": round(one),
                      "decisions_per_s_two_writers": round(two),
                      "sync_s": round(first_sync, 3), "resync_s": round(second_sync, 3),
                      "pages_ms": {name: round(median, 1) for name, median, _, _ in rows}}))


if __name__ == "__main__":
    main()
