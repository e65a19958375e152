"""The import stamp: the two lines that make an appointment provably one of ours, and say what
the import last wrote into it.

Every appointment the importer writes ends its note with::

    onoffice-import ref 3f9a1c07d2e4b856
    onoffice-import list 9c1e55aa row 12 v 5d2c9a0e1b7f 8e1f0a2b3c4d by 7f3a09c2 at 1796400000
      f 3c0e… (on the same line: 60 hex digits)

- ``ref``: the row's identity (:mod:`importer.run.identity`: the values of the mapping's key
  columns, else the fingerprint of the content the row was first created with, with the
  occurrence number of an allowed duplicate), never the account or the machine. An update keeps
  it: the appointment stays the row's. A person does not type it, so an appointment without it
  is never taken for an import's.
- ``list``: which list (file) wrote it last (:func:`list_tag`: its name, not its folder, so a
  colleague's copy is the same list); ``row``: the row it was written from; ``key``: the ref
  comes from key columns.
- ``v``: the fingerprint of the row content written (:func:`importer.rules.payload.fingerprint`) and
  the digest of what a read of the appointment shows after that write
  (:func:`importer.onoffice.readback.seen_digest`). Any computer can so tell an appointment that
  still holds the import's last write (its read gives the same digest) from one a person
  changed, and which rows of the file are as they were imported, without this computer's ledger.
- ``f``: each field written, digested on its own (:func:`importer.onoffice.readback.field_digests`,
  60 hex digits): where an account shows a field in a form of its own or not at all, the
  others are still compared one by one, so a re-run never calls the import's own writes a
  person's change (issue 30). Stamps without it are compared through ``v``.
- ``by``: the run that wrote it (two runs of one list at the same moment see each other);
  ``at``: when, on the server's clock (Unix seconds): a change made in onOffice later shows in
  `modified` even where a read cannot show the field (undo leaves such an appointment alone).

The first line is the whole stamp of versions before the second line existed; it is kept as it
was, so those versions still find the appointment (and take the rest for a change in onOffice,
never for a missing appointment).

``options: {reference: false}`` in a mapping leaves the note untouched; then a row is only
recognised through this computer's ledger, and a lost answer is adopted only when every readable
field matches (never a look-alike).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Final

PREFIX: Final = "onoffice-import ref "
_REF: Final = r"onoffice-import ref ([0-9a-f]{16})"
_STATE: Final = (
    r"onoffice-import list ([0-9a-f]{8}) row (\d{1,7})( key)? v ([0-9a-f]{12}) ([0-9a-f]{12})"
    r" by ([0-9a-f]{8})(?: at (\d{1,12}))?(?: f ([0-9a-f]{60}))?"
)
_LINE: Final = re.compile(rf"(?m)^{_REF}[ \t\r]*$")
# The stamp as appended: the ref line, then (since the stamp has two lines) the state line. A
# server may store line breaks as CRLF.
_BLOCK: Final = re.compile(rf"(?m)(?:\r?\n\r?\n)?^{_REF}[ \t\r]*(?:\n{_STATE}[ \t\r]*)?$(?:\n)?")
RESULTS_SUFFIX: Final = ".results"


@dataclass(frozen=True)
class Stamp:
    """What the import wrote into an appointment's note (see the module's doc)."""

    ref: str  # 16 hex
    list_tag: str = ""  # 8 hex; "" in the one-line stamp of earlier versions
    row: int | None = None
    keyed: bool = False
    content: str = ""  # 12 hex: the row content last written
    seen: str = ""  # 12 hex: what a read of it shows after that write
    run: str = ""  # 8 hex
    at: int = 0  # when it was written: Unix seconds on the server's clock (0: not known)
    fields: str = ""  # 60 hex: each field written, digested on its own ("" in earlier stamps)

    @property
    def complete(self) -> bool:
        """The two-line stamp: it says what was written (the one-line stamp does not)."""
        return bool(self.list_tag and self.content and self.seen)

    def text(self) -> str:
        if not self.complete:
            return f"{PREFIX}{self.ref}"
        key = " key" if self.keyed else ""
        at = f" at {self.at}" if self.at else ""
        each = f" f {self.fields}" if self.fields else ""
        return (
            f"{PREFIX}{self.ref}\nonoffice-import list {self.list_tag} row {self.row or 0}{key} "
            f"v {self.content} {self.seen} by {self.run}{at}{each}"
        )


def reference(row_key: str) -> str:
    """The reference of a row identity (a journal key: fingerprint, or fingerprint#n)."""
    return hashlib.sha256(f"onoffice-import:{row_key}".encode()).hexdigest()[:16]


def list_name(path: str | PurePath) -> str:
    """The name a list is known by on every computer: its file name without the extension, and
    without ``.results`` for its results workbook (``viewings.xlsx``, ``viewings.csv`` and
    ``viewings.results.xlsx`` are one list). A check report, and a results workbook under
    another name, say their list in their Summary (``importer.source.load``); a name is never
    read otherwise than it was: the list tags of every import before stay."""
    stem = PurePath(path).name
    if "." in stem:
        stem = stem.rsplit(".", 1)[0]
    return stem.removesuffix(RESULTS_SUFFIX).strip() or stem


def list_tag(name: str) -> str:
    """The 8 hex digits a list is stamped with (its name, compared without case)."""
    return hashlib.sha256(f"onoffice-import list:{name.casefold()}".encode()).hexdigest()[:8]


def list_filter(tag: str) -> str:
    """A `like` pattern for the notes of one list's appointments (a hint to the server: the
    stamp itself decides)."""
    return f"%onoffice-import list {tag} %"


def with_stamp(params: dict[str, Any], stamp: Stamp) -> dict[str, Any]:
    """The payload with the stamp as the last lines of its note (a copy)."""
    data = dict(params.get("data", {}))
    note = note_without_reference(str(data.get("note") or ""))
    data["note"] = f"{note}\n\n{stamp.text()}" if note else stamp.text()
    return {**params, "data": data}


def with_reference(params: dict[str, Any], ref: str) -> dict[str, Any]:
    """The payload with the one-line stamp of a reference (a copy)."""
    return with_stamp(params, Stamp(ref))


def without_reference(params: dict[str, Any]) -> dict[str, Any]:
    """The payload as it was before :func:`with_stamp` (a copy when there was a stamp)."""
    data = dict(params.get("data", {}))
    note = data.get("note")
    if not isinstance(note, str) or _BLOCK.search(note) is None:
        return params
    rest = note_without_reference(note)
    if rest:
        data["note"] = rest
    else:
        del data["note"]
    return {**params, "data": data}


def note_without_reference(note: str) -> str:
    """A note as the row wrote it: the import's stamp taken off (wherever it stands: a person
    may have written below it)."""
    return _BLOCK.sub("", note) if note else ""


def found_in(note: str) -> set[str]:
    """The references written in a note (normally one)."""
    return set(_LINE.findall(note or ""))


def read_stamp(note: str) -> Stamp | None:
    """The import's stamp in a note (the last one, should there be several), or None."""
    found = None
    for match in _BLOCK.finditer(note or ""):
        found = match
    if found is None:
        return None
    ref, tag, row, key, content, seen, run, at, each = found.groups()
    if tag is None:
        return Stamp(ref)
    return Stamp(ref, tag, int(row), bool(key), content, seen, run, int(at or 0), each or "")
