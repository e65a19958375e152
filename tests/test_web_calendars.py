"""Issue 32 in the web app: what the CLI says of a file and of a run is said on its pages too,
never only on the command line: the day/month order a check assumed (point 3) and what a
re-exported calendar no longer sets but onOffice keeps (point 7)."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from importer.web.guard import Guard
from importer.web.workspace import Workspace

from .test_web import finished, post, text, upload, web  # noqa: F401

ROOT = Path(__file__).parent.parent


def test_the_check_and_the_import_pages_say_the_assumed_day_month_order(
    web: tuple[FlaskClient, Workspace, Guard],  # noqa: F811 (the fixture of test_web)
) -> None:
    """Outlook's US export: no date over 12 tells the order; it is read month/day, as the
    mapping's format writes it, and said (once only in the CLI and the workbooks)."""
    client, ws, guard = web
    upload(client, guard, ROOT / "samples" / "outlook-en.csv")
    post(client, guard, "/mapping/open", name="outlook-csv")
    post(client, guard, "/check")
    finished(ws)
    said = "no date in the file tells whether day or month comes first (3/5/2027 could be either)"
    assert said in text(client.get("/check"))
    started = client.post("/import", data={"csrf": guard.csrf})
    finished(ws)
    page = text(client.get(started.headers["Location"]))
    assert "3 created" in page and said in page, page


def test_the_import_page_says_what_a_re_export_no_longer_sets_but_onoffice_keeps(
    web: tuple[FlaskClient, Workspace, Guard],  # noqa: F811 (the fixture of test_web)
    tmp_path: Path,
) -> None:
    client, ws, guard = web
    event = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:r\nSUMMARY:Sprechstunde\n"
        "DTSTART:20270301T100000\nDTEND:20270301T110000\n{alarm}END:VEVENT\nEND:VCALENDAR\n"
    )
    alarm = "BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT15M\nEND:VALARM\n"
    source = tmp_path / "kalender.ics"
    pages = []
    for body in (event.format(alarm=alarm), event.format(alarm="")):
        source.write_text(body.replace("\n", "\r\n"), encoding="utf-8")
        upload(client, guard, source)
        post(client, guard, "/mapping/open", name="ics")
        post(client, guard, "/check")
        finished(ws)
        started = client.post("/import", data={"csrf": guard.csrf})
        finished(ws)
        pages.append(text(client.get(started.headers["Location"])))
    assert "1 created" in pages[0] and "onOffice keeps" not in pages[0], pages[0]
    assert "1 updated" in pages[1], pages[1]
    assert "row 2: onOffice keeps the reminder, which the file does not set" in pages[1]
    assert "updated, but the reminder stays in onOffice as it was" in pages[1]  # on its row
    (held,) = ws._sandbox_server().store.all_appointments()
    assert held.get("erinnerung") == "15 minutes"
