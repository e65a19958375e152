"""Our .xlsx writer, read back by openpyxl, by calamine (what we read with) and by our loader."""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from importer.core.excel import column_letter
from importer.output import xlsx_write
from importer.output.workbook import RowsSheet, TableSheet, write_workbook
from importer.output.xlsx_write import EXCEL_CELL_LIMIT, Filled, Left, Sheet, write_xlsx
from importer.source.load import LoadOptions, load_table

from .budget import budget, timeout

RED = "FFFFC7CE"
AWKWARD_TEXT = [
    "=1+2",  # never a formula
    "+49 241 123",
    "-5",
    "@home",
    "a & b <c> \"d\" 'e'",
    " leading and trailing ",
    "\nline\r\nbreaks\n",
    "tab\there",
    "control \x01\x02\x1f chars",
    "_x0041_ looks like an escape",
    "Zählerstände; Grüße, 東京, 🙂",
]


def calamine_rows(path: Path, sheet: str) -> list[list[Any]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()


def test_text_survives_exactly_as_text(tmp_path: Path) -> None:
    path = tmp_path / "text.xlsx"
    write_xlsx(path, [Sheet("Text", [([t], {}) for t in AWKWARD_TEXT], ["Value"])])
    assert [r[0] for r in calamine_rows(path, "Text")[1:]] == AWKWARD_TEXT
    cells = [r[0] for r in openpyxl.load_workbook(path)["Text"].iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in cells)
    assert cells[0].value == "=1+2" and cells[5].value == " leading and trailing "


@timeout(60, 2.0)
@budget(60, 2.0)
@given(
    st.lists(
        st.text(
            st.characters(exclude_categories=("Cs",), exclude_characters="\ufffe\uffff"),
            min_size=1,
        ),
        max_size=8,
    )
)
def test_any_text_round_trips(tmp_path_factory: pytest.TempPathFactory, texts: list[str]) -> None:
    path = tmp_path_factory.mktemp("prop") / "any.xlsx"
    write_xlsx(path, [Sheet("T", [(texts, {})])])
    rows = calamine_rows(path, "T")
    assert rows == [texts] if texts else rows in ([], [[]])


def test_characters_xml_cannot_hold_do_not_break_the_file(tmp_path: Path) -> None:
    """Lone surrogates and non-characters are written escaped (_xD800_), as Excel does."""
    path = tmp_path / "surrogate.xlsx"
    write_xlsx(path, [Sheet("T", [(["bad \ud800 \ufffe text"], {0: "note \udfff"})])])
    cell = openpyxl.load_workbook(path)["T"]["A1"]
    assert cell.value == "bad _xD800_ _xFFFE_ text" and cell.comment.text == "note _xDFFF_"


def test_values_keep_their_kind(tmp_path: Path) -> None:
    values = [
        7,
        -2.5,
        True,
        date(2026, 4, 1),
        datetime(2026, 4, 1, 17, 45),
        time(14, 30),
        timedelta(hours=25, minutes=30),
        datetime(2026, 4, 1, 17, 45, tzinfo=UTC),
        date(1899, 1, 1),  # Excel has no such date: written as text, never a wrong date
        math.nan,
        math.inf,
    ]
    path = tmp_path / "kinds.xlsx"
    write_xlsx(path, [Sheet("K", [(values, {})])])
    row = calamine_rows(path, "K")[0]
    assert row[:3] == [7, -2.5, True]
    assert row[3] == date(2026, 4, 1)
    assert row[4] == datetime(2026, 4, 1, 17, 45)
    assert row[5] == time(14, 30)
    assert row[6] == timedelta(hours=25, minutes=30)
    assert row[7] == datetime(2026, 4, 1, 17, 45)  # the wall-clock time, zone dropped
    assert row[8:] == ["1899-01-01", "nan", "inf"]
    cells = next(openpyxl.load_workbook(path)["K"].iter_rows())
    assert [c.number_format for c in cells[3:7]] == [
        "dd.mm.yyyy",
        "dd.mm.yyyy hh:mm",
        "hh:mm",
        "[h]:mm",
    ]


def test_overlong_text_is_cut_with_a_marker(tmp_path: Path) -> None:
    path = tmp_path / "long.xlsx"
    write_xlsx(path, [Sheet("L", [(["x" * 40_000], {0: "y" * 40_000})])])
    text = calamine_rows(path, "L")[0][0]
    assert len(text) == EXCEL_CELL_LIMIT and text.endswith("32,767 characters]")
    assert len(openpyxl.load_workbook(path)["L"]["A1"].comment.text) <= 30_000


def test_faulty_cells_are_red_with_a_note_also_when_empty(tmp_path: Path) -> None:
    rows = [(["ok", "10 Min", None], {1: "Error [bad-reminder]: no", 2: "Error: missing"})]
    rows += [(["ok", "fine"], {3: "beyond the values"})]
    path = tmp_path / "notes.xlsx"
    write_xlsx(path, [Sheet("N", rows, ["A", "B", "C", "D"], autofilter=True)])
    sheet = openpyxl.load_workbook(path)["N"]
    assert sheet["A2"].fill.fgColor.rgb != RED and sheet["A2"].comment is None
    assert sheet["B2"].fill.fgColor.rgb == RED and "bad-reminder" in sheet["B2"].comment.text
    assert sheet["C2"].value is None and sheet["C2"].fill.fgColor.rgb == RED
    assert sheet["D3"].comment.text == "beyond the values"
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:D3"


def test_thousands_of_notes_on_two_sheets(tmp_path: Path) -> None:
    """Over 1,024 notes need more than one VML id block; the second sheet's ids must not clash."""
    first = [([f"r{i}"], {0: f"note {i}"}) for i in range(2_500)]
    second = [([f"s{i}"], {0: f"other {i}"}) for i in range(30)]
    path = tmp_path / "many.xlsx"
    write_xlsx(path, [Sheet("One", first), Sheet("Two", second)])
    book = openpyxl.load_workbook(path)
    assert book["One"]["A2500"].comment.text == "note 2499"
    assert book["Two"]["A30"].comment.text == "other 29"
    with zipfile.ZipFile(path) as archive:
        vml = [archive.read(f"xl/drawings/vmlDrawing{i}.vml").decode() for i in (1, 2)]
    assert 'data="1,2,3"' in vml[0] and 'data="4"' in vml[1]
    ids = [part.split('"')[0] for text in vml for part in text.split('id="_x0000_s')[1:]]
    assert len(ids) == len(set(ids)) == 2_530


def test_every_part_is_well_formed_and_declared(tmp_path: Path) -> None:
    path = tmp_path / "parts.xlsx"
    write_xlsx(
        path,
        [
            Sheet("Rows", [(["a", 1], {1: "why"})], ["Text", "Number"], {0: 30}, True),
            Sheet("Summary", [(["b"], {})], ["Item"]),
        ],
    )
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert names[0] == "[Content_Types].xml"
        for name in names:
            SafeET.fromstring(archive.read(name))  # raises on anything malformed
        types = archive.read("[Content_Types].xml").decode()
        workbook = archive.read("xl/workbook.xml").decode()
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    for name in names:  # every part but the index itself is declared (.rels and .vml by default)
        if name.endswith(".xml") and name != "[Content_Types].xml":
            assert f'PartName="/{name}"' in types
    assert 'Extension="rels"' in types and 'Extension="vml"' in types
    assert "_xlnm._FilterDatabase" in workbook and "'Rows'!$A$1:$B$2" in workbook
    assert '<dimension ref="A1:B2"/>' in sheet and 'width="30.7109375"' in sheet


def test_sheet_names_are_escaped_in_the_index(tmp_path: Path) -> None:
    path = tmp_path / "names.xlsx"
    write_xlsx(path, [Sheet(" Q&A 'x' ", [(["a"], {})], ["H"], autofilter=True)])
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [" Q&A 'x' "]
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
    assert "' Q&amp;A ''x'' '!$A$1:$A$2" in workbook


def test_report_workbook_reads_back_through_our_loader(tmp_path: Path) -> None:
    target = tmp_path / "x.results.xlsx"
    rows = [([f"K{i}", date(2026, 5, i + 1), "valid"], {}) for i in range(3)]
    written = write_workbook(
        target,
        [
            RowsSheet("Results", ["Kunde", "Datum", "Status"], iter(rows)),
            TableSheet("Summary", [["Item", "Value"], ["Rows", 3]]),
        ],
    )
    assert written == target
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file is gone
    table = load_table(target, LoadOptions(sheet="Results"))
    assert table.frame["Kunde"].tolist() == ["K0", "K1", "K2"]
    assert table.frame["Datum"].tolist()[0] == date(2026, 5, 1)


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 701, 702, 16383)] == [
        "A",
        "Z",
        "AA",
        "ZZ",
        "AAA",
        "XFD",
    ]


