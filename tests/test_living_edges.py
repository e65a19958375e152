"""Edges of a living list found by review: each a sequence of edits, runs and computers that
once left onOffice different from the file, an exception, or a conflict no person caused."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from importer.core.errors import ExitCode
from importer.output.results import write_results
from importer.run.submit import run_import
from importer.run.undo import undo_import
from importer.sandbox import Faults, Sandbox
from tests.files import write_csv
from tests.helpers import (
    FAST,
    KEYED_MAPPING,
    cli,
    client_for,
    edit_in_onoffice,
    generated,
    rows,
    subjects,
    write,
)


def _active(sb: Sandbox) -> Counter[str]:
    return Counter(
        a["description"] for a in sb.store.all_appointments() if a.get("status") != "canceled"
    )


def test_a_cancel_made_in_onoffice_stays_when_the_row_comes_back(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """A person cancels an appointment, its row leaves the file and comes back: the run does
    not reactivate it silently (the person's cancel is a conflict), and never creates a copy."""
    table = rows(5)
    with client_for(sandbox) as client:
        source, mapping = write(tmp_path, table)
        first = run_import(source, mapping, client=client, options=FAST)
        cancelled = first.results[3].appointment_id
        edit_in_onoffice(sandbox, cancelled, status="canceled")
        write(tmp_path, table[:1] + table[2:])
        gone = run_import(source, mapping, client=client, options=FAST)
        assert [(r.appointment_id, r.status) for r in gone.removed] == [(cancelled, "already-gone")]
        write(tmp_path, table)
        back = run_import(source, mapping, client=client, options=FAST)
    assert back.counts() == {"already-created": 4, "conflict": 1}
    assert back.results[3].appointment_id == cancelled
    assert "cancelled in onOffice" in (back.results[3].error or "")
    assert sandbox.store.count_appointments() == 5


def test_without_read_calendar_an_agent_change_updates_on_another_computer(
    tmp_path: Path,
) -> None:
    """appointmentList sees only the agents it is asked for: the old agent is in no row any
    more, yet the second computer finds the appointment and updates it."""
    table = rows(4)
    with Sandbox(dialect="calendar_read=removed") as sb, client_for(sb) as client:
        source, mapping = write(tmp_path, table)
        run_import(source, mapping, client=client, options=FAST, journal_path=tmp_path / "A")
        table[3][3] = "mmueller"  # row 5: tkoch -> mmueller; tkoch is now in no row
        write(tmp_path, table)
        b = run_import(source, mapping, client=client, options=FAST, journal_path=tmp_path / "B")
        assert b.counts() == {"exists": 3, "updated": 1}
        assert sb.store.count_appointments() == 4


def test_a_keyed_list_does_not_take_another_lists_appointments(tmp_path: Path) -> None:
    """Two lists with the same booking numbers: the second does not overwrite the first's
    appointments; each of its rows is a conflict that names the other list."""

    def put(name: str, table: list[list[str]]) -> tuple[Path, Path]:
        text = "Nr;Start;Betreff;Makler;Objekt\n" + "".join(";".join(r) + "\n" for r in table)
        mapping = tmp_path / "rows.yaml"
        mapping.write_text(KEYED_MAPPING, encoding="utf-8")
        return write_csv(tmp_path / name, text), mapping

    march = rows(3)
    april = [[nr, start, "Andere Liste " + s[-4:], a, e] for nr, start, s, a, e in rows(3)]
    with Sandbox() as sb, client_for(sb) as client:
        source, mapping = put("march.csv", march)
        assert run_import(source, mapping, client=client, options=FAST).counts() == {"created": 3}
        source, mapping = put("april.csv", april)
        second = run_import(source, mapping, client=client, options=FAST)
        assert second.counts() == {"conflict": 3}
        assert all("another list" in (r.error or "") for r in second.results.values())
        assert set(subjects(sb)) == {"Termin 0000", "Termin 0001", "Termin 0002"}


def test_a_results_workbook_naming_a_deleted_appointment_on_another_computer(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """The colleague's ledger does not know the appointment the workbook names, and it was
    deleted in onOffice: a conflict for that row (a person deleted it), no exception."""
    with client_for(sandbox) as client:
        source, mapping = write(tmp_path, rows(4))
        first = run_import(
            source, mapping, client=client, options=FAST, journal_path=tmp_path / "A"
        )
        results = tmp_path / "rows.results.xlsx"
        write_results(first, results)
        sandbox.store.delete_appointment(first.results[3].appointment_id)
        again = run_import(
            results, mapping, client=client, options=FAST, journal_path=tmp_path / "B"
        )
    assert again.stopped is None
    assert again.counts() == {"exists": 3, "conflict": 1}
    assert again.results[3].status == "conflict"


def test_group_appointments_without_read_calendar_update_from_either_computer(
    tmp_path: Path,
) -> None:
    """Rows with an agent group, a server without read calendar: an edit from the second
    computer after one from the first is an update, not a conflict nobody caused."""
    mapping = tmp_path / "g.yaml"
    mapping.write_text(
        "start: Start\nend: {minutes: 30}\nfields:\n  description: Betreff\n"
        "  subscribers.users: {column: Makler, lookup: user}\n"
        "  subscribers.groups: {column: Gruppe, lookup: group}\n",
        encoding="utf-8",
    )
    table = [[r[1], r[2], r[3], "Vertrieb Aachen"] for r in rows(4)]

    def put() -> Path:
        text = "Start;Betreff;Makler;Gruppe\n" + "".join(";".join(r) + "\n" for r in table)
        return write_csv(tmp_path / "g.csv", text)

    with Sandbox(dialect="calendar_read=removed") as sb, client_for(sb) as client:
        a, b = tmp_path / "A.sqlite", tmp_path / "B.sqlite"
        assert run_import(put(), mapping, client=client, options=FAST, journal_path=a).counts() == {
            "created": 4
        }
        table[1][1] = "Termin geändert"
        edited = run_import(put(), mapping, client=client, options=FAST, journal_path=a)
        assert edited.counts() == {"already-created": 3, "updated": 1}
        table[2][1] = "Noch ein Termin geändert"
        other = run_import(put(), mapping, client=client, options=FAST, journal_path=b)
        assert other.counts() == {"exists": 3, "updated": 1}
        back = run_import(put(), mapping, client=client, options=FAST, journal_path=a)
        assert set(back.counts()) <= {"already-created", "unchanged"}, back.counts()
        assert sb.store.count_appointments() == 4


def test_a_re_sorted_list_edited_on_another_computer_keeps_its_appointments(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Re-sorted on one computer (nothing written), then one row's time and agent changed on
    another: the row's two neighbours stood around its appointment (in the other order), so
    it is that appointment, updated; not a second one."""
    table = rows(10)
    with client_for(sandbox) as client:
        source, mapping = write(tmp_path, table)
        a, b = tmp_path / "A.sqlite", tmp_path / "B.sqlite"
        run_import(source, mapping, client=client, options=FAST, journal_path=a)
        table = table[::-1]
        write(tmp_path, table)
        assert run_import(
            source, mapping, client=client, options=FAST, journal_path=a
        ).counts() == {"already-created": 10}
        table[4][1] = table[4][1][:11] + "19:45"
        table[4][3] = "lbecker"
        write(tmp_path, table)
        other = run_import(source, mapping, client=client, options=FAST, journal_path=b)
    assert other.counts() == {"exists": 9, "updated": 1}
    assert other.removed == []
    assert sum(_active(sandbox).values()) == 10


def test_undo_then_run_again_restores_what_the_ledger_wrote(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Undo with --cancel, then the rows again: each cancelled appointment comes back active
    with its row's content, once."""
    with client_for(sandbox) as client:
        source, mapping = write(tmp_path, rows(3))
        first = run_import(source, mapping, client=client, options=FAST)
        results = tmp_path / "rows.results.xlsx"
        write_results(first, results)
        undone = undo_import(results, client=client, cancel=True, confirm=lambda _items: True)
        assert Counter(i.status for i in undone.items) == {"canceled": 3}
        again = run_import(source, mapping, client=client, options=FAST)
    assert sum(again.counts().values()) == 3
    assert _active(sandbox) == {"Termin 0000": 1, "Termin 0001": 1, "Termin 0002": 1}
    assert sandbox.store.count_appointments() == 3


def test_a_full_disk_while_an_answer_is_lost_stops_with_one_line(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Files may not grow past 96 KB and a third of the creates lose their answer: the
    settling read-back meets the full journal; the run stops with one line, and a later run
    (space freed) holds every row once."""
    source, mapping = generated(tmp_path, 400)
    sandbox.faults = Faults(drop_after_rate=0.3, writes_only=True, seed=7)

    def run(limit: int | None = None) -> tuple[int, str]:
        done = cli(["run", str(source), "-m", str(mapping)], sandbox, tmp_path / "pc", tmp_path,
                   file_size_limit=limit)  # fmt: skip
        return done.returncode, done.stdout + done.stderr

    code, output = run(96_000)
    assert code == ExitCode.STOPPED, output
    assert "Traceback" not in output and "cannot be written" in output
    sandbox.faults = Faults()
    code, output = run()
    assert code == 0, output
    assert len(subjects(sandbox)) == 400 and set(subjects(sandbox).values()) == {1}
