"""Every rule of onOffice calendar create (§4 of the contract) as one lazy Pandera schema.

One validation pass over the whole frame reports every problem of every row; each failure
becomes a :class:`~importer.core.problems.RowProblem` with the user's row number, the source
columns, a stable code (the check's name) and a plain message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import pandas as pd
import pandera.pandas as pa

from ..core import contract
from ..core.i18n import N_, _, number, when
from ..core.problems import Level, RowProblem, shown

MESSAGES = {
    "start-missing": N_("the start is missing"),
    "end-missing": N_("the end is missing"),
    "bad-start": N_("the start {value} is not a real date and time"),
    "bad-end": N_("the end {value} is not a real date and time"),
    "end-before-start": N_("the end ({end}) is before the start ({start}); fix the times"),
    "text-too-long": N_("the text has {length} characters; onOffice takes at most {limit}"),
    "not-text": N_("{value} is not text"),
    "not-boolean": N_("{value} is not yes or no"),
    "bad-duration-format": N_("{value} is not a duration like 01:30"),
    "bad-status": N_(
        "{value} is not an appointment status; write active, completed or canceled "
        "(or add a map to the mapping)"
    ),
    "bad-reminder": N_(
        "{value} is not a reminder onOffice offers; write 5 min, 15 min, 30 min, 1 hour, "
        "2 hours, 3 hours, 12 hours, 15 hours, 1 day, 2 days, 3 days, 1 week or 3 weeks"
    ),
    "bad-reminder-type": N_("{value} is not a reminder channel; write email, popup or sms"),
    "reminder-types-need-reminder": N_(
        "reminder channels are given but no reminder time; add the time"
    ),
    "bad-repeat": N_("{value} is not a repetition; write daily, weekly, monthly or yearly"),
    "bad-interval": N_("the repetition interval {value} is not a whole number from 1 to 999"),
    "bad-series-end-status": N_("the series end {value} must be 1 (on a date) or 2 (open)"),
    "bad-series-date": N_("{value} is not a date like 05.03.2027"),
    "bad-exception": N_("{value} is not a list of exception dates"),
    "series-incomplete": N_(
        "a series needs a repetition, an interval, a first day and how it ends"
    ),
    "series-end-missing": N_("the series ends on a date, but the date is missing"),
    "series-end-before-start": N_("the series ends ({until}) before it begins ({begin})"),
    "bad-id": N_("{value} is not a record number (a whole number above 0)"),
    "bad-id-list": N_("{value} is not a list of record numbers"),
    "too-many-ids": N_("more than 500 record numbers in one cell"),
    "bad-resources": N_("{value} is not a list of resources"),
    "bad-location": N_("{value} is not one place (estate, contact, office or free text)"),
    # a check that raised instead of answering: never a pass (a bug of the import's own)
    "check-failed": N_(
        "{field} could not be checked ({error}): an error of the import itself, so the row is "
        "not sent; please report it"
    ),
}
# Wide (cross-field) checks and the fields they concern.
WIDE_FIELDS = {
    "end-before-start": ("start_dt", "end_dt"),
    "reminder-types-need-reminder": ("reminderTypes", "erinnerung"),
    "series-incomplete": ("rp_type", "rp_tage", "rp_beginn_datum", "rp_ende_status"),
    "series-end-missing": ("rp_ende_datum",),
    "series-end-before-start": ("rp_ende_datum", "rp_beginn_datum"),
}


def _each(predicate: Callable[[Any], bool]) -> Callable[[pd.Series], pd.Series]:
    """An element-wise check in which None (not sent) always passes."""

    def check(s: pd.Series) -> pd.Series:  # a comprehension: Series.map costs ~3x as much
        ok = [v is None or predicate(v) for v in s.to_numpy().tolist()]
        return pd.Series(ok, index=s.index, dtype=bool)

    return check


def _parsed(s: pd.Series, fmt: str, shape: re.Pattern[str]) -> pd.Series:
    """The timestamps of the values that are text of exactly ``fmt``, else NaT (parsing is
    vectorised; the shape test is a regular expression per value, which is cheaper)."""
    exact = shape.fullmatch
    text = [v if v.__class__ is str and exact(v) else None for v in s.to_numpy().tolist()]
    return pd.to_datetime(pd.Series(text, index=s.index, dtype=object), format=fmt, errors="coerce")


def _real(fmt: str, shape: re.Pattern[str]) -> Callable[[pd.Series], pd.Series]:
    """A check that passes empty values and text that is a real date (time) in ``fmt``."""
    return lambda s: s.isna() | _parsed(s, fmt, shape).notna()


def _real_one(fmt: str) -> Callable[[Any], bool]:
    def ok(value: Any) -> bool:
        try:
            datetime.strptime(value, fmt)
        except (TypeError, ValueError):
            return False
        return True

    return ok


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _id_list(value: Any) -> bool:
    return isinstance(value, list) and all(_is_id(v) for v in value)


def _check(code: str, predicate: Callable[[Any], bool]) -> pa.Check:
    return pa.Check(_each(predicate), name=code)


def _column_checks(name: str) -> list[pa.Check]:
    if name in ("start_dt", "end_dt"):
        which = "start" if name == "start_dt" else "end"
        return [
            pa.Check(_real(contract.DATETIME_FORMAT, contract.DATETIME_RE), name=f"bad-{which}")
        ]
    if name in contract.MAX_TEXT_LENGTH:
        limit = contract.MAX_TEXT_LENGTH[name]
        return [
            _check("not-text", lambda v: isinstance(v, str)),
            _check("text-too-long", lambda v: not isinstance(v, str) or len(v) <= limit),
        ]
    if name in contract.DATA_BOOL_FIELDS:
        return [_check("not-boolean", lambda v: isinstance(v, bool))]
    if name in contract.DATA_DURATION_FIELDS:
        return [
            _check(
                "bad-duration-format",
                lambda v: isinstance(v, str) and bool(contract.DURATION_RE.match(v)),
            )
        ]
    enums = {
        "status": ("bad-status", contract.STATUS_VALUES),
        "erinnerung": ("bad-reminder", contract.ERINNERUNG_VALUES),
        "rp_type": ("bad-repeat", contract.RP_TYPES),
        "rp_ende_status": ("bad-series-end-status", contract.RP_ENDE_STATUS),
    }
    if name in enums:
        code, allowed = enums[name]
        return [_check(code, lambda v: v in allowed)]
    if name == "reminderTypes":
        return [
            _check(
                "bad-reminder-type",
                lambda v: isinstance(v, list) and set(v) <= set(contract.REMINDER_TYPES),
            )
        ]
    if name == "rp_tage":
        low, high = contract.RP_TAGE_RANGE
        return [_check("bad-interval", lambda v: _is_id(v) and low <= v <= high)]
    if name in ("rp_beginn_datum", "rp_ende_datum"):
        return [pa.Check(_real(contract.DATE_FORMAT, contract.DATE_RE), name="bad-series-date")]
    if name == "rp_exception":
        return [
            _check(
                "bad-exception",
                lambda v: (
                    isinstance(v, str)
                    and bool(contract.RP_EXCEPTION_RE.match(v))
                    and all(_real_one(contract.DATE_FORMAT)(d) for d in v.split("#")[1:])
                ),
            )
        ]
    if name == "relatedEstateId":
        return [_check("bad-id", _is_id)]
    if name in ("relatedAddressIds", "subscribers.users", "subscribers.groups"):
        return [
            _check("bad-id-list", _id_list),
            _check(
                "too-many-ids",
                lambda v: not isinstance(v, list) or len(v) <= contract.MAX_IDS_PER_ACTION,
            ),
        ]
    if name == "ressources":
        return [
            _check(
                "bad-resources",
                lambda v: isinstance(v, list) and all(isinstance(x, str) and x for x in v),
            )
        ]
    if name == "location":
        return [
            _check(
                "bad-location",
                lambda v: (
                    isinstance(v, dict) and len(v) == 1 and next(iter(v)) in contract.LOCATION_KEYS
                ),
            )
        ]
    if name == "rp_flag":
        return [_check("not-boolean", lambda v: isinstance(v, bool))]
    return []


def _get(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _passes(frame: pd.DataFrame) -> pd.Series:
    """A wide check's answer when the fields it concerns are not in the frame at all."""
    return pd.Series(True, index=frame.index)


