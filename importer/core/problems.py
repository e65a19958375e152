"""Row problems as data: every finding has the user's row number, columns, a stable code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from .i18n import N_, _, when


class Level(StrEnum):
    ERROR = "error"  # the row is not sent
    WARNING = "warning"  # the row goes ahead; the warning is reported


_ERROR = Level.ERROR  # looked up once: enum member access is slow and this is hot
# A warning that leaves its row *unconfirmed*: the row goes ahead, but the check cannot vouch
# that onOffice takes it (a type an account that lists none has not shown yet). A check with
# such rows does not end as "valid" (exit code 6, ExitCode.UNCONFIRMED).
UNCONFIRMED = "type-unconfirmed"


@dataclass(frozen=True)
class RowProblem:
    """One problem of one input row.

    ``row`` is the row number the user sees (the row of Excel, also for a CSV file);
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
    if isinstance(value, date):  # as the user writes it, not ISO
        return when(value)
    text = value if isinstance(value, str) else str(value)
    text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text) if isinstance(value, str) else text


def where(problem: RowProblem) -> str:
    """The user's columns a problem concerns, or the mapping key of a constant."""
    if problem.columns:
        return ", ".join(problem.columns)
    return _("mapping: {key}").format(key=problem.field) if problem.field else ""


def problem_text(problem: RowProblem) -> str:
    """ "Erinnerung: '10 Min' ist keine Erinnerung …": the column first, then what is wrong."""
    place = where(problem)
    return f"{place}: {problem.message}" if place else sentence(problem.message)


def sentence(text: str) -> str:
    """A message standing on its own (a cell, a note) begins with a capital letter."""
    return text[:1].upper() + text[1:]


def joined_problems(problems: Sequence[RowProblem]) -> str | None:
    """The problems of one row, one a line, each naming its columns."""
    texts = list(dict.fromkeys(problem_text(p) for p in problems))
    if len(texts) > 1:
        texts = [f"• {t}" for t in texts]
    return "\n".join(texts) or None


