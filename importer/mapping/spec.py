"""Mapping files (``mappings/*.yaml``): how spreadsheet columns become calendar create fields.

:func:`load_mapping` turns a YAML file into immutable typed objects and reports every problem
at once (file, key path, "did you mean"), before any row is touched. :meth:`Mapping.check_columns`
then checks the columns it names against the loaded file. The format is documented in
``mappings/README.md``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from collections.abc import Mapping as AnyMapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from ..core import contract
from ..core.errors import MappingError
from ..core.i18n import _
from ..core.stopping import phase
from ..source.load import LoadOptions, header_key
from .values import DEFAULT_DATE_FORMATS, DEFAULT_DATETIME_FORMATS, DEFAULT_TIME_FORMATS

# What each target of `fields:` expects.
TEXT, BOOL, ENUM, DURATION, ID, ID_LIST, TEXT_LIST, ENUM_LIST, USER_NAME = (
    "text",
    "bool",
    "enum",
    "duration",
    "id",
    "id-list",
    "text-list",
    "enum-list",
    "user-name",
)
FIELD_KINDS: dict[str, str] = {
    "description": TEXT,
    "note": TEXT,
    "art": TEXT,
    "von": USER_NAME,
    "ganztags": BOOL,
    "allowTransitTime": BOOL,
    "abgesagt": BOOL,
    "private": BOOL,
    "origin": BOOL,
    "transitTime": DURATION,
    "transitTimePre": DURATION,
    "transitTimePost": DURATION,
    "status": ENUM,
    "erinnerung": ENUM,
    "ressources": TEXT_LIST,
    "reminderTypes": ENUM_LIST,
    "relatedEstateId": ID,
    "relatedAddressIds": ID_LIST,
    "subscribers.users": ID_LIST,
    "subscribers.groups": ID_LIST,
    # a calendar's people by e-mail: users become participants, contacts are linked
    "attendees": ID_LIST,
}
ENUMS: dict[str, tuple[str, ...]] = {
    "status": contract.STATUS_VALUES,
    "erinnerung": contract.ERINNERUNG_VALUES,
    "reminderTypes": contract.REMINDER_TYPES,
}
LOOKUP_KINDS: dict[str, tuple[str, ...]] = {
    "estate": ("objektnr_extern",),
    "address": ("email", "Email", "KdNr"),
    "user": ("auto", "username", "name"),
    "group": ("name",),
    "resource": ("label",),
    "attendee": ("email",),  # a user's e-mail first, else a contact's
}
LOOKUP_TARGETS = {
    "relatedEstateId": {"estate"},
    "relatedAddressIds": {"address"},
    "subscribers.users": {"user"},
    "subscribers.groups": {"group"},
    "von": {"user"},
    "ressources": {"resource"},
    "attendees": {"attendee"},
}
# What a look-up does with a key onOffice does not know: the row's error (the default), or
# leave it out of the appointment with a warning (a calendar's guests who are in no list).
LOOKUP_MISSING = ("error", "leave-out")
REPEAT_WORDS = {
    "t": "t",
    "täglich": "t",
    "taeglich": "t",
    "daily": "t",
    "tag": "t",
    "day": "t",
    "w": "w",
    "wöchentlich": "w",
    "woechentlich": "w",
    "weekly": "w",
    "woche": "w",
    "week": "w",
    "m": "m",
    "monatlich": "m",
    "monthly": "m",
    "monat": "m",
    "month": "m",
    "j": "j",
    "jährlich": "j",
    "jaehrlich": "j",
    "yearly": "j",
    "jahr": "j",
    "year": "j",
}

SPEC_KEYS = (
    "column",
    "value",
    "template",
    "default",
    "map",
    "split",
    "lookup",
    "formats",
    "required",
    "allowed",
)
TOP_KEYS = (
    "version",
    "description",
    "source",
    "timezone",
    "formats",
    "maps",
    "start",
    "end",
    "all_day",
    "fields",
    "location",
    "series",
    "key",
    "options",
)
OPTION_KEYS = (
    "past",
    "max_duration_hours",
    "reference",
    "all_day_end",
    "channels_without_reminder",
)
OPTION_CHOICES = {  # the default first
    "past": ("warn", "error", "allow"),
    "all_day_end": ("end-of-day", "as-written"),
    "channels_without_reminder": ("error", "leave-out"),
}
TEMPLATE_PART = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")


@dataclass(frozen=True)
class Lookup:
    kind: str
    by: str
    missing: str = "error"  # LOOKUP_MISSING

    @property
    def leaves_out(self) -> bool:
        return self.missing == "leave-out"


@dataclass(frozen=True)
class ValueSpec:
    """Where one value comes from, and how it is turned into what the API takes."""

    path: str  # key path in the mapping file, for messages
    columns: tuple[str, ...] = ()  # alternatives; the first present in the file is used
    value: Any = None
    template: str | None = None
    default: Any = None
    map: AnyMapping[str, Any] | None = None  # keys casefolded and stripped; "*" = otherwise
    map_labels: tuple[str, ...] = ()  # the map's keys as written, for messages
    split: tuple[str, ...] = ()
    lookup: Lookup | None = None
    formats: tuple[str, ...] = ()
    required: bool = False
    allowed: tuple[str, ...] = ()

    def template_columns(self) -> list[str]:
        if self.template is None:
            return []
        # "{=Terminart}": the cell as the map of the field reading that column translates it
        return [
            m.group(1).strip().removeprefix("=").strip()
            for m in TEMPLATE_PART.finditer(self.template)
            if m.group(1)
        ]


@dataclass(frozen=True)
class StartSpec:
    column: ValueSpec | None = None  # datetime in one column
    date: ValueSpec | None = None  # or date + time columns
    time: ValueSpec | None = None


@dataclass(frozen=True)
class EndSpec:
    column: ValueSpec | None = None  # datetime
    date: ValueSpec | None = None  # the end's day, when it has a column of its own
    time: ValueSpec | None = None  # time on the end's day (else on the start's day)
    duration: ValueSpec | None = None  # minutes, HH:MM, "90 min"
    minutes: float | None = None  # fixed default duration when nothing else is given


@dataclass(frozen=True)
class SeriesSpec:
    repeat: ValueSpec
    interval: ValueSpec | None = None
    until: ValueSpec | None = None
    exceptions: ValueSpec | None = None


@dataclass(frozen=True)
class LocationSpec:
    type: str
    value: ValueSpec | None


@dataclass(frozen=True)
class Options:
    past: str = "warn"  # warn | error | allow (bad input 40)
    max_duration_hours: float = 24.0  # longer is a warning (bad input 27)
    # Write the import reference line into each appointment's note (importer/onoffice/reference.py).
    reference: bool = True
    # An all-day appointment ends at 23:59:59 of its last day ("end-of-day"), or at the time
    # the file gives for its end ("as-written"; a date without a time still ends the day).
    all_day_end: str = "end-of-day"
    # Reminder channels (reminderTypes) on a row without a reminder: an error ("error"), or
    # left out of that row ("leave-out"), for a constant channel over rows some of which remind.
    channels_without_reminder: str = "error"

    @property
    def keeps_all_day_end(self) -> bool:
        return self.all_day_end == "as-written"

    @property
    def leaves_out_channels(self) -> bool:
        return self.channels_without_reminder == "leave-out"


@dataclass(frozen=True)
class Mapping:
    path: Path
    start: StartSpec
    end: EndSpec
    fields: AnyMapping[str, ValueSpec]
    all_day: ValueSpec | None = None
    location: LocationSpec | None = None
    series: SeriesSpec | None = None
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(contract.LOCAL_TIMEZONE))
    datetime_formats: tuple[str, ...] = DEFAULT_DATETIME_FORMATS
    date_formats: tuple[str, ...] = DEFAULT_DATE_FORMATS
    time_formats: tuple[str, ...] = DEFAULT_TIME_FORMATS
    # Slash dates (05/03/2027): day first (True) or month first (False); None: the column's
    # values decide, else the first such format, with a warning (mapping.convert.date_formats)
    dayfirst: bool | None = None
    source: LoadOptions = field(default_factory=LoadOptions)
    options: Options = field(default_factory=Options)
    text: str = field(default="", repr=False)  # the file as read, for fingerprints
    # The columns that identify a row across edits (a booking number): a row keeps its
    # appointment whatever else changes (importer/run/identity.py). Empty: the row's content does.
    key: tuple[ValueSpec, ...] = ()

    def specs(self) -> Iterator[ValueSpec]:
        """Every value spec, wherever it stands."""
        for holder in (self.start, self.end, self.series):
            if holder is not None:
                for value in vars(holder).values():
                    if isinstance(value, ValueSpec):
                        yield value
        if self.all_day:
            yield self.all_day
        if self.location and self.location.value:
            yield self.location.value
        yield from self.fields.values()
        yield from self.key

    def required_columns(self) -> list[str]:
        """First-choice names of every column the mapping reads (to find the header row)."""
        names: list[str] = []
        for spec in self.specs():
            if spec.columns:
                names.append(spec.columns[0])
            names.extend(n.split("|")[0].strip() for n in spec.template_columns())
        return list(dict.fromkeys(names))

    def check_columns(self, columns: list[str], source: str) -> dict[str, str]:
        """Resolve every column the mapping names against the file's header; all problems at once.

        Returns mapping-name -> header as in the file (matched case-insensitively).
        """
        by_key = {header_key(c): c for c in columns}
        resolved: dict[str, str] = {}
        problems: list[tuple[str, str]] = []
        for spec in self.specs():
            names = list(spec.columns) if spec.columns else []
            if names:
                found = next(
                    (by_key[header_key(n)] for n in names if header_key(n) in by_key), None
                )
                if found is None:
                    problems.append(
                        (f"{spec.path}.column", _missing_column(names, columns, source))
                    )
                else:
                    for n in names:
                        resolved[n] = found
            for name in spec.template_columns():  # {Beschreibung|Description}: the first found
                choices = [n.strip() for n in name.split("|")]
                found = next(
                    (by_key[header_key(n)] for n in choices if header_key(n) in by_key), None
                )
                if found is not None:
                    resolved[name] = found
                else:
                    problems.append(
                        (f"{spec.path}.template", _missing_column(choices, columns, source))
                    )
        if problems:
            raise MappingError(str(self.path), problems)
        return resolved


def _missing_column(names: list[str], columns: list[str], source: str) -> str:
    wanted = _(" or ").join(repr(n) for n in names)
    close = difflib.get_close_matches(names[0], columns, n=1, cutoff=0.6)
    if not close:
        close = [c for c in columns if header_key(names[0]) in header_key(c)][:1]
    if close:
        hint = _("; did you mean {name}?").format(name=repr(close[0]))
    else:
        hint = _("; the file has: {columns}").format(columns=", ".join(columns))
    return _("no column {names} in {file}").format(names=wanted, file=source) + hint


# --- parsing -----------------------------------------------------------------------------------
class _Parser:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[tuple[str, str]] = []
        self.maps: dict[str, AnyMapping[str, Any]] = {}
        self.map_labels: dict[str, tuple[str, ...]] = {}

    def fail(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def keys(self, raw: Any, allowed: tuple[str, ...], path: str) -> dict[str, Any]:
        if not isinstance(raw, dict):
            self.fail(
                path, _("expected a mapping of keys ({keys})").format(keys=", ".join(allowed))
            )
            return {}
        for key in raw:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
                hint = (
                    _("unknown key; did you mean {name}?").format(name=repr(close[0]))
                    if close
                    else _("unknown key; known: {keys}").format(keys=", ".join(allowed))
                )
                self.fail(f"{path}.{key}" if path else str(key), hint)
        return {k: v for k, v in raw.items() if k in allowed}  # unknown ones are reported

    def value_map(self, raw: Any, path: str) -> AnyMapping[str, Any] | None:
        if isinstance(raw, str):
            if raw not in self.maps:
                self.fail(path, _("no map named {name} under `maps:`").format(name=repr(raw)))
                return None
            return self.maps[raw]
        if not isinstance(raw, dict) or not raw:
            self.fail(path, _("a map needs `from: to` pairs (or the name of an entry of `maps:`)"))
            return None
        out: dict[str, Any] = {}
        for key, value in raw.items():
            text = "" if key is None else map_key(key)
            if text in out:
                self.fail(
                    path,
                    _("{key} appears twice (keys ignore case and spaces)").format(key=repr(key)),
                )
            out[text] = value
        return MappingProxyType(out)  # read-only, as the Mapping is

    def spec(self, raw: Any, path: str) -> ValueSpec | None:
        if isinstance(raw, str):
            return ValueSpec(path, columns=(raw,))
        if isinstance(raw, list) and raw and all(isinstance(c, str) for c in raw):
            return ValueSpec(path, columns=tuple(raw))  # alternative column names
        raw = self.keys(raw, SPEC_KEYS, path)
        if not raw:
            return None
        sources = [k for k in ("column", "value", "template") if k in raw]
        if len(sources) > 1:
            self.fail(
                path,
                _("use one of column, value, template (found {found})").format(
                    found=", ".join(sources)
                ),
            )
        if not sources and "default" not in raw:
            self.fail(path, _("needs `column`, `value`, `template` or `default`"))
        columns = raw.get("column")
        if isinstance(columns, str):
            columns = (columns,)
        elif isinstance(columns, list) and columns and all(isinstance(c, str) for c in columns):
            columns = tuple(columns)
        elif columns is not None:
            self.fail(f"{path}.column", _("a column name, or a list of alternative names"))
            columns = ()
        split = raw.get("split", ())
        if isinstance(split, str):
            split = (split,)
        if not isinstance(split, list | tuple) or not all(isinstance(s, str) and s for s in split):
            self.fail(f"{path}.split", _("a separator such as ',' or a list of separators"))
            split = ()
        formats = self.formats(raw.get("formats"), f"{path}.formats")
        template = raw.get("template")
        if template is not None and (
            not isinstance(template, str) or not TEMPLATE_PART.search(template)
        ):
            self.fail(
                f"{path}.template",
                _("a text with {example} placeholders").format(example="{Column}"),
            )
        allowed = raw.get("allowed", ())
        if not isinstance(allowed, list | tuple):
            self.fail(f"{path}.allowed", _("a list of permitted values"))
            allowed = ()
        return ValueSpec(
            path=path,
            columns=columns or (),
            value=raw.get("value"),
            template=template,
            default=raw.get("default"),
            map=self.value_map(raw["map"], f"{path}.map") if "map" in raw else None,
            map_labels=self.map_labels.get(raw["map"], ())
            if isinstance(raw.get("map"), str)
            else tuple(str(k) for k in raw["map"] if k != "*")
            if isinstance(raw.get("map"), dict)
            else (),
            split=tuple(split),
            lookup=self.lookup(raw.get("lookup"), f"{path}.lookup"),
            formats=formats,
            required=bool(raw.get("required", False)),
            allowed=tuple(str(a) for a in allowed),
        )

    def formats(self, raw: Any, path: str) -> tuple[str, ...]:
        """strptime formats: one text or a list of texts, each with a % directive."""
        values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else None
        if raw is None:
            return ()
        if values is None or not values:
            self.fail(path, _("a strptime format like '%d.%m.%Y', or a list of them"))
            return ()
        for fmt in values:
            if not isinstance(fmt, str) or "%" not in fmt:
                self.fail(
                    path,
                    _("{text} is not a strptime format like '%d.%m.%Y'").format(text=repr(fmt)),
                )
                return ()
        return tuple(values)

    def lookup(self, raw: Any, path: str) -> Lookup | None:
        if raw is None:
            return None
        kind: Any = raw if isinstance(raw, str) else None
        by: Any = None
        missing: Any = LOOKUP_MISSING[0]
        if isinstance(raw, dict):
            raw = self.keys(raw, ("kind", "by", "missing"), path)
            kind, by = raw.get("kind"), raw.get("by")
            missing = raw.get("missing", missing)
            if missing not in LOOKUP_MISSING:
                self.fail(
                    f"{path}.missing", _("one of {names}").format(names=", ".join(LOOKUP_MISSING))
                )
                return None
        if kind not in LOOKUP_KINDS:
            self.fail(
                path,
                _("unknown look-up {kind}; one of {names}").format(
                    kind=repr(kind), names=", ".join(LOOKUP_KINDS)
                ),
            )
            return None
        by = by or LOOKUP_KINDS[kind][0]
        if by not in LOOKUP_KINDS[kind]:
            self.fail(
                f"{path}.by",
                _("{kind} look-ups go by {names}").format(
                    kind=kind, names=", ".join(LOOKUP_KINDS[kind])
                ),
            )
            return None
        return Lookup(kind, by, missing)


def map_key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return " ".join(str(key).split()).casefold()


def _start(p: _Parser, raw: Any) -> StartSpec:
    """`start: Column`, `start: {column: …, formats: …}`, or `start: {date: …, time: …}`."""
    if raw is None:
        p.fail("start", _("the start is mandatory: a column, or `date` (and `time`)"))
        return StartSpec()
    if isinstance(raw, dict) and {"date", "time"} & set(raw):
        parts = p.keys(raw, ("date", "time"), "start")
        start = StartSpec(
            date=p.spec(parts["date"], "start.date") if "date" in parts else None,
            time=p.spec(parts["time"], "start.time") if "time" in parts else None,
        )
        if start.date is None:
            p.fail("start.date", _("a start time needs a date column beside it"))
        return start
    return StartSpec(column=p.spec(raw, "start"))


def _end(p: _Parser, raw: Any) -> EndSpec:
    """`end: Column`, `end: {column: …}`, or any of `time`, `duration`, `minutes`."""
    if raw is None:
        return EndSpec()
    if not isinstance(raw, dict) or not {"date", "time", "duration", "minutes"} & set(raw):
        return EndSpec(column=p.spec(raw, "end"))
    parts = p.keys(raw, ("column", "date", "time", "duration", "minutes"), "end")
    minutes = parts.get("minutes")
    if minutes is not None and (
        not isinstance(minutes, int | float) or isinstance(minutes, bool) or minutes <= 0
    ):
        p.fail("end.minutes", _("a positive number of minutes"))
        minutes = None
    specs = {k: p.spec(v, f"end.{k}") for k, v in parts.items() if k != "minutes"}
    return EndSpec(**specs, minutes=minutes)


def _fields(p: _Parser, raw: dict[str, Any]) -> dict[str, ValueSpec]:
    fields: dict[str, ValueSpec] = {}
    for name, value in p.keys(raw.get("fields") or {}, tuple(FIELD_KINDS), "fields").items():
        spec = p.spec(value, f"fields.{name}")
        if spec is None:
            continue
        if spec.lookup and spec.lookup.kind not in LOOKUP_TARGETS.get(name, set()):
            p.fail(
                f"fields.{name}.lookup",
                _("{field} cannot take a {kind} look-up").format(field=name, kind=spec.lookup.kind),
            )
        if spec.split and FIELD_KINDS[name] not in (ID_LIST, TEXT_LIST, ENUM_LIST):
            p.fail(
                f"fields.{name}.split", _("{field} takes one value, not a list").format(field=name)
            )
        fields[name] = spec
    return fields


def _location(p: _Parser, raw: dict[str, Any]) -> LocationSpec | None:
    location = None
    if "location" in raw:
        loc = raw["location"]
        kind = loc.get("type") if isinstance(loc, dict) else None
        if kind not in contract.LOCATION_KEYS:
            p.fail(
                "location.type",
                _("one of {names}").format(names=", ".join(contract.LOCATION_KEYS)),
            )
        rest = {k: v for k, v in loc.items() if k != "type"} if isinstance(loc, dict) else {}
        location = LocationSpec(str(kind), p.spec(rest, "location") if rest else None)
    return location


def _series(p: _Parser, raw: dict[str, Any]) -> SeriesSpec | None:
    series = None
    if "series" in raw:
        sraw = p.keys(raw["series"], ("repeat", "interval", "until", "exceptions"), "series")
        if "repeat" not in sraw:
            p.fail("series.repeat", _("a series needs `repeat` (daily/weekly/monthly/yearly)"))
        else:
            parts = {k: p.spec(v, f"series.{k}") for k, v in sraw.items()}
            repeat = parts.pop("repeat")
            if repeat is not None:
                series = SeriesSpec(repeat, **parts)
    return series


def _source(p: _Parser, raw: dict[str, Any]) -> dict[str, Any]:
    source = p.keys(
        raw.get("source") or {}, ("sheet", "header_row", "encoding", "delimiter"), "source"
    )
    if "header_row" in source and (
        not isinstance(source["header_row"], int) or source["header_row"] < 1
    ):
        p.fail("source.header_row", _("a row number, 1 or more"))
    if "sheet" in source and not isinstance(source["sheet"], str | int):
        p.fail("source.sheet", _("a sheet name or a position (1 = first)"))
    for key in ("encoding", "delimiter"):
        if key in source and not (isinstance(source[key], str) and source[key]):
            p.fail(f"source.{key}", _("a text such as 'cp1252' or ';'"))
    return source


def _row_key(p: _Parser, raw: dict[str, Any]) -> tuple[ValueSpec, ...]:
    row_key: tuple[ValueSpec, ...] = ()
    if "key" in raw:
        names = [raw["key"]] if isinstance(raw["key"], str) else raw["key"]
        if (
            not isinstance(names, list)
            or not names
            or not all(isinstance(n, str) and n.strip() for n in names)
        ):
            p.fail(
                "key", _("a column name, or a list of column names that together identify a row")
            )
        else:
            row_key = tuple(ValueSpec("key", columns=(n,)) for n in names)
    return row_key


def _options(p: _Parser, raw: dict[str, Any]) -> dict[str, Any]:
    opts = p.keys(raw.get("options") or {}, OPTION_KEYS, "options")
    if not isinstance(opts.get("reference", True), bool):
        p.fail("options.reference", _("true or false"))
    for key, allowed in OPTION_CHOICES.items():
        if opts.get(key, allowed[0]) not in allowed:
            p.fail(f"options.{key}", _("one of {names}").format(names=", ".join(allowed)))
    hours = opts.get("max_duration_hours", 24)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or hours <= 0:
        p.fail("options.max_duration_hours", _("a positive number of hours"))
    return opts


def load_mapping(path: str | Path) -> Mapping:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(str(path), [("", _("mapping file not found"))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(
            str(path), [("", _("cannot read the mapping file ({why})").format(why=exc))]
        ) from None
    phase("mapping")
    return mapping_from_text(text, path)


def mapping_from_text(text: str, path: str | Path) -> Mapping:
    """A mapping from its YAML text; ``path`` names it in messages (nothing is read)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = _("line {line}").format(line=mark.line + 1) if mark else ""
        why = _("not valid YAML: {why}").format(why=getattr(exc, "problem", exc))
        raise MappingError(str(path), [(where, why)]) from None
    return parse_mapping(raw, path, text)