def _wide_checks() -> list[pa.Check]:
    def end_after_start(f: pd.DataFrame) -> pd.Series:
        start = _parsed(_get(f, "start_dt"), contract.DATETIME_FORMAT, contract.DATETIME_RE)
        end = _parsed(_get(f, "end_dt"), contract.DATETIME_FORMAT, contract.DATETIME_RE)
        return start.isna() | end.isna() | (end >= start)

    def types_need_reminder(f: pd.DataFrame) -> pd.Series:
        if "reminderTypes" not in f.columns:
            return _passes(f)
        types = _get(f, "reminderTypes").map(lambda v: bool(v))
        return ~types | _get(f, "erinnerung").notna()

    def series_complete(f: pd.DataFrame) -> pd.Series:
        if "rp_flag" not in f.columns:
            return _passes(f)
        flag = _get(f, "rp_flag").map(lambda v: v is True)
        present = pd.concat([_get(f, n).notna() for n in contract.RP_REQUIRED_WITH_FLAG], axis=1)
        return ~flag | present.all(axis=1)

    def series_end_given(f: pd.DataFrame) -> pd.Series:
        if "rp_ende_status" not in f.columns:
            return _passes(f)
        ends_on_date = _get(f, "rp_ende_status").map(lambda v: v == 1)
        return ~ends_on_date | _get(f, "rp_ende_datum").notna()

    def series_end_after_start(f: pd.DataFrame) -> pd.Series:
        if "rp_ende_datum" not in f.columns or "rp_beginn_datum" not in f.columns:
            return _passes(f)
        begin, end = _get(f, "rp_beginn_datum"), _get(f, "rp_ende_datum")
        return begin.isna() | end.isna() | (end.astype(str) >= begin.astype(str))

    return [
        pa.Check(end_after_start, name="end-before-start"),
        pa.Check(types_need_reminder, name="reminder-types-need-reminder"),
        pa.Check(series_complete, name="series-incomplete"),
        pa.Check(series_end_given, name="series-end-missing"),
        pa.Check(series_end_after_start, name="series-end-before-start"),
    ]


