"""Draft a mapping file from a spreadsheet: headers recognised, values sniffed, maps proposed.

    draft = importer.draft_mapping("termine.xlsx")
    Path("mappings/termine.yaml").write_text(draft.yaml)

Every entry of the YAML carries a comment saying which column and which evidence led to it;
columns left unmapped and values that could not be mapped are listed for the user to correct.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from ..core import contract
from ..core.errors import SourceFileError
from ..core.i18n import _, ngettext, reminder
from ..source import ics
from ..source.load import LoadOptions, Table, header_key, load_table
from .convert import normalise_reminder
from .lookup import Candidate, Choices, ReadApi, Resolver, spelled
from .spec import LOOKUP_KINDS, map_key
from .values import (
    DEFAULT_DATE_FORMATS,
    DEFAULT_DATETIME_FORMATS,
    DEFAULT_TIME_FORMATS,
    FALSE_WORDS,
    TRUE_WORDS,
    OrderEvidence,
)

# Header words per target, normalised (lower case, umlauts spelled out, no punctuation).
ALIASES: dict[str, tuple[str, ...]] = {
    "start": (
        "start",
        "beginn",
        "termin",
        "startzeit",
        "begin",
        "from",
        "von",
        "anfang",
        "start datetime",
        "startdatum",
        "termin start",
        "datum uhrzeit",
    ),
    "date": ("datum", "date", "tag", "termindatum", "day"),
    "time": (
        "uhrzeit",
        "zeit",
        "time",
        "beginn",
        "von",
        "start",
        "startzeit",
        "ab",
        "start time",
        "begin time",
        "from time",
    ),
    "end": (
        "ende",
        "end",
        "bis",
        "endzeit",
        "to",
        "until",
        "termin ende",
        "enddatum",
        "end time",
        "to time",
    ),
    "duration": ("dauer", "duration", "laenge", "minuten", "dauer min", "length"),
    "description": (
        "betreff",
        "subject",
        "titel",
        "title",
        "beschreibung",
        "description",
        "thema",
        "anlass",
        "summary",
    ),
    "art": (
        "terminart",
        "art",
        "type",
        "typ",
        "kategorie",
        "category",
        "termintyp",
        "appointment type",
    ),
    "estate": (
        "objekt nr",
        "objektnr",
        "objekt",
        "immonr",
        "immo nr",
        "immobilie",
        "property",
        "property id",
        "objektnummer",
        "estate",
        "objekt id",
        "ref",
        "referenz",
    ),
    "email": ("e mail", "email", "mail", "e mail adresse", "emailadresse"),
    "kdnr": (
        "kdnr",
        "kundennummer",
        "kunden nr",
        "kundennr",
        "customer no",
        "customer number",
        "kunde kdnr",
        "kunden id",
    ),
    "contact": (
        "interessent",
        "kunde",
        "contact",
        "kontakt",
        "name",
        "client",
        "teilnehmer extern",
    ),
    "agent": (
        "makler",
        "mitarbeiter",
        "agent",
        "berater",
        "betreuer",
        "benutzer",
        "user",
        "zustaendig",
        "owner",
        "attendees",
        "teilnehmer",
        "verantwortlich",
    ),
    "group": ("gruppe", "group", "groups", "gruppen", "team", "teams", "abteilung"),
    "note": (
        "notiz",
        "notizen",
        "bemerkung",
        "bemerkungen",
        "notes",
        "note",
        "kommentar",
        "comment",
        "hinweis",
        "anmerkung",
        "info",
    ),
    "erinnerung": ("erinnerung", "reminder", "alarm", "vorlauf"),
    "reminder_types": (
        "channels",
        "channel",
        "kanal",
        "kanaele",
        "erinnerungskanal",
        "erinnerungskanaele",
        "reminder channels",
        "benachrichtigung",
        "erinnerungsart",
        "reminder by",
        "reminder type",
        "erinnerung per",
        "erinnern per",
        "reminder types",
    ),
    "ressources": ("ressourcen", "resources", "ressource", "resource", "hilfsmittel", "mittel"),
    "all_day": ("ganztaegig", "ganztags", "all day", "allday", "ganzer tag"),
    "private": ("privat", "private", "vertraulich"),
    "abgesagt": ("abgesagt", "storniert", "cancelled", "canceled", "absage"),
    "status": ("status", "terminstatus"),
    "repeat": ("wiederholung", "repeat", "serie", "recurrence", "rhythmus", "turnus"),
    "interval": ("intervall", "interval", "every", "alle", "abstand"),
    "until": ("bis datum", "until", "serienende", "ende serie", "wiederholen bis", "series end"),
    "exceptions": ("ausnahmen", "except", "exceptions", "ausnahme", "ausser"),
    "location": ("ort", "location", "treffpunkt", "adresse", "place", "raum", "wo"),
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DAY = r"(\d{1,2}\.\d{1,2}\.\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})"
_DATETIME_TEXT = re.compile(rf"^{_DAY}[ T,]+\d{{1,2}}:\d{{2}}")
_DATE_TEXT = re.compile(rf"^{_DAY}$")
_TIME_TEXT = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?( ?uhr| ?[ap]m)?$", re.IGNORECASE)
_DIGITS = re.compile(r"^\d+$")


def normalise(header: str) -> str:
    """A header as the draft's vocabulary spells it: compared as the loader compares headers
    (:func:`importer.source.load.header_key`), umlauts spelled out, punctuation as spaces."""
    text = header_key(header)
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


@dataclass
class Column:
    name: str
    values: list[Any]  # non-empty sample values

    def share(self, test: Any) -> float:
        return sum(1 for v in self.values if test(v)) / len(self.values) if self.values else 0.0

    @property
    def kind(self) -> str:
        """datetime, date, time, duration, number, bool, email, text."""
        checks = (
            (
                "datetime",
                lambda v: (
                    (isinstance(v, datetime) and v.time() != time(0))
                    or (isinstance(v, str) and bool(_DATETIME_TEXT.match(v.strip())))
                ),
            ),
            (
                "date",
                lambda v: (
                    isinstance(v, date)
                    or (isinstance(v, str) and bool(_DATE_TEXT.match(v.strip())))
                ),
            ),
            (
                "time",
                lambda v: (
                    isinstance(v, time)
                    or (isinstance(v, str) and bool(_TIME_TEXT.match(v.strip())))
                ),
            ),
            ("duration", lambda v: isinstance(v, timedelta)),
            ("email", lambda v: isinstance(v, str) and bool(_EMAIL.match(v.strip()))),
            (
                "bool",
                lambda v: (
                    isinstance(v, bool) or str(v).strip().casefold() in TRUE_WORDS | FALSE_WORDS
                ),
            ),
            (
                "number",
                lambda v: (
                    isinstance(v, int | float)
                    or (isinstance(v, str) and bool(_DIGITS.match(v.strip())))
                ),
            ),
        )
        for kind, test in checks:
            if self.values and self.share(test) >= 0.8:
                return kind
        return "text"

    def separator(self) -> str | None:
        for sep in (";", "|", ","):
            if self.share(lambda v, s=sep: isinstance(v, str) and s in v) >= 0.2:
                return sep
        return None

    def distinct(self) -> list[str]:
        return list(dict.fromkeys(str(v).strip() for v in self.values))


@dataclass
class Entry:
    key: str  # YAML key path, e.g. fields.art
    value: dict[str, Any] | str
    why: str


@dataclass
class Draft:
    source: Path
    table: Table
    entries: list[Entry] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    yaml: str = ""

    @property
    def targets(self) -> dict[str, str | dict[str, Any]]:
        return {e.key: e.value for e in self.entries}


def _assign(columns: list[Column]) -> dict[str, Column]:
    """Best column per target by header: exact alias first, then an alias inside the header."""
    found: dict[str, Column] = {}
    used: set[str] = set()
    for exact in (True, False):
        for target, aliases in ALIASES.items():
            if target in found:
                continue
            for col in columns:
                key = normalise(col.name)
                hit = (
                    key in aliases
                    if exact
                    else any(re.search(rf"\b{re.escape(a)}\b", key) for a in aliases if len(a) > 2)
                )
                if hit and col.name not in used:
                    found[target] = col
                    used.add(col.name)
                    break
    return found


def _q(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON scalars are valid YAML


def draft_mapping(
    path: str | Path, options: LoadOptions | None = None, api: ReadApi | None = None
) -> Draft:
    """Read ``path`` (any sheet and header position the loader handles) and draft a mapping.

    With ``api`` (read calls only) the look-ups are tried against the account: a value no
    record matches gets a proposed value map to the closest user, or a line under "To check".
    """
    table = load_largest_sheet(Path(path), options or LoadOptions())
    columns = [
        Column(c, [v for v in table.frame[c].tolist() if v is not None][:300])
        for c in table.columns
    ]
    draft = Draft(Path(path), table)
    if table.calendar or set(ics.COLUMNS) <= set(table.columns):  # a calendar's results too
        _calendar(draft)
        return _finish(draft, columns, api)
    if _exported(draft, columns):
        return _finish(draft, columns, api)
    found = _assign(columns)
    add = draft.entries.append
    # The header words decide the role; the values may overrule (a "Termin" column of times).
    start, date_col, time_col = found.get("start"), found.get("date"), found.get("time")
    if start and start.kind in ("date",) and not date_col:
        date_col, start = start, None
    if date_col and date_col.kind == "datetime" and not start:
        start, date_col = date_col, None
    if start and start.kind == "datetime":
        add(Entry("start", start.name, _column(start.name, _("dates with times"))))
    elif date_col:
        parts: dict[str, Any] = {"date": date_col.name}
        why = _column(date_col.name, _("dates"))
        tcol = (
            time_col
            if time_col is not None
            else (start if start and start.kind == "time" else None)
        )
        if tcol is not None:
            parts["time"] = tcol.name
            why += "; " + _column(tcol.name, _("times of day"))
        add(Entry("start", parts, why))
    else:
        draft.todo.append(_("start: no column with dates found; set `start:` by hand"))
    end, duration = found.get("end"), found.get("duration")
    if end and end.kind == "time":
        add(
            Entry(
                "end",
                {"time": end.name, "minutes": 30},
                _column(end.name, _("times on the start's day; 30 minutes when empty")),
            )
        )
    elif end and end.kind in ("datetime", "date"):
        add(Entry("end", end.name, _column(end.name, _("dates with times"))))
    elif duration:
        add(Entry("end", {"duration": duration.name}, _column(duration.name, _("durations"))))
    else:
        add(Entry("end", {"minutes": 30}, _("no end or duration column found: 30 minutes assumed")))
    if "all_day" in found:
        add(Entry("all_day", found["all_day"].name, _column(found["all_day"].name, _("yes/no"))))
    timed = [found[k] for k in ("start", "date", "time", "end") if k in found]
    _text_formats(draft, timed)
    _fields(found, draft)
    _series(found, draft)
    if "location" in found:
        col = found["location"]
        add(
            Entry(
                "location",
                {"type": "sonstiges", "column": col.name},
                _column(col.name, _("a place, as free text")),
            )
        )
    elif "estate" in found:  # a place is not invented: viewings may meet elsewhere
        draft.todo.append(
            _(
                "location: no place column, so none is sent; to meet at the estate, add "
                "`location: {{type: estate, column: {column}, lookup: estate}}`"
            ).format(column=_q(found["estate"].name))
        )
    return _finish(draft, columns, api)


def _finish(draft: Draft, columns: list[Column], api: ReadApi | None) -> Draft:
    """The look-ups and types tried against the account, the unmapped columns, the YAML."""
    if api is not None:
        resolver = Resolver(api)
        _try_lookups(draft, resolver)
        _types(draft, resolver)
    else:
        _types(draft, None)
    mapped = {c for e in draft.entries for c in _columns_of(e.value)}
    draft.unmapped = [c.name for c in columns if c.name not in mapped]
    draft.yaml = render(draft)
    return draft


def _calendar(draft: Draft) -> None:
    """A calendar file's columns are always the same (importer.source.ics): the mapping that reads
    them, as mappings/ics.yaml."""
    add = draft.entries.append
    add(Entry("key", "UID", _("the event's UID: a re-exported calendar updates its appointments")))
    add(Entry("start", "DTSTART", _("the event's start, in Berlin's wall clock")))
    add(Entry("end", "DTEND", _("the event's end; an all-day event's last day")))
    add(Entry("all_day", "ALL-DAY", _("events written as dates are all-day")))
    add(Entry("fields.description", "SUMMARY", _("the event's title")))
    add(Entry("fields.note", "DESCRIPTION", _("the event's description")))
    statuses = {"CONFIRMED": "active", "TENTATIVE": "active", "CANCELLED": "canceled"}
    add(Entry("fields.status", {"column": "STATUS", "map": statuses}, _("cancelled events")))
    add(Entry("fields.erinnerung", "VALARM", _("the nearest reminder onOffice offers")))
    add(Entry("fields.origin", {"value": True}, _('"appointment imported via ICS"')))
    private = {"column": "CLASS", "map": {"PRIVATE": True, "CONFIDENTIAL": True, "*": False}}
    add(Entry("fields.private", private, _("private and confidential events")))
    people = {
        "template": "{ORGANIZER}, {ATTENDEE}",
        "split": ",",
        "lookup": {"kind": "attendee", "by": "email", "missing": "leave-out"},
    }
    add(
        Entry(
            "fields.attendees",
            people,
            _("users take part, contacts are linked, anyone else is left out with a warning"),
        )
    )
    rooms = {
        "column": "RESOURCES",
        "split": ";",
        "lookup": {"kind": "resource", "by": "label", "missing": "leave-out"},
    }
    add(Entry("fields.ressources", rooms, _("rooms: the account's resources by name")))
    add(Entry("location", {"type": "sonstiges", "column": "LOCATION"}, _("the event's place")))
    series = {
        "repeat": "REPEAT",
        "interval": "INTERVAL",
        "until": "UNTIL",
        "exceptions": {"column": "EXDATE", "split": ","},
    }
    add(Entry("series", series, _("an RRULE onOffice's series can express")))


# Outlook's CSV export (its German or its English header) and Google Calendar's import CSV, which
# takes Outlook's English names (Subject, Start Date, Start Time "10:00 AM", All Day Event …):
# a layout known as a whole. role -> (German, English) header.
EXPORT_LAYOUT: dict[str, tuple[str, str]] = {
    "subject": ("Betreff", "Subject"),
    "start_date": ("Beginnt am", "Start Date"),
    "start_time": ("Beginnt um", "Start Time"),
    "end_date": ("Endet am", "End Date"),
    "end_time": ("Endet um", "End Time"),
    "all_day": ("Ganztägiges Ereignis", "All Day Event"),
    "organizer": ("Besprechungsplanung", "Meeting Organizer"),
    "attendees": ("Erforderliche Teilnehmer", "Required Attendees"),
    "description": ("Beschreibung", "Description"),
    "location": ("Ort", "Location"),
    "private": ("Privat", "Private"),
}
YES_NO = {"ein": True, "aus": False, "true": True, "false": False, "ja": True, "nein": False}
_SLASH_DATE = re.compile(r"^\d{1,2}/\d{1,2}/(\d{2}|\d{4})$")
_DOT_DATE = re.compile(r"^\d{1,2}\.\d{1,2}\.(\d{2}|\d{4})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_AM_PM = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?\s*[AaPp][Mm]$")
_SLASH_START = re.compile(r"^\d{1,2}/\d{1,2}/(\d{4}|\d{2})\b")
_AM_PM_END = re.compile(r"\d{1,2}:\d{2}(:\d{2})? ?[AaPp][Mm]$")


def _exported(draft: Draft, columns: list[Column]) -> bool:
    """Outlook's export or Google's import CSV: drafted as the layout it is (False: not one)."""
    by_key = {header_key(c.name): c for c in columns}
    found = {
        role: by_key[k]
        for role, names in EXPORT_LAYOUT.items()
        for k in map(header_key, names)
        if k in by_key
    }
    if not {"subject", "start_date"} <= set(found):
        return False
    german = header_key(found["subject"].name) == header_key(EXPORT_LAYOUT["subject"][0])
    add = draft.entries.append
    days = [v for r in ("start_date", "end_date") if r in found for v in found[r].values]
    times = [v for r in ("start_time", "end_time") if r in found for v in found[r].values]
    add(Entry("formats", _export_formats(draft, days, times), _("as the file writes them")))
    start = {"date": found["start_date"].name}
    if "start_time" in found:
        start["time"] = found["start_time"].name
    program = _("Outlook's CSV export") if german else _("Outlook's or Google Calendar's CSV")
    add(Entry("start", start, program))
    end: dict[str, Any] = {
        k: found[r].name for k, r in (("date", "end_date"), ("time", "end_time")) if r in found
    }
    if "end_time" not in found:
        end["minutes"] = 60
    add(Entry("end", end, program if "end_time" in found else _("60 minutes: no end time")))
    if "all_day" in found:
        spec = {"column": found["all_day"].name, "map": YES_NO}
        add(Entry("all_day", spec, _column(found["all_day"].name, _("yes/no"))))
    add(Entry("fields.description", found["subject"].name, _column(found["subject"].name, "")))
    parts = [f"{{{found['description'].name}}}"] if "description" in found else []
    if "attendees" in found:  # names, not e-mails: kept in the note for the agent to read
        parts.append(
            ("Teilnehmer: " if german else "Attendees: ") + f"{{{found['attendees'].name}}}"
        )
    if parts:
        why = _("the description; the attendees' names (a line only where there are some)")
        add(Entry("fields.note", {"template": "\n\n".join(parts)}, why))
    if "private" in found:
        spec = {"column": found["private"].name, "map": YES_NO}
        add(Entry("fields.private", spec, _column(found["private"].name, _("yes/no"))))
    if "organizer" in found:
        spec = {"column": found["organizer"].name, "lookup": "user"}
        why = _column(found["organizer"].name, _("the organiser's name: an agent"))
        add(Entry("fields.subscribers.users", spec, why))
    if "location" in found:
        spec = {"type": "sonstiges", "column": found["location"].name}
        add(Entry("location", spec, _column(found["location"].name, _("a place, as free text"))))
    return True


def _export_formats(draft: Draft, days: list[Any], times: list[Any]) -> dict[str, Any]:
    """The date and time formats the values show; the order of slash dates from the values
    (a day over 12), else said under "To check"."""
    texts = [str(v).strip() for v in days]
    dates: list[str] = []
    if any(_DOT_DATE.match(t) for t in texts):
        dates += ["%d.%m.%Y", "%d.%m.%y"]
    if any(_ISO_DATE.match(t) for t in texts):
        dates.append("%Y-%m-%d")
    formats: dict[str, Any] = {}
    slashed = [t for t in texts if _SLASH_DATE.match(t)]
    if slashed:
        first = _slash_order(draft, slashed, formats)
        dates += [f"{first}/%Y", f"{first}/%y"]
    formats["date"] = dates or list(DEFAULT_DATE_FORMATS)
    twelve = any(_AM_PM.match(str(v).strip()) for v in times)
    formats["time"] = ["%I:%M:%S %p", "%I:%M %p"] if twelve else ["%H:%M:%S", "%H:%M"]
    return formats


def _slash_order(draft: Draft, slashed: list[str], formats: dict[str, Any]) -> str:
    """How slash dates start ("%d/%m" or "%m/%d"): proved by a day over 12 (then ``dayfirst``
    is written), else month/day with a line under "To check"."""
    evidence = OrderEvidence()
    for text in slashed:
        evidence.add(text)
    if evidence.proves is None:
        draft.todo.append(
            _(
                "formats.dayfirst: no date tells whether day or month comes first ({example} "
                "could be either): they are read month/day (US settings); write `dayfirst: "
                "true` under formats if the file has day/month (UK settings)"
            ).format(example=evidence.either or slashed[0])
        )
    else:
        formats["dayfirst"] = evidence.proves
    return "%d/%m" if evidence.proves else "%m/%d"


def _text_formats(draft: Draft, used: list[Column]) -> None:
    """Any other list with slash dates (05/03/2027) or 12-hour times (2:30 PM) in the columns
    the draft reads times from: their formats beside the default ones."""
    texts = [str(v).strip() for c in used for v in c.values if isinstance(v, str)]
    slashed = [m.group(0) for t in texts if (m := _SLASH_START.match(t))]
    twelve = any(_AM_PM_END.search(t) for t in texts)
    if not slashed and not twelve:
        return
    formats: dict[str, Any] = {}
    times = [*DEFAULT_TIME_FORMATS, *(("%I:%M %p", "%I:%M:%S %p") if twelve else ())]
    days = list(DEFAULT_DATE_FORMATS)
    if slashed:
        first = _slash_order(draft, slashed, formats)
        days += [f"{first}/%Y", f"{first}/%y"]
    formats["datetime"] = [
        *DEFAULT_DATETIME_FORMATS,
        *(f"{d} {t}" for d in days[len(DEFAULT_DATE_FORMATS) :] for t in times),
    ]
    formats["date"], formats["time"] = days, times
    draft.entries.insert(0, Entry("formats", formats, _("as the file writes them")))


def _types(draft: Draft, resolver: Resolver | None) -> None:
    """The file's appointment types against the account's (`get fields`): a value that is a
    type's key or name goes as it is (the check sends the key); one close to a type gets that
    type proposed in the map, under "To check"; one that is none stays as written, so the check
    names the account's types for its rows. No key is invented."""
    from ..core.errors import ApiError

    entry = next((e for e in draft.entries if e.key == "fields.art"), None)
    if entry is None or not isinstance(entry.value, dict):
        return
    column = str(entry.value["column"])
    cells: list[Any] = draft.table.frame[column].to_numpy().tolist()
    values = [str(v) for v in dict.fromkeys(cells) if v is not None and v == v]
    shown_values = ", ".join(values[:5]) + (" …" if len(values) > 5 else "")
    if resolver is None:
        draft.todo.append(
            _(
                "fields.art: {values} must be appointment types of your onOffice (their names or "
                "keys); check --resolve checks them against the account"
            ).format(values=shown_values)
        )
        return
    try:
        types = resolver.types()
    except ApiError as exc:
        types = Choices({}, str(exc))
    if types.unknown:
        draft.todo.append(
            _(
                "fields.art: the appointment types could not be compared with onOffice: {why}"
            ).format(why=types.unknown)
        )
        return
    proposals: dict[str, str] = {}
    unknown: list[str] = []
    keys: dict[str, str] = {}  # a value that names a type -> its key, which the run sends
    for value in values:
        if (key := types.match(value)) is not None:
            keys[value] = key
            continue
        near = types.closest(value)
        if near is None:
            unknown.append(value)
        else:
            proposals[value] = near
    for value, key in proposals.items():
        label = types.values.get(key, key)
        draft.todo.append(
            _(
                "fields.art: {value} is no appointment type of your onOffice; proposed: {type}"
            ).format(value=repr(value), type=repr(label if label == key else f"{label} ({key})"))
        )
    if proposals or any(k != v for v, k in keys.items()):
        # every value of the column, so the map passes the others on unchanged
        entry.value["map"] = value_map((v, keys.get(v) or proposals.get(v, v)) for v in values)
        if any(k != v for v, k in keys.items()):
            entry.why += _("; names of types mapped to the keys your onOffice lists for them")
    if unknown:
        draft.todo.append(
            ngettext(
                "fields.art: {values} is no appointment type of your onOffice ({types}): map it "
                "to one, or its rows stay invalid",
                "fields.art: {values} are no appointment types of your onOffice ({types}): map "
                "them to one, or their rows stay invalid",
                len(unknown),
            ).format(values=", ".join(repr(v) for v in unknown), types=types.shown(8))
        )
    if not proposals and not unknown:
        entry.why += _("; every value is one of your onOffice's types")


