"""`run`: one appointment per valid row, results for every row, never a duplicate."""

from __future__ import annotations

import os
import shutil
import socket
from collections import Counter
from pathlib import Path

import openpyxl
import pytest

from importer.cli import main
from importer.core.errors import ExitCode
from importer.onoffice.client import OnOfficeClient, Timeouts
from importer.output.results import default_results_path, write_results
from importer.run.journal import default_journal_path
from importer.run.submit import RunOptions, run_import
from importer.sandbox import Dialect, Faults, Sandbox

from .conftest import ROOT
from .files import write_csv
from .helpers import client_for, generated, subjects

MAPPING = ROOT / "mappings" / "viewings.yaml"
# A quick server: a row proven absent may be sent again at once (resend_after=0).
FAST = RunOptions(backoff_base=0.01, backoff_cap=0.05, settle_delay=0.05, resend_after=0.0)


def test_sample_import_results_and_rerun(tmp_path: Path, sandbox: Sandbox) -> None:
    source = tmp_path / "viewings.xlsx"
    shutil.copy(ROOT / "samples" / "viewings.xlsx", source)
    journal = default_journal_path(default_results_path(source))
    with client_for(sandbox) as client:
        first = run_import(source, MAPPING, client=client, journal_path=journal)
        assert first.counts() == {"created": 8, "invalid": 6}
        assert first.exit_code == ExitCode.ROWS_FAILED
        # every create checked for a twin, the cancelled row's too (it was said to be unchecked)
        assert first.notices == []
        written = write_results(first, default_results_path(source))
        creates = sandbox.stats.actions["create calendar"]
        again = run_import(source, MAPPING, client=client, journal_path=journal)
    assert again.counts() == {"already-created": 8, "invalid": 6}
    assert sandbox.stats.actions["create calendar"] == creates  # 0 POSTs for created rows
    invalid = [r.row for r in first.results.values() if r.status == "invalid"]
    assert invalid and not any(f"row-{r}" in sandbox.stats.by_identifier for r in invalid)
    assert sandbox.store.count_appointments() == 8
    sheet = openpyxl.load_workbook(written)["Results"]
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["Status", "Appointment ID", "Error", "Warnings"]
    assert header[-1] == "Source row"
    assert openpyxl.load_workbook(written)["Results"].freeze_panes == "D2"  # outcome in view
    rows = {r[-1].value: r for r in sheet.iter_rows(min_row=2)}
    assert rows[4][header.index("Status")].value == "created"
    assert isinstance(rows[4][header.index("Appointment ID")].value, int)
    assert rows[11][header.index("Status")].value == "invalid"
    assert "before the start" in rows[11][header.index("Error")].value
    assert rows[5][header.index("Objekt-Nr.")].value == "0815"  # as the user typed it
    summary = {
        r[0]: r[1] for r in openpyxl.load_workbook(written)["Summary"].iter_rows(values_only=True)
    }
    assert summary["created"] == 8 and summary["invalid"] == 6
    assert summary["Result"] == (
        "8 of 14 rows are in onOffice; 6 rows are not (their Status is red or amber in the "
        "sheet “Results”)"
    )
    assert summary["API URL"] == sandbox.url
    assert sandbox.credentials.token not in str(summary)


