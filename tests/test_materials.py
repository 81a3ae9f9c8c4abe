from hsmatch.materials import Materials
from hsmatch.text import content_words, positive_words

M = Materials()


def named(text: str) -> list[str]:
    return M.names(M.of_words(content_words(text)))


def line(text: str, code: str) -> list[str]:
    return M.names(M.of_line(positive_words(text), code))


def test_a_name_says_its_material_in_singular_or_plural():
    assert named("Ceramic sanitary ware") == ["ceramic"]
    assert named("Earthen pots") == ["ceramic"]
    assert named("Brass vessels") == ["copper"]
    assert named("Bamboo hats") == ["plaiting"]
    assert named("Plastics and rubber goods") == ["plastic", "rubber"]
    assert named("Basmati rice") == []


def test_a_line_is_of_its_words_and_its_chapter_but_not_its_negated_words():
    assert line("Ceramic sinks, wash basins; of porcelain or china", "69101000") == ["ceramic"]
    assert line("Sanitary ware and parts thereof", "74182020") == ["copper"]
    assert line("Table articles, other than of iron or steel", "94000000") == []
    # The specific group stands for its parent: synthetic fabric is not any textile.
    assert line("Woven fabrics of synthetic filament yarn", "54075200") == ["manmade"]
    assert line("Hats, knitted, or made up from lace, felt or other textile fabric", "65050090") == ["textile"]


def test_groups_fit_their_parent_and_children_not_their_siblings():
    cotton = M.compatible(M.of_words(content_words("cotton")))
    assert cotton & M.bit["textile"] and cotton & M.bit["cotton"]
    assert not cotton & M.bit["manmade"]
    textile = M.compatible(M.of_words(content_words("textiles")))
    assert textile & M.bit["silk"] and textile & M.bit["cotton"]
    assert not M.compatible(M.of_words(content_words("bamboo"))) & M.bit["textile"]
    assert M.compatible(0) == 0


def test_art_silk_is_man_made():
    assert named("Art silk saree") == ["manmade"]
    assert named("Artificial silk yarn") == ["manmade"]
    assert named("Mulberry silk saree") == ["silk"]