def parse_mapping(raw: Any, path: Path, text: str = "") -> Mapping:
    p = _Parser(path)
    raw = p.keys(raw, TOP_KEYS, "")
    if raw.get("version", 1) != 1:
        p.fail("version", _("only version 1 is known"))
    for name, value in (
        p.keys(raw.get("maps") or {}, tuple(raw.get("maps") or {}), "maps")
    ).items():
        parsed = p.value_map(value, f"maps.{name}")
        if parsed is not None:
            p.maps[str(name)] = parsed
            if isinstance(value, dict):
                p.map_labels[str(name)] = tuple(str(k) for k in value if k != "*")

    start = _start(p, raw.get("start"))
    end = _end(p, raw.get("end"))
    all_day = p.spec(raw["all_day"], "all_day") if "all_day" in raw else None
    if not (end.column or end.time or end.duration or end.minutes or all_day):
        p.fail(
            "end",
            _(
                "say how the end is found: `column`, `time`, `duration` or `minutes` "
                "(or mark appointments all-day)"
            ),
        )

    fields = _fields(p, raw)

    location, series = _location(p, raw), _series(p, raw)

    timezone = ZoneInfo(contract.LOCAL_TIMEZONE)
    if "timezone" in raw:
        try:
            timezone = ZoneInfo(str(raw["timezone"]))
        except (ZoneInfoNotFoundError, ValueError):
            p.fail(
                "timezone",
                _("unknown time zone {zone} (e.g. Europe/Berlin)").format(
                    zone=repr(raw["timezone"])
                ),
            )
    given = p.keys(raw.get("formats") or {}, ("datetime", "date", "time", "dayfirst"), "formats")
    dayfirst = given.pop("dayfirst", None)
    if dayfirst is not None and not isinstance(dayfirst, bool):
        p.fail("formats.dayfirst", _("true (05/03/2027 is 5 March) or false (it is May 3)"))
        dayfirst = None
    formats = {k: p.formats(v, f"formats.{k}") for k, v in given.items()}
    source = _source(p, raw)
    row_key, opts = _row_key(p, raw), _options(p, raw)
    if p.problems:
        raise MappingError(str(path), p.problems)
    return Mapping(
        path=path,
        start=start,
        end=end,
        fields=MappingProxyType(fields),
        all_day=all_day,
        location=location,
        series=series,
        timezone=timezone,
        datetime_formats=tuple(formats.get("datetime") or DEFAULT_DATETIME_FORMATS),
        date_formats=tuple(formats.get("date") or DEFAULT_DATE_FORMATS),
        time_formats=tuple(formats.get("time") or DEFAULT_TIME_FORMATS),
        dayfirst=dayfirst,
        source=LoadOptions(
            sheet=source.get("sheet"),
            header_row=source.get("header_row"),
            encoding=source.get("encoding"),
            delimiter=source.get("delimiter"),
        ),
        options=Options(**opts),
        text=text,
        key=row_key,
    )
