"""The web app on a later day: an import of the account is undone, and its failed rows are
corrected and sent again, from History, after the app (and so every browser's workspace) was
stopped and started again. What History shows comes from the results workbooks and the ledger:
the app is a new process, the browser a new one. A job that fails says why, on its own page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from importer.core import i18n
from importer.run.journal import Journal, ledger_path
from importer.sandbox import Sandbox
from importer.web.app import create_app
from importer.web.guard import Guard
from importer.web.workspace import Workspace

from .conftest import ROOT
from .test_web import VIEWINGS, finished, post, text, upload


class Office:
    """The office's computer: its data folder (ledger, results) and mappings stay; each
    :meth:`start` is the app started anew, with a browser that has never seen it."""

    def __init__(self, root: Path, sandbox: Sandbox) -> None:
        self.root = root
        self.env = {
            "ONOFFICE_TOKEN": sandbox.credentials.token,
            "ONOFFICE_SECRET": sandbox.credentials.secret,
            "ONOFFICE_API_URL": sandbox.url,
        }
        self.mappings = root / "mappings"
        self.mappings.mkdir()
        for shipped in (ROOT / "mappings").glob("*.yaml"):
            (self.mappings / shipped.name).write_bytes(shipped.read_bytes())
        self.running: list[Workspace] = []

    def start(self) -> tuple[FlaskClient, Workspace, Guard]:
        workspace = Workspace(
            folder=self.root / f"work{len(self.running)}",  # the private folder dies each time
            mappings=self.mappings,
            results=self.root / "data" / "results",
            config=self.root / "config.ini",
            env=self.env,
        )
        self.running.append(workspace)
        guard = Guard()
        client = create_app(workspace, guard).test_client()
        assert client.get(f"/?token={guard.token}").status_code == 303
        return client, workspace, guard

    def stop(self) -> None:
        self.running[-1].close()


@pytest.fixture
def office(tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Office]:
    monkeypatch.setenv("ONOFFICE_IMPORT_DATA", str(tmp_path / "data"))  # the account's ledger
    made = Office(tmp_path, sandbox)
    try:
        yield made
    finally:
        for workspace in made.running:
            workspace.close()
        i18n.set_language("en")


def imported(client: FlaskClient, guard: Guard, ws: Workspace) -> str:
    """The sample imported with its saved mapping: 8 created, 6 invalid. Its job id."""
    assert upload(client, guard, VIEWINGS).status_code == 200
    assert post(client, guard, "/mapping/open", name="viewings").status_code == 200
    assert post(client, guard, "/check").status_code == 200
    finished(ws)
    started = client.post("/import", data={"csrf": guard.csrf})
    finished(ws)
    job_id = str(started.headers["Location"]).rsplit("/", 1)[-1]
    result = text(client.get(f"/import/{job_id}"))
    assert "8 created" in result and "6 invalid" in result, result
    return job_id


def only_entry(client: FlaskClient) -> tuple[str, str]:
    """History's one import: its page's words and its results workbook's name."""
    page = client.get("/history").get_data(as_text=True)
    names = sorted(set(__import__("re").findall(r"/history/([^/\"]+\.results\.xlsx)/undo", page)))
    assert len(names) == 1, names
    return text(client.get("/history")), names[0]


def test_an_import_is_undone_from_history_after_a_restart(office: Office, sandbox: Sandbox) -> None:
    client, ws, guard = office.start()
    imported(client, guard, ws)
    assert sandbox.store.count_appointments() == 8
    office.stop()

    client, ws, guard = office.start()  # the next day: a new app, a new browser
    history, name = only_entry(client)
    assert "viewings.xlsx" in history and "8 rows in onOffice" in history, history
    assert "6 rows not imported" in history
    plan = text(client.get(f"/history/{name}/undo"))
    assert "8 appointments this import created will be removed" in plan, plan
    assert sandbox.store.count_appointments() == 8  # asking changes nothing
    started = client.post(f"/history/{name}/undo", data={"csrf": guard.csrf})
    finished(ws)
    done = text(client.get(started.headers["Location"]))
    assert "8 appointments removed" in done, done
    assert sandbox.store.count_appointments() == 0
    office.stop()

    client, ws, guard = office.start()  # and the day after: History says so, per import
    history, name = only_entry(client)
    assert "8 appointments undone" in history and "rows in onOffice" not in history, history
    assert "Undo workbook" in history


