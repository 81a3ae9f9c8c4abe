"""Reading misspelt words of a product name as the words the knowledge base knows.

District lists are typed by hand: "Gauva", "Milllet", "Jewllery", "Imitiation jewellery",
"Madhubhani painting". A word the nomenclature and the lexicon never use is read as a
known word when the slip is one a typist makes, and only then:

- two neighbouring letters swapped ("gauva" -> "guava"),
- a letter doubled ("milllet" -> "millet", "aamla" -> "amla"),
- in a word of at least 7 letters, one letter added, dropped or changed with the first
  letter kept ("fastners" -> "fasteners"), unless the word ends in "-ing": an "-ing"
  word the vocabulary lacks is mostly an English verb's ("angling", "rafting", "weaning"),
  one letter from a noun it is not ("anglong", "rating", "weaving").

Of several known words, the most used wins ("jewllery" is "jewellery", not the lexicon's
one "jwellery"), then a slip over an edit.
Two edits are never made: on the district lists they found as many wrong words
("remittance" -> "resistance", "tanneries" -> "tangerines") as right ones.

A word of 5 or 6 letters is read as a known word only when the knowledge base uses
that word more than once: a swap in a short word often lands on a rare nomenclature
word ("thane", the district, is no "thaen"; "ipsum" no "pisum"). Other edits of short
words are never made: one edit from a five-letter word reaches too many others ("bhoot"
jolokia is no "boot", "banka" silk no "bank"). A word of everyday English is never corrected either, though the nomenclature lacks it
("officer" is no "office", "connectivity" no "conductivity"): the embedding model's
WordPiece vocabulary supplies those words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from hsmatch.errors import ModelError

MIN_WORD = 5          # shorter words are never corrected
MIN_ONE_EDIT = 7      # an added, dropped or changed letter from this length on
SHORT_WORD_USES = 2   # below MIN_ONE_EDIT letters, the known word must be used this often


def _doubled_letter(word: str, known: str) -> bool:
    """``word`` is ``known`` with one letter typed twice."""
    return len(word) == len(known) + 1 and any(
        word[i] == word[i + 1] and word[:i] + word[i + 1:] == known for i in range(len(word) - 1))


def _swapped_letters(word: str, known: str) -> bool:
    """``word`` is ``known`` with two neighbouring letters swapped."""
    if len(word) != len(known):
        return False
    diff = [i for i, (a, b) in enumerate(zip(word, known, strict=True)) if a != b]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and word[diff[0]] == known[diff[1]] \
        and word[diff[1]] == known[diff[0]]


def english_words() -> frozenset[str]:
    """The whole words of the packaged embedding model's WordPiece vocabulary (empty
    when the package is missing: then only the knowledge base's words count as known)."""
    try:
        from hsmatch.embedding import packaged_model_path

        vocab = packaged_model_path() / "vocab.txt"
    except ModelError:  # no package, no extra words: correction still works
        return frozenset()
    return _read_words(vocab)


def _read_words(path: Path) -> frozenset[str]:
    if not path.is_file():
        return frozenset()
    return frozenset(w for w in path.read_text(encoding="utf-8").split() if w.isalpha() and w.islower())


class Speller:
    """Corrects words outside a vocabulary (normalised words, repeated as often as they
    are used) into it; words of ``english`` are known too, but never a correction."""

    def __init__(self, words: Iterable[str], english: frozenset[str] = frozenset()) -> None:
        self.counts = Counter(w for w in words if w.isalpha())
        self.english = english
        # Every accepted correction keeps the first letter and the length within one, but
        # a swap of the first two letters: known words by (first letter, length), so each
        # unknown word is compared with a few hundred words, not all of them.
        self._by_start: dict[tuple[str, int], list[str]] = {}
        for w in sorted(self.counts):
            if len(w) >= MIN_WORD - 1:
                self._by_start.setdefault((w[0], len(w)), []).append(w)
        self._cache: dict[str, str] = {}

    def known(self, word: str) -> bool:
        """In the vocabulary or everyday English, as it is or as its singular."""
        return any(w in self.counts or w in self.english
                   for w in (word, word[:-1] if word.endswith("s") else word,
                             word[:-2] if word.endswith("es") else word))

    def word(self, word: str) -> str:
        """The known word ``word`` is a slip for, else ``word`` itself."""
        if len(word) < MIN_WORD or not word.isalpha() or self.known(word):
            return word
        if word not in self._cache:
            self._cache[word] = self._correct(word)
        return self._cache[word]

    def _correct(self, word: str) -> str:
        n = len(word)
        choices = [w for size in (n - 1, n, n + 1) for w in self._by_start.get((word[0], size), ())]
        choices += self._by_start.get((word[1], n), [])
        near = process.extract(word, choices, scorer=DamerauLevenshtein.distance,
                               score_cutoff=1, limit=None)
        editable = len(word) >= MIN_ONE_EDIT and not word.endswith("ing")
        accepted = []
        for known, _, _ in near:
            slip = _swapped_letters(word, known) or _doubled_letter(word, known)
            edit = editable and known[0] == word[0]
            common = len(word) >= MIN_ONE_EDIT or self.counts[known] >= SHORT_WORD_USES
            if (slip or edit) and common:
                accepted.append((-self.counts[known], not slip, known))
        return min(accepted)[2] if accepted else word

    def text(self, text: str) -> str:
        """A normalised text with each misspelt word read as the known one."""
        return " ".join(self.word(w) for w in text.split())
