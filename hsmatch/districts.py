"""District product lists and the district name crosswalk.

A district list is a CSV with one row per listed product::

    state,district,product[,list][,any other column]

``list`` names the list a row comes from (``odop_products.csv`` holds three); when the
file has no such column it is filled with the file name. Every other column is kept as
it is, and ``source_line`` (the CSV line, header = 1) is added. Rows with an empty
state, district or product, duplicated rows and unknown state names are kept and
reported as :class:`~hsmatch.errors.RowWarning`; nothing is dropped.

The crosswalk puts every list row on a district of an export table (the DGCI&S names of
``district_sector_exports_fy2025.csv``). It tries these steps in order and records the
first that answers as ``match_status``:

==============  ======================================================================
``exact``       the same name (case and spacing aside)
``normalised``  the same after removing punctuation, "district", "the", a bracketed
                part or a "/" alternative ("Kendujhar (Keonjhar)"), or word order and
                direction words ("North 24 Parganas", "Purbi Champaran" = East)
``alias``       a spelling, other name or renaming in ``district_aliases.csv``
                ("Mewat" -> NUH, "Allahabad" -> PRAYAGRAJ)
``parent``      a district created after the export file's boundaries, mapped through
                ``district_aliases.csv`` to the district DGCI&S reports it under; the
                export figures cover a larger area than the listed district
``spelling``    the same consonant skeleton, unique in the state ("Purnea" = PURNIA);
                the score is the rapidfuzz ratio of the two names
``fuzzy``       rapidfuzz ratio >= the threshold, clear of the runner-up, with the same
                direction words; the score is recorded
==============  ======================================================================

Rows that match nothing get one of ``no_exports`` (a real district absent from the
export file, with the reviewed reason from the alias table: DGCI&S lists only districts
that export), ``not_found`` (with the closest candidate), ``ambiguous``,
``unknown_state`` or ``missing_name``. Every row gets a status, a score and a reason.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from anyascii import anyascii
from rapidfuzz import fuzz, process

from hsmatch.data import read_csv_text
from hsmatch.errors import DataError, RowWarning

log = logging.getLogger(__name__)

ALIASES_PATH = Path(__file__).resolve().parent / "district_aliases.csv"
ALIAS_KINDS = ("spelling", "renamed", "parent", "no_exports")
LIST_COLUMNS = ("state", "district", "product")

MATCHED_STATUSES = ("exact", "normalised", "alias", "parent", "spelling", "fuzzy")
UNMATCHED_STATUSES = ("no_exports", "not_found", "ambiguous", "unknown_state", "missing_name")
MATCH_COLUMNS = ("export_state", "export_district", "matched", "match_status", "match_score",
                 "match_reason")

# State and UT names as DGCI&S writes them (the export file's spelling is canonical).
STATES = (
    "ANDAMAN AND NICOBAR ISLANDS", "ANDHRA PRADESH", "ARUNACHAL PRADESH", "ASSAM", "BIHAR",
    "CHANDIGARH", "CHHATTISGARH", "DADRA,NH,DAMAN,DIU", "DELHI", "GOA", "GUJARAT", "HARYANA",
    "HIMACHAL PRADESH", "JAMMU AND KASHMIR", "JHARKHAND", "KARNATAKA", "KERALA", "LADAKH",
    "LAKSHADWEEP", "MADHYA PRADESH", "MAHARASHTRA", "MANIPUR", "MEGHALAYA", "MIZORAM",
    "NAGALAND", "ODISHA", "PUDUCHERRY", "PUNJAB", "RAJASTHAN", "SIKKIM", "TAMIL NADU",
    "TELANGANA", "TRIPURA", "UTTAR PRADESH", "UTTARAKHAND", "WEST BENGAL", "UNSPECIFIED",
)
# Other spellings and former names of states, keyed by their compact form (see _compact).
_STATE_ALIASES = {
    "DADRAANDNAGARHAVELIANDDAMANANDDIU": "DADRA,NH,DAMAN,DIU",
    "DADRAANDNAGARHAVELI": "DADRA,NH,DAMAN,DIU",
    "DAMANANDDIU": "DADRA,NH,DAMAN,DIU",
    "DNHANDDD": "DADRA,NH,DAMAN,DIU",
    "DNHDD": "DADRA,NH,DAMAN,DIU",
    "ANDAMANANDNICOBAR": "ANDAMAN AND NICOBAR ISLANDS",
    "ANDAMANNICOBARISLANDS": "ANDAMAN AND NICOBAR ISLANDS",
    "ORISSA": "ODISHA",
    "PONDICHERRY": "PUDUCHERRY",
    "UTTARANCHAL": "UTTARAKHAND",
    "CHATTISGARH": "CHHATTISGARH",
    "NCTOFDELHI": "DELHI",
    "NATIONALCAPITALTERRITORYOFDELHI": "DELHI",
    "JANDK": "JAMMU AND KASHMIR",
}

# Direction words, in English and Hindi/Bengali forms, folded to one English word each.
_DIRECTIONS = {
    "EAST": "EAST", "PURBA": "EAST", "PURBI": "EAST", "PURVA": "EAST", "PURV": "EAST",
    "WEST": "WEST", "PASCHIM": "WEST", "PASHCHIM": "WEST", "PACHIM": "WEST",
    "NORTH": "NORTH", "UTTAR": "NORTH", "UTTARA": "NORTH",
    "SOUTH": "SOUTH", "DAKSHIN": "SOUTH", "DAKSHINA": "SOUTH",
    "UPPER": "UPPER", "LOWER": "LOWER", "CENTRAL": "CENTRAL", "MIDDLE": "MIDDLE",
    "EASTERN": "EASTERN", "WESTERN": "WESTERN",
}
_DROP_WORDS = {"THE", "DISTRICT", "DIST"}
_PARENS = re.compile(r"\(([^)]*)\)?")
_ALTERNATIVES = re.compile(r"\s*/\s*")


def _words(name: str) -> list[str]:
    text = anyascii(str(name)).upper().replace("&", " AND ")
    return [w for w in re.split(r"[^A-Z0-9]+", text) if w and w not in _DROP_WORDS]


def _compact(name: str) -> str:
    """Letters and digits only: "Dr. B. R. Ambedkar Konaseema" -> DRBRAMBEDKARKONASEEMA."""
    return "".join(_words(name))


def district_key(name: str) -> str:
    """The key two spellings of a district share when they differ only in case, spacing,
    punctuation, "&"/"and", or the words "district" and "the"."""
    return _compact(name)


def _token_key(name: str) -> str:
    """Word order and direction language ignored: "North 24 Parganas" = "24 PARGANAS NORTH",
    "Purbi Champaran" = "EAST CHAMPARAN"."""
    return " ".join(sorted(_DIRECTIONS.get(w, w) for w in _words(name)))


def _directions(name: str) -> frozenset[str]:
    return frozenset(_DIRECTIONS[w] for w in _words(name) if w in _DIRECTIONS)


_VOWELS = re.compile(r"[AEIOUYH]")
_DOUBLES = re.compile(r"(.)\1+")


def _skeleton(word: str) -> str:
    # Transliterations of Indian names differ mostly in vowels, aspiration (h), w/v and
    # k/c, doubled letters and a plural s: "Purnea"/"Purnia", "Kasargod"/"Kasaragod".
    word = word.replace("W", "V").replace("K", "C").replace("Q", "C").replace("Z", "J")
    word = _DOUBLES.sub(r"\1", _VOWELS.sub("", word))
    return word[:-1] if len(word) > 3 and word.endswith("S") else word


def _skeleton_key(name: str) -> str:
    words = _words(name)
    directions = sorted(_DIRECTIONS[w] for w in words if w in _DIRECTIONS)
    rest = _skeleton("".join(w for w in words if w not in _DIRECTIONS))
    return " ".join([*directions, rest]) if len(rest) >= 3 else ""


def name_variants(name: str) -> list[str]:
    """The name, then its parts: outside and inside brackets, and "/" alternatives.

    "Anantapuram (Anantapur)" -> [the name, "Anantapuram", "Anantapur"];
    "Himmatnagar/Sabarkantha" -> [the name, "Himmatnagar", "Sabarkantha"].
    """
    name = " ".join(str(name).split())
    out = [name]
    outside = _PARENS.sub(" ", name)
    out.append(" ".join(outside.split()))
    out += [m.strip() for m in _PARENS.findall(name)]
    for piece in list(out):
        out += _ALTERNATIVES.split(piece)
    unique: list[str] = []
    for item in out:
        item = item.strip(" -.,")
        if item and _compact(item) and item not in unique:
            unique.append(item)
    return unique


def normalize_state(name: object) -> str | None:
    """The DGCI&S spelling of a state or UT name, or None when it is not one."""
    if not isinstance(name, str) or not name.strip():
        return None
    key = _compact(name)
    if key in _STATE_ALIASES:
        return _STATE_ALIASES[key]
    return _STATE_BY_KEY.get(key)


_STATE_BY_KEY = {_compact(s): s for s in STATES}


def closest_state(name: str) -> str | None:
    """The known state nearest in spelling to ``name`` (a suggestion, never a match)."""
    found = process.extractOne(_compact(name), list(_STATE_BY_KEY), scorer=fuzz.ratio)
    return _STATE_BY_KEY[found[0]] if found and found[1] >= 60 else None


# ---------------------------------------------------------------------------------------
# Aliases


@lru_cache(maxsize=4)
def _read_aliases(path: str) -> pd.DataFrame:
    frame = read_csv_text(path, what=f"district alias table {path}")
    missing = [c for c in ("state", "district", "target_district", "kind", "reason")
               if c not in frame.columns]
    if missing:
        raise DataError(f"district alias table {path}: missing column(s) {missing}; the "
                        f"columns are {list(frame.columns)}")
    for pos, row in enumerate(frame.itertuples(index=False), start=2):
        where = f"district alias table {path}, line {pos}"
        if normalize_state(row.state) is None:
            raise DataError(f"{where}: {row.state!r} is not a state name (use the DGCI&S "
                            f"spelling, for example {STATES[1]!r})")
        if row.kind not in ALIAS_KINDS:
            raise DataError(f"{where}: kind {row.kind!r} is not one of {ALIAS_KINDS}")
        if (row.kind == "no_exports") != (row.target_district.strip() == ""):
            raise DataError(f"{where}: a {row.kind!r} alias "
                            + ("must leave target_district empty" if row.kind == "no_exports"
                               else "needs a target_district"))
        if not row.reason.strip():
            raise DataError(f"{where}: every alias needs a one-line reason")
    frame["state"] = frame["state"].map(normalize_state)
    frame["key"] = frame["district"].map(_compact)
    duplicated = frame.duplicated(["state", "key"], keep=False)
    if duplicated.any():
        pos = int(duplicated.to_numpy().nonzero()[0][1])
        raise DataError(f"district alias table {path}, line {pos + 2}: "
                        f"{frame['district'].iloc[pos]!r} in {frame['state'].iloc[pos]} is "
                        "listed twice; keep one row per name")
    return frame


def load_aliases(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The alias table (state, district, target_district, kind, reason, key)."""
    return _read_aliases(str(path or ALIASES_PATH)).copy()


