"""Time a full scoring run: every district list against district exports, end to end.

    .venv/bin/python scripts/bench_score.py                      # real sector data
    .venv/bin/python scripts/bench_score.py --exports out/hs8.parquet   # the HS8 stand-in

Prints seconds for load (lists, exports, model), classify, align (verdicts,
recommendations, flags) and report (tables and HTML), and the total. Uses the built
model (run `hsmatch build` first). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", default=None, help="district list CSV (default: the ODOP lists)")
    parser.add_argument("--exports", default=None, help="district exports (default: the real sector file)")
    parser.add_argument("--out", default=None, help="output folder (default: a temporary one)")
    args = parser.parse_args()

    started = time.perf_counter()
    from hsmatch.align import score_districts
    from hsmatch.classify import load_model
    from hsmatch.districts import read_district_list
    from hsmatch.exports import read_district_exports
    from hsmatch.paths import data_dir
    from hsmatch.report import write_outputs

    folder = data_dir() / "districts"
    lists = read_district_list(args.products or folder / "odop_products.csv")
    exports = read_district_exports(args.exports or folder / "district_sector_exports_fy2025.csv",
                                    strict=False, check_codes=False)
    classifier = load_model(build_if_missing=False)
    load_s = time.perf_counter() - started

    result = score_districts(lists, exports, classifier=classifier)
    timings = result.meta["timings"]
    started = time.perf_counter()
    out = args.out or tempfile.mkdtemp(prefix="hsmatch-score-")
    write_outputs(result, out)
    report_s = time.perf_counter() - started

    load_total = load_s + timings["load_s"]  # files and model, then crosswalk and export index
    rows = {
        "load_s": load_total, "classify_s": timings["classify_s"], "align_s": timings["align_s"],
        "report_s": report_s,
        "total_s": load_total + timings["classify_s"] + timings["align_s"] + report_s,
    }
    print(f"district lists scored: {len(result.districts)} ({result.meta['list_rows']} list rows, "
          f"{result.meta['data_level']} data, {'synthetic' if result.meta['synthetic'] else 'real'})")
    for name, value in rows.items():
        print(f"{name:<12}{value:8.2f}")
    print(f"outputs in {out}")


if __name__ == "__main__":
    main()
