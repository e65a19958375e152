"""Load an .xlsx/.xlsm or .csv/.txt file into a table of cells exactly as the user typed them.

Nothing is guessed: text stays text (``0815`` keeps its zero), Excel dates, times and datetimes
stay date/time values, numbers stay numbers; the mapping stage converts explicitly. Each row
keeps the number the user sees in a spreadsheet program (the Excel row; for a CSV, the row Excel
shows it in: one a record, whatever line breaks its quoted cells hold). A file that cannot be used
raises :class:`~importer.core.errors.SourceFileError` naming the file.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import charset_normalizer
import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook

from ..core.errors import SourceFileError
from ..core.excel import (
    LIST_LABEL,
    RESULTS_SHEET,
    ROWS_SHEET,
    SUMMARY_SHEET,
    column_letter,
    outcome_positions,
    report_positions,
)
from ..core.i18n import _, every, number
from ..core.stopping import phase
from . import ics
from .xlsx_scan import ScanRefused, SheetFacts, WorkbookFacts, scan_workbook

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
HEADER_SEARCH_ROWS = 30
DELIMITERS = (";", ",", "\t", "|")


@dataclass(frozen=True)
class Limits:
    """Ceilings for hostile or absurd files (README, "Limits")."""

    max_bytes: int = 50 * 1024 * 1024
    max_rows: int = 200_000
    max_inflated: int = 512 * 1024 * 1024
    max_field_chars: int = 131_072
    max_columns: int = 16_000  # the report adds its columns; Excel stops at 16,384


@dataclass(frozen=True)
class LoadOptions:
    sheet: str | int | None = None  # name, or 1-based position
    header_row: int | None = None  # 1-based; found automatically when None
    encoding: str | None = None  # CSV; detected when None
    delimiter: str | None = None  # CSV; detected when None
    limits: Limits = field(default_factory=Limits)


@dataclass
class Table:
    """The cells of one sheet below its header. ``frame`` is object-typed, indexed by row."""

    path: Path
    frame: pd.DataFrame
    header_row: int
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    column_letters: dict[str, str] = field(default_factory=dict)  # header -> A, B, ... (xlsx)
    cell_errors: dict[tuple[int, str], str] = field(default_factory=dict)  # (row, header) -> why
    cell_codes: dict[tuple[int, str], str] = field(default_factory=dict)  # their codes if not
    cell_warnings: dict[tuple[int, str], str] = field(default_factory=dict)  # (row, header) -> why
    calendar: bool = False  # an .ics file: a row per event (importer.source.ics)
    warnings: list[str] = field(default_factory=list)
    # Our own workbook given as input ("results" or "report", see OWN_SHEETS): its data columns
    # are the frame, its own columns (Status, Appointment ID …) are set aside here, by their
    # message id (core.excel.STATUS …) and indexed by row as the frame is.
    own: str | None = None
    outcomes: pd.DataFrame | None = None
    # SHA-256 of the bytes these cells were parsed from (the file is read once: load_table)
    sha256: str = ""
    results_list: str | None = None  # the list our workbook's Summary names (results, report)

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    @property
    def row_numbers(self) -> list[int]:
        return [int(i) for i in self.frame.index]

    def records(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """(row number, cells) per row; far faster than ``itertuples``, which boxes every cell."""
        columns = [self.frame.iloc[:, i].to_numpy() for i in range(self.frame.shape[1])]
        return zip(self.row_numbers, zip(*columns, strict=True), strict=True)


def layout_cause(table: Table) -> str | None:
    """Why none of a CSV's columns match, when it is the reading: another delimiter than
    the one used, or UTF-8 read as Windows-1252 ("GanztÃ¤gig")."""
    if table.delimiter is None:
        return None
    header = " ".join(table.columns)
    for other, name in ((";", "';'"), (",", "','"), ("\t", _("tab")), ("|", "'|'")):
        if other != table.delimiter and header.count(other) >= 2 and len(table.columns) <= 2:
            return _(
                "the columns are separated by {found}, but the file was read with {used}; set "
                "`source.delimiter` in the mapping or use --delimiter"
            ).format(found=name, used=repr(table.delimiter))
    if table.encoding not in (None, "utf-8", "utf-8-sig") and any(
        mark in header for mark in ("Ã", "â€", "Â")
    ):
        return _(
            "the file is UTF-8 but was read as {encoding}; set `source.encoding: utf-8` in the "
            "mapping or use --encoding utf-8"
        ).format(encoding=table.encoding)
    return None


_UNSEEN = object()


class TypedCells:
    """A cell as the user typed it, by row number and column: for messages and reports.
    Each column is taken out of the frame once (``DataFrame.at`` costs ~10 µs a call)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.arrays: dict[str, Any] = {}  # column -> its cells (None: not a column of the file)
        self.position: dict[int, int] = {}

    def __call__(self, row: int, columns: tuple[str, ...]) -> Any:
        if not columns:
            return None
        cells = self.arrays.get(columns[0], _UNSEEN)
        if cells is _UNSEEN:
            frame = self.table.frame
            cells = frame[columns[0]].to_numpy() if columns[0] in frame.columns else None
            self.arrays[columns[0]] = cells
        if cells is None:
            return None
        if not self.position:
            self.position = {r: i for i, r in enumerate(self.table.row_numbers)}
        at = self.position.get(row)
        return None if at is None else cells[at]


