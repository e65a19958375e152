"""The import reference: the line that makes an appointment provably one of ours.

Every appointment the importer creates carries, as the last line of its note::

    onoffice-import ref 3f9a1c07d2e4b856

The 16 hex digits are derived from the row's identity (:mod:`importer.identity`: the values of
the mapping's key columns, else the fingerprint of the content the row was first created with,
with the occurrence number of an allowed duplicate), never from the account or the machine. An
update keeps the line: the appointment stays the row's. So
any run, on any computer, can find in onOffice the appointments an earlier import created for
the same rows, and tell them apart from a person's appointment that merely looks the same (a
person does not type that line). Settling a lost answer adopts only an appointment that carries
the row's reference; the existence check before a run recognises rows already in onOffice by it.

``options: {reference: false}`` in a mapping leaves the note untouched; then a row is only
recognised through this computer's journal, and a lost answer is adopted only when every readable
field matches (never a look-alike).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Final

PREFIX: Final = "onoffice-import ref "
_LINE: Final = re.compile(r"(?m)^onoffice-import ref ([0-9a-f]{16})\s*$")
_LAST: Final = re.compile(r"(?:\n\n)?onoffice-import ref [0-9a-f]{16}\Z")  # as appended


def reference(row_key: str) -> str:
    """The reference of a row identity (a journal key: fingerprint, or fingerprint#n)."""
    return hashlib.sha256(f"onoffice-import:{row_key}".encode()).hexdigest()[:16]


def with_reference(params: dict[str, Any], ref: str) -> dict[str, Any]:
    """The payload with the reference as the last line of its note (a copy)."""
    data = dict(params.get("data", {}))
    note = str(data.get("note") or "")
    data["note"] = f"{note}\n\n{PREFIX}{ref}" if note else f"{PREFIX}{ref}"
    return {**params, "data": data}


def without_reference(params: dict[str, Any]) -> dict[str, Any]:
    """The payload as it was before :func:`with_reference` (a copy when there was a line)."""
    data = dict(params.get("data", {}))
    note = data.get("note")
    if not isinstance(note, str) or (match := _LAST.search(note)) is None:
        return params
    if match.start():
        data["note"] = note[: match.start()]
    else:
        del data["note"]
    return {**params, "data": data}


def note_without_reference(note: str) -> str:
    """A note as the row wrote it: the appended reference line taken off."""
    return _LAST.sub("", note or "")


def found_in(note: str) -> set[str]:
    """The references written in a note (normally one)."""
    return set(_LINE.findall(note or ""))
