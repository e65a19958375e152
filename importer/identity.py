"""Which appointment a row is: row identity across edits, runs and computers; the run's plan.

A row's *identity* is its journal key, and its import reference is derived from it
(:mod:`importer.reference`):

- with ``key:`` in the mapping (a booking number, say), the values of those columns: the row
  keeps its appointment whatever else in it changes, on any computer (onOffice is searched for
  the reference of the key);
- otherwise the fingerprint of its content (``#2``, ``#3`` for allowed duplicates). An edited
  row is then the earlier row's appointment when

  1. it comes from a results workbook whose Appointment ID names an appointment this
     account's journal created, or
  2. this account's journal imported a row from the same file at the same source row whose
     content no longer appears anywhere in the file, and at least as many rows of the file are
     recognised unchanged as would be taken for edits (a new list saved under the old name is
     not mistaken for a list of edits).

:func:`plan` decides, without any network call, what a run does with each valid row:
``create``, ``update`` (its appointment holds an earlier version), ``unchanged`` (imported as
it is now) or ``settle`` (sent by an earlier run whose answer was lost); and which
appointments an earlier run imported from this file for rows that are gone from it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import journal as jr
from .journal import Entry
from .load import Table, header_key
from .mapping import Mapping
from .payload import canonical
from .problems import RowProblem, shown

CREATE, UPDATE, UNCHANGED, SETTLE = "create", "update", "unchanged", "settle"
KEY_PREFIX = "key:"  # identities from the mapping's key columns; fingerprints are bare hex


@dataclass(frozen=True)
class Candidate:
    """One valid row, as the plan sees it."""

    row: int
    key: str  # identity by key columns, or by content (fingerprint[#n])
    source_row: int  # the row in the original file (a results workbook keeps it)
    earlier_id: int | None  # the Appointment ID a results workbook gives it
    params: dict[str, Any]  # the row's create parameters (without the reference line)


@dataclass(frozen=True)
class Step:
    row: int
    action: str  # CREATE, UPDATE, UNCHANGED or SETTLE
    key: str  # the journal key the row is kept under (an edited row: its earlier one)
    entry: Entry | None
    recognised_by: str = ""  # for an edited row without key: "appointment id" or "same row"


@dataclass(frozen=True)
class Plan:
    steps: dict[int, Step]
    removed: list[Entry]  # imported from this file earlier, for rows no longer in it

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
                    "the key column is empty: the row "
                    "cannot be told apart from others (key: in the mapping)",
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
                    f"the same key as row {first[identity]}: one key, one appointment",
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


def same_payload(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return canonical(a) == canonical(b)


def plan(
    candidates: Sequence[Candidate],
    entries: dict[str, Entry],
    input_path: str,
    keyed: bool,
    payload_for: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None,
) -> Plan:
    """What a run does with each row (see the module's doc). ``payload_for(key, params)`` is
    what is sent for a row kept under ``key`` (the reference line follows the key)."""
    by_appointment = {
        e.appointment_id: e
        for e in entries.values()
        if e.state == jr.CREATED and e.appointment_id is not None
    }
    used = {c.key for c in candidates}
    keys: dict[int, tuple[str, Entry | None, str]] = {}
    unplaced: list[Candidate] = []
    for c in candidates:
        entry = entries.get(c.key)
        if entry is not None and entry.state != jr.UNDONE:
            keys[c.row] = (c.key, entry, "")
            continue
        earlier = by_appointment.get(c.earlier_id) if c.earlier_id is not None else None
        if not keyed and earlier is not None and earlier.fingerprint not in used:
            used.add(earlier.fingerprint)
            keys[c.row] = (earlier.fingerprint, earlier, "appointment id")
            continue
        keys[c.row] = (c.key, entry, "")
        if entry is None:
            unplaced.append(c)
    gone = [
        e
        for e in entries.values()
        if e.state == jr.CREATED and e.input == input_path and e.fingerprint not in used
    ]
    if not keyed:
        at_row: dict[int, list[Entry]] = {}
        for e in gone:
            if e.source_row is not None:
                at_row.setdefault(e.source_row, []).append(e)
        pairs = [
            (c, at_row[c.source_row][0]) for c in unplaced if len(at_row.get(c.source_row, ())) == 1
        ]
        if pairs and len(keys) - len(unplaced) >= len(pairs):
            for c, e in pairs:
                keys[c.row] = (e.fingerprint, e, "same row")
            paired = {e.fingerprint for _, e in pairs}
            gone = [e for e in gone if e.fingerprint not in paired]
    steps: dict[int, Step] = {}
    for c in candidates:
        key, entry, how = keys[c.row]
        payload = payload_for(key, c.params) if payload_for is not None else c.params
        steps[c.row] = Step(c.row, _action(entry, payload), key, entry, how)
    return Plan(steps, sorted(gone, key=lambda e: (e.source_row or 0, e.fingerprint)))


def _action(entry: Entry | None, payload: dict[str, Any]) -> str:
    if entry is None or entry.state in (jr.FAILED, jr.UNDONE):
        return CREATE
    if entry.state in (jr.SENDING, jr.UNKNOWN):
        return SETTLE
    if entry.pending is None and same_payload(entry.payload, payload):
        return UNCHANGED
    return UPDATE