def load_table(
    path: str | Path, options: LoadOptions | None = None, *, expected_columns: Sequence[str] = ()
) -> Table:
    """Read ``path``; ``expected_columns`` (the mapping's columns) help find sheet and header.

    The file is read once, here: every parser takes these bytes, and their SHA-256 is the
    table's (:attr:`Table.sha256`), so a report's hash describes exactly the rows checked."""
    path = Path(path)
    options = options or LoadOptions()
    name = str(path)
    limit = options.limits.max_bytes
    try:
        size = path.stat().st_size
        data = b""
        if 0 < size <= limit:
            with path.open("rb") as f:
                data = f.read(limit + 1)
            size = len(data)  # the file as read, should it have changed since
    except FileNotFoundError:
        raise SourceFileError(_("file not found"), file=name, code="file-not-found") from None
    except OSError as exc:
        raise SourceFileError(
            _("cannot read the file ({why})").format(why=exc.strerror), file=name
        ) from None
    if size == 0:
        raise SourceFileError(_("the file is empty"), file=name, code="file-empty")
    if size > limit:
        raise SourceFileError(
            _("the file has {size} bytes, more than the limit of {limit}; split it").format(
                size=number(size), limit=number(options.limits.max_bytes)
            ),
            file=name,
            code="file-too-large",
        )
    phase("read")
    table = _parse(path, data, options, expected_columns)
    table.sha256 = hashlib.sha256(data).hexdigest()
    return table


def _parse(path: Path, data: bytes, options: LoadOptions, expected: Sequence[str]) -> Table:
    head = data[:8]
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _ole2_error(path, data)
    if ics.is_calendar(path, head):
        return _load_calendar(path, data, options)
    if head.startswith(b"PK\x03\x04") or path.suffix.lower() in EXCEL_SUFFIXES:
        if not head.startswith(b"PK"):
            raise SourceFileError(
                _("unrecognised file type: not an Excel .xlsx workbook"),
                file=str(path),
                code="file-type-unknown",
            )
        return _load_workbook(path, data, options, expected)
    return _load_text(path, data, options, expected)


def sheet_names(path: str | Path) -> list[str]:
    """The sheets of a workbook, in their order ([] for a text file or an unreadable one: loading
    it then says why)."""
    path = Path(path)
    try:
        data = path.read_bytes()
        if not data.startswith(b"PK"):
            return []
        return list(_calamine(lambda: _open_workbook(data)).sheet_names)
    except (OSError, _Unreadable):
        return []


class _Unreadable(Exception):
    """calamine could not read the workbook (its error, or a Rust panic)."""


