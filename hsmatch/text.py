"""Text handling for product names: input checks, normalisation and compound splitting.

District lists write names freely: "Etikoppaka Lacquerware/Wooden Toys", "Coconut &
Coconut based products, Tourism", "Engg. goods". This module turns such a string into
clean parts; it knows nothing of codes (that is the classifier's job).
"""

from __future__ import annotations

import functools
import math
import re
import threading
import unicodedata

import Stemmer  # PyStemmer: the Snowball stemmers compiled from C
from anyascii import anyascii

# Product names are short; a longer value is a paragraph or a paste error, not a name.
MAX_CHARS = 300

_SPACE = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_STRONG_SEPARATORS = re.compile(r"\s*[,;/|+\n]\s*")
_WEAK_SEPARATORS = re.compile(r"\s+(?:&|and)\s+|\s*&\s*", re.IGNORECASE)

# Abbreviations and spelling variants that district lists use.
_VARIANTS = {
    "engg": "engineering",
    "eng": "engineering",
    "prods": "products",
    "prod": "products",
    "mfg": "manufacturing",
    "jewelry": "jewellery",
    "jewellry": "jewellery",
    "jewelery": "jewellery",
    "color": "colour",
    "colored": "coloured",
    "handicraft s": "handicrafts",
    "it es": "ites",
    "i t": "it",
    "agri": "agriculture",
    "agro": "agro",
    "veg": "vegetable",
    "vegs": "vegetables",
    "pvt": "",
    "ltd": "",
}
# The first word of each variant (a variant applies only where its first word is).
_VARIANT_WORDS = frozenset(v.split()[0] for v in _VARIANTS)

# Words that name the kind of listing rather than the product ("Cashew processing
# cluster"); dropped from the query the goods retrievers see.
FILLER_WORDS = frozenset(
    ["products", "product", "items", "item", "based", "processing", "industry", "industries", "cluster", "clusters", "manufacturing", "manufacture", "making", "production", "units", "unit", "etc", "allied", "related", "sector", "district", "famous", "traditional", "local", "various"]
)


def problem_with(value: object) -> str | None:
    """Why ``value`` cannot be classified as a product name, or None if it can."""
    if value is None:
        return "missing value (None)"
    if isinstance(value, float) and math.isnan(value):
        return "missing value (NaN)"
    if type(value).__name__ in ("NAType", "NaTType"):
        return "missing value (NA)"
    if isinstance(value, bytes):
        return "bytes, not text: decode it first (for example value.decode('utf-8'))"
    if not isinstance(value, str):
        return f"not text: got {type(value).__name__} {str(value)[:40]!r}"
    stripped = strip_controls(value).strip()
    if not stripped:
        return "empty text" if not value.strip() else "no text left after removing symbols and control characters"
    if len(stripped) > MAX_CHARS:
        return (f"text is {len(stripped):,} characters long; a product name is at most "
                f"{MAX_CHARS}: pass the name, not a paragraph")
    letters = [c for c in stripped if c.isalpha()]
    if not letters:
        return "no letters in the text"
    latin = sum(1 for c in letters if "LATIN" in unicodedata.name(c, ""))
    if latin / len(letters) < 0.5:
        script = _main_script(letters)
        return (f"text is in {script} script; hsmatch reads product names in English or in "
                "Latin transliteration (for example 'basmati chawal')")
    return None


def _main_script(letters: list[str]) -> str:
    counts: dict[str, int] = {}
    for c in letters:
        name = unicodedata.name(c, "UNKNOWN")
        word = name.split()[0].title()
        counts[word] = counts.get(word, 0) + 1
    return max(counts, key=counts.__getitem__)


def strip_controls(text: str) -> str:
    """Remove control and format characters; turn line breaks and tabs into spaces."""
    if text.isascii() and text.isprintable():
        return text
    out = []
    for char in unicodedata.normalize("NFKC", text):
        category = unicodedata.category(char)
        if char in "\n\r\t":
            out.append(" ")
        elif category.startswith("C"):
            continue
        elif category == "So":  # emoji and other pictographs carry no product meaning
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def display_text(value: str) -> str:
    """The input as it should be shown back: controls removed, spaces collapsed."""
    return _SPACE.sub(" ", strip_controls(value)).strip()


@functools.lru_cache(maxsize=1 << 16)
def normalize(text: str) -> str:
    """Lower-case ASCII words separated by single spaces; common variants folded.
    Cached: a batch normalises each name in several places, and loading the engine
    normalises the nomenclature's texts for each of its word sets."""
    text = anyascii(strip_controls(text)).lower()
    text = text.replace("&", " and ").replace("'s ", "s ").replace("'", "")
    text = _NON_WORD.sub(" ", text).strip()
    # Most texts hold no variant: checking the words first skips the replacements.
    if _VARIANT_WORDS.isdisjoint(text.split()):
        return text
    text = f" {text} "
    for variant, plain in _VARIANTS.items():
        text = text.replace(f" {variant} ", f" {plain} " if plain else " ")
    return _SPACE.sub(" ", text).strip()


