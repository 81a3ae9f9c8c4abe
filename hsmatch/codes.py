"""The one gate for HS codes.

Codes are strings of 2, 4, 6 or 8 digits (chapter, heading, subheading, tariff line),
always zero-padded. Services codes (SAC) live in chapter 99 and use the same levels.
Everything that takes a code from outside passes it through :func:`normalize_code`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator

from hsmatch.errors import CodeError

LEVELS = (2, 4, 6, 8)
LEVEL_NAMES = {2: "chapter", 4: "heading", 6: "subheading", 8: "tariff line"}
SERVICES_CHAPTER = "99"

_SEPARATORS = re.compile(r"[\s.\-/]")


def normalize_code(value: object, *, level: int | None = None, where: str = "") -> str:
    """Return ``value`` as a clean HS code string, or raise :class:`CodeError`.

    Accepts "1006.30.20", "1006 30 20" and "10063020". Refuses integers and floats,
    because a code that went through a number has lost its leading zero and cannot be
    repaired safely ("8471300" could be 08471300 or 84713000).
    """
    at = f" ({where})" if where else ""
    if isinstance(value, bool) or value is None:
        raise CodeError(f"{value!r} is not an HS code{at}; codes are strings of 2, 4, 6 or 8 digits")
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            raise CodeError(f"missing HS code{at}")
        raise CodeError(
            f"HS code {value!r}{at} is a number; codes must be read as text so that leading "
            "zeros survive (pandas: dtype=str)"
        )
    if not isinstance(value, str):
        raise CodeError(f"{value!r}{at} is not an HS code string")
    code = _SEPARATORS.sub("", value.strip())
    if not code.isdigit():
        raise CodeError(f"HS code {value!r}{at} must contain only digits (and . - / or spaces)")
    if len(code) not in LEVELS:
        hint = ""
        if len(code) in (1, 3, 5, 7):
            hint = (
                f"; {code} has {len(code)} digits: was the column read as numbers? "
                "Read code columns with dtype=str"
            )
        raise CodeError(f"HS code {value!r}{at} has {len(code)} digits, expected 2, 4, 6 or 8{hint}")
    if level is not None and len(code) != level:
        raise CodeError(
            f"HS code {code!r}{at} is a {LEVEL_NAMES[len(code)]} ({len(code)} digits); "
            f"expected a {LEVEL_NAMES[level]} ({level} digits)"
        )
    return code


def is_code(value: object) -> bool:
    """True if ``value`` is a valid code string at any level."""
    try:
        normalize_code(value)
    except CodeError:
        return False
    return True


def code_level(code: str) -> int:
    """The number of digits of a normalised code."""
    return len(normalize_code(code))


def parent(code: str) -> str | None:
    """The code one level up (8 -> 6 -> 4 -> 2), or None for a chapter."""
    code = normalize_code(code)
    return None if len(code) == 2 else code[: len(code) - 2]


def ancestors(code: str) -> list[str]:
    """Every code above ``code``, chapter first: 10063020 -> [10, 1006, 100630]."""
    code = normalize_code(code)
    return [code[:n] for n in LEVELS if n < len(code)]


def truncate(code: str, level: int) -> str:
    """The ancestor of ``code`` at ``level`` (or the code itself)."""
    code = normalize_code(code)
    if level not in LEVELS:
        raise CodeError(f"level must be one of {LEVELS}, got {level}")
    if level > len(code):
        raise CodeError(f"cannot take level {level} of the {len(code)}-digit code {code}")
    return code[:level]


def is_prefix(prefix: str, code: str) -> bool:
    """True if ``prefix`` is ``code`` or one of its ancestors."""
    return normalize_code(code).startswith(normalize_code(prefix))


def is_service(code: str) -> bool:
    """True for SAC services codes (chapter 99)."""
    return normalize_code(code).startswith(SERVICES_CHAPTER)


def split_codes(value: object, *, where: str = "") -> list[str]:
    """Parse a space-, comma- or semicolon-separated list of codes, order kept, no duplicates."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if not isinstance(value, str):
        raise CodeError(f"code list {value!r}{f' ({where})' if where else ''} must be text")
    out: list[str] = []
    for token in re.split(r"[\s,;|]+", value.strip()):
        if token:
            code = normalize_code(token, where=where)
            if code not in out:
                out.append(code)
    return out


def format_code(code: str) -> str:
    """Human form: 10063020 -> 1006.30.20."""
    code = normalize_code(code)
    return ".".join([code[:4], *[code[i : i + 2] for i in range(4, len(code), 2)]]) if len(code) > 4 else code


def iter_levels(code: str) -> Iterator[str]:
    """The code and its ancestors, finest first: 10063020, 100630, 1006, 10."""
    code = normalize_code(code)
    for n in sorted((n for n in LEVELS if n <= len(code)), reverse=True):
        yield code[:n]


def common_level(a: str, b: str) -> int:
    """The finest level at which two codes agree (0 if they differ at the chapter)."""
    best = 0
    for n in LEVELS:
        if len(a) >= n and len(b) >= n and a[:n] == b[:n]:
            best = n
    return best


def check_codes(values: Iterable[object], *, column: str, source: str) -> list[str]:
    """Normalise a column of codes, naming the row of the first bad one."""
    out = []
    for row, value in enumerate(values, start=2):  # header is line 1 of a CSV
        out.append(normalize_code(value, where=f"{source}, column {column!r}, line {row}"))
    return out
