"""Which appointment a row is: row identity across edits, runs and computers; the run's plan.

Every appointment an import created has a journal *entry*; the entry's key is the row's
identity when it was first sent, and the import reference in the appointment's note is derived
from it (:mod:`importer.reference`). The entry also keeps the *content* last written (the
fingerprint of the row's parameters), the input file and the row it came from.

A row of the file finds its entry, in this order:

1. with ``key:`` in the mapping (a booking number, say), by the values of those columns: the
   row keeps its appointment whatever else in it changes, on any computer (onOffice is searched
   for the key's reference);
2. by its content: the entry whose appointment holds exactly this row (also after the row was
   updated, re-sorted, or the mapping gained or lost a key). Rows of one content share its
   entries, each preferring the entry of its own row;
3. by the Appointment ID of the results workbook it comes from, when this journal created it;
4. by its place: the same file, the same row, no row deleted since the last run (at least as
   many rows), and the entry not taken by 1-3; only while at least as many rows are
   recognised by 1-3 as would be recognised so (a new list saved under the old name, or a row
   deleted above an edited one, is never taken for edits).

:func:`plan` decides, without any network call, what a run does with each valid row:
``create``, ``update`` (its appointment holds an earlier version), ``unchanged`` (imported as
it is now), ``settle`` (sent by an earlier run whose answer was lost) or ``duplicate`` (the same
content as another row, not sent without ``allow_duplicates``); and which appointments an
earlier run imported from this file for rows that are gone from it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import journal as jr
from .i18n import _
from .journal import Entry
from .load import Table, header_key
from .mapping import Mapping
from .payload import canonical
from .problems import RowProblem, shown
from .reference import without_reference

CREATE, UPDATE, UNCHANGED, SETTLE, DUPLICATE = (
    "create",
    "update",
    "unchanged",
    "settle",
    "duplicate",
)
KEY_PREFIX = "key:"  # identities from the mapping's key columns; fingerprints are bare hex
OCCURRENCE = "#"  # fp#2: the second row of one content, sent with allow_duplicates


@dataclass(frozen=True)
class Candidate:
    """One valid row, as the plan sees it."""

    row: int
    content: str  # the fingerprint of its parameters
    identity: str | None  # from the mapping's key columns, if it has them
    source_row: int  # the row in the original file (a results workbook keeps it)
    earlier_id: int | None  # the Appointment ID a results workbook gives it
    params: dict[str, Any]  # the row's create parameters (without the reference line)


@dataclass(frozen=True)
class Step:
    row: int
    action: str  # CREATE, UPDATE, UNCHANGED, SETTLE or DUPLICATE
    key: str  # the journal key the row is kept under
    entry: Entry | None
    recognised_by: str = ""  # "key", "content", "appointment id", "same row"; "" when new
    rekey: str | None = None  # a keyed row found under another key: its entry moves here
    same_as: int | None = None  # DUPLICATE: the row it repeats


@dataclass(frozen=True)
class Plan:
    steps: dict[int, Step]
    removed: list[Entry]  # imported from this file earlier, for rows no longer in it
    recognised: int  # rows that found their entry

    def counts(self) -> Counter[str]:
        return Counter(step.action for step in self.steps.values())


def key_identities(table: Table, mapping: Mapping) -> tuple[dict[int, str], list[RowProblem]]:
    """Row -> identity from the mapping's key columns; an empty or repeated key is an error
    (two rows cannot be one appointment)."""
    if not mapping.key:
        return {}, []
    by_header = {header_key(c): c for c in table.columns}
    columns = [by_header[header_key(spec.columns[0])] for spec in mapping.key]
    values = [table.frame[c].to_numpy() for c in columns]
    identities: dict[int, str] = {}
    problems: list[RowProblem] = []
    first: dict[str, int] = {}
    for i, row in enumerate(table.row_numbers):
        cells = [_key_text(v[i]) for v in values]
        empty = tuple(c for c, text in zip(columns, cells, strict=True) if not text)
        if empty:
            problems.append(
                RowProblem(
                    row,
                    empty,
                    "key-missing",
                    _("the key is empty: every row needs its own key (its booking number)"),
                )
            )
            continue
        joined = json.dumps(list(zip(columns, cells, strict=True)), ensure_ascii=False)
        identity = KEY_PREFIX + hashlib.sha256(joined.encode()).hexdigest()[:32]
        if identity in first:
            problems.append(
                RowProblem(
                    row,
                    tuple(columns),
                    "key-duplicate",
                    _("the same key as row {row} of the file: one key, one appointment").format(
                        row=first[identity]
                    ),
                    shown(" / ".join(cells)),
                )
            )
            continue
        first[identity] = row
        identities[row] = identity
    return identities, problems


def _key_text(value: Any) -> str:
    """A key cell as text: 1234.0 from Excel is "1234", surrounding blanks do not count."""
    if value is None or value != value:  # None or NaN
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def same_payload(a: dict[str, Any] | None, b: dict[str, Any]) -> bool:
    """The same content; which reference line the note ends with does not count (an
    appointment found by its content elsewhere keeps the reference it was created with)."""
    return a is not None and canonical(without_reference(a)) == canonical(without_reference(b))


def _content_of(entry: Entry) -> str | None:
    """The content an entry's appointment holds (journals before it was recorded: the key)."""
    if entry.content:
        return entry.content
    if entry.fingerprint.startswith(KEY_PREFIX):
        return None
    return entry.fingerprint.split(OCCURRENCE)[0]


