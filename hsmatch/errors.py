"""One exception base for everything hsmatch raises on purpose.

Every message says what went wrong, where, and how to fix it, so the CLI can show
it as one line without a traceback.
"""

from __future__ import annotations


class HsmatchError(Exception):
    """Base class of all hsmatch errors."""


class CodeError(HsmatchError, ValueError):
    """An HS or SAC code that is malformed or unknown."""


class DataError(HsmatchError):
    """A reference or input data file is missing, unreadable or has the wrong schema."""


class ModelError(HsmatchError):
    """A built index or trained model is missing, stale or from a foreign build."""


class InputError(HsmatchError, ValueError):
    """A user-supplied argument or file the library cannot work with."""