def test_a_long_note_with_line_breaks_shows_every_line(tmp_path: Path) -> None:
    """A 980-character note of several lines wraps in its cell, and its row is as tall as
    its lines (up to 20), in a column that is not a message column."""
    note = "\n".join(f"Zeile {n}: " + "Schlüssel beim Hausmeister abholen. " * 3 for n in range(8))
    assert len(note) > 900
    path = tmp_path / "note.xlsx"
    write_workbook(path, [RowsSheet("Rows", ["Status", "Bemerkung"], [(["ok", note], {})])])
    sheet = openpyxl.load_workbook(path)["Rows"]
    assert sheet["B2"].value == note and sheet["B2"].alignment.wrap_text
    assert (sheet.row_dimensions[2].height or 0) >= 8 * 15


def test_every_sheet_prints_landscape_across_one_page_with_its_header_on_each(
    tmp_path: Path,
) -> None:
    """A wide list prints every column on the page's width (a row is read across), the
    header row repeated on every page; a summary (no header) repeats nothing."""
    wide = [f"Spalte {c}" for c in range(30)]
    rows = [([f"Wert {r}-{c}" for c in range(30)], {}) for r in range(200)]
    path = tmp_path / "wide.xlsx"
    write_workbook(
        path,
        [
            RowsSheet("Rows", wide, rows, frozen=2),
            TableSheet("Summary", [["Import of x.xlsx", None], ["Result", "ok"]], header=False),
        ],
    )
    with zipfile.ZipFile(path) as z:
        first = z.read("xl/worksheets/sheet1.xml").decode()
        second = z.read("xl/worksheets/sheet2.xml").decode()
        book = z.read("xl/workbook.xml").decode()
    for sheet in (first, second):
        assert 'orientation="landscape"' in sheet and 'fitToWidth="1"' in sheet
    assert "'Rows'!$1:$1</definedName>" in book and "'Summary'" not in book
    header = openpyxl.load_workbook(path)["Rows"]["A1"]
    assert header.alignment.wrap_text  # a long title wraps instead of widening the column


