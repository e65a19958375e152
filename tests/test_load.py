"""The loader on real .xlsx and .csv files: cells as typed, row numbers, hostile containers."""

from __future__ import annotations

import time
import zipfile
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import openpyxl
import pytest

from importer.core.errors import SourceFileError
from importer.source.load import Limits, LoadOptions, load_table

from .conftest import SAMPLES
from .files import rewrite_member, set_cell_xml, with_member, write_csv, write_xlsx

HEADER = ["Datum", "Beginn", "Objekt", "Kunde"]


def test_sample_workbook_header_below_title_and_cells_as_typed() -> None:
    table = load_table(SAMPLES / "viewings.xlsx", LoadOptions(sheet="Besichtigungen"))
    assert table.header_row == 3
    assert table.row_numbers[0] == 4
    first = table.frame.loc[4]
    assert first["Datum"] == date(2027, 3, 1)
    assert first["Beginn"] == clock(10, 0)
    assert table.frame.loc[5, "Objekt-Nr."] == "0815"
    assert table.frame.loc[8, "Objekt-Nr."] == "00077"
    assert table.column_letters["Objekt-Nr."] == "D"


def test_blank_rows_are_skipped_and_numbers_stay_numbers(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "a.xlsx",
        [
            HEADER,
            [datetime(2027, 1, 5, 10), None, "0815", 1234],
            [],
            [None, None, None, None],
            [date(2027, 1, 6), clock(9, 30), "AC-1", 17.5],
        ],
    )
    table = load_table(path)
    assert table.row_numbers == [2, 5]
    assert table.frame.loc[2, "Datum"] == datetime(2027, 1, 5, 10)
    assert table.frame.loc[2, "Kunde"] == 1234
    assert table.frame.loc[5, "Kunde"] == 17.5


def test_header_found_by_expected_columns_and_explicit_header_row(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "a.xlsx",
        [["Liste"], ["Stand: heute", "x"], HEADER, ["01.01.2027", "10:00", "A", "B"]],
    )
    assert load_table(path, expected_columns=["Datum", "Objekt"]).header_row == 3
    assert load_table(path, LoadOptions(header_row=3)).header_row == 3
    with pytest.raises(SourceFileError, match="no row 9") as caught:
        load_table(path, LoadOptions(header_row=9))
    assert caught.value.code == "header-not-found"


def test_sheet_by_position_and_ambiguous_sheets(tmp_path: Path) -> None:
    def two_sheets(book: openpyxl.Workbook) -> None:
        other = book.create_sheet("Import")
        other.append(HEADER)
        other.append(["x", "y", "z", "w"])

    path = write_xlsx(tmp_path / "a.xlsx", [HEADER, ["a", "b", "c", "d"]], setup=two_sheets)
    assert load_table(path, LoadOptions(sheet=2)).sheet == "Import"
    with pytest.raises(SourceFileError, match="several sheets") as caught:
        load_table(path)
    assert caught.value.code == "sheet-ambiguous"
    with pytest.raises(SourceFileError, match="no sheet 'Nope'; sheets: 'Termine', 'Import'"):
        load_table(path, LoadOptions(sheet="Nope"))


def test_only_the_sheet_holding_the_mapped_columns_is_chosen(tmp_path: Path) -> None:
    def setup(book: openpyxl.Workbook) -> None:
        book.create_sheet("Import").append(["Start", "Ende"])
        book["Import"].append(["01.01.2027 10:00", "01.01.2027 11:00"])

    path = write_xlsx(tmp_path / "a.xlsx", [["Notizen"], ["irgendwas"]], setup=setup)
    assert load_table(path, expected_columns=["Start", "Ende"]).sheet == "Import"


def test_hidden_sheet_is_not_chosen_automatically(tmp_path: Path) -> None:
    def setup(book: openpyxl.Workbook) -> None:
        hidden = book.create_sheet("Alt")
        hidden.append(HEADER)
        hidden.append(["a", "b", "c", "d"])
        hidden.sheet_state = "hidden"

    path = write_xlsx(tmp_path / "a.xlsx", [HEADER, ["x", "y", "z", "w"]], setup=setup)
    assert load_table(path).sheet == "Termine"


