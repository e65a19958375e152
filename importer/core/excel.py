"""Excel's geometry, and the layout of our own results workbook: shared by the reader
(:mod:`importer.source.load`, which takes a results workbook as input again) and the writers
(:mod:`importer.output.xlsx_write`, :mod:`importer.output.results`); neither depends on the
other."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Final

from .i18n import N_, NP_, _, every, pgettext

CELL_LIMIT: Final = 32_767  # UTF-16 units a cell holds (Excel's specifications and limits)

# Our workbooks' sheet names and outcome headers, as message ids: written in the user's language
# (``_(STATUS)``), recognised in any (``i18n.every(STATUS)``) when a results workbook comes back.
RESULTS_SHEET: Final = N_("Results")
REMOVED_SHEET: Final = N_("Removed")  # appointments of rows no longer in the file
ROWS_SHEET: Final = N_("Rows")  # the check report's rows
SUMMARY_SHEET: Final = N_("Summary")
# the Summary line naming the list a results workbook belongs to (written and read)
LIST_LABEL: Final = N_("List (the same on every computer)")
PROBLEMS_SHEET: Final = N_("Problems")
STATUS, APPOINTMENT_ID, ERROR, WARNINGS, SOURCE_ROW = (
    N_("Status"),
    N_("Appointment ID"),
    N_("Error"),
    N_("Warnings"),
    N_("Source row"),
)
ANSWER = N_("onOffice answer")  # a refusal's code and text as the server gave them
ERRORS, PLAN = N_("Errors"), N_("Plan")  # the check report's (its Plan only with --resolve)
# Where they stand: these four first, Source row last. (Versions before the German workbooks put
# all five last, in English; their workbooks are still read.)
OUTCOME_LEAD: Final = (STATUS, APPOINTMENT_ID, ERROR, WARNINGS)
OURS_MARK: Final = N_("{header} (import)")  # our header, when the user has a column of its name


def outcome_header(message: str, taken: Sequence[str]) -> str:
    """Our header ``message`` in the user's language, told apart from the user's own columns
    (a German list may well have a column "Hinweise" or "Status")."""
    text = _(message)
    # without case, as the reader compares headers: "STATUS" of a calendar is taken as well
    folded = {" ".join(t.split()).casefold() for t in taken}
    return _(OURS_MARK).format(header=text) if text.casefold() in folded else text


def is_outcome_header(cell: object, message: str) -> bool:
    """A header cell of ours, in any language, marked or not."""
    if not isinstance(cell, str):
        return False
    names = every(message)
    marks = every(OURS_MARK)
    return cell in names or any(cell == mark.format(header=n) for mark in marks for n in names)


def outcome_positions(header: Sequence[object]) -> dict[str, int] | None:
    """Where a results workbook of ours keeps its outcome columns (header message -> index),
    or None when ``header`` is not one of ours. By position: the user's own columns may carry
    the same names. (The onOffice answer stands before the Source row since it exists.)"""
    n = len(header)
    if n >= 5 and is_outcome_header(header[-1], SOURCE_ROW):
        if all(is_outcome_header(header[i], m) for i, m in enumerate(OUTCOME_LEAD)):
            found = {**{m: i for i, m in enumerate(OUTCOME_LEAD)}, SOURCE_ROW: n - 1}
            if n >= 6 and is_outcome_header(header[-2], ANSWER):
                found[ANSWER] = n - 2
            return found
        trailing = (*OUTCOME_LEAD, SOURCE_ROW)
        if all(is_outcome_header(header[n - 5 + i], m) for i, m in enumerate(trailing)):
            return {m: n - 5 + i for i, m in enumerate(trailing)}
    return None


def report_positions(header: Sequence[object]) -> dict[str, int] | None:
    """Where our check report keeps its own columns (header message -> index), or None when
    ``header`` is not one of ours: Status, Plan (when it has one), Errors and Warnings first,
    Source row last."""
    n = len(header)
    if n < 5 or not is_outcome_header(header[-1], SOURCE_ROW):
        return None
    for lead in ((STATUS, PLAN, ERRORS, WARNINGS), (STATUS, ERRORS, WARNINGS)):
        if n > len(lead) + 1 and all(is_outcome_header(header[i], m) for i, m in enumerate(lead)):
            return {**{m: i for i, m in enumerate(lead)}, SOURCE_ROW: n - 1}
    return None


# What became of an appointment whose row left the file (the Removed sheet's fifth column).
REMOVED_WORDS: Final = {
    "kept": N_("kept"),
    "canceled": N_("canceled"),
    "already-gone": N_("gone already"),
    "conflict": N_("changed in onOffice: not canceled"),
    "failed": N_("failed"),
}

# What a row's status is called (the machine value stays English: it is the msgid), and its
# fill: green when onOffice holds the row, amber when someone must look, red when it failed.
STATUS_CONTEXT: Final = "status"
OUTCOME_FILLS: Final = {
    "valid": "good",
    "created": "good",
    "updated": "good",
    "unchanged": "good",
    "already-created": "good",
    "exists": "good",
    "unconfirmed": "neutral",  # a check's row the account has not confirmed (its type)
    "conflict": "neutral",
    "ambiguous": "neutral",
    "unknown": "neutral",
    "not-sent": "neutral",
    "invalid": "bad",
    "failed": "bad",
}
# The one vocabulary of what a status means: good (in onOffice as the file has it), needs a
# look, not imported. Everything that sorts rows by it (exit codes, counts, colours) reads it.
IN_ONOFFICE: Final = frozenset(s for s, fill in OUTCOME_FILLS.items() if fill == "good") - {"valid"}
NEEDS_A_LOOK: Final = frozenset(s for s, fill in OUTCOME_FILLS.items() if fill == "neutral")
NOT_IMPORTED: Final = frozenset(s for s, fill in OUTCOME_FILLS.items() if fill == "bad")
# Marked here so the catalogue has them; shown with pgettext(STATUS_CONTEXT, status).
_STATUS_WORDS = (
    NP_("status", "valid"),
    NP_("status", "created"),
    NP_("status", "updated"),
    NP_("status", "unchanged"),
    NP_("status", "already-created"),
    NP_("status", "exists"),
    NP_("status", "unconfirmed"),
    NP_("status", "conflict"),
    NP_("status", "ambiguous"),
    NP_("status", "unknown"),
    NP_("status", "not-sent"),
    NP_("status", "invalid"),
    NP_("status", "failed"),
)


def status_word(status: str) -> str:
    """A status as the user reads it (``angelegt``)."""
    return pgettext(STATUS_CONTEXT, status)


def status_value(text: object) -> str | None:
    """A status cell of our own results workbook, in any language -> the status (``created``)."""
    if not isinstance(text, str) or not text.strip():
        return None
    return _status_values().get(text.strip(), text.strip())


@functools.cache
def _status_values() -> dict[str, str]:
    return {word: s for s in OUTCOME_FILLS for word in every(s, STATUS_CONTEXT)}


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
