"""Calendar files (iCalendar, .ics) as a source: each event is a row.

A VEVENT becomes a row whose columns are its properties as a person reads them (times as
Berlin wall clock, ``05.03.2027 10:00``; e-mails without ``mailto:``), so that one mapping
(``mappings/ics.yaml``) serves the exports of Outlook, Google Calendar and Apple Calendar.
Parsing is the ``icalendar`` library's (RFC 5545, Windows time zone names, VTIMEZONE); this
module only decides what a row holds:

- Times: a TZID (or the VTIMEZONE it names) and UTC (``Z``) are converted to Berlin; a floating
  time is read as Berlin. An all-day event (DATE values) is a row with ``ALL-DAY`` yes whose
  ``DTEND`` is its last day (iCalendar's DTEND is the day after).
- Series: an RRULE that onOffice's series fields can express becomes ``REPEAT``, ``INTERVAL``
  and ``UNTIL`` (a COUNT becomes the date of the last occurrence); ``EXDATE`` the dates left
  out. Any other rule is an error of the row's ``REPEAT`` cell naming the part onOffice has no
  field for. An occurrence moved or changed on its own (``RECURRENCE-ID``) is a row of its own
  (its UID followed by the occurrence's date), and its date is left out of its series; a
  cancelled occurrence is only left out.
- ``VALARM``: the nearest reminder onOffice offers (``15 minutes``); a cell warning says so when
  the alarm's lead differs. An alarm that never rings (``ACTION:NONE``, Apple's placeholder)
  is no reminder.
- People: ``ORGANIZER`` and ``ATTENDEE`` hold e-mails (the organiser left out of the attendees
  whatever its letter case); rooms and other resources (``CUTYPE=ROOM``/``RESOURCE``) are
  ``RESOURCES`` by name; an attendee without an e-mail (Outlook's ``invalid:nomail``) is left
  out with a cell warning.
- Bytes: decoded by the file's byte order mark, its declared ``CHARSET``, else UTF-8, else
  (no UTF-8 sequence at all) Windows-1252; bytes that are none of it are a file error naming
  the line, never a replacement character.
"""

from __future__ import annotations

import codecs
import functools
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import icalendar
from dateutil.rrule import rrule, rrulestr

from ..core import contract
from ..core.errors import SourceFileError
from ..core.i18n import _, when

