"""Scenario 10 of issue 11: a row keeps its appointment across edits.

An edited row becomes a `calendar modify` of its appointment, never a second appointment; an
appointment someone changed in onOffice is not overwritten (``conflict``) unless forced; rows
that left the file are listed and, when asked, cancelled (and undo gives them back).
"""

from __future__ import annotations

import os
from pathlib import Path

import openpyxl
import pytest

from importer import check
from importer.core.errors import ExitCode, MappingError
from importer.output.results import write_results
from importer.rules.check import prepare
from importer.run.submit import RunOptions, planned_check, run_import
from importer.run.undo import undo_import
from importer.sandbox import Faults, Sandbox

from .helpers import CSV_MAPPING, FAST, cli, client_for, edit, edit_results, rows, write


def ids_by_row(report: object) -> dict[int, int | None]:
    return {row: r.appointment_id for row, r in report.results.items()}  # type: ignore[attr-defined]


@pytest.mark.parametrize("keyed", [False, True], ids=["by-content", "by-key"])
def test_10_an_edited_row_modifies_its_appointment(
    tmp_path: Path, sandbox: Sandbox, keyed: bool
) -> None:
    table = rows(20)
    source, mapping = write(tmp_path, table, keyed)
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        assert first.counts() == {"created": 20}
        write(tmp_path, edit(table), keyed)
        creates = sandbox.stats.actions["create calendar"]
        again = run_import(source, mapping, client=client, options=FAST)
        once_more = run_import(source, mapping, client=client, options=FAST)
    assert again.counts() == {"updated": 3, "already-created": 17}
    warned = [p.code for o in again.check.outcomes for p in o.warnings]
    assert "double-booking" not in warned  # an edited row does not clash with its own appointment
    assert once_more.counts() == {"already-created": 20}
    assert sandbox.stats.actions["create calendar"] == creates  # 0 creates for the edits
    assert sandbox.stats.actions["modify calendar"] == 3
    assert sandbox.store.count_appointments() == 20  # one appointment per row
    assert ids_by_row(again) == ids_by_row(first)  # each row kept its appointment
    by_id = {a["id"]: a for a in sandbox.store.all_appointments()}
    assert by_id[first.results[2].appointment_id]["start_dt"].endswith("17:45:00")
    assert by_id[first.results[5].appointment_id]["description"] == "Besichtigung verschoben"
    moved = by_id[first.results[8].appointment_id]
    assert len(moved["users"]) == 1  # the new agent replaced the old one, not joined them


