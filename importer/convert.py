"""Apply a mapping to a loaded table: every row becomes calendar create fields, or problems.

Works column by column (never ``iterrows``), memoising conversions of repeated values, and
collects every problem of every row as :class:`~importer.problems.RowProblem`. Look-ups run
through a :class:`~importer.lookup.Resolver` when one is given; without one (an offline check)
their fields are left out and listed in ``unresolved``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd

from . import contract
from .load import Table
from .lookup import Resolver
from .mapping import (
    BOOL,
    DURATION,
    ENUM,
    ENUM_LIST,
    FIELD_KINDS,
    ID,
    ID_LIST,
    REPEAT_WORDS,
    TEMPLATE_PART,
    TEXT_LIST,
    USER_NAME,
    Mapping,
    ValueSpec,
    map_key,
)
from .problems import Level, RowProblem, shown
from .values import (
    ValueProblem,
    clean_text,
    format_duration,
    is_empty,
    key_text,
    local_time_problem,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_duration,
    parse_int,
    parse_time,
)

_MISSING = object()
_END_OF_DAY = object()  # an end time of 24:00
_REMINDER = re.compile(
    r"^(\d+)\s*(m|min|mins|minute|minuten|minutes|h|std|stunde|stunden|hour|hours|"
    r"t|tag|tage|day|days|w|woche|wochen|week|weeks)\.?$",
    re.IGNORECASE,
)
_REMINDER_UNITS = {
    "m": "minutes",
    "h": "hours",
    "s": "hours",
    "t": "days",
    "d": "days",
    "w": "weeks",
}
_STATUS_WORDS = {
    "aktiv": "active",
    "offen": "active",
    "erledigt": "completed",
    "abgeschlossen": "completed",
    "abgesagt": "canceled",
    "storniert": "canceled",
    "cancelled": "canceled",
}


def normalise_reminder(text: str) -> str:
    """``15 Min``/``1 Stunde``/``2 Tage`` -> ``15 minutes``/``1 hours``/``2 days``."""
    match = _REMINDER.match(" ".join(text.split()))
    if not match:
        return text
    return f"{int(match.group(1))} {_REMINDER_UNITS[match.group(2)[0].lower()]}"


@dataclass
class Converted:
    """The fields of every row, their source columns, and what went wrong where."""

    fields: pd.DataFrame  # index = row numbers; columns = API fields; None = not sent
    sources: dict[str, tuple[str, ...]]  # API field -> source columns
    problems: list[RowProblem] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # fields whose look-ups did not run


class _Run:
    def __init__(
        self,
        mapping: Mapping,
        table: Table,
        columns: dict[str, str],
        resolver: Resolver | None,
        now: datetime,
    ) -> None:
        self.mapping, self.table, self.columns, self.resolver = mapping, table, columns, resolver
        self.now = now
        self.rows = table.row_numbers
        self.position = {row: i for i, row in enumerate(self.rows)}
        self.problems: list[RowProblem] = []
        self.failed: set[int] = set()  # row numbers with an error so far
        self.unresolved: list[str] = []
        self.sources: dict[str, tuple[str, ...]] = {}

    # --- raw values -----------------------------------------------------------------------------
    def used_columns(self, spec: ValueSpec) -> tuple[str, ...]:
        if spec.columns:
            return (self.columns[spec.columns[0]],)
        return tuple(self.columns[c] for c in spec.template_columns())

    def raw(self, spec: ValueSpec) -> list[Any]:
        """The cell (or constant, or filled template) of every row, with Excel cell errors."""
        n = len(self.rows)
        if spec.value is not None:
            return [spec.value] * n
        if spec.template is not None:
            return self._template(spec)
        if not spec.columns:
            return [None] * n
        header = self.columns[spec.columns[0]]
        values = self.table.frame[header].to_numpy().tolist()
        for (row, column), why in self.table.cell_errors.items():
            if column == header and why:
                i = self.position[row]
                self.fail(i, spec, "cell-error", why, values[i])
                values[i] = _MISSING
        return values

    def _template(self, spec: ValueSpec) -> list[Any]:
        assert spec.template is not None
        parts: list[str | list[Any]] = []
        pos = 0
        for m in TEMPLATE_PART.finditer(spec.template):
            parts.append(spec.template[pos : m.start()])
            if m.group(1) is None:
                parts.append(m.group(0)[0])
            else:
                column = self.columns[m.group(1).strip()]
                parts.append([_as_text(v) for v in self.table.frame[column].to_numpy().tolist()])
            pos = m.end()
        parts.append(spec.template[pos:])
        n = len(self.rows)
        columns = [p if isinstance(p, list) else [p] * n for p in parts]
        texts = ("".join(t) for t in zip(*columns, strict=True))
        return [" ".join(text.split()) or None for text in texts]

    def fail(
        self,
        i: int,
        spec: ValueSpec | None,
        code: str,
        message: str,
        value: Any = None,
        level: Level = Level.ERROR,
        target: str | None = None,
    ) -> None:
        columns = self.used_columns(spec) if spec else ()
        self.add(RowProblem(self.rows[i], columns, code, message, value, level, target))

    def add(self, problem: RowProblem) -> None:
        self.problems.append(problem)
        if problem.is_error:
            self.failed.add(problem.row)

    def had_error(self, i: int) -> bool:
        return self.rows[i] in self.failed

    # --- one value spec -------------------------------------------------------------------------
    def values(
        self, spec: ValueSpec, convert: Callable[[Any], Any], target: str, *, as_list: bool = False
    ) -> list[Any]:
        """Default, split, map, convert and check ``allowed``; None where empty or failed.

        A column repeats its values (agents, kinds, dates), so each distinct cell is worked out
        once and the rows only look their outcome up.
        """
        raw = self.raw(spec)
        keys = [c if c.__class__ is str else _NONE if c is None else _key(c) for c in raw]
        outcomes = {
            key: self._cell(spec, cell, convert, target, as_list)
            for key, cell in dict(zip(keys, raw, strict=True)).items()
        }
        out = [outcomes[key] for key in keys]
        failed = {key for key, outcome in outcomes.items() if outcome.__class__ is _Failed}
        if failed:
            for i, key in enumerate(keys):
                if key in failed:
                    why = out[i]
                    if why.code:
                        self.fail(i, spec, why.code, why.message, why.value, target=target)
                    out[i] = None
        if as_list:  # each row its own list
            out = [None if v is None else list(v) for v in out]
        return out

    def _cell(
        self, spec: ValueSpec, cell: Any, convert: Callable[[Any], Any], target: str, as_list: bool
    ) -> Any:
        """One cell's converted value (None when empty), or why it failed."""
        if cell is _MISSING:
            return _Failed()  # a cell error, already reported
        if is_empty(cell):
            cell = spec.default
        if is_empty(cell):
            if spec.required:
                return _Failed("required-missing", f"{target} is required but empty")
            return None
        converted = []
        for item in _split(cell, spec.split) if as_list else [cell]:
            result = self._one(spec, item, convert)
            if isinstance(result, ValueProblem):
                return _Failed(result.code, f"{target}: {result.message}", item)
            converted.append(result)
        return converted if as_list else converted[0]

    def _one(self, spec: ValueSpec, item: Any, convert: Callable[[Any], Any]) -> Any:
        try:
            if spec.map is not None:
                key = map_key(key_text(item) if isinstance(item, float) else item)
                if key in spec.map:
                    item = spec.map[key]
                elif "*" in spec.map:
                    item = spec.map["*"]
                else:
                    known = ", ".join(repr(k) for k in list(spec.map)[:8] if k != "*")
                    return ValueProblem(
                        "value-not-mapped", f"{shown(item)} is not in the map (known: {known})"
                    )
            value = convert(item)
            if spec.allowed and str(value) not in spec.allowed:
                return ValueProblem(
                    "value-not-allowed", f"{shown(value)} is not one of {', '.join(spec.allowed)}"
                )
            return value
        except ValueProblem as problem:
            return problem

    # --- look-ups ---------------------------------------------------------------------------
    def resolve(self, spec: ValueSpec, keys: list[Any], target: str) -> list[Any]:
        """Replace look-up keys by ids (or user names for `von`)."""
        assert spec.lookup is not None
        if self.resolver is None:
            self.unresolved.append(target)
            return [None] * len(keys)
        flat = [k for v in keys if v is not None for k in (v if isinstance(v, list) else [v])]
        found = self.resolver.resolve(spec.lookup.kind, spec.lookup.by, flat)
        out: list[Any] = []
        for i, value in enumerate(keys):
            if value is None:
                out.append(None)
                continue
            ids = []
            for key in value if isinstance(value, list) else [value]:
                resolution = found[key]
                if resolution.candidate is None:
                    self.fail(i, spec, resolution.code, resolution.message, key, target=target)
                    ids = None
                    break
                c = resolution.candidate
                ids.append(c.name if target == "von" else c.id)
            out.append(None if ids is None else (ids if isinstance(value, list) else ids[0]))
        return out


