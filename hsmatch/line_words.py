"""What the goods lines say, word by word: derived from the nomenclature alone, so it is
made once by ``hsmatch build`` and stored in the index rather than at every load (it
took about 0.45 s of a 2 s cold start).

The retriever reads it for its coverage features: how much of a name a line's text (and
its heading's) accounts for, which words a line says it is not ("ground-nuts, not
roasted"), and what a line is made of. The index records a hash of the code that makes
it (:data:`CODE_FILES`), so a change to that code asks for a rebuild instead of
serving stale words.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from hsmatch.materials import Materials
from hsmatch.text import negated_words, positive_words

if TYPE_CHECKING:
    from hsmatch.index import Corpus

# Character n-grams in more than this share of the lines (" of", "ed ", "and") weigh
# little (low idf) but made up most of the character product's work: left out of it
# (5,000 names: 0.98 s -> 0.45 s).
CHAR_DF_CAP = 0.2
# The modules whose code decides the stored words.
CODE_FILES = ("line_words.py", "text.py", "materials.py")


def code_hash() -> str:
    """sha256 over the modules that make :class:`LineWords`."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for name in CODE_FILES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


class WordLists:
    """Each line's word ids, flat (CSR): counts how many of a query's words a line has."""

    def __init__(self, lists: list[list[int]]) -> None:
        self.sizes = np.array([len(w) for w in lists], dtype=np.int64)
        self.starts = np.cumsum(self.sizes) - self.sizes
        self.ids = np.fromiter(chain.from_iterable(lists), dtype=np.int64, count=int(self.sizes.sum()))

    def count(self, asked: np.ndarray, of: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each row (query ``of``, line ``lines``): how many of the line's words the
        query asked for, and whether the line has the query's head word (``asked``:
        queries x word ids, bit ASKED for a word asked for, bit HEAD for the head word)."""
        sizes = self.sizes[lines]
        row = np.repeat(np.arange(len(lines)), sizes)
        offset = np.arange(len(row)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        words = self.ids[np.repeat(self.starts[lines], sizes) + offset]
        marks = asked[of[row], words]
        return (np.bincount(row[(marks & ASKED) != 0], minlength=len(lines)),
                np.bincount(row[(marks & HEAD) != 0], minlength=len(lines)) > 0)


ASKED, HEAD = 1, 2  # bits of WordLists.count's ``asked``


@dataclass
class LineWords:
    """Per goods line (index order): its words, its heading's, the words it negates, the
    same as word ids, its materials, and its character TF-IDF without common n-grams."""

    line_words: list[frozenset[str]]
    heading_words: list[frozenset[str]]
    negated: list[frozenset[str]]
    word_id: dict[str, int]
    own_words: WordLists
    cover_words: WordLists
    negated_words: WordLists
    line_material: np.ndarray    # int64 bit mask of Materials groups
    char_t: sparse.csr_matrix    # terms x lines, transposed once (scipy converts per query)


def line_words(goods: Corpus, groups: Corpus) -> LineWords:
    """The :class:`LineWords` of the goods corpus (``groups``: chapters and headings)."""
    codes = goods.codes
    heading_texts = {c: t for c, t in zip(groups.codes, groups.texts, strict=True) if len(c) == 4}
    heading_positive = {c: positive_words(t) for c, t in heading_texts.items()}
    heading_negated = {c: negated_words(t) for c, t in heading_texts.items()}
    own = [positive_words(t) for t in goods.texts]
    heading = [heading_positive.get(c[:4], frozenset()) for c in codes]
    # A line's negated words, and its heading's, less those it also says plainly.
    negated = [(negated_words(t) | heading_negated.get(c[:4], frozenset())) - w - h
               for t, c, w, h in zip(goods.texts, codes, own, heading, strict=True)]
    word_id: dict[str, int] = {}

    def ids(words: frozenset[str]) -> list[int]:
        return [word_id.setdefault(w, len(word_id)) for w in words]

    own_words = WordLists([ids(w) for w in own])
    cover_words = WordLists([ids(w | h) for w, h in zip(own, heading, strict=True)])
    negated_ids = WordLists([ids(n) for n in negated])
    materials = Materials()
    line_material = np.array([materials.of_line(w | h, c) for w, h, c in zip(own, heading, codes, strict=True)],
                             dtype=np.int64)
    return LineWords(own, heading, negated, word_id, own_words, cover_words, negated_ids, line_material,
                     without_common_columns(goods.char, CHAR_DF_CAP).T.tocsr())


def without_common_columns(matrix: sparse.csr_matrix, cap: float) -> sparse.csr_matrix:
    """``matrix`` (rows x terms) with the terms found in over ``cap`` of the rows zeroed."""
    df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    kept = (df <= cap * matrix.shape[0]).astype(matrix.dtype)
    out = (matrix @ sparse.diags(kept)).tocsr()
    out.eliminate_zeros()
    return out
