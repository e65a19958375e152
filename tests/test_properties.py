"""Property tests: whatever file or mapping arrives, the answer is rows or our own typed errors.

The default run is bounded (>= 10,000 examples in total, about 40 s on 2 cores) by examples and a
deadline per example that scales with the machine's load (tests/budget.py);
FUZZ_SCALE=20 multiplies every budget for a long run by hand.
"""

from __future__ import annotations

import io
import string
import tempfile
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from importer import check
from importer.core.errors import ImporterError, MappingError, SourceFileError
from importer.mapping.spec import parse_mapping
from importer.mapping.values import (
    DEFAULT_DATE_FORMATS,
    DEFAULT_DATETIME_FORMATS,
    DEFAULT_TIME_FORMATS,
    ValueProblem,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_duration,
    parse_time,
)
from importer.source.load import load_table

from .budget import budget, timeout

# (examples, seconds per example on a quiet core) of each property (tests/budget.py)
CSV_FILES, WORKBOOKS, BYTES, SHAPES, CELLS = (
    (200, 5.0),
    (100, 5.0),
    (5000, 1.0),
    (2500, 0.5),
    (2500, 0.5),
)

pytestmark = pytest.mark.fuzz


HOSTILE = [
    "=cmd|' /c calc'!A1",
    "+1",
    "-1",
    "@SUM(1)",
    "\t",
    "\r",
    "\u202e",
    "\u200b",
    "NA",
    "#REF!",
    "0815",
    "😀",
    "ä",
    "\x0b",
    '"',
    ";",
    ",",
    "\n",
    "'",
    "  ",
]
cell_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
        max_size=30,
    ),
    st.dates(date(1890, 1, 1), date(2110, 12, 31)).map(lambda d: d.strftime("%d.%m.%Y")),
    st.datetimes(datetime(1995, 1, 1), datetime(2105, 1, 1)).map(
        lambda d: d.strftime(st_choice_format(d))
    ),
    # DST gaps and folds of Europe/Berlin
    st.sampled_from(
        [
            "28.03.2027 02:30",
            "31.10.2027 02:30",
            "29.03.2026 02:15",
            "24:00",
            "31.02.2027 10:00",
            "45678",
            "2027-06-01T10:00:00Z",
            "1.23E+05",
        ]
    ),
)


def st_choice_format(d: datetime) -> str:
    return ["%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%d.%m.%y %H:%M"][d.day % 4]


MAPPING = parse_mapping(
    yaml.safe_load(
        "start: A\nend: {column: B}\nall_day: {column: C, default: nein}\n"
        "fields: {description: {template: '{A} {D}'}, note: D, private: C,\n"
        "  erinnerung: E, reminderTypes: {column: F, split: '|'}}\n"
    ),
    Path("fuzz.yaml"),
)


