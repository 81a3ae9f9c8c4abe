"""score_districts(): every district's listed products against what it exports.

For each list (the three ODOP lists are scored separately: they are different programmes)
and each district in it:

1. the district name is matched to the export table (:mod:`hsmatch.districts`);
2. each listed product is classified (:mod:`hsmatch.classify`), or taken from a reviewer's
   correction, and compared with the district's exports at the finest level both sides
   share: an 8-digit code against HS8 exports at HS8, a heading at HS4, anything against
   sector exports by the sector of its chapter;
3. the district gets its verdict at one level for all districts (the sector for sector
   data, the heading for HS data): coverage (the share of its exports its listed products
   account for), the rank of each listed product, concentration (Herfindahl index), and
   whether the list includes its top export;
4. recommendations: its top exports the list misses, with revealed comparative advantage,
   and related products it could add (density in the co-export structure,
   :mod:`hsmatch.relatedness`), each with the products that make it close;
5. flags with stable ids for reviewers (:mod:`hsmatch.flags`).

A district that fails to score gets a ``scoring_error`` flag; the rest go on.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hsmatch.districts import DistrictList, crosswalk, validate_district_list
from hsmatch.errors import InputError
from hsmatch.exports import (
    HS_LEVELS,
    RESIDUAL_LEVEL,
    SECTORS,
    DistrictExports,
    rollup,
    sector_of,
    validate_exports,
)
from hsmatch.flags import FLAG_COLUMNS, Flag
from hsmatch.relatedness import ProductSpace, product_space
from hsmatch.text import normalize

if TYPE_CHECKING:
    from hsmatch.classify import Classifier, Match

log = logging.getLogger(__name__)

ALIGNMENTS = ("aligned", "partly aligned", "divergent", "not checked")


@dataclass(frozen=True)
class ScoreSettings:
    """The thresholds behind the verdicts; every one is reported beside the results."""

    negligible_share: float = 0.01     # a listed product under this share of exports: not exported
    large_export_share: float = 0.10   # an unlisted export over this share: flagged
    aligned_coverage: float = 0.50     # coverage that makes a list aligned without the top export
    divergent_coverage: float = 0.25   # under this, and without the top export: divergent
    one_dominates: float = 0.50        # top export share for "one product dominates"
    two_dominate: float = 0.75         # top-two share for "two products dominate"
    tentative_confidence: float = 0.20  # a goods guess this sure still counts for alignment
    missing_recommendations: int = 5
    min_missing_share: float = 0.02
    related_recommendations: int = 5


@dataclass(frozen=True)
class Override:
    """A reviewer's correction of a listed product: its kind and codes."""

    kind: str
    codes: tuple[str, ...]
    note: str = ""


@dataclass
class ScoreResult:
    """The tables of a scoring run, and what they rest on (``meta``)."""

    districts: pd.DataFrame
    products: pd.DataFrame
    recommendations: pd.DataFrame
    flags: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)


# -- the export side ------------------------------------------------------------------------