# Every problem code, with what it means and what to do: one place for reports, the README and
# the translations (de). A code is stable: scripts may rely on it; its wording may change.
CODES: dict[str, str] = {
    # the cell or the file
    "cell-error": N_("the cell holds a spreadsheet error (#NV, #DIV/0!); fix the formula"),
    "cell-warning": N_("the file's value was adjusted to one onOffice takes; check it"),
    "ics-bad-date": N_("a calendar event's date or time cannot be read; fix it in the calendar"),
    "ics-unreadable": N_("a calendar event cannot be read; fix it in the calendar"),
    "ics-rule-unsupported": N_(
        "the event repeats in a way onOffice's series cannot; enter its appointments one by one"
    ),
    "required-missing": N_("a value the mapping requires is empty; fill in the cell"),
    "value-not-mapped": N_("the value is not in the mapping's map; add it there or fix the cell"),
    "value-not-allowed": N_("the value is not one the mapping allows; fix the cell"),
    "invisible-characters-removed": N_("invisible characters were taken out of the cell"),
    "text-too-long": N_("the text is longer than onOffice takes; shorten it"),
    "not-text": N_("the field takes text"),
    "key-missing": N_("the key column is empty; every row needs its key (key: in the mapping)"),
    "key-duplicate": N_("two rows have the same key; a key names one appointment"),
    "duplicate-row": N_(
        "the same appointment as an earlier row; sent only with --allow-duplicates"
    ),
    # dates and times
    "bad-datetime": N_("not a date and time; write it like 05.03.2027 09:15"),
    "bad-date": N_("not a date; write it like 05.03.2027"),
    "bad-time": N_("not a time; write it like 09:15"),
    "impossible-date": N_("no such day (31 February); fix the date"),
    "date-order": N_(
        "the date has day and month the other way round from the rest of its column (or from "
        "`formats.dayfirst`); say the file's order in the mapping"
    ),
    "implausible-date": N_("a date far from today; check the year"),
    "number-not-date": N_("a number where a date belongs; format the cell as a date"),
    "date-without-time": N_("a date without a time; add a time or mark the row all-day"),
    "start-time-missing": N_("the start time is empty; fill it in or mark the row all-day"),
    "start-missing": N_("the start is missing"),
    "end-missing": N_("the end is missing, and the mapping gives no default duration"),
    "bad-start": N_("the start is not a real date and time"),
    "bad-end": N_("the end is not a real date and time"),
    "end-before-start": N_("the end is before the start; swap or fix the times"),
    "time-does-not-exist": N_("the clock skips this time when summer time begins; fix the time"),
    "time-ambiguous": N_("the time occurs twice when summer time ends; it is taken as written"),
    "in-the-past": N_("the appointment is in the past; check the date"),
    "zero-length": N_("the appointment ends when it starts"),
    "long-appointment": N_("the appointment lasts longer than options.max_duration_hours"),
    "bad-duration": N_("not a duration; write it like 90, 1:30 or 90 min"),
    "bad-duration-format": N_("a duration must be HH:MM:SS"),
    # values of fields
    "bad-boolean": N_("not yes or no; write ja/nein, yes/no, x or leave it empty"),
    "not-boolean": N_("the field takes yes or no"),
    "bad-number": N_("not a number"),
    "bad-key": N_("the value is not one onOffice knows for this field"),
    "bad-status": N_("not an appointment status onOffice knows"),
    "status-overrides-cancelled": N_("the status and the cancelled mark disagree; the status wins"),
    "bad-reminder": N_("not a reminder onOffice offers (5 minutes … 3 weeks)"),
    "bad-reminder-type": N_("not a reminder channel (email, popup, sms)"),
    "reminder-types-need-reminder": N_("reminder channels are given but no reminder time"),
    "bad-location": N_("the location must be exactly one kind of place"),
    "bad-id": N_("not a record id (a positive whole number)"),
    "bad-id-list": N_("the field takes a list of record ids"),
    "too-many-ids": N_("more than 500 ids in one field"),
    "bad-resources": N_("the field takes a list of resource keys"),
    "check-failed": N_(
        "a rule could not be checked (an error of the import itself); the row is not sent: "
        "please report it"
    ),
    # series
    "bad-repeat": N_("not a repetition (daily, weekly, monthly, yearly)"),
    "bad-interval": N_("the repetition interval must be a whole number from 1 to 999"),
    "series-incomplete": N_("a series needs a repetition, an interval, a start and an end"),
    "series-end-missing": N_("the series ends on a date, but the date is missing"),
    "series-end-before-start": N_("the series ends before it begins"),
    "series-without-repeat": N_("an until date or exceptions are given but no repetition"),
    "bad-series-date": N_("not a date for the series"),
    "bad-series-end-status": N_("the series end status must be 1 (on a date) or 2 (open-ended)"),
    "bad-exception": N_("not a list of exception dates"),
    # look-ups in onOffice (check --resolve, run)
    "estate-not-found": N_("no property with this number in onOffice; check the number"),
    "estate-ambiguous": N_("several properties match; use a unique number"),
    "address-not-found": N_(
        "no contact with this value in onOffice; create the contact there, or empty the cell "
        "(the row is then imported without a contact)"
    ),
    "address-ambiguous": N_("several contacts match; use a unique customer number"),
    "user-not-found": N_("no onOffice user with this name; check the spelling"),
    "user-ambiguous": N_("several users match; use the user name"),
    "group-not-found": N_("no onOffice group with this name"),
    "group-ambiguous": N_("several groups match; use a unique name"),
    "resource-not-found": N_("no onOffice resource with this name"),
    "resource-ambiguous": N_("several resources match; use a unique name"),
    "attendee-not-found": N_(
        "neither an onOffice user nor a contact has this e-mail (the mapping makes it an error)"
    ),
    "left-out": N_(
        "not in onOffice, so left out of the appointment (missing: leave-out in the mapping); "
        "the row is imported"
    ),
    "type-not-found": N_(
        "not an appointment type of this onOffice account; write its name or key as onOffice "
        "lists it (or map it in the mapping)"
    ),
    "type-ambiguous": N_(
        "the word names two appointment types of this onOffice account (one's key and "
        "another's name, or two names); write the one you mean"
    ),
    "type-unconfirmed": N_(
        "onOffice lists no appointment types and has not shown this one yet: sent as written, "
        "it may be refused (the row is unconfirmed)"
    ),
    "type-refused": N_(
        "onOffice refused this appointment type before and has not shown it since; write a "
        "type the account has"
    ),
    "no-right": N_(
        "the API user may not write this agent's appointments in onOffice (its right is "
        "missing); ask for the right, or give the row another agent"
    ),
    "double-booking": N_(
        "someone or something is booked at that time already (an error with --strict)"
    ),
}
