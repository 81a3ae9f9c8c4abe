"""Reproduce the published concentration facts from the real district x sector exports.

    .venv/bin/python scripts/concentration.py            # the FY2024-25 DGCI&S file
    .venv/bin/python scripts/concentration.py --csv DIR  # also write the tables as CSV

Prints the share of India's exports held by the top 10 and top 100 districts, the
districts by rank bracket (1-10, 11-20, ..., 301+) and each state's top district with its
largest sector. Shares are of the file's total (USD 437.66 bn, unspecified rows included).
Rankings are given two ways: over every row group of the file (as
district_totals_fy2025.csv ranks them, "UNSPECIFIED" entries included) and over named
districts only. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from hsmatch.exports import SECTORS, concentration, load_sector_exports


def usd(value: float) -> str:
    return f"{value / 1e9:,.2f} bn" if value >= 1e9 else f"{value / 1e6:,.1f} M"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="reference data folder")
    parser.add_argument("--csv", default=None, help="folder to write the tables to")
    args = parser.parse_args()

    exports = load_sector_exports(args.data)
    frame = exports.frame
    both = {flag: concentration(frame, include_unspecified=flag) for flag in (True, False)}
    named = both[False]
    print(f"FY{frame['year'].iloc[0]}: USD {usd(named['total_usd'])} of exports, "
          f"{both[True]['districts']} district rows ({named['districts']} named districts)")
    print()
    print("share of India's exports          all rows   named districts only")
    for key, label in (("top10_share", "top 10 districts"), ("top100_share", "top 100 districts")):
        print(f"  {label:<30}  {100 * both[True][key]:6.1f}%   {100 * named[key]:6.1f}%")
    print(f"  {'districts for half of exports':<30}  {both[True]['districts_for_half']:6d}    "
          f"{named['districts_for_half']:6d}")
    print(f"  {'median district':<30}  {usd(both[True]['median_district_usd']):>7}   "
          f"{usd(named['median_district_usd']):>7}")
    print(f"  {'districts under USD 1 M':<30}  {both[True]['districts_under_1m']:6d}    "
          f"{named['districts_under_1m']:6d}")

    print("\ndistricts by rank bracket (share of all exports; cumulative)")
    print(f"  {'ranks':<8} {'all rows':>19}   {'named districts':>19}   named district size range")
    all_rows = both[True]["brackets"].set_index("ranks")
    for row in named["brackets"].itertuples(index=False):
        other = all_rows.loc[row.ranks] if row.ranks in all_rows.index else None
        left = (f"{100 * other['share']:6.2f}% {100 * other['cum_share']:7.2f}%  "
                f"({int(other['districts']):>3})" if other is not None else " " * 25)
        print(f"  {row.ranks:<8} {left}  {100 * row.share:6.2f}% {100 * row.cum_share:7.2f}% "
              f" ({row.districts:>3})  {usd(row.smallest_usd)} - {usd(row.largest_usd)}")

    print("\neach state's top district and its largest sector (states by exports)")
    print(f"  {'state':<28} {'top district':<24} {'exports':>10} {'of state':>8}  "
          f"{'largest sector':<40} {'of district':>11}")
    for row in named["states"].itertuples(index=False):
        label = SECTORS[row.largest_sector].label if row.largest_sector in SECTORS else \
            row.largest_sector
        print(f"  {row.state:<28} {row.top_district:<24} {usd(row.district_usd):>10} "
              f"{100 * row.share_of_state:7.1f}%  {label[:40]:<40} "
              f"{100 * row.sector_share_of_district:10.1f}%")

    if args.csv:
        out = Path(args.csv)
        out.mkdir(parents=True, exist_ok=True)
        named["brackets"].to_csv(out / "concentration_brackets.csv", index=False)
        named["states"].to_csv(out / "concentration_state_top_districts.csv", index=False)
        pd.DataFrame([{k: v for k, v in result.items() if not isinstance(v, pd.DataFrame)}
                      | {"ranking": "all rows" if flag else "named districts"}
                      for flag, result in both.items()]).to_csv(
            out / "concentration_summary.csv", index=False)
        print(f"\nwrote the tables to {out}")


if __name__ == "__main__":
    main()
