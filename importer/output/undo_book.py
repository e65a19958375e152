"""The undo workbook: what undo did with each appointment, beside the row it came from.

``RESULTS.undo.xlsx`` is written beside the results workbook: per appointment what undo did, its
date, time and subject as the import wrote them, then its row as the user typed it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from ..core import contract
from ..core.i18n import _, number, when
from ..run.undo import UndoReport, WorkbookRows, undo_word
from .report import summary_sheet
from .workbook import TableSheet, write_workbook


def write_undo_results(report: UndoReport) -> Path:
    """RESULTS.undo.xlsx beside the results workbook: per appointment what undo did, its date,
    time and subject (as the import wrote them), then its row as the user typed it (estate,
    contacts, agents in the user's own words)."""
    target = report.results_path.with_name(
        report.results_path.name.replace(".results.xlsx", "") + ".undo.xlsx"
    )
    workbook = report.workbook or WorkbookRows({}, [], {})
    # Named apart from the user's own columns that follow ("Datum", "Betreff" are common).
    lead = [
        _("What undo did"),
        _("Message"),
        _("Appointment date"),
        _("Appointment time"),
        _("Appointment subject"),
    ]
    # the row first: it is what identifies an appointment to the office, on every page
    rows: list[list[Any]] = [[_("Source row"), *lead, _("Appointment ID"), *workbook.columns]]
    blank = (None,) * len(workbook.columns)
    for item in sorted(report.items, key=lambda i: (i.source_row or 0, i.appointment_id)):
        imported = report.imported.get(item.appointment_id)
        rows.append(
            [
                item.source_row,
                undo_word(item.status),
                item.message or None,
                *described(imported.payload if imported else {}),
                item.appointment_id,
                *workbook.cells.get(item.appointment_id, blank),
            ]
        )
    counts = report.counts()
    done = ", ".join(
        f"{number(n)} {undo_word(status)}" for status, n in sorted(counts.items()) if n
    )
    summary: list[list[Any]] = [
        [_("Undo of {file}").format(file=report.results_path.name), ""],
        [_("Result"), done or _("nothing to undo")],
        [
            _("Good to know"),
            _(
                "The results workbook still says the rows were created: importing it again "
                "creates them again."
            ),
        ],
        [],
        [_("Undone at"), when(contract.local_now())],
        [_("Results workbook"), report.results_path.name],  # the file the office has
    ]
    return write_workbook(
        target,
        [
            # the subject wraps in its column: printed, it never runs into the id beside it
            TableSheet(
                _("Undo"),
                rows,
                wrap=frozenset({2, 5}),
                widths={5: 36.0},
                autofilter=True,
                left=True,
            ),
            summary_sheet(summary),
        ],
    )


def described(payload: dict[str, Any]) -> list[Any]:
    """Date, time and subject of what an import sent."""
    data = payload.get("data", {})
    start = _moment(data.get("start_dt"))
    end = _moment(data.get("end_dt"))
    if start is None:
        day = clock = None
    elif data.get("allDay"):
        day, clock = start.strftime("%d.%m.%Y"), _("all day")
    else:
        day = start.strftime("%d.%m.%Y")
        clock = start.strftime("%H:%M") + (f"–{end:%H:%M}" if end else "")
    return [day, clock, data.get("description")]


def _moment(text: Any) -> datetime | None:
    try:
        return datetime.strptime(str(text), contract.DATETIME_FORMAT)
    except ValueError:
        return None