def test_fixing_three_rows_in_the_results_workbook_creates_exactly_those(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source = tmp_path / "viewings.xlsx"
    shutil.copy(ROOT / "samples" / "viewings.xlsx", source)
    results = default_results_path(source)
    journal = default_journal_path(results)
    with client_for(sandbox) as client:
        write_results(run_import(source, MAPPING, client=client, journal_path=journal), results)
        book = openpyxl.load_workbook(results)
        sheet = book["Results"]
        header = [c.value for c in sheet[1]]
        by_source = {r[-1].value: r for r in sheet.iter_rows(min_row=2)}
        by_source[11][header.index("Ende")].value = by_source[11][header.index("Beginn")].value
        by_source[11][header.index("Ende")].value = by_source[12][header.index("Ende")].value
        by_source[12][header.index("Erinnerung")].value = "15 Min"
        by_source[14][header.index("Objekt-Nr.")].value = "AC-1050"
        book.save(results)
        before = sandbox.store.count_appointments()
        fixed = run_import(
            results,
            MAPPING,
            client=client,
            journal_path=journal,
            options=RunOptions(only_failed=True),
        )
        write_results(fixed, results)
    assert sandbox.store.count_appointments() - before == 3
    assert fixed.counts()["created"] == 3
    assert fixed.counts()["already-created"] == 8
    sheet = openpyxl.load_workbook(results)["Results"]
    header = [c.value for c in sheet[1]]
    assert header.count("Status") == 1  # updated in place, not nested
    statuses = {r[-1].value: r[header.index("Status")].value for r in sheet.iter_rows(min_row=2)}
    assert [statuses[r] for r in (11, 12, 14)] == ["created"] * 3
    assert statuses[13] == "invalid"


def test_transient_failures_and_dropped_answers_create_each_row_exactly_once(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source, mapping = generated(tmp_path, 150)
    sandbox.faults = Faults(fail_before_rate=0.2, drop_after_rate=0.05, seed=11)
    journal = tmp_path / "rows.journal.sqlite"
    runs = []
    with client_for(sandbox) as client:
        for _ in range(6):
            report = run_import(source, mapping, client=client, journal_path=journal, options=FAST)
            runs.append(report.counts())
            if report.exit_code == ExitCode.OK:
                break
    assert report.exit_code == ExitCode.OK, runs
    counts = subjects(sandbox)
    assert len(counts) == 150
    assert set(counts.values()) == {1}, [s for s, n in counts.items() if n > 1]
    creates = [n for ident, n in sandbox.stats.by_identifier.items() if ident.startswith("row-")]
    assert len(creates) == 150
    assert max(creates) <= 8  # each re-send follows a read-back that proved the row absent


def test_unknown_outcome_is_settled_by_read_back_not_by_a_second_post(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source, mapping = generated(tmp_path, 20)
    sandbox.faults = Faults(drop_after_rate=1.0, writes_only=True)
    patient = RunOptions(settle_delay=0.05, unreachable_limit=1000)
    with client_for(sandbox) as client:
        report = run_import(
            source, mapping, client=client, journal_path=tmp_path / "j.sqlite", options=patient
        )
    assert report.counts() == {"created": 20}  # every one adopted by reading back
    assert set(subjects(sandbox).values()) == {1}
    posts = [n for ident, n in sandbox.stats.by_identifier.items() if ident.startswith("row-")]
    assert posts == [1] * 20


def test_slow_answers_past_the_read_timeout_are_settled_without_duplicates(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source, mapping = generated(tmp_path, 6)
    sandbox.faults = Faults(latency=0.6, writes_only=True)
    with client_for(sandbox, read=0.2) as client:
        report = run_import(
            source,
            mapping,
            client=client,
            journal_path=tmp_path / "j.sqlite",
            options=RunOptions(settle_delay=0.8, unreachable_limit=1000),
        )
    assert report.counts() == {"created": 6}
    assert set(subjects(sandbox).values()) == {1}


@pytest.mark.parametrize("case", ["wrong-secret", "clock-skew", "clock-warning", "unreachable"])
def test_preflight_failures_create_nothing_and_still_write_results(
    tmp_path: Path, sandbox: Sandbox, case: str
) -> None:
    source, mapping = generated(tmp_path, 5)
    url, creds = sandbox.url, sandbox.credentials
    if case == "wrong-secret":
        from importer.onoffice.client import Credentials

        creds = Credentials(creds.token, "w" * 64)
    elif case == "clock-skew":
        sandbox.faults = Faults(clock_skew=300)
    elif case == "clock-warning":
        sandbox.faults = Faults(clock_skew=90)  # inside the API's window, outside ours
    else:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{s.getsockname()[1]}/api/stable/api.php"
    with OnOfficeClient(url, creds, timeouts=Timeouts(1, 2)) as client:
        report = run_import(source, mapping, client=client, journal_path=tmp_path / "j.sqlite")
    expected = ExitCode.STOPPED if case == "unreachable" else ExitCode.CONFIGURATION
    assert report.exit_code == expected
    assert report.counts() == {"not-sent": 5}
    assert sandbox.store.count_appointments() == 0
    written = write_results(report, tmp_path / "rows.results.xlsx")
    assert openpyxl.load_workbook(written)["Results"].max_row == 6


def test_an_api_that_stops_answering_stops_the_run_early(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = generated(tmp_path, 60)

    def break_at_10(done: int, total: int, counts: Counter[str]) -> None:
        if done == 10:
            sandbox.faults = Faults(fail_before_rate=1.0, fail_before="reset")

    broken = client_for(sandbox)
    broken.read_retries = 0  # each read of the broken API fails at once (the run is the subject)
    with broken as client:
        report = run_import(
            source,
            mapping,
            client=client,
            journal_path=tmp_path / "j.sqlite",
            options=FAST,
            progress=break_at_10,
        )
    counts = report.counts()
    assert report.exit_code == ExitCode.STOPPED
    assert counts["created"] == sandbox.store.count_appointments() == 10
    # rows in flight when it broke stay unknown (the read-backs fail too); the next existence
    # check or five unanswered rows stop the run: the rest is not sent
    assert 1 <= counts["unknown"] <= 5
    assert counts["not-sent"] == 50 - counts["unknown"]
    sandbox.faults = Faults()
    with client_for(sandbox) as client:  # later, the API is back: a re-run settles and finishes
        # FAST resends after 0 s: as if run after the default 120 s
        again = run_import(
            source, mapping, client=client, journal_path=tmp_path / "j.sqlite", options=FAST
        )
    assert again.exit_code == ExitCode.OK
    assert set(subjects(sandbox).values()) == {1} and len(subjects(sandbox)) == 60


def test_credentials_revoked_mid_run_stop_with_exit_3(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = generated(tmp_path, 200)

    def revoke_at_50(done: int, total: int, counts: Counter[str]) -> None:
        if done == 50:
            sandbox.revoke_credentials()

    with client_for(sandbox) as client:
        report = run_import(
            source,
            mapping,
            client=client,
            journal_path=tmp_path / "j.sqlite",
            progress=revoke_at_50,
        )
    counts = report.counts()
    assert report.exit_code == ExitCode.CONFIGURATION
    assert counts["created"] == sandbox.store.count_appointments() >= 50
    assert counts["not-sent"] >= 100  # stopped early instead of failing every row
    assert sum(counts.values()) == 200


def test_workers_8_give_the_same_outcome_as_workers_1(tmp_path: Path) -> None:
    source, mapping = generated(tmp_path, 120)
    outcomes = []
    for workers in (1, 8):
        with Sandbox() as sb, client_for(sb) as client:
            sb.faults = Faults(latency=0.005)
            report = run_import(
                source,
                mapping,
                client=client,
                journal_path=tmp_path / f"j{workers}.sqlite",
                options=RunOptions(workers=workers),
            )
            outcomes.append(
                (
                    [
                        (r.row, r.status)
                        for r in sorted(report.results.values(), key=lambda r: r.row)
                    ],
                    sorted(subjects(sb).items()),
                )
            )
    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0][1]) == 120


def test_duplicate_rows_are_not_sent_unless_allowed(tmp_path: Path, sandbox: Sandbox) -> None:
    source = write_csv(
        tmp_path / "d.csv",
        "Start;Betreff;Makler\n01.12.2025 10:00;A;mmueller\n01.12.2025 10:00;A;mmueller\n"
        "01.12.2027 11:00;B;mmueller\n",
    )  # the twins also lie in the past and double-book Maria: other warnings come first
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "start: Start\nend: {minutes: 30}\nfields: {description: Betreff, "
        "subscribers.users: {column: Makler, lookup: user}}\n"
    )
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, journal_path=tmp_path / "j.sqlite")
        assert [first.results[r].status for r in (2, 3, 4)] == ["created", "not-sent", "created"]
        assert "same appointment as row 2" in (first.results[3].error or "")
        second = run_import(
            source,
            mapping,
            client=client,
            journal_path=tmp_path / "j.sqlite",
            options=RunOptions(allow_duplicates=True),
        )
    assert [second.results[r].status for r in (2, 3, 4)] == [
        "already-created",
        "created",
        "already-created",
    ]
    assert subjects(sandbox) == {"A": 2, "B": 1}


def test_cli_run_with_sandbox_and_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "viewings.xlsx"
    shutil.copy(ROOT / "samples" / "viewings.xlsx", source)
    with pytest.raises(SystemExit) as caught:
        main(["run", str(source), "-m", str(MAPPING), "--sandbox"])
    out = capsys.readouterr().out
    assert caught.value.code == ExitCode.ROWS_FAILED
    assert "14 rows: 8 created, 6 invalid\n" in out
    assert (tmp_path / "viewings.results.xlsx").exists()
    assert not (tmp_path / "viewings.results.journal.sqlite").exists()
    ledgers = list((Path(os.environ["ONOFFICE_IMPORT_DATA"]) / "ledgers").glob("*.sqlite"))
    assert len(ledgers) == 1  # the account's own journal, in the data folder


def test_demo_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path / "demo")]) in (None, 0)  # exit code 0
    out = capsys.readouterr().out
    assert "Second run of the same file: 0 created, 8 already created" in out
    assert "nothing is created twice" in out
    assert (tmp_path / "demo" / "viewings.results.xlsx").exists()


