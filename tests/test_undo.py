"""`undo`: exactly the appointments an import created, journaled, resumable, idempotent."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from importer.core import i18n
from importer.core.errors import ExitCode
from importer.onoffice.client import Credentials, OnOfficeClient, Timeouts
from importer.onoffice.readback import Appointment, seen_digest
from importer.onoffice.reference import Stamp, read_stamp, with_stamp
from importer.output.results import default_results_path, write_results
from importer.run.journal import Journal, default_journal_path
from importer.run.submit import RunOptions, run_import
from importer.run.undo import (
    CANCELED,
    DELETED,
    DISAGREE,
    FAILED,
    GONE,
    KEPT,
    MODIFIED,
    Imported,
    UndoItem,
    UndoReport,
    _changed_since,
    _moment_utc,
    changed_by_someone,
    plan_undo,
    undo_import,
    undo_word,
)
from importer.sandbox import Faults, Sandbox

from . import forkserver
from .conftest import ROOT
from .helpers import FAST, client_for, rows, write

MAPPING = ROOT / "mappings" / "viewings.yaml"


def in_its_rows(report: UndoReport, rows: dict[int, int] | None = None) -> None:
    """Each item names its appointment and the row it came from (the workbook's, or
    ``rows``'s for those the run cancelled)."""
    assert report.workbook is not None
    known = {**report.workbook.ids, **(rows or {})}
    for item in report.items:
        assert item.appointment_id in known, item
        assert item.source_row == known[item.appointment_id], item


@pytest.fixture
def imported(tmp_path: Path, sandbox: Sandbox) -> tuple[Path, Path]:
    source = tmp_path / "viewings.xlsx"
    shutil.copy(ROOT / "samples" / "viewings.xlsx", source)
    results = default_results_path(source)
    journal = default_journal_path(results)
    with OnOfficeClient(sandbox.url, sandbox.credentials) as client:
        client.create_appointment(
            {
                "data": {
                    "start_dt": "2027-03-01 10:00:00",
                    "end_dt": "2027-03-01 10:45:00",
                    "description": "not from the import",
                }
            }
        )
        write_results(run_import(source, MAPPING, client=client, journal_path=journal), results)
    assert sandbox.store.count_appointments() == 9
    return results, journal


def test_undo_removes_exactly_the_imported_and_a_second_undo_does_nothing(
    imported: tuple[Path, Path], sandbox: Sandbox
) -> None:
    results, journal = imported

    def deletes() -> int:  # the documentation names both resource types (§5.5)
        return sum(sandbox.stats.actions[f"delete {t}"] for t in ("calendar", "appointments"))

    with OnOfficeClient(sandbox.url, sandbox.credentials) as client:
        first = undo_import(results, client=client, journal_path=journal, confirm=lambda p: True)
        after_first = deletes()
        asked: list[list[UndoItem]] = []
        second = undo_import(results, client=client, journal_path=journal, confirm=asked.append)
    assert first.counts() == {"deleted": 8}
    assert asked == []  # nothing left to undo: nothing to confirm
    in_its_rows(first)
    in_its_rows(second)
    assert [a["description"] for a in sandbox.store.all_appointments()] == ["not from the import"]
    assert second.counts() == {"deleted": 8}  # reported as undone earlier
    assert all(i.message == "undone earlier" for i in second.items)
    assert deletes() == after_first  # the second undo sends nothing
    # one per appointment; one more where the server knows only the other resource type
    expected = 8 if sandbox.dialect.delete_resource in ("both", "calendar") else 9
    assert after_first == expected


def test_undo_can_cancel_instead_and_a_rerun_creates_the_rows_again(
    imported: tuple[Path, Path], sandbox: Sandbox
) -> None:
    results, journal = imported
    with OnOfficeClient(sandbox.url, sandbox.credentials) as client:
        report = undo_import(results, client=client, journal_path=journal, cancel=True)
        assert report.counts() == {"canceled": 8}
        in_its_rows(report)
        for item in report.items:  # the import's own cancellation, said in its stamp
            stamp = read_stamp(sandbox.store.appointment(item.appointment_id)["note"])  # type: ignore[index]
            assert stamp is not None and stamp.complete and stamp.at > 0
        earlier = undo_import(results, client=client, journal_path=journal, cancel=True)
        assert earlier.counts() == {"canceled": 8}
        assert {i.message for i in earlier.items} == {"undone earlier"}
        statuses = sorted(a.get("status", "active") for a in sandbox.store.all_appointments())
        assert statuses == ["active"] + ["canceled"] * 8
        again = run_import(
            results.with_name("viewings.xlsx"), MAPPING, client=client, journal_path=journal
        )
    # undone rows are not "already created" any more: their appointments are active again
    # (cancelled by the import, so not a person's change), never created twice; the sample's
    # cancelled viewing is cancelled as its row says
    assert again.counts()["updated"] == 7 and again.counts()["unchanged"] == 1
    assert sandbox.store.count_appointments() == 9
    statuses = sorted(a.get("status", "active") for a in sandbox.store.all_appointments())
    assert statuses == ["active"] * 8 + ["canceled"]


def test_appointments_changed_after_the_import_are_skipped_unless_forced(
    imported: tuple[Path, Path], sandbox: Sandbox
) -> None:
    results, journal = imported
    record = sandbox.store.all_appointments()[1]  # the first imported one
    sandbox.store.update_appointment(
        {**record, "note": "edited by an agent"}, "2099-01-01 00:00:00"
    )  # someone edited it later
    with OnOfficeClient(sandbox.url, sandbox.credentials) as client:
        first = undo_import(results, client=client, journal_path=journal)
        assert first.counts() == {"deleted": 7, "skipped-modified": 1}
        (skipped,) = [i for i in first.items if i.status == MODIFIED]
        assert first.workbook is not None
        assert (skipped.appointment_id, skipped.source_row) == (
            record["id"],
            first.workbook.ids[record["id"]],
        )
        assert skipped.message.endswith("; use --force to undo it anyway")
        forced = undo_import(results, client=client, journal_path=journal, force=True)
    assert forced.counts() == {"deleted": 8}
    assert sandbox.store.count_appointments() == 1


def test_disagreement_between_journal_and_workbook_is_reported_not_guessed(
    imported: tuple[Path, Path], sandbox: Sandbox
) -> None:
    results, journal = imported
    book = openpyxl.load_workbook(results)
    sheet = book["Results"]
    header = [c.value for c in sheet[1]]
    column = header.index("Appointment ID")
    row = next(
        r for r in sheet.iter_rows(min_row=2) if r[header.index("Status")].value == "created"
    )
    changed_from = row[column].value
    row[column].value = 9999
    book.save(results)
    with OnOfficeClient(sandbox.url, sandbox.credentials) as client:
        report = undo_import(results, client=client, journal_path=journal)
    disagreements = [i for i in report.items if i.status == "disagreement"]
    # the journal holds every import of the account, so only the workbook's ids are in question
    assert [(i.appointment_id, i.message) for i in disagreements] == [
        (9999, "in the results workbook, but not in the journal as created")
    ]
    assert disagreements[0].source_row == report.workbook.ids[9999]  # type: ignore[union-attr]
    with OnOfficeClient(sandbox.url, sandbox.credentials) as client:
        account = client.account()
    with Journal(journal, account) as opened:
        agreed, again = plan_undo(results, opened)  # the workbook read here
    assert again == disagreements
    assert set(agreed) == set(report.imported) and len(agreed) == 7
    assert all(a.imported_at and a.payload for a in agreed.values())
    assert report.counts()["deleted"] == 7
    assert sandbox.store.appointment(changed_from) is not None  # neither is touched
    with OnOfficeClient(sandbox.url, sandbox.credentials) as client:
        declined = undo_import(
            results, client=client, journal_path=journal, confirm=lambda i: False
        )
    assert [i.appointment_id for i in declined.items if i.status == DISAGREE] == [9999]


def test_cli_undo_lists_and_asks_unless_yes(imported: tuple[Path, Path], sandbox: Sandbox) -> None:
    results, journal = imported
    env = {
        **os.environ,
        "ONOFFICE_API_URL": sandbox.url,
        "ONOFFICE_TOKEN": sandbox.credentials.token,
        "ONOFFICE_SECRET": sandbox.credentials.secret,
    }
    command = ["undo", str(results), "--journal", str(journal)]
    asked = forkserver.run(command, env=env, timeout=60)
    assert asked.returncode == 1
    assert "8 appointments would be removed" in asked.stdout
    assert "add --yes" in asked.stdout
    assert sandbox.store.count_appointments() == 9
    done = forkserver.run([*command, "--yes"], env=env, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 deleted" in done.stdout
    assert sandbox.store.count_appointments() == 1
    assert results.with_name("viewings.undo.xlsx").exists()
    again = forkserver.run([*command, "--yes"], env=env, timeout=60)
    assert again.returncode == 0 and "8 deleted" not in again.stdout
    assert "8 undone earlier (nothing sent for them)" in again.stdout


# an account whose reads show no `modified` cannot show this change at all (test_form.py)
@pytest.mark.documented("read_modified")
def test_a_change_reads_do_not_show_is_still_seen_by_its_modified_time(
    imported: tuple[Path, Path], sandbox: Sandbox
) -> None:
    """Only the reminder changed (no read shows it, so the stamp's digest still matches): the
    appointment's `modified` after the import's write says someone touched it; not undone."""
    results, journal = imported
    record = sandbox.store.all_appointments()[1]
    sandbox.store.update_appointment({**record, "erinnerung": "3 weeks"}, "2099-01-01 00:00:00")
    with OnOfficeClient(sandbox.url, sandbox.credentials) as client:
        report = undo_import(results, client=client, journal_path=journal)
    assert report.counts() == {"deleted": 7, "skipped-modified": 1}


# --- what counts as someone's change, without a server ----------------------------------------
WRITTEN = {
    "data": {
        "start_dt": "2027-03-01 10:00:00",
        "end_dt": "2027-03-01 10:30:00",
        "description": "Besichtigung",
    },
    "subscribers": {"users": [18]},
}
AT = int(datetime(2027, 1, 1, 10, 0, tzinfo=UTC).timestamp())  # the write: 10:00 UTC


def as_read(
    params: dict[str, Any], note: str = "", modified: str | None = None, users: bool = True
) -> Appointment:
    """The appointment a read shows after ``params`` was written (``users``: the answer tells
    explicit participants)."""
    data = params["data"]
    people = frozenset(params["subscribers"]["users"])
    return Appointment(
        id=2700,
        series=2700,
        starts=frozenset({data["start_dt"]}),
        ends=frozenset({data["end_dt"]}),
        subject=data["description"],
        note=note,
        types=frozenset(),
        users=people if users else None,
        participants=people,
        resources=frozenset(),
        resource_names=frozenset(),
        addresses=frozenset(),
        estates=frozenset(),
        modified=modified,
        cancelled=False,
        via="read calendar",
        readings=((data["start_dt"], data["end_dt"]),),
    )


def stamped(at: int = AT, seen: str | None = None) -> str:
    """The note of WRITTEN with the import's complete stamp."""
    stamp = Stamp(
        "0" * 16, "1234abcd", 2, False, "c" * 12, seen or seen_digest(WRITTEN), "0a" * 4, at
    )
    return str(with_stamp(WRITTEN, stamp)["data"]["note"])


def test_a_change_is_a_modified_time_past_the_write_and_the_clock_margin() -> None:
    """`modified` more than five minutes after the write; no time, no write, or an unreadable
    time: not a change."""
    written = datetime(2027, 1, 1, 10, 0, tzinfo=UTC)
    assert not _changed_since(as_read(WRITTEN, modified="2027-01-01 10:05:00"), written)
    assert _changed_since(as_read(WRITTEN, modified="2027-01-01 10:05:01"), written)
    assert not _changed_since(as_read(WRITTEN, modified=None), written)
    assert not _changed_since(as_read(WRITTEN, modified="2099-01-01 00:00:00"), None)
    assert not _changed_since(as_read(WRITTEN, modified="01.01.2099"), written)
    assert _moment_utc("2027-01-01 10:00:00") == written
    assert _moment_utc("") is None and _moment_utc("2027-01-01") is None


# `modified` is the server's UTC (§5.2); the message says the office's time (Berlin's)
CHANGED_AFTER = "changed in onOffice after the import ({when}); use --force to undo it anyway"


def test_a_stamped_appointment_says_itself_whether_it_was_changed() -> None:
    """The stamp's digest against what a read shows, then `modified` against the stamp's time
    (the journal's when the stamp has none)."""
    imported = Imported(2, "2027-01-01 09:00:00", WRITTEN)
    assert changed_by_someone(as_read(WRITTEN, stamped(), "2027-01-01 10:05:00"), imported) is None
    late = as_read(WRITTEN, stamped(), "2027-01-01 10:05:01")
    assert changed_by_someone(late, imported) == CHANGED_AFTER.format(when="01.01.2027 11:05")
    edited = {**WRITTEN, "data": {**WRITTEN["data"], "description": "Anders"}}
    assert changed_by_someone(as_read(edited, stamped()), imported) == (
        "it no longer holds what the import wrote (someone edited it); use --force to undo it "
        "anyway"
    )
    # a read that cannot tell the participants apart: the digest proves nothing either way
    assert changed_by_someone(as_read(edited, stamped(), users=False), imported) is None
    untimed = as_read(WRITTEN, stamped(at=0), "2027-01-01 09:05:01")
    assert changed_by_someone(untimed, imported) == CHANGED_AFTER.format(when="01.01.2027 10:05")
    in_time = as_read(WRITTEN, stamped(at=0), "2027-01-01 09:05:00")
    assert changed_by_someone(in_time, imported) is None


def test_an_unstamped_appointment_is_compared_with_what_the_journal_sent() -> None:
    """Without a complete stamp: a lost modify of ours that it holds is no change; else a late
    `modified`, or content other than what was sent, is."""
    imported = Imported(2, "2027-01-01 10:00:00", WRITTEN)
    one_line = str(with_stamp(WRITTEN, Stamp("0" * 16))["data"]["note"])
    for note in ("", one_line):
        fine = as_read(WRITTEN, note, "2027-01-01 10:05:00")
        assert changed_by_someone(fine, imported) is None
        late = as_read(WRITTEN, note, "2027-01-01 10:05:01")
        assert changed_by_someone(late, imported) == CHANGED_AFTER.format(when="01.01.2027 11:05")
    moved = {**WRITTEN, "data": {**WRITTEN["data"], "start_dt": "2027-03-01 09:00:00"}}
    assert changed_by_someone(as_read(moved), imported) == (
        "it no longer holds what the import sent (someone edited it); use --force to undo it anyway"
    )
    ours = Imported(2, "2027-01-01 10:00:00", WRITTEN, pending=moved)
    assert changed_by_someone(as_read(moved, modified="2027-01-01 11:00:00"), ours) is None
    assert changed_by_someone(as_read(WRITTEN, modified="2027-01-01 11:00:00"), ours) is not None


def test_what_undo_did_in_the_users_words_and_its_exit_code() -> None:
    """Each status has its words; an unknown one is shown as it is. Failures, disagreements
    and skipped appointments fail the undo; a stop gives its own code."""
    assert [undo_word(s) for s in (DELETED, CANCELED, MODIFIED, GONE, DISAGREE)] == [
        "deleted",
        "canceled",
        "changed in onOffice: left alone",
        "not in onOffice any more",
        "not in the journal: left alone",
    ]
    assert [undo_word(s) for s in (FAILED, KEPT, "odd")] == ["failed", "kept", "odd"]
    report = UndoReport(Path("x.results.xlsx"), [UndoItem(1, 2, DELETED), UndoItem(3, 4, KEPT)])
    assert report.exit_code == ExitCode.OK and report.counts() == {"deleted": 1, "kept": 1}
    for bad in (FAILED, DISAGREE, MODIFIED):
        assert UndoReport(Path("x"), [UndoItem(1, 2, bad)]).exit_code == ExitCode.ROWS_FAILED
    stopped = UndoReport(Path("x"), [UndoItem(1, 2, FAILED)], stopped="disk full")
    assert stopped.exit_code == ExitCode.CONFIGURATION
    stopped.stopped_code = ExitCode.STOPPED
    assert stopped.exit_code == ExitCode.STOPPED


def test_an_undo_not_confirmed_touches_nothing(
    imported: tuple[Path, Path], sandbox: Sandbox
) -> None:
    """confirm is shown what would be undone; answered no, the report lists them as kept."""
    results, journal = imported
    shown: list[list[UndoItem]] = []

    def no(items: list[UndoItem]) -> bool:
        shown.append(items)
        return False

    with OnOfficeClient(sandbox.url, sandbox.credentials) as client:
        report = undo_import(results, client=client, journal_path=journal, confirm=no)
    assert report.confirmed is False
    assert report.counts() == {"kept": 8} and len(shown[0]) == 8
    ids = [i.appointment_id for i in report.items]
    assert ids == sorted(ids) and [i.appointment_id for i in shown[0]] == ids
    assert report.workbook is not None and set(report.workbook.ids) == set(ids)
    assert [report.workbook.ids[i.appointment_id] for i in report.items] == [
        i.source_row for i in report.items
    ]
    assert set(report.imported) == set(ids)
    assert all(len(c) == len(report.workbook.columns) for c in report.workbook.cells.values())
    assert set(report.workbook.cells) == set(ids) and "Objekt-Nr." in report.workbook.columns
    assert sandbox.store.count_appointments() == 9


def test_an_undo_with_refused_credentials_stops_before_anything(
    imported: tuple[Path, Path], sandbox: Sandbox
) -> None:
    results, journal = imported
    with OnOfficeClient(sandbox.url, Credentials("wrong", "wrong")) as client:
        report = undo_import(results, client=client, journal_path=journal)
    assert report.stopped is not None and "refused the credentials" in report.stopped
    assert report.items == [] and report.exit_code == ExitCode.CONFIGURATION
    assert sandbox.store.count_appointments() == 9


@pytest.mark.documented  # where read calendar is gone, a deleted one is not proven gone
def test_gone_refused_and_lost_deletes_are_reported_per_appointment(
    imported: tuple[Path, Path], sandbox: Sandbox
) -> None:
    """One deleted in onOffice already: gone (and undone earlier the next time); writes
    refused: failed with the server's words; the connection lost: failed, to run again."""
    results, journal = imported
    first = sandbox.store.all_appointments()[1]["id"]
    sandbox.store.delete_appointment(first)
    with OnOfficeClient(sandbox.url, sandbox.credentials, timeouts=Timeouts(2, 5)) as client:
        sandbox.faults = Faults(refuse_writes=(156, "no right to delete it"))
        refused = undo_import(results, client=client, journal_path=journal)
        gone = [i for i in refused.items if i.status == GONE]
        assert [(i.appointment_id, i.message) for i in gone] == [
            (first, "not in onOffice any more")
        ]
        assert refused.workbook is not None
        assert gone[0].source_row == refused.workbook.ids[first]
        failed = [i for i in refused.items if i.status == FAILED]
        assert len(failed) == 7 and {i.message for i in failed} == {"no right to delete it"}
        assert refused.exit_code == ExitCode.ROWS_FAILED
        sandbox.faults = Faults(fail_before_rate=1.0, writes_only=True)
        lost = undo_import(results, client=client, journal_path=journal, cancel=True)
        failed = [i for i in lost.items if i.status == FAILED]
        assert len(failed) == 7
        assert all(i.message.endswith("; run undo again") and "503" in i.message for i in failed)
        in_its_rows(lost)
        assert [i.status for i in lost.items if i.appointment_id == first] == [DELETED]
        sandbox.faults = Faults()
        done = undo_import(results, client=client, journal_path=journal, cancel=True)
    assert done.counts() == {"canceled": 7, "deleted": 1}
    assert sandbox.store.count_appointments() == 8


@pytest.mark.documented  # where read calendar is gone, a deleted one is not proven gone
def test_undo_removes_what_the_run_cancelled_for_rows_that_left_the_file(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """A row left the file and the run cancelled its appointment (--cancel-removed): undo
    removes it with the rest (issue 31: it used to make it active again, a viewing in no list),
    listed first with the reason; one deleted in onOffice meanwhile is gone; refused, it fails
    with the server's words."""
    table = rows(4)
    source, mapping = write(tmp_path, table, keyed=True)
    results = tmp_path / "rows.results.xlsx"
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        left = [first.results[r].appointment_id for r in (3, 4)]
        write(tmp_path, [table[0], table[3]], keyed=True)
        cancelled = run_import(
            source, mapping, client=client, options=RunOptions(cancel_removed=True)
        )
        assert {r.status for r in cancelled.removed} == {"canceled"}
        with i18n.use("de"):  # its Removed sheet in German: read in any language
            write_results(cancelled, results)
        shown: list[list[UndoItem]] = []

        def no(items: list[UndoItem]) -> bool:
            shown.append(items)
            return False

        undo_import(results, client=client, confirm=no)
        leaving = [i for i in shown[0] if i.appointment_id in left]
        assert [(i.status, i.message) for i in leaving] == [(KEPT, "its row had left the file")] * 2
        assert sorted((i.appointment_id, i.source_row) for i in leaving) == sorted(
            zip(left, (3, 4), strict=True)
        )
        sandbox.store.delete_appointment(left[1])
        sandbox.faults = Faults(refuse_writes=(156, "no right to change it"))
        refused = undo_import(results, client=client)
        back = {i.appointment_id: (i.status, i.message) for i in refused.items}
        assert back[left[0]] == (FAILED, "no right to change it")
        assert back[left[1]] == (GONE, "not in onOffice any more")
        in_its_rows(refused, {left[0]: 3, left[1]: 4})
        sandbox.faults = Faults(fail_before_rate=1.0, writes_only=True)
        lost = undo_import(results, client=client)
        (failed,) = [i for i in lost.items if i.appointment_id == left[0]]
        assert (failed.status, failed.source_row) == (FAILED, 3)
        assert failed.message.endswith("; run undo again") and "503" in failed.message
        sandbox.faults = Faults()
        undone = undo_import(results, client=client)
        back = {i.appointment_id: (i.status, i.message) for i in undone.items}
        assert back[left[0]] == (DELETED, "")
        in_its_rows(undone, {left[0]: 3})
        again = undo_import(results, client=client).counts()
        assert again == {"deleted": 2}, again  # the rows' two, undone earlier; nothing more
    assert sandbox.store.count_appointments() == 0