def _calamine(call: Callable[[], Any]) -> Any:
    """Run a calamine call; its errors and its panics become :class:`_Unreadable`."""
    try:
        return call()
    except (CalamineError, OSError, ValueError) as exc:
        raise _Unreadable(str(exc)) from None
    except BaseException as exc:
        # pyo3 turns a Rust panic into PanicException, a BaseException that cannot be imported.
        if type(exc).__name__ != "PanicException":
            raise
        raise _Unreadable(_("the reader gave up on this file")) from None


def _ole2_error(path: Path, data: bytes) -> SourceFileError:
    if "EncryptedPackage".encode("utf-16-le") in data:
        return SourceFileError(
            _("the workbook is password-protected; remove the password in Excel and try again"),
            file=str(path),
            code="file-encrypted",
        )
    return SourceFileError(
        _("old Excel 97-2003 format (.xls); open it in Excel and save it as .xlsx"),
        file=str(path),
        code="file-legacy-xls",
    )


# --- workbooks ---------------------------------------------------------------------------------
def _load_workbook(path: Path, data: bytes, options: LoadOptions, expected: Sequence[str]) -> Table:
    name = str(path)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            facts = scan_workbook(
                archive, max_rows=options.limits.max_rows, max_inflated=options.limits.max_inflated
            )
    except (zipfile.BadZipFile, NotImplementedError, EOFError, OSError, ValueError, zlib.error):
        raise SourceFileError(
            _("the file is damaged or incomplete (not a valid .xlsx)"),
            file=name,
            code="file-damaged",
        ) from None
    except ScanRefused as exc:
        raise SourceFileError(exc.message, file=name, code=f"file-{exc.code}") from None
    try:
        workbook = _calamine(lambda: _open_workbook(data))
    except _Unreadable as exc:
        raise SourceFileError(
            _("the workbook cannot be read ({why})").format(why=exc),
            file=name,
            code="file-damaged",
        ) from None
    own, own_sheet = _own_sheet(workbook, facts)
    results_list = None
    if own is not None:  # its list, as its Summary names it: from this same read
        with contextlib.suppress(_Unreadable):
            results_list = _calamine(lambda: _list_in(workbook))
    if own_sheet is not None:
        options = replace(options, sheet=own_sheet, header_row=1)
    sheet = _choose_sheet(workbook, facts, options, expected, name)
    try:
        rows = _calamine(
            lambda: workbook.get_sheet_by_name(sheet.name).to_python(skip_empty_area=False)
        )
    except _Unreadable as exc:
        raise SourceFileError(
            _("the sheet cannot be read ({why})").format(why=exc),
            file=name,
            sheet=sheet.name,
            code="file-damaged",
        ) from None
    table = _table_from_rows(
        path,
        rows,
        list(range(1, len(rows) + 1)),
        options,
        expected,
        sheet=sheet.name,
        letters=True,
        own=own,
    )
    _apply_sheet_facts(table, sheet, facts)
    table.results_list = results_list
    return table


def _choose_sheet(
    workbook: CalamineWorkbook,
    facts: WorkbookFacts,
    options: LoadOptions,
    expected: Sequence[str],
    name: str,
) -> SheetFacts:
    by_name = {s.name: s for s in facts.sheets}
    listing = ", ".join(repr(s.name) for s in facts.sheets)
    if isinstance(options.sheet, int):
        if not 1 <= options.sheet <= len(facts.sheets):
            raise SourceFileError(
                _("there is no sheet number {n}; sheets: {sheets}").format(
                    n=options.sheet, sheets=listing
                ),
                file=name,
                code="sheet-not-found",
            )
        return facts.sheets[options.sheet - 1]
    if options.sheet is not None:
        if options.sheet not in by_name:
            raise SourceFileError(
                _("there is no sheet {name}; sheets: {sheets}").format(
                    name=repr(options.sheet), sheets=listing
                ),
                file=name,
                code="sheet-not-found",
            )
        return by_name[options.sheet]
    visible = [s for s in facts.sheets if s.visible]
    candidates = [s for s in visible if s.data_rows > 0] or visible
    if len(candidates) > 1 and expected:
        holding = [s for s in candidates if _find_header(_top_rows(workbook, s.name), expected)]
        candidates = holding or candidates
    if len(candidates) != 1:
        raise SourceFileError(
            _(
                "several sheets could hold the data ({sheets}); name one with --sheet or "
                "`source.sheet` in the mapping"
            ).format(sheets=listing),
            file=name,
            code="sheet-ambiguous",
        )
    return candidates[0]