def build_schema(columns: Iterable[str]) -> pa.DataFrameSchema:
    """The schema for a frame of calendar create fields (``start_dt`` and ``end_dt`` required)."""
    present = set(columns) | {"start_dt", "end_dt"}
    mandatory = ("start_dt", "end_dt")
    spec = {
        name: pa.Column(
            object,
            checks=_column_checks(name),
            nullable=name not in mandatory,  # Pandera skips nulls in checks of nullable columns
            required=name in mandatory,
        )
        for name in present
    }
    return pa.DataFrameSchema(spec, checks=_wide_checks(), coerce=False)


Cells = Callable[[int, tuple[str, ...]], Any]  # (row, its columns) -> the first cell as typed


def validate(
    frame: pd.DataFrame, sources: dict[str, tuple[str, ...]], cells: Cells | None = None
) -> list[RowProblem]:
    """Every rule over every row in one lazy pass; failures as row problems.

    ``cells`` gives a message the value as the user typed it ("10 Min"), not as converted."""
    frame = frame.astype(object).where(frame.notna(), None)  # NaN means "not sent" too
    for name in ("start_dt", "end_dt"):
        if name not in frame.columns:
            frame[name] = None  # reported per row as missing, not once for the schema
    try:
        build_schema(frame.columns).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return _problems(errors.failure_cases, frame, sources, cells)
    return []