class ExportView:
    """District exports indexed for matching: per district, value by code at the data's
    level and at the verdict level, and national totals (the sum over all districts)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        levels = set(frame["level"])
        hs = sorted((HS_LEVELS[lv] for lv in levels if lv in HS_LEVELS), reverse=True)
        if "sector" in levels and hs:
            raise InputError("the exports mix sector rows with HS rows; score one granularity "
                             "at a time (roll the HS rows up to sectors with hsmatch.exports.rollup)")
        if len(hs) > 1:
            raise InputError(f"the exports mix HS levels {sorted(levels)}; roll them up to one "
                             "level first (hsmatch.exports.rollup)")
        self.data_level = "sector" if "sector" in levels else f"hs{hs[0]}" if hs else "sector"
        self.verdict_level = "sector" if self.data_level == "sector" else (
            "hs4" if HS_LEVELS[self.data_level] >= 4 else self.data_level)
        self.synthetic = bool(frame["synthetic"].any())
        self.years = sorted(set(frame["year"]))
        self.fine = self._by_district(frame)
        coarse = frame if self.verdict_level == self.data_level else rollup(frame, self.verdict_level)
        self.coarse = self._by_district(coarse)
        self.national_fine = frame.groupby("code")["value_usd"].sum().to_dict()
        self.national_coarse = coarse.groupby("code")["value_usd"].sum().to_dict()
        self.residual_codes = set(frame.loc[frame["level"] == RESIDUAL_LEVEL, "code"])
        usable = coarse[(coarse["level"] != RESIDUAL_LEVEL) & (coarse["value_usd"] > 0)]
        self.space: ProductSpace | None = product_space(usable) if len(usable) else None

    @staticmethod
    def _by_district(frame: pd.DataFrame) -> dict[tuple[str, str], dict[str, float]]:
        grouped = frame.groupby(["state", "district", "code", "level"], sort=False)["value_usd"].sum()
        out: dict[tuple[str, str], dict[str, float]] = {}
        for (state, district, code, level), value in grouped.items():
            key = f"{code}*" if level == RESIDUAL_LEVEL else code  # a residual is no HS code
            held = out.setdefault((state, district), {})
            held[key] = held.get(key, 0.0) + float(value)
        return out

    def keys_for(self, codes: Sequence[str], level: str, held: Mapping[str, float]) -> tuple[set[str], str]:
        """The export codes (of one district's ``held``) that product ``codes`` match at
        ``level``, and the level name the comparison was made at."""
        if level == "sector":
            return {s for s in (sector_of(c) for c in codes) if s and s in held}, "sector"
        digits = HS_LEVELS[level]
        found: set[str] = set()
        finest = 0
        for code in codes:
            width = min(len(code), digits)
            finest = max(finest, width)
            prefix = code[:width]
            found |= {k for k in held if not k.endswith("*") and k[:width] == prefix}
        return found, f"hs{finest}" if finest else level


def _label(code: str, level: str, nomenclature: Any) -> str:
    if level == "sector":
        return SECTORS[code].label if code in SECTORS else code
    if code.endswith("*"):
        return f"chapter {code[:-1]}: codes created after 2022 (no national HS8 detail)"
    try:
        return str(nomenclature.readable(code))
    except Exception:
        return ""


# -- the product side -----------------------------------------------------------------------


@dataclass
class ProductCodes:
    """What one listed product contributes to alignment."""

    kind: str
    code: str
    codes: tuple[str, ...]
    confidence: float
    tentative: bool
    reason: str
    candidates: list[dict[str, Any]]
    overridden: bool = False


def product_codes(match: Match, settings: ScoreSettings) -> ProductCodes:
    """The codes a match lets alignment use: the code; for an unsure goods match its best
    guess (marked tentative) when the guess is at least ``tentative_confidence`` sure; for
    a broad match its chapters/headings; for a compound entry its parts' codes."""
    candidates = [{"code": c.code, "description": c.description[:120], "score": round(c.score, 4)}
                  for c in match.candidates[:5]]
    codes: list[str] = []
    tentative = False
    for part in match.parts or [match]:
        if part.kind == "goods":
            if part.code:
                codes.append(part.code)
            elif part.candidates and part.confidence >= settings.tentative_confidence:
                codes.append(part.candidates[0].code)
                tentative = True
        elif part.kind == "broad":
            # The chapters/headings it covers; the example lines under them add nothing.
            codes.extend(c.code for c in part.candidates if not c.example)
    return ProductCodes(kind=match.kind, code=match.code or "", codes=tuple(dict.fromkeys(codes)),
                        confidence=match.confidence, tentative=tentative, reason=match.reason,
                        candidates=candidates)


def _override_codes(override: Override) -> ProductCodes:
    return ProductCodes(kind=override.kind, code=override.codes[0] if override.codes else "",
                        codes=override.codes, confidence=1.0, tentative=False,
                        reason=f"reviewer's correction{': ' + override.note if override.note else ''}",
                        candidates=[], overridden=True)


# -- scoring --------------------------------------------------------------------------------


def score_districts(products: DistrictList | pd.DataFrame, exports: DistrictExports | pd.DataFrame, *,
                    classifier: Classifier | None = None,
                    overrides: Mapping[str, Override] | None = None,
                    settings: ScoreSettings | None = None, progress: bool = False,
                    data_dir: str | os.PathLike[str] | None = None) -> ScoreResult:
    """Score every district list against district exports.

    ``products``: a district list (state, district, product[, list]); ``exports``: district
    exports in the tidy schema (:mod:`hsmatch.exports`), at one level. ``overrides`` maps a
    normalised product name to a reviewer's :class:`Override`, which replaces the
    classifier's answer. Returns districts, products, recommendations and flags tables.
    """
    from tqdm.auto import tqdm

    from hsmatch.nomenclature import Nomenclature

    settings = settings or ScoreSettings()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    lists = products if isinstance(products, DistrictList) else validate_district_list(products)
    exported = exports if isinstance(exports, DistrictExports) else validate_exports(exports)
    frame = exported.frame
    view = ExportView(frame)
    walked = crosswalk(lists, frame).rows
    timings["load_s"] = time.perf_counter() - started

    started = time.perf_counter()
    if classifier is None:
        from hsmatch.classify import load_model

        classifier = load_model()
    texts = list(dict.fromkeys(str(t) for t in walked["product"]))
    overrides = {normalize(k): v for k, v in (overrides or {}).items()}
    to_classify = [t for t in texts if normalize(t) not in overrides]
    matches = dict(zip(to_classify, classifier.classify_batch(to_classify, progress=progress),
                       strict=True))
    resolved = {t: _override_codes(overrides[normalize(t)]) if normalize(t) in overrides
                else product_codes(matches[t], settings) for t in texts}
    timings["classify_s"] = time.perf_counter() - started

    started = time.perf_counter()
    nomenclature = Nomenclature.load(data_dir)
    scorer = _Scorer(view, settings, nomenclature)
    groups = walked.groupby(["list", "state", "district"], sort=False, dropna=False)
    for (list_name, state, district), rows in tqdm(groups, desc="scoring districts", unit="district",
                                                    disable=not progress):
        try:
            scorer.score_group(str(list_name), str(state), str(district), rows, resolved)
        except Exception as exc:
            log.exception("scoring %s / %s failed", state, district)
            scorer.flags.append(Flag("scoring_error", str(list_name), str(state), str(district), "", "",
                                     f"this district could not be scored: {exc}",
                                     {"error": repr(exc)}))
    timings["align_s"] = time.perf_counter() - started

    meta = {
        "data_level": view.data_level, "verdict_level": view.verdict_level,
        "synthetic": view.synthetic, "years": view.years, "export_label": exported.label,
        "list_label": lists.label, "settings": asdict(settings),
        "list_rows": len(walked), "lists": sorted(set(walked["list"])),
        "export_warnings": len(exported.warnings), "list_warnings": len(lists.warnings),
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
    return ScoreResult(
        districts=_whole_numbers(pd.DataFrame(scorer.district_rows), DISTRICT_COUNTS),
        products=_whole_numbers(pd.DataFrame(scorer.product_rows), ("rank_in_district",)),
        recommendations=pd.DataFrame(scorer.recommendation_rows, columns=RECOMMENDATION_COLUMNS),
        flags=pd.DataFrame([f.to_row() for f in scorer.flags], columns=list(FLAG_COLUMNS)),
        meta=meta,
    )


DISTRICT_COUNTS = ("listed_products", "goods", "broad", "services", "unclassified",
                   "checked_products", "best_listed_rank")


def _whole_numbers(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Counts stay integers where some rows have none (unmatched districts)."""
    for column in columns:
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column]).astype("Int64")
    return frame


RECOMMENDATION_COLUMNS = ["list", "state", "district", "export_state", "export_district",
                          "recommendation", "level", "code", "label", "value_usd",
                          "share_of_district", "district_share_of_india", "rca", "density",
                          "close_to", "reason"]


class _Scorer:
    """Accumulates the rows of every table, one (list, district) group at a time."""

    def __init__(self, view: ExportView, settings: ScoreSettings, nomenclature: Any) -> None:
        self.view, self.settings, self.nom = view, settings, nomenclature
        self.district_rows: list[dict[str, Any]] = []
        self.product_rows: list[dict[str, Any]] = []
        self.recommendation_rows: list[dict[str, Any]] = []
        self.flags: list[Flag] = []

    def label(self, code: str, level: str) -> str:
        return _label(code, level, self.nom)

    def top_exports(self, held: Mapping[str, float], level: str, n: int = 5) -> list[dict[str, Any]]:
        total = sum(held.values()) or 1.0
        ranked = sorted(held.items(), key=lambda kv: -kv[1])[:n]
        return [{"code": k, "label": self.label(k, level), "value_usd": round(v, 2),
                 "share": round(v / total, 4)} for k, v in ranked]

    def score_group(self, list_name: str, state: str, district: str, rows: pd.DataFrame,
                    resolved: Mapping[str, ProductCodes]) -> None:
        first = rows.iloc[0]
        matched = bool(first["matched"])
        key = (str(first["export_state"]), str(first["export_district"])) if matched else None
        fine = self.view.fine.get(key, {}) if key else {}
        coarse = self.view.coarse.get(key, {}) if key else {}
        base = {"list": list_name, "state": state, "district": district,
                "export_state": key[0] if key else "", "export_district": key[1] if key else "",
                "match_status": str(first["match_status"])}
        data = "synthetic" if self.view.synthetic else "real"
        if not matched or not coarse:
            reason = str(first.get("match_reason", "")) or "no exports recorded for this district"
            self.flags.append(Flag("unmatched_district", list_name, state, district, "", "",
                                   f"{district} ({state}) could not be checked: {reason}",
                                   {"match_status": base["match_status"], "reason": reason}))
            for _, row in rows.iterrows():
                self._product_row(base, row, resolved[str(row["product"])], None, {}, {}, data)
            self.district_rows.append({**base, "listed_products": len(rows), "alignment": "not checked",
                                       "reason": reason, "data": data})
            return

        total = sum(fine.values())
        covered: set[str] = set()
        checked = 0
        listed_ranks: list[int] = []
        coarse_rank = {k: i + 1 for i, (k, _) in enumerate(sorted(coarse.items(), key=lambda kv: -kv[1]))}
        kinds: dict[str, int] = {}
        for _, row in rows.iterrows():
            product = resolved[str(row["product"])]
            kinds[product.kind] = kinds.get(product.kind, 0) + 1
            if product.codes and product.kind in ("goods", "broad"):
                verdict_keys, _ = self.view.keys_for(product.codes, self.view.verdict_level, coarse)
                covered |= verdict_keys
                checked += 1
                listed_ranks += [coarse_rank[k] for k in verdict_keys if k in coarse_rank]
            self._product_row(base, row, product, key, fine, coarse, data)

        coarse_total = sum(coarse.values()) or 1.0
        shares = sorted((v / coarse_total for v in coarse.values()), reverse=True)
        # A residual ("codes created after 2022" of a chapter) has no product detail: it
        # counts in the total but cannot be a district's top export.
        products_only = {k: v for k, v in coarse.items() if not k.endswith("*")} or coarse
        top_code = max(products_only, key=products_only.__getitem__)
        top_share = coarse[top_code] / coarse_total
        coverage = sum(coarse[k] for k in covered if k in coarse) / coarse_total
        top_listed = top_code in covered
        s = self.settings
        if not checked:
            alignment, why = "not checked", "no listed product could be compared with goods exports"
        elif top_listed or coverage >= s.aligned_coverage:
            alignment = "aligned"
            why = ("the list includes the top export" if top_listed else
                   f"listed products cover {coverage:.0%} of exports")
        elif coverage < s.divergent_coverage:
            alignment = "divergent"
            why = f"the top export is not listed and listed products cover only {coverage:.0%}"
        else:
            alignment = "partly aligned"
            why = f"the top export is not listed; listed products cover {coverage:.0%}"
        dominance = ("one product" if shares[0] >= s.one_dominates else
                     "two products" if sum(shares[:2]) >= s.two_dominate else "diversified")
        self.district_rows.append({
            **base, "listed_products": len(rows), "goods": kinds.get("goods", 0),
            "broad": kinds.get("broad", 0), "services": kinds.get("service", 0),
            "unclassified": kinds.get("unknown", 0), "checked_products": checked,
            "total_exports_usd": round(total, 2), "level": self.view.verdict_level,
            "coverage": round(coverage, 4), "top_export": top_code,
            "top_export_label": self.label(top_code, self.view.verdict_level),
            "top_export_share": round(top_share, 4), "top_export_listed": top_listed,
            "best_listed_rank": min(listed_ranks) if listed_ranks else None,
            "herfindahl": round(float(sum(x * x for x in shares)), 4), "dominated_by": dominance,
            "alignment": alignment, "reason": why, "data": data,
            "top_exports_json": json.dumps(self.top_exports(coarse, self.view.verdict_level, 8)),
        })
        self._recommend(base, key, coarse, covered, list_name, state, district)

    def _product_row(self, base: dict[str, Any], row: pd.Series, product: ProductCodes,
                     key: tuple[str, str] | None, fine: Mapping[str, float],
                     coarse: Mapping[str, float], data: str) -> None:
        list_name, state, district = base["list"], base["state"], base["district"]
        text = str(row["product"])
        out = {**base, "product": text, "kind": product.kind, "code": product.code,
               "codes": " ".join(product.codes), "confidence": round(product.confidence, 4),
               "tentative": product.tentative, "overridden": product.overridden,
               "classifier_reason": product.reason, "level": "", "exports_usd": None,
               "share_of_district": None, "district_share_of_india": None, "rank_in_district": None,
               "data": data}
        evidence = {"kind": product.kind, "codes": list(product.codes),
                    "confidence": round(product.confidence, 4), "candidates": product.candidates,
                    "classifier_reason": product.reason,
                    "top_exports": self.top_exports(coarse, self.view.verdict_level) if coarse else [],
                    "data": data, "data_level": self.view.data_level}
        if product.kind == "service":
            self.flags.append(Flag("service", list_name, state, district, text, product.code,
                                   f"'{text}' is a service; goods export data cannot check it", evidence))
        if product.kind == "unknown" or (product.kind == "goods" and not product.code and not product.overridden):
            self.flags.append(Flag("unclassified", list_name, state, district, text, "",
                                   f"'{text}' could not be classified with confidence "
                                   f"({product.confidence:.2f}): {product.reason}", evidence))
        if product.kind == "broad":
            self.flags.append(Flag("too_broad", list_name, state, district, text, "",
                                   f"'{text}' is a broad category ({', '.join(product.codes[:6])}); "
                                   "it is checked only at the level of those chapters/headings", evidence))
        if key is not None and fine and product.codes and product.kind in ("goods", "broad"):
            matched, level = self.view.keys_for(product.codes, self.view.data_level, fine)
            value = sum(fine[k] for k in matched)
            national = sum(self.view.national_fine.get(k, 0.0) for k in matched)
            total = sum(fine.values()) or 1.0
            order = {k: i + 1 for i, (k, _) in enumerate(sorted(fine.items(), key=lambda kv: -kv[1]))}
            ranks = [order[k] for k in matched]
            out.update(level=level, exports_usd=round(value, 2), share_of_district=round(value / total, 6),
                       district_share_of_india=round(value / national, 6) if national else None,
                       rank_in_district=min(ranks) if ranks else None)
            if value / total < self.settings.negligible_share:
                evidence = {**evidence, "level": level, "exports_usd": round(value, 2),
                            "share_of_district": round(value / total, 6)}
                how = "no exports" if value == 0 else f"only {value / total:.2%} of its exports"
                self.flags.append(Flag("not_exported", list_name, state, district, text, product.code,
                                       f"{district} records {how} under '{text}' "
                                       f"({', '.join(product.codes[:4])}, compared at {level})", evidence))
        self.product_rows.append(out)

    def _recommend(self, base: dict[str, Any], key: tuple[str, str], coarse: Mapping[str, float],
                   covered: set[str], list_name: str, state: str, district: str) -> None:
        s, level = self.settings, self.view.verdict_level
        total = sum(coarse.values()) or 1.0
        space = self.view.space
        row = space.row(*key) if space else None
        grand = sum(self.view.national_coarse.values()) or 1.0
        missing = [(k, v) for k, v in sorted(coarse.items(), key=lambda kv: -kv[1])
                   if k not in covered and not k.endswith("*") and v / total >= s.min_missing_share]
        for code, value in missing[:s.missing_recommendations]:
            national = self.view.national_coarse.get(code, 0.0)
            rca = (value / total) / (national / grand) if national else None
            share = value / total
            rec = {**base, "recommendation": "top export not listed", "level": level, "code": code,
                   "label": self.label(code, level), "value_usd": round(value, 2),
                   "share_of_district": round(share, 4),
                   "district_share_of_india": round(value / national, 6) if national else None,
                   "rca": round(rca, 3) if rca is not None else None, "density": None, "close_to": "",
                   "reason": f"{share:.0%} of the district's exports, not on its list"
                             + (f"; RCA {rca:.1f}" if rca is not None else "")}
            self.recommendation_rows.append(rec)
            if share >= s.large_export_share:
                self.flags.append(Flag(
                    "missing_top_export", list_name, state, district, "", code,
                    f"{rec['label'] or code} is {share:.0%} of {district}'s exports but not on its list",
                    {"level": level, "code": code, "label": rec["label"], "value_usd": rec["value_usd"],
                     "share_of_district": rec["share_of_district"], "rca": rec["rca"],
                     "top_exports": self.top_exports(coarse, level)}))
        if space is None or row is None:
            return
        taken = covered | {code for code, _ in missing[:s.missing_recommendations]}
        order = np.argsort(-space.density[row], kind="stable")
        added = 0
        for j in order:
            code = space.products[int(j)]
            if added >= s.related_recommendations or space.density[row, j] <= 0:
                break
            if code in taken or space.rca[row, j] >= 1.0:
                continue
            close = space.neighbours(row, int(j))
            close_text = "; ".join(f"{c} {self.label(c, level)[:40]} ({p:.2f})" for c, p in close)
            value = float(space.values[row, j])
            self.recommendation_rows.append({
                **base, "recommendation": "related product", "level": level, "code": code,
                "label": self.label(code, level), "value_usd": round(value, 2),
                "share_of_district": round(value / total, 4),
                "district_share_of_india": round(value / space.values[:, j].sum(), 6)
                if space.values[:, j].sum() else None,
                "rca": round(float(space.rca[row, j]), 3), "density": round(float(space.density[row, j]), 4),
                "close_to": close_text,
                "reason": f"density {space.density[row, j]:.2f}: close to what the district already "
                          f"exports competitively ({', '.join(c for c, _ in close)})"})
            added += 1