@pytest.mark.parametrize(
    ("rows", "code", "message"),
    [
        ([["Start", "Start"], ["a", "b"]], "header-duplicate", "column 'Start' appears twice"),
        ([["Start", None, "Ende"], ["a", "b", "c"]], "header-empty", "header cell B1 is empty"),
        ([HEADER], "no-data-rows", "no data rows"),
        ([HEADER, [], [None, None]], "no-data-rows", "no data rows"),
    ],
    ids=["duplicate", "empty-header-with-data", "header-only", "header-and-blank-rows"],
)
def test_unusable_structures_are_refused(
    tmp_path: Path, rows: list, code: str, message: str
) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", rows)
    with pytest.raises(SourceFileError, match=message) as caught:
        load_table(path)
    assert caught.value.code == code
    assert str(path) in str(caught.value)


def test_error_cells_formulas_without_value_and_hidden_rows(tmp_path: Path) -> None:
    def hide(book: openpyxl.Workbook) -> None:
        book.active.row_dimensions[3].hidden = True

    src = write_xlsx(
        tmp_path / "src.xlsx", [HEADER, ["a", "b", "c", "d"], ["e", "f", "g", "h"]], setup=hide
    )
    path = rewrite_member(
        src,
        tmp_path / "a.xlsx",
        "xl/worksheets/sheet1.xml",
        lambda d: set_cell_xml(
            set_cell_xml(d, "C2", '<c r="C2" t="e"><f>A1/0</f><v>#REF!</v></c>'),
            "D3",
            '<c r="D3"><f>SUM(A1:A2)</f></c>',
        ),
    )
    table = load_table(path)
    assert (
        table.cell_errors[(2, "Objekt")] == "the cell holds the Excel error #REF!; fix the formula"
    )
    assert "formula without a saved value" in table.cell_errors[(3, "Kunde")]
    assert any("1 hidden or filtered rows" in w for w in table.warnings)


def test_workbook_in_1904_date_system(tmp_path: Path) -> None:
    def epoch(book: openpyxl.Workbook) -> None:
        book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904

    path = write_xlsx(
        tmp_path / "a.xlsx",
        [["Datum", "x"], [date(2027, 3, 1), "y"]],
        formats={0: "DD.MM.YYYY"},
        setup=epoch,
    )
    assert load_table(path).frame.iloc[0]["Datum"] == date(2027, 3, 1)


def test_macro_workbook_is_read_with_a_warning(tmp_path: Path) -> None:
    src = write_xlsx(tmp_path / "a.xlsx", [HEADER, ["a", "b", "c", "d"]])
    macro = tmp_path / "a.xlsm"
    macro.write_bytes(src.read_bytes())
    table = load_table(macro)
    assert any("macros" in w for w in table.warnings)


# --- CSV ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "a.csv", "Start;Notiz\n01.01.2027 10:00;Müller Straße\n", encoding)
    table = load_table(path)
    assert table.columns == ["Start", "Notiz"]  # the BOM is not part of the first header
    assert table.frame.loc[2, "Notiz"] == "Müller Straße"
    assert (encoding == "cp1252") == any("not UTF-8" in w for w in table.warnings)


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_csv_delimiters_are_detected(tmp_path: Path, delimiter: str) -> None:
    text = delimiter.join(HEADER) + "\n" + delimiter.join(["a", "b", "c", "d"]) + "\n"
    table = load_table(write_csv(tmp_path / "a.csv", text))
    assert table.columns == HEADER
    assert table.delimiter == delimiter


def test_csv_keeps_text_as_text_and_counts_lines_across_quoted_breaks(tmp_path: Path) -> None:
    text = 'Nr;Notiz;Wert\n0815;"zwei\nZeilen; mit Semikolon";NA\n\n00077;einfach;\n'
    table = load_table(write_csv(tmp_path / "a.csv", text))
    # the rows Excel shows the file in: a record with a line break is one row, a blank line one
    assert table.row_numbers == [2, 4]
    assert table.frame.loc[2, "Nr"] == "0815"
    assert table.frame.loc[2, "Notiz"] == "zwei\nZeilen; mit Semikolon"
    assert table.frame.loc[2, "Wert"] == "NA"
    assert table.frame.loc[4, "Wert"] is None