# ---------------------------------------------------------------------------------------
# District lists


@dataclass
class DistrictList:
    """A district product list: the rows (every input row, in order) and their warnings."""

    frame: pd.DataFrame
    warnings: list[RowWarning] = field(default_factory=list)
    label: str = ""


def validate_district_list(frame: pd.DataFrame, *, label: str = "district list",
                           list_name: str | None = None) -> DistrictList:
    """Check a district list table; add ``list`` (if absent) and ``source_line``."""
    frame = frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in LIST_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{label}: missing column(s) {missing}; the columns are {list(frame.columns)}. "
            "A district list needs state, district and product columns (rename yours to "
            "these names; other columns are kept)"
        )
    if "source_line" in frame.columns:
        raise DataError(f"{label}: has a column 'source_line', which hsmatch adds itself; "
                        "rename it")
    frame = frame.reset_index(drop=True)
    for column in LIST_COLUMNS:
        frame[column] = frame[column].fillna("").astype(str).map(lambda v: " ".join(v.split()))
    if "list" not in frame.columns:
        frame["list"] = list_name or label
    frame["list"] = frame["list"].fillna("").astype(str)
    frame["source_line"] = range(2, len(frame) + 2)

    warnings: list[RowWarning] = []
    for column in LIST_COLUMNS:
        for pos in frame.index[frame[column] == ""]:
            warnings.append(RowWarning(label, int(pos) + 2, column, f"empty {column}; the row "
                                       "is kept and gets match status 'missing_name'"
                                       if column != "product" else "empty product"))
    seen_spelling: dict[str, str] = {}
    for pos, state in frame["state"].items():
        if not state:
            continue
        canonical = normalize_state(state)
        if canonical is None:
            hint = closest_state(state)
            warnings.append(RowWarning(label, int(pos) + 2, "state",
                                       f"{state!r} is not a known state or UT name"
                                       + (f" (closest: {hint})" if hint else "")))
            continue
        first = seen_spelling.setdefault(canonical, state)
        if first != state and _compact(first) != _compact(state):
            warnings.append(RowWarning(label, int(pos) + 2, "state",
                                       f"state written {state!r} here and {first!r} on an "
                                       f"earlier row; both are read as {canonical}"))
    keys = pd.DataFrame({
        "state": frame["state"].map(lambda s: normalize_state(s) or _compact(s)),
        "district": frame["district"].map(_compact),
        "product": frame["product"].str.lower(),
        "list": frame["list"],
    })
    duplicated = keys.duplicated(keep="first") & (keys["district"] != "")
    for pos in frame.index[duplicated]:
        first_pos = int(keys.index[(keys == keys.loc[pos]).all(axis=1)][0])
        warnings.append(RowWarning(label, int(pos) + 2, "product",
                                   f"duplicate of line {first_pos + 2} (same state, district, "
                                   "product and list); both rows are kept"))
    warnings.sort(key=lambda w: (w.line, w.column))
    for warning in warnings:
        log.info("%s", warning)
    return DistrictList(frame=frame, warnings=warnings, label=label)