def test_failed_rows_are_corrected_and_sent_again_after_a_restart(
    office: Office, sandbox: Sandbox
) -> None:
    client, ws, guard = office.start()
    imported(client, guard, ws)
    office.stop()

    client, ws, guard = office.start()
    _history, name = only_entry(client)
    opened = client.post(f"/history/{name}/open", data={"csrf": guard.csrf})
    job_id = str(opened.headers["Location"]).rsplit("/", 1)[-1]
    finished(ws)
    page = text(client.get(f"/import/{job_id}"))
    assert "8 created" in page and "6 invalid" in page, page
    assert "the end (05.03.2027 09:15) is before the start" in page  # the red cell, with why
    # row 11 ends before it starts: typed right in the page of yesterday's import
    report = ws.imports[-1].job.result
    end = report.check.table.columns.index("Ende")
    row = next(r for r, (_s, _i, source) in report.earlier.items() if source == 11)
    field = f"cell:{row}:{end}"
    assert f'name="{field}"' in client.get(f"/import/{job_id}").get_data(as_text=True)
    again = client.post(f"/import/{job_id}/again", data={"csrf": guard.csrf, field: "11:15"})
    second = str(again.headers["Location"]).rsplit("/", 1)[-1]
    finished(ws)
    result = text(client.get(f"/import/{second}"))
    assert "This send: 1 created 5 invalid" in result, result
    assert "The whole import: 9 rows in onOffice 5 rows not imported" in result
    assert sandbox.store.count_appointments() == 9  # nothing twice
    history, _name = only_entry(client)
    assert "9 rows in onOffice" in history and "5 rows not imported" in history, history


def test_a_job_that_fails_says_why_and_what_to_do(office: Office, sandbox: Sandbox) -> None:
    client, ws, guard = office.start()
    assert upload(client, guard, VIEWINGS).status_code == 200
    assert post(client, guard, "/mapping/open", name="viewings").status_code == 200
    assert post(client, guard, "/check").status_code == 200
    finished(ws)
    from importer.run.journal import ledger_path

    account = ws.connection().account
    assert account is not None
    ledger = ledger_path(account)  # the check only read it: it was never written
    assert not ledger.exists()
    ledger.mkdir(parents=True)  # a folder where the ledger must be: the import cannot start
    started = client.post("/import", data={"csrf": guard.csrf})
    job_id = str(started.headers["Location"]).rsplit("/", 1)[-1]
    job = ws.jobs[job_id]
    assert job.wait(60)
    assert job.error, "the import should have failed"
    state: Any = client.get(f"/jobs/{job_id}").get_json()
    assert state["running"] is False and state["error"] == job.error
    page = client.get(f"/import/{job_id}")
    words = text(page)
    assert page.status_code == 200 and "data-job" not in page.get_data(as_text=True)  # no reload
    assert "The import stopped:" in words and job.error in words
    assert "Nothing was sent to onOffice." in words and "What to do" in words
    assert sandbox.store.count_appointments() == 0


def cells_of(path: Path) -> list[str]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    return [str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v]


def test_the_web_apps_workbooks_name_only_what_the_office_has(
    office: Office, sandbox: Sandbox
) -> None:
    """The check report and the results workbook of the web app: the file as the office
    named it, the mapping by its saved name, everything technical under "For support"; no
    folder of the app, no command line, no option, no exit code, no ledger."""
    client, ws, guard = office.start()
    job_id = imported(client, guard, ws)
    report = ws.check_job.result.report_path  # type: ignore[union-attr]
    results = ws.jobs[job_id].result.results_path
    for book in (report, results):
        words = cells_of(book)
        text = "\n".join(words)
        assert "For support" in words and "viewings.xlsx" in words, book
        assert "“viewings” (saved in the web app)" in words, book
        for never in (str(ws.folder), "onoffice-import run", "--", "Exit code", "Journal"):
            assert never not in text, (book, never)
    statuses = "\n".join(cells_of(results))
    assert "web app (History)" in statuses and "--pair" not in statuses

    # a mapping drafted and never saved is called so, not by a file that does not exist
    post(client, guard, "/mapping/draft")
    assert post(client, guard, "/check").status_code == 200
    finished(ws)
    words = cells_of(ws.check_job.result.report_path)  # type: ignore[union-attr]
    assert "made in the web app, not saved" in words
    assert not any(w.endswith("-draft.yaml") for w in words)


