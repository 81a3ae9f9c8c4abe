"""scripts/align_alias_families.py: which alias names name a labelled pair's product."""

import importlib.util
from pathlib import Path

_SPEC = importlib.util.spec_from_file_location(
    "align_alias_families", Path(__file__).resolve().parents[1] / "scripts" / "align_alias_families.py")
align = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(align)

TRADE_WORDS = {"cotton", "saree", "toy", "wooden", "oil"}


def test_same_or_nearly_the_same_name():
    assert align.names_same_product("dharwad pedha", "dharwad pedha", TRADE_WORDS)
    assert align.names_same_product("dharwad pedha", "dharwad peda", TRADE_WORDS)


def test_two_words_contained_in_the_other_name():
    assert align.names_same_product("srivilliputtur palkova sweet", "srivilliputtur palkova", TRADE_WORDS)
    assert not align.names_same_product("channapatna toy", "kondapalli wooden toy", TRADE_WORDS)


def test_one_word_counts_only_when_the_nomenclature_never_uses_it():
    assert align.names_same_product("morena gajak", "gajak", TRADE_WORDS)
    assert not align.names_same_product("chanderi cotton saree", "cotton", TRADE_WORDS)
