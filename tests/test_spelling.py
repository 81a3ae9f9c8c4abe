"""Reading typists' slips as known words, and leaving everything else alone."""

import pytest

from hsmatch.spelling import Speller

# Short words need a known word used twice: "guava" and "amla" are, "thaen" is not.
KNOWN = ["guava", "guava", "millet", "amla", "amla", "thaen", "fasteners", "imitation",
         "jewellery", "boot", "bank", "onion", "weaving", "resistance", "basmati", "rice", "sorted", "madhubani", "painting"]


@pytest.fixture
def speller():
    return Speller(KNOWN)


@pytest.mark.parametrize("typed, read", [
    ("gauva", "guava"),                  # two letters swapped
    ("ugava", "guava"),                  # ... the first two, too
    ("milllet", "millet"), ("aamla", "amla"),  # a letter doubled
    ("fastners", "fasteners"),           # a letter dropped from a long word
    ("imitiation", "imitation"),
    ("madhubhani", "madhubani"),
])
def test_slips_are_read_as_the_known_word(speller, typed, read):
    assert speller.word(typed) == read


@pytest.mark.parametrize("typed", [
    "bhoot",   # one edit from "boot", but a word of its own (bhoot jolokia)
    "banka",   # Banka silk, not a bank
    "onian",   # a changed letter in a short word: too many words are one letter apart
    "sortex",  # a six-letter word with a changed letter
    "kesar",   # unknown and near nothing
    "rice",    # known
    "ab12",    # not letters
    "thane",   # a swap in a short word, onto a word the knowledge base uses only once
    "weaning",    # an -ing word: an English verb's, not a slip for "weaving"
    "remittance",  # two letters from "resistance": two edits are never made
])
def test_other_words_are_left_alone(speller, typed):
    assert speller.word(typed) == typed


def test_a_text_is_read_word_by_word(speller):
    assert speller.text("gauva basmati rice") == "guava basmati rice"
    assert speller.text("") == ""


def test_the_most_used_known_word_wins():
    speller = Speller(["jewellery", "jewellery", "jwellery"])
    assert speller.word("jewllery") == "jewellery"


def test_classify_says_how_it_read_a_misspelt_name(classifier):
    match = classifier.classify("Basmtai rice")
    assert match.code == "10063020"
    assert "spelling read as 'basmati rice'" in match.reason


def test_everyday_english_is_never_corrected():
    speller = Speller(["office", "conductivity", "weaves"], english=frozenset(["officer", "weaver"]))
    assert speller.word("officer") == "officer"
    assert speller.word("weavers") == "weavers"  # the plural of a known word
    assert speller.word("offfice") == "office"