def test_rows_past_the_sized_ones_grow_for_text_longer_than_their_column(tmp_path: Path) -> None:
    """Columns are sized from the first 1,000 rows; a longer text later wraps in the narrow
    column and its row grows to show every line."""
    rows = [(["ok", "kurz"], {}) for _ in range(1_100)]
    rows[1_050] = (["ok", "Sabine Krüger, Theaterstraße 12, 52062 Aachen"], {})
    path = tmp_path / "late.xlsx"
    write_workbook(path, [RowsSheet("Rows", ["Status", "Adresse"], rows)])
    sheet = openpyxl.load_workbook(path)["Rows"]
    width = sheet.column_dimensions["B"].width
    assert width < 15
    assert (sheet.row_dimensions[1_052].height or 15) >= 15 * math.ceil(45 / (width * 1.2))


def test_a_killed_results_write_leaves_no_temp_file_for_good(tmp_path: Path) -> None:
    from importer.output.workbook import TableSheet, write_workbook

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=30)
    target = tmp_path / "rows.results.xlsx"
    stale = tmp_path / f".rows.results.xlsx.{dead.pid}.tmp"
    stale.write_bytes(b"half a workbook")
    alive = tmp_path / f".rows.results.xlsx.{os.getppid()}.tmp"  # a living writer's: kept
    alive.write_bytes(b"being written")
    write_workbook(target, [TableSheet("Results", [["a"], [1]])])
    assert target.exists() and not stale.exists() and alive.exists()


def test_a_wrapped_title_gets_the_lines_it_prints_on(tmp_path: Path) -> None:
    """A row is as tall as its wrapped text needs, counted word by word (a long file name
    breaks apart from the words before it): printed, it never runs into the row below; a
    header word is never wider than its column."""
    import openpyxl

    from importer.output.workbook import TableSheet, write_workbook

    title = "Import von 2026-12-07_105024_viewings.results.xlsx"
    path = write_workbook(
        tmp_path / "t.xlsx",
        [
            TableSheet(
                "S", [[title, ""], ["a", "b"]], header=False, wrap=frozenset({0}), widths={0: 30.0}
            ),
            TableSheet("H", [["Antwort von onOffice", "x"], ["", "y"]]),
        ],
    )
    book = openpyxl.load_workbook(path)
    assert book["S"].row_dimensions[1].height == 45  # "Import von" / the name: 3 lines of 36
    header = book["H"]
    assert header.row_dimensions[1].height == 30  # "Antwort von" / "onOffice"
    assert header.column_dimensions["A"].width >= len("onOffice") * 1.2


