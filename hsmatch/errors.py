"""One exception base for everything hsmatch raises on purpose.

Every message says what went wrong, where, and how to fix it, so the CLI can show
it as one line without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class HsmatchError(Exception):
    """Base class of all hsmatch errors."""


class CodeError(HsmatchError, ValueError):
    """An HS or SAC code that is malformed or unknown."""


class DataError(HsmatchError):
    """A reference or input data file is missing, unreadable or has the wrong schema."""


class ModelError(HsmatchError):
    """A built index or trained model is missing, stale or from a foreign build."""


class IndexOutOfDate(ModelError):
    """The built index is missing, of another format, built with other libraries, or older
    than the reference data: a derived cache that a rebuild puts right."""


class InputError(HsmatchError, ValueError):
    """A user-supplied argument or file the library cannot work with."""


@dataclass(frozen=True)
class RowWarning:
    """A problem with one row of an input table that did not stop the load.

    ``line`` is the CSV line (the header is line 1), so a reader can open the file at it.
    """

    source: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}, line {self.line}, column {self.column!r}: {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {"source": self.source, "line": self.line, "column": self.column,
                "message": self.message}
