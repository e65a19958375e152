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
from ..core.problems import UNCONFIRMED, Level, RowProblem, shown
from ..onoffice.learned import Learned
from ..source.load import Table
from . import schedule
from .lookup import Choices, Resolver, spelled
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
    OrderEvidence,
    ValueProblem,
    clean_text,
    day_first,
    format_duration,
    in_order,
    is_empty,
    key_text,
    order_sensitive,
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
    warnings: list[str] = field(default_factory=list)  # about the file (a day/month assumed)


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
        self.warnings: list[str] = []
        self.sources: dict[str, tuple[str, ...]] = {}
        self.orders: dict[str, bool] = {}  # column -> its slash dates are day first
        self.file_order: OrderEvidence | None = None  # every date column's together

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
            return self._cell_problems(spec, self._template(spec))
        if not spec.columns:
            return [None] * n
        header = self.columns[spec.columns[0]]
        return self._cell_problems(spec, self.table.frame[header].to_numpy().tolist())

    def _cell_problems(self, spec: ValueSpec, values: list[Any]) -> list[Any]:
        """The file's own errors and warnings of the cells a value is read from (a template
        reads several): reported on the row; a cell with an error gives no value."""
        used = set(self.used_columns(spec))
        for (row, column), why in self.table.cell_errors.items():
            if column in used and why and values[self.position[row]] is not _MISSING:
                i = self.position[row]
                code = self.table.cell_codes.get((row, column), "cell-error")
                self.fail(i, spec, code, why, values[i])
                values[i] = _MISSING
        for (row, column), why in self.table.cell_warnings.items():
            if column in used:
                i = self.position[row]
                self.fail(i, spec, "cell-warning", why, values[i], level=Level.WARNING)
        return values

    def _template(self, spec: ValueSpec) -> list[Any]:
        """The template filled for every row. A line of it whose columns are all empty in a
        row is left out of that row ("Teilnehmer: {Teilnehmer}" without attendees)."""
        assert spec.template is not None
        n = len(self.rows)
        lines: list[list[str | None]] = []
        for line in spec.template.split("\n"):
            parts: list[list[str]] = []
            blank = [True] * n  # every column of the line empty in that row
            pos, columns = 0, 0
            for m in TEMPLATE_PART.finditer(line):
                parts.append([line[pos : m.start()]] * n)
                if m.group(1) is None:
                    parts.append([m.group(0)[0]] * n)
                else:
                    name = m.group(1).strip()
                    column = self.columns[name.removeprefix("=").strip()]
                    raw = self.table.frame[column].to_numpy().tolist()
                    if name.startswith("="):  # {=COLUMN}: the cell as its field maps it
                        raw = self._translated(column, raw)
                    cells = _texts(raw)
                    blank = [b and not c.strip() for b, c in zip(blank, cells, strict=True)]
                    parts.append(cells)
                    columns += 1
                pos = m.end()
            parts.append([line[pos:]] * n)
            texts = ["".join(t) for t in zip(*parts, strict=True)]
            lines.append([None if columns and b else t for t, b in zip(texts, blank, strict=True)])
        rows = (("\n".join(t for t in row if t is not None)) for row in zip(*lines, strict=True))
        return [_tidy(text) or None for text in rows]

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

    # --- day and month -----------------------------------------------------------------------
    def date_formats(self, spec: ValueSpec | None, formats: tuple[str, ...]) -> tuple[str, ...]:
        """``formats`` for ``spec``'s column with the order of day and month decided, where a
        format leaves it open (05/03/2027): by the mapping's ``dayfirst``, else by the column's
        values (13/04/2027 proves day/month), else by the file's other date columns, else as
        the mapping's first such format writes it, with a warning naming that assumption.
        Never a silent swap: a date the decided order cannot read is an error (`date-order`)."""
        if spec is None or not spec.columns or day_first(formats) is None:
            return formats
        header = self.columns[spec.columns[0]]
        if header not in self.orders:
            self.orders[header] = self._order(header, formats)
        return in_order(formats, self.orders[header])

    def _order(self, header: str, formats: tuple[str, ...]) -> bool:
        said = self.mapping.dayfirst
        if said is not None:
            return said
        own = _evidence([header], self.table)
        if own.proves is not None:
            return own.proves
        if self.file_order is None:
            self.file_order = _evidence(_date_columns(self), self.table)
        if self.file_order.proves is not None:
            return self.file_order.proves
        assumed = bool(day_first(formats))
        order = _("day/month") if assumed else _("month/day")
        say = _(
            "Say the order in the mapping: `formats: {{dayfirst: true}}` (day/month) or false "
            "(month/day)"
        ).format()
        if own.day_first and own.month_first:
            self.warnings.append(
                _(
                    "column {column} has dates with the day first ({day}) and with the month "
                    "first ({month}); they are read {order}, and the others are errors. {say}"
                ).format(
                    column=repr(header),
                    day=own.day_first,
                    month=own.month_first,
                    order=order,
                    say=say,
                )
            )
        elif self.file_order.either is not None and not self.orders:  # once for the file
            self.warnings.append(
                _(
                    "no date in the file tells whether day or month comes first ({example} could "
                    "be either); they are read {order}, as the mapping's format {format} writes "
                    "them. {say}"
                ).format(
                    example=self.file_order.either,
                    order=order,
                    format=next(f for f in formats if order_sensitive(f)),
                    say=say,
                )
            )
        return assumed

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
        """Replace look-up keys by ids (or user names for `von`). A key onOffice does not
        know fails its row, or (``missing: leave-out``) is left out of it with a warning."""
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
                if (
                    resolution.candidate is None
                    and spec.lookup.leaves_out
                    and (resolution.code.endswith("-not-found"))
                ):
                    self.fail(
                        i, spec, "left-out", _left_out(resolution), key, Level.WARNING, target
                    )
                    continue
                if resolution.candidate is None:
                    self.fail(i, spec, resolution.code, resolution.message, key, target=target)
                    break
                c = resolution.candidate
                ids.append(c if target == "attendees" else c.name if target == "von" else c.id)
            else:  # every key resolved (or left out)
                out.append((ids or None) if isinstance(value, list) else (ids or [None])[0])
                continue
            out.append(None)
        return out


