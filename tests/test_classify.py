import math

import numpy as np
import pytest

from hsmatch.align import ScoreSettings, product_codes
from hsmatch.classify import EXAMPLE_UNDER, KINDS, Candidate, Match, _combine


def test_one_name_gives_a_match_with_evidence(classifier):
    match = classifier.classify("Basmati rice")
    assert isinstance(match, Match)
    assert match.kind == "goods" and match.code == "10063020"
    assert 0 < match.confidence <= 1
    top = match.candidates[0]
    assert isinstance(top, Candidate) and top.level == 8 and top.description == "Basmati rice"
    assert {"tfidf_word", "tfidf_char", "embedding", "alias"} <= set(top.evidence)
    scores = [c.score for c in match.candidates]
    assert scores == sorted(scores, reverse=True)
    as_dict = match.to_dict()
    assert as_dict["code"] == "10063020" and as_dict["candidates"][0]["code"] == "10063020"


def test_k_limits_candidates(classifier):
    assert len(classifier.classify("rice", k=2).candidates) == 2
    with pytest.raises(ValueError, match="k must be at least 1"):
        classifier.classify("rice", k=0)


def test_vernacular_alias(classifier):
    assert classifier.classify("Haldi").code in ("09103020", "09103030")
    assert classifier.classify("Agra Petha").code == "20060000"


def test_services_come_back_as_service_with_sac_codes(classifier):
    match = classifier.classify("Tourism")
    assert match.kind == "service"
    assert match.code.startswith("99")
    assert all(c.code.startswith("99") for c in match.candidates)
    assert classifier.classify("IT services").kind == "service"


def test_broad_categories_list_their_chapters(classifier):
    match = classifier.classify("Marine products")
    assert match.kind == "broad" and match.code is None
    assert "03" in [c.code for c in match.candidates]
    assert "too broad" in match.reason


def test_compound_entries_are_split(classifier):
    match = classifier.classify("Basmati rice, Tourism")
    assert [p.kind for p in match.parts] == ["goods", "service"]
    assert match.parts[0].code == "10063020"
    assert match.kind == "broad" and match.code is None
    assert "compound" in match.reason
    # A lexicon name with "&" in it stays whole.
    assert classifier.classify("Pickles & Petha").parts  # split
    assert not classifier.classify("Basmati Rice").parts


def test_list_and_series_keep_order(classifier):
    pd = pytest.importorskip("pandas")
    names = ["Tourism", "Basmati rice", None, "Marine products"]
    out = classifier.classify(names)
    assert [m.kind for m in out] == ["service", "goods", "unknown", "broad"]
    series_out = classifier.classify(pd.Series(names, index=[10, 11, 12, 13]))
    assert [m.kind for m in series_out] == [m.kind for m in out]


BAD = [None, math.nan, "", "   ", 12345, 3.14, "x" * 100_000, "बासमती चावल", "🍚🍚", "\n\t"]


def test_bad_rows_never_stop_a_batch(classifier):
    pd = pytest.importorskip("pandas")
    names = [*BAD, pd.NA, "Basmati rice"]
    out = classifier.classify(names)
    assert len(out) == len(names)
    assert out[-1].code == "10063020"
    for value, match in zip(names[:-1], out[:-1], strict=True):
        assert match.kind == "unknown", repr(value)[:40]
        assert match.reason and match.code is None


def test_control_characters_are_stripped_and_the_rest_classified(classifier):
    match = classifier.classify("Basmati\x00 rice\x07")
    assert match.code == "10063020"


def test_an_hs_code_as_input(classifier):
    match = classifier.classify("1006.30.20")
    assert match.code == "10063020" and match.confidence == 1.0


def test_kinds_are_the_documented_ones(classifier):
    names = ["Basmati rice", "Tourism", "Marine products", None, "qzxv", "Wooden toys"]
    assert {m.kind for m in classifier.classify(names)} <= set(KINDS)


def test_abstention_keeps_candidates_and_says_why(classifier):
    match = classifier.classify("qzxv wplk")
    assert match.code is None
    assert match.reason
    assert match.kind in ("goods", "unknown")


def test_a_broad_name_takes_a_category_s_codes_only_when_it_is_that_category(classifier):
    """A loose lexicon hit shares a word, not a meaning: the name's own headings serve."""
    norm = "marine products"
    j = next(i for i, e in enumerate(classifier._kind_entries) if e.kind == "broad" and e.norm == norm)
    pool = classifier.goods_pools([norm])[0]
    row = np.zeros(len(classifier._kind_entries), dtype=np.float32)
    row[j] = 100.0
    same = classifier._broad_match(norm, norm, row, 5, pool, None)
    assert [c.code for c in same.candidates] == list(classifier._kind_entries[j].codes)[:len(same.candidates)]
    row[j] = 86.0
    loose = classifier._broad_match(norm, norm, row, 5, pool, None)
    headings = [c.code for c in classifier._headings_of_pool(pool, 5)]
    named = [c.code for c in loose.candidates if not c.example]
    assert named == headings and all(len(c) == 4 for c in headings)
    assert f"nearest known category is '{classifier._kind_entries[j].term}'" in loose.reason


def test_a_broad_name_shows_the_likeliest_lines_under_its_headings(classifier):
    """Room left after the headings goes to lines under them, for a reviewer to narrow down;
    alignment still reads the headings only."""
    norm = "frozen shrimp"
    pool = classifier.goods_pools([norm])[0]
    row = np.zeros(len(classifier._kind_entries), dtype=np.float32)
    k = len(classifier._headings_of_pool(pool, 10)) + 2
    match = classifier._broad_match(norm, norm, row, k, pool, 0.6)
    headings = [c.code for c in match.candidates if not c.example]
    lines = [c for c in match.candidates if c.example]
    assert headings and len(lines) == 2 and len(match.candidates) == k
    assert all(len(h) == 4 for h in headings) and all(c.level == 8 for c in lines)
    assert match.candidates[:len(headings)] == [c for c in match.candidates if not c.example]
    assert all(c.code[:4] in headings for c in lines)
    assert "likeliest lines under them" in match.reason and match.code is None
    assert product_codes(match, ScoreSettings()).codes == tuple(headings)


def test_a_compound_broad_entry_lists_every_part_s_headings_before_example_lines():
    def broad(text, headings, line):
        return Match(text, "broad", None, 0.6, [Candidate(h, "", 4, 0.9) for h in headings] + [
            Candidate(line, "", 8, 0.5, {EXAMPLE_UNDER: line[:4]})], "")
    combined = _combine("Carpets & pumps", [broad("Carpets", ["5701", "5702"], "57011000"),
                                             broad("Pumps", ["8413"], "84137010")], k=5)
    assert [c.code for c in combined.candidates] == ["5701", "8413", "5702", "57011000", "84137010"]


def test_an_alias_that_negates_the_name_lends_it_nothing(classifier):
    # "Non-basmati rice" contains all of "Basmati rice", and fuzzy matching scores it 95.
    _, basmati = classifier.goods_pools(["Basmati rice"])[0]
    assert "Non-basmati rice" not in basmati.aliases.values()
    _, non_basmati = classifier.goods_pools(["Non basmati rice"])[0]
    assert "Non-basmati rice" in non_basmati.aliases.values()
