"""Planning and driving a run (importer/run/submit.py), tested directly over the real sandbox
(HTTP on 127.0.0.1) with real CSV files, results workbooks and SQLite ledgers: the preflight
(credentials, clock, reachability: exit codes 3 and 4, nothing sent, every row said), a run and
its rerun, the plan of a check, the rights checked per row before anything is sent, what an
interrupted run says of its rows, and the small pieces the run keeps in its ledger."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from importer.core.errors import ClockError, ExitCode, NotDelivered
from importer.core.problems import Level, RowProblem
from importer.onoffice.client import Credentials, OnOfficeClient, Timeouts
from importer.onoffice.learned import LEDGER_KEY, Learned
from importer.onoffice.readback import Appointment
from importer.output.results import write_results
from importer.rules.check import check, prepare
from importer.run import identity
from importer.run import journal as jr
from importer.run.journal import Entry, Journal, ledger_path, snapshot
from importer.run.runner import RowResult, RunReport, Status
from importer.run.state import INTACT, Prior
from importer.run.submit import (
    RunOptions,
    described,
    earlier_outcomes,
    interrupted_before,
    invalid_key,
    invalid_record,
    learn_from,
    plan_note,
    planned_check,
    preflight,
    run_import,
    took_in,
)
from importer.sandbox import Sandbox, load_fixtures

from .files import write_csv
from .helpers import client_for, nowhere, subjects

MAPPING = (
    "start: Start\nend: {minutes: 30}\n"
    "fields: {description: Betreff, subscribers.users: {column: Makler, lookup: user}}\n"
)
ROWS = (
    "Start;Betreff;Makler\n"
    "01.03.2027 10:00;Besichtigung A;mmueller\n"
    "kein Datum;Besichtigung B;mmueller\n"
    "03.03.2027 12:00;Übergabe C;jschmidt\n"
)
FAST = RunOptions(backoff_base=0.01, backoff_cap=0.05, settle_delay=0.05)


def _files(tmp_path: Path, rows: str = ROWS) -> tuple[Path, Path]:
    source = write_csv(tmp_path / "viewings.csv", rows)
    mapping = tmp_path / "viewings.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return source, mapping


def test_a_run_creates_the_valid_rows_and_its_rerun_sends_nothing(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Into the account's ledger (no journal named), whose meta keeps the list's invalid
    rows; the second run finds every row as it was."""
    source, mapping = _files(tmp_path)
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        account = client.account()
        again = run_import(source, mapping, client=client, options=FAST)
    assert {r: first.results[r].status for r in (2, 3, 4)} == {
        2: Status.CREATED, 3: Status.INVALID, 4: Status.CREATED,
    }  # fmt: skip
    assert first.exit_code == ExitCode.ROWS_FAILED  # the invalid row
    assert first.account == account
    assert first.finished is not None and first.finished >= first.started
    assert again.counts() == {"already-created": 2, "invalid": 1}
    assert subjects(sandbox) == {"Besichtigung A": 1, "Übergabe C": 1}
    entries, meta = snapshot(ledger_path(account), account)
    assert {e.state for e in entries.values()} == {jr.CREATED} and len(entries) == 2
    assert meta[invalid_key("viewings")] == invalid_record(again)


