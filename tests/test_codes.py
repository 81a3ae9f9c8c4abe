import pytest
from hypothesis import given
from hypothesis import strategies as st

from hsmatch import codes
from hsmatch.errors import CodeError


@pytest.mark.parametrize("raw, expected", [
    ("10063020", "10063020"), ("1006.30.20", "10063020"), (" 1006 30 20 ", "10063020"),
    ("03", "03"), ("0306", "0306"), ("030617", "030617"), ("9985", "9985"),
])
def test_normalize_accepts_common_forms(raw, expected):
    assert codes.normalize_code(raw) == expected


def test_lost_leading_zero_names_the_cause():
    with pytest.raises(CodeError, match="7 digits: was the column read as numbers"):
        codes.normalize_code("8471300")


@pytest.mark.parametrize("value", [8471300, 10063020, 3.0])
def test_numbers_are_refused_with_the_fix(value):
    with pytest.raises(CodeError, match="dtype=str"):
        codes.normalize_code(value)


@pytest.mark.parametrize("value", [None, float("nan"), True, "", "10a6", "123456789", b"1006"])
def test_garbage_is_refused(value):
    with pytest.raises(CodeError):
        codes.normalize_code(value)


def test_level_check():
    assert codes.normalize_code("1006", level=4) == "1006"
    with pytest.raises(CodeError, match="expected a tariff line"):
        codes.normalize_code("1006", level=8)


def test_hierarchy_helpers():
    assert codes.parent("10063020") == "100630"
    assert codes.parent("10") is None
    assert codes.ancestors("10063020") == ["10", "1006", "100630"]
    assert list(codes.iter_levels("10063020")) == ["10063020", "100630", "1006", "10"]
    assert codes.truncate("10063020", 4) == "1006"
    assert codes.is_prefix("1006", "10063020")
    assert not codes.is_prefix("1007", "10063020")
    assert codes.common_level("10063020", "10063090") == 6
    assert codes.common_level("10063020", "09103020") == 0
    assert codes.is_service("998552") and not codes.is_service("10063020")
    assert codes.format_code("10063020") == "1006.30.20"


def test_split_codes_keeps_order_and_drops_duplicates():
    assert codes.split_codes("10063020 10063012, 10063020;03") == ["10063020", "10063012", "03"]
    assert codes.split_codes(float("nan")) == []
    with pytest.raises(CodeError, match="line 7"):
        codes.split_codes("1006302", where="line 7")


def test_check_codes_names_the_line():
    with pytest.raises(CodeError, match=r"names.csv, column 'code', line 3"):
        codes.check_codes(["10063020", "123"], column="code", source="names.csv")


@given(st.from_regex(r"\A[0-9]{8}\Z"))
def test_format_round_trips(code):
    assert codes.normalize_code(codes.format_code(code)) == code
    assert codes.truncate(code, 6) == codes.parent(code)