def read_district_list(path: str | os.PathLike[str], *,
                       encoding: str = "utf-8-sig") -> DistrictList:
    """Read and check a district product list CSV (see the module docstring)."""
    path = Path(path)
    frame = read_csv_text(path, encoding=encoding, what=f"district list {path}")
    return validate_district_list(frame, label=path.name, list_name=path.stem)


# ---------------------------------------------------------------------------------------
# The crosswalk


@dataclass(frozen=True)
class DistrictMatch:
    """Where one (state, district) of a list lands in the export table."""

    export_state: str
    export_district: str
    status: str
    score: float
    reason: str

    @property
    def matched(self) -> bool:
        return self.status in MATCHED_STATUSES


@dataclass
class _StateIndex:
    names: list[str]
    by_compact: dict[str, set[str]] = field(default_factory=dict)
    by_token: dict[str, set[str]] = field(default_factory=dict)
    by_skeleton: dict[str, set[str]] = field(default_factory=dict)

    def add(self, index: dict[str, set[str]], key: str, name: str) -> None:
        if key:
            index.setdefault(key, set()).add(name)


def _unique(found: set[str] | None) -> str | None:
    return next(iter(found)) if found and len(found) == 1 else None


class DistrictMatcher:
    """Matches list (state, district) names onto the districts of an export table.

    ``export_names`` holds the export table's ``state`` and ``district`` columns (one row
    per district is enough). ``fuzzy_threshold`` is the lowest rapidfuzz ratio (0-100)
    that the last step accepts; ``fuzzy_margin`` how far the runner-up must trail.
    """

    def __init__(self, export_names: pd.DataFrame, *, aliases: pd.DataFrame | None = None,
                 fuzzy_threshold: float = 90.0, fuzzy_margin: float = 5.0) -> None:
        for column in ("state", "district"):
            if column not in export_names.columns:
                raise DataError(f"export table: missing column {column!r}; the columns are "
                                f"{list(export_names.columns)}")
        self.fuzzy_threshold = fuzzy_threshold
        self.fuzzy_margin = fuzzy_margin
        self.aliases = load_aliases() if aliases is None else aliases
        pairs = export_names[["state", "district"]].drop_duplicates()
        self._states: dict[str, _StateIndex] = {}
        self._all_compact: dict[str, set[tuple[str, str]]] = {}
        for state, district in pairs.itertuples(index=False):
            canonical = normalize_state(state) or str(state).strip().upper()
            index = self._states.setdefault(canonical, _StateIndex(names=[]))
            index.names.append(district)
            self._all_compact.setdefault(_compact(district), set()).add((canonical, district))
            if _compact(district) == "UNSPECIFIED":
                index.add(index.by_compact, "UNSPECIFIED", district)
                continue
            for variant in name_variants(district):
                index.add(index.by_compact, _compact(variant), district)
                index.add(index.by_token, _token_key(variant), district)
                index.add(index.by_skeleton, _skeleton_key(variant), district)
        self._alias_rows = {(row.state, row.key): row
                            for row in self.aliases.itertuples(index=False)}
        self._cache: dict[tuple[str, str], DistrictMatch] = {}

    @property
    def states(self) -> list[str]:
        return sorted(self._states)

    def match(self, state: object, district: object) -> DistrictMatch:
        """The match of one list (state, district) pair; cached per pair."""
        key = (str(state), str(district))
        if key not in self._cache:
            self._cache[key] = self._match(*key)
        return self._cache[key]

    # Each step returns a match, or None to let the next step try.
    def _match(self, state: str, district: str) -> DistrictMatch:
        if not state.strip() or not district.strip():
            which = "state" if not state.strip() else "district"
            return DistrictMatch("", "", "missing_name", math.nan,
                                 f"empty {which} name: fill it in the list")
        canonical = normalize_state(state)
        if canonical is None:
            hint = closest_state(state)
            return DistrictMatch("", "", "unknown_state", math.nan,
                                 f"state {state!r} is not a known state or UT name"
                                 + (f"; did you mean {hint}?" if hint else "")
                                 + " Fix the state in the list")
        index = self._states.get(canonical)
        variants = name_variants(district)
        if index is None:
            return self._elsewhere(canonical, variants) or DistrictMatch(
                canonical, "", "no_exports", math.nan,
                f"no exports recorded: the export table has no district in {canonical}")
        full, parts = variants[0], variants[1:]

        exact = [n for n in index.names if " ".join(n.upper().split()) == full.upper()]
        if len(exact) == 1:
            return DistrictMatch(canonical, exact[0], "exact", 100.0, "same name")
        found = _unique(index.by_compact.get(_compact(full)))
        if found:
            return DistrictMatch(canonical, found, "normalised", 100.0,
                                 "same name apart from case, spacing or punctuation")
        alias = self._alias(canonical, index, [full])
        if alias:
            return alias
        step = self._lookup(canonical, index.by_compact, parts, "normalised",
                            "matched on the part {part!r} of the name")
        if step:
            return step
        alias = self._alias(canonical, index, parts)
        if alias:
            return alias
        step = self._lookup(canonical, index.by_token, variants, "normalised",
                            "same words in another order or direction language ({part!r})",
                            key=_token_key)
        if step:
            return step
        step = self._lookup(canonical, index.by_skeleton, variants, "spelling",
                            "a spelling variant ({part!r}: same consonants, unique in the "
                            "state)", key=_skeleton_key)
        if step:
            return step
        step = self._fuzzy(canonical, index, variants)
        if step:
            return step
        return self._unmatched(canonical, index, variants)

    def _lookup(self, state: str, table: dict[str, set[str]], variants: list[str], status: str,
                reason: str, key: Any = _compact) -> DistrictMatch | None:
        hits: dict[str, str] = {}
        for part in variants:
            found = table.get(key(part))
            if found and len(found) > 1:
                return DistrictMatch(state, "", "ambiguous", math.nan,
                                     f"{part!r} fits several districts: {sorted(found)}; add "
                                     "the right one to district_aliases.csv")
            if found:
                hits.setdefault(next(iter(found)), part)
        if len(hits) > 1:
            return DistrictMatch(state, "", "ambiguous", math.nan,
                                 f"the parts of the name fit different districts: "
                                 f"{sorted(hits)}; add the right one to district_aliases.csv")
        if not hits:
            return None
        target, part = next(iter(hits.items()))
        score = 100.0 if status != "spelling" else round(
            fuzz.ratio(_compact(part), _compact(target)), 1)
        return DistrictMatch(state, target, status, score, reason.format(part=part))

    def _alias(self, state: str, index: _StateIndex, variants: list[str]) -> DistrictMatch | None:
        for part in variants:
            row = self._alias_rows.get((state, _compact(part)))
            if row is None or row.kind == "no_exports":
                continue
            target = _unique(index.by_compact.get(_compact(row.target_district)))
            if target is None:
                if row.kind == "parent":
                    return DistrictMatch(state, "", "no_exports", math.nan,
                                         f"no exports recorded: {row.reason}; "
                                         f"{row.target_district} has none either")
                log.info("alias %s -> %s: the export table has no %s", part,
                         row.target_district, row.target_district)
                continue
            status = "parent" if row.kind == "parent" else "alias"
            return DistrictMatch(state, target, status, 100.0, f"{row.kind}: {row.reason}")
        return None

    def _fuzzy(self, state: str, index: _StateIndex,
               variants: list[str]) -> DistrictMatch | None:
        choices = {_compact(n): n for n in index.names if _compact(n) != "UNSPECIFIED"}
        if not choices:
            return None
        best: tuple[float, str, str, float] | None = None
        for part in variants:
            ranked = process.extract(_compact(part), list(choices), scorer=fuzz.ratio, limit=2)
            if not ranked:
                continue
            score = float(ranked[0][1])
            runner_up = float(ranked[1][1]) if len(ranked) > 1 else 0.0
            if best is None or score > best[0]:
                best = (score, choices[ranked[0][0]], part, runner_up)
        if best is None:
            return None
        score, target, part, runner_up = best
        if score < self.fuzzy_threshold or _directions(part) != _directions(target):
            return None
        if score - runner_up < self.fuzzy_margin:
            return None
        return DistrictMatch(state, target, "fuzzy", round(score, 1),
                             f"closest spelling in {state} ({part!r}, rapidfuzz ratio "
                             f"{score:.0f}; runner-up {runner_up:.0f}): check it")

    def _elsewhere(self, state: str, variants: list[str]) -> DistrictMatch | None:
        for part in variants:
            found = sorted(s for s, _ in self._all_compact.get(_compact(part), set())
                           if s != state)
            if found:
                return DistrictMatch(state, "", "not_found", math.nan,
                                     f"not in {state} in the export table, but a district "
                                     f"{part!r} is in {', '.join(found)}: check the state")
        return None

    def _unmatched(self, state: str, index: _StateIndex, variants: list[str]) -> DistrictMatch:
        for part in variants:
            row = self._alias_rows.get((state, _compact(part)))
            if row is not None and row.kind == "no_exports":
                return DistrictMatch(state, "", "no_exports", math.nan,
                                     f"no exports recorded: {row.reason}")
        elsewhere = self._elsewhere(state, variants)
        if elsewhere:
            return elsewhere
        choices = {_compact(n): n for n in index.names if _compact(n) != "UNSPECIFIED"}
        found = process.extractOne(_compact(variants[0]), list(choices), scorer=fuzz.ratio)
        closest = f"; closest: {choices[found[0]]} (ratio {found[1]:.0f})" if found else ""
        score = round(float(found[1]), 1) if found else math.nan
        return DistrictMatch(state, "", "not_found", score,
                             f"no district of this name in {state} in the export table"
                             f"{closest}. If it is a district with no exports that is "
                             "expected; otherwise add it to district_aliases.csv")


