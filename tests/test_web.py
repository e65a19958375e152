"""The web app's routes through Flask's test client: real files, the real sandbox over HTTP,
real SQLite ledgers; and the safety rules of a server on the user's own machine."""

from __future__ import annotations

import html
import io
import os
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from importer.core import i18n
from importer.core.errors import ImporterError
from importer.mapping.draft import load_largest_sheet
from importer.mapping.spec import load_mapping
from importer.web import editor
from importer.web.app import create_app
from importer.web.guard import COOKIE, Guard
from importer.web.workspace import Workspace, only_names

from .conftest import ROOT, SAMPLES
from .files import write_csv

VIEWINGS = SAMPLES / "viewings.xlsx"
PLAIN = "start: {date: Datum, time: Beginn}\nend: {minutes: 30}\nfields: {description: Betreff}\n"


@pytest.fixture
def web(tmp_path: Path) -> Iterator[tuple[FlaskClient, Workspace, Guard]]:
    """The app in practice mode (its own sandbox), signed in with the session token."""
    mappings = tmp_path / "mappings"
    mappings.mkdir()
    for shipped in (ROOT / "mappings").glob("*.yaml"):
        (mappings / shipped.name).write_bytes(shipped.read_bytes())
    workspace = Workspace(
        folder=tmp_path / "work",
        mappings=mappings,
        results=tmp_path / "results",
        sandbox=True,
        config=tmp_path / "config.ini",
    )
    guard = Guard()
    app = create_app(workspace, guard)
    client = app.test_client()
    assert client.get(f"/?token={guard.token}").status_code == 303  # sets the cookie
    try:
        yield client, workspace, guard
    finally:
        workspace.close()
        i18n.set_language("en")


def post(client: FlaskClient, guard: Guard, path: str, **data: Any) -> Any:
    return client.post(path, data={"csrf": guard.csrf, **data}, follow_redirects=True)


def text(response: Any) -> str:
    """The page's words, without tags."""
    words = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(words))


def finished(workspace: Workspace, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    for job in list(workspace.jobs.values()):
        assert job.wait(max(0.1, deadline - time.monotonic())), f"{job.kind} still running"
        assert job.error is None, job.error


def upload(client: FlaskClient, guard: Guard, path: Path, name: str | None = None) -> Any:
    with path.open("rb") as f:
        return client.post(
            "/file",
            data={"csrf": guard.csrf, "file": (f, name or path.name)},
            content_type="multipart/form-data",
            follow_redirects=True,
        )


def imported_to_check(client: FlaskClient, guard: Guard, ws: Workspace, mapping: str) -> None:
    assert upload(client, guard, VIEWINGS).status_code == 200
    assert post(client, guard, "/mapping/open", name=mapping).status_code == 200
    assert post(client, guard, "/check").status_code == 200
    finished(ws)


# --- the safety rules --------------------------------------------------------------------------
def test_every_page_needs_the_session_token(tmp_path: Path) -> None:
    workspace = Workspace(folder=tmp_path / "w", mappings=tmp_path, results=tmp_path / "r")
    guard = Guard()
    client = create_app(workspace, guard).test_client()
    try:
        for path in ("/", "/file", "/mapping", "/check", "/history", "/static/app.js"):
            assert client.get(path).status_code == 403, path
        assert client.get("/?token=wrong").status_code == 403
        first = client.get(f"/?token={guard.token}")
        assert first.status_code == 303 and first.headers["Location"] == "/"  # token leaves the URL
        cookie = first.headers["Set-Cookie"]
        assert f"{COOKIE}_{guard.port}={guard.token}" in cookie
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert client.get("/").status_code == 200  # from now on the cookie
    finally:
        workspace.close()


def test_a_wrong_host_is_refused(web: tuple[FlaskClient, Workspace, Guard]) -> None:
    client, _ws, guard = web
    assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"Host": "evil.example:80"}).status_code == 400
    bound = Guard(token=guard.token, port=43210)
    assert bound.hosts() == {"127.0.0.1:43210", "localhost:43210"}


def test_cross_site_and_tokenless_posts_are_refused(
    web: tuple[FlaskClient, Workspace, Guard],
) -> None:
    client, ws, guard = web
    evil = client.post(
        "/connection",
        data={"csrf": guard.csrf, "sandbox": "off"},
        headers={"Origin": "http://evil.example"},
    )
    assert evil.status_code == 403
    assert client.post("/connection", data={"sandbox": "off"}).status_code == 403  # no CSRF
    wrong = client.post("/connection", data={"csrf": "guess", "sandbox": "off"})
    assert wrong.status_code == 403
    assert ws.sandbox_wanted  # nothing changed
    same_site = client.post(
        "/connection",
        data={"csrf": guard.csrf, "sandbox": "off"},
        headers={"Origin": "http://localhost"},
    )
    assert same_site.status_code == 303 and not ws.sandbox_wanted
    headers = client.get("/").headers
    assert "Access-Control-Allow-Origin" not in headers
    assert headers["X-Frame-Options"] == "DENY"


