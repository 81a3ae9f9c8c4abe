"""The HS / ITC-HS nomenclature as one object: any code at any level, its description
path from chapter to tariff line, its children, and whether it is current.

About 2,870 tariff lines read only "OTHER"; :meth:`Nomenclature.readable` gives them a
meaning built from the parent subheading and the siblings they exclude.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

import pandas as pd

from hsmatch.codes import LEVEL_NAMES, normalize_code
from hsmatch.data import load_table
from hsmatch.errors import CodeError
from hsmatch.paths import data_dir

CURRENT_STATUSES = ("current_traded", "gst_only", "listed_2017_no_recent_trade")

_OTHER = re.compile(r"^\W*(others?|othrs?|other\s+kinds?)\W*$", re.IGNORECASE)
_UNIT_TAIL = re.compile(r"\s+(kg|nos|ton|ltr|sqm|mtr|prs|kgs)\.?$", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_ZERO_FOR_O = re.compile(r"(?<=[A-Za-z])0(?=[A-Za-z]|\b)|\b0(?=[A-Za-z])")


def is_other_text(text: str) -> bool:
    """True for descriptions that carry no meaning of their own ("OTHER", "Others")."""
    return not text.strip() or bool(_OTHER.match(text))


_FRAGMENT_START = re.compile(
    r"^(of|in|for|with|without|not|other|others|crushed|ground|whether|containing|"
    r"having|put up|fresh|dried|frozen|chilled|raw|parts|and|or|excluding|including)\b",
    re.IGNORECASE,
)


def _is_fragment(text: str) -> bool:
    """Line texts that only qualify their parent ("Of cotton", "Fresh", "Other fish")."""
    return bool(_FRAGMENT_START.match(text))


_STOP = frozenset(["of", "and", "or", "the", "with", "for", "not", "nor", "whether", "other", "others", "than", "its", "their", "made"])


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{3,}", text.lower()) if w not in _STOP}


def _qualifies(own: str, parent: str) -> bool:
    """True when a line's text only qualifies its subheading: it adds no word to the
    subheading's ("Crude oil" under coconut oil, crude) or shares none with it ("Powder"
    under turmeric, "Kesar" under mangoes). "Basmati rice" under rice stands alone."""
    words, parent_words = _content_words(own), _content_words(parent)
    return not (words & parent_words) or words <= parent_words


def clean_description(text: str) -> str:
    """Tidy a nomenclature text: spaces, trailing units, shouting capitals, dangling colons."""
    text = _SPACE.sub(" ", str(text)).strip().strip(":;,- ").strip()
    # Some EIDB texts were typed with zeros for O's ("T0wers f0r 0ther purp0ses").
    text = _ZERO_FOR_O.sub("o", text)
    text = _UNIT_TAIL.sub("", text).strip()
    letters = [c for c in text if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        text = text.lower()
    return text[:1].upper() + text[1:] if text else text


@dataclass(frozen=True)
class Entry:
    """One code of the nomenclature."""

    code: str
    level: int
    description: str
    readable: str
    current: bool
    status: str
    path: tuple[tuple[str, str], ...]

    @property
    def level_name(self) -> str:
        return LEVEL_NAMES[self.level]

    def path_text(self, sep: str = " > ") -> str:
        return sep.join(f"{code} {text}" for code, text in self.path)


class Nomenclature:
    """HS2022 hierarchy (chapters, headings, subheadings) plus ITC-HS 8-digit lines and SAC."""

    def __init__(self, itchs8: pd.DataFrame, itchs8_all: pd.DataFrame, hs6: pd.DataFrame,
                 headings: pd.DataFrame, chapters: pd.DataFrame, sections: pd.DataFrame,
                 sac: pd.DataFrame) -> None:
        self._desc: dict[str, str] = {}
        self._status: dict[str, str] = {}
        self._children: dict[str, list[str]] = defaultdict(list)
        self.section_of_chapter: dict[str, str] = {}
        self.section_names = dict(zip(sections["section"], sections["name"], strict=True))

        for row in chapters.itertuples(index=False):
            self._desc[row.chapter] = clean_description(row.description)
            self._status[row.chapter] = "current" if row.in_hs2022 == "1" else "obsolete"
            self.section_of_chapter[row.chapter] = row.section
        for row in headings.itertuples(index=False):
            self._desc[row.heading] = clean_description(row.description or row.description_india)
            self._status[row.heading] = "current" if row.in_hs2022 == "1" else "obsolete"
        for row in hs6.itertuples(index=False):
            self._desc[row.hs6] = clean_description(row.description)
            self._status[row.hs6] = "current"
        current = set(itchs8["code"])
        for frame in (itchs8, itchs8_all[~itchs8_all["code"].isin(current)]):
            for row in frame.itertuples(index=False):
                self._desc[row.code] = clean_description(row.description)
                self._status[row.code] = row.status
                if row.hs6 not in self._desc and getattr(row, "hs6_description", ""):
                    self._desc[row.hs6] = clean_description(row.hs6_description)
                    self._status.setdefault(row.hs6, "obsolete")
        for row in sac.itertuples(index=False):
            self._desc[row.code] = clean_description(row.description)
            self._status[row.code] = "current"
        for code in self._desc:
            if len(code) > 2:
                self._children[code[: len(code) - 2]].append(code)
        for kids in self._children.values():
            kids.sort()
        self.current_lines: list[str] = sorted(current)
        self._readable_cache: dict[str, str] = {}

    @classmethod
    def load(cls, data_dir_path: str | os.PathLike[str] | None = None) -> Nomenclature:
        """Load from the reference data folder (argument, HSMATCH_DATA, or the default)."""
        return _load_cached(str(data_dir(data_dir_path)))

    # -- lookups ---------------------------------------------------------------------
    def __contains__(self, code: object) -> bool:
        try:
            return normalize_code(code) in self._desc
        except CodeError:
            return False

    def __len__(self) -> int:
        return len(self._desc)

    def _known(self, code: object) -> str:
        norm = normalize_code(code)
        if norm not in self._desc:
            raise CodeError(f"code {norm} is not in the nomenclature")
        return norm

    def description(self, code: str) -> str:
        """The code's own text, as published (tidied)."""
        return self._desc[self._known(code)]

    def is_current(self, code: str) -> bool:
        status = self._status[self._known(code)]
        return status == "current" or status in CURRENT_STATUSES

    def status(self, code: str) -> str:
        return self._status[self._known(code)]

    def children(self, code: str) -> list[str]:
        return list(self._children.get(self._known(code), []))

    def lines_under(self, code: str, *, current_only: bool = True) -> list[str]:
        """All 8-digit lines below (or equal to) ``code``."""
        prefix = self._known(code)
        pool = self.current_lines if current_only else [c for c in self._desc if len(c) == 8]
        return [c for c in pool if c.startswith(prefix)]

    def readable(self, code: str) -> str:
        """A description that stands on its own, also for lines that read only "OTHER"."""
        code = self._known(code)
        if code in self._readable_cache:
            return self._readable_cache[code]
        own = self._desc[code]
        if (len(code) == 8 and not is_other_text(own) and code[:6] in self._desc
                and (_is_fragment(own) or _qualifies(own, self._desc[code[:6]]))):
            # "Of cotton", "Powder" or "Kesar" mean little alone; "T-shirts ...: of cotton",
            # "Spices; turmeric (curcuma): powder" and "... mangoes ...: kesar" do.
            text = f"{self.readable(code[:6])}: {own[:1].lower()}{own[1:]}"
        elif len(code) == 2 or not is_other_text(own):
            text = own
        else:
            parent = code[:-2]
            base = self.readable(parent) if parent in self._desc else ""
            pool = [s for s in self._children.get(parent, []) if s != code and self.is_current(s)]
            # Indian lines come in 7-digit groups (0804502x: mango varieties); an "Other"
            # line excludes only its own group's siblings when it has a group.
            group = [s for s in pool if s[:7] == code[:7]] if len(code) == 8 else []
            texts = [self._desc[s] for s in (group or pool) if not is_other_text(self._desc[s])]
            siblings = list({t.lower(): t for t in texts}.values())
            if siblings:
                listed = "; ".join(siblings[:5]) + ("; ..." if len(siblings) > 5 else "")
                text = f"{base}: other than {listed}" if base else f"Other than {listed}"
            else:
                text = f"{base}: other" if base else "Other"
        self._readable_cache[code] = text
        return text

    def path(self, code: str) -> tuple[tuple[str, str], ...]:
        """(code, text) from the chapter down to ``code``."""
        code = self._known(code)
        steps = [code[:n] for n in (2, 4, 6, 8) if n <= len(code)]
        return tuple((c, self._desc.get(c, "")) for c in steps if c in self._desc)

    def entry(self, code: object) -> Entry:
        norm = self._known(code)
        return Entry(
            code=norm,
            level=len(norm),
            description=self._desc[norm],
            readable=self.readable(norm),
            current=self.is_current(norm),
            status=self._status[norm],
            path=self.path(norm),
        )

    def codes(self, level: int, *, services: bool = False) -> list[str]:
        """All known codes of one level; goods by default, SAC with ``services=True``."""
        return sorted(
            c for c in self._desc
            if len(c) == level and c.startswith("99") == services
        )

    def enriched_text(self, code: str) -> str:
        """The line with its parents' text, for retrieval."""
        code = self._known(code)
        parts = [self.readable(code)]
        for parent in (code[:6], code[:4], code[:2]):
            if parent != code and parent in self._desc:
                parts.append(self._desc[parent])
        return " | ".join(dict.fromkeys(p for p in parts if p))


@lru_cache(maxsize=4)
def _load_cached(folder: str) -> Nomenclature:
    return Nomenclature(
        itchs8=load_table("hs/itchs8.csv", folder),
        itchs8_all=load_table("hs/itchs8_all.csv", folder),
        hs6=load_table("hs/hs6.csv", folder),
        headings=load_table("hs/hs_headings.csv", folder),
        chapters=load_table("hs/hs_chapters.csv", folder),
        sections=load_table("hs/hs_sections.csv", folder),
        sac=load_table("hs/sac.csv", folder),
    )
