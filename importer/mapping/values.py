"""Pure conversions of one cell: dates, times, durations, booleans, ids, text.

A cell arrives as the loader left it (text, number, bool, date, time, datetime, timedelta, or
None); these functions convert explicitly and raise :class:`ValueProblem` with a stable code and a
plain message when they cannot.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from ..core.i18n import _, when
from ..core.problems import shown

DEFAULT_DATETIME_FORMATS = (
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y, %H:%M",
    "%d.%m.%y %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
)
DEFAULT_DATE_FORMATS = ("%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d")
DEFAULT_TIME_FORMATS = ("%H:%M", "%H:%M:%S")
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100  # plausibility window (bad inputs 31, 40)

TRUE_WORDS = frozenset({"ja", "j", "x", "yes", "y", "true", "wahr", "1", "✓", "✔"})
FALSE_WORDS = frozenset({"nein", "n", "no", "false", "falsch", "0", "-"})

_ISO_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
_UHR = re.compile(r"\s*(uhr|h)\.?$", re.IGNORECASE)
# "14.30" (and "05.03.2027 14.30"): a German way to write a time; two digits of minutes, so
# a number such as 14.3 is never read as a time
_DOTTED_TIME = re.compile(r"(^|\s)(\d{1,2})\.(\d{2})(\s*uhr)?$", re.IGNORECASE)
_DURATION_TEXT = re.compile(
    r"^(?P<num>\d+(?:[.,]\d+)?)\s*(?P<unit>min|minuten|minutes|m|std|stunden|h|hours|stunde)?\.?$",
    re.IGNORECASE,
)
# Characters that are invisible or reorder text: stripped from text fields (bad input 48).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)


class ValueProblem(ValueError):
    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message
        super().__init__(message)


def is_empty(cell: Any) -> bool:
    if cell is None:
        return True
    if isinstance(cell, float) and math.isnan(cell):
        return True
    return isinstance(cell, str) and not cell.strip()


_SHAPES = {
    "%d": r"\d{1,2}",
    "%m": r"\d{1,2}",
    "%Y": r"\d{4}",
    "%y": r"\d{2}",
    "%H": r"\d{1,2}",
    "%M": r"\d{2}",
    "%S": r"\d{2}",
}


def _example(formats: tuple[str, ...]) -> str:
    """How to write a value in the first accepted format (05.03.2027 09:15)."""
    return datetime(2027, 3, 5, 9, 15).strftime(formats[0]) if formats else "05.03.2027"


def _fits_a_shape(text: str, formats: tuple[str, ...]) -> bool:
    """True when ``text`` looks like one of the formats but is no real date (31.02.)."""
    for fmt in formats:
        pattern = re.escape(fmt)
        for code, shape in _SHAPES.items():
            pattern = pattern.replace(re.escape(code), shape)
        if re.fullmatch(pattern, text):
            return True
    return False


# --- day and month order -------------------------------------------------------------------------
# 05/03/2027 is 5 March in the UK and May 3 in the US: a format with day and month around a slash
# or a dash leaves the order to the writer. Dotted (German) and ISO dates do not: never swapped.
_DAY_MONTH = re.compile(r"(?<!%[Yy][/\-])%([dm])([/\-])%([dm])")  # never ISO's %Y-%m-%d
_SLASHED = re.compile(r"(?<!\d)(\d{1,2})([/\-])(\d{1,2})\2\d{2,4}")


def order_sensitive(fmt: str) -> bool:
    """A format whose day and month a reader cannot tell apart (``%m/%d/%Y``)."""
    return _DAY_MONTH.search(fmt) is not None


def day_first(formats: tuple[str, ...]) -> bool | None:
    """The order the first order-sensitive format writes (None: there is none)."""
    for fmt in formats:
        if m := _DAY_MONTH.search(fmt):
            return m.group(1) == "d"
    return None


def in_order(formats: tuple[str, ...], dayfirst: bool) -> tuple[str, ...]:
    """``formats`` with every order-sensitive one written in ``dayfirst`` order (deduplicated)."""
    first, second = ("d", "m") if dayfirst else ("m", "d")
    return tuple(dict.fromkeys(_DAY_MONTH.sub(rf"%{first}\2%{second}", fmt) for fmt in formats))


@dataclasses.dataclass
class OrderEvidence:
    """What a column's slash dates say about their order: the first value that proves day/month
    (13/04/2027), month/day (04/13/2027), and one that could be either (05/03/2027)."""

    day_first: str | None = None
    month_first: str | None = None
    either: str | None = None

    def add(self, text: str) -> None:
        for m in _SLASHED.finditer(text):
            a, b = int(m.group(1)), int(m.group(3))
            if a > 12 >= b and self.day_first is None:
                self.day_first = m.group(0)
            elif b > 12 >= a and self.month_first is None:
                self.month_first = m.group(0)
            elif a != b and a <= 12 and b <= 12 and self.either is None:
                self.either = m.group(0)

    @property
    def proves(self) -> bool | None:
        """True: day first, False: month first, None: nothing (or both) proved."""
        if (self.day_first is None) == (self.month_first is None):
            return None
        return self.day_first is not None


def _wrong_order(text: str, formats: tuple[str, ...]) -> ValueProblem | None:
    """A date whose day stands where this column has its month (or the other way round)."""
    order, m = day_first(formats), _SLASHED.match(text)
    if order is None or m is None:
        return None
    a, b = int(m.group(1)), int(m.group(3))
    if order and b > 12 >= a:
        return ValueProblem(
            "date-order",
            _(
                "{text} has the month first (month/day), but this column is read day/month; which "
                "order does the file use? Say it in the mapping: `formats: {{dayfirst: false}}`"
            ).format(text=shown(text)),
        )
    if not order and a > 12 >= b:
        return ValueProblem(
            "date-order",
            _(
                "{text} has the day first (day/month), but this column is read month/day; which "
                "order does the file use? Say it in the mapping: `formats: {{dayfirst: true}}`"
            ).format(text=shown(text)),
        )
    return None


def _unparsed(text: str, formats: tuple[str, ...], what: str, code: str) -> ValueProblem:
    if (wrong := _wrong_order(text, formats)) is not None:
        return wrong
    if _fits_a_shape(text, formats):
        return ValueProblem(
            "impossible-date", _("{text} is not a real date (no such day)").format(text=shown(text))
        )
    return ValueProblem(code, what.format(text=shown(text), example=_example(formats)))


def _plausible(d: date) -> None:
    if not EARLIEST_YEAR <= d.year <= LATEST_YEAR:
        raise ValueProblem(
            "implausible-date",
            _("the year {year} is before {first} or after {last}; a typo?").format(
                year=d.year, first=EARLIEST_YEAR, last=LATEST_YEAR
            ),
        )


def _strptime(text: str, formats: tuple[str, ...]) -> datetime | None:
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


_Moment = TypeVar("_Moment", datetime, time)


def _round_to_second(value: _Moment) -> _Moment:
    """Excel keeps times as fractions of a day; 0.4999999 means 12:00:00 (bad input 35)."""
    if not value.microsecond:
        return value
    if isinstance(value, time):
        full = datetime.combine(date(2000, 1, 1), value)
        return _round_to_second(full).time() if full.microsecond else value
    return (value + timedelta(microseconds=500_000)).replace(microsecond=0)


def _not_a_date_cell() -> ValueProblem:
    return ValueProblem(
        "number-not-date",
        _("a number, not a date; format the column as a date in Excel"),
    )


_END_OF_DAY_TEXT = re.compile(r"^(.*?\d)([ T,]+)24:00(?::00)?$")


def _colon_time(text: str) -> str:
    """ "14.30" (at the end of the text) as "14:30"."""
    return _DOTTED_TIME.sub(lambda m: f"{m.group(1)}{m.group(2)}:{m.group(3)}", text)


def parse_datetime(
    cell: Any, formats: tuple[str, ...], tz: ZoneInfo, *, allow_24: bool = False
) -> datetime:
    """A naive local datetime from a datetime cell or text; offsets are converted to ``tz``.
    With ``allow_24`` (an end) "05.03.2027 24:00" is the end of that day."""
    value: datetime
    if isinstance(cell, datetime):
        if cell.tzinfo is not None:  # e.g. a YAML constant with an offset
            cell = cell.astimezone(tz).replace(tzinfo=None)
        value = _round_to_second(cell)
    elif isinstance(cell, date):
        raise ValueProblem(
            "date-without-time", _("a date without a time; add the time or mark it all-day")
        )
    elif isinstance(cell, str):
        text = cell.strip()
        if _ISO_OFFSET.match(text):
            aware = datetime.fromisoformat(text.replace("Z", "+00:00"))
            value = aware.astimezone(tz).replace(tzinfo=None)
        else:
            parsed = _strptime(text, formats) or _strptime(_colon_time(text), formats)
            if parsed is None and (midnight := _END_OF_DAY_TEXT.match(text)):
                if not allow_24:
                    raise ValueProblem("bad-datetime", _("24:00 is allowed for an end only"))
                # "05.03.2027 24:00" is the end of that day: 06.03.2027 00:00 (ISO 8601)
                day = _strptime(f"{midnight.group(1)}{midnight.group(2)}00:00", formats)
                parsed = day + timedelta(days=1) if day is not None else None
            if parsed is None:
                raise _unparsed(
                    text,
                    formats,
                    _("{text} is not a date and time; write it like {example}"),
                    "bad-datetime",
                )
            value = parsed
    elif isinstance(cell, int | float) and not isinstance(cell, bool):
        raise _not_a_date_cell()
    else:
        raise ValueProblem("bad-datetime", _("not a date and time; write it like 05.03.2027 09:15"))
    _plausible(value)
    return value


def parse_date(cell: Any, formats: tuple[str, ...]) -> date:
    if isinstance(cell, datetime):
        value: date = cell.date()
    elif isinstance(cell, date):
        value = cell
    elif isinstance(cell, str):
        parsed = _strptime(cell.strip(), formats)
        if parsed is None:
            raise _unparsed(
                cell.strip(),
                formats,
                _("{text} is not a date; write it like {example}"),
                "bad-date",
            )
        value = parsed.date()
    elif isinstance(cell, int | float) and not isinstance(cell, bool):
        raise _not_a_date_cell()
    else:
        raise ValueProblem("bad-date", _("not a date; write it like 05.03.2027"))
    _plausible(value)
    return value


def parse_time(cell: Any, formats: tuple[str, ...], *, allow_24: bool = False) -> time | None:
    """A time of day; ``None`` stands for 24:00 (only when ``allow_24``: an end time)."""
    if isinstance(cell, time):
        return _round_to_second(cell)
    if isinstance(cell, datetime):
        return _round_to_second(cell).time()
    if isinstance(cell, timedelta) and timedelta(0) <= cell < timedelta(days=1):
        return (datetime(2000, 1, 1) + cell).time()
    if isinstance(cell, str):
        text = _UHR.sub("", _colon_time(cell.strip()))
        if text in ("24:00", "24:00:00"):
            if allow_24:
                return None
            raise ValueProblem("bad-time", _("24:00 is allowed for an end time only"))
        parsed = _strptime(text, formats)
        if parsed is not None:
            return parsed.time()
    raise ValueProblem(
        "bad-time",
        _("{text} is not a time of day; write it like 09:15 or 9:15 Uhr").format(text=shown(cell)),
    )


MAX_DURATION = timedelta(days=31)


def parse_duration(cell: Any) -> timedelta:
    """Minutes as a number, ``HH:MM``/``HH:MM:SS``, ``90 min``, ``1,5 h``, or a time cell."""
    value = _duration(cell)
    if value < timedelta(0):
        raise ValueProblem("bad-duration", _("a duration cannot be negative"))
    if value > MAX_DURATION:
        raise ValueProblem(
            "bad-duration",
            _("a duration of more than {days} days").format(days=MAX_DURATION.days),
        )
    return value


def _duration(cell: Any) -> timedelta:
    if isinstance(cell, timedelta):
        return cell
    if isinstance(cell, time):
        return timedelta(hours=cell.hour, minutes=cell.minute, seconds=cell.second)
    hours = minutes = None
    if isinstance(cell, int | float) and not isinstance(cell, bool) and not math.isnan(cell):
        minutes = float(cell)
    elif isinstance(cell, str):
        text = cell.strip()
        parts = text.split(":")
        if 2 <= len(parts) <= 3 and all(p.isdigit() and len(p) <= 6 for p in parts):
            h, m, s = (int(p) for p in [*parts, "0"][:3])
            if m < 60 and s < 60:
                hours, minutes = float(h), m + s / 60
        match = _DURATION_TEXT.match(text)
        if match and hours is None:
            number = float(match["num"].replace(",", "."))
            unit = (match["unit"] or "min").lower()
            hours, minutes = (number, 0.0) if unit[0] in "hs" else (0.0, number)
    if minutes is None:
        raise ValueProblem(
            "bad-duration",
            _("{text} is not a duration; write minutes (90), 01:30, 90 min or 1,5 h").format(
                text=shown(cell)
            ),
        )
    total = (hours or 0.0) * 60 + minutes
    if not math.isfinite(total) or abs(total) > MAX_DURATION.total_seconds():
        return MAX_DURATION + timedelta(minutes=1)  # reported as too long, never an overflow
    return timedelta(minutes=total)


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def parse_bool(cell: Any) -> bool:
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, int | float) and cell in (0, 1):
        return bool(cell)
    if isinstance(cell, str):
        word = cell.strip().casefold()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise ValueProblem(
        "bad-boolean",
        _("{text} is not yes or no; write ja or nein, x or leave the cell empty").format(
            text=shown(cell)
        ),
    )


def parse_int(cell: Any) -> int:
    """A whole number: ints, integral floats (1234.0), digit text; never scientific notation."""
    if isinstance(cell, bool):
        raise ValueProblem("bad-number", _("a yes/no value, not a number"))
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    if isinstance(cell, str):
        text = cell.strip()
        if re.fullmatch(r"\d+(\.0+)?", text):
            return int(text.split(".")[0])
    raise ValueProblem("bad-number", _("{text} is not a whole number").format(text=shown(cell)))


def key_text(cell: Any) -> str:
    """A look-up key as text: ``1234.0`` from a number cell becomes ``1234``; text stays text."""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, float):
        raise ValueProblem("bad-key", _("a number with decimals cannot be a record number"))
    if isinstance(cell, datetime | date | time | timedelta):
        raise ValueProblem("bad-key", _("a date or time cannot be a record number"))
    return str(cell).strip()


def clean_text(text: str) -> tuple[str, bool]:
    """NFC text without invisible or reordering characters; True when something was removed."""
    if _INVISIBLE.search(text) is None and unicodedata.is_normalized("NFC", text):
        return text, False  # nearly always: skip building two copies
    cleaned = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    return cleaned, cleaned != unicodedata.normalize("NFC", text)


@functools.lru_cache(maxsize=8192)
def _steady_day(day: date, tz: ZoneInfo) -> bool:
    """No clock change from this midnight to the next: the UTC offset is the same at both (no
    zone changes its clocks twice within one day)."""
    if day >= date.max - timedelta(days=1):
        return False
    offsets = {
        datetime.combine(d, time(0), tzinfo=tz).replace(fold=f).utcoffset()
        for d in (day, day + timedelta(days=1))
        for f in (0, 1)
    }
    return len(offsets) == 1


def local_time_problem(value: datetime, tz: ZoneInfo) -> ValueProblem | None:
    """A wall-clock time skipped (DST gap) or repeated (DST fold) in ``tz``."""
    if _steady_day(value.date(), tz):  # nearly every day: no need to look at the time
        return None
    there_and_back = value.replace(tzinfo=tz).astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if there_and_back != value:
        return ValueProblem(
            "time-does-not-exist",
            _("{when} does not exist: the clocks jump forward to summer time").format(
                when=when(value)
            ),
        )
    if value.replace(tzinfo=tz, fold=0).utcoffset() != value.replace(tzinfo=tz, fold=1).utcoffset():
        return ValueProblem(
            "time-ambiguous",
            _("{when} happens twice: the clocks go back; it is sent as written").format(
                when=when(value)
            ),
        )
    return None
