"""Small flags tables for the review tests, made with hsmatch.flags.Flag (real ids)."""

from __future__ import annotations

import pandas as pd

from hsmatch.flags import FLAG_COLUMNS, Flag

LIST = "ODOP test list"
OTHER_LIST = "another list"

TOP_EXPORTS = [
    {"code": "textiles_garments", "label": "Textiles & Apparel (HS 50–63)", "value_usd": 900000.0,
     "share": 0.9},
    {"code": "furniture", "label": "Furniture (HS 94)", "value_usd": 100000.0, "share": 0.1},
]


def _product_evidence(kind: str, codes: list[str], confidence: float) -> dict:
    return {"kind": kind, "codes": codes, "confidence": confidence,
            "candidates": [{"code": c, "description": f"description of {c}", "score": 0.9}
                           for c in codes],
            "classifier_reason": "matched in a test", "top_exports": TOP_EXPORTS,
            "data": "real", "data_level": "sector"}


def sample_flags(*, note: str = "", drop: tuple[str, ...] = ()) -> pd.DataFrame:
    """Six flags in three districts and two lists. ``note`` changes every message (as a
    re-run with new numbers would); ``drop`` leaves out flags whose product or code is named."""
    flags = [
        Flag("not_exported", LIST, "Uttar Pradesh", "Bhadohi", "Basmati rice", "10063020",
             f"Bhadohi records no exports under 'Basmati rice'{note}",
             {**_product_evidence("goods", ["10063020"], 0.91), "level": "sector",
              "exports_usd": 0.0, "share_of_district": 0.0}),
        Flag("missing_top_export", LIST, "Uttar Pradesh", "Bhadohi", "", "textiles_garments",
             f"Textiles & Apparel is 90% of Bhadohi's exports but not on its list{note}",
             {"level": "sector", "code": "textiles_garments", "label": "Textiles & Apparel",
              "value_usd": 900000.0, "share_of_district": 0.9, "rca": 3.2,
              "top_exports": TOP_EXPORTS}),
        Flag("service", LIST, "Uttar Pradesh", "Moradabad", "Tourism", "998552",
             f"'Tourism' is a service; goods export data cannot check it{note}",
             _product_evidence("service", ["998552"], 0.88)),
        Flag("unclassified", LIST, "Haryana", "Karnal", "Nakshi kantha", "",
             f"'Nakshi kantha' could not be classified with confidence (0.12){note}",
             _product_evidence("goods", [], 0.12)),
        Flag("too_broad", OTHER_LIST, "Haryana", "Karnal", "Marine products", "",
             f"'Marine products' is a broad category (03, 1604){note}",
             _product_evidence("broad", ["03", "1604"], 0.95)),
        Flag("unmatched_district", OTHER_LIST, "Haryana", "Nowhere Nagar", "", "",
             f"Nowhere Nagar (Haryana) could not be checked: no exports recorded{note}",
             {"match_status": "no_exports", "reason": "no exports recorded"}),
    ]
    kept = [f for f in flags if f.product not in drop and f.code not in drop]
    return pd.DataFrame([f.to_row() for f in kept], columns=list(FLAG_COLUMNS))


def flag_id_of(frame: pd.DataFrame, **where: str) -> str:
    rows = frame
    for column, value in where.items():
        rows = rows[rows[column] == value]
    assert len(rows) == 1, where
    return str(rows.iloc[0]["flag_id"])
