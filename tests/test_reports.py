"""The workbooks as an office reads them (issue 13): language, layout, wording, row numbers.

Each test opens a real workbook written by a real check, run or undo, with openpyxl (as a
spreadsheet program would read it) and asserts what a person sees on the first screen.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest

from importer import check
from importer.core import i18n
from importer.onoffice.client import OnOfficeClient
from importer.output.results import write_results
from importer.output.undo_book import write_undo_results
from importer.output.xlsx_write import EXCEL_CELL_LIMIT, excel_length
from importer.run.submit import run_import
from importer.run.undo import undo_import
from importer.sandbox import Sandbox

from . import forkserver
from .conftest import ROOT
from .files import write_csv
from .helpers import sheet_rows, statuses

MAPPING = ROOT / "mappings" / "viewings.yaml"
GREEN, AMBER, RED = "FFC6EFCE", "FFFFEB9C", "FFFFC7CE"
API_NAMES = (
    "erinnerung",
    "start_dt",
    "end_dt",
    "relatedEstateId",
    "subscribers",
    "art:",
    "10 minutes",
)


@pytest.fixture
def viewings(tmp_path: Path) -> Path:
    source = tmp_path / "viewings.xlsx"
    shutil.copy(ROOT / "samples" / "viewings.xlsx", source)
    return source


def test_german_report_first_screen(viewings: Path) -> None:
    """A German assistant sees which rows failed, why, in which cell, and what to do."""
    with i18n.use("de"):
        report = check(viewings, MAPPING)
    assert report.report_path is not None
    book = openpyxl.load_workbook(report.report_path)
    assert book.sheetnames == ["Zeilen", "Übersicht", "Probleme"]
    rows = book["Zeilen"]
    header = [c.value for c in rows[1]]
    assert header[:3] == ["Status", "Fehler", "Hinweise"] and header[-1] == "Zeile im Original"
    assert rows.freeze_panes == "C2"  # Status and Fehler stay in view while scrolling
    by_row = {r["Zeile im Original"]: r for r in sheet_rows(book, "Zeilen")}
    assert by_row[11]["Status"] == "ungültig" and by_row[4]["Status"] == "gültig"
    assert by_row[11]["Fehler"] == (
        "Datum, Beginn, Ende: das Ende (05.03.2027 09:15) liegt vor dem Beginn (05.03.2027 "
        "10:00); korrigieren Sie die Zeiten"
    )
    assert by_row[12]["Fehler"].startswith(
        "Erinnerung: '10 Min' ist keine Erinnerung, die onOffice anbietet"
    )
    assert by_row[16]["Fehler"] == (  # the values as the mapping writes them, not lower-cased
        "Terminart: 'Kaffee' ist hier kein bekannter Wert; erlaubt sind: Besichtigung, Übergabe, "
        "Notartermin, Beratung"
    )
    assert by_row[13]["Fehler"] == "Beginn: die Uhrzeit des Beginns ist leer; tragen Sie sie ein"
    assert "1 Std" in by_row[12]["Fehler"]  # the spelling the office uses, not "1 hours"
    summary = {r[0]: r[1] for r in book["Übersicht"].iter_rows(values_only=True) if r[0]}
    first = [r[0] for r in book["Übersicht"].iter_rows(values_only=True)][:3]
    assert first == ["Prüfung von viewings.xlsx", "Ergebnis", "Nächster Schritt"]
    assert summary["Ergebnis"] == (
        "10 von 14 Zeilen sind gültig; 4 Zeilen haben Fehler und werden nicht importiert"
    )
    assert summary["Nächster Schritt"].startswith("Korrigieren Sie die roten Zellen im Blatt")
    assert (
        "Objektnummern, Kontakte, Makler (Benutzer) wurden nicht mit onOffice abgeglichen"
        in (summary["Nicht geprüft"])
    )
    # words first, the code last (for scripts)
    codes = [r for r in book["Übersicht"].iter_rows(values_only=True) if r[2] == "bad-reminder"]
    assert codes == [
        (
            "1 Zeile",
            "keine Erinnerung, die onOffice anbietet (5 Minuten … 3 Wochen)",
            "bad-reminder",
        )
    ]
    assert summary["Geprüft am"].count(".") == 2  # 30.11.2026 14:50, not ISO
    # the Problems sheet shows a value as it was typed: a date cell as 05.03.2027, not ISO
    # one row number: the file's (the link goes to its cell in the report)
    header = next(book["Probleme"].iter_rows(max_row=1, values_only=True))
    assert header == ("Zeile", "Art", "Spalte", "Meldung", "Wert", "Code"), header
    values = {(p["Zeile"], p["Code"]): p["Wert"] for p in sheet_rows(book, "Probleme")}
    assert values[(11, "end-before-start")] == "05.03.2027"


def test_report_layout_colours_wrap_widths_links_and_no_text_flags(viewings: Path) -> None:
    report = check(viewings, MAPPING)
    assert report.report_path is not None
    book = openpyxl.load_workbook(report.report_path)
    rows = book["Rows"]
    header = [c.value for c in rows[1]]
    fills = {r[-1].value: r[0].fill.fgColor.rgb for r in rows.iter_rows(min_row=2)}
    assert fills[11] == RED and fills[4] == GREEN
    errors = rows.cell(row=2 + list(fills).index(11), column=2)
    assert errors.alignment.wrap_text and errors.alignment.vertical == "top"
    assert rows.row_dimensions[errors.row].height >= 30  # grown to show both lines
    widths = {
        h: rows.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width
        for i, h in enumerate(header)
    }
    longest_mail = max(len(r["E-Mail"] or "") for r in sheet_rows(book, "Rows"))
    # no e-mail cut off: as wide as the longest, or (printable widths stop at 30) wrapped
    column = header.index("E-Mail") + 1
    mails = [r[column - 1] for r in rows.iter_rows(min_row=2) if r[column - 1].value]
    assert widths["E-Mail"] >= min(longest_mail, 30)
    assert all(c.alignment.wrap_text for c in mails if len(c.value) > widths["E-Mail"])
    assert widths["Datum"] >= 10 and sum(widths.values()) < 300  # prints across one page
    assert widths["Warnings"] < 15  # dates never ###; an empty column is narrow
    assert widths["Errors"] <= 60
    # the Problems sheet: a filter, and each problem a link to its cell in the Rows sheet
    problems = book["Problems"]
    assert problems.auto_filter.ref
    links = {c.row: c.hyperlink.location for c in problems["A"][1:] if c.hyperlink}
    reminder = next(
        i + 2 for i, p in enumerate(sheet_rows(book, "Problems")) if p["Code"] == "bad-reminder"
    )
    assert (
        links[reminder]
        == f"'Rows'!{openpyxl.utils.get_column_letter(header.index('Erinnerung') + 1)}10"
    )
    assert rows[links[reminder].split("!")[1]].value == "10 Min"  # the link lands on the cell
    with zipfile.ZipFile(report.report_path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert 'numberStoredAsText="1"' in sheet  # "0815" carries no green triangle


def test_a_row_with_warnings_only_is_amber(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "w.csv",
        "Start;Betreff\n01.12.2027 10:00;A\n01.12.2027 10:00;A\n02.12.2027 10:00;B\n",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text("start: Start\nend: {minutes: 30}\nfields: {description: Betreff}\n")
    report = check(source, mapping)
    assert report.report_path is not None
    rows = openpyxl.load_workbook(report.report_path)["Rows"]
    fills = [r[0].fill.fgColor.rgb for r in rows.iter_rows(min_row=2)]
    assert fills == [GREEN, AMBER, GREEN]  # the duplicate row is warned, not refused


def test_results_in_german_are_read_back_and_rerun_in_english(
    viewings: Path, tmp_path: Path
) -> None:
    """Status words and headers are translated, and our own workbook is still understood."""
    with Sandbox() as sb, OnOfficeClient(sb.url, sb.credentials) as client:
        with i18n.use("de"):
            first = run_import(viewings, MAPPING, client=client, journal_path=tmp_path / "j.sqlite")
            results = write_results(first, tmp_path / "viewings.results.xlsx")
        book = openpyxl.load_workbook(results)
        assert book.sheetnames == ["Ergebnisse", "Übersicht", "Status-Erklärung"]
        german = statuses(book, "Ergebnisse")
        assert german == {"angelegt": 8, "ungültig": 6}
        sheet = book["Ergebnisse"]
        assert [c.value for c in sheet[1]][:4] == ["Status", "Termin-ID", "Fehler", "Hinweise"]
        assert sheet.freeze_panes == "D2"
        fills = {r[0].value: r[0].fill.fgColor.rgb for r in sheet.iter_rows(min_row=2)}
        assert fills == {"angelegt": GREEN, "ungültig": RED}
        creates = sb.stats.actions["create calendar"]
        again = run_import(
            results, MAPPING, client=client, journal_path=tmp_path / "j.sqlite"
        )  # English now, the German workbook as input
    assert again.counts() == {"already-created": 8, "invalid": 6}
    assert sb.stats.actions["create calendar"] == creates


def test_sheet_rows_say_where_each_row_stands_in_the_results(
    viewings: Path, tmp_path: Path
) -> None:
    """For the file's rows and for a run of a results workbook: the named sheet row holds
    that row (its Source row, the original file's row, and its content)."""
    from importer.output.results import sheet_rows

    with Sandbox() as sb, OnOfficeClient(sb.url, sb.credentials) as client:
        first = run_import(viewings, MAPPING, client=client, journal_path=tmp_path / "j.sqlite")
        one = write_results(first, tmp_path / "one.results.xlsx")
        again = run_import(one, MAPPING, client=client, journal_path=tmp_path / "j.sqlite")
        two = write_results(again, tmp_path / "two.results.xlsx")
    before = openpyxl.load_workbook(one)["Results"]
    for report, path, earlier in ((first, one, None), (again, two, before)):
        sheet = openpyxl.load_workbook(path)["Results"]
        header = [c.value for c in sheet[1]]
        places = sheet_rows(report)
        assert sorted(places.values()) == list(range(2, sheet.max_row + 1))
        for row, place in places.items():
            cells = dict(zip(header, (c.value for c in sheet[place]), strict=True))
            if earlier is None:
                assert cells["Source row"] == row
                continue
            for column in ("Source row", "Interessent"):  # row of the first results workbook
                assert cells[column] == earlier.cell(row, header.index(column) + 1).value


def test_undo_workbook_says_what_each_appointment_was(viewings: Path, tmp_path: Path) -> None:
    with Sandbox() as sb, OnOfficeClient(sb.url, sb.credentials) as client:
        first = run_import(viewings, MAPPING, client=client, journal_path=tmp_path / "j.sqlite")
        results = write_results(first, tmp_path / "viewings.results.xlsx")
        with i18n.use("de"):
            undone = undo_import(results, client=client, journal_path=tmp_path / "j.sqlite")
            written = write_undo_results(undone)
    rows = sheet_rows(written, "Rückgängig")
    assert len(rows) == 8 and {r["Was geschah"] for r in rows} == {"gelöscht"}
    row4 = next(r for r in rows if r["Zeile im Original"] == 4)
    assert (row4["Termindatum"], row4["Terminzeit"]) == ("01.03.2027", "10:00–10:45")
    assert row4["Terminbetreff"] == "Besichtigung AC-1042 mit Sabine Krüger"
    # the row as the user typed it: estate number, contact, agent in their words
    assert (row4["Objekt-Nr."], row4["Interessent"], row4["Makler"]) == (
        "AC-1042",
        "Sabine Krüger",
        "mmueller",
    )


def test_messages_speak_the_users_terms(viewings: Path) -> None:
    """Dates as 05.03.2027 09:15, values as typed, no API field names, right plurals."""
    report = check(viewings, MAPPING, report=False)
    messages = [p.message for p in report.problems]
    assert messages and not [m for m in messages if any(n in m for n in API_NAMES)]
    assert not [m for m in messages if "2027-" in m]  # no ISO dates
    with i18n.use("de"):
        assert i18n.duration(timedelta(hours=1)) == "1 Stunde"
        assert i18n.duration(timedelta(hours=26)) == "1 Tag 2 Stunden"
    assert i18n.duration(timedelta(hours=2)) == "2 hours"


def test_csv_rows_are_numbered_as_excel_shows_them(tmp_path: Path) -> None:
    """A quoted cell with line breaks keeps its record on one row in Excel: so do we."""
    source = write_csv(
        tmp_path / "t.csv",
        'Start;Betreff;Notiz\n01.12.2027 10:00;A;"eine\nzweite\ndritte Zeile"\nkein Datum;B;x\n',
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "start: Start\nend: {minutes: 30}\nfields: {description: Betreff, note: Notiz}\n"
    )
    report = check(source, mapping, report=False)
    assert [p.row for p in report.problems] == [3]  # Excel's row 3; its text line is 5


def test_the_cell_limit_is_counted_as_excel_counts(tmp_path: Path) -> None:
    """20,000 emoji are 40,000 UTF-16 units: cut to Excel's limit with a marker."""
    from importer.output.xlsx_write import fit_text

    text = "😀" * 20_000
    cut = fit_text(text)
    assert excel_length(cut) <= EXCEL_CELL_LIMIT and cut.endswith("characters]")
    assert len(text) < EXCEL_CELL_LIMIT < excel_length(text)
    source = write_csv(tmp_path / "e.csv", f"Start;Notiz\n01.12.2027 10:00;{text}\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("start: Start\nend: {minutes: 30}\nfields: {note: Notiz}\n")
    report = check(source, mapping)
    assert report.report_path is not None
    cell = sheet_rows(report.report_path, "Rows")[0]["Notiz"]
    assert excel_length(cell) <= EXCEL_CELL_LIMIT and cell.startswith("😀😀")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_users_column_named_like_ours_is_kept_through_reruns_and_undo(
    tmp_path: Path, lang: str
) -> None:
    """A German list may have its own "Hinweise", "Fehler" or "Status" column: ours are told
    apart, and re-runs and undo read the workbook without losing the user's column."""
    source = write_csv(
        tmp_path / "t.csv",
        "Start;Betreff;Hinweise;Status;Fehler\n"
        "01.12.2027 10:00;A;Schlüssel holen;offen;x\n02.12.2027 10:00;B;;offen;\n",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "start: Start\nend: {minutes: 30}\nfields: {description: Betreff, note: Hinweise}\n"
    )
    journal = tmp_path / "j.sqlite"
    with Sandbox() as sb, OnOfficeClient(sb.url, sb.credentials) as client, i18n.use(lang):
        results = write_results(
            run_import(source, mapping, client=client, journal_path=journal),
            tmp_path / "t.results.xlsx",
        )
        header = [c.value for c in openpyxl.load_workbook(results).worksheets[0][1]]
        assert len(set(header)) == len(header)  # no header twice
        for _ in range(2):  # re-run the results workbook in place, twice
            again = run_import(results, mapping, client=client, journal_path=journal)
            assert again.counts() == {"already-created": 2}
            results = write_results(again, results)
        rows = sheet_rows(results, openpyxl.load_workbook(results).sheetnames[0])
        assert [r["Hinweise"] for r in rows] == ["Schlüssel holen", None]  # the user's own
        assert [r["Status"] for r in rows] == ["offen", "offen"]
        undone = undo_import(results, client=client, journal_path=journal)
        assert undone.counts() == {"deleted": 2} and sb.store.count_appointments() == 0


def test_an_xlsx_saved_with_the_xls_ending_is_read_by_its_content(
    viewings: Path, tmp_path: Path
) -> None:
    renamed = tmp_path / "viewings.xls"
    viewings.rename(renamed)
    report = check(renamed, MAPPING, report=False)
    assert (report.valid_count, report.invalid_count) == (10, 4)


def test_a_csv_read_with_the_wrong_delimiter_says_so_once(tmp_path: Path) -> None:
    from importer.core.errors import SourceFileError

    source = write_csv(tmp_path / "k.csv", "Start,Betreff,Makler\n01.12.2027 10:00,A,x\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        'source: {delimiter: ";"}\nstart: Start\nend: {minutes: 30}\n'
        "fields: {description: Betreff}\n"
    )
    with pytest.raises(SourceFileError) as refused, i18n.use("de"):
        check(source, mapping, report=False)
    assert refused.value.code == "file-layout"
    assert "die Spalten sind durch ',' getrennt" in str(refused.value)


def test_characters_beyond_the_bmp_are_cut_at_excels_limit_not_before() -> None:
    from importer.output.xlsx_write import fit_text

    for n in (16_383, 16_384, 20_000, 32_709, 40_000):
        cut = fit_text("😀" * n)
        assert excel_length(cut) <= EXCEL_CELL_LIMIT
        assert excel_length(cut) >= EXCEL_CELL_LIMIT - 60  # all the room used, not thrown away
    assert fit_text("😀" * 16_000) == "😀" * 16_000  # 32,000 units fit


def test_config_file_given_with_config_sets_the_language(tmp_path: Path) -> None:
    config = tmp_path / "mine.ini"
    config.write_text("[onoffice]\nlang = de  # Deutsch\n", encoding="utf-8")
    config.chmod(0o600)
    empty = write_csv(tmp_path / "leer.csv", "")
    env = {**os.environ, "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    env.pop("ONOFFICE_CONFIG", None)
    out = forkserver.run(
        ["check", str(empty), "-m", str(MAPPING), "--config", str(config)], env=env, timeout=60
    )
    assert out.returncode == 2 and out.stderr.startswith("Fehler: "), out.stderr