def _left_out(resolution: Any) -> str:
    return _("{why}; left out of the appointment (the row is imported)").format(
        why=resolution.message
    )


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


def _texts(cells: list[Any]) -> list[str]:
    """:func:`_as_text` of every cell; a text cell (most are) without the call: it is itself,
    or "" when blank."""
    return [(v if v.strip() else "") if v.__class__ is str else _as_text(v) for v in cells]


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
    if "\n" not in text:  # one line (most rows): its words with one space between them
        return " ".join(text.split())
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
    if "attendees" in data:
        _attendees(run, data)
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
    if run.resolver is not None and "art" in mapping.fields:
        types = run.resolver.types()
        known = Choices(run.resolver.learned.choices()) if types.unknown else types
        if known.values:
            allowed[contract.TYPE_FIELD] = known.shown()
    resources = mapping.fields.get("ressources")
    if run.resolver is not None and resources is not None and resources.lookup:
        labels = [  # "Beamer (ind_Schl_3152)": the label a row writes, the key it sends
            c.keys[0] if c.keys[0] == c.id else f"{c.keys[0]} ({c.id})"
            for c in run.resolver.candidates("resource")  # fetched already
        ]
        allowed["ressources"] = ", ".join(labels[:12]) + (" …" if len(labels) > 12 else "")
    return Converted(
        frame, run.sources, run.problems, unresolved, run.notices, allowed, run.warnings
    )


def _evidence(headers: Sequence[str], table: Table) -> OrderEvidence:
    """What the slash dates of these columns say about their order (every distinct value)."""
    evidence = OrderEvidence()
    for header in headers:
        for value in dict.fromkeys(table.frame[header].to_numpy().tolist()):
            if isinstance(value, str):
                evidence.add(value)
    return evidence


def _date_columns(run: Conversion) -> list[str]:
    """The columns the mapping reads dates from (start, end, a series' end and exceptions)."""
    m = run.mapping
    specs: list[ValueSpec | None] = [m.start.column, m.start.date, m.end.column, m.end.date]
    if m.series is not None:
        specs += [m.series.until, m.series.exceptions]
    return list(dict.fromkeys(run.used_columns(s)[0] for s in specs if s and s.columns))


