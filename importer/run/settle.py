"""Settling what a lost answer left open: the appointment a create made, found by its stamp.

It reads the calendar back (:mod:`importer.onoffice.readback` reads whichever call the server
offers). With the import reference on (the default, :mod:`importer.onoffice.reference`):

- an appointment whose note carries the row's reference, owned by no other row, is the row's;
- one without it, however alike (same slot, subject and agent), is a person's or another
  tool's: never adopted, changed or deleted, and no reason to hold the row back;
- a complete read without the reference proves the row absent.

Without the reference, a lost answer is adopted only when every readable field matches the row
and the appointment was modified after the row was sent; a look-alike that differs leaves the
row unknown, naming it, and only a read with nothing resembling the row proves it absent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ..core import contract
from ..core.errors import ActionRefused
from ..onoffice.client import OnOfficeClient
from ..onoffice.form import normalised
from ..onoffice.readback import (
    Appointment,
    Who,
    calendar_read,
    days_of,
    from_read,
    read_period,
    resembles,
    same_content,
)
from ..onoffice.reference import PREFIX, found_in


@dataclass(frozen=True)
class Settled:
    """``appointment_id`` when found; ``absent`` when proven absent; neither: cannot tell."""

    appointment_id: int | None = None
    absent: bool = False
    candidates: tuple[str, ...] = field(default=())  # look-alikes that could not be verified
    reads: int = 0
    appointment: Appointment | None = None  # the one found, as read


def _since(intent_at: str | None) -> str | None:
    if not intent_at:
        return None
    moment = datetime.strptime(intent_at, contract.DATETIME_FORMAT).replace(tzinfo=UTC)
    margin = timedelta(seconds=contract.CLOCK_MARGIN_SECONDS)
    return (moment - margin).strftime(contract.DATETIME_FORMAT)


def find_created(
    client: OnOfficeClient,
    params: dict[str, Any],
    intent_at: str | None,
    claimed: set[int],
    ref: str | None = None,
) -> Settled:
    """Read back; transport or API errors propagate (the caller keeps the row unknown)."""
    first, last = days_of([params])
    period = read_period(client, first, last, Who.of(params))
    since = _since(intent_at)
    mine: list[Appointment] = []
    lookalikes: list[str] = []
    for found in period.appointments:
        if found.series in claimed or not isinstance(found.series, int):
            continue
        if ref is not None:
            # Every appointment of this import carries its reference: one without it is a
            # person's (or another tool's), provably not this row's, and never blocks it.
            if ref in found_in(found.note):
                mine.append(found)
            continue
        if not resembles(found, params):
            continue
        fresh = since is None or found.modified is None or found.modified >= since
        if fresh and same_content(normalised(client, found), params):
            mine.append(found)
        else:
            lookalikes.append(str(found.id))
    if not mine and ref is not None and not period.complete:
        # Too many appointments those days to see them all: ask for the reference itself.
        by_ref = find_references(client, [(ref, params)], claimed)
        reads = period.reads + by_ref.reads
        if ref in by_ref.found:
            n = by_ref.found[ref]
            return Settled(appointment_id=n, reads=reads, appointment=by_ref.appointments.get(n))
        return Settled(absent=by_ref.complete, reads=reads)
    if mine:
        first_made = min(mine, key=lambda a: int(a.series))
        return Settled(int(first_made.series), reads=period.reads, appointment=first_made)
    if lookalikes:
        return Settled(candidates=tuple(sorted(set(lookalikes))), reads=period.reads)
    return Settled(absent=period.complete, reads=period.reads)


@dataclass(frozen=True)
class Existing:
    """Rows found in onOffice by their reference (ref -> appointment id), and what it cost."""

    found: dict[str, int]
    reads: int
    complete: bool
    appointments: dict[int, Appointment] = field(default_factory=dict)  # the found, as read
    # every appointment of the period an import created (any reference), where it was read
    imported: list[Appointment] = field(default_factory=list)


def find_existing(
    client: OnOfficeClient,
    rows: Sequence[tuple[str, dict[str, Any]]],
    ignore: set[int] | None = None,
) -> Existing:
    """The appointments of the rows' period that carry one of the rows' references.

    ``rows`` are (reference, payload); appointments in ``ignore`` do not count. One read of
    the whole period, split by the 500 cap.
    """
    if not rows:
        return Existing({}, 0, True)
    first, last = days_of([params for _, params in rows])
    who = Who.of_all(params for _, params in rows)
    # only appointments with an import reference can be one of the rows': the filter keeps the
    # read under the 500 cap on a busy day (a hint to the server; the note decides)
    period = read_period(client, first, last, who, note_like=PREFIX)
    wanted = {ref for ref, _ in rows}
    found: dict[str, int] = {}
    seen: dict[int, Appointment] = {}
    imported: list[Appointment] = []
    for appointment in period.appointments:
        if not isinstance(appointment.series, int) or appointment.series in (ignore or set()):
            continue
        refs = found_in(appointment.note)
        if refs:
            imported.append(appointment)
        for ref in refs & wanted:
            found[ref] = min(found.get(ref, appointment.series), appointment.series)
            seen.setdefault(appointment.series, appointment)
    # appointmentList sees only the agents and groups it is asked for: a row with neither
    # cannot be looked for there.
    listed = "read calendar" in client.unsupported
    complete = period.complete and (not listed or all(Who.of(p) for _, p in rows))
    if complete or listed:
        return Existing(found, period.reads, complete, seen, imported)
    # Too many appointments in the period to see them all: ask for each missing row by its
    # reference instead (one request per 50 rows).
    missing = [(ref, params) for ref, params in rows if ref not in found]
    more = find_references(client, missing, ignore)
    return Existing(
        {**found, **more.found},
        period.reads + more.reads,
        more.complete,
        {**seen, **more.appointments},
        imported,
    )


def find_references(
    client: OnOfficeClient,
    rows: Sequence[tuple[str, dict[str, Any]]],
    ignore: set[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Existing:
    """Like :func:`find_existing` for a few rows spread over the year: one `read calendar`
    action per row (its days, filtered on the reference in the note), up to 50 actions per
    request, so a batch costs one request whatever days it touches. Where the server has no
    read calendar, the rows' period is read instead. ``progress``: told rows looked for of
    rows, after each request."""
    if not rows:
        return Existing({}, 0, True)
    if "read calendar" in client.unsupported:
        return find_existing(client, rows, ignore)
    day = timedelta(days=1)  # a day of margin on both sides, as read_period reads
    actions = []
    for ref, params in rows:
        first, last = days_of([params])
        actions.append(
            calendar_read(first - day, last + day, note_contains=ref, identifier=f"ref-{ref}")
        )
    found: dict[str, int] = {}
    seen: dict[int, Appointment] = {}
    reads, complete = 0, True
    size = contract.LOOKUP_ACTIONS_PER_REQUEST
    for i in range(0, len(actions), size):
        reads += 1
        for (ref, _), outcome in zip(
            rows[i : i + size], client.send(actions[i : i + size]), strict=True
        ):
            if isinstance(outcome, ActionRefused):
                if outcome.errorcode in contract.UNKNOWN_ACTION_CODES:
                    client.unsupported.add("read calendar")
                    return find_existing(client, rows, ignore)
                raise outcome
            complete = complete and len(outcome.records) < contract.READ_PAGE_CAP
            for record in outcome.records:
                appointment = from_read(record)
                series = appointment.series
                mine = ref in found_in(appointment.note)  # the filter is a hint; this decides
                if mine and isinstance(series, int) and series not in (ignore or set()):
                    found[ref] = min(found.get(ref, series), series)
                    seen.setdefault(series, appointment)
        if progress is not None:
            progress(min(i + size, len(rows)), len(rows))
    return Existing(found, reads, complete, seen)