def value_map(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A value map its loader takes: values that differ only in case or spaces (which its keys
    ignore, :func:`importer.mapping.spec.map_key`) are one entry, the first spelling's."""
    out: dict[str, Any] = {}
    for value, target in pairs:
        out.setdefault(map_key(value), (value, target))
    return dict(out.values())


def _try_lookups(draft: Draft, resolver: Resolver) -> None:
    """Each look-up's values against the account: unresolved users get a proposed map entry
    to the closest user name; the rest are listed under "To check"."""
    from ..core.errors import ApiError

    for entry in draft.entries:
        spec = entry.value
        if not isinstance(spec, dict) or "lookup" not in spec or "column" not in spec:
            continue  # a template's look-up (a calendar's people) is tried by the check
        lookup = spec["lookup"]
        kind, by = (lookup, None) if isinstance(lookup, str) else (lookup["kind"], lookup["by"])
        by = by or LOOKUP_KINDS[kind][0]
        values = [v for v in draft.table.frame[spec["column"]].tolist() if v is not None]
        keys = list(dict.fromkeys(k for v in values for k in _keys(v, spec.get("split"))))
        if len(keys) > 200:  # too many to propose a map for (it must list every value)
            draft.todo.append(
                _("{key}: more than 200 different values; the look-ups were not tried").format(
                    key=entry.key
                )
            )
            continue
        try:
            found = resolver.resolve(kind, by, keys)
            pool = resolver.candidates(kind) if kind == "user" else []  # proposals: users only
        except ApiError as exc:
            why = _("{key}: the look-ups could not be tried ({error})")
            draft.todo.append(why.format(key=entry.key, error=exc))
            return
        missing = [k for k, r in found.items() if r.candidate is None]
        if not missing:
            entry.why += _("; every value found in onOffice")
            continue
        proposals = _closest(missing, pool)
        if proposals:
            # every value of the column, so the map passes the others on unchanged
            spec["map"] = value_map((k, proposals.get(k, k)) for k in keys)
            for value, user in proposals.items():
                draft.todo.append(
                    _("{key}: {value} is no onOffice user; proposed: {user}").format(
                        key=entry.key, value=repr(value), user=repr(user)
                    )
                )
        rest = [k for k in missing if k not in proposals]
        if rest:
            draft.todo.append(
                ngettext(
                    "{key}: {n} value not found in onOffice: {values}",
                    "{key}: {n} values not found in onOffice: {values}",
                    len(rest),
                ).format(key=entry.key, n=len(rest), values=", ".join(rest[:8]))
            )


def _keys(value: Any, split: str | None) -> list[str]:
    text = str(value).strip()
    parts = text.split(split) if split else [text]
    return [p.strip() for p in parts if p.strip()]


def _closest(missing: list[str], pool: list[Candidate]) -> dict[str, str]:
    """For each unknown user, the user name of the one user whose names come closest."""
    owners: dict[str, set[Any]] = {}
    for c in pool:
        for k in (*c.keys, c.surname):
            if k:
                owners.setdefault(spelled(k), set()).add(c.id)
    # a name two users share (a last name) proposes neither: that is for the user to decide
    names = {spelled(k): c for c in pool for k in (*c.keys, c.surname) if k}
    names = {k: c for k, c in names.items() if len(owners[k]) == 1}
    out = {}
    for value in missing:
        near = difflib.get_close_matches(spelled(value), list(names), n=1, cutoff=0.75)
        if near and names[near[0]].name:
            out[value] = names[near[0]].name
    return out


def load_largest_sheet(path: Path, options: LoadOptions) -> Table:
    """Without a mapping several sheets may qualify: a draft takes the one with most rows."""
    try:
        return load_table(path, options)
    except SourceFileError as exc:
        if exc.code != "sheet-ambiguous" or options.sheet is not None:
            raise
    tables = []
    for position in range(1, 256):
        try:
            tables.append(load_table(path, replace(options, sheet=position)))
        except SourceFileError as exc:
            if exc.code == "sheet-not-found":
                break
    if not tables:
        raise SourceFileError(
            _("no sheet holds a header and data rows"), file=str(path), code="no-data-rows"
        )
    return max(tables, key=lambda t: len(t.frame) * len(t.columns))


def _fields(found: dict[str, Column], draft: Draft) -> None:
    """The appointment's fields the file has columns for."""
    for part in (_what_fields, _people_fields, _reminder_fields, _flag_fields):
        part(found, draft)


def _what_fields(found: dict[str, Column], draft: Draft) -> None:
    """Subject, note, type and estate."""
    add = draft.entries.append
    subject, art, estate = found.get("description"), found.get("art"), found.get("estate")
    contact = found.get("contact")
    if subject:
        add(Entry("fields.description", subject.name, _column(subject.name, _("a subject"))))
    elif art or estate or contact:
        parts = [f"{{{c.name}}}" for c in (art, estate) if c]
        template = " ".join(parts) + (f" mit {{{contact.name}}}" if contact else "")
        add(
            Entry(
                "fields.description",
                {"template": template.strip()},
                _("no subject column: composed from type, estate and contact"),
            )
        )
    if "note" in found:
        add(Entry("fields.note", found["note"].name, _column(found["note"].name, _("notes"))))
    if art:
        values = art.distinct()[:30]
        add(
            Entry(
                "fields.art",
                {"column": art.name},
                _column(
                    art.name,
                    ngettext(
                        "{n} appointment type, by its name or key in onOffice",
                        "{n} appointment types, by their names or keys in onOffice",
                        len(values),
                    ).format(n=len(values)),
                ),
            )
        )
    if estate:
        add(
            Entry(
                "fields.relatedEstateId",
                {"column": estate.name, "lookup": "estate"},
                _column(
                    estate.name,
                    _("external estate numbers (e.g. {example})").format(example=estate.values[0])
                    if estate.values
                    else "",
                ),
            )
        )


def _people_fields(found: dict[str, Column], draft: Draft) -> None:
    """Contacts, agents and groups, each by its look-up."""
    add = draft.entries.append
    contact = found.get("contact")
    emails = found.get("email") or next((c for c in (contact,) if c and c.kind == "email"), None)
    kdnr = found.get("kdnr") or (contact if contact and contact.kind == "number" else None)
    if emails:
        add(
            Entry(
                "fields.relatedAddressIds",
                {"column": emails.name, "lookup": "address"},
                _column(emails.name, _("e-mail addresses -> address records")),
            )
        )
    elif kdnr:
        add(
            Entry(
                "fields.relatedAddressIds",
                {"column": kdnr.name, "lookup": {"kind": "address", "by": "KdNr"}},
                _column(kdnr.name, _("customer numbers -> address records")),
            )
        )
    for target, key in (
        ("agent", "fields.subscribers.users"),
        ("group", "fields.subscribers.groups"),
    ):
        col = found.get(target)
        if col:
            spec: dict[str, Any] = {
                "column": col.name,
                "lookup": "user" if target == "agent" else "group",
            }
            why = _column(col.name, _("user names or names") if target == "agent" else _("groups"))
            if sep := col.separator():
                spec["split"] = sep
                why += _(", several per cell separated by {sep}").format(sep=repr(sep))
            add(Entry(key, spec, why))


def _reminder_fields(found: dict[str, Column], draft: Draft) -> None:
    """Reminders, their channels, and resources."""
    add = draft.entries.append
    if "erinnerung" in found:
        col = found["erinnerung"]
        mapping, unknown = {}, []
        for value in value_map((v, v) for v in col.distinct()[:30]):
            api = normalise_reminder(value)
            if api in contract.ERINNERUNG_VALUES:
                mapping[value] = api
            else:
                unknown.append(value)
        add(
            Entry(
                "fields.erinnerung",
                {"column": col.name, "map": mapping} if mapping else col.name,
                _column(col.name, _("reminder lead times")),
            )
        )
        if unknown:
            draft.todo.append(
                _(
                    "fields.erinnerung: no onOffice reminder for {values} (allowed: {allowed})"
                ).format(
                    values=", ".join(unknown),
                    allowed=", ".join(map(reminder, contract.ERINNERUNG_VALUES)),
                )
            )
    if "reminder_types" in found:
        col = found["reminder_types"]
        spec = {"column": col.name}
        if sep := col.separator():
            spec["split"] = sep
        add(Entry("fields.reminderTypes", spec, _column(col.name, _("email/popup/sms"))))
    if "ressources" in found:
        col = found["ressources"]
        add(
            Entry(
                "fields.ressources",
                {"column": col.name, "split": col.separator() or ",", "lookup": "resource"},
                _column(col.name, _("resource names -> resource keys")),
            )
        )


def _flag_fields(found: dict[str, Column], draft: Draft) -> None:
    """Yes/no columns and the status."""
    add = draft.entries.append
    for target in ("private", "abgesagt"):
        if target in found:
            col = found[target]
            odd = [v for v in col.distinct() if v.casefold() not in TRUE_WORDS | FALSE_WORDS]
            add(
                Entry(
                    f"fields.{target}",
                    {"column": col.name, "default": "nein"},
                    _column(col.name, _("yes/no (ja/nein, x); empty means no")),
                )
            )
            if odd:
                draft.todo.append(
                    _("fields.{target}: not yes/no: {values}").format(
                        target=target, values=", ".join(odd[:5])
                    )
                )
    if "status" in found:
        add(Entry("fields.status", found["status"].name, _column(found["status"].name, "")))


def _series(found: dict[str, Column], draft: Draft) -> None:
    if "repeat" not in found:
        return
    spec: dict[str, Any] = {"repeat": found["repeat"].name}
    why = _column(found["repeat"].name, _("repeat words"))
    for target in ("interval", "until"):
        if target in found:
            spec[target] = found[target].name
            why += _("; {target} from {column}").format(
                target=target, column=repr(found[target].name)
            )
    if "exceptions" in found:
        col = found["exceptions"]
        spec["exceptions"] = {"column": col.name, "split": col.separator() or ","}
    draft.entries.append(Entry("series", spec, why))


def _columns_of(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    out: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("column", "date", "time", "duration", "repeat", "interval", "until"):
                out += _columns_of(inner) if not isinstance(inner, str) else [inner]
            elif key == "exceptions":
                out += _columns_of(inner)
            elif key == "template":
                out += re.findall(r"\{([^{}]+)\}", inner)
    return out


def _column(name: str, evidence: str) -> str:
    """A comment's reason: the column, and what its values showed."""
    if not evidence:
        return _("column {name}").format(name=repr(name))
    return _("column {name}: {evidence}").format(name=repr(name), evidence=evidence)


def render(draft: Draft) -> str:
    """The draft as commented YAML."""
    lines = [
        "# "
        + _("Drafted by `onoffice-import mapping init` from {file}.").format(
            file=draft.source.name
        ),
        "# " + _("Check every entry; the comment says which column and evidence led to it."),
        "",
    ]
    table = draft.table
    source: list[str] = []
    if table.sheet and not table.own:  # our own workbook is read by its sheet whatever it says
        source.append(f"  sheet: {_q(table.sheet)}")
    if table.header_row != 1:
        source.append(f"  header_row: {table.header_row}")
    if table.encoding and table.encoding not in ("utf-8", "utf-8-sig"):
        source.append(f"  encoding: {_q(table.encoding)}")
    if table.delimiter:
        source.append(f"  delimiter: {_q(table.delimiter)}")
    if source:
        lines += ["source:", *source, ""]
    fields = [e for e in draft.entries if e.key.startswith("fields.")]
    for entry in [e for e in draft.entries if not e.key.startswith("fields.")]:
        lines += _block(entry.key, entry.value, entry.why, 0)
    if fields:
        lines.append("fields:")
        for entry in fields:
            lines += _block(entry.key.removeprefix("fields."), entry.value, entry.why, 2)
    if draft.unmapped:
        lines += [
            "",
            "# " + _("Columns left unmapped: {columns}").format(columns=", ".join(draft.unmapped)),
        ]
    if draft.todo:
        lines += ["", "# " + _("To check:")] + [f"# - {t}" for t in draft.todo]
    return "\n".join(lines) + "\n"


def _block(key: str, value: Any, why: str, indent: int) -> list[str]:
    pad = " " * indent
    if not isinstance(value, dict):
        return [f"{pad}{key}: {_q(value)}  # {why}"]
    lines = [f"{pad}{key}:  # {why}"]
    for k, v in value.items():
        if isinstance(v, dict):
            lines.append(f"{pad}  {k}:")
            lines += [f"{pad}    {_q(str(a))}: {_q(b)}" for a, b in v.items()]
        else:
            lines.append(f"{pad}  {k}: {_q(v)}")
    return lines