def _attendees(run: Conversion, data: dict[str, list[Any]]) -> None:
    """A calendar's people (``attendees``, look-up ``attendee``): the onOffice users among them
    become participants, the contacts are linked, beside what other fields give."""
    people = data.pop("attendees")
    columns = run.sources.pop("attendees")
    n = len(run.rows)
    for target, kind in (("subscribers.users", "user"), ("relatedAddressIds", "address")):
        have = data.get(target) or [None] * n
        merged = []
        for i, found in enumerate(people):
            ids = list(have[i] or [])
            ids += [c.id for c in found or [] if c.kind == kind and c.id not in ids]
            merged.append(ids or None)
        data[target] = merged
        run.sources[target] = tuple(dict.fromkeys(run.sources.get(target, ()) + columns))


def _account_types(run: Conversion, spec: ValueSpec, values: list[Any]) -> list[Any]:
    """Appointment types as the account has them (§6.6): a row may write a type's key or its
    label; it is sent as the key. A value that is neither is a row error naming the types; one
    that names two types is one naming both. Where onOffice does not list them, the types it
    has shown, taken or refused decide (:func:`_learned_types`)."""
    if run.resolver is None:
        run.unresolved.append("type")
        return values
    types = run.resolver.types()
    if types.unknown:
        return _learned_types(run, spec, values, types.unknown)
    keys = {v: types.find(v) for v in dict.fromkeys(v for v in values if isinstance(v, str))}
    out: list[Any] = []
    for i, value in enumerate(values):
        key, twins = keys.get(value, (None, [])) if isinstance(value, str) else (None, [])
        if value is not None and key is None:
            if twins:
                _ambiguous_type(run, i, spec, value, types, twins)
            else:
                message = _(
                    "{value} is not an appointment type of this onOffice account; write one of: "
                    "{types}"
                )
                run.fail(
                    i,
                    spec,
                    "type-not-found",
                    message.format(value=shown(value), types=types.shown(without=value)),
                    value,
                    target=contract.TYPE_FIELD,
                )
        out.append(key)
    return out


def _ambiguous_type(
    run: Conversion, i: int, spec: ValueSpec, value: str, types: Choices, twins: list[str]
) -> None:
    message = types.ambiguous(value, twins)
    run.fail(i, spec, "type-ambiguous", message, value, target=contract.TYPE_FIELD)


def _learned_types(run: Conversion, spec: ValueSpec, values: list[Any], why: str) -> list[Any]:
    """onOffice does not list its types: a type it has shown in an appointment or taken in a
    write is confirmed (sent as its key); one it refused is a row error until it shows it; any
    other goes as written, each cell marked unconfirmed (the check cannot vouch for it)."""
    assert run.resolver is not None
    learned = run.resolver.learned
    known = Choices(learned.choices())
    note = _("the appointment types were not checked against onOffice: {why}").format(why=why)
    if known.values:
        note += "; " + _("confirmed by what the account has shown or taken: {types}").format(
            types=known.shown()
        )
    run.notices.append(note)
    verdicts = {v: _verdict(v, learned, known) for v in set(values) if isinstance(v, str)}
    out: list[Any] = []
    for i, value in enumerate(values):
        if not isinstance(value, str):
            out.append(value)
            continue
        key, twins, answer = verdicts[value]
        if key is not None:  # confirmed; one taken before goes as it was written then
            out.append(key)
            continue
        out.append(None if twins or answer else value)
        if twins:
            _ambiguous_type(run, i, spec, value, known, twins)
        elif answer:
            message = _(
                "onOffice refused {value} as an appointment type ({answer}); write a type the "
                "account has: {types} (added in onOffice since? run with --retry-refused)"
            ).format(
                value=shown(value),
                answer=answer,
                types=known.shown(without=value) or _("none shown yet"),
            )
            run.fail(i, spec, "type-refused", message, value, target=contract.TYPE_FIELD)
        else:
            message = _(
                "onOffice does not list its appointment types and has not shown {value} yet: "
                "a run sends it as written, and onOffice may refuse it"
            ).format(value=shown(value))
            run.fail(
                i, spec, UNCONFIRMED, message, value, Level.WARNING, target=contract.TYPE_FIELD
            )
    return out


def _verdict(value: str, learned: Learned, known: Choices) -> tuple[str | None, list[str], str]:
    """(the key to send, [], "") for a confirmed type; (None, the keys, "") for a word two
    types answer to; (None, [], onOffice's answer) for one it refused; else (None, [], "")."""
    if value in learned.taken:
        return value, [], ""
    key, twins = known.find(value)
    if key is not None or twins:
        return key, twins, ""
    refused = {spelled(v): answer for v, answer in learned.refused.items()}
    return None, [], refused.get(spelled(value), "")


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