_NONE = (type(None), None)


def _key(cell: Any) -> Any:
    """What equal cells share: type and value (1, 1.0 and True differ); unhashable ones are
    their own key."""
    if isinstance(cell, str | int | float | bool | date | time | timedelta):
        return (type(cell), cell)
    return object()


@dataclass(frozen=True)
class _Failed:
    """A cell that gives no value: ``code`` says why (empty when it was reported already)."""

    code: str = ""
    message: str = ""
    value: Any = None


def _as_text(value: Any) -> str:
    if is_empty(value):
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _split(cell: Any, separators: Sequence[str]) -> list[Any]:
    if not separators or not isinstance(cell, str):
        return [cell]
    parts = [cell]
    for sep in separators:
        parts = [p for part in parts for p in part.split(sep)]
    return [p.strip() for p in parts if p.strip()]


# --- conversions per field kind ----------------------------------------------------------------
def _enum_converter(name: str) -> Callable[[Any], Any]:
    def convert(value: Any) -> str:
        text = " ".join(_as_text(value).split())
        if name == "erinnerung":
            return normalise_reminder(text)
        if name == "status":
            return _STATUS_WORDS.get(text.casefold(), text)
        if name == "reminderTypes":
            return text.casefold().replace("-", "").replace(" ", "")
        return text

    return convert