def _open_workbook(data: bytes) -> CalamineWorkbook:
    """The workbook from the bytes read once (whatever the file's name: the safety scan has
    already read them as an .xlsx)."""
    return CalamineWorkbook.from_filelike(io.BytesIO(data))


# Our own workbooks are valid inputs: a results workbook (its sheet "Results") and a check report
# (its sheet "Rows"), in either language; the data sits on that sheet, header in row 1, between
# our columns, which these find.
OWN_SHEETS: dict[str, tuple[str, Callable[[Sequence[object]], dict[str, int] | None]]] = {
    "results": (RESULTS_SHEET, outcome_positions),
    "report": (ROWS_SHEET, report_positions),
}


def _own_sheet(workbook: CalamineWorkbook, facts: WorkbookFacts) -> tuple[str | None, str | None]:
    """(kind, sheet) of our own workbook, if this is one, else (None, None). It is read whatever
    sheet the mapping names (the one of the file it came from)."""
    for kind, (message, positions) in OWN_SHEETS.items():
        names = every(message)
        for sheet in facts.sheets:
            if sheet.name in names:
                top = _top_rows(workbook, sheet.name)
                if top and positions([normalise_header(c) for c in top[0]]) is not None:
                    return kind, sheet.name
    return None, None


def _top_rows(workbook: CalamineWorkbook, sheet: str) -> list[list[Any]]:
    try:
        rows: list[list[Any]] = _calamine(
            lambda: workbook.get_sheet_by_name(sheet).to_python(
                skip_empty_area=False, nrows=HEADER_SEARCH_ROWS
            )
        )
    except _Unreadable:
        return []
    return rows


def _apply_sheet_facts(table: Table, sheet: SheetFacts, facts: WorkbookFacts) -> None:
    header_of = {letter: header for header, letter in table.column_letters.items()}
    rows = set(table.row_numbers)
    for (row, letter), value in sheet.error_cells.items():
        if row in rows and letter in header_of:
            table.cell_errors[(row, header_of[letter])] = _(
                "the cell holds the Excel error {error}; fix the formula"
            ).format(error=value)
    for row, letter in sheet.formula_without_value:
        if row in rows and letter in header_of:
            table.cell_errors[(row, header_of[letter])] = _(
                "a formula without a saved value; open the file in Excel and save it again"
            )
    hidden = [r for r in sheet.hidden_rows if r in rows]
    if hidden:
        shown = ", ".join(map(str, hidden[:10])) + (" …" if len(hidden) > 10 else "")
        table.warnings.append(f"{len(hidden)} hidden or filtered rows are included (rows {shown})")
    if facts.has_macros or table.path.suffix.lower() == ".xlsm":
        table.warnings.append(
            "the workbook contains macros; they are never run, only the data is read"
        )


# --- text files --------------------------------------------------------------------------------
def _forced(name: str, data: bytes, encoding: str) -> tuple[str, str]:
    """The file read in the encoding the mapping (or --encoding) names; where its bytes say
    otherwise (a UTF-16 byte-order mark, bytes that encoding has not), said in our words."""
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise SourceFileError(
            _("{encoding} is not an encoding known here (utf-8, cp1252, utf-16, latin-1 …)").format(
                encoding=repr(encoding)
            ),
            file=name,
            code="file-encoding",
        ) from None
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (
        b"\x00" in data[:64] and data[:64].count(b"\x00") * 3 >= len(data[:64])
    )
    if utf16 and "16" not in encoding and "32" not in encoding:
        raise SourceFileError(
            _(
                "the file is UTF-16 (as Excel's “Unicode text” writes it), but it was to be read "
                "as {encoding}; set `source.encoding: utf-16` in the mapping, or remove the line "
                "(the encoding is detected)"
            ).format(encoding=encoding),
            file=name,
            code="file-encoding",
        )
    if "16" not in encoding and "32" not in encoding and (binary := _binary(name, data)):
        raise binary
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceFileError(
            _(
                "line {line}: the byte {byte} is not a character in {encoding}; the file is in "
                "another encoding (or not a text file). Set `source.encoding` to the one it has, "
                "or remove the line (the encoding is detected)"
            ).format(line=line, byte=f"0x{data[exc.start]:02X}", encoding=encoding),
            file=name,
            code="file-encoding",
        ) from None


