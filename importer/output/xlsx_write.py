"""A small, fast writer for the .xlsx files we produce: report, results and undo workbooks.

Why not a library: the report of a 100,000-row file is about two million cells, and the
writers that support fills and comments (openpyxl, XlsxWriter) spend 10-25 s on the
bookkeeping of a general spreadsheet model. Our sheets are simple (text, numbers, dates, one
red style, notes), so each cell is one string template here. The parts and their attributes
follow what XlsxWriter writes (which copies Excel's own output), so Excel, LibreOffice,
openpyxl and calamine read them.

The Excel rules it follows, and the test (tests/test_xlsx_write.py) that proves each:

- Text is always an inline string, never a formula, URL or number
  (``test_text_survives_exactly_as_text``, and test_hostile_text.py with 100 hostile strings).
- Characters XML cannot hold are written in Excel's ``_xHHHH_`` escape, and a literal
  ``_xHHHH_`` is protected, so any Python string survives (``test_any_text_round_trips``,
  ``test_characters_xml_cannot_hold_do_not_break_the_file``).
- Numbers, booleans, dates, times and durations keep their kind; dates before 1900 are text,
  never a wrong date (``test_values_keep_their_kind``).
- Text over the cell limit of 32,767 characters is cut with a visible marker
  (``test_overlong_text_is_cut_with_a_marker``).
- Faulty cells are red with a note, also when empty; notes on several sheets
  (``test_faulty_cells_are_red_with_a_note_also_when_empty``,
  ``test_thousands_of_notes_on_two_sheets``).
- Every part is well-formed XML and declared in ``[Content_Types].xml``; sheet names are
  escaped (``test_every_part_is_well_formed_and_declared``,
  ``test_sheet_names_are_escaped_in_the_index``).
- Rows stream to a temporary file, so memory does not grow with the sheet; the workbook is
  written atomically (:mod:`importer.output.workbook`).
- Rows are made a block at a time, column by column where the rows of a block are alike
  (a column of plain text, counts or outcomes is one list comprehension; its texts are checked
  for anything to escape all at once), and they are byte for byte the rows written cell by
  cell through :func:`cell`
  (``test_rows_written_column_by_column_are_the_rows_written_cell_by_cell``).

The choice is measured against XlsxWriter in ``bench/writer_bench.py``.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from operator import itemgetter
from pathlib import Path
from typing import IO, Any

from ..core.excel import CELL_LIMIT, column_letter
from ..core.stopping import phase

EXCEL_CELL_LIMIT = CELL_LIMIT
COMMENT_LIMIT = 30_000
_CUT = " …[cut: the cell held more than Excel's 32,767 characters]"
_DEFAULT_WIDTH = 8.43
_ROW_PX = 20  # the default row height, 15 pt
_NOTE_PX = (320, 111)  # note box: Excel's 128 x 74 px, widened for our longer messages
_CHUNK_ROWS = 2_000
_BLOCK_ROWS = 250  # rows written column by column at once: their cells stay in the cache
# Zip level 1 deflates ~3x faster than the default 6 for a ~20% larger file.
_ZIP_LEVEL = 1

# --- styles: a fixed table, indexed by the kind of value and whether the cell is faulty ---
_NUMBER_FORMATS = {"datetime": "dd.mm.yyyy hh:mm", "date": "dd.mm.yyyy", "time": "hh:mm"}
_NUMBER_FORMATS["duration"] = "[h]:mm"
HEADER_STYLE = 1
# plain 0/2, then each number format as (good, bad) pairs from 3 on
_STYLE = {("plain", False): 0, ("plain", True): 2}
for _i, _kind in enumerate(_NUMBER_FORMATS):
    _STYLE[(_kind, False)], _STYLE[(_kind, True)] = 3 + 2 * _i, 4 + 2 * _i
WRAP_STYLE = 3 + 2 * len(_NUMBER_FORMATS)  # text that wraps inside its column (messages)
# An outcome's fill, as the traffic light Excel's own "Good / Neutral / Bad" styles show.
FILLS = {"good": ("C6EFCE", "006100"), "neutral": ("FFEB9C", "9C5700"), "bad": ("FFC7CE", "9C0006")}
_FILL_STYLE = {name: WRAP_STYLE + 1 + i for i, name in enumerate(FILLS)}
LEFT_STYLE = WRAP_STYLE + 1 + len(FILLS)
# Characters a cell holds for sure: Excel counts UTF-16 units, at most two per character.
_SAFE_LENGTH = CELL_LIMIT // 2

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument"


@dataclass(frozen=True)
class Filled:
    """A cell value shown on a coloured fill (one of :data:`FILLS`): a row's outcome."""

    value: str
    fill: str

    @functools.cached_property
    def xml(self) -> str:
        """The cell after its reference: made once, written for every row that shows it."""
        return (
            f' s="{_FILL_STYLE[self.fill]}" t="inlineStr"><is>{text_element(self.value)}</is></c>'
        )


@dataclass(frozen=True)
class Left:
    """A number shown left-aligned: a count beside its label, not at the far edge of a wide
    column of sentences."""

    value: int | float