def _duration(value: Any) -> str:
    return format_duration(parse_duration(value))


CONVERTERS: dict[str, Callable[[str], Callable[[Any], Any]]] = {
    BOOL: lambda name: parse_bool,
    DURATION: lambda name: _duration,
    ENUM: _enum_converter,
    ENUM_LIST: _enum_converter,
    ID: lambda name: parse_int,
    ID_LIST: lambda name: parse_int,
}


def convert(
    mapping: Mapping, table: Table, resolver: Resolver | None = None, *, now: datetime | None = None
) -> Converted:
    """Every row of ``table`` through ``mapping``. ``now`` decides what is in the past."""
    columns = mapping.check_columns(table.columns, str(table.path))
    run = _Run(mapping, table, columns, resolver, now or datetime.now())
    n = len(run.rows)
    data: dict[str, list[Any]] = {}

    all_day = [
        bool(v)
        for v in (
            run.values(mapping.all_day, parse_bool, "all-day") if mapping.all_day else [False] * n
        )
    ]
    if "ganztags" in mapping.fields:
        flags = run.values(mapping.fields["ganztags"], parse_bool, "ganztags")
        all_day = [a or bool(f) for a, f in zip(all_day, flags, strict=True)]
    _dates(run, all_day, data)

    for name, spec in mapping.fields.items():
        if name == "ganztags":
            continue
        kind = FIELD_KINDS[name]
        if spec.lookup:
            keys = run.values(spec, key_text, name, as_list=kind in (ID_LIST, TEXT_LIST))
            values = run.resolve(spec, keys, name)
        elif kind in CONVERTERS:
            values = run.values(
                spec, CONVERTERS[kind](name), name, as_list=kind in (ID_LIST, ENUM_LIST)
            )
        else:
            values = run.values(spec, _as_text, name, as_list=kind == TEXT_LIST)
            if kind not in (TEXT_LIST, USER_NAME):
                values = [_clean(run, i, spec, name, v) for i, v in enumerate(values)]
        data[name] = values
        run.sources[name] = run.used_columns(spec)
    if any(all_day):
        data["ganztags"] = [True if a else None for a in all_day]
        run.sources["ganztags"] = tuple(
            c
            for s in (mapping.all_day, mapping.fields.get("ganztags"))
            if s
            for c in run.used_columns(s)
        )
    if mapping.location:
        _location(run, data)
    if mapping.series:
        _series(run, data)
    frame = pd.DataFrame(data, index=pd.Index(run.rows, name="row"), dtype=object)
    return Converted(frame, run.sources, run.problems, list(dict.fromkeys(run.unresolved)))


