"""hsmatch: map free-text product names to ITC-HS codes and check district export lists.

    >>> import hsmatch
    >>> match = hsmatch.classify("Basmati rice")
    >>> match.code, match.kind
    ('10063020', 'goods')

The public names are few; everything else may move. Heavy modules load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from hsmatch.errors import HsmatchError

__version__ = "0.1.0"

__all__ = [
    "Candidate",
    "Classifier",
    "HsmatchError",
    "Match",
    "__version__",
    "classify",
    "load_model",
    "score_districts",
]

_LAZY = {
    "classify": "hsmatch.classify",
    "load_model": "hsmatch.classify",
    "Classifier": "hsmatch.classify",
    "Match": "hsmatch.classify",
    "Candidate": "hsmatch.classify",
    "score_districts": "hsmatch.align",
}

if TYPE_CHECKING:
    from hsmatch.align import score_districts
    from hsmatch.classify import Candidate, Classifier, Match, classify, load_model


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hsmatch' has no attribute {name!r}")