def test_refused_pages_carry_no_form_token(web: tuple[FlaskClient, Workspace, Guard]) -> None:
    """A 403 (no token) or 400 (foreign Host) page shows nothing of the session: no CSRF."""
    client, _ws, guard = web
    stranger = client.application.test_client()
    refused = stranger.get("/file")
    assert refused.status_code == 403 and guard.csrf not in refused.get_data(as_text=True)
    foreign = client.get("/", headers={"Host": "evil.example"})
    assert foreign.status_code == 400 and guard.csrf not in foreign.get_data(as_text=True)
    assert guard.csrf in client.get("/").get_data(as_text=True)  # a signed-in page has it


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/\n/evil.example",
    ],
)
def test_the_language_switch_never_sends_the_browser_elsewhere(
    web: tuple[FlaskClient, Workspace, Guard], target: str
) -> None:
    client, _ws, guard = web
    answer = client.post("/language", data={"csrf": guard.csrf, "lang": "de", "next": target})
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    back = client.post("/language", data={"csrf": guard.csrf, "lang": "en", "next": "/check"})
    assert back.headers["Location"] == "/check"


@pytest.mark.parametrize(
    "origin", ["https://127.0.0.1", "https://localhost", "http://localhost.evil.example", "null"]
)
def test_only_this_servers_own_origin_may_post(
    web: tuple[FlaskClient, Workspace, Guard], origin: str
) -> None:
    """The app serves http only: an https Origin (or another host) is another site."""
    client, ws, guard = web
    answer = client.post(
        "/connection", data={"csrf": guard.csrf, "sandbox": "off"}, headers={"Origin": origin}
    )
    assert answer.status_code == 403 and ws.sandbox_wanted


def test_two_browsers_never_share_a_file_a_check_or_a_language(
    web: tuple[FlaskClient, Workspace, Guard], tmp_path: Path
) -> None:
    """Browser A checks the sample, browser B uploads and checks another file and speaks
    German; A's import imports what A's page showed, in English."""
    a, ws_a, guard = web
    b = a.application.test_client()
    assert b.get(f"/?token={guard.token}").status_code == 303
    imported_to_check(a, guard, ws_a, "viewings")
    other = write_csv(tmp_path / "beta.csv", "Datum;Beginn;Betreff\n02.03.2030;10:00;Beta\n")
    upload(b, guard, other)
    post(b, guard, "/mapping/text", text=PLAIN)
    post(b, guard, "/language", lang="de", next="/")
    assert post(b, guard, "/check").status_code == 200
    sessions, _guard = a.application.extensions["onoffice"]
    ws_b = next(w for w in sessions.by_id.values() if w is not ws_a)
    for job in ws_b.jobs.values():
        assert job.wait(30)
    assert ws_a.uploaded().name == "viewings.xlsx" and ws_b.uploaded().name == "beta.csv"
    assert "8 rows valid" in text(a.get("/check"))  # A's page, A's file, in English
    assert "1 Zeile gültig" in text(b.get("/check"))
    page_a = a.get("/import").get_data(as_text=True)
    shown = re.search(r'name="check" value="([^"]+)"', page_a)
    assert shown is not None
    started = a.post("/import", data={"csrf": guard.csrf, "check": shown.group(1)})
    job_id = started.headers["Location"].rsplit("/", 1)[-1]
    finished(ws_a)
    assert "8 created" in text(a.get(f"/import/{job_id}"))
    made = [x["description"] for x in ws_a._sandbox_server().store.all_appointments()]
    assert len(made) == 8 and "Beta" not in made
    # a tab of A that still shows an older check cannot import what it did not show
    upload(a, guard, other)
    post(a, guard, "/mapping/text", text=PLAIN)
    post(a, guard, "/check")
    finished(ws_a)
    stale = a.post("/import", data={"csrf": guard.csrf, "check": shown.group(1)})
    assert stale.status_code == 400
    assert "another page of this browser checked a file" in text(stale)


