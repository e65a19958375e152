"""One row's step carried out (importer/run/runner.py), tested directly: a Runner over the real
sandbox (HTTP on 127.0.0.1) and a real SQLite journal, the rows checked from a real CSV. A
create journaled before and after and stamped; a refusal in the user's words; a request that
never arrives retried up to the limit, then the run stopped after so many rows without an
answer; a journal that cannot be written sends nothing; a row whose appointment already holds
it; the run's exit code from its rows."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from importer.core import contract
from importer.core.errors import ExitCode
from importer.onoffice.client import OnOfficeClient, Timeouts
from importer.onoffice.reference import list_tag, read_stamp, reference
from importer.rules.check import CheckReport, check
from importer.run import identity
from importer.run import journal as jr
from importer.run.journal import Journal
from importer.run.runner import (
    ALREADY,
    CREATED,
    EXISTS,
    FAILED,
    NOT_SENT,
    STATUSES,
    UNCHANGED,
    RemovedRow,
    RowResult,
    Runner,
    RunOptions,
    RunReport,
    Signature,
    Status,
)
from importer.run.state import INTACT, Prior
from importer.sandbox import Sandbox

from .files import write_csv
from .helpers import client_for, nowhere

MAPPING = "start: Start\nend: {minutes: 30}\nfields: {description: Betreff, art: Typ}\n"
ROWS = (
    "Start;Betreff;Typ\n"
    "01.03.2027 10:00;Besichtigung Lindenstraße;Besichtigung\n"
    "02.03.2027 11:00;Kaffee mit Frau Berg;Kaffee\n"
    "03.03.2027 12:00;Übergabe;Uebergabe\n"
)
FAST = RunOptions(max_attempts=3, backoff_base=0.001, backoff_cap=0.002, unreachable_limit=2)


@dataclass
class Rig:
    runner: Runner
    journal: Journal
    checked: CheckReport
    path: Path

    def step(self, row: int, action: str = identity.CREATE, **kwargs: Any) -> identity.Step:
        return identity.Step(row, action, f"f-{row}", "", **kwargs)

    def params(self, row: int) -> dict[str, Any]:
        (outcome,) = [o for o in self.checked.outcomes if o.row == row]
        assert outcome.parameters is not None
        return outcome.parameters


def _rig(
    tmp_path: Path, client: OnOfficeClient, journal: Journal, options: RunOptions = FAST
) -> Rig:
    source = write_csv(tmp_path / "viewings.csv", ROWS)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    checked = check(source, mapping)
    report = RunReport(checked, {}, client.url, datetime.now(UTC))
    signature = Signature(list_tag("viewings"), "0000beef")
    runner = Runner(client, journal, options, threading.Event(), report, signature)
    return Rig(runner, journal, checked, tmp_path / "j.sqlite")


@pytest.fixture
def rig(tmp_path: Path, sandbox: Sandbox) -> Iterator[Rig]:
    with client_for(sandbox) as client, Journal(tmp_path / "j.sqlite") as journal:
        yield _rig(tmp_path, client, journal)


def test_a_create_is_journaled_and_stamped(rig: Rig, sandbox: Sandbox) -> None:
    result = rig.runner.do(rig.step(2), rig.params(2))
    assert result.status == CREATED and result.error is None
    ident = result.appointment_id
    assert ident is not None and rig.runner.written == {ident}
    entry = rig.journal.entry("f-2")
    assert entry is not None and (entry.state, entry.appointment_id, entry.attempts) == (
        jr.CREATED, ident, 1,
    )  # fmt: skip
    (stored,) = sandbox.store.all_appointments()
    assert stored["description"] == "Besichtigung Lindenstraße"
    stamp = read_stamp(stored["note"])
    assert stamp is not None
    assert (stamp.ref, stamp.list_tag, stamp.row, stamp.run) == (
        reference("f-2"), list_tag("viewings"), 2, "0000beef",
    )  # fmt: skip
    assert entry.payload["data"]["note"] == stored["note"]  # journaled as sent


def test_a_row_from_a_results_workbook_keeps_its_source_row(rig: Rig, sandbox: Sandbox) -> None:
    rig.runner.report.earlier = {3: ("failed", None, 17)}
    result = rig.runner.send(rig.step(3), rig.params(4))
    assert result.status == CREATED
    stamp = read_stamp(sandbox.store.all_appointments()[0]["note"])
    assert stamp is not None and stamp.row == 17
    assert rig.journal.entry("f-3").source_row == 17  # type: ignore[union-attr]


def test_without_the_reference_the_parameters_go_as_they_are(rig: Rig) -> None:
    params = rig.params(2)
    assert rig.runner.payload(rig.step(2), params) != params
    rig.runner.use_reference = False
    assert rig.runner.payload(rig.step(2), params) is params


def test_a_refusal_is_said_in_the_users_words(rig: Rig, sandbox: Sandbox) -> None:
    result = rig.runner.send(rig.step(3), rig.params(3))
    assert result.status == FAILED and result.appointment_id is None
    assert result.answer is not None and "Kaffee" in result.answer
    assert result.problems and {p.field for p in result.problems} == {contract.TYPE_FIELD}
    assert "Kaffee" in (result.error or "")
    entry = rig.journal.entry("f-3")
    assert entry is not None and entry.state == jr.FAILED and "Kaffee" in (entry.error or "")
    assert sandbox.store.count_appointments() == 0
    assert rig.runner.report.stopped is None and not rig.runner.stop.is_set()


def test_a_request_that_never_arrives_is_tried_so_often_then_the_run_stops(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Nothing listens: each row is tried ``max_attempts`` times (each attempt journaled) and
    fails; ``unreachable_limit`` rows in a row without an answer stop the run (exit 4), and a
    row after the stop is not sent."""
    url = nowhere()
    client = OnOfficeClient(url, sandbox.credentials, timeouts=Timeouts(1, 1))
    with client, Journal(tmp_path / "j.sqlite") as journal:
        rig = _rig(tmp_path, client, journal)
        first = rig.runner.send(rig.step(2), rig.params(2))
        assert first.status == FAILED and (first.error or "").startswith("not delivered: ")
        assert journal.entry("f-2").attempts == FAST.max_attempts  # type: ignore[union-attr]
        assert journal.entry("f-2").state == jr.FAILED  # type: ignore[union-attr]
        assert not rig.runner.stop.is_set()  # one row: not yet
        second = rig.runner.send(rig.step(4), rig.params(4))
        assert second.status == FAILED
        assert rig.runner.stop.is_set()
        report = rig.runner.report
        assert report.stop_code == ExitCode.STOPPED
        assert (report.stopped or "").startswith("the API did not answer 2 rows in a row (")
        third = rig.runner.send(rig.step(3), rig.params(3))
        assert (third.status, third.error) == (NOT_SENT, report.stopped)
        assert journal.entry("f-3") is None


