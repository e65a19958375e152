"""A safety and fact scan of an .xlsx container, before any spreadsheet library parses it.

Streams every zip member once, in chunks, with a cap on the bytes it inflates (zip bombs whose
declared sizes lie are stopped too), refuses DTDs (entity bombs, XXE), and collects per
worksheet what the cell reader hides: data-row count (stopping at the row limit), hidden rows,
Excel error cells, formulas without a cached value, the 1904 flag.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from ..core.i18n import N_, _
from ..core.i18n import number as shown_number

CHUNK = 1 << 20
_ROW_ATTRS = re.compile(rb"<row\b([^>]*)>")
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_HIDDEN = re.compile(rb'\bhidden="(1|true)"')
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_ERROR_VALUE = re.compile(rb"<v>([^<]*)</v>")
_HAS_VALUE = re.compile(rb"<v>[^<]+</v>|<is>")
NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}


class ScanRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message
        super().__init__(message)


@dataclass
class SheetFacts:
    name: str
    part: str
    visible: bool = True
    data_rows: int = 0  # rows holding at least one value (header and titles included)
    hidden_rows: list[int] = field(default_factory=list)
    error_cells: dict[tuple[int, str], str] = field(default_factory=dict)  # (row, col) -> #REF!
    formula_without_value: set[tuple[int, str]] = field(default_factory=set)


@dataclass
class WorkbookFacts:
    sheets: list[SheetFacts]
    date1904: bool
    has_macros: bool


_ENCRYPTED = N_("the workbook is password-protected; remove the password in Excel and try again")
_FORBIDDEN_XML = N_(
    "the file contains forbidden XML constructs (a DTD or entity declarations); it is not read"
)
INDEX_LIMIT = 16 * 1024 * 1024  # workbook.xml and its relations are small in real files


def _index_part(archive: zipfile.ZipFile, name: str) -> Any:
    """Parse one small part of the workbook index; every failure is a refusal, never a crash."""
    try:
        info = archive.getinfo(name)
        if info.file_size > INDEX_LIMIT:
            raise ScanRefused(
                "too-large", _("the workbook index {name} is absurdly large").format(name=name)
            )
        return SafeET.fromstring(archive.read(info))
    except KeyError:
        raise ScanRefused(
            "not-a-workbook", _("not an Excel workbook (no {name})").format(name=name)
        ) from None
    except RuntimeError:  # zipfile: "is encrypted, password required for extraction"
        raise ScanRefused("encrypted", _(_ENCRYPTED)) from None
    except DefusedXmlException:
        raise ScanRefused("forbidden-xml", _(_FORBIDDEN_XML)) from None
    except (
        SafeET.ParseError,
        zipfile.BadZipFile,
        EOFError,
        OSError,
        NotImplementedError,
        zlib.error,
        UnicodeDecodeError,
    ):
        raise ScanRefused(
            "damaged", _("the file is damaged or incomplete (its index cannot be read)")
        ) from None


def _sheet_list(archive: zipfile.ZipFile) -> tuple[list[SheetFacts], bool]:
    workbook = _index_part(archive, "xl/workbook.xml")
    rels = _index_part(archive, "xl/_rels/workbook.xml.rels")
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("rel:Relationship", NS)}
    sheets = []
    for sheet in workbook.iterfind("m:sheets/m:sheet", NS):
        target = targets.get(sheet.get(f"{{{NS['r']}}}id"), "")
        part = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl", target))
        sheets.append(
            SheetFacts(
                sheet.get("name", ""), part, visible=sheet.get("state", "visible") == "visible"
            )
        )
    pr = workbook.find("m:workbookPr", NS)
    date1904 = pr is not None and pr.get("date1904") in ("1", "true")
    return sheets, date1904


def _scan_sheet(stream: IO[bytes], facts: SheetFacts, max_rows: int, budget: list[int]) -> None:
    carry = b""
    head, rows_done = True, False
    while chunk := stream.read(CHUNK):
        _spend(budget, len(chunk))  # the rest of the sheet still counts against the budget
        if head:
            _refuse_dtd(chunk)
            head = False
        if rows_done:
            continue
        segments = (carry + chunk).split(b"</row>")
        carry = segments.pop()
        for segment in segments:
            _scan_row(segment, facts, max_rows)
        rows_done = b"</sheetData>" in carry


def _scan_row(segment: bytes, facts: SheetFacts, max_rows: int) -> None:
    if b"<v" not in segment and b"<is>" not in segment and b"<f" not in segment:
        return
    facts.data_rows += 1
    if facts.data_rows > max_rows:
        raise ScanRefused(
            "too-many-rows",
            _(
                "sheet {sheet} has more than {limit} rows with data, the limit; split the file"
            ).format(sheet=repr(facts.name), limit=shown_number(max_rows)),
        )
    tags = _ROW_ATTRS.findall(segment)
    attrs = tags[-1] if tags else b""
    number = _ROW_NUMBER.search(attrs)
    row = int(number.group(1)) if number else facts.data_rows
    if _HIDDEN.search(attrs):
        facts.hidden_rows.append(row)
    if b't="e"' in segment or b"<f" in segment:
        for cell_attrs, inner in _CELL.findall(segment):
            ref = _CELL_REF.search(cell_attrs)
            if ref is None:
                continue
            where = (int(ref.group(2)), ref.group(1).decode())
            if b't="e"' in cell_attrs:
                value = _ERROR_VALUE.search(inner or b"")
                facts.error_cells[where] = value.group(1).decode() if value else "#ERROR"
            elif b"<f" in (inner or b"") and not _HAS_VALUE.search(inner):
                facts.formula_without_value.add(where)


def _refuse_dtd(head: bytes) -> None:
    # A DTD can only stand before the root element; workbooks never need one.
    if b"<!DOCTYPE" in head[:65536] or b"<!ENTITY" in head[:65536]:
        raise ScanRefused("forbidden-xml", _(_FORBIDDEN_XML))


def _spend(budget: list[int], amount: int) -> None:
    budget[0] -= amount
    if budget[0] < 0:
        raise ScanRefused(
            "too-large",
            _(
                "the workbook inflates to more than the allowed size (a zip bomb, or far too "
                "large); split it"
            ),
        )


def scan_workbook(archive: zipfile.ZipFile, *, max_rows: int, max_inflated: int) -> WorkbookFacts:
    declared = sum(info.file_size for info in archive.infolist())
    if declared > max_inflated:
        raise ScanRefused(
            "too-large",
            _(
                "the workbook would inflate to {size} bytes, more than the limit of {limit}; "
                "split it"
            ).format(size=shown_number(declared), limit=shown_number(max_inflated)),
        )
    sheets, date1904 = _sheet_list(archive)
    by_part = {s.part: s for s in sheets}
    budget = [max_inflated]
    try:
        for info in archive.infolist():
            if not info.filename:
                raise ScanRefused("damaged", _("the file is damaged (a zip member without a name)"))
            if info.filename.endswith("/"):
                continue
            with archive.open(info) as stream:
                if info.filename in by_part:
                    _scan_sheet(stream, by_part[info.filename], max_rows, budget)
                    continue
                first = True
                while chunk := stream.read(CHUNK):
                    _spend(budget, len(chunk))
                    if first and info.filename.endswith((".xml", ".rels", ".vml")):
                        _refuse_dtd(chunk)
                    first = False
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError, zlib.error) as exc:
        raise ScanRefused(
            "damaged", _("the file is damaged or incomplete ({why})").format(why=exc)
        ) from None
    except RuntimeError:
        raise ScanRefused("encrypted", _(_ENCRYPTED)) from None
    has_macros = any(n.endswith("vbaProject.bin") for n in archive.namelist())
    return WorkbookFacts(sheets, date1904, has_macros)