# Bytes no text file holds (control characters other than tab, line breaks, form feed and
# DOS's end-of-file mark; NUL has a message of its own); a file with many of them is binary,
# not a CSV (a stray vertical tab in a cell is only taken out of its text).
_CONTROL = bytes(b for b in range(1, 32) if b not in (9, 10, 12, 13, 26))


def _binary(name: str, data: bytes) -> SourceFileError | None:
    sample = data[:65_536]
    control = len(sample) - len(sample.translate(None, _CONTROL))
    if control > 16 and control * 50 > len(sample):  # over 2 %: random bytes have 10 %
        return SourceFileError(
            _(
                "this is not a text file: it holds binary data ({n} control bytes in its first "
                "{size}); export the list as CSV (UTF-8) or save it as an Excel .xlsx workbook"
            ).format(n=number(control), size=number(len(sample))),
            file=name,
            code="file-type-unknown",
        )
    return None


def _decode(path: Path, data: bytes, encoding: str | None) -> tuple[str, str]:
    name = str(path)
    if encoding:
        return _forced(name, data, encoding)
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError:
                raise SourceFileError(
                    _("the file starts like {codec} but is not").format(codec=codec),
                    file=name,
                    code="file-encoding",
                ) from None
    if (binary := _binary(name, data)) is not None:
        raise binary
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise SourceFileError(
            _("line {line} contains a NUL byte; this is not a text file").format(line=line),
            file=name,
            code="file-nul-byte",
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        pass
    # neither UTF-8 nor Windows-1252 (a DOS export in cp850, a Mac one, ...): the readings
    # charset-normalizer finds plausible, the one with the most German letters first (a short
    # file leaves its own ranking a coin toss between cp850 and Mac Roman); said as a guess
    readings = charset_normalizer.from_bytes(data[:200_000], cp_isolation=list(GUESSED))
    best = max(readings, key=lambda r: _german(str(r)), default=None)
    if best is not None:
        try:
            return data.decode(best.encoding), best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    return data.decode("latin-1"), "latin-1"


# What German offices' older programs write, beside UTF-8 and Windows-1252.
GUESSED = ("cp850", "cp437", "mac_roman", "iso8859_15")


def _german(text: str) -> int:
    """How German a reading looks: its umlauts and ß, less the other non-ASCII letters."""
    german = sum(text.count(c) for c in "äöüÄÖÜß")
    other = sum(1 for c in text if ord(c) > 127 and c not in "äöüÄÖÜß€§°–„“”’")
    return german - other


def _sniff_delimiter(text: str) -> str:
    """The candidate that splits the first lines into the same number (>1) of fields."""
    lines = [ln for ln in text.splitlines()[:HEADER_SEARCH_ROWS] if ln.strip()]
    best, best_score = ";", -1
    for delimiter in DELIMITERS:
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=delimiter)]
        except csv.Error:
            continue
        widest = max(counts, default=1)
        if widest < 2:
            continue
        score = sum(1 for c in counts if c == widest) * widest
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _load_text(path: Path, data: bytes, options: LoadOptions, expected: Sequence[str]) -> Table:
    name = str(path)
    stripped = data.lstrip()[:16].lower()
    if stripped.startswith((b"%pdf", b"<html", b"<!doctype", b"<?xml", b"{\\rtf")):
        raise SourceFileError(
            _("unrecognised file type: this is not a CSV or Excel file"),
            file=name,
            code="file-type-unknown",
        )
    text, encoding = _decode(path, data, options.encoding)
    if not text.strip():
        raise SourceFileError(_("the file is empty"), file=name, code="file-empty")
    delimiter = options.delimiter or _sniff_delimiter(text)
    # The csv module's field limit is process-wide: set for this read, then given back. It is
    # the whole text, so that a cell over our limit is measured and named, not cut off.
    previous_limit = csv.field_size_limit(max(len(text), options.limits.max_field_chars) + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[Any]] = []
    numbers: list[int] = []
    line = 1
    longest = options.limits.max_field_chars
    try:
        for record in reader:
            if record and max(map(len, record)) > longest:
                raise _field_too_long(name, rows, record, longest)
            rows.append(record)
            # The row Excel shows when it opens the file: one a record, also when a quoted
            # cell holds line breaks (the text line where it starts would be higher).
            numbers.append(len(rows))
            line = reader.line_num + 1
            if len(rows) > options.limits.max_rows:
                raise SourceFileError(
                    _("more than {limit} rows, the limit; split the file").format(
                        limit=number(options.limits.max_rows)
                    ),
                    file=name,
                    code="file-too-many-rows",
                )
    except csv.Error as exc:
        raise SourceFileError(
            _("line {line}: {why} (a quote not closed, or a field too long?)").format(
                line=line, why=exc
            ),
            file=name,
            code="csv-malformed",
        ) from None
    finally:
        csv.field_size_limit(previous_limit)
    table = _table_from_rows(path, rows, numbers, options, expected, text_only=True)
    table.encoding, table.delimiter = encoding, delimiter
    if encoding in ("cp1252", "latin-1") and not options.encoding:
        table.warnings.append(
            f"the file is not UTF-8; it was read as {encoding} (Windows "
            "Western European). Set `source.encoding` if that is wrong"
        )
    elif not options.encoding and encoding not in ("utf-8", "utf-8-sig", "utf-16"):
        table.warnings.append(
            f"the file is neither UTF-8 nor Windows-1252; it was read as {encoding} (a guess "
            "from its bytes). Set `source.encoding` if that is wrong"
        )
    header_width = len(table.frame.columns) + (
        0 if table.outcomes is None else len(table.outcomes.columns)  # ours, set aside
    )
    bad = [
        n
        for r, n in zip(rows, numbers, strict=True)
        if n > table.header_row and len(r) != header_width and any(str(c).strip() for c in r)
    ]
    if bad:
        shown = ", ".join(map(str, bad[:5])) + (" …" if len(bad) > 5 else "")
        raise SourceFileError(
            _(
                "inconsistent column count: the header has {n} columns separated by {delimiter}, "
                "but rows {rows} do not (wrong delimiter or an unclosed quote?)"
            ).format(n=header_width, delimiter=repr(delimiter), rows=shown),
            file=name,
            row=bad[0],
            code="csv-column-count",
        )
    return table