@dataclass
class Crosswalk:
    """The crosswalk of one district list: every list row with its match columns."""

    rows: pd.DataFrame
    warnings: list[RowWarning] = field(default_factory=list)

    def unmatched(self) -> pd.DataFrame:
        return self.rows[~self.rows["matched"]]

    def summary(self) -> dict[str, Any]:
        """Match rates overall and per list, counts per status, and the unmatched rows."""
        rows = self.rows

        def rate(part: pd.DataFrame) -> dict[str, Any]:
            n = len(part)
            matched = int(part["matched"].sum())
            parent = int((part["match_status"] == "parent").sum())
            no_exports = int((part["match_status"] == "no_exports").sum())
            return {
                "rows": n,
                "matched": matched,
                "match_rate": round(matched / n, 4) if n else None,
                "matched_to_parent": parent,
                "no_exports": no_exports,
                "identified_rate": round((matched + no_exports) / n, 4) if n else None,
            }

        out = rate(rows)
        out["by_status"] = {s: int((rows["match_status"] == s).sum())
                            for s in (*MATCHED_STATUSES, *UNMATCHED_STATUSES)}
        out["by_list"] = {name: rate(part) for name, part in rows.groupby("list", sort=True)}
        matched = rows[rows["matched"]]
        out["list_districts"] = int(rows[["state", "district"]].drop_duplicates().shape[0])
        out["export_districts_reached"] = int(
            matched[["export_state", "export_district"]].drop_duplicates().shape[0])
        out["warnings"] = len(self.warnings)
        return out

    def format_summary(self) -> str:
        s = self.summary()
        lines = [
            f"{s['matched']} of {s['rows']} list rows matched to an export district "
            f"({100 * s['match_rate']:.1f}%), {s['matched_to_parent']} of them through the "
            "parent district of a newer district",
            f"{s['no_exports']} rows name a district with no exports recorded; matched or "
            f"identified: {100 * s['identified_rate']:.1f}%",
            "by status: " + ", ".join(f"{k} {v}" for k, v in s["by_status"].items() if v),
        ]
        for name, part in s["by_list"].items():
            lines.append(f"  {name}: {part['matched']}/{part['rows']} "
                         f"({100 * part['match_rate']:.1f}%), no exports {part['no_exports']}")
        if s["warnings"]:
            lines.append(f"{s['warnings']} row warnings (see --json)")
        return "\n".join(lines)


