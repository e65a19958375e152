"""Lists as people's programs write them (issue 32, the CSV half): Outlook's CSV export in German,
US and UK settings and Google Calendar's import CSV, each file with the appointments it must
become; the day/month order of slash dates (points 3 and 10); the CSV reading findings (12)."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from importer import check, load_table
from importer.core.errors import ExitCode, MappingError, SourceFileError
from importer.mapping.draft import draft_mapping
from importer.sandbox import Sandbox

from .files import write_xlsx
from .helpers import cli, sheet_rows

ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "samples"
OUTLOOK = ROOT / "mappings" / "outlook-csv.yaml"
GOOGLE = ROOT / "mappings" / "google-csv.yaml"
SHOWN = ("start_dt", "end_dt", "description", "ganztags", "private")

# What Outlook's rows must become in every setting (samples/make_samples.py: OUTLOOK_ROWS)
VIEWING = ("2027-03-05 10:00:00", "2027-03-05 10:45:00", "Besichtigung AC-1042")
HANDOVER = ("2027-03-10 00:00:00", "2027-03-10 23:59:59", "Übergabe K-2201")  # all day
PRIVATE = ("2027-03-11 14:30:00", "2027-03-11 15:15:00", "Besichtigung 0815")
NOTARY = ("2027-04-13 09:00:00", "2027-04-13 10:00:00", "Notartermin K-2305")
OUTLOOK_ROWS = {2: VIEWING, 3: HANDOVER, 4: PRIVATE}  # row 5 ends before it starts
ORDER_WARNING = "no date in the file tells whether day or month comes first"


def appointments(result: Any) -> dict[int, tuple[str, str, str]]:
    """Valid rows -> (start, end, subject)."""
    return {
        o.row: tuple(o.parameters["data"][k] for k in SHOWN[:3]) for o in result.outcomes if o.valid
    }


def errors(result: Any) -> dict[int, list[str]]:
    return {o.row: [p.code for p in o.errors] for o in result.outcomes if not o.valid}


def flags(result: Any, row: int) -> dict[str, Any]:
    outcome = next(o for o in result.outcomes if o.row == row)
    data = outcome.parameters["data"]
    return {k: data[k] for k in ("ganztags", "private") if k in data}


def order_warnings(result: Any) -> list[str]:
    return [w for w in result.file_warnings if "day or month" in w or "day first" in w]


# --- the corpus: each file with the appointments it must become ---------------------------------
@pytest.mark.parametrize(
    ("sample", "mapping", "expected", "invalid", "warned"),
    [
        ("outlook-de.csv", OUTLOOK, OUTLOOK_ROWS, {5: ["end-before-start"]}, 0),
        # US: 3/5/2027 … no day over 12: read month/day as the format writes it, and said
        ("outlook-en.csv", OUTLOOK, OUTLOOK_ROWS, {5: ["end-before-start"]}, 1),
        # UK: 05/03/2027 is 5 March, proved by 13/04/2027 (once May 3 and "no such day")
        ("outlook-uk.csv", OUTLOOK, {**OUTLOOK_ROWS, 6: NOTARY}, {5: ["end-before-start"]}, 0),
        (
            "google.csv",
            GOOGLE,
            {
                2: VIEWING,
                3: ("2027-03-10 00:00:00", "2027-03-11 23:59:59", "Übergabe K-2201"),
                4: PRIVATE,
                5: ("2027-03-26 18:00:00", "2027-03-26 20:00:00", "Eigentümerversammlung"),
                6: ("2027-03-29 12:30:00", "2027-03-29 13:30:00", "Mittagstermin Notar"),
            },
            {},
            0,
        ),
    ],
)
def test_each_export_becomes_its_appointments(
    sample: str, mapping: Path, expected: dict[int, Any], invalid: dict[int, Any], warned: int
) -> None:
    result = check(SAMPLES / sample, mapping, report=False)
    assert appointments(result) == expected
    assert errors(result) == invalid
    assert len(order_warnings(result)) == warned, result.file_warnings
    assert flags(result, 3)["ganztags"] is True
    assert flags(result, 4)["private"] is True


@pytest.mark.parametrize("sample", ["outlook-de.csv", "outlook-en.csv", "outlook-uk.csv"])
def test_each_export_drafts_a_mapping_that_reads_it_as_the_shipped_one(
    tmp_path: Path, sample: str
) -> None:
    """Once "no column with dates found" (German) and the start taken from "End Date"."""
    drafted = tmp_path / "drafted.yaml"
    draft = draft_mapping(SAMPLES / sample)
    drafted.write_text(draft.yaml, encoding="utf-8")
    mine = check(SAMPLES / sample, drafted, report=False)
    shipped = check(SAMPLES / sample, OUTLOOK, report=False)
    assert appointments(mine) == appointments(shipped)
    assert errors(mine) == errors(shipped) == {5: ["end-before-start"]}
    assert [flags(mine, r) for r in (2, 3, 4)] == [flags(shipped, r) for r in (2, 3, 4)]
    assert ("\n  dayfirst: true\n" in draft.yaml) is (sample == "outlook-uk.csv")
    assert any("dayfirst" in t for t in draft.todo) is (sample == "outlook-en.csv")


def test_google_csv_drafts_a_mapping_that_reads_it_as_the_shipped_one(tmp_path: Path) -> None:
    drafted = tmp_path / "drafted.yaml"
    draft = draft_mapping(SAMPLES / "google.csv")
    drafted.write_text(draft.yaml, encoding="utf-8")
    assert '"%I:%M %p"' in draft.yaml and "dayfirst: false" in draft.yaml  # 03/26 proves it
    mine = check(SAMPLES / "google.csv", drafted, report=False)
    shipped = check(SAMPLES / "google.csv", GOOGLE, report=False)
    assert appointments(mine) == appointments(shipped)
    assert len(appointments(mine)) == 5 and not errors(mine)


def test_outlook_notes_hold_no_empty_attendees_line() -> None:
    result = check(SAMPLES / "outlook-de.csv", OUTLOOK, report=False)
    notes = {
        o.row: (o.parameters or o.partial or {}).get("data", {}).get("note")
        for o in result.outcomes
    }
    assert notes[2] == "Schlüssel beim Hausmeister.\nParkplatz im Hof.\n\nTeilnehmer: Sabine Krüger"
    assert notes[5] is None  # no description, no attendees: once "Teilnehmer:" alone
    assert notes[3] is not None and notes[3].startswith("Teilnehmer: ")


def test_the_uk_export_imports_on_the_right_days(tmp_path: Path, sandbox: Sandbox) -> None:
    """As a user runs it: the appointments land on 5 March and 13 April, not 3 May."""
    source = tmp_path / "outlook-uk.csv"
    shutil.copy(SAMPLES / "outlook-uk.csv", source)
    ran = cli(["run", str(source), "-m", str(OUTLOOK)], sandbox, tmp_path / "pc", tmp_path)
    assert ran.returncode == ExitCode.ROWS_FAILED, ran.stdout + ran.stderr
    assert "4 created" in ran.stdout and "1 invalid" in ran.stdout, ran.stdout
    assert "day or month" not in ran.stdout, ran.stdout  # the order is proved, not assumed
    # not a terminal: a progress line every 10 s and at the end (with how long it took)
    first, last = ran.stderr.splitlines()
    assert first == "1 of 4 rows handled (working out the time left …): 1 invalid, 1 created"
    assert re.fullmatch(r"4 of 4 rows handled \((under a second|\d+ seconds?)\): .*", last), last
    starts = sorted(a["start_dt"] for a in sandbox.store.all_appointments())
    assert starts == [
        "2027-03-05 10:00:00",
        "2027-03-10 00:00:00",
        "2027-03-11 14:30:00",
        "2027-04-13 09:00:00",
    ]


def test_a_run_says_the_assumed_order_on_screen_and_in_the_results(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source = tmp_path / "outlook-en.csv"
    shutil.copy(SAMPLES / "outlook-en.csv", source)
    ran = cli(["run", str(source), "-m", str(OUTLOOK)], sandbox, tmp_path / "pc", tmp_path)
    assert "3 created" in ran.stdout, ran.stdout + ran.stderr
    assert f"Warning: {ORDER_WARNING}" in ran.stdout
    summary = sheet_rows(tmp_path / "outlook-en.results.xlsx", "Summary")
    said = [r for r in summary if str(r.get(next(iter(r)))) == "File warning"]
    assert any(ORDER_WARNING in str(list(r.values())[1]) for r in said), summary


# --- day and month: the findings, one by one -----------------------------------------------------
UK_HEADER = ["Subject", "Start Date", "Start Time", "End Date", "End Time", "All day event"]


def outlook_uk(path: Path, rows: list[list[str]]) -> Path:
    """A CSV as Outlook writes it in UK settings: every field quoted, CRLF, Windows-1252."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerows([UK_HEADER, *rows])
    path.write_bytes(buffer.getvalue().encode("cp1252"))
    return path