def test_debug_logs_never_show_credentials_in_the_api_url(tmp_path: Path) -> None:
    """urllib3 logs every request line at debug level: a token in the API URL's query (or
    user info) is hidden."""
    import subprocess
    import sys

    from importer.sandbox import Sandbox

    with Sandbox() as sb:
        url = sb.url.replace("http://", "http://user:pa55word@") + "?token=s3cretquery"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ONOFFICE")},
            "ONOFFICE_API_URL": url,
            "ONOFFICE_TOKEN": sb.credentials.token,
            "ONOFFICE_SECRET": sb.credentials.secret,
            "HOME": str(tmp_path),
        }
        done = subprocess.run(
            [sys.executable, "-m", "importer", "--debug", "check", str(VIEWINGS), "-m",
             str(ROOT / "mappings" / "viewings.yaml"), "--resolve", "--report",
             str(tmp_path / "r.xlsx")],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    log = done.stdout + done.stderr
    assert "POST /api/stable/api.php?*** HTTP/1.1" in log, log[-2000:]
    assert "s3cretquery" not in log and "pa55word" not in log


def test_a_60_mb_upload_is_refused_and_nothing_is_stored(
    web: tuple[FlaskClient, Workspace, Guard],
) -> None:
    client, ws, guard = web
    big = io.BytesIO(b"Datum;Beginn\n" + b"x" * (60 * 1024 * 1024))
    response = client.post(
        "/file",
        data={"csrf": guard.csrf, "file": (big, "big.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "larger than 50 MB" in text(response)
    assert ws.upload is None
    assert not (ws.folder / "uploads").exists() or not any((ws.folder / "uploads").iterdir())


def test_names_from_the_browser_never_become_paths(
    web: tuple[FlaskClient, Workspace, Guard], tmp_path: Path
) -> None:
    client, ws, guard = web
    upload(client, guard, VIEWINGS)
    post(client, guard, "/mapping/open", name="viewings")
    for name in ("../evil", "..", "a/b", "/etc/passwd", ".hidden", "x" * 65):
        response = post(client, guard, "/mapping/save", name=name)
        assert response.status_code == 400, name
        assert "letters, digits" in text(response)
        response = post(client, guard, "/mapping/open", name=name)
        assert response.status_code == 400, name
    assert not (tmp_path / "evil.yaml").exists()
    assert sorted(p.name for p in tmp_path.glob("*.yaml")) == []
    assert client.get("/history/..%2Fconfig.ini").status_code == 404
    (ws.results).mkdir(parents=True, exist_ok=True)
    (tmp_path / "secret.xlsx").write_bytes(b"PK")  # beside the results folder, not in it
    assert client.get("/history/secret.xlsx").status_code == 404
    (ws.results / "mine.results.xlsx").write_bytes(b"PK")
    assert client.get("/history/mine.results.xlsx").status_code == 200  # the listing's own
    # an uploaded file's name is only shown: it is stored under a name of our own
    upload(client, guard, VIEWINGS, name="../../outside.xlsx")
    assert ws.upload is not None and ws.upload.path.is_relative_to(ws.folder)
    assert not (tmp_path / "outside.xlsx").exists()


def test_credentials_go_to_an_owner_only_file_and_never_back_to_the_browser(
    web: tuple[FlaskClient, Workspace, Guard], tmp_path: Path
) -> None:
    client, ws, guard = web
    sandbox = ws._sandbox_server()  # the practice sandbox stands in for an onOffice account
    token, secret = sandbox.credentials.token, sandbox.credentials.secret
    response = post(client, guard, "/connection", url=sandbox.url, token=token, secret=secret)
    assert response.status_code == 200
    config = tmp_path / "config.ini"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert token in config.read_text() and secret in config.read_text()
    assert not ws.sandbox_wanted and ws.connection().ok  # the account works
    for path in ("/", "/file", "/mapping", "/check", "/import", "/history"):
        page = client.get(path).get_data(as_text=True)
        assert token not in page and secret not in page, path
    assert "The credentials work" in text(client.get("/"))


# --- the flow ----------------------------------------------------------------------------------
def test_the_file_step_shows_the_rows_as_the_loader_reads_them(
    web: tuple[FlaskClient, Workspace, Guard],
) -> None:
    client, ws, guard = web
    page = text(upload(client, guard, VIEWINGS))
    table = load_largest_sheet(VIEWINGS, ws.uploaded().options())  # as `mapping init` reads it
    assert f"Header in row {table.header_row}; 14 rows below it" in page
    assert "Sheet: Besichtigungen" in page
    assert "Sabine Krüger" in page and "01.03.2027" in page
    assert "Notizen" in page  # the other sheet can be chosen
    # another header row, as the user sets it: a data row as header is refused with the reason
    changed = text(post(client, guard, "/file/options", sheet="Besichtigungen", header_row="4"))
    assert "viewings.xlsx" in changed and "give it a name" in changed
    assert ws.uploaded().header_row == 4
    back = text(post(client, guard, "/file/options", sheet="Besichtigungen", header_row=""))
    assert f"Header in row {table.header_row}" in back


def test_a_refused_file_shows_the_clis_one_line_reason(
    web: tuple[FlaskClient, Workspace, Guard], tmp_path: Path
) -> None:
    client, _ws, guard = web
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(b"PK\x03\x04 not really a workbook")
    page = text(upload(client, guard, damaged))
    assert "damaged.xlsx: the file is damaged or incomplete (not a valid .xlsx)" in page
    assert str(tmp_path / "work") not in page  # our folders are not the user's business
    wrong = text(upload(client, guard, damaged, name="offer.pdf"))
    assert "offer.pdf: not a file this tool reads" in wrong


def test_a_failed_step_says_why_in_the_users_names(
    web: tuple[FlaskClient, Workspace, Guard], tmp_path: Path
) -> None:
    client, ws, guard = web
    source = write_csv(tmp_path / "Termine März.csv", "Datum;Beginn\n02.03.2030;10:00\n")
    upload(client, guard, source)
    post(client, guard, "/mapping/text", text=PLAIN)  # names a column "Betreff" the file lacks
    post(client, guard, "/check")
    for job in ws.jobs.values():
        job.wait(30)
    page = text(client.get("/check"))
    assert "no column 'Betreff' in Termine März.csv; the file has: Datum, Beginn" in page
    assert str(ws.folder) not in page and "/tmp" not in page


def test_check_import_fix_send_again_and_undo(web: tuple[FlaskClient, Workspace, Guard]) -> None:
    client, ws, guard = web
    imported_to_check(client, guard, ws, "viewings")
    checked = client.get("/check")
    assert "8 rows valid" in text(checked) and "6 rows invalid" in text(checked)
    invalid = text(client.get("/check?filter=invalid"))
    assert invalid.count("invalid") >= 6 and "Ahmet Yılmaz" not in invalid
    assert "the end (05.03.2027 09:15) is before the start" in invalid
    report = client.get("/check/report")
    assert report.status_code == 200 and report.data[:2] == b"PK"
    confirm = text(client.get("/import"))
    assert "8 appointments will be created" in confirm
    assert "6 faulty rows will not be sent" in confirm

    started = client.post("/import", data={"csrf": guard.csrf})
    job_id = started.headers["Location"].rsplit("/", 1)[-1]
    finished(ws)
    assert client.get(f"/jobs/{job_id}").get_json()["running"] is False
    result = text(client.get(f"/import/{job_id}"))
    assert "8 created" in result and "6 invalid" in result
    sandbox = ws._sandbox_server()
    assert sandbox.store.count_appointments() == 8

    # row 11 ends before it starts: the user types another end into the marked cell
    report_rows = ws.imports[-1].job.result.check.table
    end = report_rows.columns.index("Ende")
    again = client.post(
        f"/import/{job_id}/again",
        data={"csrf": guard.csrf, f"cell:11:{end}": "11:15"},
    )
    second = again.headers["Location"].rsplit("/", 1)[-1]
    finished(ws)
    result = text(client.get(f"/import/{second}"))
    # what this send did, then the whole import (the 8 created earlier are not this send's)
    assert (
        "This send: 1 created 5 invalid The whole import: 9 rows in onOffice 5 rows not" in result
    )
    assert sandbox.store.count_appointments() == 9  # nothing twice

    undo = text(client.get(f"/import/{second}/undo"))
    assert "9 appointments this import created will be removed" in undo
    assert sandbox.store.count_appointments() == 9  # asking changes nothing
    removed = client.post(f"/import/{second}/undo", data={"csrf": guard.csrf})
    finished(ws)
    assert "9 appointments removed" in text(client.get(removed.headers["Location"]))
    assert sandbox.store.count_appointments() == 0

    page = client.get("/history").get_data(as_text=True)
    history = text(client.get("/history"))
    assert "viewings.xlsx" in history and "Undo workbook" in history
    # one import, counted from its workbook and the ledger: none in onOffice any more
    assert "5 rows not imported 9 appointments undone" in history, history
    assert page.count(".results.xlsx/undo") == 1 and "rows in onOffice" not in history


def test_a_calendar_file_is_checked_and_imported_like_a_sheet(
    web: tuple[FlaskClient, Workspace, Guard],
) -> None:
    client, ws, guard = web
    page = text(upload(client, guard, SAMPLES / "outlook.ics"))
    assert "outlook.ics" in page and "Besichtigung AC-1042 mit Sabine Krüger" in page
    assert post(client, guard, "/mapping/open", name="ics").status_code == 200
    assert post(client, guard, "/check").status_code == 200
    finished(ws)
    checked = text(client.get("/check"))
    assert "6 rows valid" in checked and "1 row invalid" in checked
    started = client.post("/import", data={"csrf": guard.csrf})
    job_id = started.headers["Location"].rsplit("/", 1)[-1]
    finished(ws)
    assert "6 created" in text(client.get(f"/import/{job_id}"))
    assert ws._sandbox_server().store.count_appointments() == 6


def test_cancel_stops_like_ctrl_c(
    web: tuple[FlaskClient, Workspace, Guard], tmp_path: Path
) -> None:
    """And every long step (check, import, undo; each answer of onOffice 50 ms late) says on
    its page that it may be closed and has a cancel; import and undo poll a count, the recent
    rate and the time left in words (importer/core/progress.py), the last item "finishing"
    (the page's script showing them: tests/test_web_browser_later.py::
    test_an_import_shows_its_time_left_in_german_and_cancels)."""
    client, ws, guard = web
    rows = "\n".join(f"0{1 + i % 9}.03.2030;{8 + i % 10}:00;Termin {i}" for i in range(60))
    source = write_csv(tmp_path / "many.csv", "Datum;Beginn;Betreff\n" + rows + "\n")
    mapping = (
        "start: {date: Datum, time: Beginn}\nend: {minutes: 30}\nfields: {description: Betreff}\n"
    )
    upload(client, guard, source)
    post(client, guard, "/mapping/text", text=mapping)
    ws._sandbox_server().faults.latency = 0.05
    closing = "You may close this page: the work goes on, and History shows it."
    started = text(post(client, guard, "/check"))
    assert closing in started and "Cancel the check" in started  # asking onOffice: 50 ms each
    finished(ws)
    assert "60 rows valid" in text(client.get("/check"))
    begun = client.post("/import", data={"csrf": guard.csrf})
    job_id = begun.headers["Location"].rsplit("/", 1)[-1]
    page = text(client.get(f"/import/{job_id}"))
    assert closing in page and "Cancel (rows being sent are finished and recorded)" in page
    state = polled(client, job_id, lambda s: LEFT.fullmatch(s["left_words"]), "a time left")
    assert 3 <= state["done"] < state["total"] == 60 and state["rate"] > 0 and state["counting"]
    client.post(f"/import/{job_id}/cancel", data={"csrf": guard.csrf})
    finished(ws)
    report = ws.imports[-1].job.result
    counts = report.counts()
    assert report.interrupted and counts["created"] + counts["not-sent"] == 60
    assert 3 <= counts["created"] < 60
    store = ws._sandbox_server().store
    assert store.count_appointments() == counts["created"]

    name = ws.results_files()[0].name
    begun = client.post(f"/history/{name}/undo", data={"csrf": guard.csrf})
    undo_id = begun.headers["Location"].rsplit("/", 1)[-1]
    page = text(client.get(f"/undo/{undo_id}"))
    assert closing in page and "Cancel (the appointments not reached yet stay" in page
    state = polled(client, undo_id, lambda s: not s["running"] or s["left_words"], "the undo")
    assert state["total"] == counts["created"]
    finished(ws)
    assert ws.jobs[undo_id].snapshot()["left_words"] == "finishing …"  # never "0 seconds"
    assert store.count_appointments() == 0


LEFT = re.compile(r"less than a minute left|about \d+ minutes? left")


def polled(client: FlaskClient, job_id: str, until: Any, what: str) -> dict[str, Any]:
    """The job's state as its page polls it, until ``until(state)`` (bounded)."""
    deadline = time.monotonic() + 20
    while True:
        state: dict[str, Any] = client.get(f"/jobs/{job_id}").get_json()
        if until(state):
            return state
        assert state["running"] and time.monotonic() < deadline, f"{what}: {state}"
        time.sleep(0.1)


def test_the_confirmation_asks_which_appointment_a_look_alike_row_is(
    web: tuple[FlaskClient, Workspace, Guard], tmp_path: Path
) -> None:
    """Two look-alike rows; one deleted, the other's note edited: the plan cannot tell which
    appointment is the edited row's. The confirmation asks; the answer is what is imported,
    and the list is recognised by the user's file name, not the app's copy of it."""
    client, ws, guard = web
    mapping = (
        "start: Start\nend: {minutes: 30}\n"
        "fields: {description: Betreff, note: Notiz, subscribers.users: {column: Makler, "
        "lookup: user}}\n"
    )

    def imported(notes: list[str]) -> Any:
        lines = "01.03.2030 09:00;Übergabe;jschmidt;Schlüssel\n"
        lines += "".join(f"02.03.2030 10:00;Besichtigung;mmueller;{n}\n" for n in notes)
        source = write_csv(tmp_path / "twins.csv", "Start;Betreff;Makler;Notiz\n" + lines)
        upload(client, guard, source)
        post(client, guard, "/mapping/text", text=mapping)
        post(client, guard, "/check")
        finished(ws)
        return client.get("/import")

    imported(["Frau Krüger", "Herr Yılmaz"])
    client.post("/import", data={"csrf": guard.csrf})
    finished(ws)
    store = ws._sandbox_server().store
    ids = {a["note"].split("\n")[0]: a["id"] for a in store.all_appointments()}
    confirm = imported(["Herr Yılmaz, kommt mit Partnerin"])
    page = text(confirm)
    assert "Which appointment is which? Rows 3 could each be one of these" in page, page
    assert f"appointment {ids['Herr Yılmaz']}: Besichtigung, 02.03.2030 10:00" in page
    assert 'name="pair-3"' in confirm.get_data(as_text=True)
    client.post("/import", data={"csrf": guard.csrf, "pair-3": str(ids["Herr Yılmaz"])})
    finished(ws)
    report = ws.imports[-1].job.result
    assert report.counts() == {"already-created": 1, "updated": 1}
    assert report.results[3].appointment_id == ids["Herr Yılmaz"]
    live = {a["id"] for a in store.all_appointments() if a.get("status") != "canceled"}
    assert live == {ids["Schlüssel"], ids["Frau Krüger"], ids["Herr Yılmaz"]}  # kept: no flag


def test_large_results_page(web: tuple[FlaskClient, Workspace, Guard], tmp_path: Path) -> None:
    client, ws, guard = web
    rows = "\n".join(f"{1 + i % 28:02d}.04.2031;10:00;Zeile {i}" for i in range(120))
    source = write_csv(tmp_path / "pages.csv", "Datum;Beginn;Betreff\n" + rows + "\n")
    upload(client, guard, source)
    post(
        client,
        guard,
        "/mapping/text",
        text=PLAIN,
    )
    post(client, guard, "/check")
    finished(ws)
    first, third = text(client.get("/check")), text(client.get("/check?page=3"))
    assert "page 1 of 3" in first and "Zeile 0 " in first and "Zeile 50 " not in first
    assert "page 3 of 3" in third and "Zeile 119" in third and "Zeile 99 " not in third


def test_the_page_speaks_german_when_asked(web: tuple[FlaskClient, Workspace, Guard]) -> None:
    client, _ws, guard = web
    page = text(post(client, guard, "/language", lang="de", next="/file"))
    assert "Datei" in page and "Hochladen" in page
    outside = client.post(
        "/language", data={"csrf": guard.csrf, "lang": "en", "next": "//evil.example"}
    )
    assert outside.status_code == 303 and outside.headers["Location"] == "/"  # never outside


# --- the mapping editor ------------------------------------------------------------------------
def form_of(raw: dict[str, Any]) -> dict[str, str]:
    """What the browser sends back for a document it was shown, unchanged."""
    form: dict[str, str] = {}
    for path, values in editor.form_values(raw).items():
        for key, value in values.items():
            if key in ("minutes", "type") or key != "named_map":
                form[f"{path}:{key}"] = value
    return form


@pytest.mark.parametrize(
    ("mapping", "source"),
    [
        ("viewings", "viewings.xlsx"),
        ("termine", "termine.csv"),
        ("series", "series.csv"),
        ("ics", "google.ics"),
        ("outlook-csv", "outlook-en.csv"),
    ],
)
def test_the_editor_round_trips_every_shipped_mapping(
    mapping: str, source: str, tmp_path: Path
) -> None:
    """Shown and sent back unchanged, a mapping means the same: every row converts the same."""
    from importer import check

    original = (ROOT / "mappings" / f"{mapping}.yaml").read_text(encoding="utf-8")
    raw = editor.parse(original)
    again = editor.apply_form(raw, form_of(raw))
    saved = tmp_path / f"{mapping}.yaml"
    saved.write_text(editor.dump(again), encoding="utf-8")
    before = check(SAMPLES / source, ROOT / "mappings" / f"{mapping}.yaml", report=False)
    after = check(SAMPLES / source, load_mapping(saved), report=False)
    assert [(o.row, o.parameters, [p.code for p in o.problems]) for o in after.outcomes] == [
        (o.row, o.parameters, [p.code for p in o.problems]) for o in before.outcomes
    ]
    assert editor.form_values(editor.parse(saved.read_text())) == editor.form_values(raw)


def test_an_edit_in_the_form_is_saved_as_yaml_the_cli_reads(
    web: tuple[FlaskClient, Workspace, Guard],
) -> None:
    from importer.cli import main

    client, ws, guard = web
    upload(client, guard, VIEWINGS)
    post(client, guard, "/mapping/draft")
    raw = editor.parse(ws.mapping_text)
    form = form_of(raw)
    form["fields.art:map"] = (
        "Besichtigung = Besichtigung\nÜbergabe = Uebergabe\nBeratung = Beratung"
    )
    form["fields.note:kind"] = ""  # not used
    preview = client.post(
        "/mapping/form",
        data={"csrf": guard.csrf, **form},
        headers={"X-Preview": "1"},
    )
    assert preview.status_code == 200 and "rows are valid" in text(preview)
    # the type mapped to the key Uebergabe is shown by its name in onOffice, not by its key
    assert "Appointment type" in text(preview) and "Uebergabe" not in text(preview)
    saved = post(client, guard, "/mapping/save", name="my-viewings")
    assert "Saved as mappings/my-viewings.yaml" in text(saved)
    path = ws.mappings / "my-viewings.yaml"
    loaded = load_mapping(path)
    assert dict(loaded.fields["art"].map or {})["übergabe"] == "Uebergabe"
    assert "note" not in loaded.fields
    with pytest.raises(SystemExit) as done:
        main(
            ["check", str(VIEWINGS), "--mapping", str(path), "--report", str(ws.folder / "r.xlsx")]
        )
    assert done.value.code == 1  # read unchanged by the CLI: the sample's faulty rows


# --- what a review found -----------------------------------------------------------------------
def test_the_preview_reads_the_sheet_the_mapping_names(
    web: tuple[FlaskClient, Workspace, Guard], tmp_path: Path
) -> None:
    """Two sheets hold data; the mapping's `source.sheet` picks one, in the preview as in the
    check (not "several sheets could hold the data")."""
    from openpyxl import Workbook

    client, _ws, guard = web
    book = Workbook()
    for title, subject in (("Alt", "alter Termin"), ("Neu", "neuer Termin")):
        sheet = book.create_sheet(title)
        sheet.append(["Start", "Betreff"])
        sheet.append(["02.03.2030 10:00", subject])
    book.remove(book.worksheets[0])
    book.save(tmp_path / "two.xlsx")
    upload(client, guard, tmp_path / "two.xlsx")
    mapping = (
        "source: {sheet: Neu}\nstart: Start\nend: {minutes: 30}\nfields: {description: Betreff}\n"
    )
    page = text(post(client, guard, "/mapping/text", text=mapping))
    assert "neuer Termin" in page and "alter Termin" not in page
    assert "several sheets" not in page


def test_the_mapping_is_read_from_memory_by_every_thread(
    web: tuple[FlaskClient, Workspace, Guard],
) -> None:
    import threading

    _client, ws, _guard = web
    ws.set_mapping("plain", PLAIN)
    failures: list[BaseException] = []

    def read() -> None:
        for _ in range(200):
            try:
                assert "description" in ws.mapping().fields
            except (AssertionError, ImporterError, OSError) as exc:  # asserted below
                failures.append(exc)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert failures == []
    assert not (ws.folder / "mappings").exists()  # no shared file to race on


def test_an_import_needs_a_check_of_the_same_file_mapping_and_account(
    web: tuple[FlaskClient, Workspace, Guard],
) -> None:
    client, ws, guard = web
    imported_to_check(client, guard, ws, "viewings")
    post(client, guard, "/mapping/text", text=ws.mapping_text + "\n# changed\n")
    refused = post(client, guard, "/import")
    assert refused.status_code == 400
    assert "changed since the check; check again" in text(refused)
    post(client, guard, "/check")
    finished(ws)
    post(client, guard, "/connection", sandbox="off")  # another connection: the check is gone
    assert ws.check_job is None
    assert post(client, guard, "/import").status_code == 400
    assert ws._sandbox_server().store.count_appointments() == 0


def test_send_again_and_undo_stay_in_the_account_of_their_import(
    web: tuple[FlaskClient, Workspace, Guard],
) -> None:
    from importer.sandbox import Sandbox

    client, ws, guard = web
    imported_to_check(client, guard, ws, "viewings")
    started = client.post("/import", data={"csrf": guard.csrf})
    job_id = started.headers["Location"].rsplit("/", 1)[-1]
    finished(ws)
    with Sandbox() as other:  # the user connects to another onOffice meanwhile
        creds = other.credentials
        post(client, guard, "/connection", url=other.url, token=creds.token, secret=creds.secret)
        assert ws.connection().ok
        again = post(client, guard, f"/import/{job_id}/again")
        assert again.status_code == 400 and "went into another onOffice" in text(again)
        assert client.get(f"/import/{job_id}/undo").status_code == 400
        assert post(client, guard, f"/import/{job_id}/undo").status_code == 400
        assert other.store.count_appointments() == 0
    assert ws._sandbox_server().store.count_appointments() == 8


def test_a_correction_is_typed_as_text_never_as_a_formula(tmp_path: Path) -> None:
    from openpyxl import Workbook, load_workbook

    from importer.output.corrections import correct_cells

    path = tmp_path / "r.xlsx"
    book = Workbook()
    book.active.append(["Status", "Betreff", "Beginn"])
    book.active.append(["invalid", "alt", "10:00"])
    book.save(path)
    changed = correct_cells(path, {(2, "Betreff"): "=== Besichtigung ===", (2, "Beginn"): "10:00"})
    assert changed == 1  # the unchanged cell is not rewritten
    cell = load_workbook(path).active["B2"]
    assert (cell.value, cell.data_type) == ("=== Besichtigung ===", "s")


@pytest.mark.parametrize("typed", ["18:00", "0123", "No", "[x", "a: b: c", "1.5.2030"])
def test_a_constant_stays_what_was_typed(typed: str) -> None:
    doc = editor.apply_form({}, {"fields.note:kind": "value", "fields.note:value": typed})
    assert doc["fields"]["note"] == {"value": typed}
    numbers = editor.apply_form(
        {}, {"end:minutes": "45", "fields.private:kind": "value", "fields.private:value": "true"}
    )
    assert numbers["end"] == {"minutes": 45} and numbers["fields"]["private"] == {"value": True}


def test_a_broken_yaml_text_is_never_overwritten_by_the_form(
    web: tuple[FlaskClient, Workspace, Guard],
) -> None:
    client, ws, guard = web
    broken = "start: Start\nfields: {description: [unclosed\n"
    post(client, guard, "/mapping/text", text=broken)
    answer = client.post(
        "/mapping/form",
        data={"csrf": guard.csrf, "fields.note:kind": "column", "fields.note:column": "X"},
        headers={"X-Preview": "1"},
    )
    assert answer.status_code == 409 and "not valid YAML" in text(answer)
    assert ws.mapping_text == broken


def test_bad_numbers_from_the_browser_are_ignored_not_a_crash(
    web: tuple[FlaskClient, Workspace, Guard],
) -> None:
    client, ws, guard = web
    upload(client, guard, VIEWINGS)
    assert post(client, guard, "/file/options", header_row="²").status_code == 200
    assert ws.uploaded().header_row is None
    assert client.get("/check?page=²").status_code == 200


def test_the_mapping_form_offers_the_files_columns_and_its_values(
    web: tuple[FlaskClient, Workspace, Guard],
) -> None:
    """Columns are picked, not typed; look-ups are said in words; each type and reminder of
    the file is matched against what onOffice takes; the fitting saved mapping comes first."""
    client, ws, guard = web
    upload(client, guard, VIEWINGS)
    page = client.get("/mapping").get_data(as_text=True)
    assert '<option value="viewings" selected>viewings (fits this file)' in page
    post(client, guard, "/mapping/draft")
    page = client.get("/mapping").get_data(as_text=True)
    assert '<select class="k-column" id="start-date-column"' in page
    assert "<option selected>Datum</option>" in page
    assert "onOffice users, by user name, name or e-mail" in page
    match = page[page.index('id="fields-art-match"') :]
    match = match[: match.index("</table>")]
    assert "Kaffee" in match and "as written (onOffice does not know it)" in match
    assert "Beratungsgespräch (Beratung)" in match  # the account's types, in words
    reminders = page[page.index('id="fields-erinnerung-match"') :]
    assert "1 hour</option>" in reminders[: reminders.index("</table>")]
    # "Kaffee" matched to "Sonstiges" in the form: the mapping maps it, the others as written
    form = {k: v for k, v in form_of(editor.parse(ws.mapping_text)).items()}
    index = re.search(r'name="fields.art:from:(\d+)" value="Kaffee"', page)
    assert index is not None
    form[f"fields.art:from:{index.group(1)}"] = "Kaffee"
    form[f"fields.art:match:{index.group(1)}"] = "Sonstiges"
    post(client, guard, "/mapping/form", **form)
    art = editor.parse(ws.mapping_text)["fields"]["art"]
    assert art["map"]["Kaffee"] == "Sonstiges"
    assert ws.preview().valid_count >= 1
    german = text(post(client, guard, "/language", lang="de", next="/mapping"))
    assert "1 Stunde" in german and "onOffice-Benutzer" in german


def test_browsers_beyond_the_limit_evict_the_longest_unused_one(
    web: tuple[FlaskClient, Workspace, Guard], monkeypatch: pytest.MonkeyPatch
) -> None:
    from importer.web.app import Sessions

    monkeypatch.setattr(Sessions, "MAX_SESSIONS", 3)
    a, ws_a, guard = web
    sessions, _guard = a.application.extensions["onoffice"]
    assert a.get("/").status_code == 200  # A is the first browser: the workspace ws_a
    others = []
    for _n in range(3):
        other = a.application.test_client()
        other.get(f"/?token={guard.token}")
        assert other.get("/").status_code == 200
        others.append(other)
        assert a.get("/").status_code == 200  # A keeps working: it is never the longest unused
    assert len(sessions.by_id) == 3 and ws_a in sessions.by_id.values()
    assert len(ws_a.office.workspaces) == 3  # the evicted browser's work is not kept
    evicted = others[0]
    upload(evicted, guard, VIEWINGS)  # a browser gone for long starts afresh, nothing lost of A
    assert ws_a.upload is None


def test_a_browser_that_chose_no_language_speaks_the_programs(tmp_path: Path) -> None:
    """`onoffice-import --lang de ui`: the request threads start with an empty context, so
    the program's language is taken when the app is made."""
    workspace = Workspace(folder=tmp_path / "w", mappings=tmp_path, results=tmp_path / "r")
    guard = Guard()
    with i18n.use("de"):
        app = create_app(workspace, guard)
    client = app.test_client()
    try:
        client.get(f"/?token={guard.token}")
        page = client.get("/").get_data(as_text=True)
        assert '<html lang="de">' in page and "Verbindung" in page
    finally:
        workspace.close()


def test_a_value_typed_into_the_map_stays_when_its_choice_is_left_as_shown(
    web: tuple[FlaskClient, Workspace, Guard],
) -> None:
    client, ws, guard = web
    upload(client, guard, VIEWINGS)
    post(client, guard, "/mapping/draft")
    page = client.get("/mapping").get_data(as_text=True)
    index = re.search(r'name="fields.art:from:(\d+)" value="Kaffee"', page)
    assert index is not None
    form = dict(form_of(editor.parse(ws.mapping_text)))
    n = index.group(1)
    form |= {
        f"fields.art:from:{n}": "Kaffee",
        f"fields.art:shown:{n}": "",
        f"fields.art:match:{n}": "",
    }
    form["fields.art:map"] = "Kaffee = Intern"  # typed in the text, the choice left as shown
    post(client, guard, "/mapping/form", **form)
    assert editor.parse(ws.mapping_text)["fields"]["art"]["map"]["Kaffee"] == "Intern"


def preview_of(client: FlaskClient) -> str:
    """The words of the mapping page's preview (not the form beside it, which offers keys)."""
    page = client.get("/mapping").get_data(as_text=True)
    return text_of(page[page.index('id="preview"') : page.index('id="save-name"')])


def text_of(markup: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))


def test_the_preview_names_what_the_office_knows(
    web: tuple[FlaskClient, Workspace, Guard],
) -> None:
    """The preview shows what the office knows, not the ids sent: the contact's name, the
    estate's number, the resource's label, the type's name, reminders and places in words;
    a calendar file's series in words, not rp_beginn_datum."""
    client, _ws, guard = web
    post(client, guard, "/language", lang="de")
    upload(client, guard, VIEWINGS)
    post(client, guard, "/mapping/open", name="viewings")
    page = preview_of(client)
    row = page[page.index("Besichtigung AC-1042 mit Sabine Krüger") :][:400]
    for shown in ("Sabine Krüger", "AC-1042", "Firmenfahrzeug", "15 Minuten", "am Objekt: AC-1042"):
        assert shown in row, (shown, row)
    for sent in ("5431", "estate: 608", "15 minutes", "1 hours", "ind_Schl", "Uebergabe"):
        assert sent not in page, sent
    assert "1 Stunde" in page and "Übergabe" in page and "Schlüsselbund Objekt" in page

    upload(client, guard, SAMPLES / "outlook.ics")
    post(client, guard, "/mapping/open", name="ics")
    page = preview_of(client)
    assert "rp_" not in page and "origin" not in page, page
    for shown in ("wöchentlich", "Serie bis", "30.04.2027", "Außer am", "26.03.2027, 09.04.2027"):
        assert shown in page, shown


def test_an_unknown_contact_says_both_ways_out_and_an_empty_cell_imports(
    web: tuple[FlaskClient, Workspace, Guard], tmp_path: Path
) -> None:
    """An e-mail no contact has: the row says the two ways out (create the contact in
    onOffice, or empty the cell); emptied, the row is checked valid and imported without a
    contact."""
    client, ws, guard = web
    mapping = PLAIN.replace("fields: {description: Betreff}", "fields: {description: Betreff, "
                            "relatedAddressIds: {column: E-Mail, lookup: address}}")  # fmt: skip
    rows = "Datum;Beginn;Betreff;E-Mail\n01.03.2027;10:00;Besichtigung;niemand@example.de\n"
    upload(client, guard, write_csv(tmp_path / "kontakte.csv", rows))
    post(client, guard, "/mapping/text", text=mapping)
    post(client, guard, "/check")
    finished(ws)
    page = text(client.get("/check"))
    assert "1 row invalid" in page and (
        "no contact in onOffice has the e-mail 'niemand@example.de'; create the contact in "
        "onOffice, or empty the cell: the row is then imported without a contact" in page
    ), page
    emptied = write_csv(tmp_path / "kontakte2.csv", rows.replace("niemand@example.de", ""))
    upload(client, guard, emptied)
    post(client, guard, "/mapping/text", text=mapping)
    post(client, guard, "/check")
    finished(ws)
    assert "1 row valid" in text(client.get("/check"))
    started = client.post("/import", data={"csrf": guard.csrf})
    finished(ws)
    assert "1 created" in text(client.get(started.headers["Location"]))
    assert ws._sandbox_server().store.count_appointments() == 1


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (  # the home folder and a folder below it with spaces (review: "Max Mustermann\...")
            "cannot open {home}/My Documents/x.results.xlsx (Permission denied)",
            "cannot open x.results.xlsx (Permission denied)",
        ),
        (
            "{home}/My Documents/x.results.xlsx and {home}/Büro/y.xlsx",
            "x.results.xlsx and y.xlsx",
        ),
        ("the ledger {data}/ledgers/acct.sqlite is locked", "the ledger acct.sqlite is locked"),
        ("/srv/other/z.csv: gone; https://example.org/a/b", "z.csv: gone; https://example.org/a/b"),
        (r"C:\Users\Max\Desktop\x.xlsx fehlt", "x.xlsx fehlt"),
    ],
)
def test_the_support_block_names_files_by_their_names_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, said: str
) -> None:
    home, data = tmp_path / "Max Mustermann", tmp_path / "Daten der App"
    monkeypatch.setenv("HOME", str(home))
    assert only_names(text.format(home=home, data=data), [data]) == said