def test_sample_csv_cp1252_with_quoted_breaks() -> None:
    table = load_table(SAMPLES / "termine.csv")
    assert table.encoding == "cp1252"
    assert table.frame.loc[4, "Notiz"] == "Ganztägig auf der Immobilienmesse\nStand B12"
    assert table.row_numbers[-1] == 10  # one record spans two lines: still one row in Excel


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "file-empty"),
        (b"   \r\n  \n", "file-empty"),
        (b"Start;Ende\n01.01.2027\x00;x\n", "file-nul-byte"),
        (b"%PDF-1.7\n...", "file-type-unknown"),
        (b"<html><body>not a csv</body></html>", "file-type-unknown"),
        (b"Start;Ende\n1;2\n3,4\n", "csv-column-count"),
        (b'Start;Ende\n"1;2\n3;4\n', "csv-malformed"),
        (b"Start;Notiz\n1;" + b"x" * 200_000 + b"\n", "csv-field-too-long"),
    ],
    ids=["empty", "blank", "nul", "pdf", "html", "mixed-delimiters", "open-quote", "huge-field"],
)
def test_broken_csv_files_are_refused_with_a_code(
    tmp_path: Path, content: bytes, code: str
) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(content)
    with pytest.raises(SourceFileError) as caught:
        load_table(path)
    assert caught.value.code == code


def test_nul_byte_names_its_line(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", "A;B\n1;2\n3;4\x00\n")
    with pytest.raises(SourceFileError, match="line 3 contains a NUL byte"):
        load_table(path)


# --- hostile or broken workbooks ------------------------------------------------------------
def test_legacy_xls_and_encrypted_workbooks_are_told_apart(tmp_path: Path) -> None:
    legacy = tmp_path / "old.xlsx"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1024)
    encrypted = tmp_path / "secret.xlsx"
    encrypted.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\0" * 64
        + "EncryptedPackage".encode("utf-16-le")
        + b"\0" * 512
    )
    with pytest.raises(SourceFileError, match="97-2003") as old:
        load_table(legacy)
    with pytest.raises(SourceFileError, match="password-protected") as locked:
        load_table(encrypted)
    assert (old.value.code, locked.value.code) == ("file-legacy-xls", "file-encrypted")