def _field_too_long(
    name: str, rows: list[list[Any]], record: list[str], limit: int
) -> SourceFileError:
    """A cell longer than the limit: its row, its column (by the first row's name) and its real
    length."""
    at = max(range(len(record)), key=lambda i: len(record[i]))
    header = rows[0] if rows else []
    column = str(header[at]).strip() if at < len(header) and str(header[at]).strip() else None
    return SourceFileError(
        _(
            "the cell has {length} characters, more than the {limit} a cell may hold (a field too "
            "long, or a quote not closed?)"
        ).format(length=number(len(record[at])), limit=number(limit)),
        file=name,
        row=len(rows) + 1,
        column=column or _("column {n}").format(n=at + 1),
        code="csv-field-too-long",
    )


# --- calendar files ---------------------------------------------------------------------------
def _load_calendar(path: Path, data: bytes, options: LoadOptions) -> Table:
    """An iCalendar file: one row per event, its properties as columns
    (:mod:`importer.source.ics`)."""
    events = ics.read_events(path, data, options.limits.max_rows)
    rows = range(2, len(events.rows) + 2)
    frame = pd.DataFrame(
        {c: [r[c] for r in events.rows] for c in ics.COLUMNS},
        dtype=object,
        index=pd.Index(list(rows), name="row"),
    )
    return Table(
        path=path,
        frame=frame,
        header_row=1,
        encoding=events.encoding,
        cell_errors={k: why for k, (_code, why) in events.errors.items()},
        cell_codes={k: code for k, (code, _why) in events.errors.items()},
        cell_warnings=events.warnings,
        calendar=True,
    )