def test_a_long_undo_pages_its_list_shows_progress_and_can_be_cancelled(
    office: Office, sandbox: Sandbox, tmp_path: Path
) -> None:
    """120 appointments: the undo's list shows 50 a page; while it runs, its page has the
    count, the cancel and "you may close this page"; a cancelled undo leaves the rest in
    onOffice (kept, said so), and the next undo from History removes them."""
    import threading

    from importer.core.errors import ExitCode
    from importer.run.undo import undo_import
    from importer.web.jobs import Job

    from .files import write_csv
    from .test_web import PLAIN

    client, ws, guard = office.start()
    lines = [f"0{1 + i % 9}.03.2027;{8 + i % 10}:{i % 60:02d};Termin {i}" for i in range(120)]
    source = write_csv(tmp_path / "lang.csv", "Datum;Beginn;Betreff\n" + "\n".join(lines) + "\n")
    upload(client, guard, source)
    post(client, guard, "/mapping/text", text=PLAIN)
    post(client, guard, "/check")
    finished(ws)
    started = client.post("/import", data={"csrf": guard.csrf})
    finished(ws)
    assert "120 created" in text(client.get(started.headers["Location"]))
    _history, name = only_entry(client)

    plan = client.get(f"/history/{name}/undo")
    words = text(plan)
    assert "120 appointments this import created will be removed" in words
    assert plan.get_data(as_text=True).count("<tr><td>") == 50 and "page 1 of 3" in words
    assert "page 3 of 3" in text(client.get(f"/history/{name}/undo?page=3"))

    # the page of an undo that runs: the count comes by script; the cancel and the words now
    running = Job("undo")
    ws.jobs[running.id] = running
    page = text(client.get(f"/undo/{running.id}"))
    assert "You may close this page: the work goes on, and History shows it." in page
    assert "Cancel (the appointments not reached yet stay in onOffice)" in page
    assert post(client, guard, f"/undo/{running.id}/cancel").status_code == 200
    assert running.stop.is_set()

    # cancelled before the first: every appointment kept and said so; progress told per one
    results = ws.past(name)
    seen: list[tuple[int, int]] = []
    stop = threading.Event()
    stop.set()
    with ws.office.client() as api:
        report = undo_import(
            results, client=api, stop=stop, progress=lambda d, t, _c: seen.append((d, t))
        )
    assert report.exit_code == ExitCode.INTERRUPTED and seen == []
    assert {i.status for i in report.items} == {"kept"} and len(report.items) == 120
    assert sandbox.store.count_appointments() == 120
    with ws.office.client() as api:
        report = undo_import(results, client=api, progress=lambda d, t, _c: seen.append((d, t)))
    assert seen[0] == (1, 120) and seen[-1] == (120, 120) and len(seen) == 120
    assert sandbox.store.count_appointments() == 0


def test_a_jobs_page_after_a_restart_says_where_the_work_is(office: Office) -> None:
    """The app started again: a job's old address says where the import is now (History)."""
    client, _ws, _guard = office.start()
    for address in ("/import/gone", "/undo/gone", "/import/gone/undo"):
        answer = client.get(address)
        assert answer.status_code == 404
        assert "every import is in History, to open or undo" in text(answer), address


