"""Double bookings: rows that would book an agent, a resource, an estate or a contact twice.

Two sources, both warnings (``--strict`` makes them errors):
- the file itself: overlapping rows that share a user, resource, estate or contact;
- onOffice: the appointments a read of the rows' days found (:mod:`importer.run.state`), without
  the list's own: one read for the whole file instead of a call per row, and never a row's own
  appointment. (onOffice's `get appointmentConflicts` answers without naming the appointments,
  so it cannot leave out a row's own, nor say which appointment clashes.)
Rows that only touch (one ends when the next starts) do not conflict.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..core import contract
from ..core.i18n import N_, _
from ..core.problems import Level, RowProblem
from ..onoffice.readback import Appointment

CODE = "double-booking"
_FIELDS = {  # our word -> the field it comes from
    "agent": "subscribers.users",
    "resource": "ressources",
    "estate": "relatedEstateId",
    "contact": "relatedAddressIds",
}


# Double bookings in the user's words; the cell shows whom or what.
_ALSO_IN_ROW = {
    "agent": N_("double booking: this agent is also booked at this time in row {row} of the file"),
    "resource": N_(
        "double booking: this resource is also booked at this time in row {row} of the file"
    ),
    "estate": N_(
        "double booking: this estate also has an appointment at this time in row {row} of the file"
    ),
    "contact": N_(
        "double booking: this contact also has an appointment at this time in row {row} of the file"
    ),
}
_ALSO_IN_ONOFFICE = {
    "agent": N_("double booking: this agent already has {what} in onOffice"),
    "resource": N_("double booking: this resource is already booked by {what} in onOffice"),
    "estate": N_("double booking: this estate already has {what} in onOffice"),
    "contact": N_("double booking: this contact already has {what} in onOffice"),
}


def _keys(params: dict[str, Any]) -> Iterable[tuple[str, Any]]:
    data = params.get("data", {})
    for user in params.get("subscribers", {}).get("users", []):
        yield "agent", user
    for resource in data.get("ressources", []):
        yield "resource", resource
    if params.get("relatedEstateId"):
        yield "estate", params["relatedEstateId"]
    for address in params.get("relatedAddressIds", []):
        yield "contact", address


def _columns(sources: dict[str, tuple[str, ...]], word: str) -> tuple[str, ...]:
    return sources.get(_FIELDS[word], ())


def within_file(
    rows: Sequence[tuple[int, dict[str, Any]]],
    sources: dict[str, tuple[str, ...]],
    level: Level = Level.WARNING,
) -> list[RowProblem]:
    """Overlapping rows of the file that share an agent, resource, estate or contact."""
    by_key: dict[tuple[str, Any], list[tuple[str, str, int]]] = defaultdict(list)
    for row, params in rows:
        data = params["data"]
        if data.get("ganztags"):
            continue  # all-day entries (holidays, fairs) are not bookings of a slot
        for key in _keys(params):
            by_key[key].append((data["start_dt"], data["end_dt"], row))
    problems: dict[tuple[int, str, Any], RowProblem] = {}
    for (word, value), slots in by_key.items():
        slots.sort()
        columns = _columns(sources, word)
        active: list[tuple[str, int]] = []  # (end, row) of earlier slots still running
        for start, end, row in slots:
            active = [(e, r) for e, r in active if e > start]
            for _end, other in active:
                for this, that in ((row, other), (other, row)):
                    if (this, word, value) not in problems:  # the first overlap found is named
                        problems[(this, word, value)] = RowProblem(
                            this,
                            columns,
                            CODE,
                            _(_ALSO_IN_ROW[word]).format(row=that),
                            value,
                            level,
                            None,
                        )
            active.append((end, row))
    return list(problems.values())


def in_calendar(
    rows: Sequence[tuple[int, dict[str, Any]]],
    calendar: Sequence[Appointment],
    sources: dict[str, tuple[str, ...]],
    level: Level = Level.WARNING,
) -> list[RowProblem]:
    """Rows that would double-book someone or something already booked in onOffice.

    ``calendar`` is what a read of the rows' days found, without the appointments of this list
    and those the rows are the rows of (the caller leaves them out: an appointment never
    conflicts with its own row, nor with a row of its own list, which the file check covers).
    Cancelled and all-day appointments book nobody; touching ends do not overlap.
    """
    index: dict[tuple[str, str], list[tuple[str, str, Appointment]]] = defaultdict(list)
    # an appointment whose times read two ways (appointmentList) counts where either reading
    # clashes, and is named by the first
    for a in calendar:
        if a.cancelled or a.all_day:
            continue
        keys = [("agent", str(u)) for u in a.participants | (a.users or frozenset())]
        keys += [("resource", r) for r in a.resources]
        keys += [("estate", str(e)) for e in a.estates]
        keys += [("contact", str(c)) for c in a.addresses]
        for start, end in a.readings:
            for key in dict.fromkeys(keys):
                index[key].append((start, end, a))
    for slots in index.values():
        slots.sort(key=lambda s: s[0])
    starts = {key: [s[0] for s in slots] for key, slots in index.items()}
    longest = {key: max(_length(s, e) for s, e, _a in slots) for key, slots in index.items()}
    problems: dict[tuple[int, str, Any], RowProblem] = {}
    for row, params in rows:
        data = params["data"]
        if data.get("ganztags"):
            continue
        begin, finish = data["start_dt"], data["end_dt"]
        for word, value in _keys(params):
            key = (word, str(value))
            if key not in index:
                continue
            # only appointments that start before this one ends, and late enough to reach it
            upto = bisect_left(starts[key], finish)
            since = bisect_left(starts[key], _earlier(begin, longest[key]))
            for start, end, a in index[key][since:upto]:
                if end > begin and start < finish and (row, word, value) not in problems:
                    problems[(row, word, value)] = RowProblem(
                        row,
                        _columns(sources, word),
                        CODE,
                        _(_ALSO_IN_ONOFFICE[word]).format(what=_booked(a)),
                        value,
                        level,
                        None,
                    )
    return list(problems.values())


def _length(start: str, end: str) -> timedelta:
    try:
        return _moment(end) - _moment(start)
    except ValueError:
        return timedelta(0)


def _moment(text: str) -> datetime:
    return datetime.strptime(text, contract.DATETIME_FORMAT)


def _earlier(moment: str, by: timedelta) -> str:
    try:
        return (_moment(moment) - by).strftime(contract.DATETIME_FORMAT)
    except ValueError:
        return ""


def _booked(appointment: Appointment) -> str:
    """ "„Notartermin“ 01.03.2027 10:00–11:00 (appointment 2712)": which appointment it is."""
    start, end = appointment.readings[0]
    subject = appointment.subject or _("without subject")
    day = f"{start[8:10]}.{start[5:7]}.{start[:4]}"
    return _("“{subject}” {day} {start}–{end} (appointment {id})").format(
        subject=subject, day=day, start=start[11:16], end=end[11:16], id=appointment.series
    )
