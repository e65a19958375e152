"""Scenario 10 of issue 11, the hard cases: edits across several runs, re-sorted files, lost
answers of creates and modifies, results workbooks without their journal, keys added later,
allowed duplicates, appointments cancelled or moved in onOffice. Each ends with one appointment
per row, and nothing a person changed in onOffice is overwritten without ``force``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import openpyxl

from importer import check
from importer.onoffice.reference import reference, with_reference
from importer.output.results import write_results
from importer.run.submit import RunOptions, run_import
from importer.run.undo import undo_import
from importer.sandbox import Dialect, Faults, Sandbox

from .files import write_csv
from .helpers import (
    CSV_MAPPING,
    FAST,
    client_for,
    edit,
    edit_in_onoffice,
    edit_results,
    lost_write,
    rows,
    write,
)
from .helpers import (
    subject_set as subjects,
)

QUICK = RunOptions(backoff_base=0.01, backoff_cap=0.05, settle_delay=0.05, settle_rounds=0)


def test_an_updated_row_is_still_known_after_the_file_is_re_sorted(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    table = rows(10)
    source, mapping = write(tmp_path, table)
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client, options=FAST)
        table[3][2] = "Besichtigung verschoben"
        write(tmp_path, table)
        assert run_import(source, mapping, client=client, options=FAST).counts() == {
            "updated": 1,
            "already-created": 9,
        }
        write(tmp_path, list(reversed(table)))  # only re-sorted
        again = run_import(source, mapping, client=client, options=FAST)
    assert again.counts() == {"already-created": 10} and again.removed == []
    assert sandbox.store.count_appointments() == 10


def test_edits_spread_over_several_runs(tmp_path: Path, sandbox: Sandbox) -> None:
    table = rows(10)
    source, mapping = write(tmp_path, table)
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client, options=FAST)
        for i in range(4):
            table[i][2] += " neu"
        write(tmp_path, table)
        second = run_import(source, mapping, client=client, options=FAST)
        for i in range(4, 6):
            table[i][2] += " neu"
        write(tmp_path, table)
        third = run_import(source, mapping, client=client, options=FAST)
    assert second.counts() == {"updated": 4, "already-created": 6}
    assert third.counts() == {"updated": 2, "already-created": 8}
    assert sandbox.store.count_appointments() == 10


def test_force_after_a_conflict_written_into_the_results_makes_no_twin(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source, mapping = write(tmp_path, rows(10))
    results = tmp_path / "rows.results.xlsx"
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        write_results(first, results)
        assert first.journal_path is not None
        first.journal_path.unlink()  # another computer, or a lost journal
        victim = first.results[4].appointment_id
        # a person moves it in onOffice
        edit_in_onoffice(
            sandbox, victim, start_dt="2027-06-01 08:00:00", end_dt="2027-06-01 09:00:00"
        )
        edit_results(results, {(4, "Betreff"): "Übergabe"})
        again = run_import(results, mapping, client=client, options=FAST)
        assert again.counts() == {"conflict": 1, "exists": 9}
        write_results(again, results)  # as `run` does: the Status now says conflict
        forced = run_import(results, mapping, client=client, options=RunOptions(force=True))
    assert forced.counts() == {"updated": 1, "already-created": 9}
    assert sandbox.store.count_appointments() == 10 and "Übergabe" in subjects(sandbox)


STATUS_MAPPING = (
    CSV_MAPPING + "  status: Status\n  private: {column: Privat, map: {ja: true, nein: false}}\n"
)


def write_flags(folder: Path, status: list[str], private: list[str]) -> tuple[Path, Path]:
    table = rows(len(status))
    source = write_csv(
        folder / "s.csv",
        "Start;Betreff;Makler;Objekt;Status;Privat\n"
        + "".join(
            ";".join([*r[1:], s, p]) + "\n" for r, s, p in zip(table, status, private, strict=True)
        ),
    )
    mapping = folder / "s.yaml"
    mapping.write_text(STATUS_MAPPING, encoding="utf-8")
    return source, mapping


def test_a_change_reads_cannot_show_is_still_written(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = write_flags(tmp_path, ["aktiv"] * 6, ["nein"] * 6)
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        write_flags(tmp_path, ["abgesagt"] + ["aktiv"] * 5, ["nein", "ja"] + ["nein"] * 4)
        again = run_import(source, mapping, client=client, options=FAST)
    assert again.counts() == {"updated": 2, "already-created": 4}
    cancelled = sandbox.store.appointment(first.results[2].appointment_id or 0)
    private = sandbox.store.appointment(first.results[3].appointment_id or 0)
    assert cancelled is not None and cancelled["status"] == "canceled"
    assert private is not None and private["private"] is True


def test_a_refused_update_leaves_the_row_to_be_written(tmp_path: Path, sandbox: Sandbox) -> None:
    table = rows(6)
    source, mapping = write(tmp_path, table, keyed=True)
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        assert first.journal_path is not None
        first.journal_path.unlink()  # a colleague's computer
        table[1][2] = "Neuer Betreff"
        write(tmp_path, table, keyed=True)
        sandbox.faults = Faults(refuse_writes=(137, "temporarily refused"))
        refused = run_import(source, mapping, client=client, options=FAST)
        sandbox.faults = Faults()
        later = run_import(source, mapping, client=client, options=FAST)
        again = run_import(source, mapping, client=client, options=FAST)
    assert refused.counts() == {"failed": 1, "exists": 5}
    # the appointment still holds what the import wrote: the row is written, no conflict
    assert later.counts() == {"updated": 1, "already-created": 5}
    assert again.counts() == {"already-created": 6}
    assert "Neuer Betreff" in subjects(sandbox) and sandbox.store.count_appointments() == 6


def test_an_invalid_row_below_a_deleted_one_is_never_cancelled(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    table = rows(8)
    source, mapping = write(tmp_path, table)
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        invalid_id = first.results[6].appointment_id
        table[4][1] = "31.02.2027 10:00"  # row 6 becomes invalid, still in the file
        del table[1]  # and a row above it is deleted
        write(tmp_path, table)
        again = run_import(source, mapping, client=client, options=RunOptions(cancel_removed=True))
    # The invalid row (now row 5) may be its own appointment's row: kept, naming the row. The
    # deleted row's appointment is nothing the invalid row could be: cancelled (issue 21).
    kept = {r.appointment_id: r for r in again.removed if r.status == "kept"}
    assert set(kept) == {invalid_id} and "row 5" in kept[invalid_id].message
    status = {a["id"]: a.get("status") for a in sandbox.store.all_appointments()}
    assert status[invalid_id] != "canceled"
    assert status[first.results[3].appointment_id] == "canceled"


def test_a_deleted_row_and_an_edit_below_it_never_cross(tmp_path: Path, sandbox: Sandbox) -> None:
    table = rows(8)
    source, mapping = write(tmp_path, table)
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        deleted_id = first.results[3].appointment_id
        table[2][2] = "Termin 0002 verschoben"
        del table[1]
        write(tmp_path, table)
        again = run_import(source, mapping, client=client, options=RunOptions(cancel_removed=True))
    by_id = {a["id"]: a for a in sandbox.store.all_appointments()}
    # The deleted row's appointment is cancelled and keeps its own content; the edited row is
    # one active appointment with the new content.
    assert by_id[deleted_id]["description"] == "Termin 0001"
    assert by_id[deleted_id]["status"] == "canceled"
    live = [a["description"] for a in by_id.values() if a.get("status") != "canceled"]
    assert sorted(live) == sorted(r[2] for r in table)
    assert again.counts()["created"] + again.counts()["updated"] == 1


def test_a_key_added_to_the_mapping_later_doubles_nothing(tmp_path: Path, sandbox: Sandbox) -> None:
    table = rows(6)
    source, mapping = write(tmp_path, table, keyed=False)
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client, options=FAST)
        write(tmp_path, table, keyed=True)  # the mapping now names the booking number
        keyed = run_import(source, mapping, client=client, options=FAST)
        table[2][2] = "Nach dem Schlüssel geändert"
        write(tmp_path, table, keyed=True)
        edited = run_import(source, mapping, client=client, options=FAST)
        write(tmp_path, table, keyed=False)  # and taken out again
        unkeyed = run_import(source, mapping, client=client, options=FAST)
    assert keyed.counts() == {"updated": 6}  # the note's reference now follows the key
    assert keyed.removed == [] and edited.counts() == {"updated": 1, "already-created": 5}
    assert unkeyed.counts() == {"already-created": 6}
    assert sandbox.store.count_appointments() == 6


def test_only_failed_leaves_rows_the_workbook_marks_created(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source, mapping = write(tmp_path, rows(10))
    results = tmp_path / "rows.results.xlsx"
    with client_for(sandbox) as client:
        write_results(run_import(source, mapping, client=client, options=FAST), results)
        edit_results(results, {(4, "Betreff"): "Übergabe statt Besichtigung"})
        again = run_import(results, mapping, client=client, options=RunOptions(only_failed=True))
    assert again.counts() == {"already-created": 10}
    assert sandbox.stats.actions["modify calendar"] == 0


def test_a_cancellation_made_in_onoffice_is_respected(tmp_path: Path, sandbox: Sandbox) -> None:
    table = rows(6)
    source, mapping = write(tmp_path, table, keyed=True)
    results = tmp_path / "rows.results.xlsx"
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        victim, edited = first.results[3].appointment_id, first.results[4].appointment_id
        edit_in_onoffice(sandbox, victim, status="canceled")
        edit_in_onoffice(sandbox, edited, status="canceled")
        table[2][2] = "Neuer Betreff"  # row 4 edited in the file
        write(tmp_path, [r for i, r in enumerate(table) if i != 1], keyed=True)  # row 3 removed
        run = run_import(source, mapping, client=client, options=RunOptions(cancel_removed=True))
        write_results(run, results)
        undone = undo_import(results, client=client, cancel=True, force=True)
    assert [(r.appointment_id, r.status) for r in run.removed] == [(victim, "already-gone")]
    assert run.results[3].status == "conflict" and "cancelled" in (run.results[3].error or "")
    assert "restored" not in undone.counts()
    statuses = {a["id"]: a.get("status") for a in sandbox.store.all_appointments()}
    assert statuses[victim] == "canceled"  # a person's cancellation is never undone


ART_MAPPING = "key: Nr\n" + CSV_MAPPING + "  private: {column: Privat, map: {ja: true}}\n"


def write_private(folder: Path, table: list[list[str]], private: list[str]) -> tuple[Path, Path]:
    source = write_csv(
        folder / "p.csv",
        "Nr;Start;Betreff;Makler;Objekt;Privat\n"
        + "".join(";".join([*r, p]) + "\n" for r, p in zip(table, private, strict=True)),
    )
    mapping = folder / "p.yaml"
    mapping.write_text(ART_MAPPING, encoding="utf-8")
    return source, mapping


def test_a_field_set_only_by_a_lost_modify_is_cleared_later(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    table = rows(4)
    source, mapping = write_private(tmp_path, table, [""] * 4)
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        target = first.results[2].appointment_id or 0
        table[0][2] = "Notartermin Meier"
        write_private(tmp_path, table, ["ja", "", "", ""])
        sandbox.faults = lost_write()
        lost = run_import(source, mapping, client=client, options=FAST)
        sandbox.faults = Faults()
        table[0][2] = "Besichtigung Meier"
        write_private(tmp_path, table, [""] * 4)
        again = run_import(source, mapping, client=client, options=FAST)
        later = run_import(source, mapping, client=client, options=FAST)
    assert lost.counts() == {"unknown": 1, "already-created": 3}
    assert again.counts() == {"updated": 1, "already-created": 3}
    assert later.counts() == {"already-created": 4}
    held = sandbox.store.appointment(target)
    assert held is not None and not held.get("private")
    assert held["description"] == "Besichtigung Meier"


def test_a_removed_row_after_a_lost_modify_is_cancelled(tmp_path: Path, sandbox: Sandbox) -> None:
    table = rows(6)
    source, mapping = write(tmp_path, table, keyed=True)
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client, options=FAST)
        table[1][2] = "Neu"
        write(tmp_path, table, keyed=True)
        sandbox.faults = lost_write()
        run_import(source, mapping, client=client, options=FAST)
        sandbox.faults = Faults()
        write(tmp_path, [r for i, r in enumerate(table) if i != 1], keyed=True)
        again = run_import(source, mapping, client=client, options=RunOptions(cancel_removed=True))
    assert [r.status for r in again.removed] == ["canceled"] and again.exit_code == 0


def test_an_appointment_moved_by_a_lost_modify_is_found_without_read_calendar(
    tmp_path: Path,
) -> None:
    with Sandbox(dialect=Dialect(calendar_read="removed")) as sandbox:
        table = rows(6)
        source, mapping = write(tmp_path, table, keyed=True)
        with client_for(sandbox) as client:
            run_import(source, mapping, client=client, options=FAST)
            table[1][1] = "20" + table[1][1][2:]  # another day
            write(tmp_path, table, keyed=True)
            sandbox.faults = lost_write()
            lost = run_import(source, mapping, client=client, options=FAST)
            sandbox.faults = Faults()
            again = run_import(source, mapping, client=client, options=FAST)
            forced = run_import(source, mapping, client=client, options=RunOptions(force=True))
        assert lost.counts() == {"unknown": 1, "already-created": 5}
        assert again.counts() == {"unchanged": 1, "already-created": 5}
        assert forced.counts() == {"already-created": 6}
        assert sandbox.store.count_appointments() == 6


def test_a_lost_create_edited_to_another_day_is_looked_for_where_it_was_sent(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    table = rows(4)
    source, mapping = write(tmp_path, table, keyed=True)
    with client_for(sandbox) as client:
        sandbox.faults = lost_write()
        first = run_import(source, mapping, client=client, options=QUICK)
        sandbox.faults = Faults()
        lost_row = next(r for r, x in first.results.items() if x.status == "unknown")
        moved = table[lost_row - 2]
        moved[1] = moved[1][:3] + "09" + moved[1][5:]  # to September
        moved[2] = "Geänderter Betreff"
        write(tmp_path, table, keyed=True)
        assert first.journal_path is not None
        db = sqlite3.connect(first.journal_path)  # the edit is made long after the attempt
        db.execute("UPDATE entries SET intent_at = '2000-01-01 00:00:00' WHERE state = 'unknown'")
        db.commit()
        db.close()
        again = run_import(source, mapping, client=client, options=FAST)
        later = run_import(source, mapping, client=client, options=FAST)
    assert again.counts() == {"updated": 1, "already-created": 3}
    assert later.counts() == {"already-created": 4}
    assert sandbox.store.count_appointments() == 4 and "Geänderter Betreff" in subjects(sandbox)


def test_two_workbook_rows_never_share_one_appointment(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = write(tmp_path, rows(10))
    results = tmp_path / "rows.results.xlsx"
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        write_results(first, results)
        assert first.journal_path is not None
        first.journal_path.unlink()
        book = openpyxl.load_workbook(results)
        sheet = book["Results"]
        sheet.append([c.value for c in sheet[4]])  # row 4 copied as row 12, its ID too
        book.save(results)
        edit_results(
            results,
            {
                (4, "Betreff"): "Besichtigung 1",
                (12, "Betreff"): "Besichtigung 2",
                (12, "Start"): "05.05.2027 12:00",
            },
        )
        forced = run_import(results, mapping, client=client, options=RunOptions(force=True))
    assert forced.results[4].status == "updated" and forced.results[12].status == "created"
    assert {"Besichtigung 1", "Besichtigung 2"} <= subjects(sandbox)
    assert sandbox.store.count_appointments() == 11


def test_rows_of_an_earlier_version_are_edited_in_place(tmp_path: Path, sandbox: Sandbox) -> None:
    table = rows(10)
    source, mapping = write(tmp_path, table)
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        assert first.journal_path is not None
        db = sqlite3.connect(first.journal_path)
        db.execute("UPDATE entries SET input = NULL, content = NULL")  # as an earlier version
        db.commit()
        db.close()
        table[3][2] = "Besichtigung verschoben"
        write(tmp_path, table)
        again = run_import(source, mapping, client=client, options=FAST)
    assert again.counts() == {"updated": 1, "already-created": 9}
    assert sandbox.store.count_appointments() == 10


def test_a_lost_create_then_an_edit_is_written(tmp_path: Path, sandbox: Sandbox) -> None:
    table = rows(4)
    source, mapping = write(tmp_path, table, keyed=True)
    with client_for(sandbox) as client:
        sandbox.faults = lost_write()
        first = run_import(source, mapping, client=client, options=QUICK)
        sandbox.faults = Faults()
        lost_row = next(r for r, x in first.results.items() if x.status == "unknown")
        table[lost_row - 2][2] = "Geänderter Betreff"
        write(tmp_path, table, keyed=True)
        again = run_import(source, mapping, client=client, options=FAST)
        later = run_import(source, mapping, client=client, options=FAST)
    assert again.counts() == {"updated": 1, "already-created": 3}
    assert later.counts() == {"already-created": 4}
    assert "Geänderter Betreff" in subjects(sandbox) and sandbox.store.count_appointments() == 4


def test_the_file_run_is_the_truth_an_older_copy_writes_its_content_back(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Documented: nothing changed in onOffice since our last write, so the row wins."""
    table = rows(10)
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    old_dir.mkdir()
    new_dir.mkdir()
    old_source, mapping = write(old_dir, table, keyed=True)
    with client_for(sandbox) as client:
        run_import(old_source, mapping, client=client, options=FAST)
        new_source, new_mapping = write(new_dir, edit(table), keyed=True)
        assert run_import(new_source, new_mapping, client=client, options=FAST).counts() == {
            "updated": 3,
            "already-created": 7,
        }
        back = run_import(old_source, mapping, client=client, options=FAST)
    assert back.counts() == {"updated": 3, "already-created": 7}
    assert sandbox.store.count_appointments() == 10