def test_a_cli_import_is_opened_sent_again_and_undone_from_history(
    office: Office, sandbox: Sandbox, tmp_path: Path
) -> None:
    """An import made with the CLI (its results workbook beside the file, where the ledger
    records it) is opened from History as a web import: its failed rows corrected and sent
    again, then undone. Moved away, History says where it was and what still holds."""
    import os
    import shutil
    import subprocess
    import sys

    folder = tmp_path / "desk"
    folder.mkdir()
    shutil.copy(VIEWINGS, folder / "viewings.xlsx")
    mapping = str(office.mappings / "viewings.yaml")
    done = subprocess.run(
        [sys.executable, "-m", "importer", "run", "viewings.xlsx", "--mapping", mapping],
        cwd=folder,
        env={**os.environ, **office.env, "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # 1: rows not imported
    results = folder / "viewings.results.xlsx"
    assert results.is_file() and sandbox.store.count_appointments() == 8

    client, ws, guard = office.start()  # the next day, in the web app
    page = client.get("/history").get_data(as_text=True)
    keys = sorted(set(re.findall(r"/history/(run-[0-9a-f]{16})/undo", page)))
    assert len(keys) == 1, page
    history = text(client.get("/history"))
    assert "viewings.xlsx" in history and "8 rows in onOffice 6 rows not imported" in history
    download = client.get(f"/history/{keys[0]}")
    assert download.status_code == 200 and download.data == results.read_bytes()
    opened = client.post(f"/history/{keys[0]}/open", data={"csrf": guard.csrf})
    job_id = str(opened.headers["Location"]).rsplit("/", 1)[-1]
    finished(ws)
    page = text(client.get(f"/import/{job_id}"))
    assert "8 created" in page and "6 invalid" in page, page
    report = ws.imports[-1].job.result
    end = report.check.table.columns.index("Ende")
    row = next(r for r, (_s, _i, source) in report.earlier.items() if source == 11)
    sent = client.post(
        f"/import/{job_id}/again", data={"csrf": guard.csrf, f"cell:{row}:{end}": "11:15"}
    )
    finished(ws)
    again = text(client.get(sent.headers["Location"]))
    assert "This send: 1 created 5 invalid" in again, again
    assert sandbox.store.count_appointments() == 9
    history = text(client.get("/history"))
    assert "9 rows in onOffice 5 rows not imported" in history, history  # still one import

    started = client.post(f"/history/{keys[0]}/undo", data={"csrf": guard.csrf})
    finished(ws)
    assert "9 appointments removed" in text(client.get(started.headers["Location"]))
    assert sandbox.store.count_appointments() == 0
    history = text(client.get("/history"))
    assert "5 rows not imported 9 appointments undone" in history, history

    results.rename(tmp_path / "elsewhere.xlsx")  # moved away: said in words, no traceback
    history = text(client.get("/history"))
    assert f"no longer at {results} (moved or deleted)" in history, history
    assert "importing the file again creates none of them twice" in history
    for path in (f"/history/{keys[0]}/undo", f"/history/{keys[0]}"):
        refused = client.get(path)
        assert refused.status_code in (400, 404) and "Traceback" not in refused.text, path
    assert "no longer at" in text(client.get(f"/history/{keys[0]}/undo"))

    def give_back(path: Path) -> Any:
        with path.open("rb") as f:
            return client.post(
                f"/history/{keys[0]}/found",
                data={"csrf": guard.csrf, "file": (f, path.name)},
                content_type="multipart/form-data",
                follow_redirects=True,
            )

    wrong = give_back(VIEWINGS)  # the list itself, not its results: refused, in words
    assert wrong.status_code == 400 and "this is not the results workbook of viewings" in wrong.text
    copies = sorted(ws.results_files())
    account = ws.connection().account or ""
    with Journal(ws.journal_path() or ledger_path(account), account):  # an import running
        busy = give_back(tmp_path / "elsewhere.xlsx")
    assert busy.status_code == 400 and "Traceback" not in busy.text, busy.text
    assert sorted(ws.results_files()) == copies  # nothing copied that the ledger did not take
    history = text(give_back(tmp_path / "elsewhere.xlsx"))  # the moved workbook, given back
    assert "no longer at" not in history and "9 appointments undone" in history, history
    page = client.get("/history").get_data(as_text=True)
    assert re.findall(r"/history/([^/\"]+\.results\.xlsx)/undo", page) != [], page
