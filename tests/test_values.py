"""Pure cell conversions: dates, times, durations, booleans, ids, text."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from importer.mapping.convert import normalise_reminder
from importer.mapping.values import (
    DEFAULT_DATE_FORMATS,
    DEFAULT_DATETIME_FORMATS,
    DEFAULT_TIME_FORMATS,
    ValueProblem,
    clean_text,
    key_text,
    local_time_problem,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_duration,
    parse_int,
    parse_time,
)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("01.04.2027 17:45", datetime(2027, 4, 1, 17, 45)),
        ("1.4.2027 9:05", datetime(2027, 4, 1, 9, 5)),
        ("2027-04-01 17:45:30", datetime(2027, 4, 1, 17, 45, 30)),
        ("2027-04-01T17:45", datetime(2027, 4, 1, 17, 45)),
        ("2027-04-01T15:45:00Z", datetime(2027, 4, 1, 17, 45)),  # converted to Berlin
        ("2027-01-10T10:00:00+00:00", datetime(2027, 1, 10, 11, 0)),
        (datetime(2027, 4, 1, 11, 59, 59, 999_900), datetime(2027, 4, 1, 12, 0)),  # float noise
    ],
)
def test_datetimes(cell: object, expected: datetime) -> None:
    assert parse_datetime(cell, DEFAULT_DATETIME_FORMATS, BERLIN) == expected


@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("31.02.2027 10:00", "impossible-date"),
        ("03/04/2027 10:00", "bad-datetime"),  # US or not? never guessed
        (45678, "number-not-date"),
        (date(2027, 4, 1), "date-without-time"),
        ("01.04.1899 10:00", "implausible-date"),
        ("01.04.2199 10:00", "implausible-date"),
    ],
)
def test_datetimes_refused(cell: object, code: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        parse_datetime(cell, DEFAULT_DATETIME_FORMATS, BERLIN)
    assert caught.value.code == code


def test_dates_and_times() -> None:
    assert parse_date("29.02.2028", DEFAULT_DATE_FORMATS) == date(2028, 2, 29)
    assert parse_date(datetime(2027, 1, 1, 0, 0), DEFAULT_DATE_FORMATS) == date(2027, 1, 1)
    with pytest.raises(ValueProblem, match="not a real date"):
        parse_date("29.02.2027", DEFAULT_DATE_FORMATS)
    assert parse_time("14:30 Uhr", DEFAULT_TIME_FORMATS) == time(14, 30)
    assert parse_time("9:05", DEFAULT_TIME_FORMATS) == time(9, 5)
    assert parse_time(timedelta(hours=8, minutes=15), DEFAULT_TIME_FORMATS) == time(8, 15)
    assert parse_time("24:00", DEFAULT_TIME_FORMATS, allow_24=True) is None
    # "14.30" is how many German offices write a time (issue: the office's own tool); "9.3"
    # or "14.300" are not times
    assert parse_time("14.30", DEFAULT_TIME_FORMATS) == time(14, 30)
    assert parse_time("9.05 Uhr", DEFAULT_TIME_FORMATS) == time(9, 5)
    for bad in ("25:61", "9.3", "14.300", "14h30", "24:00", "halb zehn"):
        with pytest.raises(ValueProblem):
            parse_time(bad, DEFAULT_TIME_FORMATS)


@pytest.mark.parametrize(
    ("cell", "minutes"),
    [
        (90, 90),
        (1.5, 1.5),
        ("01:30", 90),
        ("0:45:00", 45),
        ("90 min", 90),
        ("1,5 h", 90),
        ("2 Std", 120),
        (time(0, 30), 30),
        (timedelta(minutes=20), 20),
    ],
)
def test_durations(cell: object, minutes: float) -> None:
    assert parse_duration(cell) == timedelta(minutes=minutes)


def test_duration_refused() -> None:
    for bad in ("lang", "-5", -5, "1:75"):
        with pytest.raises(ValueProblem):
            parse_duration(bad)


def test_booleans() -> None:
    for yes in ("ja", "JA ", "x", "X", "wahr", "1", 1, True, "yes"):
        assert parse_bool(yes) is True
    for no in ("nein", "n", "falsch", "0", 0, False, "no"):
        assert parse_bool(no) is False
    with pytest.raises(ValueProblem):
        parse_bool("vielleicht")


def test_ids_and_keys() -> None:
    assert parse_int(1234.0) == 1234
    assert parse_int("1234.0") == 1234
    assert parse_int(" 17 ") == 17
    for bad in ("1.23E+05", 12.5, "abc", True):
        with pytest.raises(ValueProblem):
            parse_int(bad)
    assert key_text(815.0) == "815"
    assert key_text(" 0815 ") == "0815"
    with pytest.raises(ValueProblem):
        key_text(8.15)


def test_invisible_characters_are_removed() -> None:
    assert clean_text("Be\u200bsich\u202etigung\x0b") == ("Besichtigung", True)
    assert clean_text("Zeile 1\nZeile 2\tTab 😀") == ("Zeile 1\nZeile 2\tTab 😀", False)


def test_dst_gap_and_fold() -> None:
    gap = local_time_problem(datetime(2027, 3, 28, 2, 30), BERLIN)
    fold = local_time_problem(datetime(2027, 10, 31, 2, 30), BERLIN)
    assert gap is not None and gap.code == "time-does-not-exist"
    assert fold is not None and fold.code == "time-ambiguous"
    assert local_time_problem(datetime(2027, 3, 28, 3, 30), BERLIN) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15 Min", "15 minutes"),
        ("1 Std", "1 hours"),
        ("2 Tage", "2 days"),
        ("1 Woche", "1 weeks"),
        ("30 minutes", "30 minutes"),
        ("bald", "bald"),
    ],
)
def test_reminder_words(text: str, expected: str) -> None:
    assert normalise_reminder(text) == expected