def crosswalk(products: DistrictList | pd.DataFrame, export_names: pd.DataFrame, *,
              aliases: pd.DataFrame | None = None, fuzzy_threshold: float = 90.0) -> Crosswalk:
    """Match every row of a district list onto the districts of an export table."""
    if isinstance(products, pd.DataFrame):
        products = validate_district_list(products)
    matcher = DistrictMatcher(export_names, aliases=aliases, fuzzy_threshold=fuzzy_threshold)
    frame = products.frame.copy()
    matches = [matcher.match(s, d) for s, d in zip(frame["state"], frame["district"],
                                                     strict=True)]
    frame["export_state"] = [m.export_state for m in matches]
    frame["export_district"] = [m.export_district for m in matches]
    frame["matched"] = [m.matched for m in matches]
    frame["match_status"] = [m.status for m in matches]
    frame["match_score"] = [m.score for m in matches]
    frame["match_reason"] = [m.reason for m in matches]
    counts = Counter(m.status for m in matches)
    log.info("crosswalk: %s", dict(counts))
    return Crosswalk(rows=frame, warnings=list(products.warnings))


def crosswalk_files(products_path: str | os.PathLike[str], exports_path: str | os.PathLike[str],
                    *, aliases_path: str | os.PathLike[str] | None = None,
                    encoding: str = "utf-8-sig") -> Crosswalk:
    """The crosswalk of a district list CSV onto an export file (any schema that
    :func:`hsmatch.exports.read_district_exports` reads)."""
    from hsmatch.exports import read_district_exports

    products = read_district_list(products_path, encoding=encoding)
    exports = read_district_exports(exports_path, strict=False, check_codes=False)
    aliases = load_aliases(aliases_path) if aliases_path else None
    result = crosswalk(products, exports.frame, aliases=aliases)
    result.warnings += exports.warnings
    return result