class _Matcher:
    def __init__(self, entries: dict[str, Entry]) -> None:
        self.entries = entries
        self.taken: set[str] = set()
        self.by_content: dict[str, list[Entry]] = {}
        for e in sorted(entries.values(), key=lambda e: (e.source_row or 0, e.fingerprint)):
            content = _content_of(e)
            if content is not None:
                self.by_content.setdefault(content, []).append(e)
        self.by_appointment = {
            e.appointment_id: e
            for e in entries.values()
            if e.state == jr.CREATED and e.appointment_id is not None
        }

    def take(self, entry: Entry) -> Entry:
        self.taken.add(entry.fingerprint)
        return entry

    def free(self, entry: Entry | None) -> bool:
        return entry is not None and entry.fingerprint not in self.taken

    def by_content_for(self, rows: list[Candidate]) -> dict[int, Entry]:
        """Rows of one content and the entries holding it: each row its own row's entry
        first, then the rest in order. A keyed row takes only an entry without a key (the
        mapping gained one); another key's entry belongs to that key's row."""
        pool = [
            e
            for e in self.by_content.get(rows[0].content, [])
            if self.free(e) and not (rows[0].identity and e.fingerprint.startswith(KEY_PREFIX))
        ]
        found: dict[int, Entry] = {}
        for c in rows:
            own = next((e for e in pool if e.source_row == c.source_row), None)
            if own is not None:
                found[c.row] = own
                pool.remove(own)
        for c in rows:
            if c.row not in found and pool:
                found[c.row] = pool.pop(0)
        return found