def test_truncated_and_garbage_workbooks(tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", [HEADER, ["a", "b", "c", "d"]])
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(bytes(range(256)) * 40)
    docx = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(docx, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    for path, code in (
        (cut, "file-damaged"),
        (garbage, "file-type-unknown"),
        (docx, "file-not-a-workbook"),
    ):
        with pytest.raises(SourceFileError) as caught:
            load_table(path)
        assert caught.value.code == code, path


def test_entity_bomb_and_xxe_are_refused_unread(tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", [HEADER, ["a", "b", "c", "d"]])
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    )
    xxe = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    # Into the worksheet (the scanner's sheet path) and into styles (every other member).
    for name, prolog, member in (
        ("bomb", bomb, "xl/worksheets/sheet1.xml"),
        ("xxe", xxe, "xl/styles.xml"),
    ):
        path = rewrite_member(
            good,
            tmp_path / f"{name}.xlsx",
            member,
            lambda d, p=prolog: p.encode() + d.split(b"?>", 1)[-1],
        )
        with pytest.raises(SourceFileError, match="forbidden XML") as caught:
            load_table(path)
        assert caught.value.code == "file-forbidden-xml"


def test_zip_bomb_is_refused_fast(tmp_path: Path) -> None:
    spaces = b" " * (1 << 20)  # 1.1 GiB of spaces, about 1 MB compressed
    bomb = with_member(tmp_path, "bomb.xlsx", "xl/media/padding.xml", [spaces] * 1100)
    assert bomb.stat().st_size < 5 * 1024 * 1024
    started = time.monotonic()
    with pytest.raises(SourceFileError, match="inflate") as caught:
        load_table(bomb)
    assert time.monotonic() - started < 10
    assert caught.value.code == "file-too-large"


def test_row_limit_is_checked_while_streaming(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", [HEADER] + [["a", "b", "c", "d"]] * 60)
    with pytest.raises(SourceFileError, match="more than 50 rows") as caught:
        load_table(path, LoadOptions(limits=Limits(max_rows=50)))
    assert caught.value.code == "file-too-many-rows"
    csv_path = write_csv(tmp_path / "a.csv", "A;B\n" + "1;2\n" * 60)
    with pytest.raises(SourceFileError, match="more than 50 rows"):
        load_table(csv_path, LoadOptions(limits=Limits(max_rows=50)))


def test_column_limit_keeps_the_report_writable(tmp_path: Path) -> None:
    csv_path = write_csv(tmp_path / "wide.csv", ";".join(f"C{i}" for i in range(40)) + "\n1;2\n")
    with pytest.raises(SourceFileError, match="40 columns, more than the 30") as caught:
        load_table(csv_path, LoadOptions(limits=Limits(max_columns=30)))
    assert caught.value.code == "file-too-many-columns"


def test_file_size_limit(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", "A;B\n" + "1;2\n" * 1000)
    with pytest.raises(SourceFileError, match="more than the limit") as caught:
        load_table(path, LoadOptions(limits=Limits(max_bytes=1000)))
    assert caught.value.code == "file-too-large"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourceFileError, match="file not found"):
        load_table(tmp_path / "nope.xlsx")


def test_durations_from_excel_stay_timedeltas(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "a.xlsx", [["Start", "Dauer"], [datetime(2027, 1, 1, 10), timedelta(minutes=90)]]
    )
    assert load_table(path).frame.iloc[0]["Dauer"] == timedelta(minutes=90)


@pytest.mark.parametrize(
    "name", ["fuzz-damaged-index.xlsx", "fuzz-zip-version.xlsx", "fuzz-nameless-member.xlsx"]
)
def test_fuzzer_findings_are_refused(name: str) -> None:
    """atheris found these: a broken deflate stream in workbook.xml raised zlib.error; an
    unsupported zip version raised NotImplementedError; a member without a name IndexError."""
    from .conftest import DATA

    with pytest.raises(SourceFileError) as caught:
        load_table(DATA / name)
    assert caught.value.code == "file-damaged"


def test_fuzzer_finding_encrypted_zip_member_is_refused_as_password_protected() -> None:
    """atheris found this: a member flagged as encrypted raised RuntimeError."""
    from .conftest import DATA

    with pytest.raises(SourceFileError) as caught:
        load_table(DATA / "fuzz-encrypted-member.xlsx")
    assert caught.value.code == "file-encrypted"


def test_dtd_in_the_workbook_index_itself_is_refused(tmp_path: Path) -> None:
    good = write_xlsx(tmp_path / "good.xlsx", [HEADER, ["a", "b", "c", "d"]])
    path = rewrite_member(
        good,
        tmp_path / "a.xlsx",
        "xl/workbook.xml",
        lambda d: b'<!DOCTYPE x [<!ENTITY a "b">]>' + d.split(b"?>", 1)[-1],
    )
    with pytest.raises(SourceFileError) as caught:
        load_table(path)
    assert caught.value.code == "file-forbidden-xml"


def test_a_dos_export_is_read_in_its_own_encoding_and_said(tmp_path: Path) -> None:
    """Neither UTF-8 nor Windows-1252 (a DOS program's cp850 export): charset-normalizer's guess
    reads the umlauts right, and the file's warning says it was a guess."""
    from importer.source.load import load_table

    path = tmp_path / "dos.csv"
    text = "Start;Betreff;Makler\n01.03.2027 10:00;Besichtigung Müller Straße;Jürgen Größe\n"
    path.write_bytes(text.encode("cp850"))
    table = load_table(path)
    assert table.frame.iloc[0].tolist() == [
        "01.03.2027 10:00",
        "Besichtigung Müller Straße",
        "Jürgen Größe",
    ]
    assert any("a guess from its bytes" in w for w in table.warnings)
