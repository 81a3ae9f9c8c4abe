import pytest

from hsmatch.errors import CodeError
from hsmatch.nomenclature import Nomenclature, clean_description, is_other_text


@pytest.fixture(scope="module")
def nom(ref_data):
    return Nomenclature.load(ref_data)


def test_any_level_with_its_path(nom):
    entry = nom.entry("10063020")
    assert entry.level == 8 and entry.current
    assert [code for code, _ in entry.path] == ["10", "1006", "100630", "10063020"]
    assert "Basmati" in entry.path_text()
    assert nom.entry("0804").level_name == "heading"
    assert nom.entry("998552").path[0] == ("99", "All Services")


def test_children_and_lines_under(nom):
    assert nom.children("100630") == ["10063010", "10063020", "10063090"]
    assert nom.lines_under("0804") == ["08043000", "08045021", "08045026", "08045040"]
    assert "0306" in nom.children("03")


def test_obsolete_codes_are_known_but_not_current(nom):
    assert "08045020" in nom
    assert not nom.is_current("08045020")
    assert "08045020" not in nom.lines_under("0804")


def test_other_lines_get_a_readable_meaning(nom):
    text = nom.readable("03061790")
    assert text.startswith("Crustaceans; frozen, shrimps and prawns")
    assert "other than Vannamei shrimp" in text
    assert nom.readable("61091000").endswith(": of cotton")  # a fragment gets its parent
    assert nom.readable("10063020") == "Basmati rice"  # names its subheading's rice and adds to it
    # A line that only qualifies its subheading ("Kesar" under mangoes) carries the subheading.
    assert nom.readable("08045026").startswith("Fruit, edible; guavas, mangoes")
    assert nom.readable("08045026").endswith(": kesar")


def test_unknown_code(nom):
    with pytest.raises(CodeError, match="not in the nomenclature"):
        nom.entry("99999999")
    assert "12345678" not in nom and "junk" not in nom


def test_description_cleaning():
    assert clean_description("PINEAPPLES KG.") == "Pineapples"
    assert clean_description("T0WERS F0R 0THER PURP0SES") == "Towers for other purposes"
    assert is_other_text("OTHER") and is_other_text(" Others. ") and not is_other_text("Other fish")