@dataclass
class Sheet:
    """One worksheet: an optional header row, then rows of (values, {column: note}).

    A column with a note is a faulty cell: filled red, the note attached. Columns without a
    width in ``widths`` are sized from the header and the first rows' content; ``wrap``
    columns wrap their text; ``frozen`` columns stay in view (with the header row);
    ``links`` are (row, column, place in the workbook) for cells that jump elsewhere, 0-based.
    """

    name: str
    rows: Iterable[tuple[Sequence[Any], Mapping[int, str]]]
    header: Sequence[str] = ()
    widths: Mapping[int, float] = field(default_factory=dict)
    autofilter: bool = False
    wrap: frozenset[int] = frozenset()
    frozen: int = 0
    links: Sequence[tuple[int, int, str]] = ()


# --- cell text ---

# Characters XML 1.0 cannot carry (or that a parser would change: CR), and a literal "_x0041_"
# which Excel would otherwise read as an escape.
_SPECIAL = re.compile(
    "[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)"
)
# A quick gate (one character class is what the regex engine scans fastest): text without these
# characters and without spaces at either end is written as it is.
_MAYBE_SPECIAL = re.compile("[&<>_\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]").search
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    return _ENTITIES.get(char) or f"_x{ord(char):04X}_"


def excel_length(value: str) -> int:
    """The length Excel counts: UTF-16 units (a character beyond U+FFFF counts twice)."""
    if value.isascii():
        return len(value)
    return len(value.encode("utf-16-le", "surrogatepass")) // 2


def fit_text(value: str, limit: int = EXCEL_CELL_LIMIT) -> str:
    """Excel refuses longer cells: cut with a marker the reader sees (the report is not data)."""
    if len(value) <= limit // 2 or excel_length(value) <= limit:
        return value
    room = limit - len(_CUT)  # the marker lies within the BMP: one unit a character
    units = value.encode("utf-16-le", "surrogatepass")[: 2 * room]
    if len(units) >= 2 and 0xD800 <= int.from_bytes(units[-2:], "little") <= 0xDBFF:
        units = units[:-2]  # half a character beyond U+FFFF: not cut in two
    return units.decode("utf-16-le", "surrogatepass") + _CUT


def _escaped(value: str) -> str:
    return value if _MAYBE_SPECIAL(value) is None else _SPECIAL.sub(_escape_one, value)


def text_element(value: str) -> str:
    """``<t>`` for any Python string."""
    if len(value) > _SAFE_LENGTH:
        value = fit_text(value)
    if value and (value[0].isspace() or value[-1].isspace()):
        return f'<t xml:space="preserve">{_escaped(value)}</t>'
    return f"<t>{_escaped(value)}</t>"


def _attribute(value: str) -> str:
    return _escaped(value).replace('"', "&quot;")


# --- cell values ---

_EPOCH = datetime(1899, 12, 30)  # Excel's 1900 date system, right from 1900-03-01 on
_FIRST_SERIAL_DAY = datetime(1900, 3, 1)
_BAD = f' s="{_STYLE[("plain", True)]}"'


