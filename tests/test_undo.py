"""`undo`: exactly the appointments an import created, journaled, resumable, idempotent."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import openpyxl
import pytest

from importer.onoffice.client import OnOfficeClient
from importer.output.results import default_results_path, write_results
from importer.run.journal import default_journal_path
from importer.run.submit import run_import
from importer.run.undo import undo_import
from importer.sandbox import Sandbox

from . import forkserver
from .conftest import ROOT

MAPPING = ROOT / "mappings" / "viewings.yaml"


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
        second = undo_import(results, client=client, journal_path=journal, confirm=lambda p: True)
    assert first.counts() == {"deleted": 8}
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
    disagreements = {i.appointment_id for i in report.items if i.status == "disagreement"}
    # the journal holds every import of the account, so only the workbook's ids are in question
    assert disagreements == {9999}
    assert report.counts()["deleted"] == 7
    assert sandbox.store.appointment(changed_from) is not None  # neither is touched


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