def _clean(run: _Run, i: int, spec: ValueSpec, name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    cleaned, changed = clean_text(value)
    if changed:
        run.fail(
            i,
            spec,
            "invisible-characters-removed",
            f"{name}: invisible or control characters were removed",
            value,
            Level.WARNING,
            name,
        )
    return cleaned


# --- start and end -----------------------------------------------------------------------------
def _dates(run: _Run, all_day: list[bool], data: dict[str, list[Any]]) -> None:
    m = run.mapping
    fmt = m.datetime_formats
    starts: list[datetime | None]
    if m.start.column:
        spec = m.start.column
        formats = spec.formats or fmt
        raw_dates = run.values(spec, lambda v: _datetime_or_date(v, formats, m), "start")
        starts = [_at_midnight(v, all_day[i], run, i, spec) for i, v in enumerate(raw_dates)]
        start_cols = run.used_columns(spec)
    else:
        assert m.start.date is not None
        dspec = m.start.date
        days = run.values(dspec, lambda v: parse_date(v, dspec.formats or m.date_formats), "date")
        times = (
            run.values(
                m.start.time,
                lambda v: parse_time(
                    v,
                    m.start.time.formats  # type: ignore[union-attr]
                    or m.time_formats,
                ),
                "start time",
            )
            if m.start.time
            else [None] * len(days)
        )
        starts = []
        for i, (d, t) in enumerate(zip(days, times, strict=True)):
            if d is None:
                starts.append(None)
            elif t is None and not all_day[i]:
                if m.start.time and not run.had_error(i):
                    run.fail(
                        i,
                        m.start.time,
                        "start-time-missing",
                        "start time is empty (or mark the appointment all-day)",
                    )
                elif not m.start.time:
                    run.fail(
                        i,
                        dspec,
                        "date-without-time",
                        "a date without a time; add a `start.time` column or mark it all-day",
                    )
                starts.append(None)
            else:
                starts.append(datetime.combine(d, t or time(0)))
        start_cols = run.used_columns(dspec) + (
            run.used_columns(m.start.time) if m.start.time else ()
        )
    ends = _ends(run, starts, all_day)
    for i, s in enumerate(starts):
        if s is None:
            continue
        if all_day[i]:
            starts[i] = datetime.combine(s.date(), time(0))
            end_day = ends[i].date() if ends[i] else s.date()
            ends[i] = datetime.combine(end_day, time(23, 59, 59))
        _check_times(run, i, starts[i], ends[i])
    # isoformat() spells contract.DATETIME_FORMAT for naive times, five times faster
    data["start_dt"] = [s.isoformat(" ", "seconds") if s else None for s in starts]
    data["end_dt"] = [e.isoformat(" ", "seconds") if e else None for e in ends]
    run.sources["start_dt"] = start_cols
    run.sources["end_dt"] = run.sources.pop("_end", ()) or start_cols


def _datetime_or_date(value: Any, formats: tuple[str, ...], m: Mapping) -> datetime | date:
    try:
        return parse_datetime(value, formats, m.timezone)
    except ValueProblem as problem:
        if problem.code != "date-without-time" and not isinstance(value, str):
            raise
        try:
            return parse_date(value, m.date_formats)  # a date alone: fine for all-day rows
        except ValueProblem:
            raise problem from None


def _at_midnight(value: Any, all_day: bool, run: _Run, i: int, spec: ValueSpec) -> Any:
    if isinstance(value, datetime) or value is None:
        return value
    if all_day:
        return datetime.combine(value, time(0))
    run.fail(
        i,
        spec,
        "date-without-time",
        "a date without a time; add a time or mark the appointment all-day",
        value,
    )
    return None


def _ends(run: _Run, starts: list[datetime | None], all_day: list[bool]) -> list[Any]:
    m = run.mapping
    e = m.end
    n = len(starts)
    ends: list[Any] = [None] * n
    cols: tuple[str, ...] = ()
    if e.column:
        formats = e.column.formats or m.datetime_formats
        vals = run.values(e.column, lambda v: _datetime_or_date(v, formats, m), "end")
        for i, v in enumerate(vals):
            ends[i] = _at_midnight(v, all_day[i], run, i, e.column) if v is not None else None
        cols += run.used_columns(e.column)
    if e.time:
        tspec = e.time
        times = run.values(
            tspec,  # parse_time gives None for 24:00 (only an end may be that)
            lambda v: parse_time(v, tspec.formats or m.time_formats, allow_24=True) or _END_OF_DAY,
            "end time",
        )
        for i, t in enumerate(times):
            s = starts[i]
            if ends[i] is not None or s is None or t is None:
                continue
            if t is _END_OF_DAY:
                ends[i] = datetime.combine(s.date() + timedelta(days=1), time(0))
            else:
                ends[i] = datetime.combine(s.date(), t)
        cols += run.used_columns(tspec)
    if e.duration:
        lengths = run.values(e.duration, parse_duration, "duration")
        for i, d in enumerate(lengths):
            if ends[i] is None and d is not None and starts[i] is not None:
                ends[i] = starts[i] + d
        cols += run.used_columns(e.duration)
    for i in range(n):
        if ends[i] is None and starts[i] is not None:
            if e.minutes:
                ends[i] = starts[i] + timedelta(minutes=e.minutes)
            elif not all_day[i] and not run.had_error(i):
                spec = e.time or e.column or e.duration
                run.fail(
                    i,
                    spec,
                    "end-missing",
                    "the end is empty and the mapping gives no default duration (`end.minutes`)",
                )
    run.sources["_end"] = cols
    return ends


def _check_times(run: _Run, i: int, start: datetime, end: datetime | None) -> None:
    """Clock changes, odd lengths and the past: problems of the start/end columns."""
    m = run.mapping

    def note(code: str, message: str, value: Any, level: Level, field: str) -> None:
        run.add(RowProblem(run.rows[i], _start_columns(run), code, message, value, level, field))

    for value in (start, end):
        problem = local_time_problem(value, m.timezone) if value is not None else None
        if problem:
            level = Level.ERROR if problem.code == "time-does-not-exist" else Level.WARNING
            note(problem.code, problem.message, value, level, "start_dt")
    if end is not None:
        length = end - start
        all_day = (end.time(), start.time()) == (time(23, 59, 59), time(0))
        if length > timedelta(hours=m.options.max_duration_hours) and not m.series:
            if not all_day:
                note(
                    "long-appointment",
                    f"the appointment lasts {length}; check start and end",
                    None,
                    Level.WARNING,
                    "end_dt",
                )
        elif length == timedelta(0):
            note("zero-length", "start and end are the same", None, Level.WARNING, "end_dt")
    if start < run.now and m.options.past != "allow":
        level = Level.ERROR if m.options.past == "error" else Level.WARNING
        note(
            "in-the-past",
            f"the appointment starts in the past ({start:%d.%m.%Y})",
            None,
            level,
            "start_dt",
        )


def _start_columns(run: _Run) -> tuple[str, ...]:
    s = run.mapping.start
    return tuple(c for spec in (s.column, s.date, s.time) if spec for c in run.used_columns(spec))


# --- location and series -----------------------------------------------------------------------
def _location(run: _Run, data: dict[str, list[Any]]) -> None:
    loc = run.mapping.location
    assert loc is not None
    n = len(run.rows)
    if loc.value is None:
        data["location"] = [{loc.type: True if loc.type == "mandant" else ""}] * n
        run.sources["location"] = ()
        return
    spec = loc.value
    if loc.type in contract.LOCATION_ID_KEYS:
        if spec.lookup:
            values = run.resolve(spec, run.values(spec, key_text, "location"), "location")
        else:
            values = run.values(spec, parse_int, "location")
    elif loc.type == "mandant":
        values = run.values(spec, parse_bool, "location")
    else:
        values = [
            _clean(run, i, spec, "location", v)
            for i, v in enumerate(run.values(spec, _as_text, "location"))
        ]
    data["location"] = [None if v is None else {loc.type: v} for v in values]
    run.sources["location"] = run.used_columns(spec)


def _series(run: _Run, data: dict[str, list[Any]]) -> None:
    s = run.mapping.series
    assert s is not None
    m = run.mapping

    def repeat(value: Any) -> str:
        text = str(value).strip()
        word = REPEAT_WORDS.get(text.casefold())
        return word if word else text  # an unknown word fails the schema's rp_type rule

    types = run.values(s.repeat, repeat, "repeat")
    tage = run.values(s.interval, parse_int, "interval") if s.interval else [None] * len(types)
    until = (
        run.values(
            s.until,
            lambda v: parse_date(v, s.until.formats or m.date_formats),  # type: ignore[union-attr]
            "until",
        )
        if s.until
        else [None] * len(types)
    )
    exceptions = (
        run.values(
            s.exceptions,
            lambda v: parse_date(
                v,
                s.exceptions.formats  # type: ignore[union-attr]
                or m.date_formats,
            ),
            "exceptions",
            as_list=True,
        )
        if s.exceptions
        else [None] * len(types)
    )
    cols = {
        "rp_type": s.repeat,
        "rp_tage": s.interval,
        "rp_ende_datum": s.until,
        "rp_exception": s.exceptions,
    }
    out: dict[str, list[Any]] = {k: [] for k in contract.RP_FIELDS}
    for i, kind in enumerate(types):
        start = data["start_dt"][i]
        if kind is None:
            if exceptions[i] or until[i]:
                run.fail(
                    i,
                    s.repeat,
                    "series-without-repeat",
                    "an until date or exceptions are given but no repeat",
                )
            for values in out.values():
                values.append(None)
            continue
        out["rp_flag"].append(True)
        out["rp_type"].append(kind)
        out["rp_tage"].append(tage[i] if tage[i] is not None else 1)
        out["rp_beginn_datum"].append(start[:10] if start else None)
        out["rp_ende_datum"].append(until[i].isoformat() if until[i] else None)
        out["rp_ende_status"].append(1 if until[i] else 2)
        out["rp_exception"].append(
            "".join(f"#{d.isoformat()}" for d in exceptions[i]) if exceptions[i] else None
        )
    data.update(out)
    start_cols = run.sources["start_dt"]
    for name in out:
        spec = cols.get(name)
        run.sources[name] = run.used_columns(spec) if spec else run.used_columns(s.repeat)
    run.sources["rp_beginn_datum"] = start_cols
