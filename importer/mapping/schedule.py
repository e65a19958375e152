"""When: start, end, all-day and series fields of every row (a part of
:mod:`importer.mapping.convert`).

Start is one column or a date plus a time; the end a column, a time on the start's day (24:00
included), a duration or a default length. Each row is checked for clock changes, odd lengths
and the past. Series turn human columns (repeat, interval, until, exceptions) into ``rp_*``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from ..core import contract
from ..core.i18n import N_, _, duration, when
from ..core.problems import Level, RowProblem
from .spec import REPEAT_WORDS, Mapping, ValueSpec
from .values import (
    ValueProblem,
    local_time_problem,
    parse_date,
    parse_datetime,
    parse_duration,
    parse_int,
    parse_time,
)

if TYPE_CHECKING:
    from .convert import Conversion

_END_OF_DAY = object()  # an end time of 24:00


# --- start and end -----------------------------------------------------------------------------
def start_and_end(run: Conversion, all_day: list[bool], data: dict[str, list[Any]]) -> None:
    m = run.mapping
    fmt = m.datetime_formats
    starts: list[datetime | None]
    if m.start.column:
        spec = m.start.column
        formats = run.date_formats(spec, spec.formats or fmt)
        days_only = run.date_formats(spec, m.date_formats)
        raw_dates = run.values(
            spec, lambda v: _datetime_or_date(v, formats, m, days=days_only), "start"
        )
        starts = [_at_midnight(v, all_day[i], run, i, spec) for i, v in enumerate(raw_dates)]
        start_cols = run.used_columns(spec)
    else:
        assert m.start.date is not None
        dspec = m.start.date
        day_formats = run.date_formats(dspec, dspec.formats or m.date_formats)
        days = run.values(dspec, lambda v: parse_date(v, day_formats), "date")
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
                        _no_time(run, N_("the start time is empty; fill it in")),
                    )
                elif not m.start.time:
                    run.fail(
                        i,
                        dspec,
                        "date-without-time",
                        _no_time(run, N_("a date without a time; add the time")),
                    )
                starts.append(None)
            else:
                starts.append(datetime.combine(d, t or time(0)))
        start_cols = run.used_columns(dspec) + (
            run.used_columns(m.start.time) if m.start.time else ()
        )
    ends, end_cols, exclusive = _ends(run, starts, all_day)
    keep_end = m.options.keeps_all_day_end
    for i, s in enumerate(starts):
        if s is None:
            continue
        if all_day[i]:
            starts[i] = s = datetime.combine(s.date(), time(0))
            written = ends[i]
            if not (keep_end and written is not None and written.time() != time(0)):
                end_day = written.date() if written else s.date()
                if i in exclusive and end_day > s.date():
                    end_day -= timedelta(days=1)  # ends at midnight: the day before was its last
                ends[i] = datetime.combine(end_day, time(23, 59, 59))
        _check_times(run, i, s, ends[i], _end_columns(run, end_cols))
    # isoformat() spells contract.DATETIME_FORMAT for naive times, five times faster
    data["start_dt"] = [s.isoformat(" ", "seconds") if s else None for s in starts]
    data["end_dt"] = [e.isoformat(" ", "seconds") if e else None for e in ends]
    run.sources["start_dt"] = start_cols
    run.sources["end_dt"] = end_cols or start_cols


def _datetime_or_date(
    value: Any, formats: tuple[str, ...], m: Mapping, end: bool = False, *, days: tuple[str, ...]
) -> datetime | date:
    try:
        return parse_datetime(value, formats, m.timezone, allow_24=end)
    except ValueProblem as problem:
        if problem.code != "date-without-time" and not isinstance(value, str):
            raise
        try:
            return parse_date(value, days)  # a date alone: fine for all-day rows
        except ValueProblem:
            raise problem from None


def _no_time(run: Conversion, message: str) -> str:
    """What to do about a missing time: marking the row all-day only where the file can."""
    text = _(message)
    if run.mapping.all_day is not None:
        text += _(" (or mark the appointment all-day)")
    return text


def _at_midnight(value: Any, all_day: bool, run: Conversion, i: int, spec: ValueSpec) -> Any:
    if isinstance(value, datetime) or value is None:
        return value
    if all_day:
        return datetime.combine(value, time(0))
    run.fail(
        i,
        spec,
        "date-without-time",
        _no_time(run, N_("a date without a time; add the time")),
        value,
    )
    return None


def _ends(
    run: Conversion, starts: list[datetime | None], all_day: list[bool]
) -> tuple[list[Any], tuple[str, ...], set[int]]:
    """Each row's end, the columns it was taken from, and the rows whose end is a moment at
    midnight (an all-day appointment ends the day before)."""
    m = run.mapping
    e = m.end
    n = len(starts)
    ends: list[Any] = [None] * n
    exclusive: set[int] = set()  # rows whose end is a moment at midnight, not a whole day
    cols: tuple[str, ...] = ()
    if e.column:
        formats = run.date_formats(e.column, e.column.formats or m.datetime_formats)
        days_only = run.date_formats(e.column, m.date_formats)
        vals = run.values(
            e.column, lambda v: _datetime_or_date(v, formats, m, True, days=days_only), "end"
        )
        for i, v in enumerate(vals):
            ends[i] = _at_midnight(v, all_day[i], run, i, e.column) if v is not None else None
            if isinstance(v, datetime) and v.time() == time(0):
                exclusive.add(i)  # "06.03. 00:00" (or "05.03. 24:00") ends before 06.03.
        cols += run.used_columns(e.column)
    days: list[Any] = [None] * n  # the end's own day, where the file has a column for it
    if e.date:
        dspec = e.date
        day_formats = run.date_formats(dspec, dspec.formats or m.date_formats)
        days = run.values(dspec, lambda v: parse_date(v, day_formats), "date")
        cols += run.used_columns(dspec)
    if e.time:
        _end_times(run, e.time, starts, days, ends, exclusive)
        cols += run.used_columns(e.time)
    for i, day in enumerate(days):
        if ends[i] is None and day is not None and all_day[i]:
            ends[i] = datetime.combine(day, time(0))  # a date alone: that day is included
    if e.duration:
        lengths = run.values(e.duration, parse_duration, "duration")
        for i, d in enumerate(lengths):
            if ends[i] is None and d is not None and starts[i] is not None:
                ends[i] = starts[i] + d
        cols += run.used_columns(e.duration)
    for i, start in enumerate(starts):
        if ends[i] is None and start is not None:
            if e.minutes:
                ends[i] = start + timedelta(minutes=e.minutes)
            elif not all_day[i] and not run.had_error(i):
                spec = e.time or e.column or e.duration
                run.fail(
                    i,
                    spec,
                    "end-missing",
                    _("the end is empty; fill it in (or give the mapping a default duration)"),
                )
    return ends, cols, exclusive


def _end_times(
    run: Conversion,
    tspec: ValueSpec,
    starts: list[datetime | None],
    days: list[Any],
    ends: list[Any],
    exclusive: set[int],
) -> None:
    """End times on the end's own day (else the start's); 24:00 ends the day, and an end at
    midnight of an end date is where an all-day appointment stops (Outlook's)."""
    m = run.mapping
    times = run.values(
        tspec,  # parse_time gives None for 24:00 (only an end may be that)
        lambda v: parse_time(v, tspec.formats or m.time_formats, allow_24=True) or _END_OF_DAY,
        "end time",
    )
    for i, t in enumerate(times):
        s = starts[i]
        if ends[i] is not None or s is None or t is None:
            continue
        day = days[i] or s.date()
        if t is _END_OF_DAY:
            ends[i] = datetime.combine(day + timedelta(days=1), time(0))
            exclusive.add(i)
        else:
            ends[i] = datetime.combine(day, t)
            if t == time(0) and days[i] is not None:
                exclusive.add(i)  # Outlook's all-day end: midnight after the last day


def _check_times(
    run: Conversion, i: int, start: datetime, end: datetime | None, end_columns: tuple[str, ...]
) -> None:
    """Clock changes, odd lengths and the past: problems of the start/end columns (a clock
    change at the end names the end's cells)."""
    m = run.mapping

    def note(
        code: str, message: str, value: Any, level: Level, field: str, columns: tuple[str, ...]
    ) -> None:
        run.add(RowProblem(run.rows[i], columns, code, message, value, level, field))

    starts = _start_columns(run)
    for value, columns, field in ((start, starts, "start_dt"), (end, end_columns, "end_dt")):
        problem = local_time_problem(value, m.timezone) if value is not None else None
        if problem:
            level = Level.ERROR if problem.code == "time-does-not-exist" else Level.WARNING
            note(problem.code, problem.message, value, level, field, columns)
    if end is not None:
        length = end - start
        all_day = (end.time(), start.time()) == (time(23, 59, 59), time(0))
        if length > timedelta(hours=m.options.max_duration_hours) and not m.series:
            if not all_day:
                note(
                    "long-appointment",
                    _("the appointment lasts {length}; check the start and the end").format(
                        length=duration(length)
                    ),
                    None,
                    Level.WARNING,
                    "end_dt",
                    starts,
                )
        elif length == timedelta(0):
            note(
                "zero-length",
                _("the start and the end are the same"),
                None,
                Level.WARNING,
                "end_dt",
                starts,
            )
    if start < run.now and m.options.past != "allow":
        level = Level.ERROR if m.options.past == "error" else Level.WARNING
        note(
            "in-the-past",
            _("the appointment is in the past ({when})").format(when=when(start)),
            None,
            level,
            "start_dt",
            starts,
        )


def _end_columns(run: Conversion, end_columns: tuple[str, ...]) -> tuple[str, ...]:
    """The cells an end is read from: its own column or time (with its date), else the start's
    and the duration it adds (a default length: the start's alone)."""
    e = run.mapping.end
    if e.column or e.time:
        return end_columns
    return _start_columns(run) + end_columns


def _start_columns(run: Conversion) -> tuple[str, ...]:
    s = run.mapping.start
    return tuple(c for spec in (s.column, s.date, s.time) if spec for c in run.used_columns(spec))


# --- series -----------------------------------------------------------------------------------
def series(run: Conversion, data: dict[str, list[Any]]) -> None:
    s = run.mapping.series
    assert s is not None
    m = run.mapping

    def repeat(value: Any) -> str:
        text = str(value).strip()
        word = REPEAT_WORDS.get(text.casefold())
        return word if word else text  # an unknown word fails the schema's rp_type rule

    types = run.values(s.repeat, repeat, "repeat")
    tage = run.values(s.interval, parse_int, "interval") if s.interval else [None] * len(types)
    until_formats = run.date_formats(
        s.until, (s.until.formats if s.until else ()) or m.date_formats
    )
    until = (
        run.values(s.until, lambda v: parse_date(v, until_formats), "until")
        if s.until
        else [None] * len(types)
    )
    except_formats = run.date_formats(
        s.exceptions, (s.exceptions.formats if s.exceptions else ()) or m.date_formats
    )
    exceptions = (
        run.values(
            s.exceptions,
            lambda v: parse_date(v, except_formats),
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
                    _("an end date or exceptions are given, but no repetition"),
                )
            for values in out.values():
                values.append(None)
            continue
        out["rp_flag"].append(True)
        out["rp_type"].append(kind)
        out["rp_tage"].append(tage[i] if tage[i] is not None else 1)
        out["rp_beginn_datum"].append(start[:10] if start else None)
        last, skipped = until[i], exceptions[i]
        out["rp_ende_datum"].append(last.isoformat() if last else None)
        out["rp_ende_status"].append(1 if last else 2)
        out["rp_exception"].append(
            "".join(f"#{d.isoformat()}" for d in skipped) if skipped else None
        )
    data.update(out)
    start_cols = run.sources["start_dt"]
    for name in out:
        spec = cols.get(name)
        run.sources[name] = run.used_columns(spec) if spec else run.used_columns(s.repeat)
    run.sources["rp_beginn_datum"] = start_cols