def test_wrong_credentials_send_nothing_and_say_every_row(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = _files(tmp_path)
    wrong = OnOfficeClient(sandbox.url, Credentials("x" * 32, "y" * 64), timeouts=Timeouts(1, 2))
    with wrong:
        report = run_import(source, mapping, client=wrong, journal_path=tmp_path / "j.sqlite")
    assert report.exit_code == ExitCode.CONFIGURATION == 3
    assert (report.stopped or "").startswith("preflight: ")
    assert {r: (x.status, x.error == report.stopped) for r, x in report.results.items()} == {
        2: (Status.NOT_SENT, True), 3: (Status.INVALID, False), 4: (Status.NOT_SENT, True),
    }  # fmt: skip
    assert "Start" in (report.results[3].error or "")
    assert not (tmp_path / "j.sqlite").exists() and sandbox.store.count_appointments() == 0
    assert report.finished is not None


def test_an_api_that_cannot_be_reached_stops_before_anything(tmp_path: Path) -> None:
    source, mapping = _files(tmp_path)
    url = nowhere()
    with OnOfficeClient(
        url, Credentials("t" * 32, "s" * 64), timeouts=Timeouts(1, 1), read_retries=0
    ) as c:
        report = run_import(source, mapping, client=c, journal_path=tmp_path / "j.sqlite")
    assert report.exit_code == ExitCode.STOPPED == 4
    assert (report.stopped or "").startswith("preflight: the API cannot be reached (")
    assert report.counts() == {"not-sent": 2, "invalid": 1}
    assert not (tmp_path / "j.sqlite").exists()


CLOCK = (
    r"this computer's clock is (89|90|91) s {said} the API server's - check this computer's "
    r"clock and time zone \(the API accepts timestamps within 120 seconds of its own time\)"
)


@pytest.mark.parametrize(("offset", "said"), [(90, "ahead of"), (-90, "behind")])
def test_preflight_refuses_a_clock_a_minute_off(sandbox: Sandbox, offset: int, said: str) -> None:
    """More than 60 s off (the Date header's whole seconds make it 89 to 91 here)."""
    with (
        OnOfficeClient(
            sandbox.url, sandbox.credentials, clock=lambda: time.time() + offset
        ) as client,
        pytest.raises(ClockError) as refused,
    ):
        preflight(client)
    assert re.fullmatch(CLOCK.format(said=said), str(refused.value))
    assert refused.value.exit_code == ExitCode.CONFIGURATION


def test_preflight_takes_a_clock_within_a_minute(sandbox: Sandbox) -> None:
    for offset in (-58, 0, 58):
        with OnOfficeClient(
            sandbox.url, sandbox.credentials, clock=lambda o=offset: time.time() + o
        ) as client:
            assert preflight(client) == client.account()


def test_a_clock_off_in_a_run_sends_nothing(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = _files(tmp_path)
    with OnOfficeClient(sandbox.url, sandbox.credentials, clock=lambda: time.time() - 90) as c:
        report = run_import(source, mapping, client=c, journal_path=tmp_path / "j.sqlite")
    assert report.exit_code == ExitCode.CONFIGURATION
    assert re.fullmatch("preflight: " + CLOCK.format(said="behind"), report.stopped or "")
    assert report.counts() == {"not-sent": 2, "invalid": 1}
    assert sandbox.store.count_appointments() == 0 and not (tmp_path / "j.sqlite").exists()


def test_the_plan_of_a_check_before_and_after_a_run(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = _files(tmp_path)
    journal = tmp_path / "j.sqlite"
    with client_for(sandbox) as client:
        before = planned_check(client, source, prepare(source, mapping), journal_path=journal)
        assert before.plan == {2: "create", 4: "create"} and before.plan_removed == 0
        assert before.plan_notes == {2: "", 4: ""}
        run = run_import(source, mapping, client=client, journal_path=journal, options=FAST)
        ids = {r: run.results[r].appointment_id for r in (2, 4)}
        # row 4 is gone from the file, row 2 changed its subject
        changed = ROWS.replace("Besichtigung A", "Besichtigung A neu").splitlines(True)[:3]
        source, mapping = _files(tmp_path, "".join(changed))
        after = planned_check(client, source, prepare(source, mapping), journal_path=journal)
    assert after.plan == {2: "update"} and after.plan_removed == 1
    assert after.plan_notes[2].startswith(f"appointment {ids[2]}")
    assert sandbox.store.count_appointments() == 2  # a check writes nothing


def test_a_check_whose_account_cannot_be_read_says_the_plan_is_unknown(tmp_path: Path) -> None:
    """Without look-ups the check runs whole, and says the plan is not known; with look-ups
    the check itself needs onOffice: not delivered (exit code 4), said in one line."""
    source, mapping = _files(tmp_path)
    plain = tmp_path / "plain.yaml"
    plain.write_text("start: Start\nend: {minutes: 30}\nfields: {description: Betreff}\n")
    url = nowhere()
    with OnOfficeClient(
        url, Credentials("t" * 32, "s" * 64), timeouts=Timeouts(1, 1), read_retries=0
    ) as c:
        checked = planned_check(c, source, prepare(source, plain))
        with pytest.raises(NotDelivered) as stopped:
            planned_check(c, source, prepare(source, mapping))
    assert checked.plan == {} and [o.valid for o in checked.outcomes] == [True, False, True]
    (notice,) = [n for n in checked.notices if n.startswith("what a run would do")]
    assert notice.startswith("what a run would do is not known (get users: cannot connect to ")
    assert stopped.value.exit_code == ExitCode.STOPPED


def test_rows_the_api_user_may_not_write_are_said_before_anything_is_sent(
    tmp_path: Path,
) -> None:
    """mmueller's calendar may be written, jschmidt's not: the check says so on its row,
    naming the agent, and a run does not send it."""
    fixtures = load_fixtures()
    fixtures.rights = {"create": [17], "modify": [17]}
    source, mapping = _files(tmp_path)
    with Sandbox(fixtures=fixtures) as sb, client_for(sb) as client:
        checked = planned_check(client, source, prepare(source, mapping))
        (problem,) = [p for p in checked.outcomes[2].problems if p.code == "no-right"]
        assert problem.message == (
            "the API user may not create appointments for jschmidt in onOffice (a right is "
            "missing); ask for it, or give the row another agent"
        )
        assert problem.row == 4 and "Makler" in problem.columns
        report = run_import(source, mapping, client=client, journal_path=tmp_path / "j.sqlite")
        assert report.results[4].status == Status.INVALID
        assert report.results[2].status == Status.CREATED
        assert subjects(sb) == {"Besichtigung A": 1}


def test_an_interrupted_run_says_every_row(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = _files(tmp_path)
    checked = check(source, mapping)
    with client_for(sandbox) as client:
        report = interrupted_before(checked, client, datetime.now())
        assert report.interrupted and report.exit_code == ExitCode.INTERRUPTED
        assert {r: x.status for r, x in report.results.items()} == {
            2: Status.NOT_SENT, 3: Status.INVALID, 4: Status.NOT_SENT,
        }  # fmt: skip
        assert report.results[2].error == "interrupted before it was sent; run again"
        partly = RunReport(checked, {2: RowResult(2, Status.CREATED, 5)}, "", datetime.now())
        assert interrupted_before(checked, client, datetime.now(), partly) is partly
    assert partly.results[2] == RowResult(2, Status.CREATED, 5)
    assert partly.results[4].status == Status.NOT_SENT and partly.interrupted


def test_a_results_workbook_says_what_the_earlier_run_did(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = _files(tmp_path)
    with client_for(sandbox) as client:
        report = run_import(source, mapping, client=client, options=FAST)
    results = write_results(report, tmp_path / "viewings.results.xlsx")
    earlier = earlier_outcomes(prepare(results, mapping)[1])
    assert earlier == {
        2: ("created", report.results[2].appointment_id, 2),
        3: ("invalid", None, 3),
        4: ("created", report.results[4].appointment_id, 4),
    }
    assert earlier_outcomes(prepare(source, mapping)[1]) == {}  # not a results workbook


def _entry(key: str, state: str, payload: dict[str, object]) -> Entry:
    return Entry(key, state, 1, None, 2, 1, None, payload)


def test_the_types_a_run_was_taken_and_refused_with_are_learned(tmp_path: Path) -> None:
    learned = Learned(refused={"Notar": "255"})
    took_in(
        {
            "a": _entry("a", jr.CREATED, {"data": {"art": "Notar"}}),
            "b": _entry("b", jr.FAILED, {"data": {"art": "Kaffee"}}),
            "c": _entry("c", jr.CREATED, {"data": {}}),
            "d": _entry("d", jr.CREATED, {}),
        },
        learned,
    )
    assert learned.taken == {"Notar"} and learned.refused == {}
    source = write_csv(
        tmp_path / "t.csv",
        "Start;Typ\n01.03.2027 10:00;Besichtigung\n02.03.2027 10:00;Kaffee\n"
        "03.03.2027 10:00;Tee\n04.03.2027 10:00;Uebergabe\n05.03.2027 10:00;Wein\n"
        "06.03.2027 10:00;Saft\n",
    )
    mapping = tmp_path / "t.yaml"
    mapping.write_text("start: Start\nend: {minutes: 30}\nfields: {art: Typ}\n")
    checked = check(source, mapping)
    answered = (_problem(3, "art"),)
    report = RunReport(
        checked,
        {
            2: RowResult(2, Status.CREATED, 1),
            3: RowResult(3, Status.FAILED, None, "e", "255: Invalid value for art", answered),
            4: RowResult(4, Status.FAILED, error="said"),
            5: RowResult(5, Status.UPDATED, 2),
            6: RowResult(6, Status.FAILED, error="no right", problems=(_problem(6, "start_dt"),)),
            7: RowResult(7, Status.FAILED, error="refused Saft", problems=(_problem(7, "art"),)),
        },
        "",
        datetime.now(UTC),
    )
    learned = Learned()
    learn_from(report, learned)
    assert learned.taken == {"Besichtigung", "Uebergabe"}
    assert learned.refused == {"Kaffee": "255: Invalid value for art", "Saft": "refused Saft"}
    with Journal(tmp_path / "j.sqlite") as journal:  # kept as the run keeps it
        journal.set_meta(LEDGER_KEY, learned.dumps())
        assert Learned.loads(journal.get_meta(LEDGER_KEY)) == learned


def _problem(row: int, field: str) -> RowProblem:
    return RowProblem(row, ("Typ",), "refused", "refused", None, Level.ERROR, field)


def _found(**kwargs: object) -> Appointment:
    values: dict[str, object] = dict(
        id=1, series=1, starts=frozenset(), ends=frozenset(), subject="", note="",
        types=frozenset(), users=None, participants=frozenset(), resources=frozenset(),
        resource_names=frozenset(), addresses=frozenset(), estates=frozenset(), modified=None,
        cancelled=False, via="read calendar",
    )  # fmt: skip
    return Appointment(**{**values, **kwargs})  # type: ignore[arg-type]


def test_an_appointment_and_a_plan_in_the_users_words() -> None:
    starts = frozenset({"2027-03-01 10:00:00", "2027-03-01 09:00:00"})
    assert described(_found(subject="Besichtigung AC-1042", starts=starts)) == (
        "Besichtigung AC-1042, 01.03.2027 09:00"
    )
    readings = (("2027-03-01 10:00:00", "2027-03-01 11:00:00"),)
    assert described(_found(starts=starts, readings=readings)) == "01.03.2027 10:00"
    assert described(_found(subject="Ohne Zeit")) == "Ohne Zeit"
    assert described(_found()) == ""
    prior = Prior(42, None, None, None, INTACT, True)
    step = identity.Step(2, identity.UPDATE, "k", "", prior=prior, changed=("day", "agents", "x"))
    assert plan_note(step) == "appointment 42 (changed: the day, the agents)"
    assert plan_note(identity.Step(2, identity.UNCHANGED, "k", "", prior=prior)) == "appointment 42"
    assert plan_note(identity.Step(2, identity.UPDATE, "k", "", prior=prior)) == "appointment 42"
    assert plan_note(identity.Step(2, identity.CREATE, "k", "")) == ""
    noted = identity.Step(2, identity.CONFLICT, "k", "", prior=prior, note="changed in onOffice")
    assert plan_note(noted) == "changed in onOffice"


def test_what_the_ledger_keeps_of_a_lists_invalid_rows(tmp_path: Path) -> None:
    assert invalid_key("viewings") == "invalid-rows:viewings"
    source, mapping = _files(tmp_path)
    checked = check(source, mapping)
    report = RunReport(
        checked,
        {2: RowResult(2, Status.CREATED, 7), 4: RowResult(4, Status.FAILED)},
        "",
        datetime.now(UTC),
    )
    record = json.loads(invalid_record(report))
    assert record["present"] == [7]
    assert len(record["invalid"]) == 1 and len(record["invalid"][0]) == 16
    # the same invalid row in another file: the same record; another invalid row: another
    (tmp_path / "x").mkdir()
    moved = _files(tmp_path / "x")
    same = RunReport(check(*moved), dict(report.results), "", datetime.now(UTC))
    assert json.loads(invalid_record(same)) == record
    other = _files(tmp_path, ROWS.replace("kein Datum", "nie"))
    assert json.loads(invalid_record(RunReport(check(*other), {}, "", datetime.now(UTC)))) != (
        record
    )
