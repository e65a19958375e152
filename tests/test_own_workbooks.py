"""Our own workbooks as input again (issue 32, points 1 and 11): a results workbook reads back
for `undo` and `run --only-failed` whatever the source's own columns are called (a calendar's
STATUS, a list's "Status", "Fehler", "Appointment ID" …, in either language), and a corrected
check report checks (and drafts) as the source it came from."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import openpyxl
from flask.testing import FlaskClient

from importer import check, load_table
from importer.core.errors import ExitCode
from importer.mapping.draft import draft_mapping
from importer.output.report import ForWeb, write_report
from importer.run.submit import earlier_outcomes
from importer.sandbox import Sandbox
from importer.web.guard import Guard
from importer.web.workspace import Workspace

from .files import write_csv
from .helpers import cli, sheet_rows
from .test_web import finished, post, text, upload, web  # noqa: F401

ROOT = Path(__file__).parent.parent
ICS_MAPPING = ROOT / "mappings" / "ics.yaml"
VIEWINGS_MAPPING = ROOT / "mappings" / "viewings.yaml"

CALENDAR = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Google Inc//Google Calendar 70.9054//EN
BEGIN:VEVENT
UID:own-1@google.com
DTSTART:20270305T090000Z
DTEND:20270305T094500Z
SUMMARY:Besichtigung AC-1042
STATUS:CONFIRMED
END:VEVENT
BEGIN:VEVENT
UID:own-2@google.com
DTSTART:20270306T090000Z
DTEND:20270306T094500Z
SUMMARY:Besichtigung 0815
STATUS:TENTATIVE
END:VEVENT
BEGIN:VEVENT
UID:own-3@google.com
DTSTART:20270307T090000Z
DTEND:20270307T094500Z
SUMMARY:Besichtigung AC-1043 (abgesagt)
STATUS:CANCELLED
END:VEVENT
END:VCALENDAR
"""


def _calendar(folder: Path) -> Path:
    path = folder / "kalender.ics"
    path.write_text(CALENDAR.replace("\n", "\r\n"), encoding="utf-8")
    return path


def _set_header(path: Path, sheet: str, column: int, title: str) -> None:
    book = openpyxl.load_workbook(path)
    book[sheet].cell(row=1, column=column, value=title)
    book.save(path)