def test_an_answer_resets_the_count_of_rows_without_one(tmp_path: Path, sandbox: Sandbox) -> None:
    url = nowhere()
    dead = OnOfficeClient(url, sandbox.credentials, timeouts=Timeouts(1, 1))
    with dead, client_for(sandbox) as alive, Journal(tmp_path / "j.sqlite") as journal:
        rig = _rig(tmp_path, dead, journal)
        assert rig.runner.send(rig.step(2), rig.params(2)).status == FAILED
        rig.runner.client = alive
        assert rig.runner.send(rig.step(4), rig.params(4)).status == CREATED
        rig.runner.client = dead
        assert rig.runner.send(rig.step(5), rig.params(2)).status == FAILED
        assert not rig.runner.stop.is_set()  # 1, answered, 1: never 2 in a row


def test_nothing_is_sent_that_is_not_journaled(rig: Rig, sandbox: Sandbox) -> None:
    rig.journal._db.execute("ALTER TABLE entries RENAME TO gone")
    result = rig.runner.send(rig.step(2), rig.params(2))
    assert result.status == NOT_SENT and "cannot be written" in (result.error or "")
    assert rig.runner.report.stop_code == ExitCode.STOPPED
    assert rig.runner.report.stopped == result.error
    assert sandbox.store.count_appointments() == 0
    rig.journal._db.execute("ALTER TABLE gone RENAME TO entries")


def test_halt_keeps_the_first_reason(rig: Rig) -> None:
    rig.runner.halt("first", ExitCode.CONFIGURATION)
    rig.runner.halt("second", ExitCode.STOPPED)
    assert (rig.runner.report.stopped, rig.runner.report.stop_code) == (
        "first",
        ExitCode.CONFIGURATION,
    )
    assert rig.runner.stop.is_set()
    result = rig.runner.send(rig.step(2), rig.params(2))
    assert (result.status, result.error) == (NOT_SENT, "first")


