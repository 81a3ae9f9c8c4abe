"""What a product is made of, as the nomenclature sorts goods.

The HS sorts most manufactures by material first: sanitary ware is 6910 in ceramic, 7324
in steel, 7418 in copper; hats are 6504 when plaited from strips, 6505 when of textile
fabric. A name that says its material ("Ceramic sanitary ware", "Bamboo hats") rules out
the lines of another material, however much of the rest of the name they share.

A line's materials are those its own text or its heading's names (negated spans
excluded) and its chapter's. A group with a parent ("cotton" under "textile") is
compatible with its parent and its children, not with its siblings: a cotton name fits a
line "of textile materials" but not one "of synthetic fibres".
"""

from __future__ import annotations

from collections.abc import Iterable

from hsmatch.text import stem

# group -> (parent group or None, words that name it (stemmed as content_words stems
# them), chapters whose lines are of it).
GROUPS: dict[str, tuple[str | None, tuple[str, ...], tuple[str, ...]]] = {
    "textile": (None, ("textile", "fabric"), ("56", "57", "58", "59", "60", "61", "62", "63")),
    "cotton": ("textile", ("cotton",), ("52",)),
    "silk": ("textile", ("silk", "tussar", "tasar", "muga", "eri"), ("50",)),
    "wool": ("textile", ("wool", "woollen", "woolen", "pashmina"), ("51",)),
    "bast": ("textile", ("jute", "coir", "sisal", "hemp", "flax", "linen", "ramie"), ("53",)),
    "manmade": ("textile", ("synthetic", "polyester", "nylon", "viscose", "rayon", "acrylic"),
                ("54", "55")),
    "metal": (None, ("metal",), ("75", "78", "79", "80", "81", "82", "83")),
    "iron": ("metal", ("iron", "steel", "stainless"), ("72", "73")),
    "copper": ("metal", ("copper", "brass", "bronze", "peetal", "pital"), ("74",)),
    "aluminium": ("metal", ("aluminium", "aluminum"), ("76",)),
    "precious": ("metal", ("gold", "silver", "platinum"), ("71",)),
    "plastic": (None, ("plastic", "pvc", "polythene", "polyethylene", "polypropylene", "hdpe",
                       "ldpe", "polystyrene", "polymer"), ("39",)),
    "rubber": (None, ("rubber", "latex"), ("40",)),
    "leather": (None, ("leather", "hide"), ("41", "42", "43")),
    "wood": (None, ("wood", "wooden", "timber", "plywood", "teak", "sheesham", "rosewood"), ("44",)),
    "plaiting": (None, ("bamboo", "cane", "rattan", "wicker", "willow", "straw", "reed"), ("46",)),
    "paper": (None, ("paper", "paperboard", "cardboard"), ("47", "48")),
    "stone": (None, ("stone", "marble", "granite", "sandstone", "slate", "soapstone"), ("68",)),
    "ceramic": (None, ("ceramic", "porcelain", "earthen", "earthenware", "terracotta", "clay",
                       "pottery", "stoneware"), ("69",)),
    "glass": (None, ("glass", "glassware"), ("70",)),
}
# "Art silk" is artificial silk (viscose, rayon): man-made, not silk.
_NOT_SILK = frozenset(stem(w) for w in ("art", "artificial"))


class Materials:
    """The material groups as bit masks: of a name's words, of a nomenclature line, and
    which groups a name's are compatible with."""

    def __init__(self, groups: dict[str, tuple[str | None, tuple[str, ...], tuple[str, ...]]] = GROUPS) -> None:
        self.bit = {name: 1 << i for i, name in enumerate(groups)}
        self.word_bits: dict[str, int] = {}
        self.chapter_bits: dict[str, int] = {}
        for name, (_, words, chapters) in groups.items():
            for word in map(stem, words):
                self.word_bits[word] = self.word_bits.get(word, 0) | self.bit[name]
            for chapter in chapters:
                self.chapter_bits[chapter] = self.chapter_bits.get(chapter, 0) | self.bit[name]
        self.parent_bit = {self.bit[name]: self.bit[parent] for name, (parent, _, _) in groups.items()
                           if parent}
        # Each group's compatible groups: itself, its parent and its children.
        self.compatible_bits = {bit: bit for bit in self.bit.values()}
        for child, parent in self.parent_bit.items():
            self.compatible_bits[child] |= parent
            self.compatible_bits[parent] |= child

    def of_words(self, words: Iterable[str]) -> int:
        """The groups a set of words names."""
        mask = 0
        words = frozenset(words)
        for word in words:
            mask |= self.word_bits.get(word, 0)
        if mask & self.bit["silk"] and words & _NOT_SILK:
            mask = mask & ~self.bit["silk"] | self.bit["manmade"]
        return mask

    def of_line(self, words: Iterable[str], code: str) -> int:
        """A line's groups (its words' and its chapter's), each parent dropped when a child
        of it is there: "fabrics of synthetic fibres" is synthetic, not any textile."""
        mask = self.of_words(words) | self.chapter_bits.get(code[:2], 0)
        for child, parent in self.parent_bit.items():
            if mask & child:
                mask &= ~parent
        return mask

    def compatible(self, mask: int) -> int:
        """The groups compatible with any of ``mask``'s."""
        out = 0
        for bit in self._bits(mask):
            out |= self.compatible_bits[bit]
        return out

    def names(self, mask: int) -> list[str]:
        """The group names of ``mask`` (for explanations and tests)."""
        return [name for name, bit in self.bit.items() if mask & bit]

    @staticmethod
    def _bits(mask: int) -> Iterable[int]:
        while mask:
            low = mask & -mask
            yield low
            mask ^= low