def content_query(normalized: str) -> str:
    """The words that name the product, without listing filler ("processing", "cluster")."""
    words = [w for w in normalized.split() if w not in FILLER_WORDS]
    return " ".join(words) if words else normalized


_STOPWORDS = frozenset(["of", "and", "or", "the", "with", "for", "not", "nor", "in", "on", "to",
                        "whether", "other", "than", "its", "their", "a", "an", "nes", "n", "e", "c"])


_STEMMER = Stemmer.Stemmer("english")
_STEMMER_LOCK = threading.Lock()  # a Stemmer object is not thread-safe


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem of a word, so that a name and a line that say the same
    thing in another form still share it: "twist drills" / "tools for drilling",
    "printed fabrics" / "printing", "mangoes" / "mango"."""
    with _STEMMER_LOCK:
        return _STEMMER.stemWord(word)


def content_words(text: str) -> frozenset[str]:
    """The words of a text that carry meaning, stemmed (for word-overlap features)."""
    return frozenset(stem(w) for w in normalize(text).split()
                     if w not in _STOPWORDS and w not in FILLER_WORDS and not w.isdigit())


# Words after which an English name goes on to say what its head is made of or for:
# "bags of jute", "oil for lamps".
_POST_MODIFIER = frozenset(["of", "for", "with", "from", "made", "in"])


def head_word(text: str) -> str:
    """The word a product name is about, stemmed: the last content word before any "of" /
    "for" phrase ("linseed oil" -> oil, "bags of jute" -> bag, "peetal bartan" -> bartan);
    "" for a name without content words."""
    words = normalize(text).split()
    cut = next((i for i, w in enumerate(words) if w in _POST_MODIFIER and i > 0), len(words))
    for word in reversed(words[:cut]):
        if word not in _STOPWORDS and word not in FILLER_WORDS and not word.isdigit():
            return stem(word)
    return ""


# A nomenclature text names what a line is NOT after these words, up to the next
# punctuation: "millet, other than seed", "(excluding cuff links)". Those words must not
# count as the line's own, or "seed" would describe both the seed and the non-seed line.
# "Whether or not broken" says both, so it negates nothing. The trade lists' short texts
# abbreviate: "other insects excl pureline stock".
_NEGATED_SPAN = re.compile(
    r"\b(?:other than|excluding|excepting|except|excl|(?<!whether or )not (?:being|including|containing|exceeding)?|"
    r"neither|nor|without|n\.?e\.?c\.?|nes)\b[^,;:()\[\]]*", re.IGNORECASE)
# What "n.e.c." and "nes" leave in a span is not a word the line excludes.
_NEGATION_WORDS = frozenset(["excluding", "excepting", "except", "excl", "being", "including", "containing",
                             "exceeding", "neither", "without", "nec"])


def positive_words(text: str) -> frozenset[str]:
    """The content words of a nomenclature text, less those in negated spans."""
    return content_words(_NEGATED_SPAN.sub(" ", text))


def negated_words(text: str) -> frozenset[str]:
    """The content words a nomenclature text names as what it is not: "ground-nuts, not
    roasted or otherwise cooked" -> roast, cook (and "otherwis")."""
    spans = " ".join(m.group(0) for m in _NEGATED_SPAN.finditer(text))
    return content_words(spans) - {stem(w) for w in _NEGATION_WORDS}


def _split_outside_parens(text: str, pattern: re.Pattern[str]) -> list[str]:
    """Split on ``pattern`` except inside parentheses (an unclosed one runs to the end)."""
    parts, depth, start = [], 0, 0
    protected = []
    for _i, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]" and depth:
            depth -= 1
        protected.append(depth > 0)
    for match in pattern.finditer(text):
        if any(protected[match.start():match.end()]):
            continue
        parts.append(text[start:match.start()])
        start = match.end()
    parts.append(text[start:])
    return [p.strip(" .-") for p in parts if p.strip(" .-")]


def split_strong(text: str) -> list[str]:
    """Split on list separators (, ; / | +), never inside parentheses."""
    parts = _split_outside_parens(text, _STRONG_SEPARATORS)
    return [p for p in parts if normalize(p) not in ("etc", "")]


def split_weak(text: str) -> list[str]:
    """Split on "&" and "and" ("Pickles & Papad"), never inside parentheses."""
    parts = _split_outside_parens(text, _WEAK_SEPARATORS)
    return [p for p in parts if normalize(p) not in ("etc", "")]