SHORT_UK = [
    ["Besichtigung", "05/03/2027", "10:00:00", "05/03/2027", "10:45:00", "False"],
    ["Übergabe", "10/03/2027", "00:00:00", "12/03/2027", "00:00:00", "True"],
]
NO_ORGANISER = """
formats:
  date: ["%d.%m.%Y", "%m/%d/%Y"]
  time: ["%H:%M:%S", "%I:%M:%S %p"]
start: {date: Start Date, time: Start Time}
end: {date: End Date, time: End Time}
all_day: {column: All day event, map: {"true": true, "false": false}}
fields:
  description: Subject
"""


def _mapping(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(NO_ORGANISER.replace("formats:\n", f"formats:\n{extra}"), encoding="utf-8")
    return path


def test_a_column_that_cannot_tell_is_read_as_the_format_says_with_a_warning(
    tmp_path: Path,
) -> None:
    """05/03 and 10/03–12/03 only: no day over 12. Read month/day as the mapping's format
    writes it, and the warning names that assumption and how to say otherwise."""
    result = check(outlook_uk(tmp_path / "uk.csv", SHORT_UK), _mapping(tmp_path), report=False)
    assert appointments(result)[2][0] == "2027-05-03 10:00:00"
    [warning] = order_warnings(result)
    assert ORDER_WARNING in warning and "05/03/2027" in warning
    assert "month/day" in warning and "%m/%d/%Y" in warning and "dayfirst: true" in warning


def test_the_mapping_says_day_first(tmp_path: Path) -> None:
    source = outlook_uk(tmp_path / "uk.csv", SHORT_UK)
    result = check(source, _mapping(tmp_path, "  dayfirst: true\n"), report=False)
    assert appointments(result) == {
        2: ("2027-03-05 10:00:00", "2027-03-05 10:45:00", "Besichtigung"),
        3: ("2027-03-10 00:00:00", "2027-03-11 23:59:59", "Übergabe"),  # 10 to 11 March
    }
    assert order_warnings(result) == []


def test_a_day_over_12_in_another_date_column_decides_this_one(tmp_path: Path) -> None:
    rows = [*SHORT_UK, ["Notar", "12/04/2027", "09:00:00", "13/04/2027", "10:00:00", "False"]]
    result = check(outlook_uk(tmp_path / "uk.csv", rows), _mapping(tmp_path), report=False)
    assert appointments(result)[2][0] == "2027-03-05 10:00:00"  # Start Date itself cannot tell
    assert appointments(result)[4][:2] == ("2027-04-12 09:00:00", "2027-04-13 10:00:00")
    assert order_warnings(result) == []


def test_a_date_against_the_mappings_order_is_an_error_never_a_swap(tmp_path: Path) -> None:
    rows = [*SHORT_UK, ["Notar", "13/04/2027", "09:00:00", "13/04/2027", "10:00:00", "False"]]
    result = check(
        outlook_uk(tmp_path / "uk.csv", rows),
        _mapping(tmp_path, "  dayfirst: false\n"),
        report=False,
    )
    assert errors(result) == {4: ["date-order", "date-order"]}
    message = next(o for o in result.outcomes if o.row == 4).errors[0].message
    assert "'13/04/2027' has the day first" in message and "dayfirst: true" in message
    assert appointments(result)[2][0] == "2027-05-03 10:00:00"  # as the mapping says


def test_a_column_mixing_both_orders_is_warned_and_the_odd_dates_refused(tmp_path: Path) -> None:
    rows = [
        ["A", "05/03/2027", "10:00:00", "05/03/2027", "11:00:00", "False"],
        ["B", "13/04/2027", "10:00:00", "13/04/2027", "11:00:00", "False"],
        ["C", "04/14/2027", "10:00:00", "04/14/2027", "11:00:00", "False"],
    ]
    result = check(outlook_uk(tmp_path / "mixed.csv", rows), _mapping(tmp_path), report=False)
    assert errors(result) == {3: ["date-order", "date-order"]}  # read month/day as written
    assert set(appointments(result)) == {2, 4}
    warnings = order_warnings(result)
    assert len(warnings) == 2  # Start Date and End Date
    assert "13/04/2027" in warnings[0] and "04/14/2027" in warnings[0]


def test_dotted_german_and_iso_dates_are_never_reordered(tmp_path: Path) -> None:
    path = tmp_path / "de.csv"
    path.write_text(
        "Start;Betreff\n05.03.2027 10:00;A\n13.04.2027 10:00;B\n2027-03-05 11:00;C\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "de.yaml"
    mapping.write_text(
        "formats: {dayfirst: false}\nstart: Start\nend: {minutes: 30}\n"
        "fields: {description: Betreff}\n",
        encoding="utf-8",
    )
    result = check(path, mapping, report=False)
    assert [a[0] for a in appointments(result).values()] == [
        "2027-03-05 10:00:00",
        "2027-04-13 10:00:00",
        "2027-03-05 11:00:00",
    ]
    assert not errors(result) and order_warnings(result) == []
    dayfirst = mapping.read_text(encoding="utf-8").replace("dayfirst: false", "dayfirst: true")
    mapping.write_text(dayfirst, encoding="utf-8")
    again = check(path, mapping, report=False)
    assert appointments(again) == appointments(result)


def test_excel_text_dates_are_decided_the_same_way(tmp_path: Path) -> None:
    """Dates typed as text in a workbook ('05/03/2027 with an apostrophe): the same rules."""
    book = write_xlsx(
        tmp_path / "liste.xlsx",
        [
            ["Datum", "Betreff"],
            ["05/03/2027 10:00", "A"],
            ["13/04/2027 10:00", "B"],
        ],
    )
    mapping = tmp_path / "x.yaml"
    mapping.write_text(
        'formats: {datetime: ["%m/%d/%Y %H:%M"]}\nstart: Datum\nend: {minutes: 30}\n'
        "fields: {description: Betreff}\n",
        encoding="utf-8",
    )
    result = check(book, mapping, report=False)
    assert [a[0] for a in appointments(result).values()] == [
        "2027-03-05 10:00:00",
        "2027-04-13 10:00:00",
    ]
    assert order_warnings(result) == []


def test_dayfirst_must_be_yes_or_no(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r"formats\.dayfirst"):
        check(SAMPLES / "outlook-uk.csv", _mapping(tmp_path, "  dayfirst: UK\n"), report=False)


# --- reading CSV files: the smaller findings -----------------------------------------------------
def _refused(path: Path, mapping: Path) -> SourceFileError:
    with pytest.raises(SourceFileError) as caught:
        check(path, mapping, report=False)
    return caught.value


def _simple(tmp_path: Path, source: str = "") -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(
        f"{source}start: Start\nend: {{minutes: 30}}\nfields: {{description: Betreff}}\n",
        encoding="utf-8",
    )
    return path


def test_a_utf16_file_read_with_a_forced_cp1252_says_so(tmp_path: Path) -> None:
    """Once "an empty header cell (a merged header?)"."""
    path = tmp_path / "unicode.csv"
    path.write_bytes("Start;Betreff\r\n05.03.2027 10:00;Übergabe\r\n".encode("utf-16"))
    error = _refused(path, _simple(tmp_path, "source: {encoding: cp1252}\n"))
    assert error.code == "file-encoding"
    assert "UTF-16" in error.message and "cp1252" in error.message
    assert "utf-16" in error.message  # what to write instead
    assert load_table(path).frame.iloc[0, 1] == "Übergabe"  # detected, it reads


def test_a_binary_file_gets_our_own_message(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(bytes((i * 37 + 11) % 256 or 1 for i in range(4000)))
    for mapping in (_simple(tmp_path), _simple(tmp_path, "source: {encoding: utf-8}\n")):
        error = _refused(path, mapping)
        assert error.code == "file-type-unknown"
        assert error.message.startswith("this is not a text file")
        assert "codec" not in error.message


def test_bytes_the_forced_encoding_has_not_are_named_by_line(tmp_path: Path) -> None:
    path = tmp_path / "ansi.csv"
    path.write_bytes("Start;Betreff\r\n05.03.2027 10:00;Übergabe\r\n".encode("cp1252"))
    error = _refused(path, _simple(tmp_path, "source: {encoding: utf-8}\n"))
    assert error.code == "file-encoding"
    assert error.message.startswith("line 2: the byte 0xDC is not a character in utf-8")
    assert "codec" not in error.message
    unknown = _refused(path, _simple(tmp_path, "source: {encoding: latin-9x}\n"))
    assert "'latin-9x' is not an encoding known here" in unknown.message


def test_a_two_million_character_cell_is_reported_with_its_length(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("Start;Betreff\n05.03.2027 10:00;" + "x" * 2_000_000 + "\n", "utf-8")
    error = _refused(path, _simple(tmp_path))
    assert error.code == "csv-field-too-long"
    assert (error.row, error.column) == (2, "Betreff")
    assert "2,000,000 characters" in error.message and "131,072" in error.message


@pytest.mark.parametrize(
    ("text", "dayfirst", "starts"),
    [
        (  # a day over 12 proves day/month; 12-hour times
            "Datum;Uhrzeit;Ende;Betreff\n05/03/2027;10:00 AM;10:45 AM;A\n"
            "13/04/2027;2:30 PM;3:00 PM;B\n",
            "true",
            ["2027-03-05 10:00:00", "2027-04-13 14:30:00"],
        ),
        (  # nothing tells: month/day, under "To check" and warned by the check
            "Termin;Betreff\n05/03/2027 10:00;A\n04/03/2027 14:30;B\n",
            None,
            ["2027-05-03 10:00:00", "2027-04-03 14:30:00"],
        ),
    ],
)
def test_any_list_with_slash_dates_drafts_a_working_mapping(
    tmp_path: Path, text: str, dayfirst: str | None, starts: list[str]
) -> None:
    path = tmp_path / "liste.csv"
    path.write_text(text, encoding="utf-8")
    draft = draft_mapping(path)
    written = "\n  dayfirst: " in draft.yaml
    assert written is (dayfirst is not None)
    assert (f"\n  dayfirst: {dayfirst}\n" in draft.yaml) is written
    assert any("formats.dayfirst" in t for t in draft.todo) is (dayfirst is None)
    drafted = tmp_path / "drafted.yaml"
    drafted.write_text(draft.yaml, encoding="utf-8")
    result = check(path, drafted, report=False)
    assert [a[0] for a in appointments(result).values()] == starts
    assert len(order_warnings(result)) == (0 if dayfirst else 1)


def test_a_workbook_cell_of_two_million_characters_is_reported_with_its_length(
    tmp_path: Path,
) -> None:
    """Excel stops at 32,767, another program's workbook need not: the real length is said."""
    import re
    import zipfile

    written = write_xlsx(tmp_path / "w.xlsx", [["Start", "Betreff"], ["05.03.2027 10:00", "x"]])
    path = tmp_path / "big.xlsx"
    with zipfile.ZipFile(written) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<t>x</t>", b"<t>" + b"x" * 2_000_000 + b"</t>", data)
            out.writestr(info, data)
    result = check(path, _simple(tmp_path), report=False)
    [problem] = next(o for o in result.outcomes if o.row == 2).errors
    assert problem.code == "text-too-long"
    assert "2,000,000 characters; onOffice takes at most 255" in problem.message
