"""Row problems as data: every finding has the user's row number, columns, a stable code."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    ERROR = "error"  # the row is not sent
    WARNING = "warning"  # the row goes ahead; the warning is reported


_ERROR = Level.ERROR  # looked up once: enum member access is slow and this is hot


@dataclass(frozen=True)
class RowProblem:
    """One problem of one input row.

    ``row`` is the row number the user sees (Excel row, or CSV line where the record starts);
    ``columns`` the source columns involved; ``code`` a stable kebab-case code
    (``end-before-start``); ``message`` plain words; ``value`` the offending value, if any.
    """

    row: int
    columns: tuple[str, ...]
    code: str
    message: str
    value: Any = None
    level: Level = Level.ERROR
    field: str | None = None  # the API field concerned, where there is one

    @property
    def is_error(self) -> bool:
        return self.level is _ERROR

    def describe(self) -> str:
        where = f"row {self.row}"
        if self.columns:
            where += ", column " + ", ".join(repr(c) for c in self.columns)
        return f"{where}: {self.message}"


def shown(value: Any, limit: int = 60) -> str:
    """A value for a message: printable, quoted, truncated."""
    text = value if isinstance(value, str) else str(value)
    text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text) if isinstance(value, str) else text


# Every problem code, with what it means and what to do: one place for reports, the README and
# the translations to come. A code is stable: scripts may rely on it; its wording may change.
CODES: dict[str, str] = {
    # the cell or the file
    "cell-error": "the cell holds a spreadsheet error (#NV, #DIV/0!); fix the formula",
    "required-missing": "a value the mapping requires is empty; fill in the cell",
    "value-not-mapped": "the value is not in the mapping's map; add it there or fix the cell",
    "value-not-allowed": "the value is not one the mapping allows; fix the cell",
    "invisible-characters-removed": "invisible characters were taken out of the cell",
    "text-too-long": "the text is longer than onOffice takes; shorten it",
    "not-text": "the field takes text",
    "key-missing": "the key column is empty; every row needs its key (key: in the mapping)",
    "key-duplicate": "two rows have the same key; a key names one appointment",
    "duplicate-row": "the same appointment as an earlier row; sent only with --allow-duplicates",
    # dates and times
    "bad-datetime": "not a date and time; write it like 05.03.2027 09:15",
    "bad-date": "not a date; write it like 05.03.2027",
    "bad-time": "not a time; write it like 09:15",
    "impossible-date": "no such day (31 February); fix the date",
    "implausible-date": "a date far from today; check the year",
    "number-not-date": "a number where a date belongs; format the cell as a date",
    "date-without-time": "a date without a time; add a time or mark the row all-day",
    "start-time-missing": "the start time is empty; fill it in or mark the row all-day",
    "start-missing": "the start is missing",
    "end-missing": "the end is missing, and the mapping gives no default duration",
    "bad-start": "the start is not a real date and time",
    "bad-end": "the end is not a real date and time",
    "end-before-start": "the end is before the start; swap or fix the times",
    "time-does-not-exist": "the clock skips this time when summer time begins; fix the time",
    "time-ambiguous": "the time occurs twice when summer time ends; it is taken as written",
    "in-the-past": "the appointment is in the past (an error with options.past: error)",
    "zero-length": "the appointment ends when it starts",
    "long-appointment": "the appointment lasts longer than options.max_duration_hours",
    "bad-duration": "not a duration; write it like 90, 1:30 or 90 min",
    "bad-duration-format": "a duration must be HH:MM:SS",
    # values of fields
    "bad-boolean": "not yes or no; write ja/nein, yes/no, x or leave it empty",
    "not-boolean": "the field takes yes or no",
    "bad-number": "not a number",
    "bad-key": "the value is not one onOffice knows for this field",
    "bad-status": "not an appointment status onOffice knows",
    "status-overrides-cancelled": "the status and the cancelled mark disagree; the status wins",
    "bad-reminder": "not a reminder onOffice offers (5 minutes … 3 weeks)",
    "bad-reminder-type": "not a reminder channel (email, popup, sms)",
    "reminder-types-need-reminder": "reminder channels are given but no reminder time",
    "bad-location": "the location must be exactly one kind of place",
    "bad-id": "not a record id (a positive whole number)",
    "bad-id-list": "the field takes a list of record ids",
    "too-many-ids": "more than 500 ids in one field",
    "bad-resources": "the field takes a list of resource keys",
    # series
    "bad-repeat": "not a repetition (daily, weekly, monthly, yearly)",
    "bad-interval": "the repetition interval must be a whole number from 1 to 999",
    "series-incomplete": "a series needs a repetition, an interval, a start and an end",
    "series-end-missing": "the series ends on a date, but the date is missing",
    "series-end-before-start": "the series ends before it begins",
    "series-without-repeat": "an until date or exceptions are given but no repetition",
    "bad-series-date": "not a date for the series",
    "bad-series-end-status": "the series end status must be 1 (on a date) or 2 (open-ended)",
    "bad-exception": "not a list of exception dates",
    # look-ups in onOffice (check --resolve, run)
    "estate-not-found": "no property with this number in onOffice; check the number",
    "estate-ambiguous": "several properties match; use a unique number",
    "address-not-found": "no contact with this value in onOffice; check it",
    "address-ambiguous": "several contacts match; use a unique customer number",
    "user-not-found": "no onOffice user with this name; check the spelling",
    "user-ambiguous": "several users match; use the user name",
    "group-not-found": "no onOffice group with this name",
    "group-ambiguous": "several groups match; use a unique name",
    "resource-not-found": "no onOffice resource with this name",
    "resource-ambiguous": "several resources match; use a unique name",
    "double-booking": "someone or something is booked at that time already (an error with "
    "--strict)",
}