def test_a_calendar_results_workbook_undoes_and_sends_again(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """The calendar's STATUS beside our Status: once "column 'STATUS' appears twice", exit 2."""
    source = _calendar(tmp_path)
    results = tmp_path / "kalender.results.xlsx"
    home = tmp_path / "pc"
    ran = cli(["run", str(source), "-m", str(ICS_MAPPING)], sandbox, home, tmp_path)
    assert "3 created" in ran.stdout, ran.stdout + ran.stderr
    header = list(sheet_rows(results, "Results")[0])
    assert header[0] == "Status (import)" and "STATUS" in header  # told apart for a person too
    again = cli(
        ["run", str(results), "--only-failed", "-m", str(ICS_MAPPING)], sandbox, home, tmp_path
    )
    assert again.returncode == ExitCode.OK, again.stdout + again.stderr
    assert "3 already-created" in again.stdout, again.stdout
    assert sandbox.store.count_appointments() == 3
    undone = cli(["undo", str(results), "--yes"], sandbox, home, tmp_path)
    assert undone.returncode == ExitCode.OK, undone.stdout + undone.stderr
    assert "3 deleted" in undone.stdout
    assert sandbox.store.count_appointments() == 0


def test_a_calendars_refused_series_stays_refused_when_sent_again(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """A series onOffice cannot repeat (BYSETPOS, two RRULEs) is refused; sent again from the
    results workbook it once became a single appointment (its REPEAT cell was empty there).
    The rule stays in REPEAT: the rows are refused again, nothing created for them."""
    series = (
        "BEGIN:VEVENT\nUID:last-workday@x\nDTSTART:20270305T090000Z\nDTEND:20270305T094500Z\n"
        "SUMMARY:Teamrunde\nRRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=3\n"
        "END:VEVENT\nBEGIN:VEVENT\nUID:two-rules@x\nDTSTART:20270308T090000Z\n"
        "DTEND:20270308T094500Z\nSUMMARY:Sprechstunde\nRRULE:FREQ=WEEKLY;COUNT=2\n"
        "RRULE:FREQ=MONTHLY;COUNT=2\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    source = _calendar(tmp_path)
    source.write_text(CALENDAR.replace("END:VCALENDAR\n", series), encoding="utf-8")
    home, mapping = tmp_path / "pc", str(ICS_MAPPING)
    ran = cli(["--lang", "en", "run", str(source), "-m", mapping], sandbox, home, tmp_path)
    assert "3 created, 2 invalid" in ran.stdout, ran.stdout + ran.stderr
    results = tmp_path / "kalender.results.xlsx"
    again = cli(
        ["--lang", "en", "run", str(results), "-m", mapping, "--only-failed"],
        sandbox,
        home,
        tmp_path,
    )
    assert again.returncode == ExitCode.ROWS_FAILED, again.stdout + again.stderr
    assert again.stdout.count("is not a repetition") == 2, again.stdout
    assert sandbox.store.count_appointments() == 3
    statuses = [str(r["Status (import)"]) for r in sheet_rows(results, "Results")]
    assert statuses.count("invalid") == 2, statuses


def test_a_results_workbook_of_an_earlier_version_with_status_twice_reads_back(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Workbooks written before the fix say "Status" in A and the calendar's "STATUS" in O:
    they read back by our columns' places, and undo removes exactly what they name."""
    source = _calendar(tmp_path)
    results = tmp_path / "kalender.results.xlsx"
    home = tmp_path / "pc"
    ran = cli(["run", str(source), "-m", str(ICS_MAPPING)], sandbox, home, tmp_path)
    assert "3 created" in ran.stdout, ran.stdout + ran.stderr
    _set_header(results, "Results", 1, "Status")  # as the earlier version wrote it
    table = load_table(results)
    assert "STATUS" in table.columns and "Status" not in table.columns
    assert [s for s, _id, _row in earlier_outcomes(table).values()] == ["created"] * 3
    assert list(table.frame["STATUS"]) == ["CONFIRMED", "TENTATIVE", "CANCELLED"]
    undone = cli(["undo", str(results), "--yes"], sandbox, home, tmp_path)
    assert "3 deleted" in undone.stdout, undone.stdout + undone.stderr
    assert sandbox.store.count_appointments() == 0


LIST_NAMED_LIKE_OURS = (
    "Status;Appointment ID;Fehler;Hinweise;Source row;Termin-ID;Start;Betreff\n"
    "offen;A-1;kein;ruhig;7;T-1;05.03.2027 10:00;Besichtigung AC-1042\n"
    "offen;A-2;kein;laut;8;T-2;05.03.2027 11:00;Besichtigung 0815\n"
    "erledigt;A-3;;;9;T-3;05.03.2027;Besichtigung ohne Uhrzeit\n"
)
START_AND_SUBJECT = "start: Start\nend: {minutes: 30}\nfields:\n  description: Betreff\n"


def test_a_list_whose_columns_carry_our_names_in_either_language_reads_back(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Written in German, sent again and undone in English: the user's columns stay theirs."""
    source = write_csv(tmp_path / "liste.csv", LIST_NAMED_LIKE_OURS)
    mapping = tmp_path / "liste.yaml"
    mapping.write_text(START_AND_SUBJECT, encoding="utf-8")
    results = tmp_path / "liste.results.xlsx"
    home = tmp_path / "pc"
    ran = cli(["--lang", "de", "run", str(source), "-m", str(mapping)], sandbox, home, tmp_path)
    assert "2 angelegt" in ran.stdout and "1 ungültig" in ran.stdout, ran.stdout + ran.stderr
    header = list(sheet_rows(results, "Ergebnisse")[0])
    ours = ["Status", "Termin-ID", "Fehler", "Hinweise"]
    assert header[:4] == [f"{h} (Import)" for h in ours]
    assert header[-2:] == ["Antwort von onOffice", "Zeile im Original"]
    table = load_table(results)
    assert table.columns == LIST_NAMED_LIKE_OURS.split("\n")[0].split(";")
    assert list(table.frame["Status"]) == ["offen", "offen", "erledigt"]
    assert {r: s for r, (s, _i, _o) in earlier_outcomes(table).items()} == {
        2: "created",
        3: "created",
        4: "invalid",
    }
    edit = openpyxl.load_workbook(results)
    sheet = edit["Ergebnisse"]
    sheet.cell(row=4, column=header.index("Start") + 1, value="05.03.2027 12:00")
    edit.save(results)
    again = cli(
        ["--lang", "en", "run", str(results), "--only-failed", "-m", str(mapping)],
        sandbox,
        home,
        tmp_path,
    )
    assert again.returncode == ExitCode.OK, again.stdout + again.stderr
    assert "1 created" in again.stdout and "2 already-created" in again.stdout, again.stdout
    assert sandbox.store.count_appointments() == 3
    undone = cli(["--lang", "en", "undo", str(results), "--yes"], sandbox, home, tmp_path)
    assert "3 deleted" in undone.stdout, undone.stdout + undone.stderr
    assert sandbox.store.count_appointments() == 0


# --- the check report as input -----------------------------------------------------------------
def _corrected_report(tmp_path: Path, lang: str, sandbox: Sandbox) -> Path:
    """samples/viewings.xlsx checked (10 valid, 4 invalid), its red cells corrected in the
    report as its Summary says."""
    source = tmp_path / "viewings.xlsx"
    shutil.copy(ROOT / "samples" / "viewings.xlsx", source)
    done = cli(
        ["--lang", lang, "check", str(source), "-m", str(VIEWINGS_MAPPING)],
        sandbox,
        tmp_path / "pc",
        tmp_path,
    )
    assert done.returncode == ExitCode.ROWS_FAILED, done.stdout + done.stderr
    report = tmp_path / "viewings.check.xlsx"
    book = openpyxl.load_workbook(report)
    sheet = book[book.sheetnames[0]]
    header = [c.value for c in sheet[1]]
    fixes = {"Ende": "10:45", "Erinnerung": "15 Min", "Beginn": "10:00", "Terminart": "Beratung"}
    for row in sheet.iter_rows(min_row=2):
        cells = {header[i]: c for i, c in enumerate(row)}
        for column, value in fixes.items():
            errors = str(cells[header[1]].value or "")
            if errors.startswith(column) or f", {column}" in errors.split(":")[0]:
                cells[column].value = value
    book.save(report)
    return report


def test_a_corrected_check_report_checks_again_to_the_right_counts(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    for lang in ("de", "en"):
        folder = tmp_path / lang
        folder.mkdir()
        report = _corrected_report(folder, lang, sandbox)
        table = load_table(report)
        assert table.own == "report" and table.columns[0] == "Datum"
        assert "Status" not in table.columns and "Zeile im Original" not in table.columns
        assert earlier_outcomes(table) == {}  # a report names no appointments
        checked = check(report, VIEWINGS_MAPPING, report=False)
        assert (checked.valid_count, checked.invalid_count) == (14, 0), [
            p.message for p in checked.problems
        ]


def test_a_corrected_check_report_run_stays_its_lists(tmp_path: Path, sandbox: Sandbox) -> None:
    """A check report corrected and run (renamed, too) is the list it was checked from: a row
    edited in it updates its appointment. Its list was once "viewings.check" (a list of its
    own): the edited row got a second appointment, its first left as it was."""
    source = tmp_path / "viewings.xlsx"
    shutil.copy(ROOT / "samples" / "viewings.xlsx", source)
    home, mapping = tmp_path / "pc", str(VIEWINGS_MAPPING)
    first = cli(["--lang", "en", "run", str(source), "-m", mapping], sandbox, home, tmp_path)
    assert first.returncode == ExitCode.ROWS_FAILED, first.stdout + first.stderr
    created = sandbox.store.count_appointments()
    cancelled = _cancelled(sandbox)  # the sample's viewing called off
    report = _corrected_report(tmp_path, "en", sandbox)
    book = openpyxl.load_workbook(report)
    sheet = book[book.sheetnames[0]]
    header = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "valid")
    row[header.index("Bemerkung")].value = "Schlüssel beim Hausmeister"  # edited in the report
    renamed = tmp_path / "korrigiert.xlsx"
    book.save(renamed)
    again = cli(
        ["--lang", "en", "run", str(renamed), "-m", mapping, "--cancel-removed"],
        sandbox,
        home,
        tmp_path,
    )
    assert again.returncode in (0, 1), again.stdout + again.stderr
    results = openpyxl.load_workbook(tmp_path / "korrigiert.results.xlsx", read_only=True)
    statuses = [str(r["Status"]) for r in sheet_rows(results, "Results")]
    assert statuses.count("updated") == 1, statuses
    assert statuses.count("created") == 4  # the corrected (2 more name no onOffice record)
    assert sandbox.store.count_appointments() == created + 4  # none twice, none cancelled
    assert _cancelled(sandbox) == cancelled
    summary = [r[:2] for r in results["Summary"].iter_rows(values_only=True)]
    assert ("List (the same on every computer)", "viewings") in summary


def test_a_check_report_of_the_web_app_names_the_office_files_list(tmp_path: Path) -> None:
    """The web app checks its copy of the upload (a safe name: "Viewings_March.xlsx"); its
    report named that copy's list, so the corrected report run with the CLI was a list of its
    own (every row created again). It names the file's list as the office named it."""
    copy = tmp_path / "Viewings_March.xlsx"
    shutil.copy(ROOT / "samples" / "viewings.xlsx", copy)
    checked = check(copy, VIEWINGS_MAPPING, report=False)
    report = write_report(checked, tmp_path / "r.check.xlsx", ForWeb("Viewings März.xlsx"))
    assert load_table(report).results_list == "Viewings März"
    plain = write_report(checked, tmp_path / "plain.check.xlsx")  # the CLI's: the file's own
    assert load_table(plain).results_list == "Viewings_March"


def _cancelled(sb: Sandbox) -> list[int]:
    return [a["id"] for a in sb.store.all_appointments() if a.get("status") == "canceled"]


def test_a_check_report_drafts_from_its_data_columns(tmp_path: Path, sandbox: Sandbox) -> None:
    """Once "0 valid of 60": the report's own Status (gültig/ungültig) was taken as the
    appointments' status."""
    report = _corrected_report(tmp_path, "de", sandbox)
    draft = draft_mapping(report)
    used = " ".join(str(e.value) for e in draft.entries)
    assert "Status" not in used and "Fehler" not in used and "Zeile im Original" not in used
    assert "sheet:" not in draft.yaml  # the original's sheet is not "Zeilen"
    drafted = tmp_path / "drafted.yaml"
    drafted.write_text(draft.yaml, encoding="utf-8")
    checked = check(report, drafted, report=False)
    assert (checked.valid_count, checked.invalid_count) == (14, 0), [
        p.message for p in checked.problems
    ]


def test_a_results_workbook_drafts_from_its_data_columns(tmp_path: Path, sandbox: Sandbox) -> None:
    source = _calendar(tmp_path)
    ran = cli(["run", str(source), "-m", str(ICS_MAPPING)], sandbox, tmp_path / "pc", tmp_path)
    assert "3 created" in ran.stdout, ran.stdout + ran.stderr
    draft = draft_mapping(tmp_path / "kalender.results.xlsx")
    used = " ".join(str(e.value) for e in draft.entries)
    assert "Appointment ID" not in used and "Source row" not in used
    drafted = tmp_path / "drafted.yaml"
    drafted.write_text(draft.yaml, encoding="utf-8")
    checked = check(tmp_path / "kalender.results.xlsx", drafted, report=False)
    assert (checked.valid_count, checked.invalid_count) == (3, 0)


def test_the_web_app_sends_a_calendar_import_again_and_undoes_it(
    web: tuple[FlaskClient, Workspace, Guard],  # noqa: F811 (the fixture of test_web)
    tmp_path: Path,
) -> None:
    """Once "send again" stopped on the calendar's STATUS and looped, and undo stopped too."""
    client, ws, guard = web
    assert upload(client, guard, _calendar(tmp_path)).status_code == 200
    assert post(client, guard, "/mapping/open", name="ics").status_code == 200
    assert post(client, guard, "/check").status_code == 200
    finished(ws)
    started = client.post("/import", data={"csrf": guard.csrf})
    job_id = started.headers["Location"].rsplit("/", 1)[-1]
    finished(ws)
    assert "3 created" in text(client.get(f"/import/{job_id}"))
    sandbox = ws._sandbox_server()
    again = client.post(f"/import/{job_id}/again", data={"csrf": guard.csrf})
    second = again.headers["Location"].rsplit("/", 1)[-1]
    finished(ws)
    assert "The whole import: 3 rows in onOffice" in text(client.get(f"/import/{second}"))
    assert sandbox.store.count_appointments() == 3
    assert "3 appointments this import created" in text(client.get(f"/import/{second}/undo"))
    removed = client.post(f"/import/{second}/undo", data={"csrf": guard.csrf})
    finished(ws)
    assert "3 appointments removed" in text(client.get(removed.headers["Location"]))
    assert sandbox.store.count_appointments() == 0


def test_a_results_workbook_saved_as_csv_still_reads_back(tmp_path: Path, sandbox: Sandbox) -> None:
    """Excel's "Save as CSV" of the Results sheet: our columns are found by their place too."""
    source = write_csv(tmp_path / "liste.csv", LIST_NAMED_LIKE_OURS)
    mapping = tmp_path / "liste.yaml"
    mapping.write_text(START_AND_SUBJECT, encoding="utf-8")
    ran = cli(["run", str(source), "-m", str(mapping)], sandbox, tmp_path / "pc", tmp_path)
    assert "2 created" in ran.stdout, ran.stdout + ran.stderr
    rows = sheet_rows(tmp_path / "liste.results.xlsx", "Results")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(rows[0])
    writer.writerows(
        ["" if v is None else str(v).removesuffix(".0") for v in r.values()] for r in rows
    )
    saved = write_csv(tmp_path / "liste-saved.csv", buffer.getvalue())
    table = load_table(saved)
    assert table.own == "results"
    assert table.columns == LIST_NAMED_LIKE_OURS.split("\n")[0].split(";")
    assert [s for s, _i, _o in earlier_outcomes(table).values()] == [
        "created",
        "created",
        "invalid",
    ]


def test_the_check_reports_own_columns_are_found_in_either_language_with_or_without_plan() -> None:
    from importer.core.excel import report_positions

    german = ["Status", "Plan", "Fehler", "Hinweise", "Datum", "Status", "Zeile im Original"]
    assert report_positions(german) == {
        "Status": 0,
        "Plan": 1,
        "Errors": 2,
        "Warnings": 3,
        "Source row": 6,
    }
    english = ["Status", "Errors", "Warnings", "Start", "Errors", "Source row"]
    assert report_positions(english) == {"Status": 0, "Errors": 1, "Warnings": 2, "Source row": 5}
    marked = ["Status (import)", "Errors", "Warnings", "status", "Source row"]
    assert report_positions(marked) == {"Status": 0, "Errors": 1, "Warnings": 2, "Source row": 4}
    assert report_positions(["Status", "Errors", "Warnings", "Start", "Zeile"]) is None
    assert report_positions(["Datum", "Status", "Errors", "Warnings", "Source row"]) is None


def test_the_web_app_reads_an_uploaded_check_report_as_its_source(
    web: tuple[FlaskClient, Workspace, Guard],  # noqa: F811 (the fixture of test_web)
    tmp_path: Path,
) -> None:
    """Issue 32, point 11 in the web app: the corrected check report uploaded shows its data
    columns (not its own Status or error column), the mapping drafted from it reads them, and
    its check counts the corrected rows valid (once "0 valid of 60")."""
    client, ws, guard = web
    report = _corrected_report(tmp_path, "de", ws._sandbox_server())
    page = text(upload(client, guard, report, name="Besichtigungen korrigiert.xlsx"))
    assert "Datum" in page and "Zeile im Original" not in page, page
    assert ws.table().own == "report" and "Status" not in ws.table().columns
    assert post(client, guard, "/mapping/draft").status_code == 200
    assert "Status" not in ws.mapping_text and "Fehler" not in ws.mapping_text, ws.mapping_text
    assert post(client, guard, "/check").status_code == 200
    finished(ws)
    checked = ws.check_job.result if ws.check_job is not None else None
    assert checked is not None
    # drafted against the account, the agent and the property are look-ups: the two rows
    # naming ones the sample agency has not are its only errors (the corrected cells pass)
    assert sorted(p.message for p in checked.problems) == [
        "no estate in onOffice has the number 'AC-9999'",
        "no onOffice user is called 'fmeier'",
    ]
    assert (checked.valid_count, checked.invalid_count) == (12, 2)
