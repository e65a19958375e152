"""Issue 31, Must be 4: undo on another computer, which has the results workbook but not the
import's ledger, removes every appointment the import made: those the workbook names (their
stamp says the list's import wrote them) and those a later run on the first computer cancelled
because their rows left the file (found by the list's stamp, as the import cancelled them),
though this computer's copy of the workbook is older than that run. Nothing else: not a later
row's appointment, not one a person cancelled, not a person's own."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

from importer.core.errors import ExitCode
from importer.output.results import write_results
from importer.run.submit import RunOptions, run_import
from importer.sandbox import Sandbox

from .helpers import FAST, cli, client_for, edit_in_onoffice, rows, sheet_rows, write

LIVE = RunOptions(
    cancel_removed=True, backoff_base=0.01, backoff_cap=0.05, settle_delay=0.05, quiet_after=5
)


def _undone(book: Path) -> Counter[str]:
    return Counter(str(r["What undo did"]) for r in sheet_rows(book, "Undo"))


def test_undo_on_another_computer_removes_what_a_later_run_cancelled_and_nothing_else(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Computer A imports rows A, B, C; the results workbook is copied to computer B. On A, rows
    D, E, F join the file; then B and D leave it (run with --cancel-removed: both appointments
    cancelled); a person cancels F's appointment in onOffice and has a cancelled appointment
    of their own. Undo on B deleted nothing ("not in the journal": 3 left alone); now it
    deletes A, B, C and D, which B's workbook does not name (4), and leaves E (a later row's),
    F (cancelled by a person) and the person's own (3 left); a second undo deletes nothing."""
    table = rows(6)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    source, mapping = write(a, table[:3])
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        write_results(first, a / "rows.results.xlsx")
        shutil.copy(a / "rows.results.xlsx", b / "rows.results.xlsx")
        write(a, table)
        grown = run_import(source, mapping, client=client, options=FAST)
        write(a, [table[0], table[2], table[4], table[5]])
        later = run_import(source, mapping, client=client, options=LIVE)
    assert grown.counts() == {"already-created": 3, "created": 3}
    assert [r.status for r in later.removed] == ["canceled", "canceled"]
    made = {r.row: r.appointment_id for r in grown.results.values()}
    edit_in_onoffice(sandbox, made[7], status="canceled")  # row F's, cancelled by a person
    own = dict(sandbox.store.appointment(made[6]) or {})
    own.pop("id")
    own.update(note="Rückruf Herr Weber", status="canceled")  # a person's, no stamp
    left = {made[6], made[7], sandbox.store.insert_appointment(own, own["modified"])}
    undo = ["undo", str(b / "rows.results.xlsx"), "--yes"]
    done = cli(undo, sandbox, tmp_path / "home-b", b)
    assert done.returncode == ExitCode.OK, done.stdout + done.stderr
    assert _undone(b / "rows.undo.xlsx") == {"deleted": 4}
    assert {x["id"] for x in sandbox.store.all_appointments()} == left
    again = cli(undo, sandbox, tmp_path / "home-b", b)
    assert again.returncode == ExitCode.OK, again.stdout + again.stderr
    assert "3 undone earlier" in again.stdout
    assert {x["id"] for x in sandbox.store.all_appointments()} == left