def _serial(value: date | time | timedelta) -> tuple[str, float] | None:
    """(kind, Excel serial number), or None for what Excel cannot show as a date."""
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=None)
        if moment < _FIRST_SERIAL_DAY:
            return None
        return "datetime", (moment - _EPOCH) / timedelta(days=1)
    if isinstance(value, date):
        if value < _FIRST_SERIAL_DAY.date():
            return None
        return "date", float((value - _EPOCH.date()).days)
    if isinstance(value, time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second
        return "time", (seconds + value.microsecond / 1e6) / 86400
    return "duration", value / timedelta(days=1)


def cell(ref: str, value: Any, bad: bool = False, style: str = "") -> str:
    """One ``<c>`` element; "" for an empty cell that needs no style.

    ``style`` is the column's own style attribute for text (wrapping), when not faulty."""
    kind = type(value)
    if kind is Left:
        return f'<c r="{ref}" s="{LEFT_STYLE}"><v>{value.value!r}</v></c>'
    if kind is Filled:
        return f'<c r="{ref}"{value.xml}'
    if kind is str and value and not bad:
        return f'<c r="{ref}"{style} t="inlineStr"><is>{text_element(value)}</is></c>'
    if kind is str and value:
        return f'<c r="{ref}"{_BAD if bad else ""} t="inlineStr"><is>{text_element(value)}</is></c>'
    if value is None or kind is str:
        return f'<c r="{ref}"{_BAD}/>' if bad else ""
    if kind is bool:
        return f'<c r="{ref}"{_BAD if bad else ""} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):
            return cell(ref, str(value), bad)
        number = str(int(value)) if isinstance(value, numbers.Integral) else float.__repr__(value)
        return f'<c r="{ref}"{_BAD if bad else ""}><v>{number}</v></c>'
    if isinstance(value, date | time | timedelta) and value == value:  # NaT is not a date
        serial = _serial(value)
        if serial is None:  # before 1900: as text, never a wrong date
            return cell(ref, str(value), bad)
        kind_name, days = serial
        return f'<c r="{ref}" s="{_STYLE[(kind_name, bad)]}"><v>{float.__repr__(days)}</v></c>'
    return cell(ref, str(value), bad)


def _pixels(width: float) -> int:
    """Column width in characters -> pixels, as Excel lays them out (Calibri 11)."""
    return int(width * 12 + 0.5) if width < 1 else int(width * 7 + 0.5) + 5


# --- the sheet body ---


@dataclass
class _Body:
    """A sheet's rows, written to a temporary file, and what the package needs to know of it."""

    sheet: Sheet
    data: IO[bytes]
    size: int = 0
    rows: int = 0
    columns: int = 0
    notes: list[tuple[int, int, str]] = field(default_factory=list)  # (row, column, text), 0-based
    widths: dict[int, float] = field(default_factory=dict)  # column -> width in characters

    @property
    def filtered(self) -> bool:
        return self.sheet.autofilter and bool(self.sheet.header)

    def corner(self, absolute: bool = False) -> str:
        """The bottom right cell of the used range (A1 for an empty sheet)."""
        dollar = "$" if absolute else ""
        return f"{dollar}{column_letter(max(self.columns, 1) - 1)}{dollar}{max(self.rows, 1)}"


def _write_body(sheet: Sheet, data: IO[bytes]) -> _Body:
    body = _Body(sheet, data, columns=len(sheet.header))
    rows = _Rows(sheet, body)
    chunk: list[str] = []
    if sheet.header:
        body.rows = 1
        chunk.append(
            '<row r="1">'
            + "".join(
                f'<c r="{rows.letters[c]}1" s="{HEADER_STYLE}" t="inlineStr"><is>'
                f"{text_element(str(title))}</is></c>"
                for c, title in enumerate(sheet.header)
            )
            + "</row>"
        )
    source = iter(sheet.rows)
    while True:
        # A block ends where what later rows depend on changes: the sizes sampled (row
        # _SIZE_SAMPLE), each chunk written (the first one grows the header row).
        if body.rows < _SIZE_SAMPLE:
            end = _SIZE_SAMPLE
        else:
            end = (body.rows // _CHUNK_ROWS + 1) * _CHUNK_ROWS
        block = list(itertools.islice(source, min(end - body.rows, _BLOCK_ROWS)))
        if not block:
            break
        chunk += rows.block(block)
        if len(chunk) >= _CHUNK_ROWS:
            body.size += data.write("".join(_header_grown(chunk, sheet, rows.sizes)).encode())
            chunk.clear()
    body.size += data.write("".join(_header_grown(chunk, sheet, rows.sizes)).encode())
    body.widths = rows.sizes.widths()
    data.seek(0)
    return body


_SERIAL_KINDS = frozenset({date, time, datetime})
_NO_TEXT = -1.0  # a column of a block without text (numbers, outcomes): no line grows
_UNKNOWN = math.inf  # its texts not measured: each is looked at


class _Rows:
    """A sheet's rows as XML, a block of rows at a time: column by column where the rows are
    alike (one list comprehension a column, the cells' kinds checked for the whole column),
    row by row where not. Both write each cell exactly as :func:`cell` does."""

    by_column = True  # False: every row cell by cell (the reference the tests compare with)

    def __init__(self, sheet: Sheet, body: _Body) -> None:
        self.sheet, self.body = sheet, body
        self.letters = [column_letter(c) for c in range(max(body.columns, 32))]
        self.wrapped = f' s="{WRAP_STYLE}"'
        self.styles = [self.wrapped if c in sheet.wrap else "" for c in range(len(self.letters))]
        self.wrap_widths = [(c, sheet.widths.get(c, _WRAP_WIDTH)) for c in sorted(sheet.wrap)]
        self.sizes = _Sizes(sheet)
        self.limits = _line_limits(sheet, len(self.letters))
        self.longest: list[float] = []  # per column of the block: its longest single-line text
        self.counted: dict[tuple[str, float], int] = {}  # (text, limit) -> its lines

    def _start_row(self, values: Sequence[Any], width: int) -> None:
        """What a row changes before its cells: the columns known, the sizes sampled."""
        body, letters = self.body, self.letters
        body.rows += 1
        if width > len(letters):
            letters += [column_letter(c) for c in range(len(letters), width)]
            self.styles += [
                self.wrapped if c in self.sheet.wrap else "" for c in range(len(self.styles), width)
            ]
        body.columns = max(body.columns, width)
        if body.rows <= _SIZE_SAMPLE:
            self.sizes.measure(values)
        elif body.rows == _SIZE_SAMPLE + 1:  # the widths are settled: lines by them from now
            widths = self.sizes.widths()
            self.limits = [widths.get(c, _MIN_WIDTH) * 1.2 for c in range(len(letters))]

    def _extend_limits(self, columns: int) -> None:
        if len(self.limits) < columns:
            self.limits += _line_limits(self.sheet, columns)[len(self.limits) :]

    def row(self, values: Sequence[Any], bad: Mapping[int, str]) -> str:
        """One row, cell by cell."""
        width = max(len(values), max(bad, default=-1) + 1)
        self._start_row(values, width)
        r = str(self.body.rows)
        letters, styles, wrapped = self.letters, self.styles, self.wrapped
        padded = [*values, *[None] * (width - len(values))]
        cells = [
            cell(letters[c] + r, v, c in bad, styles[c] or _lines_style(v, wrapped))
            for c, v in enumerate(padded)
        ]
        self.body.notes += [
            (self.body.rows - 1, c, fit_text(bad[c], COMMENT_LIMIT)) for c in sorted(bad)
        ]
        self._extend_limits(len(values))
        # every line of the row's text shows (a wrapped message, a note of several lines)
        lines = _line_count(values, self.limits)
        for c, wide in self.wrap_widths:
            text = values[c] if c < len(values) else None
            if text.__class__ is str and (len(text) > wide or "\n" in text):
                self.sizes.wrapped.add(c)  # the column gets the width the height assumed
                break
        return _row_element(r, lines, "".join(cells))

    def block(self, rows: list[tuple[Sequence[Any], Mapping[int, str]]]) -> list[str]:
        """Rows of one block (the sizes and line limits do not change within it)."""
        width = len(rows[0][0])
        table = [values for values, _ in rows]
        faulty = [(i, bad) for i, (_, bad) in enumerate(rows) if bad]
        if (
            not self.by_column
            or not width
            or len(set(map(len, table))) > 1
            or any(max(bad) >= width for _, bad in faulty)
        ):
            return [self.row(values, bad) for values, bad in rows]
        first = self.body.rows + 1
        for values, _ in rows if first <= _SIZE_SAMPLE else rows[:1]:  # the sample, row by row
            self._start_row(values, width)
        self.body.rows = first + len(rows) - 1
        self._extend_limits(width)
        numbers = [str(n) for n in range(first, first + len(rows))]
        columns = list(zip(*table, strict=True))
        self.longest = [_UNKNOWN] * width
        cells = [self._column(c, column, numbers) for c, column in enumerate(columns)]
        texts = list(map("".join, zip(*cells, strict=True)))
        for i, bad in faulty:
            texts[i] = self._faulty(table[i], bad, numbers[i], [c[i] for c in cells])
        out = [f'<row r="{r}">{text}</row>' for r, text in zip(numbers, texts, strict=True)]
        for i, lines in self._lines(columns).items():
            out[i] = _row_element(numbers[i], lines, texts[i])
        self._note_wrapped(columns)
        return out

    def _faulty(
        self, values: Sequence[Any], bad: Mapping[int, str], r: str, cells: list[str]
    ) -> str:
        """A row with faulty cells: those red, each with its note."""
        for c in bad:
            v = values[c]
            cells[c] = cell(
                self.letters[c] + r, v, True, self.styles[c] or _lines_style(v, self.wrapped)
            )
        self.body.notes += [(int(r) - 1, c, fit_text(bad[c], COMMENT_LIMIT)) for c in sorted(bad)]
        return "".join(cells)

    def _column(self, c: int, values: tuple[Any, ...], numbers: list[str]) -> list[str]:
        """A column's cells in the block: the common kinds in one comprehension each."""
        letter, style = self.letters[c], self.styles[c]
        kinds = set(map(type, values))
        if kinds <= {str, type(None)} and (longest := _plain_longest(values)) is not None:
            self.longest[c] = longest
            return [
                f'<c r="{letter}{r}"{style} t="inlineStr"><is><t>{v}</t></is></c>' if v else ""
                for r, v in zip(numbers, values, strict=True)
            ]
        if kinds == {int} or kinds == {Filled} or kinds == {Left}:
            self.longest[c] = _NO_TEXT
        if kinds == {int}:
            return [
                f'<c r="{letter}{r}"><v>{v}</v></c>' for r, v in zip(numbers, values, strict=True)
            ]
        if kinds == {Filled}:
            return [f'<c r="{letter}{r}"{v.xml}' for r, v in zip(numbers, values, strict=True)]
        if kinds == {Left}:
            return [
                f'<c r="{letter}{r}" s="{LEFT_STYLE}"><v>{v.value!r}</v></c>'
                for r, v in zip(numbers, values, strict=True)
            ]
        return self._any_cells(letter, style, values, numbers)

    def _any_cells(
        self, letter: str, style: str, values: tuple[Any, ...], numbers: list[str]
    ) -> list[str]:
        """Cells of any kind, through :func:`cell`; a text, date or time repeated down the
        column is worked out once (its cell differs only in the reference)."""
        wrapped = self.wrapped
        known: dict[Any, str] = {}
        out = []
        for r, v in zip(numbers, values, strict=True):
            kind = v.__class__
            if kind is str or (kind in _SERIAL_KINDS and getattr(v, "tzinfo", None) is None):
                rest = known.get(v)
                if rest is None:
                    whole = cell("", v, False, style or _lines_style(v, wrapped))
                    rest = known[v] = whole[len('<c r=""') :]  # "" for an empty text
                out.append(f'<c r="{letter}{r}"{rest}' if rest else "")
            else:
                out.append(cell(letter + r, v, False, style or _lines_style(v, wrapped)))
        return out

    def _lines(self, columns: list[tuple[Any, ...]]) -> dict[int, int]:
        """Rows of the block whose text takes more than one line: how many (at most the
        largest count of one of its cells)."""
        grown: dict[int, int] = {}
        for values, limit, longest in zip(columns, self.limits, self.longest, strict=False):
            if longest <= limit:
                continue
            for i in _long_texts(values, limit):
                count = self._line_total(values[i], limit)
                if count > grown.get(i, 1):
                    grown[i] = count
        return grown

    def _line_total(self, text: str, limit: float) -> int:
        """The lines of ``text`` at ``limit`` characters a line; a message repeats down its
        column, so each is counted once."""
        key = (text, limit)
        count = self.counted.get(key)
        if count is None:
            if len(self.counted) > 4096:
                self.counted.clear()
            count = self.counted[key] = sum(_wrapped_lines(p, limit) for p in text.split("\n"))
        return count

    def _note_wrapped(self, columns: list[tuple[Any, ...]]) -> None:
        """A wrap column whose text grew a row (the first such column of that row) gets the
        width the height assumed."""
        counted: set[int] = set()
        for c, wide in self.wrap_widths:
            if c >= len(columns):
                continue
            if self.longest[c] <= wide:
                continue
            rows = set(_long_texts(columns[c], wide))
            if rows - counted:
                self.sizes.wrapped.add(c)
            counted |= rows


def _plain_longest(values: tuple[Any, ...]) -> float | None:
    """The length of the longest text among ``values`` if every one is written as it stands
    (nothing to escape, no line break, no space at either end; None or "" aside), else None.
    Tested on the column's texts joined: any hit belongs to a value."""
    texts = list(filter(None, values))
    if not texts:
        return _NO_TEXT
    joined = "".join(texts)
    longest = max(map(len, texts))
    if longest > _SAFE_LENGTH:
        return None
    if joined.isprintable():  # no control character, line break or surrogate; spaces: " " only
        ends = "".join(map(itemgetter(0), texts)) + "".join(map(itemgetter(-1), texts))
        plain = " " not in ends and not any(c in joined for c in "&<>_")
    else:  # a tab, a no-break space: allowed, but looked at the slow way
        plain = (
            "\n" not in joined
            and _MAYBE_SPECIAL(joined) is None
            and not any(map(str.isspace, map(itemgetter(0), texts)))
            and not any(map(str.isspace, map(itemgetter(-1), texts)))
        )
    return longest if plain else None


def _long_texts(values: tuple[Any, ...], limit: float) -> list[int]:
    """The positions of texts longer than ``limit`` or with a line break."""
    return [i for i, v in enumerate(values) if v.__class__ is str and (len(v) > limit or "\n" in v)]


def _row_element(r: str, lines: int, cells: str) -> str:
    height = f' ht="{min(lines, 20) * 15}" customHeight="1"' if lines > 1 else ""
    return f'<row r="{r}"{height}>{cells}</row>'


def _lines_style(value: Any, wrapped: str) -> str:
    """Text with line breaks wraps wherever it stands: otherwise only its first line shows."""
    return wrapped if value.__class__ is str and "\n" in value else ""


def _header_grown(chunk: list[str], sheet: Sheet, sizes: _Sizes) -> list[str]:
    """The first chunk with the header row as tall as its wrapped titles (known once the
    first rows have sized the columns; they are sampled before the first chunk is written)."""
    if not sheet.header or not chunk or not chunk[0].startswith('<row r="1">'):
        return chunk
    widths = sizes.widths()
    lines = max(  # bold titles: fewer characters a line than body text
        (
            _wrapped_lines(str(t), widths.get(c, _MIN_WIDTH) * 0.95)
            for c, t in enumerate(sheet.header)
        ),
        default=1,
    )
    if lines > 1:
        chunk[0] = f'<row r="1" ht="{min(lines, 4) * 15}" customHeight="1">' + chunk[0][11:]
    return chunk


def _line_limits(sheet: Sheet, columns: int) -> list[float]:
    """Per column, the characters a line of wrapped text holds (proportional text: more
    than the width counts in "0"-widths)."""
    return [
        sheet.widths.get(c, _WRAP_WIDTH if c in sheet.wrap else _MAX_WIDTH) * 1.2
        for c in range(columns)
    ]


def _line_count(values: Sequence[Any], limits: Sequence[float]) -> int:
    """The lines of a row's text with line breaks, or longer than its column is wide (it
    wraps; spreadsheet programs do not all grow a row for it on their own)."""
    lines = 1
    for v, limit in zip(values, limits, strict=False):
        if v.__class__ is str and (len(v) > limit or "\n" in v):
            lines = max(lines, sum(_wrapped_lines(part, limit) for part in v.split("\n")))
    return lines


def _wrapped_lines(text: str, limit: float) -> int:
    """The lines ``text`` takes when wrapped at spaces into ``limit`` characters a line (a
    word longer than a line is broken inside): a row too short for its text prints over the
    next one."""
    if len(text) <= limit:
        return 1
    lines, used = 1, 0.0
    for word in text.split(" "):
        size = len(word)
        if used and used + 1 + size <= limit:
            used += 1 + size
            continue
        if used:
            lines += 1
        lines += max(0, math.ceil(size / limit) - 1)
        used = size - (math.ceil(size / limit) - 1) * limit if size else 0.0
    return lines


_SIZE_SAMPLE = 1_000  # rows measured to size the columns: enough, and big files stay fast
# A column is at most _MAX_WIDTH characters wide (a message column _WRAP_WIDTH): a list of
# twenty columns still prints across one page readably; longer text wraps in its cell.
_MIN_WIDTH, _MAX_WIDTH, _WRAP_WIDTH = 8.0, 30.0, 40.0
_KIND_WIDTH = {"datetime": 16.0, "date": 10.0, "time": 6.0, "duration": 6.0}


class _Sizes:
    """Column widths from the header and the content of the first rows, bounded."""

    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        # a header wraps in its cell: only its longest word sets a floor to the width, so an
        # empty column with a long title ("onOffice answer") takes little of a printed page
        # (bold: a fifth wider than body text, or its last letters are cut in print)
        self.longest = [
            math.ceil(max(map(len, str(title).split()), default=0) * 1.2) for title in sheet.header
        ]
        self.wrapped: set[int] = set()  # wrap columns with a row grown for its text

    def measure(self, values: Sequence[Any]) -> None:
        longest = self.longest
        if len(values) > len(longest):
            longest += [0] * (len(values) - len(longest))
        for c, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, Filled | Left):
                value = value.value
            if isinstance(value, str):
                size = max(map(len, value.split("\n"))) if "\n" in value else len(value)
            elif isinstance(value, date | time | timedelta):
                size = int(_KIND_WIDTH[_serial_kind(value)])
            else:
                size = len(str(value))
            if size > longest[c]:
                longest[c] = size

    def widths(self) -> dict[int, float]:
        given, wrap = self.sheet.widths, self.sheet.wrap
        out: dict[int, float] = {}
        for c, size in enumerate(self.longest):
            if c in given:
                out[c] = given[c]
            elif c in self.wrapped:  # also beyond the rows sampled: as wide as heights assumed
                out[c] = _WRAP_WIDTH
            else:
                top = _WRAP_WIDTH if c in wrap else _MAX_WIDTH
                out[c] = max(_MIN_WIDTH, min(top, size + 2.0))
        return out


def _serial_kind(value: date | time | timedelta) -> str:
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    return "time" if isinstance(value, time) else "duration"


def _sheet_parts(body: _Body, index: int) -> tuple[str, str]:
    """The XML before and after the rows."""
    sheet = body.sheet
    last = body.corner()
    selected = ' tabSelected="1"' if index == 0 else ""
    cols = "".join(
        f'<col min="{c + 1}" max="{c + 1}" width="{int(_pixels(w) / 7 * 256) / 256}"'
        ' customWidth="1"/>'
        for c, w in sorted(body.widths.items())
    )
    head = (
        f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
        # printed on A4 landscape, every column on the page's width (a row is read across:
        # split over pages it is not), as many pages down as it takes, the header row
        # repeated on each (_workbook_part); long text wraps in its column
        f'<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr><dimension ref="A1:{last}"/>'
        f'<sheetViews><sheetView{selected} workbookViewId="0">{_pane(sheet)}</sheetView>'
        f'</sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        f"{f'<cols>{cols}</cols>' if cols else ''}<sheetData>"
    )
    links = "".join(
        f'<hyperlink ref="{column_letter(c)}{r + 1}" location="{_attribute(place)}"/>'
        for r, c, place in sheet.links
    )
    tail = (
        "</sheetData>"
        + (f'<autoFilter ref="A1:{last}"/>' if body.filtered else "")
        + (f"<hyperlinks>{links}</hyperlinks>" if links else "")
        + '<pageMargins left="0.5" right="0.5" top="0.6" bottom="0.6" header="0.3" '
        'footer="0.3"/><pageSetup paperSize="9" orientation="landscape" '
        'fitToWidth="1" fitToHeight="0"/>'
        # the sheet's name and the page on every printed page
        "<headerFooter><oddFooter>&amp;L&amp;A&amp;R&amp;P / &amp;N</oddFooter></headerFooter>"
        # Our text cells hold text on purpose ("0815"): no "number stored as text" flags.
         + f'<ignoredErrors><ignoredError sqref="A1:{last}" numberStoredAsText="1"/>'
        "</ignoredErrors>" + ('<legacyDrawing r:id="rId1"/>' if body.notes else "") + "</worksheet>"
    )
    return head, tail


def _pane(sheet: Sheet) -> str:
    """The header row and the first ``frozen`` columns stay in view while scrolling."""
    rows = 1 if sheet.header else 0
    columns = sheet.frozen
    if not rows and not columns:
        return ""
    corner = f"{column_letter(columns)}{rows + 1}"
    pane = "bottomRight" if rows and columns else "bottomLeft" if rows else "topRight"
    split = (f' xSplit="{columns}"' if columns else "") + (f' ySplit="{rows}"' if rows else "")
    return (
        f'<pane{split} topLeftCell="{corner}" activePane="{pane}" state="frozen"/>'
        f'<selection pane="{pane}" activeCell="{corner}" sqref="{corner}"/>'
    )


# --- notes (Excel's legacy comments: a comments part plus a VML drawing) ---


def _comments_part(notes: list[tuple[int, int, str]]) -> str:
    run = '<rPr><sz val="8"/><color indexed="81"/><rFont val="Tahoma"/><family val="2"/></rPr>'
    items = "".join(
        f'<comment ref="{column_letter(c)}{r + 1}" authorId="0"><text><r>{run}'
        f"{text_element(text)}</r></text></comment>"
        for r, c, text in notes
    )
    return (
        f'{_XML}<comments xmlns="{_MAIN}"><authors><author>onoffice-import</author></authors>'
        f"<commentList>{items}</commentList></comments>"
    )


def _vml_part(body: _Body, first_block: int) -> str:
    """The note boxes; their anchors follow XlsxWriter's placement (right of the cell)."""
    widths = body.widths
    last_col = max(c for _, c, _ in body.notes) + 16
    column_px = [_pixels(widths.get(c, _DEFAULT_WIDTH)) for c in range(last_col + 1)]
    left_px = [0]
    for px in column_px:
        left_px.append(left_px[-1] + px)
    box_w, box_h = _NOTE_PX
    blocks = len(body.notes) // 1024 + 1
    shapes = []
    for number, (row, col, _) in enumerate(body.notes):
        start_col, x1 = col + 1, 15
        start_row, y1 = (0, 2) if row == 0 else (row - 1, 10)
        end_col, x2 = start_col, x1 + box_w
        while x2 >= column_px[end_col]:
            x2 -= column_px[end_col]
            end_col += 1
        end_row, y2 = start_row + (y1 + box_h) // _ROW_PX, (y1 + box_h) % _ROW_PX
        left, top = (left_px[start_col] + x1) * 0.75, (start_row * _ROW_PX + y1) * 0.75
        shapes.append(
            f'<v:shape id="_x0000_s{1024 * first_block + 1 + number}" type="#_x0000_t202" '
            f'style="position:absolute;margin-left:{left:.15g}pt;margin-top:{top:.15g}pt;'
            f"width:{box_w * 0.75:.15g}pt;height:{box_h * 0.75:.15g}pt;z-index:{number + 1};"
            'visibility:hidden" fillcolor="#ffffe1" o:insetmode="auto">'
            '<v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
            '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
            '<div style="text-align:left"></div></v:textbox><x:ClientData ObjectType="Note">'
            f"<x:MoveWithCells/><x:SizeWithCells/><x:Anchor>{start_col}, {x1}, {start_row}, "
            f"{y1}, {end_col}, {x2}, {end_row}, {y2}</x:Anchor><x:AutoFill>False</x:AutoFill>"
            f"<x:Row>{row}</x:Row><x:Column>{col}</x:Column></x:ClientData></v:shape>"
        )
    data = ",".join(str(first_block + b) for b in range(blocks))
    return (
        '<xml xmlns:v="urn:schemas-microsoft-com:vml" '
        'xmlns:o="urn:schemas-microsoft-com:office:office" '
        'xmlns:x="urn:schemas-microsoft-com:office:excel">'
        f'<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{data}"/></o:shapelayout>'
        '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" '
        'path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/>'
        '<v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
        f"{''.join(shapes)}</xml>"
    )


# --- the package ---


_TOP = '<alignment vertical="top"/>'  # a row grown for wrapped text reads from the top
# Dates and times left-aligned: right-aligned, "10:45" touched the text of the next column.
_TOP_LEFT = '<alignment horizontal="left" vertical="top"/>'


def _styles_part() -> str:
    font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
    formats = "".join(
        f'<numFmt numFmtId="{164 + i}" formatCode="{code}"/>'
        for i, code in enumerate(_NUMBER_FORMATS.values())
    )
    thin = '<color auto="1"/>'
    xfs = [  # plain cells wrap text longer than their column (it is never cut off)
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
        '<alignment vertical="top" wrapText="1"/></xf>',
        '<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" '
        'applyFill="1" applyBorder="1" applyAlignment="1">'
        '<alignment vertical="top" wrapText="1"/></xf>',
        '<xf numFmtId="0" fontId="2" fillId="3" borderId="0" xfId="0" applyFont="1" '
        f'applyFill="1" applyAlignment="1">{_TOP}</xf>',
    ]
    for i in range(len(_NUMBER_FORMATS)):
        xfs.append(
            f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" '
            f'applyNumberFormat="1" applyAlignment="1">{_TOP_LEFT}</xf>'
        )
        xfs.append(
            f'<xf numFmtId="{164 + i}" fontId="2" fillId="3" borderId="0" xfId="0" '
            f'applyNumberFormat="1" applyFont="1" applyFill="1" applyAlignment="1">'
            f"{_TOP_LEFT}</xf>"
        )
    xfs.append(
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
        '<alignment vertical="top" wrapText="1"/></xf>'
    )
    for i in range(len(FILLS)):
        xfs.append(
            f'<xf numFmtId="0" fontId="{3 + i}" fillId="{4 + i}" borderId="0" xfId="0" '
            'applyFont="1" applyFill="1" applyAlignment="1"><alignment vertical="top"/></xf>'
        )
    xfs.append(
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
        f"{_TOP_LEFT}</xf>"
    )
    fill = '<fill><patternFill patternType="solid"><fgColor rgb="FF{}"/><bgColor indexed="64"/>'
    outcome_fonts = "".join(
        f'<font><color rgb="FF{ink}"/>{font}</font>' for _, ink in FILLS.values()
    )
    outcome_fills = "".join(
        f"{fill.format(paper)}</patternFill></fill>" for paper, _ in FILLS.values()
    )
    return (
        f'{_XML}<styleSheet xmlns="{_MAIN}">'
        f'<numFmts count="{len(_NUMBER_FORMATS)}">{formats}</numFmts>'
        f'<fonts count="{3 + len(FILLS)}"><font>{font}</font><font><b/>{font}</font>'
        f'<font><color rgb="FF9C0006"/>{font}</font>{outcome_fonts}</fonts>'
        f'<fills count="{4 + len(FILLS)}"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill>'
        f"{fill.format('DDEBF7')}</patternFill></fill>{fill.format('FFC7CE')}</patternFill></fill>"
        f"{outcome_fills}</fills>"
        '<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>'
        f'<border><left style="thin">{thin}</left><right style="thin">{thin}</right>'
        f'<top style="thin">{thin}</top><bottom style="thin">{thin}</bottom><diagonal/></border>'
        '</borders><cellStyleXfs count="1">'
        f'<xf numFmtId="0" fontId="0" fillId="0" borderId="0">{_TOP}</xf>'
        f'</cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _relationships(targets: Sequence[tuple[str, str]], namespace: str = _REL) -> str:
    items = "".join(
        f'<Relationship Id="rId{i}" Type="{namespace}/{kind}" Target="{target}"/>'
        for i, (kind, target) in enumerate(targets, start=1)
    )
    return f'{_XML}<Relationships xmlns="{_PKG_REL}">{items}</Relationships>'


def _workbook_part(bodies: Sequence[_Body]) -> str:
    sheets, names = [], []
    for i, body in enumerate(bodies):
        name = body.sheet.name
        sheets.append(f'<sheet name="{_attribute(name)}" sheetId="{i + 1}" r:id="rId{i + 1}"/>')
        quoted = "'" + name.replace("'", "''") + "'"
        if body.filtered:
            reference = f"{quoted}!$A$1:" + body.corner(absolute=True)
            names.append(
                f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
                f"{_attribute(reference)}</definedName>"
            )
        if body.sheet.header:  # printed over pages: the header row on each
            titles = f"{quoted}!$1:$1"
            names.append(
                f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">'
                f"{_attribute(titles)}</definedName>"
            )
    return (
        f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><workbookPr/>'
        '<bookViews><workbookView xWindow="240" yWindow="15" windowWidth="16095" '
        f'windowHeight="9660"/></bookViews><sheets>{"".join(sheets)}</sheets>'
        + (f"<definedNames>{''.join(names)}</definedNames>" if names else "")
        + "</workbook>"
    )


def _content_types(bodies: Sequence[_Body]) -> str:
    sheet_type = f"{_CT}.spreadsheetml.worksheet+xml"
    overrides = [
        ("/xl/workbook.xml", f"{_CT}.spreadsheetml.sheet.main+xml"),
        ("/xl/styles.xml", f"{_CT}.spreadsheetml.styles+xml"),
        *((f"/xl/worksheets/sheet{i + 1}.xml", sheet_type) for i in range(len(bodies))),
        *(
            (f"/xl/comments{i + 1}.xml", f"{_CT}.spreadsheetml.comments+xml")
            for i, body in enumerate(bodies)
            if body.notes
        ),
    ]
    return (
        f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Default Extension="vml" ContentType="{_CT}.vmlDrawing"/>'
        + "".join(f'<Override PartName="{n}" ContentType="{t}"/>' for n, t in overrides)
        + "</Types>"
    )


def write_xlsx(path: Path, sheets: Sequence[Sheet]) -> None:
    """Write ``sheets`` to ``path`` (which the caller makes atomic)."""
    bodies: list[_Body] = []
    try:
        for sheet in sheets:
            bodies.append(_write_body(sheet, tempfile.TemporaryFile()))  # noqa: SIM115
            phase("results")
        small: list[tuple[str, str]] = [
            ("[Content_Types].xml", _content_types(bodies)),
            ("_rels/.rels", _relationships([("officeDocument", "xl/workbook.xml")])),
            ("xl/workbook.xml", _workbook_part(bodies)),
            (
                "xl/_rels/workbook.xml.rels",
                _relationships(
                    [
                        *(
                            ("worksheet", f"worksheets/sheet{i + 1}.xml")
                            for i in range(len(bodies))
                        ),
                        ("styles", "styles.xml"),
                    ]
                ),
            ),
            ("xl/styles.xml", _styles_part()),
        ]
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=_ZIP_LEVEL) as zf:
            for name, text in small:
                zf.writestr(name, text)
            block = 1
            for i, body in enumerate(bodies, start=1):
                head, tail = (part.encode() for part in _sheet_parts(body, i - 1))
                size = len(head) + body.size + len(tail)
                with zf.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=size > 1 << 31) as out:
                    out.write(head)
                    shutil.copyfileobj(body.data, out, 1 << 20)
                    out.write(tail)
                if body.notes:
                    zf.writestr(
                        f"xl/worksheets/_rels/sheet{i}.xml.rels",
                        _relationships(
                            [
                                ("vmlDrawing", f"../drawings/vmlDrawing{i}.vml"),
                                ("comments", f"../comments{i}.xml"),
                            ]
                        ),
                    )
                    zf.writestr(f"xl/comments{i}.xml", _comments_part(body.notes))
                    zf.writestr(f"xl/drawings/vmlDrawing{i}.vml", _vml_part(body, block))
                    block += len(body.notes) // 1024 + 1
    finally:
        for body in bodies:
            body.data.close()