def _mixed_rows(rng: random.Random, n: int) -> list[tuple[list[Any], dict[int, str]]]:
    """Rows of every kind a sheet holds, each column changing its kinds from block to block
    (some blocks of one kind, some mixed): plain text, text to escape, line breaks, spaces at
    the ends, tabs, no-break spaces, long text, numbers, dates and times (one with a time
    zone), outcomes, counts, faulty cells, and now and then a row shorter or longer."""
    words = ["Besichtigung", "a & b", "<x>", "_x0041_", " lead", "trail ", "tab\there", "🙂"]
    words += ["no\xa0break", "zwei\nZeilen", "x" * 90, "ein langer Satz " * 6, ""]
    plain = ["Übergabe", "Makler Müller", None, "", "ein langer Satz, der umbricht " * 3 + "."]
    kinds: list[Any] = [
        lambda: rng.choice(words),
        lambda: rng.choice(plain),
        lambda: rng.randint(-5, 10**6),
        lambda: rng.choice([1.5, -0.0, math.nan, math.inf, True, False]),
        lambda: date(2027, 1, 1) + timedelta(days=rng.randint(-50_000, 400)),
        lambda: time(rng.randint(0, 23), rng.choice([0, 15, 30, 45])),
        lambda: datetime(2027, 3, 5, 10, 30, tzinfo=UTC if rng.random() < 0.5 else None),
        lambda: timedelta(minutes=rng.randint(0, 600)),
        lambda: Filled(rng.choice(["gültig", "ungültig"]), rng.choice(["good", "bad"])),
        lambda: Left(rng.choice([3, 4.5])),
    ]
    plan = [
        [(rng.randrange(len(kinds)), rng.random() < 0.3) for _ in range(12)]
        for _ in range(n // 250 + 1)
    ]
    rows = []
    for i in range(n):
        values = [
            kinds[0]() if mixed and rng.random() < 0.1 else kinds[k]()
            for k, mixed in plan[i // 250]
        ]
        bad = {c: f"Fehler in {c}" for c in range(12) if rng.random() < 0.01}
        if rng.random() < 0.001:  # its block is written row by row
            values = values[: rng.randint(0, 13)] + [None] * rng.randint(0, 2)
            bad[rng.randint(0, 13)] = "Fehler außerhalb"
        rows.append((values, bad))
    return rows


def test_rows_written_column_by_column_are_the_rows_written_cell_by_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast writer (a block of rows at a time, column by column) writes byte for byte what
    writing every cell through `cell` writes, across the sizing sample and chunk boundaries."""
    rng = random.Random(4711)
    long = "ein Satz, der länger ist als die Spalte breit " * 2
    sheets = [
        Sheet(
            "Rows",
            _mixed_rows(rng, 4_600),
            [f"Spalte {c}" for c in range(12)],
            {},
            True,
            frozenset({1, 2}),
            2,
        ),
        Sheet("Plain", _mixed_rows(rng, 2_300), wrap=frozenset({0})),
        # the second wrap column, short in the rows sized, later grows rows only where the
        # first grows them too: not widened for it
        Sheet(
            "Wrapped",
            [([long, "kurz"], {})] * 1_200 + [([long, long], {})] * 300,
            ["A", "B"],
            wrap=frozenset({0, 1}),
        ),
        # a space at the very start or end of a column's texts
        Sheet("Edges", [([" vorn", "a"], {}), *[(["b", "c"], {})] * 5, (["d", "hinten "], {})]),
    ]
    for sheet in sheets:
        sheet.rows = list(sheet.rows)
    fast, slow = tmp_path / "fast.xlsx", tmp_path / "slow.xlsx"
    write_xlsx(fast, sheets)
    monkeypatch.setattr(xlsx_write._Rows, "by_column", False)
    write_xlsx(slow, sheets)
    with zipfile.ZipFile(fast) as a, zipfile.ZipFile(slow) as b:
        assert a.namelist() == b.namelist()
        differ = [name for name in a.namelist() if a.read(name) != b.read(name)]
    assert differ == []
    assert len(calamine_rows(fast, "Rows")) == 4_601


def test_the_only_printable_space_is_the_space() -> None:
    """The column test for text written as it stands relies on it (str.isprintable)."""
    assert [
        chr(c) for c in range(sys.maxunicode + 1) if chr(c).isprintable() and chr(c).isspace()
    ] == [" "]