def _problems(
    cases: pd.DataFrame,
    frame: pd.DataFrame,
    sources: dict[str, tuple[str, ...]],
    typed: Cells | None,
) -> list[RowProblem]:
    out: dict[tuple[int, str, str], RowProblem] = {}
    position = {row: i for i, row in enumerate(frame.index.tolist())}
    cells = {name: frame[name].to_numpy() for name in frame.columns}
    failures = zip(
        cases["index"].tolist(),
        cases["check"].tolist(),
        cases["column"].tolist(),
        cases["failure_case"].tolist(),
        strict=True,
    )
    for index, check, column, case in failures:
        if index is None or index != index:
            # no row: the check raised (pandera keeps the exception as its failure case), or
            # the schema itself failed. Every row it concerns fails, never passes silently.
            for problem in _raised(str(check), column, case, frame, sources):
                out.setdefault((problem.row, problem.code, str(problem.field)), problem)
            continue
        row, code = int(index), str(check)
        if code == "not_nullable":  # only start_dt and end_dt are not nullable
            code = "start-missing" if column == "start_dt" else "end-missing"
        wide = code in WIDE_FIELDS
        fields = WIDE_FIELDS[code] if wide else (str(column),)
        key = (row, code, "" if wide else fields[0])
        if key in out:
            continue  # wide checks fail once per column; one problem per row is enough
        columns = tuple(dict.fromkeys(c for f in fields for c in sources.get(f, ())))
        value = None if wide else cells[fields[0]][position[row]]
        as_typed = typed(row, columns) if typed is not None and columns else None
        out[key] = RowProblem(
            row,
            columns,
            code,
            _message(code, fields[0], value if as_typed is None else as_typed, frame, row),
            value,
            Level.ERROR,
            fields[0],
        )
    # Without a start there is no end to speak of: one problem, not two.
    no_start = {row for row, code, _ in out if code == "start-missing"}
    kept = [p for p in out.values() if not (p.code == "end-missing" and p.row in no_start)]
    return sorted(kept, key=lambda p: (p.row, p.code))


def _raised(
    check: str, column: Any, error: Any, frame: pd.DataFrame, sources: dict[str, tuple[str, ...]]
) -> list[RowProblem]:
    """A check that gave no answer: a problem on every row it concerns (a column's check, the
    rows that send the field; a wide check, or the schema, every row), naming the field."""
    if isinstance(column, str) and column in frame.columns:
        fields: tuple[str, ...] = (column,)
        concerned = frame.index[frame[column].notna()]
    else:
        fields = WIDE_FIELDS.get(check, ("",))
        concerned = frame.index
    columns = tuple(dict.fromkeys(c for f in fields for c in sources.get(f, ())))
    named = ", ".join(columns) or ", ".join(f for f in fields if f) or check
    text = _(MESSAGES["check-failed"]).format(field=named, error=f"{check}: {error}")
    return [
        RowProblem(int(row), columns, "check-failed", text, None, Level.ERROR, fields[0] or None)
        for row in concerned
    ]


_MESSAGE_FIELDS = {"start": "start_dt", "end": "end_dt"}
_MESSAGE_FIELDS |= {"until": "rp_ende_datum", "begin": "rp_beginn_datum"}


def _message(code: str, field: str, value: Any, frame: pd.DataFrame, row: int) -> str:
    template = _(MESSAGES[code]) if code in MESSAGES else code
    other_fields = {  # only those the message names: looking cells up is not free
        word: _when(frame.at[row, name]) if name in frame.columns else None
        for word, name in _MESSAGE_FIELDS.items()
        if f"{{{word}}}" in template
    }
    return template.format(
        value=shown(value) if value is not None else "",
        length=number(len(value) if isinstance(value, str) else 0),
        limit=number(contract.MAX_TEXT_LENGTH.get(field, 0)),
        **other_fields,
    )


def _when(api_value: Any) -> Any:
    """An API date-time or date ("2027-03-05 09:15:00") as the user writes it (05.03.2027 09:15)."""
    for fmt in (contract.DATETIME_FORMAT, "%Y-%m-%d"):
        try:
            moment = datetime.strptime(str(api_value), fmt)
        except ValueError:
            continue
        return when(moment) if fmt == contract.DATETIME_FORMAT else when(moment.date())
    return api_value


def status_warnings(frame: pd.DataFrame, sources: dict[str, tuple[str, ...]]) -> list[RowProblem]:
    """`status` overrides `abgesagt` (§4.1): say so where the two disagree."""
    status, cancelled = _get(frame, "status"), _get(frame, "abgesagt")
    clash = status.notna() & cancelled.notna() & ((status == "canceled") != (cancelled == True))  # noqa: E712
    columns = tuple(dict.fromkeys(sources.get("status", ()) + sources.get("abgesagt", ())))
    return [
        RowProblem(
            int(row),
            columns,
            "status-overrides-cancelled",
            _("the status {status} overrides the cancelled mark").format(status=shown(status[row])),
            None,
            Level.WARNING,
            "status",
        )
        for row in frame.index[clash]
    ]