COLUMNS: Final = (
    "UID",
    "SUMMARY",
    "DTSTART",
    "DTEND",
    "ALL-DAY",
    "LOCATION",
    "DESCRIPTION",
    "ORGANIZER",
    "ATTENDEE",
    "RESOURCES",
    "CATEGORIES",
    "CLASS",
    "STATUS",
    "REPEAT",
    "INTERVAL",
    "UNTIL",
    "EXDATE",
    "VALARM",
    "RRULE",
)
SUFFIXES: Final = (".ics", ".ical", ".ifb", ".icalendar")
MAX_DEPTH: Final = 8  # VCALENDAR > VEVENT > VALARM is 3; a VTIMEZONE's rules 3
MAX_COUNT: Final = 10_000  # a COUNT beyond this is no office's series
MAX_INTERVAL: Final = 999  # contract.RP_TAGE_RANGE
BUDGET: Final = 200_000  # occurrences counted per file: a small hostile file stays fast
FREQUENCIES: Final = {
    "DAILY": "daily",
    "WEEKLY": "weekly",
    "MONTHLY": "monthly",
    "YEARLY": "yearly",
}
REMINDER_SECONDS: Final = {
    v: int(n) * {"minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800}[unit]
    for v in contract.ERINNERUNG_VALUES
    for n, unit in [v.split()]
}
_BEGIN_END: Final = re.compile(rb"^(BEGIN|END):([A-Za-z0-9-]+)\s*$", re.MULTILINE | re.IGNORECASE)
_CHARSET: Final = re.compile(rb";CHARSET=\"?([A-Za-z0-9_.-]+)", re.IGNORECASE)
_UTF8_SEQUENCE: Final = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
# Apple Calendar's placeholder alarm (X-APPLE-DEFAULT-ALARM, ACTION:NONE): it never rings
APPLE_PLACEHOLDER: Final = datetime(1976, 4, 1, 0, 55, 45, tzinfo=UTC)
# An UNTIL this late means "no end" (some exports write 99991231T235959Z): open-ended
ENDLESS_YEAR: Final = 9000
# What each property of an event is, as the row's column its error is reported on
_COLUMN_OF: Final = {
    "RRULE": "REPEAT",
    "EXDATE": "EXDATE",
    "VALARM": "VALARM",
    "RECURRENCE-ID": "DTSTART",
}
# The months a day of the month is missing in (UNDOCUMENTED in onOffice: contract.py)
_SHORT_MONTHS: Final = {29: (2,), 30: (2,), 31: (2, 4, 6, 9, 11)}


def is_calendar(path: Path, head: bytes) -> bool:
    """An iCalendar file by its name or its first line."""
    return path.suffix.lower() in SUFFIXES or head.lstrip(b"\xef\xbb\xbf \r\n").upper().startswith(
        b"BEGIN:VCALENDAR"
    )


@dataclass
class Events:
    """The rows of a calendar file: cells by column, and per-cell errors and warnings."""

    rows: list[dict[str, str | None]] = field(default_factory=list)
    errors: dict[tuple[int, str], tuple[str, str]] = field(default_factory=dict)  # code, why
    warnings: dict[tuple[int, str], str] = field(default_factory=dict)  # every one, joined
    budget: int = BUDGET  # occurrences the file's rules may still be counted to
    encoding: str = "utf-8"  # how the file's bytes were read

    def warn(self, row: int, column: str, why: str) -> None:
        """A cell's warning beside those it has already: none hides another."""
        had = self.warnings.get((row, column))
        if had is None:
            self.warnings[(row, column)] = why
        elif why not in had:
            self.warnings[(row, column)] = f"{had}; {why}"


def read_events(path: Path, data: bytes, max_rows: int) -> Events:
    """The events of ``data`` (the file's bytes), in file order; row 2 is the first (the
    column names are row 1, as in the report)."""
    name = str(path)
    # counted before anything is decoded or parsed: a line of its own (values hold no line
    # breaks) found at C speed, then exactly (any letter case) while the structure is checked
    count = data.count(b"\nBEGIN:VEVENT")
    if count <= max_rows:
        text, encoding = decode(name, data)
        if encoding != "utf-8" or data.startswith(codecs.BOM_UTF8):
            data = text.encode("utf-8")  # the text as read: no byte order mark before BEGIN
        count = _check_structure(name, data)
    if count > max_rows:
        raise SourceFileError(
            _("more than {limit} rows, the limit; split the file").format(limit=max_rows),
            file=name,
            code="file-too-many-rows",
        )
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
        # not mutated: walk() ignores letter case ("vevent" finds the same)
        found: list[Any] = [e for c in calendars for e in c.walk("VEVENT")]  # pragma: no mutate
    except _PARSE_ERRORS:  # one event's property the parser refuses: the others still go
        found = _one_by_one(text)
    if not found:
        raise SourceFileError(_("the calendar holds no events"), file=name, code="no-data-rows")
    out = Events(encoding=encoding)
    events = [e for e in found if not isinstance(e, Broken)]
    overrides = _overrides(events)
    masters = _masters(events)
    for event in found:
        if isinstance(event, Broken):
            _add_broken(out, event)
            continue
        uid, own = _uid(event), event.get("RECURRENCE-ID") is not None
        if own and uid in masters:
            continue  # a row right after its series (below), whatever the file's order
        moved = overrides.get(uid, []) if not own and uid in masters else []
        _add(out, event, moved)
        for occurrence in moved:
            if _text(occurrence.get("STATUS")).upper() != "CANCELLED":
                _add(out, occurrence, [])
    return out


_PARSE_ERRORS: Final = (ValueError, IndexError, KeyError, TypeError, AttributeError, OverflowError)
_BLOCK: Final = re.compile(r"^BEGIN:VEVENT[ \t]*\r?\n.*?^END:VEVENT[ \t]*\r?$", re.M | re.S | re.I)
_ZONE: Final = re.compile(
    r"^BEGIN:VTIMEZONE[ \t]*\r?\n.*?^END:VTIMEZONE[ \t]*\r?$", re.M | re.S | re.I
)


@dataclass(frozen=True)
class Broken:
    """An event the parser refuses: its row says which property, and why."""

    uid: str
    summary: str
    property: str
    why: str


def _one_by_one(text: str) -> list[Any]:
    """Each event parsed on its own (with the file's time zones), in file order: the readable
    ones as events, the others as :class:`Broken`."""
    zones = "".join(m.group(0) + "\r\n" for m in _ZONE.finditer(text))
    out: list[Any] = []
    for m in _BLOCK.finditer(text):
        try:
            calendar = icalendar.Calendar.from_ical(_wrapped(zones, m.group(0)))
            out += calendar.walk("VEVENT")  # pragma: no mutate (walk() ignores letter case)
        except _PARSE_ERRORS as exc:
            out.append(_broken(zones, m.group(0), exc))
    return out


def _wrapped(zones: str, block: str) -> str:
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{zones}{block}\r\nEND:VCALENDAR\r\n"


def _broken(zones: str, block: str, exc: Exception) -> Broken:
    """The property that makes an event unreadable: the first of its lines that is refused
    on its own."""
    lines = re.sub(r"\r?\n[ \t]", "", block).splitlines()
    named = {_name(ln): ln.partition(":")[2] for ln in lines}
    culprit = "VEVENT"
    for line in lines[1:-1]:
        if line.upper().startswith(("BEGIN:", "END:")):
            continue
        try:
            icalendar.Calendar.from_ical(_wrapped(zones, f"BEGIN:VEVENT\r\n{line}\r\nEND:VEVENT"))
        except _PARSE_ERRORS:
            culprit = _name(line)
            break
    # not mutated: a missing UID or SUMMARY as None is the same row (_add_broken: "" is None)
    uid, summary = named.get("UID", ""), named.get("SUMMARY", "")  # pragma: no mutate
    return Broken(uid, summary, culprit, _short(exc))


def _name(line: str) -> str:
    """A content line's property name: what stands before its first ``;`` or ``:``."""
    found = re.match(r"[^;:]*", line)
    assert found is not None  # matches the empty text at least
    return found.group(0).upper()


def _add_broken(out: Events, event: Broken) -> None:
    """An unreadable event as a row of its own: its error on the start (nothing of it can be
    trusted), naming the property."""
    row = len(out.rows) + 2
    cells: dict[str, str | None] = dict.fromkeys(COLUMNS)
    cells["UID"], cells["SUMMARY"] = event.uid or None, _text(event.summary) or None
    out.rows.append(cells)
    out.errors[(row, "DTSTART")] = (
        "ics-unreadable",
        _("{property}: the event cannot be read ({why})").format(
            property=event.property, why=event.why
        ),
    )


def decode(name: str, data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read in: a byte order mark, else a declared
    ``CHARSET`` (vCalendar, old Outlook), else UTF-8, else Windows-1252 where no byte sequence
    of the file is UTF-8 (an ISO-8859-1/Windows export). Bytes that are not of it, and a
    replacement character an earlier conversion left, are an error naming the line."""
    declared = None
    if data.startswith(codecs.BOM_UTF8):
        encoding, data = "utf-8", data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        found = _CHARSET.search(data)
        declared = found.group(1).decode("ascii").lower() if found else None
        encoding = declared or "utf-8"
    try:
        text = data.decode(encoding)
    except LookupError:
        raise SourceFileError(
            _("the calendar declares the character set {charset}, which is unknown").format(
                charset=repr(encoding)
            ),
            file=name,
            code="ics-encoding",
        ) from None
    except UnicodeDecodeError as exc:
        if declared is None and encoding == "utf-8" and not _UTF8_SEQUENCE.search(data):
            return decode_single_byte(name, data)
        raise _undecodable(name, data, exc.start, encoding) from None
    if "\ufffd" in text:
        line = text[: text.index("\ufffd")].count("\n") + 1
        raise SourceFileError(
            _(
                "line {line} holds the replacement character \ufffd: a letter was lost "
                "before this file was written (a wrong conversion); export the calendar again"
            ).format(line=line),
            file=name,
            code="ics-encoding",
        )
    return text, "utf-8" if encoding in ("utf-8", "utf8") else encoding


def decode_single_byte(name: str, data: bytes) -> tuple[str, str]:
    """Windows-1252 (ISO-8859-1's letters and the Euro sign); its five unused bytes fail."""
    try:
        return data.decode("cp1252"), "cp1252"  # pragma: no mutate (codec names ignore case)
    except UnicodeDecodeError as exc:
        # not mutated: the message writes the encoding upper()ed ("CP1252" is the same)
        raise _undecodable(name, data, exc.start, "cp1252") from None  # pragma: no mutate


def _undecodable(name: str, data: bytes, at: int, encoding: str) -> SourceFileError:
    line = data[:at].count(b"\n") + 1
    return SourceFileError(
        _(
            "line {line}: the byte {byte} is not {encoding} (the file mixes character sets "
            "or is damaged); export the calendar again as UTF-8"
        ).format(line=line, byte=f"0x{data[at]:02X}", encoding=encoding.upper()),
        file=name,
        code="ics-encoding",
    )


def _check_structure(name: str, data: bytes) -> int:
    """One clear line for what is not a calendar, before the parser sees it: BEGIN without
    END, components nested deeper than any calendar nests them. The number of events."""
    depth, stack, events = 0, [], 0
    for m in _BEGIN_END.finditer(data):
        kind, what = m.group(1).upper(), m.group(2).upper()
        if kind == b"BEGIN":
            stack.append(what)
            events += what == b"VEVENT"
            depth = max(depth, len(stack))
            if depth > MAX_DEPTH:
                raise SourceFileError(
                    _(
                        "components are nested more than {n} deep; this is no calendar export"
                    ).format(n=MAX_DEPTH),
                    file=name,
                    code="ics-malformed",
                )
        elif stack and stack[-1] == what:
            stack.pop()
        else:
            raise SourceFileError(
                _("END:{what} without its BEGIN").format(what=what.decode("ascii", "replace")),
                file=name,
                code="ics-malformed",
            )
    if not stack and depth == 0:
        raise SourceFileError(
            _("no BEGIN:VCALENDAR: this is not a calendar (.ics) file"),
            file=name,
            code="ics-malformed",
        )
    if stack:
        raise SourceFileError(
            _("the file ends inside {what} (END:{what} is missing: cut off?)").format(
                what=stack[-1].decode("ascii", "replace")
            ),
            file=name,
            code="ics-malformed",
        )
    return events


def _uid(event: Any) -> str:
    return _text(event.get("UID"))


def _masters(events: Sequence[Any]) -> set[str]:
    """The UIDs of series (an event without UID pairs with nothing)."""
    return {
        _uid(e) for e in events if _uid(e) and e.get("RECURRENCE-ID") is None and e.get("RRULE")
    }


def _overrides(events: Sequence[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for e in events:
        if _uid(e) and e.get("RECURRENCE-ID") is not None:
            out.setdefault(_uid(e), []).append(e)
    return out


def _add(out: Events, event: Any, moved: Sequence[Any]) -> None:
    """One event as a row; what cannot be read of it is an error of its row naming the
    property, never more."""
    row = len(out.rows) + 2
    cells: dict[str, str | None] = dict.fromkeys(COLUMNS)
    out.rows.append(cells)
    reading = ["DTSTART"]  # the property being read, for the error's words
    try:
        _fill(out, row, cells, event, moved, reading)
    except (ValueError, TypeError, AttributeError, OverflowError, KeyError, IndexError) as exc:
        out.errors[(row, _COLUMN_OF.get(reading[0], reading[0]))] = (
            "ics-unreadable",
            _("{property}: the event cannot be read ({why})").format(
                property=reading[0], why=_short(exc)
            ),
        )


def _fill(
    out: Events,
    row: int,
    cells: dict[str, str | None],
    event: Any,
    moved: Sequence[Any],
    reading: list[str],
) -> None:
    def fail(column: str, code: str, why: str) -> None:
        out.errors[(row, column)] = (code, why)

    def warn(column: str, why: str) -> None:
        out.warn(row, column, why)

    _texts(cells, event)
    reading[0] = "ATTENDEE"
    _people(cells, event, functools.partial(warn, "ATTENDEE"))
    reading[0] = "RECURRENCE-ID"
    recurrence = event.get("RECURRENCE-ID")
    if recurrence is not None:
        occurrence = _moment(recurrence)
        day = occurrence.date() if isinstance(occurrence, datetime) else occurrence
        if day is not None and cells["UID"]:
            cells["UID"] = f"{cells['UID']} ({when(day)})"
    reading[0] = "DTSTART"
    start = _start(event, cells, fail, warn)
    if start is None:
        return
    reading[0] = "DTEND"
    end = _end(event, start, lambda why: fail("DTEND", "ics-bad-date", why))
    if end is not None and _gap(event.get("DTEND"), "DTEND", fail):
        end = None
    if (
        isinstance(start, datetime)
        and isinstance(end, datetime)
        and _all_day_flag(event, start, end)
    ):
        # Exchange's all-day event: midnight to midnight, and a flag
        first, last = start.date(), (end - timedelta(days=1)).date()
        start, end = first, max(first, last)
    cells["ALL-DAY"] = "no" if isinstance(start, datetime) else "yes"
    cells["DTSTART"] = _shown(start)
    if end is not None:
        cells["DTEND"] = _shown(end)
    reading[0] = "VALARM"
    _alarm(out, row, cells, event, start, end)
    reading[0] = "RRULE"
    _repeats(out, row, cells, event, moved, start)


def _texts(cells: dict[str, str | None], event: Any) -> None:
    cells["UID"] = _uid(event) or None
    cells["SUMMARY"] = _text(event.get("SUMMARY")) or None
    cells["LOCATION"] = _place(event.get("LOCATION")) or None
    cells["DESCRIPTION"] = _text(event.get("DESCRIPTION"), lines=True) or None
    cells["STATUS"] = _text(event.get("STATUS")).upper() or None
    cells["CLASS"] = _text(event.get("CLASS")).upper() or None
    cells["CATEGORIES"] = ", ".join(_categories(event.get("CATEGORIES"))) or None


def _people(cells: dict[str, str | None], event: Any, warn: Any) -> None:
    """ORGANIZER and ATTENDEE as e-mails (the organiser once, in any letter case); rooms and
    resources by name; an attendee without an e-mail left out, said."""
    organizer = _email(event.get("ORGANIZER"))
    if organizer and not _is_email(organizer):
        warn(_("the organiser {who} has no e-mail; left out").format(who=repr(organizer)))
        organizer = ""
    cells["ORGANIZER"] = organizer or None
    people: dict[str, str] = {organizer.casefold(): organizer} if organizer else {}
    rooms: dict[str, str] = {}
    attendees: list[str] = []
    for prop in _listed(event.get("ATTENDEE")):
        params = getattr(prop, "params", {})
        address, name = _email(prop), " ".join(str(params.get("CN", "")).split())
        if str(params.get("CUTYPE", "")).upper() in ("ROOM", "RESOURCE"):
            label = name or address
            if label:
                rooms.setdefault(label.casefold(), label.replace(";", ","))
        elif not _is_email(address):
            warn(
                _("the attendee {who} has no e-mail ({address}); left out").format(
                    who=repr(name or address), address=repr(address)
                )
            )
        elif address.casefold() not in people:
            people[address.casefold()] = address
            attendees.append(address)
    cells["ATTENDEE"] = ", ".join(attendees) or None
    cells["RESOURCES"] = "; ".join(rooms.values()) or None


def _is_email(text: str) -> bool:
    """An address mail can go to: Outlook's ``invalid:nomail`` is none."""
    return bool(re.fullmatch(r"[^@\s:,;]+@[^@\s:,;]+\.[^@\s:,;]+", text))


def _start(event: Any, cells: dict[str, str | None], fail: Any, warn: Any) -> date | None:
    start = _moment(event.get("DTSTART"), lambda why: fail("DTSTART", "ics-bad-date", why))
    if start is None:
        if event.get("DTSTART") is None:
            fail("DTSTART", "ics-bad-date", _("the event has no DTSTART"))
        return None
    if _gap(event.get("DTSTART"), "DTSTART", fail):
        return None
    zone = event.get("DTSTART").params.get("TZID")
    original = event.get("DTSTART").dt
    if zone and isinstance(original, datetime) and original.tzinfo is None:
        warn(
            "DTSTART",
            _("the time zone {zone} is unknown; the time is read as Berlin's").format(
                zone=repr(str(zone))
            ),
        )
    return start


def _gap(prop: Any, column: str, fail: Any) -> bool:
    """A zoned time the clock skips in its zone (02:30 when summer time begins) is refused
    as a floating one is (``values.local_time_problem``), in whichever form it is written:
    a converter would move it an hour silently."""
    value = getattr(prop, "dt", None)
    if not isinstance(value, datetime) or value.tzinfo is None:
        return False
    wall = value.replace(tzinfo=None)
    try:
        there_and_back = value.astimezone(UTC).astimezone(value.tzinfo).replace(tzinfo=None)
    except (OverflowError, ValueError):
        return False
    if there_and_back == wall:
        return False
    fail(
        column,
        "time-does-not-exist",
        _("{when} does not exist: the clocks jump forward to summer time").format(when=when(wall)),
    )
    return True


def _all_day_flag(event: Any, start: datetime, end: datetime) -> bool:
    """Exchange marks an all-day event by a flag beside midnight-to-midnight times."""
    flags = (
        event.get("X-MICROSOFT-CDO-ALLDAYEVENT"),
        event.get("X-MICROSOFT-MSNCALENDAR-ALLDAYEVENT"),
    )
    midnight = time(0)
    return (
        any(_text(f).upper() == "TRUE" for f in flags)
        and start.time() == midnight
        and end.time() == midnight
        and end > start
    )


def _repeats(
    out: Events,
    row: int,
    cells: dict[str, str | None],
    event: Any,
    moved: Sequence[Any],
    start: date,
) -> None:
    rule = event.get("RRULE")
    original = event.get("DTSTART").dt
    written = "; ".join(_rule_text(r) for r in _listed(rule))

    def refuse(why: str) -> None:
        _fail(out, row, "REPEAT", "ics-rule-unsupported", why)
        # the rule stays in the cell: sent again from the results workbook, the row is refused
        # again (no such repeat), never created as a single appointment
        cells["REPEAT"] = written

    if isinstance(rule, list):
        refuse(_("the event has {n} RRULEs; an onOffice series has one").format(n=len(rule)))
    elif rule is not None and event.get("RDATE") is not None:
        refuse(_("RDATE: extra dates of a series cannot be an onOffice series"))
    elif rule is not None:
        cells["RRULE"] = _rule_text(rule)
        if isinstance(start, datetime) != isinstance(original, datetime):  # made all-day above
            original = _day_of(start)
        _series(cells, rule, original, out, refuse)
        _short_months(out, row, cells, original)
        if _foreign(original):
            out.warn(
                row,
                "REPEAT",
                _(
                    "the series is in the time zone {zone}: onOffice repeats it at Berlin's "
                    "{time}, so after a clock change in only one of the two zones its "
                    "appointments are an hour off"
                ).format(zone=str(original.tzinfo), time=_shown(start)[11:]),
            )
        exceptions = [_day_of(d) for d in _exdates(event)]
        exceptions += [_day_of(_moment(m.get("RECURRENCE-ID"))) for m in moved]
        days = sorted({d for d in exceptions if d is not None})
        cells["EXDATE"] = ", ".join(map(when, days)) or None
    elif event.get("EXDATE") is not None:
        _fail(
            out,
            row,
            "EXDATE",
            "ics-rule-unsupported",
            _("EXDATE without an RRULE: nothing to leave out"),
        )


def _fail(out: Events, row: int, column: str, code: str, why: str) -> None:
    out.errors[(row, column)] = (code, why)


def _short_months(out: Events, row: int, cells: dict[str, str | None], start: date) -> None:
    """A monthly series on the 29th-31st, a yearly one on 29 February: onOffice's
    documentation does not say whether it skips the months without that day (RFC 5545 does)
    or moves them (contract.SERIES_SHORT_MONTHS): imported, with a warning naming them."""
    repeat, day = cells.get("REPEAT"), _day_of(start)
    assert day is not None
    if repeat == "monthly" and day.day in _SHORT_MONTHS:
        step = int(cells.get("INTERVAL") or 1)
        visited = {(day.month - 1 + k * step) % 12 + 1 for k in range(12)}
        months = [m for m in _SHORT_MONTHS[day.day] if m in visited]
        if months:
            out.warn(
                row,
                "REPEAT",
                _(
                    "monthly on day {day}: {months} have no day {day}; onOffice may leave "
                    "those months out or move the appointment (its documentation does not "
                    "say): check them in onOffice"
                ).format(day=day.day, months=", ".join(month_name(m) for m in months)),
            )
    elif repeat == "yearly" and (day.month, day.day) == (2, 29):
        out.warn(
            row,
            "REPEAT",
            _(
                "yearly on 29 February: in the years between leap years onOffice may leave "
                "the appointment out or move it (its documentation does not say): check them "
                "in onOffice"
            ),
        )


def month_name(month: int) -> str:
    return (
        _("January"),
        _("February"),
        _("March"),
        _("April"),
        _("May"),
        _("June"),
        _("July"),
        _("August"),
        _("September"),
        _("October"),
        _("November"),
        _("December"),
    )[month - 1]


def _series(cells: dict[str, str | None], rule: Any, start: date, out: Events, fail: Any) -> None:
    """REPEAT, INTERVAL and UNTIL from an RRULE onOffice's series fields can express
    (``rp_type``, ``rp_tage``, ``rp_ende_datum``): every N days, weeks, months or years on the
    start's weekday or day (in the event's own time zone); anything else fails naming the
    part. The last day is the last occurrence's (dateutil), in Berlin."""
    text = _rule_text(rule)
    try:
        parts = {str(k).upper(): list(v) for k, v in rule.items()}
        interval = int((parts.pop("INTERVAL", [1]) or [1])[0])
    except (ValueError, TypeError, AttributeError):
        fail(_("RRULE {rule} cannot be read").format(rule=text))
        return
    frequency = str((parts.pop("FREQ", [""]) or [""])[0]).upper()
    if frequency not in FREQUENCIES:
        fail(
            _("RRULE {rule}: onOffice repeats only daily, weekly, monthly or yearly").format(
                rule=text
            )
        )
        return
    if not 1 <= interval <= MAX_INTERVAL:
        fail(_("RRULE {rule}: an interval from 1 to 999").format(rule=text))
        return
    parts.pop("WKST", None)
    if "BYSETPOS" in parts:  # named before the BYDAY it picks from
        fail(
            _(
                "RRULE {rule}: onOffice series have no BYSETPOS (the n-th weekday or day of a "
                "month); write its appointments one by one"
            ).format(rule=text)
        )
        return
    day = start.date() if isinstance(start, datetime) else start
    # the parts that only repeat what the start says (Outlook writes BYDAY on weekly rules)
    implied: dict[str, list[Any]] = {}
    if frequency == "WEEKLY":
        implied["BYDAY"] = [["MO", "TU", "WE", "TH", "FR", "SA", "SU"][day.weekday()]]
    if frequency in ("MONTHLY", "YEARLY"):
        implied["BYMONTHDAY"] = [day.day]
    if frequency == "YEARLY":
        implied["BYMONTH"] = [day.month]
    for part in ("BYDAY", "BYMONTHDAY", "BYMONTH"):
        values = parts.pop(part, None)
        if values is None:
            continue
        written = [str(v).upper() if part == "BYDAY" else int(v) for v in values]
        if written != implied.get(part):
            fail(
                _(
                    "RRULE {rule}: onOffice repeats on the start's own weekday and day only; "
                    "{part}={value} cannot be a series (write its appointments one by one)"
                ).format(rule=text, part=part, value=",".join(map(str, values)))
            )
            return
    count = parts.pop("COUNT", None)
    until = parts.pop("UNTIL", None)
    if until and until[0].year >= ENDLESS_YEAR:
        until = None  # "no end", written as a date nobody lives to
    if parts:
        part = sorted(parts)[0]
        fail(
            _(
                "RRULE {rule}: onOffice series have no {part} (write its appointments one by one)"
            ).format(rule=text, part=part)
        )
        return
    if count and not 1 <= int(count[0]) <= MAX_COUNT:
        fail(_("RRULE {rule}: a series of 1 to {n} occurrences").format(rule=text, n=MAX_COUNT))
        return
    cells["REPEAT"] = FREQUENCIES[frequency]
    cells["INTERVAL"] = str(interval)
    if until or count:
        _series_end(cells, rule, start, until[0] if until else None, out, fail)


def _series_end(
    cells: dict[str, str | None], rule: Any, start: date, until: Any, out: Events, fail: Any
) -> None:
    """UNTIL: the day of the rule's last occurrence, or the row's error saying why not."""
    text = _rule_text(rule)
    try:
        last = _last_occurrence(rule, start, until, out)
    except _Uncounted:
        fail(
            _(
                "RRULE {rule}: the file's series hold more than {n} occurrences in all, "
                "the most counted in one file, so this one's last day is not known; "
                "split the file"
            ).format(rule=text, n=BUDGET)
        )
        return
    cells["UNTIL"] = when(last) if last is not None else None
    if last is None:
        fail(_("RRULE {rule}: no occurrence at all").format(rule=text))


class _Uncounted(Exception):
    """A COUNT's last occurrence past the file's budget of occurrences: not known."""


def _last_occurrence(rule: Any, start: date, until: Any, out: Events) -> date | None:
    """The day (in Berlin) of a rule's last occurrence: counted by dateutil, up to the
    file's budget of occurrences; past it, an UNTIL's own day, and for a COUNT (whose last
    day only counting finds) :class:`_Uncounted`. An UNTIL is read in the start's own terms,
    so that every form of an event ends on the same day: a date is the whole of that day, a
    UTC time the same moment for a floating (Berlin) start."""
    begin = start if isinstance(start, datetime) else datetime.combine(start, time(0))
    bare = {k: v for k, v in rule.items() if k != "UNTIL"}  # its keys are upper case
    text = _rule_text(icalendar.vRecur(bare))
    last = _until(until, begin) if until is not None else None
    try:
        expanded = rrulestr(text, dtstart=begin)
        # not mutated: one RRULE is an rrule, and replace(until=None) changes none
        if last is not None and isinstance(expanded, rrule):  # pragma: no mutate
            expanded = expanded.replace(until=last)
        allowed = max(0, out.budget)
        occurrences = list(itertools.islice(iter(expanded), allowed + 1))
    except (ValueError, TypeError, OverflowError):
        occurrences, allowed = [], -1
    out.budget -= len(occurrences)
    if len(occurrences) <= allowed:  # all counted: an UNTIL before the start leaves none
        return _day_of(_berlin(occurrences[-1])) if occurrences else None
    if last is not None:  # past the budget (or not countable): the UNTIL's own day
        return _day_of(_berlin(last))
    if occurrences:  # past the budget, a COUNT: its last occurrence is not counted
        raise _Uncounted
    return None


def _rule_text(rule: Any) -> str:
    """An RRULE as written (vRecur's keys upper case, its bytes UTF-8 by construction)."""
    return bytes(rule.to_ical()).decode()


def _until(until: Any, begin: datetime) -> datetime:
    """An UNTIL as a moment comparable with the start: a date the end of that day, in the
    start's zone; a UTC time converted to the start's zone (Berlin for a floating one)."""
    if not isinstance(until, datetime):
        moment = datetime.combine(until, time(23, 59, 59))
        return moment.replace(tzinfo=begin.tzinfo)  # a floating start's None: floating too
    if begin.tzinfo is not None:
        return until if until.tzinfo is not None else until.replace(tzinfo=begin.tzinfo)
    return _berlin(until)


def _foreign(start: date) -> bool:
    """A time in a zone whose offset differs from Berlin's at some time of its year."""
    if not isinstance(start, datetime) or start.tzinfo is None:
        return False
    berlin = ZoneInfo(contract.LOCAL_TIMEZONE)
    for month in (1, 7):
        moment = start.replace(month=month, day=15)
        if moment.utcoffset() != moment.astimezone(berlin).utcoffset():
            return True
    return False


def _alarm(
    out: Events,
    row: int,
    cells: dict[str, str | None],
    event: Any,
    start: date,
    end: date | None,
) -> None:
    """The first alarm that rings: the nearest reminder onOffice offers, every difference
    said on the cell. Alarms that never ring (``ACTION:NONE``, Apple's placeholder) are none."""
    alarms = [a for a in event.walk("VALARM") if a.get("TRIGGER") is not None and _rings(a)]
    if not alarms:
        return
    trigger = alarms[0].get("TRIGGER")
    try:
        value = trigger.dt
    except (ValueError, AttributeError):
        out.errors[(row, "VALARM")] = ("ics-bad-date", _("the alarm's TRIGGER is not readable"))
        return
    begin = _as_datetime(start)
    if isinstance(value, timedelta):
        related = str(trigger.params.get("RELATED", "START")).upper()
        anchor = _as_datetime(end) if related == "END" and end is not None else begin
        lead = begin - (anchor + value)
    else:
        lead = begin - _as_datetime(_berlin(value))
    seconds = max(0, int(lead.total_seconds()))
    if lead.total_seconds() < 0:
        out.warn(
            row,
            "VALARM",
            _("the alarm is after the start; onOffice reminds before it: at the start"),
        )
    nearest = min(REMINDER_SECONDS, key=lambda v: (abs(REMINDER_SECONDS[v] - seconds), v))
    cells["VALARM"] = nearest
    if REMINDER_SECONDS[nearest] != seconds:
        out.warn(
            row,
            "VALARM",
            _(
                "the alarm {lead} before is not a reminder onOffice offers; {nearest} before is "
                "the nearest"
            ).format(lead=_lead(seconds), nearest=nearest),
        )
    if len(alarms) > 1:
        out.warn(
            row, "VALARM", _("{n} alarms: onOffice keeps one, the first").format(n=len(alarms))
        )


def _rings(alarm: Any) -> bool:
    """Not an alarm that never goes off: ``ACTION:NONE``, or Apple's default placeholder
    (``TRIGGER;VALUE=DATE-TIME:19760401T005545Z``)."""
    # not mutated: get() ignores letter case ("action" finds the same)
    if _text(alarm.get("ACTION")).upper() == "NONE":  # pragma: no mutate
        return False
    # not mutated: get() ignores letter case; every alarm here has a TRIGGER with .dt
    value = getattr(alarm.get("TRIGGER"), "dt", None)  # pragma: no mutate
    return not (
        isinstance(value, datetime) and value.tzinfo is not None and value == APPLE_PLACEHOLDER
    )


def _lead(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d} h" if hours else f"{rest // 60} min"


def _end(event: Any, start: date, fail: Any) -> date | None:
    """The end as the mapping reads it: a moment, or an all-day event's last day."""
    if event.get("DTEND") is not None:
        end = _moment(event.get("DTEND"), fail)
    elif event.get("DURATION") is not None:
        try:
            end = start + event.get("DURATION").dt
        except (ValueError, TypeError, AttributeError):
            fail(_("DURATION is not readable"))
            return None
    else:
        end = start  # RFC 5545: a day's event lasts the day, a moment's takes no time
        return end
    if end is not None and not isinstance(start, datetime) and not isinstance(end, datetime):
        end = max(start, end - timedelta(days=1))  # DTEND of a DATE is exclusive
    return end


def _moment(prop: Any, fail: Any = None) -> date | None:
    """A DATE, or a DATE-TIME as Berlin wall clock; None (and ``fail``) when unreadable."""
    if prop is None:
        return None
    try:
        value = prop.dt
    except (ValueError, AttributeError):
        if fail is not None:
            fail(_("{value} is not a date or time").format(value=repr(_short(str(prop)))))
        return None
    if isinstance(value, datetime):
        return _berlin(value)
    if isinstance(value, date):
        return value
    if fail is not None:
        fail(_("not a date or time"))
    return None


def _berlin(value: datetime) -> datetime:
    """UTC and zoned times converted; a floating one is already Berlin's wall clock."""
    if value.tzinfo is None:
        return value
    return value.astimezone(ZoneInfo(contract.LOCAL_TIMEZONE)).replace(tzinfo=None)


def _as_datetime(value: date | None) -> datetime:
    if isinstance(value, datetime):
        return value
    assert value is not None
    return datetime.combine(value, datetime.min.time())


def _day_of(value: date | None) -> date | None:
    return value.date() if isinstance(value, datetime) else value


def _shown(value: date) -> str:
    """As the office writes it (i18n.when: 05.03.2027 10:00), seconds only where there are."""
    return when(value) + (
        value.strftime(":%S") if isinstance(value, datetime) and value.second else ""
    )


def _exdates(event: Any) -> Iterable[date | None]:
    for prop in _listed(event.get("EXDATE")):
        for d in getattr(prop, "dts", []):
            yield _moment(d)


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _categories(value: Any) -> list[str]:
    out: list[str] = []
    for prop in _listed(value):
        out += [str(c) for c in getattr(prop, "cats", [prop])]
    return [c.strip() for c in out if str(c).strip()]


def _email(value: Any) -> str:
    text = _text(value)
    return text[7:] if text.lower().startswith("mailto:") else text


def _place(value: Any) -> str:
    """A place on one line: Apple writes the street and the town on two ("Theaterstraße 12\n
    52062 Aachen"), which become "Theaterstraße 12, 52062 Aachen"."""
    lines = [" ".join(line.split()) for line in str(value or "").splitlines()]
    return ", ".join(line.rstrip(",") for line in lines if line)


def _text(value: Any, lines: bool = False) -> str:
    """A property's text: spaces collapsed; line breaks kept where ``lines`` (a description)."""
    if value is None:
        return ""
    if lines:
        return "\n".join(" ".join(line.split()) for line in str(value).splitlines()).strip()
    return " ".join(str(value).split())


def _short(what: object) -> str:
    text = " ".join(str(what).split())
    return text[:120] + ("…" if len(text) > 120 else "")
