"""Issue 31, Must be 6: SIGTERM (or Ctrl-C) at any point of `run` and `undo` ends cleanly.

A real CLI process is stopped in each phase: the mapping being read, the file being read, the
rows being checked, the ledger opening, the rows being sent, the results workbook being
written; for undo the results workbook being read, the ledger opening, the appointments being
deleted, the undo workbook being written. The process reaches the phase and waits there for
the signal (``ONOFFICE_IMPORT_TEST_PAUSE``, :func:`importer.core.stopping.phase`): no timing
guessed. Each ends with exit 130, one line saying so, no traceback, a workbook of what was done
wherever anything was done (complete: never a half-written one, no temporary file left), and a
ledger a later run or undo goes on from.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from importer.core.errors import ExitCode
from importer.core.stopping import PAUSE_VARIABLE
from importer.output.results import save_results
from importer.run.submit import run_import
from importer.run.undo import undo_import
from importer.sandbox import Sandbox

from . import forkserver
from .helpers import client_for, generated, sheet_rows, statuses

ROWS = 5


@dataclass(frozen=True)
class Case:
    command: str  # run, undo
    phase: str
    stop: signal.Signals
    workbook: Counter[str] | None  # its statuses (None: no workbook is written)
    left: int  # appointments in onOffice afterwards


SIGTERM, SIGINT = signal.SIGTERM, signal.SIGINT
CASES = [
    # nothing sent, nothing read: nothing to write
    Case("run", "mapping", SIGTERM, None, 0),
    # the file read (or being read): every row in the results, none sent
    Case("run", "read", SIGTERM, Counter({"not-sent": ROWS}), 0),
    Case("run", "check", SIGTERM, Counter({"not-sent": ROWS}), 0),
    Case("run", "ledger", SIGTERM, Counter({"not-sent": ROWS}), 0),
    # one worker, a first batch of one: stopped after the first row's answer
    Case("run", "sending", SIGTERM, Counter({"created": 1, "not-sent": ROWS - 1}), 1),
    Case("run", "results", SIGTERM, Counter({"created": ROWS}), ROWS),
    Case("run", "results", SIGINT, Counter({"created": ROWS}), ROWS),
    # undo: nothing removed before the deleting, so no undo workbook
    Case("undo", "read", SIGTERM, None, ROWS),
    Case("undo", "ledger", SIGTERM, None, ROWS),
    Case("undo", "deleting", SIGTERM, Counter({"deleted": 1, "kept": ROWS - 1}), ROWS - 1),
    Case("undo", "results", SIGTERM, Counter({"deleted": ROWS}), 0),
]


def _stopped_in(
    phase: str, stop: signal.Signals, args: list[str], sb: Sandbox, folder: Path
) -> str:
    """Start the CLI, wait until it is in ``phase``, stop it; its exit code must be 130.
    Returns what it printed."""
    flag, log = folder / f"in-{phase}", folder / "cli.log"
    env = {
        **os.environ,
        "ONOFFICE_API_URL": sb.url,
        "ONOFFICE_TOKEN": sb.credentials.token,
        "ONOFFICE_SECRET": sb.credentials.secret,
        PAUSE_VARIABLE: f"{phase}:{flag}",
    }
    with log.open("wb") as out:
        proc = forkserver.start(args, stdout=out, stderr=out, env=env, cwd=folder)
    try:
        deadline = time.monotonic() + 30
        while not flag.exists():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"never reached {phase}"
            time.sleep(0.005)
        proc.send_signal(stop)
        code = proc.wait(timeout=30)
    finally:
        proc.end()
    output = log.read_text()
    assert code == ExitCode.INTERRUPTED, output
    return output


def _undo_statuses(workbook: Path) -> Counter[str]:
    return Counter(str(r["What undo did"]) for r in sheet_rows(workbook, "Undo"))


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.command}-{c.phase}-{c.stop.name}")
def test_a_stop_in_each_phase_ends_cleanly_with_the_results_of_what_was_done(
    tmp_path: Path, sandbox: Sandbox, case: Case
) -> None:
    source, mapping = generated(tmp_path, ROWS)
    ledger = tmp_path / "ledger.db"
    results = tmp_path / "rows.results.xlsx"
    client = client_for(sandbox)
    if case.command == "run":
        args = ["run", str(source), "-m", str(mapping), "--journal", str(ledger)]
        written = results
    else:  # an import to undo, made here
        save_results(run_import(source, mapping, client=client, journal_path=ledger), results)
        args = ["undo", str(results), "--yes", "--journal", str(ledger)]
        written = tmp_path / "rows.undo.xlsx"
    output = _stopped_in(case.phase, case.stop, args, sandbox, tmp_path)
    assert "Traceback" not in output
    assert ("Interrupted" in output) or ("Stopped:" in output), output
    assert sandbox.store.count_appointments() == case.left
    assert not list(tmp_path.glob(".*.tmp")), "a temporary file was left"
    if case.workbook is None:
        assert not written.exists()
    elif case.command == "run":
        assert statuses(written) == case.workbook
    else:
        assert _undo_statuses(written) == case.workbook
    # the ledger goes on from where it was stopped: a run creates each row once, an undo
    # removes the rest
    if case.phase not in ("ledger", "sending", "deleting"):
        return
    if case.command == "run":
        again = run_import(source, mapping, client=client, journal_path=ledger)
        assert again.exit_code == ExitCode.OK
        assert sandbox.store.count_appointments() == ROWS
    else:
        undone = undo_import(results, client=client, journal_path=ledger)
        assert undone.exit_code == ExitCode.OK
        assert sandbox.store.count_appointments() == 0
