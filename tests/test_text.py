import math

import pytest

from hsmatch import text


@pytest.mark.parametrize("value, reason", [
    (None, "missing value"), (math.nan, "missing value"), ("", "empty text"),
    ("   \t ", "empty text"), (42, "not text"), (3.5, "not text"), (b"rice", "bytes"),
    ("x" * 100_000, "100,000 characters"), ("बासमती चावल", "Devanagari"),
    ("🍚🥭", "no text left"), ("1234 5678 !!", "no letters"),
])
def test_problems_are_named(value, reason):
    assert reason in text.problem_with(value)


def test_pandas_na_is_missing():
    pd = pytest.importorskip("pandas")
    assert "missing" in text.problem_with(pd.NA)


@pytest.mark.parametrize("value", ["Basmati rice", "Café coffee", "Rice\x00 bran\x07 oil", "Mango 🥭"])
def test_good_text_has_no_problem(value):
    assert text.problem_with(value) is None


def test_normalize():
    assert text.normalize("  Engg. Goods ") == "engineering goods"
    assert text.normalize("Gems & Jewelry") == "gems and jewellery"
    assert text.normalize("Handicraft's") == "handicrafts"
    assert text.normalize("Crème brûlée\tmix") == "creme brulee mix"
    assert text.content_query("cashew processing cluster") == "cashew"
    assert text.content_query("products") == "products"


def test_split_strong_respects_parentheses():
    assert text.split_strong("Coconut & Coconut based products, Tourism") == [
        "Coconut & Coconut based products", "Tourism"]
    assert text.split_strong("Etikoppaka Lacquerware/Wooden Toys") == [
        "Etikoppaka Lacquerware", "Wooden Toys"]
    # A comma inside parentheses, even an unclosed one, does not split.
    assert text.split_strong("Wheat (Barley, Bajra, Dalia") == ["Wheat (Barley, Bajra, Dalia"]
    assert text.split_strong("Rice, etc.") == ["Rice"]


def test_split_weak():
    assert text.split_weak("Pickles & Papad") == ["Pickles", "Papad"]
    assert text.split_weak("Pickles and Papad") == ["Pickles", "Papad"]
    assert text.split_weak("Bandhani (tie and dye)") == ["Bandhani (tie and dye)"]


def test_positive_words_leave_out_what_a_line_is_not():
    from hsmatch.text import positive_words

    assert "seed" not in positive_words("Cereals; millet, other than seed: little")
    assert "seed" in positive_words("Cereals; millet, seed: little")
    assert positive_words("Jewellery; imitation, (excluding cuff links and studs), of base metal") == {
        "jewelleri", "imit", "base", "metal"}
    assert "sparkling" not in positive_words("Wine; still, not sparkling: other")
    assert {"crushed", "ground"}.isdisjoint(positive_words("Spices; cardamoms, neither crushed nor ground"))
    assert positive_words("Other insects excl pureline stock") == {"insect"}
    assert "basmati" not in positive_words("Rice excepting parboiled (excl basmati rice)")


@pytest.mark.parametrize("name, head", [
    ("Linseed oil", "oil"), ("Rose petal jam", "jam"), ("Bags of jute", "bag"),
    ("Peetal Bartan", "bartan"), ("Mangoes", "mango"), ("Oil for lamps", "oil"),
    ("Of course", "cours"), ("and 1234", ""),
])
def test_head_word_is_what_the_name_is_about(name, head):
    assert text.head_word(name) == head
