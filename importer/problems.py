"""Row problems as data: every finding has the user's row number, columns, a stable code."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    ERROR = "error"  # the row is not sent
    WARNING = "warning"  # the row goes ahead; the warning is reported


_ERROR = Level.ERROR  # looked up once: enum member access is slow and this is hot


@dataclass(frozen=True)
class RowProblem:
    """One problem of one input row.

    ``row`` is the row number the user sees (Excel row, or CSV line where the record starts);
    ``columns`` the source columns involved; ``code`` a stable kebab-case code
    (``end-before-start``); ``message`` plain words; ``value`` the offending value, if any.
    """

    row: int
    columns: tuple[str, ...]
    code: str
    message: str
    value: Any = None
    level: Level = Level.ERROR
    field: str | None = None  # the API field concerned, where there is one

    @property
    def is_error(self) -> bool:
        return self.level is _ERROR

    def describe(self) -> str:
        where = f"row {self.row}"
        if self.columns:
            where += ", column " + ", ".join(repr(c) for c in self.columns)
        return f"{where}: {self.message}"


def shown(value: Any, limit: int = 60) -> str:
    """A value for a message: printable, quoted, truncated."""
    text = value if isinstance(value, str) else str(value)
    text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text) if isinstance(value, str) else text