def test_a_row_whose_appointment_holds_it_is_kept(rig: Rig) -> None:
    """Its own create, lost: created; another's appointment: exists (adopted); this
    computer's as it is: already-created; the same but journaled otherwise: unchanged."""
    created = rig.runner.send(rig.step(2), rig.params(2))
    ident = created.appointment_id
    assert ident is not None
    entry = rig.journal.entry("f-2")
    assert entry is not None
    prior = Prior(ident, None, None, entry, INTACT, True)
    step = rig.step(2, identity.UNCHANGED, prior=prior, content=entry.content or "")
    assert rig.runner.keep(step, rig.params(2)) == RowResult(2, ALREADY, ident)
    lost = replace(entry, state=jr.UNKNOWN)
    keep = replace(step, prior=replace(prior, entry=lost))
    assert rig.runner.keep(keep, rig.params(2)) == RowResult(2, CREATED, ident)
    other = rig.step(4, identity.UNCHANGED, prior=Prior(ident + 1, None, None, None, INTACT, False))
    assert rig.runner.keep(other, rig.params(4)) == RowResult(4, EXISTS, ident + 1)
    adopted = rig.journal.entry("f-4")
    assert adopted is not None and (adopted.state, adopted.appointment_id) == (
        jr.CREATED, ident + 1,
    )  # fmt: skip
    changed = replace(step, content="0" * 12)
    assert rig.runner.keep(changed, rig.params(2)) == RowResult(2, UNCHANGED, ident)
    assert rig.journal.entry("f-2").content == "0" * 12  # type: ignore[union-attr]


def test_when_a_lost_row_can_be_settled(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """The time is Berlin's (the office's), whatever this computer's zone (issue 30, point 7)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        runner = rig.runner
        assert runner.settle_when(None) == "run again to settle it"
        old = (datetime.now(UTC) - timedelta(seconds=121)).strftime(contract.DATETIME_FORMAT)
        assert runner.settle_when(old) == "run again to settle it"
        recent = datetime.now(UTC).replace(microsecond=0)
        said = runner.settle_when(recent.strftime(contract.DATETIME_FORMAT))
        berlin = ZoneInfo(contract.LOCAL_TIMEZONE)
        ready = (recent + timedelta(seconds=120)).astimezone(berlin)
        assert said == f"run again from {ready:%d.%m.%Y %H:%M} on to settle it"
    finally:
        monkeypatch.undo()
        time.tzset()


def _report(*statuses: Status, removed: tuple[str, ...] = ()) -> RunReport:
    results = {i: RowResult(i, s) for i, s in enumerate(statuses)}
    report = RunReport(None, results, "", datetime.now(UTC))  # type: ignore[arg-type]
    report.removed = [RemovedRow(1, 2, "", "", s) for s in removed]
    return report


def test_the_exit_code_of_a_run() -> None:
    ok = (Status.CREATED, Status.UPDATED, Status.UNCHANGED, Status.ALREADY, Status.EXISTS)
    assert _report(*ok).exit_code == ExitCode.OK
    assert _report(*ok, removed=("kept", "canceled", "already-gone")).exit_code == ExitCode.OK
    assert _report().counts() == {}
    assert _report(CREATED, CREATED, FAILED).counts() == {"created": 2, "failed": 1}
    for failing in ("invalid", "failed", "not-sent", "conflict", "ambiguous"):
        assert _report(CREATED, Status(failing)).exit_code == ExitCode.ROWS_FAILED, failing
    for failing in ("conflict", "failed"):
        assert _report(CREATED, removed=(failing,)).exit_code == ExitCode.ROWS_FAILED
    assert _report(FAILED, Status.UNKNOWN).exit_code == ExitCode.UNKNOWN_OUTCOME
    stopped = _report(Status.UNKNOWN)
    stopped.stop_code = ExitCode.CONFIGURATION
    assert stopped.exit_code == ExitCode.CONFIGURATION
    stopped.interrupted = True
    assert stopped.exit_code == ExitCode.INTERRUPTED
    assert [str(s) for s in STATUSES] == [
        "created", "updated", "unchanged", "already-created", "exists", "conflict",
        "ambiguous", "invalid", "failed", "unknown", "not-sent",
    ]  # fmt: skip