@st.composite
def plausible_row(draw: st.DrawFn) -> list[str]:
    """A row a person could have typed: a start and a later end, the other cells hostile."""
    start = draw(st.datetimes(datetime(2027, 1, 1), datetime(2029, 12, 31)))
    end = start + draw(st.timedeltas(timedelta(minutes=15), timedelta(hours=8)))
    reminder = draw(st.sampled_from(["", "15 minutes", "1 hours"]))
    channels = draw(st.sampled_from(["", "email|popup"])) if reminder else ""
    return [
        start.strftime("%d.%m.%Y %H:%M"),
        end.strftime("%d.%m.%Y %H:%M"),
        draw(st.sampled_from(["", "ja", "nein"])),
        draw(cell_text),
        reminder,
        channels,
    ]


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, int]:
    delimiter = draw(st.sampled_from([";", ",", "\t"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    titles = draw(st.lists(st.sampled_from(["Terminliste", "Stand: heute", ""]), max_size=2))
    rows = draw(
        st.lists(
            st.one_of(st.lists(cell_text, min_size=6, max_size=6), plausible_row()),
            min_size=1,
            max_size=12,
        )
    )
    buffer = io.StringIO()
    import csv

    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for title in titles:
        writer.writerow([title])
    writer.writerow(["A", "B", "C", "D", "E", "F"])
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding, errors="replace"), len(rows)


@timeout(*CSV_FILES)
def test_check_of_generated_csv_gives_rows_or_typed_errors() -> None:
    seen: Counter[str] = Counter()

    @given(csv_files())
    @budget(*CSV_FILES)
    def prop(case: tuple[bytes, int]) -> None:
        data, _ = case
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "in.csv"
            path.write_bytes(data)
            try:
                report = check(path, MAPPING, report=False, now=datetime(2026, 11, 25))
            except ImporterError:
                seen["refused"] += 1
                return
            seen["rows"] += 1
            seen["valid rows"] += report.valid_count
            assert len(report.outcomes) == len(report.table.frame)
            for outcome in report.outcomes:
                assert outcome.valid == (outcome.parameters is not None)
                for problem in outcome.problems:
                    assert problem.code and problem.message and problem.row >= 1

    prop()
    print(f"generated CSV files: {dict(seen)}")
    # The property means something only if most files get as far as rows, and some are valid.
    assert seen["rows"] >= 0.5 * (seen["rows"] + seen["refused"]) and seen["valid rows"]


workbook_cell = st.one_of(
    cell_text,
    st.none(),
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(date(1900, 3, 1), date(2100, 1, 1)),
    st.datetimes(datetime(1900, 3, 1), datetime(2100, 1, 1)),
    st.times(),
    st.timedeltas(timedelta(0), timedelta(days=2)),
)


def _clean(value: object) -> object:
    if isinstance(value, str):  # openpyxl refuses control characters in cells
        return "".join(ch for ch in value if ch >= " " or ch in "\t\n\r")
    return value


@timeout(*WORKBOOKS)
def test_check_of_generated_workbooks_gives_rows_or_typed_errors() -> None:
    seen: Counter[str] = Counter()

    @given(st.lists(st.lists(workbook_cell, min_size=6, max_size=6), min_size=1, max_size=10))
    @budget(*WORKBOOKS)
    def prop(rows: list[list[object]]) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "in.xlsx"
            book = openpyxl.Workbook()
            book.active.append(["A", "B", "C", "D", "E", "F"])
            for row in rows:
                book.active.append([_clean(v) for v in row])
            book.save(path)
            try:
                report = check(path, MAPPING, report=False, now=datetime(2026, 11, 25))
            except ImporterError:
                seen["refused"] += 1
                return
            seen["rows"] += 1
            assert len(report.outcomes) == len(report.table.frame)

    prop()
    print(f"generated workbooks: {dict(seen)}")
    assert seen["rows"] >= 0.5 * (seen["rows"] + seen["refused"])


@timeout(*BYTES)
def test_loading_arbitrary_bytes_gives_a_table_or_a_source_error() -> None:
    seen: Counter[str] = Counter()

    @given(st.binary(max_size=2048), st.sampled_from(["in.csv", "in.xlsx", "in.txt"]))
    @budget(*BYTES)
    def prop(data: bytes, name: str) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            try:
                load_table(path)
            except SourceFileError:
                seen["refused"] += 1
            else:
                seen["tables"] += 1

    prop()
    print(f"arbitrary bytes: {dict(seen)}")
    assert seen["tables"] and seen["refused"]  # both ways out were taken


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=12),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "start",
                        "end",
                        "fields",
                        "column",
                        "time",
                        "date",
                        "minutes",
                        "map",
                        "split",
                        "lookup",
                        "series",
                        "repeat",
                        "location",
                        "type",
                        "source",
                        "sheet",
                        "description",
                        "note",
                        "art",
                        "value",
                        "template",
                        "kind",
                        "by",
                        "formats",
                        "default",
                        "all_day",
                        "options",
                        "past",
                    ]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=20,
    )
)
@budget(*SHAPES)
@timeout(*SHAPES)
def test_any_yaml_shape_gives_a_mapping_or_a_mapping_error(raw: object) -> None:
    try:
        parse_mapping(raw, Path("m.yaml"))
    except MappingError as exc:
        assert exc.problems


@given(st.one_of(st.text(alphabet=string.printable, max_size=25), workbook_cell))
@budget(*CELLS)
@timeout(*CELLS)
def test_value_parsers_return_or_raise_value_problems(cell: object) -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Berlin")
    for parse in (
        lambda c: parse_datetime(c, DEFAULT_DATETIME_FORMATS, tz),
        lambda c: parse_date(c, DEFAULT_DATE_FORMATS),
        lambda c: parse_time(c, DEFAULT_TIME_FORMATS, allow_24=True),
        parse_duration,
        parse_bool,
    ):
        try:
            parse(cell)
        except ValueProblem as problem:
            assert problem.code and problem.message