def test_editing_one_of_two_allowed_duplicates(tmp_path: Path, sandbox: Sandbox) -> None:
    table = rows(10)
    table[1] = [*table[0]]  # rows 2 and 3 identical (Nr is not mapped without key)
    source, mapping = write(tmp_path, table)
    allowed = RunOptions(allow_duplicates=True, backoff_base=0.01, settle_delay=0.05)
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=allowed)
        table[0][2] = "Termin 0000 verschoben"
        write(tmp_path, table)
        again = run_import(source, mapping, client=client, options=FAST)  # not allowed now
    assert first.counts() == {"created": 10}
    assert again.counts() == {"updated": 1, "already-created": 9} and again.removed == []
    assert again.results[3].appointment_id == first.results[3].appointment_id
    assert sandbox.store.count_appointments() == 10


def test_a_kill_between_journaling_a_modify_and_sending_it(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    table = rows(6)
    source, mapping = write(tmp_path, table, keyed=True)
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        table[1][2] = "Neu"
        write(tmp_path, table, keyed=True)
        # what journal.pending leaves when the process dies before the modify is sent
        row = next(o for o in check(source, mapping, report=False).outcomes if o.row == 3)
        assert row.identity and row.parameters and first.journal_path
        db = sqlite3.connect(first.journal_path)
        pending = json.dumps(with_reference(row.parameters, reference(row.identity)))
        db.execute("UPDATE entries SET pending = ? WHERE fingerprint = ?", (pending, row.identity))
        db.commit()
        db.close()
        again = run_import(source, mapping, client=client, options=FAST)
        done = run_import(source, mapping, client=client, options=FAST)
    assert again.counts() == {"updated": 1, "already-created": 5}
    assert done.counts() == {"already-created": 6}


def test_a_ledger_that_numbered_csv_text_lines_never_matches_a_row_by_a_wrong_place(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Versions before counted a CSV's text lines; rows are now numbered as Excel shows them.
    A ledger of theirs ("rows:" meta, line numbers) must not lead an edited row to another
    row's appointment: without knowing where its rows are, nothing is matched by place."""
    import sqlite3

    header = "Nr;Start;Betreff;Makler;Objekt\n"
    lines = [";".join(r) for r in rows(4)]
    lines[0] = lines[0].replace("Termin 0000", '"Termin 0000\nzweite Zeile"')
    source = write_csv(tmp_path / "rows.csv", header + "\n".join(lines) + "\n")
    mapping = tmp_path / "rows.yaml"
    mapping.write_text(CSV_MAPPING, encoding="utf-8")
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        assert first.counts() == {"created": 4} and first.journal_path is not None
        ledger = sqlite3.connect(first.journal_path)
        with ledger:  # as the version before left it: text lines, and the old meta key
            ledger.execute("UPDATE entries SET source_row = source_row + 1 WHERE source_row > 2")
            ledger.execute("UPDATE meta SET key = replace(key, 'rows2:', 'rows:')")
        ledger.close()
        ids = {row: first.results[row].appointment_id for row in first.results}
        edited = [
            ln.replace("Termin 0001", "Termin 0001 verlegt").replace(
                "Termin 0002", "Termin 0002 verlegt"
            )
            for ln in lines
        ]
        write_csv(source, header + "\n".join(edited) + "\n")
        again = run_import(source, mapping, client=client, options=FAST)
        stored = {a["id"]: a["description"] for a in sandbox.store.all_appointments()}
    # row 4 (Excel's numbering) sat at text line 5 before; line 4 was row 3's appointment
    assert stored[ids[3]] != "Termin 0002 verlegt"  # never row 4's content on row 3's
    assert {"Termin 0001 verlegt", "Termin 0002 verlegt"} <= set(stored.values())
    assert again.results[4].appointment_id != ids[3]