def test_results_unwritable_are_written_elsewhere_and_said(
    tmp_path: Path,
    sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from importer.cli import _write_results

    source, mapping = generated(tmp_path, 3)
    (tmp_path / "not-a-folder").write_text("x")
    target = tmp_path / "not-a-folder" / "rows.results.xlsx"  # cannot be created: OSError
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with client_for(sandbox) as client:
        report = run_import(source, mapping, client=client, journal_path=tmp_path / "j.sqlite")
    written = _write_results(report, target)
    assert written == elsewhere / "rows.results.xlsx"
    assert written.exists()
    assert f"cannot write {target}" in capsys.readouterr().err


def test_a_refused_file_costs_no_api_call(tmp_path: Path, sandbox: Sandbox) -> None:
    from importer.core.errors import SourceFileError

    source = write_csv(tmp_path / "bad.csv", "Start;Betreff\n")  # header only
    mapping = tmp_path / "m.yaml"
    mapping.write_text("start: Start\nend: {minutes: 30}\nfields: {description: Betreff}\n")
    with client_for(sandbox) as client, pytest.raises(SourceFileError, match="no data rows"):
        run_import(source, mapping, client=client, journal_path=tmp_path / "j.sqlite")
    assert sandbox.stats.posts == 0


def test_failing_lookups_send_nothing_and_still_give_results(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source, mapping = generated(tmp_path, 10)
    calls = {"n": 0}
    original = sandbox.engine.answer

    def users_then_broken(body: bytes) -> dict:
        calls["n"] += 1
        if calls["n"] > 1:  # the preflight passes, every look-up read fails
            raise ConnectionResetError
        return original(body)

    sandbox.engine.answer = users_then_broken  # type: ignore[method-assign]
    with client_for(sandbox) as client:
        client.read_retries = 1
        report = run_import(source, mapping, client=client, journal_path=tmp_path / "j.sqlite")
    assert report.exit_code == ExitCode.STOPPED
    assert report.counts() == {"not-sent": 10}
    assert report.stopped is not None and report.stopped.startswith("look-ups failed")
    assert sandbox.store.count_appointments() == 0


def test_progress_counts_every_row_once_as_the_report_does(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """The progress line's counts are kept per row (counting anew each row was quadratic):
    at every call they equal the report's counts at that moment, and at the end its total."""
    source, mapping = generated(tmp_path, 60)
    seen: list[bool] = []
    with client_for(sandbox) as client:
        holder: dict[str, object] = {}

        def progress(done: int, total: int, counts: Counter[str]) -> None:
            seen.append(sum(counts.values()) >= done)
            holder["last"] = (done, total, Counter(counts))

        report = run_import(
            source, mapping, client=client, journal_path=tmp_path / "j.sqlite", progress=progress
        )
    done, total, counts = holder["last"]  # type: ignore[misc]
    assert (done, total) == (60, 60) and all(seen)
    assert counts == report.counts() == Counter({"created": 60})


def test_this_module_meets_the_sessions_random_dialect_too(swept_dialect: str) -> None:
    """The sweep (conftest.py) reaches every Sandbox() of this module's second run."""
    with Sandbox() as sb:
        assert sb.engine.dialect == (Dialect.parse(swept_dialect) if swept_dialect else Dialect())
    if swept_dialect:
        assert Dialect.parse(swept_dialect) != Dialect()  # all 24 drawn as documented: ~1e-7


def test_a_run_takes_each_rows_fingerprint_from_the_check(
    tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Computed once, handed on (issue 24): the check fingerprints each valid row, the plan
    carries it in the row's step, and the run stamps and journals it without hashing again;
    an edit run (an update) and a re-run (unchanged) as well as the first (creates)."""
    from importer.rules import check, payload
    from importer.run import runner

    made: list[int] = []
    real = payload.fingerprint

    def counted(params: dict[str, object]) -> str:
        made.append(1)
        return real(params)

    monkeypatch.setattr(check, "fingerprint", counted)  # what the check calls
    monkeypatch.setattr(runner, "fingerprint", counted)  # what the run would call
    source = tmp_path / "viewings.xlsx"
    shutil.copy(ROOT / "samples" / "viewings.xlsx", source)
    journal = tmp_path / "ledger.sqlite"
    book = openpyxl.load_workbook(source)
    with client_for(sandbox) as client:
        first = run_import(source, MAPPING, client=client, journal_path=journal)
        assert first.counts()["created"] == 8 and len(made) == 8  # the check's, one a row
        book.active["L4"] = "Neuer Text"  # a row's note edited: an update
        book.save(source)
        made.clear()
        edited = run_import(source, MAPPING, client=client, journal_path=journal)
    assert edited.counts() == {"updated": 1, "already-created": 7, "invalid": 6}
    assert len(made) == 8  # the check's again, none of the run's
