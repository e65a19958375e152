"""Apply a mapping to a loaded table: every row becomes calendar create fields, or problems.

Works column by column (never ``iterrows``), memoising conversions of repeated values, and
collects every problem of every row as :class:`~importer.core.problems.RowProblem`. Look-ups run
through a :class:`~importer.mapping.lookup.Resolver` when one is given; without one (an offline
check) their fields are left out and listed in ``unresolved``. Start, end and series fields are
worked out in :mod:`importer.mapping.schedule`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd

from ..core import contract
from ..core.i18n import _
from ..core.problems import Level, RowProblem, shown
from ..source.load import Table
from . import schedule
from .lookup import Resolver
from .spec import (
    BOOL,
    DURATION,
    ENUM,
    ENUM_LIST,
    FIELD_KINDS,
    ID,
    ID_LIST,
    TEMPLATE_PART,
    TEXT_LIST,
    USER_NAME,
    Mapping,
    ValueSpec,
    map_key,
)
from .values import (
    ValueProblem,
    clean_text,
    format_duration,
    is_empty,
    key_text,
    parse_bool,
    parse_duration,
    parse_int,
)

_MISSING = object()
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
    unresolved: list[str] = field(default_factory=list)  # look-up kinds that did not run
    notices: list[str] = field(default_factory=list)  # checks onOffice did not answer
    allowed: dict[str, str] = field(default_factory=dict)  # field -> the account's values


class Conversion:
    """The conversion of one table through one mapping: what the stage helpers
    (:mod:`importer.mapping.schedule`) work with. ``values`` reads and converts a value spec for
    every row; ``fail``/``add`` record a row's problem; ``sources`` says which columns fed a
    field."""

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
        self.notices: list[str] = []
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
                code = self.table.cell_codes.get((row, column), "cell-error")
                self.fail(i, spec, code, why, values[i])
                values[i] = _MISSING
        for (row, column), why in self.table.cell_warnings.items():
            if column == header:
                i = self.position[row]
                self.fail(i, spec, "cell-warning", why, values[i], level=Level.WARNING)
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
                name = m.group(1).strip()
                column = self.columns[name.removeprefix("=").strip()]
                cells = self.table.frame[column].to_numpy().tolist()
                if name.startswith("="):
                    cells = self._translated(column, cells)
                parts.append([_as_text(v) for v in cells])
            pos = m.end()
        parts.append(spec.template[pos:])
        n = len(self.rows)
        columns = [p if isinstance(p, list) else [p] * n for p in parts]
        texts = ("".join(t) for t in zip(*columns, strict=True))
        return [_tidy(text) or None for text in texts]

    def _translated(self, column: str, cells: list[Any]) -> list[Any]:
        """A template's ``{=COLUMN}``: each cell as the ``map:`` of the field that reads
        ``column`` translates it ("Besichtigungen" -> "Besichtigung"); a cell the map does not
        know stays as typed (that field reports it)."""
        spec = next(
            (
                s
                for s in self.mapping.fields.values()
                if s.map and s.columns and self.columns.get(s.columns[0]) == column
            ),
            None,
        )
        if spec is None or spec.map is None:
            return cells
        table = spec.map
        out = []
        for cell in cells:
            if is_empty(cell):
                out.append(cell)
                continue
            key = map_key(key_text(cell) if isinstance(cell, float) else cell)
            out.append(table.get(key, table.get("*", cell)))
        return out

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
                return _Failed("required-missing", _("the cell is empty; the mapping requires it"))
            return None
        converted = []
        for item in _split(cell, spec.split) if as_list else [cell]:
            result = self._one(spec, item, convert)
            if isinstance(result, ValueProblem):
                return _Failed(result.code, result.message, item)
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
                    labels = spec.map_labels or tuple(k for k in spec.map if k != "*")
                    known = ", ".join(labels[:8]) + (" …" if len(labels) > 8 else "")
                    return ValueProblem(
                        "value-not-mapped",
                        _("{value} is not a value known here; write one of: {known}").format(
                            value=shown(item), known=known
                        ),
                    )
            value = convert(item)
            if spec.allowed and str(value) not in spec.allowed:
                return ValueProblem(
                    "value-not-allowed",
                    _("{value} is not allowed here; write one of: {allowed}").format(
                        value=shown(item), allowed=", ".join(spec.allowed)
                    ),
                )
            return value
        except ValueProblem as problem:
            return problem

    # --- look-ups ---------------------------------------------------------------------------
    def resolve(self, spec: ValueSpec, keys: list[Any], target: str) -> list[Any]:
        """Replace look-up keys by ids (or user names for `von`)."""
        assert spec.lookup is not None
        if self.resolver is None:
            self.unresolved.append(spec.lookup.kind)
            return [None] * len(keys)
        flat = [k for v in keys if v is not None for k in (v if isinstance(v, list) else [v])]
        found = self.resolver.resolve(spec.lookup.kind, spec.lookup.by, flat)
        out: list[Any] = []
        for i, value in enumerate(keys):
            if value is None:
                out.append(None)
                continue
            ids: list[Any] = []
            for key in value if isinstance(value, list) else [value]:
                resolution = found[key]
                if resolution.candidate is None:
                    self.fail(i, spec, resolution.code, resolution.message, key, target=target)
                    break
                c = resolution.candidate
                ids.append(c.name if target == "von" else c.id)
            else:  # every key resolved
                out.append(ids if isinstance(value, list) else ids[0])
                continue
            out.append(None)
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


def normalised(name: str, value: Any) -> Any:
    """A cell as the field ``name`` (status, erinnerung, reminderTypes) reads it: "1 Std" is
    "1 hours" (the form shows which values onOffice will take as they are written)."""
    return _enum_converter(name)(value)


CONVERTERS: dict[str, Callable[[str], Callable[[Any], Any]]] = {
    BOOL: lambda name: parse_bool,
    DURATION: lambda name: _duration,
    ENUM: _enum_converter,
    ENUM_LIST: _enum_converter,
    ID: lambda name: parse_int,
    ID_LIST: lambda name: parse_int,
}


def _tidy(text: str) -> str:
    """A filled template: no double spaces where a column was empty, line breaks the template
    wrote kept (one empty line at most)."""
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def convert(
    mapping: Mapping, table: Table, resolver: Resolver | None = None, *, now: datetime | None = None
) -> Converted:
    """Every row of ``table`` through ``mapping``. ``now`` decides what is in the past."""
    columns = mapping.check_columns(table.columns, str(table.path))
    run = Conversion(mapping, table, columns, resolver, now or contract.local_now())
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
    schedule.start_and_end(run, all_day, data)

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
        if name == contract.TYPE_FIELD:
            values = _account_types(run, spec, values)
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
    if mapping.options.leaves_out_channels and "reminderTypes" in data:
        reminders = data.get("erinnerung") or [None] * n
        data["reminderTypes"] = [
            types if reminder is not None else None
            for types, reminder in zip(data["reminderTypes"], reminders, strict=True)
        ]
    if mapping.location:
        _location(run, data)
    if mapping.series:
        schedule.series(run, data)
    frame = pd.DataFrame(data, index=pd.Index(run.rows, name="row"), dtype=object)
    unresolved = list(dict.fromkeys(run.unresolved))
    allowed = {}
    if run.resolver is not None and "art" in mapping.fields and not run.resolver.types().unknown:
        allowed[contract.TYPE_FIELD] = run.resolver.types().shown()
    return Converted(frame, run.sources, run.problems, unresolved, run.notices, allowed)


def _account_types(run: Conversion, spec: ValueSpec, values: list[Any]) -> list[Any]:
    """Appointment types as the account has them (§6.6): a row may write a type's key or its
    label; it is sent as the key. A value that is neither is a row error naming the types.
    Where onOffice does not list them, they go as written, and the check says so once."""
    if run.resolver is None:
        run.unresolved.append("type")
        return values
    types = run.resolver.types()
    if types.unknown:
        run.notices.append(
            _("the appointment types were not checked against onOffice: {why}").format(
                why=types.unknown
            )
        )
        return values
    keys = {v: types.match(v) for v in dict.fromkeys(v for v in values if isinstance(v, str))}
    out: list[Any] = []
    for i, value in enumerate(values):
        key = keys.get(value) if isinstance(value, str) else None
        if value is not None and key is None:
            message = _(
                "{value} is not an appointment type of this onOffice account; write one of: {types}"
            )
            run.fail(
                i,
                spec,
                "type-not-found",
                message.format(value=shown(value), types=types.shown()),
                value,
                target=contract.TYPE_FIELD,
            )
        out.append(key)
    return out


def _clean(run: Conversion, i: int, spec: ValueSpec, name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    cleaned, changed = clean_text(value)
    if changed:
        run.fail(
            i,
            spec,
            "invisible-characters-removed",
            _("invisible or control characters were taken out of the text"),
            value,
            Level.WARNING,
            name,
        )
    return cleaned


# --- location ---------------------------------------------------------------------------------
def _location(run: Conversion, data: dict[str, list[Any]]) -> None:
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