# --- both --------------------------------------------------------------------------------------
def normalise_header(value: Any) -> str:
    text = "" if value is None else str(value)
    text = unicodedata.normalize("NFKC", text.replace("\ufeff", ""))
    return " ".join(text.split())


def header_key(value: Any) -> str:
    """How headers are compared: normalised, case-insensitive."""
    return normalise_header(value).casefold()


def _is_blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _find_header(rows: Sequence[Sequence[Any]], expected: Sequence[str]) -> list[int]:
    """Indexes of the rows (among the first ones) that hold every expected column name."""
    wanted = {header_key(c) for c in expected}
    return [
        i
        for i, row in enumerate(rows[:HEADER_SEARCH_ROWS])
        if wanted <= {header_key(c) for c in row if not _is_blank(c)}
    ]


def _guess_header(rows: Sequence[Sequence[Any]]) -> int | None:
    """Without a mapping: the first row of text cells at least half as wide as the widest."""
    top = rows[:HEADER_SEARCH_ROWS]
    width = max((sum(not _is_blank(c) for c in r) for r in top), default=0)
    for i, row in enumerate(top):
        filled = [c for c in row if not _is_blank(c)]
        if len(filled) >= max(1, width / 2) and all(isinstance(c, str) for c in filled):
            return i
    return None


def _table_from_rows(
    path: Path,
    rows: list[list[Any]],
    numbers: list[int],
    options: LoadOptions,
    expected: Sequence[str],
    *,
    sheet: str | None = None,
    letters: bool = False,
    text_only: bool = False,
    own: str | None = None,
) -> Table:
    name = str(path)
    index = _header_index(name, rows, numbers, options, expected, sheet)
    header = [normalise_header(c) for c in rows[index]]
    if own is None:  # our workbook saved as CSV, or its sheet under another name
        own = next((kind for kind, (_m, find) in OWN_SHEETS.items() if find(header)), None)
    ours = (OWN_SHEETS[own][1](header) or {}) if own else {}
    body = [r for r in rows[index + 1 :]]
    body_numbers = numbers[index + 1 :]
    keep = [i for i, r in enumerate(body) if not all(_is_blank(c) for c in r)]
    width = max([len(header), *(len(body[i]) for i in keep)]) if keep else len(header)
    if width > options.limits.max_columns:
        raise SourceFileError(
            _(
                "{n} columns, more than the {limit} allowed (a spreadsheet holds at most "
                "16,384); is the delimiter right?"
            ).format(n=number(width), limit=number(options.limits.max_columns)),
            file=name,
            sheet=sheet,
            code="file-too-many-columns",
        )
    header += [""] * (width - len(header))
    seen = _named_columns(name, header, body, keep, numbers[index], sheet, letters, ours)
    if not keep:
        raise SourceFileError(
            _("no data rows found below the header"),
            file=name,
            sheet=sheet,
            row=numbers[index],
            code="no-data-rows",
        )
    used = sorted(seen.values())
    kept = [[*body[i], *[None] * (width - len(body[i]))] for i in keep]  # all as wide
    cells = list(zip(*kept, strict=True))  # column by column: far faster than cell by cell
    frame = pd.DataFrame(
        {header[c]: _without_blanks(cells[c], text_only) for c in used},
        dtype=object,
        index=pd.Index([body_numbers[i] for i in keep], name="row"),
    )
    outcomes = None
    if ours:  # our own columns, set aside by their message ids
        outcomes = pd.DataFrame(
            {m: _without_blanks(cells[c], text_only) for m, c in ours.items()},
            dtype=object,
            index=frame.index,
        )
    return Table(
        path=path,
        frame=frame,
        header_row=numbers[index],
        sheet=sheet,
        column_letters={header[c]: column_letter(c) for c in used} if letters else {},
        own=own if ours else None,
        outcomes=outcomes,
    )