def test_10_an_edited_results_workbook_row_modifies_its_appointment(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source, mapping = write(tmp_path, rows(10))
    results = tmp_path / "rows.results.xlsx"
    with client_for(sandbox) as client:
        write_results(run_import(source, mapping, client=client, options=FAST), results)
        edit_results(results, {(4, "Betreff"): "Übergabe statt Besichtigung"})  # row 4: its subject
        again = run_import(results, mapping, client=client, options=FAST)
    assert again.counts() == {"updated": 1, "already-created": 9}
    assert sandbox.store.count_appointments() == 10
    assert "Übergabe statt Besichtigung" in {
        a["description"] for a in sandbox.store.all_appointments()
    }


def test_10_an_edited_results_workbook_without_its_journal_updates_not_twins_nor_conflicts(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """The appointment's stamp says it holds what the import wrote last: the row changed, not
    the appointment, so the row is written (issue 21: no conflict nobody caused)."""
    source, mapping = write(tmp_path, rows(10))
    results = tmp_path / "rows.results.xlsx"
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        write_results(first, results)
        assert first.journal_path is not None
        first.journal_path.unlink()  # another computer, or a lost journal
        edit_results(results, {(4, "Betreff"): "Übergabe"})
        again = run_import(results, mapping, client=client, options=FAST)
        assert again.counts() == {"updated": 1, "exists": 9}
        assert again.exit_code == ExitCode.OK
        later = run_import(results, mapping, client=client, options=FAST)
    assert later.counts() == {"already-created": 10}
    assert sandbox.store.count_appointments() == 10
    assert again.results[4].appointment_id == first.results[4].appointment_id
    assert "Übergabe" in {a["description"] for a in sandbox.store.all_appointments()}


def test_10_a_changed_appointment_is_a_conflict_unless_forced(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    table = rows(6)
    source, mapping = write(tmp_path, table, keyed=True)
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        touched = first.results[3].appointment_id
        assert touched is not None
        record = sandbox.store.appointment(touched)
        assert record is not None
        sandbox.store.update_appointment(
            {**record, "description": "vom Makler geändert"}, record["modified"]
        )
        table[1][1] = table[1][1][:11] + "16:00"  # the same row edited in the file too
        write(tmp_path, table, keyed=True)
        modifies = sandbox.stats.actions["modify calendar"]
        again = run_import(source, mapping, client=client, options=FAST)
        assert again.counts() == {"conflict": 1, "already-created": 5}
        assert "subject" in (again.results[3].error or "")
        assert sandbox.stats.actions["modify calendar"] == modifies  # not overwritten
        assert sandbox.store.appointment(touched)["description"] == "vom Makler geändert"  # type: ignore[index]
        forced = run_import(source, mapping, client=client, options=RunOptions(force=True))
    assert forced.counts() == {"updated": 1, "already-created": 5}
    assert sandbox.store.appointment(touched)["description"] == "Termin 0001"  # type: ignore[index]
    assert sandbox.store.count_appointments() == 6


def test_10_a_lost_modify_answer_is_read_back_not_repeated_blindly(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    table = rows(4)
    source, mapping = write(tmp_path, table, keyed=True)
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client, options=FAST)
        table[0][1] = table[0][1][:11] + "17:45"
        write(tmp_path, table, keyed=True)
        sandbox.faults = Faults(plan=["lost"], writes_only=True)  # made, its answer lost
        lost = run_import(source, mapping, client=client, options=FAST)
        sandbox.faults = Faults()
        again = run_import(source, mapping, client=client, options=FAST)
        done = run_import(source, mapping, client=client, options=FAST)
    assert lost.counts() == {"unknown": 1, "already-created": 3}
    assert again.counts() == {"unchanged": 1, "already-created": 3}
    assert done.counts() == {"already-created": 4}
    assert sandbox.store.count_appointments() == 4


def test_10_a_keyed_row_edited_and_run_on_another_computer(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Each computer's run leaves onOffice holding its file, and no run of the import is taken
    for a change made in onOffice (issue 21): the stamp says which import wrote last."""
    table = rows(12)
    mine, theirs = tmp_path / "me", tmp_path / "colleague"
    for home in (mine, theirs):
        (home / "work").mkdir(parents=True)
    write(mine / "work", table, keyed=True)
    first = cli(["run", "rows.csv", "-m", "rows.yaml"], sandbox, mine, mine / "work")
    assert first.returncode == 0, first.stdout + first.stderr
    write(theirs / "work", table, keyed=True)  # the colleague's copy, unchanged
    same = cli(["run", "rows.csv", "-m", "rows.yaml"], sandbox, theirs, theirs / "work")
    assert same.returncode == 0 and "12 exists" in same.stdout, same.stdout
    write(theirs / "work", edit(table), keyed=True)  # edited over there
    edited = cli(["run", "rows.csv", "-m", "rows.yaml"], sandbox, theirs, theirs / "work")
    assert edited.returncode == 0 and "3 updated" in edited.stdout, edited.stdout
    assert sandbox.store.count_appointments() == 12
    # The same edits reach my copy: my computer knew the old content, onOffice holds the new
    # one, written by the import: nothing to send, nothing in conflict.
    write(mine / "work", edit(table), keyed=True)
    mine_again = cli(["run", "rows.csv", "-m", "rows.yaml"], sandbox, mine, mine / "work")
    assert mine_again.returncode == 0, mine_again.stdout
    assert "3 unchanged, 9 already-created" in mine_again.stdout, mine_again.stdout
    # I edit a row the colleague edited too: the import wrote it last, so it is updated.
    table = edit(table)
    table[3][2] = "Besichtigung abgesagt"
    write(mine / "work", table, keyed=True)
    later = cli(["run", "rows.csv", "-m", "rows.yaml"], sandbox, mine, mine / "work")
    assert later.returncode == 0 and "1 updated" in later.stdout, later.stdout
    theirs_again = cli(["run", "rows.csv", "-m", "rows.yaml"], sandbox, theirs, theirs / "work")
    assert "conflict" not in theirs_again.stdout  # an older copy writes its row back
    assert sandbox.store.count_appointments() == 12
    # A person's change in onOffice is a conflict on every computer.
    victim = next(a for a in sandbox.store.all_appointments() if a["description"] == "Termin 0000")
    sandbox.store.update_appointment({**victim, "description": "vom Makler"}, victim["modified"])
    for home in (mine, theirs):
        clash = cli(["run", "rows.csv", "-m", "rows.yaml"], sandbox, home, home / "work")
        assert clash.returncode == ExitCode.ROWS_FAILED, clash.stdout
        assert "1 conflict" in clash.stdout and "--force" in clash.stdout
    assert "vom Makler" in {a["description"] for a in sandbox.store.all_appointments()}


def test_10_a_new_list_under_the_old_name_is_not_taken_for_edits(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source, mapping = write(tmp_path, rows(10))
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client, options=FAST)
        july = [[r[0], r[1].replace(".2027", ".2028"), r[2] + " Juli", *r[3:]] for r in rows(10)]
        write(tmp_path, july)
        again = run_import(source, mapping, client=client, options=FAST)
    assert again.counts() == {"created": 10}
    assert sandbox.store.count_appointments() == 20  # last month's appointments untouched
    assert len(again.removed) == 10 and {r.status for r in again.removed} == {"kept"}


def test_removed_rows_are_listed_cancelled_on_request_and_undo_removes_them(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    table = rows(8)
    source, mapping = write(tmp_path, table, keyed=True)
    results = tmp_path / "rows.results.xlsx"
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        gone = {first.results[r].appointment_id for r in (3, 6)}
        write(tmp_path, [r for i, r in enumerate(table) if i not in (1, 4)], keyed=True)
        listed = run_import(source, mapping, client=client, options=FAST)
        assert listed.counts() == {"already-created": 6}
        assert {r.appointment_id for r in listed.removed} == gone
        assert {r.status for r in listed.removed} == {"kept"}
        cancelled = run_import(
            source, mapping, client=client, options=RunOptions(cancel_removed=True)
        )
        assert {r.status for r in cancelled.removed} == {"canceled"}
        assert {
            a["id"] for a in sandbox.store.all_appointments() if a.get("status") == "canceled"
        } == gone
        write_results(cancelled, results)
        assert [
            r[4]
            for r in openpyxl.load_workbook(results)["Removed"].iter_rows(
                min_row=2, values_only=True
            )
        ] == ["canceled", "canceled"]
        nothing_left = run_import(source, mapping, client=client, options=FAST)
        assert nothing_left.removed == []  # cancelled ones are not listed again
        undone = undo_import(results, client=client)
    # undo never makes active what the list no longer holds: the cancelled two go with the rest
    assert undone.counts() == {"deleted": 8}
    assert sandbox.store.count_appointments() == 0


def test_an_invalid_row_is_not_taken_for_a_removed_one(tmp_path: Path, sandbox: Sandbox) -> None:
    table = rows(5)
    source, mapping = write(tmp_path, table)
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client, options=FAST)
        table[2][1] = "31.02.2027 10:00"  # no such day: the row is invalid now
        write(tmp_path, table)
        again = run_import(source, mapping, client=client, options=RunOptions(cancel_removed=True))
    assert again.counts() == {"already-created": 4, "invalid": 1}
    # its row may be the invalid one: listed, never cancelled while rows are invalid
    assert [(r.source_row, r.status) for r in again.removed] == [(4, "kept")]
    assert "invalid" in again.removed[0].message
    assert all(a.get("status") != "canceled" for a in sandbox.store.all_appointments())


def test_check_shows_what_a_run_would_create_update_and_leave(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    table = rows(10)
    source, mapping = write(tmp_path, table, keyed=True)
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client, options=FAST)
        edited = [*edit(table)[:-1], rows(11)[10]]  # three edited, one gone, one new
        write(tmp_path, edited, keyed=True)
        report = planned_check(client, source, prepare(source, mapping))
    assert sorted(report.plan.values()).count("update") == 3
    assert list(report.plan.values()).count("create") == 1
    assert list(report.plan.values()).count("unchanged") == 6
    assert report.plan_removed == 1
    printed = cli(
        ["check", "rows.csv", "-m", "rows.yaml", "--resolve"], sandbox, tmp_path, tmp_path
    )
    assert "A run would create" in printed.stdout, printed.stdout + printed.stderr


def test_planned_check_plans_as_a_run_does_and_says_when_it_cannot(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    table = rows(10)
    source, mapping = write(tmp_path, table, keyed=True)
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client, options=FAST)
        write(tmp_path, [*edit(table)[:-1], rows(11)[10]], keyed=True)
        planned = planned_check(client, source, prepare(source, mapping))
        sent = run_import(source, mapping, client=client, options=FAST)
        done = {"created": "create", "updated": "update", "already-created": "unchanged"}
        assert planned.plan == {row: done[r.status] for row, r in sent.results.items()}
        assert planned.plan_removed == len(sent.removed) == 1
        assert planned.notices == []
        # the account cannot be asked (a 503 and its three retries): checked, plan unknown
        sandbox.faults = Faults(plan=["503"] * 4)
        unplanned = planned_check(client, source, prepare(source, mapping))
    assert unplanned.plan == {} and unplanned.valid_count == planned.valid_count == 10
    assert [n.split(" (")[0] for n in unplanned.notices] == ["what a run would do is not known"]


def test_the_key_must_identify_each_row(tmp_path: Path) -> None:
    table = rows(4)
    table[2][0] = table[1][0]  # a repeated booking number
    table[3][0] = ""
    source, mapping = write(tmp_path, table, keyed=True)
    report = check(source, mapping, report=False)
    codes = {o.row: [p.code for p in o.errors] for o in report.outcomes}
    assert codes == {2: [], 3: [], 4: ["key-duplicate"], 5: ["key-missing"]}
    mapping.write_text("key: Buchungsnummer\n" + CSV_MAPPING, encoding="utf-8")
    with pytest.raises(MappingError, match="Buchungsnummer"):
        check(source, mapping, report=False)
    mapping.write_text("key: [1, 2]\n" + CSV_MAPPING, encoding="utf-8")
    with pytest.raises(MappingError, match="key"):
        check(source, mapping, report=False)


def test_a_journal_of_an_earlier_version_gains_the_new_columns(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    import sqlite3

    source, mapping = write(tmp_path, rows(3))
    journal = tmp_path / "old.sqlite"
    db = sqlite3.connect(journal)
    db.executescript(
        "CREATE TABLE entries (fingerprint TEXT PRIMARY KEY, state TEXT NOT NULL, "
        "appointment_id INTEGER, error TEXT, source_row INTEGER, attempts INTEGER NOT NULL "
        "DEFAULT 0, intent_at TEXT, outcome_at TEXT, payload TEXT NOT NULL);"
    )
    db.close()
    with client_for(sandbox) as client:
        report = run_import(source, mapping, client=client, journal_path=journal, options=FAST)
    assert report.counts() == {"created": 3}


def test_rows_invalid_all_along_do_not_hold_back_cancel_removed(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    table = rows(6)
    table[4][1] = table[5][1] = "kein Datum"  # invalid from the start, like the sample's
    source, mapping = write(tmp_path, table)
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        gone = first.results[3].appointment_id
        write(tmp_path, [r for i, r in enumerate(table) if i != 1])
        again = run_import(source, mapping, client=client, options=RunOptions(cancel_removed=True))
    assert first.counts() == {"created": 4, "invalid": 2}
    assert [(r.appointment_id, r.status) for r in again.removed] == [(gone, "canceled")]


def test_check_does_not_count_a_files_own_appointments_as_double_bookings(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source, mapping = write(tmp_path, rows(8))
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client, options=FAST)
        printed = cli(
            ["check", "rows.csv", "-m", "rows.yaml", "--resolve", "--strict"],
            sandbox,
            tmp_path / "home",
            tmp_path,
            env_extra={"ONOFFICE_IMPORT_DATA": os.environ["ONOFFICE_IMPORT_DATA"]},
        )
    assert printed.returncode == 0, printed.stdout + printed.stderr
    assert "8 valid, 0 invalid" in printed.stdout
    assert "leave 8 appointments unchanged" in printed.stdout


def test_every_row_edited_at_once_is_still_the_list_and_a_new_month_is_not(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """No row as it was: every subject rewritten (a changed template) is the list edited, and
    its appointments are updated; a new month's list saved under the same name (other days) is
    another list: created beside the old one, and nothing of the old one is cancelled."""
    table = rows(12)
    source, mapping = write(tmp_path, table)
    cancel = RunOptions(cancel_removed=True, backoff_base=0.01, settle_delay=0.05)
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client, options=cancel)
        for r in table:
            r[2] = f"Besichtigung {r[0]}"
        write(tmp_path, table)
        rewritten = run_import(source, mapping, client=client, options=cancel)
        assert rewritten.counts() == {"updated": 12}
        assert sandbox.store.count_appointments() == 12
        for r in table:
            r[1] = r[1].replace(".2027", ".2028")
        write(tmp_path, table)
        month = run_import(source, mapping, client=client, options=cancel)
    assert month.counts() == {"created": 12}
    assert [r.status for r in month.removed] == ["kept"] * 12  # held, not cancelled
    assert all("another list saved under the same name" in r.message for r in month.removed)
    active = [a for a in sandbox.store.all_appointments() if a.get("status") != "canceled"]
    assert len(active) == 24
