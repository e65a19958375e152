"""The catalogue of ../shared/bad-inputs.md, case by case, through the CLI as a user runs it.

Each case builds a real file, runs `onoffice-import check`, and asserts the documented level:
F (file refused: exit 2, one line naming the file, no report written), R (row error: exit 1,
the row invalid with its code, the column named), W (warning: the row stays valid), or —
(accepted as it should be). Never a traceback. Cases 53-59 concern `run` and are covered in
tests/test_run.py, tests/test_crash.py and tests/test_hostile_text.py (listed at the end).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from importer.cli import main
from importer.core.problems import CODES

from .files import rewrite_member, set_cell_xml, with_member, write_xlsx
from .helpers import sheet_rows

BASIC = "start: Start\nend: Ende\nfields: {description: Betreff}\n"
HEADER = "Start;Ende;Betreff\n"
GOOD = "01.12.2027 10:00;01.12.2027 11:00;Besichtigung\n"


@dataclass
class Case:
    number: int
    level: str  # F, R, W, or "-" (accepted)
    make: Callable[[Path], Path]  # builds the input file in the folder, returns it
    expect: str = ""  # F: text of the error line; R/W: the problem code
    mapping: str = BASIC
    column: str | None = None  # the column an R/W problem must name
    args: list[str] = field(default_factory=list)
    check_value: Callable[[Any], bool] | None = None  # for "-": the report's Rows sheet


def csv(text: str, name: str = "in.csv", encoding: str = "utf-8") -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(text.encode(encoding))
        return path

    return make


def raw(data: bytes, name: str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return make


def xlsx(rows: list[list[Any]], name: str = "in.xlsx", **kw: Any) -> Callable[[Path], Path]:
    return lambda folder: write_xlsx(folder / name, rows, **kw)


def edited(
    rows: list[list[Any]], member: str, edit: Callable[[bytes], bytes], **kw: Any
) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        src = write_xlsx(folder / "src.xlsx", rows, **kw)
        out = rewrite_member(src, folder / "in.xlsx", member, edit)
        src.unlink()
        return out

    return make


def zip_bomb(folder: Path) -> Path:
    zeros = b"\0" * (1 << 20)  # 600 MiB inflated, over the 512 MiB limit
    return with_member(folder, "in.xlsx", "xl/media/filler.xml", [zeros] * 600)


def hidden_row(book: openpyxl.Workbook) -> None:
    book.active.row_dimensions[3].hidden = True


def two_sheets(book: openpyxl.Workbook) -> None:
    other = book.create_sheet("Import")
    other.append(["Start", "Ende", "Betreff"])
    other.append(["01.12.2027 10:00", "01.12.2027 11:00", "x"])


def merged_header(book: openpyxl.Workbook) -> None:
    book.active.merge_cells("B1:C1")


def epoch_1904(book: openpyxl.Workbook) -> None:
    book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904


XROWS = [["Start", "Ende", "Betreff"], [datetime(2027, 12, 1, 10), datetime(2027, 12, 1, 11), "a"]]
DT = {0: "DD.MM.YYYY HH:MM", 1: "DD.MM.YYYY HH:MM"}
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600
ENC = OLE2 + "EncryptedPackage".encode("utf-16-le") + b"\0" * 100
DATE_TIME = "start: {date: Datum, time: Von}\nend: {time: Bis}\n"
ESTATE = (
    BASIC + "fields: {description: Betreff, relatedEstateId: {column: Objekt, lookup: estate}}\n"
)
ID_COLUMN = BASIC.replace(
    "fields: {description: Betreff}", "fields: {description: Betreff, relatedEstateId: Objekt}"
)

CASES = [
    # 1 Container and format
    Case(1, "F", raw(b"", "in.xlsx"), "the file is empty"),
    Case(2, "F", raw(OLE2, "in.xlsx"), "old Excel 97-2003 format"),
    Case(3, "F", raw(ENC, "in.xlsx"), "password-protected"),
    Case(
        4,
        "F",
        lambda f: raw(write_xlsx(f / "g.xlsx", XROWS).read_bytes()[:900], "in.xlsx")(f),
        "damaged or incomplete",
    ),
    Case(5, "F", zip_bomb, "inflate"),
    Case(
        6,
        "F",
        edited(
            XROWS,
            "xl/styles.xml",
            lambda d: (
                b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>' + d
            ),
        ),
        "forbidden XML",
    ),
    Case(7, "F", raw(b"%PDF-1.7\n1 0 obj", "in.csv"), "unrecognised file type"),
    Case(
        8,
        "W",
        lambda f: raw(write_xlsx(f / "s.xlsx", XROWS, formats=DT).read_bytes(), "in.xlsm")(f),
        "macros",
    ),
    Case(9, "F", csv(HEADER + GOOD * 200_001), "more than 200,000 rows"),
    # 2 CSV-specific
    Case(
        10,
        "W",
        csv(HEADER + "01.12.2027 10:00;01.12.2027 11:00;Müller\n", encoding="cp1252"),
        "not UTF-8",
    ),
    Case(11, "-", csv("\ufeff" + HEADER + GOOD), check_value=lambda v: v == "Besichtigung"),
    Case(12, "-", csv(HEADER + GOOD, encoding="utf-16"), check_value=lambda v: v == "Besichtigung"),
    Case(
        13,
        "F",
        csv(HEADER + GOOD + "01.12.2027 10:00,01.12.2027 11:00,x\n"),
        "inconsistent column count",
    ),
    Case(14, "F", csv(HEADER + '"01.12.2027 10:00;01.12.2027 11:00;x\n' + GOOD), "line 2"),
    Case(15, "F", csv(HEADER + "01.12.2027 10:00;01.12.2027 11:00;a\x00b\n"), "NUL byte"),
    Case(
        16,
        "F",
        csv(HEADER + "01.12.2027 10:00;01.12.2027 11:00;" + "x" * 140_000 + "\n"),
        "field too long",
    ),
    # 3 Sheet and header structure
    Case(17, "F", csv("Start;Betreff\n01.12.2027 10:00;x\n"), "no column 'Ende'"),
    Case(
        18,
        "F",
        csv("Start;Ende;Ende\n01.12.2027 10:00;01.12.2027 11:00;x\n"),
        "column 'Ende' appears twice",
        mapping="start: Start\nend: {minutes: 30}\n",
    ),
    Case(
        19,
        "-",
        csv(" start\u00a0;ENDE ;Betreff\n" + GOOD),
        check_value=lambda v: v == "Besichtigung",
    ),
    Case(20, "F", csv(HEADER + GOOD + HEADER + GOOD), "all look like the header"),
    Case(
        21,
        "F",
        xlsx([["Start", "Zeit", None], ["01.12.2027 10:00", "a", "b"]], setup=merged_header),
        "header cell C1 is empty",
        mapping="start: Start\nend: {minutes: 30}\n",
    ),
    Case(22, "F", xlsx(XROWS, formats=DT, setup=two_sheets), "several sheets"),
    Case(
        23,
        "-",
        csv(HEADER + "\n;;\n" + GOOD + "  ;  ;\n"),
        check_value=lambda v: v == "Besichtigung",
    ),
    Case(24, "F", csv(HEADER), "no data rows"),
    Case(25, "W", xlsx([*XROWS, XROWS[1]], formats=DT, setup=hidden_row), "hidden"),
    # 4 Dates and times
    Case(
        26,
        "R",
        csv(HEADER + "01.12.2027 10:00;01.12.2027 09:00;x\n"),
        "end-before-start",
        column="Ende",
    ),
    Case(
        27,
        "W",
        csv(HEADER + "01.12.2027 10:00;04.12.2027 10:00;x\n"),
        "long-appointment",
        column="Start",
    ),
    Case(
        28,
        "R",
        csv(HEADER + "31.02.2027 10:00;31.02.2027 11:00;x\n"),
        "impossible-date",
        column="Start",
    ),
    Case(
        29,
        "R",
        csv(HEADER + "03/04/2027 10:00;03/04/2027 11:00;x\n"),
        "bad-datetime",
        column="Start",
    ),
    Case(30, "R", csv(HEADER + "45678;45678;x\n"), "bad-datetime", column="Start"),
    Case(
        31,
        "R",
        xlsx(
            [
                ["Start", "Ende", "Betreff"],
                [datetime(1900, 2, 28, 10), datetime(1900, 2, 28, 11), "x"],
            ],
            formats=DT,
        ),
        "implausible-date",
        column="Start",
    ),
    Case(
        32,
        "-",
        xlsx(
            [["Datum", "Von", "Bis"], [date(2027, 12, 1), time(10), time(11)]],
            formats={0: "DD.MM.YYYY", 1: "HH:MM", 2: "HH:MM"},
            setup=epoch_1904,
        ),
        mapping=DATE_TIME,
        check_value=lambda v: v == datetime(2027, 12, 1),
    ),
    Case(33, "R", csv(HEADER + "24:00;01.12.2027 11:00;x\n"), "bad-datetime", column="Start"),
    Case(
        34,
        "R",
        csv("Datum;Von;Bis\n01.12.2027;9.3;10:00\n"),  # "9.30" is a time (README, Limits)
        "bad-time",
        mapping=DATE_TIME,
        column="Von",
    ),
    Case(
        35,
        "-",
        xlsx(
            [["Datum", "Von", "Bis"], [date(2027, 12, 1), time(11, 59, 59, 999_990), time(13)]],
            formats={0: "DD.MM.YYYY", 1: "HH:MM", 2: "HH:MM"},
        ),
        mapping=DATE_TIME,
        check_value=lambda v: v == datetime(2027, 12, 1),
    ),
    Case(
        36,
        "R",
        csv(HEADER + "01.12.2027;01.12.2027 11:00;x\n"),
        "date-without-time",
        column="Start",
    ),
    Case(
        37,
        "R",
        csv(HEADER + "28.03.2027 02:30;28.03.2027 03:30;x\n"),
        "time-does-not-exist",
        column="Start",
    ),
    Case(
        38,
        "W",
        csv(HEADER + "31.10.2027 02:30;31.10.2027 03:30;x\n"),
        "time-ambiguous",
        column="Start",
    ),
    Case(
        39,
        "-",
        csv(HEADER + "2027-12-01T09:00:00Z;2027-12-01T11:00:00+01:00;x\n"),
        check_value=lambda v: v == "2027-12-01T09:00:00Z",
    ),
    Case(
        40,
        "R",
        csv(HEADER + "01.12.1899 10:00;01.12.1899 11:00;x\n"),
        "implausible-date",
        column="Start",
    ),
    # 5 Values and text
    Case(41, "R", csv(HEADER + "   ;01.12.2027 11:00;x\n"), "start-missing", column="Start"),
    Case(
        42,
        "-",
        csv(HEADER + "01.12.2027 10:00;01.12.2027 11:00;NA\n"),
        check_value=lambda v: v == "NA",
    ),
    Case(
        43,
        "R",
        csv("Start;Ende;Betreff;Objekt\n01.12.2027 10:00;01.12.2027 11:00;x;1.23E+05\n"),
        "bad-number",
        mapping=ID_COLUMN,
        column="Objekt",
    ),
    Case(
        44,
        "-",
        csv("Start;Ende;Betreff;Objekt\n01.12.2027 10:00;01.12.2027 11:00;x;0815\n"),
        mapping=ESTATE,
        args=["--sandbox"],
        check_value=lambda v: v == "0815",
    ),
    Case(
        45,
        "R",
        csv("Start;Ende;Betreff;Objekt\n01.12.2027 10:00;01.12.2027 11:00;x;AC-0000\n"),
        "estate-not-found",
        mapping=ESTATE,
        args=["--sandbox"],
        column="Objekt",
    ),
    Case(
        46,
        "R",
        csv(HEADER + "01.12.2027 10:00;01.12.2027 11:00;" + "x" * 5000 + "\n"),
        "text-too-long",
        column="Betreff",
    ),
    Case(
        47,
        "-",
        csv(HEADER + "01.12.2027 10:00;01.12.2027 11:00;😀 بيت Besichtigung\n"),
        check_value=lambda v: v == "😀 بيت Besichtigung",
    ),
    Case(
        48,
        "W",
        csv(HEADER + "01.12.2027 10:00;01.12.2027 11:00;Be\u202esich\u200btigung\x0b\n"),
        "invisible-characters-removed",
        column="Betreff",
    ),
    Case(
        49,
        "R",
        edited(
            XROWS,
            "xl/worksheets/sheet1.xml",
            lambda d: set_cell_xml(d, "C2", '<c r="C2"><f>A1&amp;B1</f></c>'),
            formats=DT,
        ),
        "cell-error",
        column="Betreff",
    ),
    Case(
        50,
        "R",
        edited(
            XROWS,
            "xl/worksheets/sheet1.xml",
            lambda d: set_cell_xml(d, "C2", '<c r="C2" t="e"><v>#REF!</v></c>'),
            formats=DT,
        ),
        "cell-error",
        column="Betreff",
    ),
    Case(
        51,
        "R",
        csv(
            "Start;Ende;Privat\n01.12.2027 10:00;01.12.2027 11:00;WAHR\n"
            "02.12.2027 10:00;02.12.2027 11:00;vielleicht\n"
        ),
        "bad-boolean",
        mapping="start: Start\nend: Ende\nfields: {private: Privat}\n",
        column="Privat",
    ),
    Case(52, "W", csv(HEADER + GOOD + GOOD), "duplicate-row"),
]
ELSEWHERE = {
    53: "tests/test_run.py::test_sample_import_results_and_rerun (0 POSTs for created rows)",
    54: "tests/test_hostile_text.py::test_one_hundred_hostile_strings_stay_text",
    55: "tests/test_run.py::test_results_unwritable_are_written_elsewhere_and_said",
    56: "README 'Limits and deliberate choices' (content fingerprints; edited files accepted)",
    57: "tests/test_run.py::test_a_second_run_on_the_same_journal_is_refused",
    58: "tests/test_run.py::test_preflight_failures_create_nothing_and_still_write_results",
    59: "tests/test_run.py::test_preflight_failures_create_nothing_and_still_write_results",
}


def test_every_catalogue_case_is_covered() -> None:
    assert sorted([c.number for c in CASES] + list(ELSEWHERE)) == list(range(1, 60))


@pytest.mark.parametrize("case", CASES, ids=[f"case-{c.number:02d}-{c.level}" for c in CASES])
def test_bad_input(tmp_path: Path, case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    source = case.make(tmp_path)
    mapping = tmp_path / "m.yaml"
    mapping.write_text(case.mapping, encoding="utf-8")
    report = tmp_path / "report.xlsx"
    with pytest.raises(SystemExit) as caught:
        main(["check", str(source), "-m", str(mapping), "--report", str(report), *case.args])
    out, err = capsys.readouterr()
    code = caught.value.code
    # (an unexpected exception would fail the test by itself: main runs in this process)
    assert err.count("Error: ") <= 1  # one message, never a cascade
    if case.level == "F":
        assert code == 2, out + err
        assert err.startswith("Error: ")
        assert source.name in err or str(mapping) in err
        assert case.expect in err, err
        assert not report.exists()
        assert not list(tmp_path.glob(".*.tmp"))  # no half-written output either
        return
    book = openpyxl.load_workbook(report)
    rows = book["Rows"]
    status = [r["Status"] for r in sheet_rows(book, "Rows")]
    problems = [
        (p["Row"], p["Level"], p["Code"], p["Column"]) for p in sheet_rows(book, "Problems")
    ]
    assert {p[2] for p in problems} <= set(CODES)  # every code is a registered one
    summary = "\n".join(str(r) for r in book["Summary"].iter_rows(values_only=True))
    if case.level == "R":
        assert code == 1, out
        found = [p for p in problems if p[2] == case.expect]
        assert found, problems
        assert found[0][1] == "error"
        assert case.column is None or case.column in found[0][3]
        assert "invalid" in status
    elif case.level == "W":
        assert code == 0, out
        assert all(s == "valid" for s in status)
        warned = [p for p in problems if p[2] == case.expect and p[1] == "warning"]
        assert warned or case.expect in summary, (problems, summary)
        assert case.column is None or not warned or case.column in warned[0][3]
    else:
        assert code == 0, out
        assert status and all(s == "valid" for s in status)
        assert case.check_value is not None
        values = [c.value for row in rows.iter_rows(min_row=2) for c in row]
        assert any(case.check_value(v) for v in values), values
