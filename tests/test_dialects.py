"""The importer against every onOffice that could exist: each UNDOCUMENTED point, switched.

One end-to-end scenario per dialect: look-ups, the double-booking check, a run in which every
create's answer is lost (so each row is settled by reading back), a re-run, credential errors,
and undo. Every single-point alternative runs once; a seeded sample of combinations runs in each
CI run (DIALECT_SAMPLES, default 3, from SEED + 1 on; DIALECT_SEED replays them). Beside
these, the run, undo, identity and conflict modules run whole under random:SEED (conftest.py,
SWEPT); any module replays it with `pytest --sandbox-dialect random:SEED`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from importer import check
from importer.core.errors import AuthenticationError, ExitCode, PermissionRefused
from importer.onoffice.client import Credentials, OnOfficeClient, Timeouts
from importer.output.results import write_results
from importer.run.journal import Journal
from importer.run.submit import RunOptions, RunReport, preflight, run_import
from importer.run.undo import undo_import
from importer.sandbox import Dialect, Faults, Sandbox

from .conftest import ROOT, dialect_seed

SEED = dialect_seed()
SAMPLES = int(os.environ.get("DIALECT_SAMPLES", "3"))

# Points that only show through appointmentList need it to be the call that reads back.
LIST_PAIRS = [
    Dialect(calendar_read="removed", list_users="members"),
    Dialect(calendar_read="removed", list_times="local"),
    Dialect(calendar_read="removed", list_scope="own"),
    Dialect(calendar_read="removed", list_cancelled="hidden"),
    Dialect(calendar_read="removed", delete_resource="appointments", result_order="reversed"),
    Dialect(calendar_read="removed", ids="string", empty_maps="object", series="occurrences"),
]
DIALECTS = [Dialect(), *Dialect.alternatives(), *LIST_PAIRS] + [
    Dialect.random(SEED + 1 + n) for n in range(SAMPLES)
]
IDS = (
    ["default"]
    + [str(d) for d in [*Dialect.alternatives(), *LIST_PAIRS]]
    + [f"random:{SEED + 1 + n}" for n in range(SAMPLES)]
)
FILES = [("viewings.xlsx", "viewings.yaml"), ("series.csv", "series.yaml")]
# Every write's answer is lost: each row is settled by reading back, never sent twice.
LOST = RunOptions(backoff_base=0.01, backoff_cap=0.05, settle_delay=0.05, unreachable_limit=1000)


@pytest.mark.parametrize("dialect", DIALECTS, ids=IDS)
def test_import_settle_rerun_undo_under_dialect(tmp_path: Path, dialect: Dialect) -> None:
    with (
        Sandbox(dialect=dialect) as sb,
        OnOfficeClient(sb.url, sb.credentials, timeouts=Timeouts(2, 5)) as client,
    ):
        preflight(client)
        valid = 0
        for name, mapping in FILES:
            source = tmp_path / name
            shutil.copy(ROOT / "samples" / name, source)
            checked = check(source, ROOT / "mappings" / mapping, api=client, report=False)
            assert not checked.unresolved
            # onOffice's appointmentConflicts is not used (whether it is there or not): double
            # bookings are found in the read of the rows' days; the types are checked where
            # onOffice lists them, and said once where it does not
            if dialect.fields == "permitted":
                assert checked.notices == []
            else:
                assert [n[:56] for n in checked.notices] == [
                    "the appointment types were not checked against onOffice:"
                ]
            valid += checked.valid_count
            sb.faults = Faults(drop_after_rate=1.0, drop_after="500", writes_only=True)
            journal = tmp_path / f"{name}.journal.sqlite"
            report = run_import(
                source,
                ROOT / "mappings" / mapping,
                client=client,
                journal_path=journal,
                options=LOST,
            )
            sb.faults = Faults()
            assert report.counts()["created"] == checked.valid_count, report.results
            write_results(report, tmp_path / f"{name}.results.xlsx")
        # exactly one create POST per valid row, one appointment per row, each settled by a read
        assert sb.stats.actions["create calendar"] == valid
        reads = sb.stats.actions["read calendar"] + sb.stats.actions["get appointmentList"]
        assert reads >= valid
        assert sb.store.count_appointments() == valid
        for name, mapping in FILES:
            again = run_import(
                tmp_path / name,
                ROOT / "mappings" / mapping,
                client=client,
                journal_path=tmp_path / f"{name}.journal.sqlite",
            )
            assert again.counts()["created"] == 0
        assert sb.stats.actions["create calendar"] == valid
        for name, _ in FILES:
            undone = undo_import(
                tmp_path / f"{name}.results.xlsx",
                client=client,
                journal_path=tmp_path / f"{name}.journal.sqlite",
            )
            assert undone.exit_code == ExitCode.OK, undone.items
        assert sb.store.count_appointments() == 0


@pytest.mark.parametrize("http", ["ok", "mirror"])
@pytest.mark.parametrize("mode", ["mixed", "top", "action"])
@pytest.mark.parametrize("wrong", ["token", "secret"])
def test_credential_errors_are_credential_errors_wherever_they_come(
    mode: str, wrong: str, http: str
) -> None:
    with Sandbox(dialect=Dialect(auth_errors=mode, http_status=http)) as sb:
        token, secret = sb.credentials.token, sb.credentials.secret
        creds = Credentials("x" * 32, secret) if wrong == "token" else Credentials(token, "y" * 64)
        with OnOfficeClient(sb.url, creds) as client, pytest.raises(AuthenticationError):
            preflight(client)


def import_viewings(tmp_path: Path, sb: Sandbox, options: RunOptions = LOST) -> RunReport:
    """The sample workbook, imported into ``sb`` with a journal of its own."""
    source = tmp_path / "viewings.xlsx"
    shutil.copy(ROOT / "samples" / "viewings.xlsx", source)
    with OnOfficeClient(sb.url, sb.credentials) as client:
        return run_import(
            source,
            ROOT / "mappings" / "viewings.yaml",
            client=client,
            journal_path=tmp_path / "j.sqlite",
            options=options,
        )


def test_a_missing_right_stops_the_run_with_one_line(tmp_path: Path) -> None:
    refusal = (156, "No right to edit appointments of other users")
    with Sandbox(faults=Faults(refuse_writes=refusal)) as sb:
        report = import_viewings(tmp_path, sb, RunOptions(workers=1))
    assert report.exit_code == ExitCode.CONFIGURATION
    assert report.stopped is not None and "lacks a right" in report.stopped
    assert "156" in report.stopped
    counts = report.counts()
    # a refused write is its row's; the first three all refused: nothing can be written
    assert counts["failed"] == 3 and counts["not-sent"] == 5
    assert sb.stats.actions["create calendar"] == 3
    assert issubclass(PermissionRefused, AuthenticationError)
    with Journal(tmp_path / "j.sqlite") as journal:
        assert {e.state for e in journal.entries().values()} == {"failed"}


@pytest.mark.parametrize("http", ["ok", "mirror"])
@pytest.mark.parametrize("code", ["200", "400", "500"])
def test_a_refused_row_is_a_failed_row_whatever_status_comes_with_it(
    tmp_path: Path, code: str, http: str
) -> None:
    """Error 97 paired with code 400 or 500, even as the HTTP status, is still one row's error."""
    dialect = Dialect(code_with_97=code, http_status=http)
    faults = Faults(refuse_writes=(78, "Entry could not be created"))
    with Sandbox(dialect=dialect, faults=faults) as sb:
        report = import_viewings(tmp_path, sb)
        assert sb.stats.actions["create calendar"] == 8  # refused rows are not re-sent
    assert report.counts()["failed"] == 8 and report.exit_code == ExitCode.ROWS_FAILED
    for r in report.results.values():
        if r.status == "failed":  # in the user's words; the server's own answer beside it
            assert (r.error or "").startswith("onOffice did not create the appointment")
            assert r.answer == "78: Entry could not be created"