def _header_index(
    name: str,
    rows: list[list[Any]],
    numbers: list[int],
    options: LoadOptions,
    expected: Sequence[str],
    sheet: str | None,
) -> int:
    """Where the header row is: the one asked for, else the one naming the mapping's
    columns, else the first that looks like a header."""
    if options.header_row is not None:
        at = [i for i, n in enumerate(numbers) if n == options.header_row]
        if not at:
            raise SourceFileError(
                _("there is no row {row}").format(row=options.header_row),
                file=name,
                sheet=sheet,
                code="header-not-found",
            )
        return at[0]
    found = _find_header(rows, expected) if expected else []
    if len(found) > 1:
        raise SourceFileError(
            _(
                "rows {rows} all look like the header; set `source.header_row` in the mapping "
                "or use --header-row"
            ).format(rows=", ".join(str(numbers[i]) for i in found)),
            file=name,
            sheet=sheet,
            code="header-ambiguous",
        )
    guessed = found[0] if found else _guess_header(rows)
    if guessed is None:
        raise SourceFileError(
            _(
                "no header row found in the first rows; set `source.header_row` in the "
                "mapping or use --header-row"
            ),
            file=name,
            sheet=sheet,
            code="header-not-found",
        )
    return guessed


def _named_columns(
    name: str,
    header: list[str],
    body: list[list[Any]],
    keep: list[int],
    header_number: int,
    sheet: str | None,
    letters: bool,
    ours: dict[str, int],
) -> dict[str, int]:
    """Every column with data has a name, and no name twice: header key -> column. Our own
    columns (``ours``) are left out: a calendar's STATUS beside our Status is no clash."""
    seen: dict[str, int] = {}
    skip = set(ours.values())
    for col, title in enumerate(header):
        if col in skip:
            continue
        where = column_letter(col) if letters else f"column {col + 1}"
        if not title:
            has_data = any(col < len(body[i]) and not _is_blank(body[i][col]) for i in keep)
            if has_data:
                raise SourceFileError(
                    _(
                        "header cell {cell} is empty but the column below holds data (a merged "
                        "header cell?); give it a name"
                    ).format(cell=f"{where}{header_number if letters else ''}"),
                    file=name,
                    sheet=sheet,
                    row=header_number,
                    code="header-empty",
                )
            continue
        key = header_key(title)
        if key in seen:
            first = column_letter(seen[key]) if letters else f"column {seen[key] + 1}"
            raise SourceFileError(
                _("column {title} appears twice ({first} and {second})").format(
                    title=repr(title), first=first, second=where
                ),
                file=name,
                sheet=sheet,
                row=header_number,
                code="header-duplicate",
            )
        seen[key] = col
    return seen


def _without_blanks(column: Sequence[Any], text_only: bool) -> list[Any]:
    """Blank cells (empty or only spaces) become None; everything else stays as it is."""
    if text_only:  # CSV cells: every one is a str (and this is twice as fast)
        return [v if v and not v.isspace() else None for v in column]
    return [
        None if v is None or (v.__class__ is str and (not v or v.isspace())) else v for v in column
    ]


def _list_in(book: CalamineWorkbook) -> str | None:
    """The list our workbook's Summary names (calamine errors propagate)."""
    names = every(SUMMARY_SHEET)
    sheet = next((name for name in book.sheet_names if name in names), None)
    if sheet is None:
        return None
    rows = book.get_sheet_by_name(sheet).to_python()
    labels = every(LIST_LABEL)
    for row in rows:
        if len(row) > 1 and row[0] in labels and isinstance(row[1], str) and row[1].strip():
            return row[1].strip()
    return None