def plan(
    candidates: Sequence[Candidate],
    entries: dict[str, Entry],
    input_path: str,
    payload_for: Callable[[str, dict[str, Any]], dict[str, Any]],
    *,
    allow_duplicates: bool = False,
    same_length: bool = False,
) -> Plan:
    """What a run does with each row (see the module's doc). ``payload_for(key, params)`` is
    what is sent for a row kept under ``key`` (the reference line follows the key);
    ``same_length``: the file has at least as many rows as at the last run from it (no row
    was deleted, which would shift the rows below it: place matching)."""
    match = _Matcher(entries)
    found: dict[int, tuple[Entry, str]] = {}
    for c in candidates:  # 1. by key
        if c.identity is not None and c.identity in entries:
            found[c.row] = (match.take(entries[c.identity]), "key")
    groups: dict[str, list[Candidate]] = {}
    for c in candidates:
        if c.row not in found:
            groups.setdefault(c.content, []).append(c)
    for rows in groups.values():  # 2. by content
        for row, entry in match.by_content_for(rows).items():
            found[row] = (match.take(entry), "content")
    unplaced = [c for c in candidates if c.row not in found]

    def fits(c: Candidate, entry: Entry) -> bool:
        """A keyed row takes only an entry without a key (the mapping gained one)."""
        return c.identity is None or not entry.fingerprint.startswith(KEY_PREFIX)

    for c in unplaced:  # 3. by the results workbook's Appointment ID
        named = match.by_appointment.get(c.earlier_id) if c.earlier_id is not None else None
        if named is not None and match.free(named) and fits(c, named):
            found[c.row] = (match.take(named), "appointment id")
    recognised = len(found)
    gone = [
        e
        for e in entries.values()
        if e.state == jr.CREATED and e.input == input_path and match.free(e)
    ]
    # Entries of a content still in the file that no row of it took are surplus: they pair too.
    at_row = {e.source_row: e for e in gone if e.source_row is not None}
    pairs = [
        (c, at_row[c.source_row])
        for c in unplaced
        if c.row not in found and c.source_row in at_row and fits(c, at_row[c.source_row])
    ]
    if same_length and pairs and recognised >= len(pairs):  # 4. by place
        for c, entry in pairs:
            found[c.row] = (match.take(entry), "same row")
    steps = {c.row: _step(c, found.get(c.row), payload_for) for c in candidates}
    _new_keys(candidates, steps, entries, allow_duplicates)
    removed = [e for e in gone if match.free(e)]
    return Plan(
        steps, sorted(removed, key=lambda e: (e.source_row or 0, e.fingerprint)), recognised
    )


def _step(
    c: Candidate,
    found: tuple[Entry, str] | None,
    payload_for: Callable[[str, dict[str, Any]], dict[str, Any]],
) -> Step:
    if found is None:
        return Step(c.row, CREATE, c.identity or "", None)
    entry, how = found
    key = entry.fingerprint
    if entry.state in (jr.FAILED, jr.UNDONE):  # sent again under the key it had
        return Step(c.row, CREATE, c.identity or key, entry, how)
    if entry.state in (jr.SENDING, jr.UNKNOWN):
        return Step(c.row, SETTLE, key, entry, how)
    rekey = c.identity if c.identity is not None and c.identity != key else None
    if (
        rekey is None
        and entry.pending is None
        and same_payload(entry.payload, payload_for(key, c.params))
    ):
        return Step(c.row, UNCHANGED, key, entry, how)
    return Step(c.row, UPDATE, key, entry, how, rekey)


def _new_keys(
    candidates: Sequence[Candidate],
    steps: dict[int, Step],
    entries: dict[str, Entry],
    allow_duplicates: bool,
) -> None:
    """Keys for rows that found no entry: their identity, or their content (``#n`` for a
    repeated one: the first free occurrence number). A repeated content is a duplicate unless
    allowed."""
    used = set(entries) | {s.key for s in steps.values() if s.key}
    first: dict[str, int] = {}
    for c in candidates:
        step = steps[c.row]
        # a new row, or one edited into a copy of another: a duplicate (a row already known
        # as a duplicate, allowed by an earlier run, stays what it is)
        fresh = step.entry is None or step.action == UPDATE
        repeated = c.identity is None and c.content in first and fresh
        if repeated and not allow_duplicates:
            steps[c.row] = Step(c.row, DUPLICATE, "", None, same_as=first[c.content])
            continue
        first.setdefault(c.content, c.row)
        if step.key:
            continue
        key, n = c.content, 1
        while key in used:
            n += 1
            key = f"{c.content}{OCCURRENCE}{n}"
        used.add(key)
        steps[c.row] = Step(c.row, CREATE, key, None)
