"""Calendar files as input (.ics; Outlook's CSV): the shipped samples and mappings, times,
series, overrides, alarms, contacts, re-exports, and hostile calendars."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from importer import check
from importer.core.errors import ExitCode
from importer.rules.check import prepare
from importer.run.submit import planned_check, run_import
from importer.sandbox import Sandbox
from samples.make_samples import OUTLOOK_TZ

from .files import write_csv
from .helpers import cli, client_for, edit_in_onoffice, sheet_rows, write
from .helpers import rows as list_rows

ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "samples"
ICS_MAPPING = ROOT / "mappings" / "ics.yaml"
OUTLOOK_CSV = ROOT / "mappings" / "outlook-csv.yaml"
SHOWN = ("start_dt", "end_dt", "description", "ganztags", "status", "erinnerung", "origin")
SHOWN += ("rp_type", "rp_tage", "rp_ende_datum", "rp_ende_status", "rp_exception")


def calendar(tmp_path: Path, *events: str, name: str = "c.ics", zone: str = "") -> Path:
    body = "".join(f"BEGIN:VEVENT\n{e.strip()}\nEND:VEVENT\n" for e in events)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n{zone}{body}END:VCALENDAR\n"
    path = tmp_path / name
    path.write_text(text.replace("\n", "\r\n"), encoding="utf-8")
    return path


def rows(path: Path, mapping: Path = ICS_MAPPING) -> dict[int, Any]:
    result = check(path, mapping, report=False)
    return {o.row: o for o in result.outcomes}


def data(outcome: Any) -> dict[str, Any]:
    payload = (outcome.parameters or {}).get("data", {})
    return {k: v for k, v in payload.items() if k in SHOWN}


# --- the shipped samples ---------------------------------------------------------------------
@pytest.mark.parametrize("export", ["outlook", "google", "apple"])
def test_each_calendar_export_reads_the_same_viewings(export: str) -> None:
    got = rows(SAMPLES / f"{export}.ics")
    assert [r for r, o in got.items() if o.valid] == [2, 3, 4, 5, 6, 7]
    assert data(got[2]) == {
        "start_dt": "2027-03-05 10:00:00",
        "end_dt": "2027-03-05 10:45:00",
        "description": "Besichtigung AC-1042 mit Sabine Krüger",
        "status": "active",
        "erinnerung": "15 minutes",
        "origin": True,
    }
    series = data(got[3])
    assert series["rp_type"] == "w" and series["rp_tage"] == 1
    assert series["rp_exception"] == "#2027-03-26#2027-04-09"  # EXDATE and the moved one
    assert series["rp_ende_datum"] == ("2027-04-23" if export == "apple" else "2027-04-30")
    moved = data(got[4])
    assert moved["start_dt"] == "2027-04-08 16:00:00" and "rp_type" not in moved
    assert data(got[5])["ganztags"] is True
    assert (data(got[5])["start_dt"], data(got[5])["end_dt"]) == (
        "2027-03-10 00:00:00",
        "2027-03-10 23:59:59",
    )
    assert data(got[6])["end_dt"] == "2027-03-11 15:15:00"
    assert [p.code for p in got[6].problems] == ["cell-warning"]
    assert "20 min" in got[6].problems[0].message and got[6].problems[0].columns == ("VALARM",)
    assert data(got[7])["status"] == "canceled"
    refused = got[8].problems[0]
    assert refused.code == "ics-rule-unsupported" and refused.columns == ("REPEAT",)
    assert "FREQ=MONTHLY" in refused.message


def test_the_calendar_imports_and_a_re_export_updates_instead_of_duplicating(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """As a user runs it: check, run (contacts and agent found by e-mail, origin set), then
    the calendar exported again with one viewing moved: one update, nothing twice."""
    source = tmp_path / "google.ics"
    shutil.copy(SAMPLES / "google.ics", source)
    home = tmp_path / "pc"
    checked = cli(
        ["check", str(source), "-m", str(ICS_MAPPING), "--resolve"], sandbox, home, tmp_path
    )
    assert checked.returncode == ExitCode.ROWS_FAILED, checked.stdout + checked.stderr
    assert "6 valid, 1 invalid" in checked.stdout
    ran = cli(["run", str(source), "-m", str(ICS_MAPPING)], sandbox, home, tmp_path)
    assert "6 created" in ran.stdout, ran.stdout + ran.stderr
    made = {a["description"]: a for a in sandbox.store.all_appointments()}
    assert len(made) == 6
    first = made["Besichtigung AC-1042 mit Sabine Krüger"]
    assert first.get("origin") in (True, 1, "1")
    assert first["address_ids"] == [5431]  # sabine.krueger@example.de
    assert first["users"] == [17]  # m.mueller@immo-rheinland.example
    text = source.read_text(encoding="utf-8")
    text = text.replace("DTSTART:20270305T090000Z", "DTSTART:20270305T100000Z")
    source.write_text(text.replace("DTEND:20270305T094500Z", "DTEND:20270305T104500Z"), "utf-8")
    again = cli(["run", str(source), "-m", str(ICS_MAPPING)], sandbox, tmp_path / "pc2", tmp_path)
    assert "1 updated" in again.stdout, again.stdout + again.stderr
    assert sandbox.store.count_appointments() == 6
    moved = next(
        a
        for a in sandbox.store.all_appointments()
        if a["description"] == "Besichtigung AC-1042 mit Sabine Krüger"
    )
    assert moved["start_dt"] == "2027-03-05 11:00:00"


def test_mapping_init_on_a_calendar_drafts_the_shipped_mapping(tmp_path: Path) -> None:
    source = tmp_path / "outlook.ics"
    shutil.copy(SAMPLES / "outlook.ics", source)
    from importer.mapping.draft import draft_mapping

    drafted = tmp_path / "drafted.yaml"
    drafted.write_text(draft_mapping(source).yaml, encoding="utf-8")
    mine, shipped = rows(source, drafted), rows(source)
    assert {r: (o.valid, o.parameters) for r, o in mine.items()} == {
        r: (o.valid, o.parameters) for r, o in shipped.items()
    }


# --- times -----------------------------------------------------------------------------------
OUTLOOK_ZONE = OUTLOOK_TZ  # the shipped samples' Windows zone, with its VTIMEZONE
NEW_YORK_ZONE = """BEGIN:VTIMEZONE
TZID:Eastern
BEGIN:STANDARD
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
END:DAYLIGHT
END:VTIMEZONE
"""


@pytest.mark.parametrize(
    ("lines", "zone", "start", "end"),
    [
        # UTC in summer (+2) and in winter (+1)
        ("DTSTART:20270705T080000Z\nDTEND:20270705T090000Z", "", "10:00", "11:00"),
        ("DTSTART:20271205T080000Z\nDTEND:20271205T090000Z", "", "09:00", "10:00"),
        # a Windows zone name with its VTIMEZONE (Outlook)
        (
            'DTSTART;TZID="W. Europe Standard Time":20270705T100000\n'
            'DTEND;TZID="W. Europe Standard Time":20270705T110000',
            OUTLOOK_ZONE,
            "10:00",
            "11:00",
        ),
        # another zone, defined only by its VTIMEZONE: converted to Berlin
        ("DTSTART;TZID=Eastern:20270705T040000\nDURATION:PT90M", NEW_YORK_ZONE, "10:00", "11:30"),
        # an IANA name; floating time is Berlin's
        (
            "DTSTART;TZID=America/New_York:20270705T040000\nDTEND;TZID=America/New_York:20270705T050000",
            "",
            "10:00",
            "11:00",
        ),
        ("DTSTART:20270705T100000\nDTEND:20270705T101500", "", "10:00", "10:15"),
    ],
)
def test_times_become_berlin_wall_clock(
    tmp_path: Path, lines: str, zone: str, start: str, end: str
) -> None:
    got = rows(calendar(tmp_path, f"UID:a\nSUMMARY:x\n{lines}", zone=zone))
    d = data(got[2])
    assert (d["start_dt"][11:16], d["end_dt"][11:16]) == (start, end), got[2].problems


def test_all_day_events_end_on_their_last_day(tmp_path: Path) -> None:
    got = rows(
        calendar(
            tmp_path,
            "UID:1\nSUMMARY:one day\nDTSTART;VALUE=DATE:20270310\nDTEND;VALUE=DATE:20270311",
            "UID:2\nSUMMARY:three days\nDTSTART;VALUE=DATE:20270310\nDTEND;VALUE=DATE:20270313",
            "UID:3\nSUMMARY:no end\nDTSTART;VALUE=DATE:20270310",
        )
    )
    ends = [(data(o)["start_dt"], data(o)["end_dt"], data(o).get("ganztags")) for o in got.values()]
    assert ends == [
        ("2027-03-10 00:00:00", "2027-03-10 23:59:59", True),
        ("2027-03-10 00:00:00", "2027-03-12 23:59:59", True),
        ("2027-03-10 00:00:00", "2027-03-10 23:59:59", True),
    ]


# --- series ------------------------------------------------------------------------------------
# 2027-03-01 is a Monday
@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            "FREQ=DAILY;INTERVAL=2;COUNT=5",
            {"rp_type": "t", "rp_tage": 2, "rp_ende_datum": "2027-03-09"},
        ),
        (
            "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270329T235959Z",
            {"rp_type": "w", "rp_ende_datum": "2027-03-29"},
        ),
        ("FREQ=WEEKLY;WKST=MO", {"rp_type": "w", "rp_ende_status": 2}),  # no end: open-ended
        # an UNTIL with a time ends on the last occurrence, not on the UNTIL's own day
        ("FREQ=WEEKLY;UNTIL=20270329T000000Z", {"rp_type": "w", "rp_ende_datum": "2027-03-22"}),
        ("FREQ=MONTHLY;BYMONTHDAY=1;COUNT=3", {"rp_type": "m", "rp_ende_datum": "2027-05-01"}),
        (
            "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=1;COUNT=2",
            {"rp_type": "j", "rp_ende_datum": "2028-03-01"},
        ),
        ("FREQ=WEEKLY;BYDAY=MO,WE", "BYDAY=MO,WE"),
        ("FREQ=MONTHLY;BYDAY=1MO", "BYDAY=1MO"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1", "have no BYSETPOS"),
        ("FREQ=MONTHLY;BYMONTHDAY=1;BYSETPOS=1", "BYSETPOS"),
        ("FREQ=HOURLY;COUNT=3", "only daily, weekly, monthly or yearly"),
        ("FREQ=DAILY;COUNT=1000000", "a series of 1 to 10000 occurrences"),
        ("FREQ=DAILY;COUNT=0", "a series of 1 to 10000 occurrences"),
        ("FREQ=DAILY;INTERVAL=x", "cannot be read"),
        ("FREQ=DAILY;INTERVAL=1000", "an interval from 1 to 999"),
        ("FREQ=DAILY;BYHOUR=9,17", "BYHOUR"),
    ],
)
def test_rules_onoffice_can_repeat_become_series_the_others_are_named(
    tmp_path: Path, rule: str, expected: dict[str, Any] | str
) -> None:
    event = f"UID:s\nSUMMARY:x\nDTSTART:20270301T100000\nDTEND:20270301T110000\nRRULE:{rule}"
    got = rows(calendar(tmp_path, event))[2]
    if isinstance(expected, str):
        assert not got.valid
        assert [p.code for p in got.problems] == ["ics-rule-unsupported"]
        assert expected in got.problems[0].message and rule.split(";")[0] in got.problems[0].message
    else:
        assert got.valid, got.problems
        d = data(got)
        assert {k: d.get(k) for k in expected} == expected


def test_overrides_are_rows_of_their_own_and_left_out_of_their_series(tmp_path: Path) -> None:
    series = "UID:s\nSUMMARY:weekly\nDTSTART:20270301T100000\nDTEND:20270301T110000\n"
    series += "RRULE:FREQ=WEEKLY;COUNT=4\nEXDATE:20270308T100000"
    moved = "UID:s\nRECURRENCE-ID:20270315T100000\nSUMMARY:weekly (moved)\n"
    moved += "DTSTART:20270316T120000\nDTEND:20270316T130000"
    cancelled = "UID:s\nRECURRENCE-ID:20270322T100000\nSUMMARY:weekly\nSTATUS:CANCELLED\n"
    cancelled += "DTSTART:20270322T100000\nDTEND:20270322T110000"
    lone = "UID:other\nRECURRENCE-ID:20270401T100000\nSUMMARY:an occurrence alone\n"
    lone += "DTSTART:20270402T100000\nDTEND:20270402T110000"
    got = rows(calendar(tmp_path, moved, series, cancelled, lone))
    assert [(r, data(o)["description"]) for r, o in got.items()] == [
        (2, "weekly"),
        (3, "weekly (moved)"),
        (4, "an occurrence alone"),
    ]
    assert data(got[2])["rp_exception"] == "#2027-03-08#2027-03-15#2027-03-22"
    assert data(got[3])["start_dt"] == "2027-03-16 12:00:00" and "rp_type" not in data(got[3])
    assert all(o.valid for o in got.values())


def test_alarms_become_the_nearest_reminder_with_a_warning_when_it_differs(tmp_path: Path) -> None:
    def alarm(trigger: str) -> str:
        return f"BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER{trigger}\nEND:VALARM"

    base = "SUMMARY:x\nDTSTART:20270301T100000\nDTEND:20270301T110000\n"
    got = rows(
        calendar(
            tmp_path,
            f"UID:1\n{base}{alarm(':-PT15M')}",
            f"UID:2\n{base}{alarm(':-PT50M')}",
            f"UID:3\n{base}{alarm(':-P1D')}",
            f"UID:4\n{base}{alarm(';VALUE=DATE-TIME:20270301T080000Z')}",  # 09:00 in Berlin
            f"UID:5\n{base}{alarm(';RELATED=END:-PT90M')}",  # 09:30: 30 minutes before start
        )
    )
    reminders = [(data(o)["erinnerung"], [p.code for p in o.problems]) for o in got.values()]
    assert reminders == [
        ("15 minutes", []),
        ("1 hours", ["cell-warning"]),
        ("1 days", []),
        ("1 hours", []),
        ("30 minutes", []),
    ]


# --- Outlook's CSV ---------------------------------------------------------------------------
def test_outlook_csv_with_german_and_english_headers_reads_the_same() -> None:
    german = rows(SAMPLES / "outlook-de.csv", OUTLOOK_CSV)
    english = rows(SAMPLES / "outlook-en.csv", OUTLOOK_CSV)
    assert {r: data(o) for r, o in german.items()} == {r: data(o) for r, o in english.items()}
    assert [r for r, o in german.items() if not o.valid] == [5]
    assert german[5].problems[0].code == "end-before-start"
    assert data(german[3]) == {
        "start_dt": "2027-03-10 00:00:00",
        "end_dt": "2027-03-10 23:59:59",  # Outlook's end: midnight after the day
        "description": "Übergabe K-2201",
        "ganztags": True,
        "origin": True,
    }
    assert german[2].parameters["data"]["note"] == (  # type: ignore[index]
        "Schlüssel beim Hausmeister.\nParkplatz im Hof.\n\nTeilnehmer: Sabine Krüger"
    )


# --- hostile calendars -----------------------------------------------------------------------
HOSTILE = [
    ("cut", lambda: b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\n", "END:VEVENT is missing"),
    ("no-calendar", lambda: b"hello\r\nworld\r\n", "not a calendar"),
    (
        "nested",
        lambda: b"BEGIN:VCALENDAR\r\n" + b"BEGIN:X\r\n" * 5000 + b"END:X\r\n" * 5000,
        "nested more than 8 deep",
    ),
    ("stray-end", lambda: b"BEGIN:VCALENDAR\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n", "END:VEVENT"),
    ("empty-calendar", lambda: b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "no events"),
    (
        "too-large",
        lambda: b"BEGIN:VCALENDAR\r\n" + b"X-PAD:" + b"a" * (60 * 1024 * 1024) + b"\r\n",
        "more than the limit",
    ),
]


@pytest.mark.parametrize(("name", "make", "says"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_calendar_gets_one_line_and_exit_2(
    tmp_path: Path, sandbox: Sandbox, name: str, make: Any, says: str
) -> None:
    path = tmp_path / f"{name}.ics"
    path.write_bytes(make())
    done = cli(["check", str(path), "-m", str(ICS_MAPPING)], sandbox, tmp_path / "pc", tmp_path)
    out = done.stdout + done.stderr
    assert done.returncode == ExitCode.INPUT_REJECTED, out
    assert "Traceback" not in out and says in out and path.name in out
    assert len(out.strip().splitlines()) == 1
    assert not list(tmp_path.glob("*.check.xlsx"))


def test_a_bad_date_is_a_row_error_and_the_other_events_go_on(tmp_path: Path) -> None:
    got = rows(
        calendar(
            tmp_path,
            "UID:1\nSUMMARY:ok\nDTSTART:20270301T100000\nDTEND:20270301T110000",
            "UID:2\nSUMMARY:bad\nDTSTART:20271345T100000Z\nDTEND:20271345T110000Z",
            "UID:3\nSUMMARY:no start",
        )
    )
    assert [o.valid for o in got.values()] == [True, False, False]
    assert (
        got[3].problems[0].code == "ics-bad-date"
        and "20271345T100000Z" in got[3].problems[0].message
    )
    assert got[4].problems[0].code == "ics-bad-date" and "DTSTART" in got[4].problems[0].message


def test_what_a_series_cannot_hold_is_said_never_dropped(tmp_path: Path) -> None:
    """Two RRULEs, RDATE, an unknown zone, a series in another zone: an error or a warning
    naming it; a rule written for a weekday in its own zone is that weekday there."""
    base = "SUMMARY:x\nDTEND:20270301T110000\n"
    got = rows(
        calendar(
            tmp_path,
            f"UID:1\n{base}DTSTART:20270301T100000\nRRULE:FREQ=DAILY;COUNT=2\nRRULE:FREQ=WEEKLY",
            f"UID:2\n{base}DTSTART:20270301T100000\nRRULE:FREQ=DAILY;COUNT=2\nRDATE:20270310T100000",
            "UID:3\nSUMMARY:x\nDTSTART;TZID=Mars/Olympus:20270301T100000\nDURATION:PT1H",
            # Friday 20:00 in Los Angeles is Saturday 04:00 in Berlin: weekly on that Saturday
            "UID:4\nSUMMARY:x\nDTSTART;TZID=America/Los_Angeles:20270305T200000\n"
            "DURATION:PT1H\nRRULE:FREQ=WEEKLY;BYDAY=FR;COUNT=3",
        )
    )
    assert "2 RRULEs" in got[2].problems[0].message and not got[2].valid
    assert "RDATE" in got[3].problems[0].message and not got[3].valid
    assert got[4].valid and "'Mars/Olympus' is unknown" in got[4].problems[0].message
    series = data(got[5])
    assert got[5].valid and series["start_dt"] == "2027-03-06 05:00:00"
    assert series["rp_type"] == "w" and series["rp_ende_datum"] == "2027-03-20"
    assert "America/Los_Angeles" in got[5].problems[0].message  # an hour off after a change


def test_events_without_uid_are_rows_of_their_own(tmp_path: Path) -> None:
    """Without UIDs nothing pairs: two series stay apart, an override is a single row."""
    path = calendar(
        tmp_path,
        "SUMMARY:A\nDTSTART:20270301T100000\nDTEND:20270301T110000\nRRULE:FREQ=WEEKLY;COUNT=3",
        "SUMMARY:B\nDTSTART:20270301T150000\nDTEND:20270301T160000\nRRULE:FREQ=WEEKLY;COUNT=3",
        "SUMMARY:A moved\nRECURRENCE-ID:20270308T100000\nDTSTART:20270309T100000\n"
        "DTEND:20270309T110000",
    )
    from importer.source import ics

    events = ics.read_events(path, path.read_bytes(), 100)
    assert [r["SUMMARY"] for r in events.rows] == ["A", "B", "A moved"]
    assert [r["EXDATE"] for r in events.rows] == [None, None, None]


def test_a_small_file_of_long_rules_is_counted_within_a_budget(tmp_path: Path) -> None:
    """20 series of 10,000 occurrences are the file's budget exactly (200,000): each counted;
    past it 480 rules to 2050 end on their UNTIL's own day, read in seconds, not minutes,
    and a COUNT, whose last day only counting finds, is its row's error (it was the first
    occurrence's day: a five-week series imported as one day)."""
    import time as clock

    base = "SUMMARY:x\nDTSTART:20270301T100000\nDTEND:20270301T110000\nRRULE:FREQ="
    events = [f"UID:c{n}\n{base}DAILY;COUNT=10000" for n in range(20)]
    events += [f"UID:{n}\n{base}DAILY;UNTIL=20500101T000000Z" for n in range(480)]
    events += [f"UID:w\n{base}WEEKLY;COUNT=5", f"UID:u\n{base}WEEKLY;UNTIL=20270305"]
    began = clock.monotonic()
    read = read_rows(tmp_path, *events, max_rows=1000)
    assert clock.monotonic() - began < 30
    assert [r["UNTIL"] for r in read.rows[:20]] == ["16.07.2054"] * 20
    assert {r["UNTIL"] for r in read.rows[20:500]} == {"01.01.2050"}
    assert [r["UNTIL"] for r in read.rows[500:]] == [None, "05.03.2027"]
    assert read.budget == -482  # past it, each rule costs the one occurrence that shows it
    assert read.errors == {
        (502, "REPEAT"): (
            "ics-rule-unsupported",
            "RRULE FREQ=WEEKLY;COUNT=5: the file's series hold more than 200000 occurrences "
            "in all, the most counted in one file, so this one's last day is not known; "
            "split the file",
        )
    }


def read_rows(tmp_path: Path, *events: str, zone: str = "", max_rows: int = 100) -> Any:
    """The reader's own rows, errors and warnings (no mapping)."""
    from importer.source import ics

    path = calendar(tmp_path, *events, zone=zone)
    return ics.read_events(path, path.read_bytes(), max_rows)


# --- issue 32: calendars as people's programs write them ---------------------------------------
def resolved(path: Path, sandbox: Sandbox, mapping: Path = ICS_MAPPING) -> dict[int, Any]:
    from importer.onoffice.client import OnOfficeClient, Timeouts

    with OnOfficeClient(sandbox.url, sandbox.credentials, timeouts=Timeouts(2, 5)) as client:
        result = check(path, mapping, api=client, report=False)
    return {o.row: o for o in result.outcomes}


MEETING = (
    "UID:m\nSUMMARY:Notartermin\nDTSTART:20270305T100000\nDTEND:20270305T110000\n"
    "ORGANIZER;CN=Notar:mailto:termine@notariat.example\n"
    "ATTENDEE;CN=Maria:mailto:M.Mueller@Immo-Rheinland.example\n"
    "ATTENDEE;CN=Sabine:mailto:sabine.krueger@example.de\n"
    "ATTENDEE;CN=Hausmeister:invalid:nomail\n"
    "ATTENDEE;CUTYPE=ROOM;CN=Konferenzraum:mailto:raum@immo-rheinland.example\n"
    "ATTENDEE:mailto:TERMINE@notariat.example"
)


def test_an_unknown_attendee_is_the_rows_error_where_the_mapping_says_so(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """`missing: error` on the attendee look-up: the notary (neither user nor contact) fails
    the row, naming the e-mail; the shipped mapping imports the row without them."""
    path = calendar(tmp_path, MEETING)
    strict = tmp_path / "strict.yaml"
    text = ICS_MAPPING.read_text(encoding="utf-8")
    strict.write_text(text.replace("by: email, missing: leave-out", "by: email, missing: error"))
    got = resolved(path, sandbox, strict)[2]
    assert not got.valid
    assert [p.code for p in got.errors] == ["attendee-not-found"]
    assert "termine@notariat.example" in got.errors[0].message
    shipped = resolved(path, sandbox)[2]
    assert shipped.valid and shipped.parameters is not None
    assert shipped.parameters["subscribers"] == {"users": [17]}
    assert shipped.parameters["relatedAddressIds"] == [5431]
    assert shipped.parameters["data"]["ressources"] == ["ind_Schl_3153"]
    assert sorted(p.code for p in shipped.warnings) == ["cell-warning", "left-out"]


def test_the_organiser_is_one_person_whatever_the_letter_case(tmp_path: Path) -> None:
    """The organiser listed again as an attendee in other letter case is not a second
    attendee; Outlook's invalid:nomail is left out with a warning naming the person."""
    from importer.source import ics

    path = calendar(tmp_path, MEETING)
    events = ics.read_events(path, path.read_bytes(), 10)
    row = events.rows[0]
    assert row["ORGANIZER"] == "termine@notariat.example"
    assert row["ATTENDEE"] == "M.Mueller@Immo-Rheinland.example, sabine.krueger@example.de"
    assert row["RESOURCES"] == "Konferenzraum"
    assert "'Hausmeister' has no e-mail ('invalid:nomail')" in events.warnings[(2, "ATTENDEE")]


def test_a_room_is_left_out_where_the_account_has_no_resources(tmp_path: Path) -> None:
    import json

    from importer.sandbox import fixtures_from_dict

    raw = json.loads((SAMPLES / "sandbox-fixtures.json").read_text(encoding="utf-8"))
    with Sandbox(fixtures_from_dict({**raw, "resources": {}})) as bare:
        got = resolved(calendar(tmp_path, MEETING), bare)[2]
    assert got.valid and got.parameters is not None
    assert "ressources" not in got.parameters["data"]
    left = [p.message for p in got.warnings if p.code == "left-out"]
    assert any("Konferenzraum" in m for m in left), left


def test_a_utf16_calendar_is_read_by_its_byte_order_mark(tmp_path: Path) -> None:
    from importer.source import ics

    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\n"
        "DTSTART:20270301T100000\r\nSUMMARY:Übergabe\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    events = ics.read_events(tmp_path / "c.ics", text.encode("utf-16"), 10)
    assert events.rows[0]["SUMMARY"] == "Übergabe" and events.encoding == "utf-16"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ("\ufffd".encode(), "line 6 holds the replacement character"),  # lost before the export
        (b"\x81", "line 6: the byte 0x81 is not CP1252"),  # no UTF-8, and no cp1252 either
        (b"\xc3\xbc\xfc", "line 6: the byte 0xFC is not UTF-8"),  # UTF-8 and one byte of cp1252
        (b"\r\nX-NAME;CHARSET=klingon:x", "declares the character set 'klingon', which is unknown"),
    ],
    ids=["replacement-character", "no-character-set", "mixed", "unknown-charset"],
)
def test_bytes_of_no_character_set_are_refused_naming_the_line(
    tmp_path: Path, data: bytes, says: str
) -> None:
    from importer.core.errors import SourceFileError
    from importer.source import ics

    raw = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART:20270301T100000\r\n"
        b"SUMMARY:x" + data + b"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    with pytest.raises(SourceFileError) as refused:
        ics.read_events(tmp_path / "c.ics", raw, 10)
    assert refused.value.code == "ics-encoding" and says in str(refused.value)


def test_alarms_that_never_ring_set_no_reminder_and_every_warning_is_kept(
    tmp_path: Path,
) -> None:
    def alarm(action: str, trigger: str, extra: str = "") -> str:
        return f"BEGIN:VALARM\nACTION:{action}\nTRIGGER{trigger}\n{extra}END:VALARM"

    base = "SUMMARY:x\nDTSTART:20270301T100000\nDTEND:20270301T110000\n"
    placeholder = alarm("NONE", ";VALUE=DATE-TIME:19760401T005545Z", "X-APPLE-DEFAULT-ALARM:TRUE\n")
    at_start = alarm("DISPLAY", ":PT0S")
    got = rows(
        calendar(
            tmp_path,
            f"UID:1\n{base}{placeholder}",
            f"UID:2\n{base}{alarm('NONE', ':-PT1H')}",
            f"UID:3\n{base}{at_start}",
            f"UID:4\n{base}{alarm('DISPLAY', ';RELATED=START:-PT0M')}",
            f"UID:5\n{base}{placeholder}\n{at_start}",
            # after the start, and two alarms: both said on the one cell
            f"UID:6\n{base}{alarm('DISPLAY', ':PT20M')}\n{alarm('DISPLAY', ':-PT50M')}",
        )
    )
    reminders = [(data(o).get("erinnerung"), [p.code for p in o.problems]) for o in got.values()]
    assert reminders == [
        (None, []),
        (None, []),
        ("0 minutes", []),
        ("0 minutes", []),
        ("0 minutes", []),
        ("0 minutes", ["cell-warning"]),
    ]
    said = got[7].problems[0].message
    assert "after the start" in said and "2 alarms" in said


GAP_FORMS = [
    ("floating", "DTSTART:20270328T023000\nDTEND:20270328T033000", ""),
    (
        "Berlin",
        "DTSTART;TZID=Europe/Berlin:20270328T023000\nDTEND;TZID=Europe/Berlin:20270328T033000",
        "",
    ),
    (
        "Outlook with VTIMEZONE",
        'DTSTART;TZID="W. Europe Standard Time":20270328T023000\n'
        'DTEND;TZID="W. Europe Standard Time":20270328T033000',
        OUTLOOK_ZONE,
    ),
    (
        "Windows name alone",
        'DTSTART;TZID="W. Europe Standard Time":20270328T023000\n'
        'DTEND;TZID="W. Europe Standard Time":20270328T033000',
        "",
    ),
]


@pytest.mark.parametrize(("form", "lines", "zone"), GAP_FORMS, ids=[g[0] for g in GAP_FORMS])
def test_a_time_the_clock_skips_is_refused_the_same_way_in_every_form(
    tmp_path: Path, form: str, lines: str, zone: str
) -> None:
    got = rows(calendar(tmp_path, f"UID:g\nSUMMARY:x\n{lines}", zone=zone))[2]
    assert not got.valid
    assert [(p.code, p.columns, p.message) for p in got.errors] == [
        (
            "time-does-not-exist",
            ("DTSTART",),
            "28.03.2027 02:30 does not exist: the clocks jump forward to summer time",
        )
    ]


@pytest.mark.parametrize(("form", "lines", "zone"), GAP_FORMS, ids=[g[0] for g in GAP_FORMS])
def test_a_time_the_clock_repeats_is_sent_as_written_with_the_same_warning_in_every_form(
    tmp_path: Path, form: str, lines: str, zone: str
) -> None:
    autumn = lines.replace("20270328T023000", "20271031T023000").replace(
        "20270328T033000", "20271031T033000"
    )
    got = rows(calendar(tmp_path, f"UID:f\nSUMMARY:x\n{autumn}", zone=zone))[2]
    assert got.valid and data(got)["start_dt"] == "2027-10-31 02:30:00"
    assert [(p.code, p.message) for p in got.problems] == [
        (
            "time-ambiguous",
            "31.10.2027 02:30 happens twice: the clocks go back; it is sent as written",
        )
    ]


@pytest.mark.parametrize(
    ("start", "zone"),
    [
        ("DTSTART:20270301T100000", ""),
        ("DTSTART;TZID=Europe/Berlin:20270301T100000", ""),
        ('DTSTART;TZID="W. Europe Standard Time":20270301T100000', OUTLOOK_ZONE),
        ("DTSTART:20270301T090000Z", ""),
    ],
    ids=["floating", "Berlin", "Outlook", "UTC"],
)
def test_a_date_only_until_ends_on_that_day_for_any_start(
    tmp_path: Path, start: str, zone: str
) -> None:
    event = f"UID:u\nSUMMARY:x\n{start}\nDURATION:PT1H\nRRULE:FREQ=WEEKLY;UNTIL=20270329"
    got = rows(calendar(tmp_path, event, zone=zone))[2]
    assert got.valid, got.problems
    assert data(got)["rp_ende_datum"] == "2027-03-29"


def test_exchange_all_day_flags_make_all_day_appointments(tmp_path: Path) -> None:
    zone = 'TZID="W. Europe Standard Time"'
    got = rows(
        calendar(
            tmp_path,
            f"UID:1\nSUMMARY:a\nDTSTART;{zone}:20270310T000000\nDTEND;{zone}:20270311T000000\n"
            "X-MICROSOFT-CDO-ALLDAYEVENT:TRUE",
            f"UID:2\nSUMMARY:b\nDTSTART;{zone}:20270310T000000\nDTEND;{zone}:20270313T000000\n"
            "X-MICROSOFT-MSNCALENDAR-ALLDAYEVENT:TRUE",
            # the flag false, or times that are not midnight: a timed appointment as written
            f"UID:3\nSUMMARY:c\nDTSTART;{zone}:20270310T000000\nDTEND;{zone}:20270311T000000\n"
            "X-MICROSOFT-CDO-ALLDAYEVENT:FALSE",
            f"UID:4\nSUMMARY:d\nDTSTART;{zone}:20270310T090000\nDTEND;{zone}:20270310T100000\n"
            "X-MICROSOFT-CDO-ALLDAYEVENT:TRUE",
            zone=OUTLOOK_ZONE,
        )
    )
    shown = [
        (data(o)["start_dt"], data(o)["end_dt"], data(o).get("ganztags")) for o in got.values()
    ]
    assert shown == [
        ("2027-03-10 00:00:00", "2027-03-10 23:59:59", True),
        ("2027-03-10 00:00:00", "2027-03-12 23:59:59", True),
        ("2027-03-10 00:00:00", "2027-03-11 00:00:00", None),
        ("2027-03-10 09:00:00", "2027-03-10 10:00:00", None),
    ]


def test_an_endless_until_is_a_series_without_end_and_errors_name_their_property(
    tmp_path: Path,
) -> None:
    got = rows(
        calendar(
            tmp_path,
            "UID:1\nSUMMARY:x\nDTSTART:20270301T100000\nDURATION:PT1H\n"
            "RRULE:FREQ=WEEKLY;UNTIL=99991231T235959Z",
            "UID:2\nSUMMARY:x\nDTSTART:20270301T100000\nDURATION:P99999999D",
        )
    )
    assert got[2].valid and data(got[2])["rp_ende_status"] == 2
    assert "rp_ende_datum" not in data(got[2])
    bad = got[3].errors[0]
    assert bad.code == "ics-unreadable" and bad.columns == ("DTEND",)
    assert bad.message.startswith("DTEND: ")


@pytest.mark.parametrize(
    ("rule", "valid"),
    [
        ("FREQ=DAILY;INTERVAL=999;COUNT=2", True),
        ("FREQ=DAILY;INTERVAL=1000;COUNT=2", False),
        ("FREQ=DAILY;COUNT=10000", True),
        ("FREQ=DAILY;COUNT=10001", False),
    ],
)
def test_the_series_limits_hold_exactly_at_their_edges(
    tmp_path: Path, rule: str, valid: bool
) -> None:
    event = f"UID:e\nSUMMARY:x\nDTSTART:20270301T100000\nDURATION:PT1H\nRRULE:{rule}"
    got = rows(calendar(tmp_path, event))[2]
    assert got.valid is valid, got.problems
    if not valid:
        assert [p.code for p in got.errors] == ["ics-rule-unsupported"]


@pytest.mark.parametrize(("depth", "valid"), [(8, True), (9, False)])
def test_components_nested_exactly_8_deep_are_read_9_are_refused(
    tmp_path: Path, depth: int, valid: bool
) -> None:
    from importer.core.errors import SourceFileError
    from importer.source import ics

    inner = depth - 3  # VCALENDAR > VEVENT > VALARM, then X- components
    nest = "".join(f"BEGIN:X-N{i}\r\n" for i in range(inner))
    nest += "".join(f"END:X-N{i}\r\n" for i in reversed(range(inner)))
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:1\r\nDTSTART:20270301T100000\r\n"
        f"BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\n{nest}END:VALARM\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    if valid:
        assert ics.read_events(tmp_path / "n.ics", text.encode(), 10).rows[0]["VALARM"]
    else:
        with pytest.raises(SourceFileError, match="nested more than 8 deep"):
            ics.read_events(tmp_path / "n.ics", text.encode(), 10)


def test_a_calendar_over_the_row_limit_is_refused_in_seconds_and_little_memory(
    tmp_path: Path,
) -> None:
    """200,001 events (15 MB): counted before any is parsed; refused within 10 s and 512 MiB,
    measured in a process of its own (the check as a user runs it)."""
    event = (
        "BEGIN:VEVENT\r\nUID:{n}\r\nSUMMARY:Termin {n}\r\nDTSTART:20270301T100000\r\nEND:VEVENT\r\n"
    )
    path = tmp_path / "big.ics"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
        f.writelines(event.format(n=n) for n in range(200_001))
        f.write("END:VCALENDAR\r\n")
    script = (
        "import resource, sys, time\n"
        "from importer.cli import main\n"
        "began = time.monotonic()\n"
        "try:\n    main(['check', sys.argv[1], '-m', sys.argv[2]])\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "print('exit', code, 'seconds', time.monotonic() - began,\n"
        "      'kib', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), str(ICS_MAPPING)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])},
    )
    words = done.stdout.split()
    assert "more than 200000 rows" in done.stdout + done.stderr, done.stdout + done.stderr
    _, code, _, seconds, _, kib = words[-6:]
    assert int(code) == ExitCode.INPUT_REJECTED
    assert float(seconds) < 10 and int(kib) < 512 * 1024, (seconds, kib)


def test_a_re_export_that_drops_series_place_privacy_and_alarm_clears_what_it_can(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Issue 32: the series ends (rp_flag false), the place becomes "keine Angaben", private
    goes; the reminder, which the API cannot remove, is said on the row, never silently."""
    full = (
        "UID:r\nSUMMARY:Sprechstunde\nDTSTART:20270301T100000\nDTEND:20270301T110000\n"
        "RRULE:FREQ=WEEKLY;COUNT=4\nLOCATION:Büro Aachen\nCLASS:PRIVATE\n"
        "BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT15M\nEND:VALARM"
    )
    source = calendar(tmp_path, full)
    home = tmp_path / "pc"
    first = cli(["run", str(source), "-m", str(ICS_MAPPING)], sandbox, home, tmp_path)
    assert "1 created" in first.stdout, first.stdout + first.stderr
    (made,) = sandbox.store.all_appointments()
    assert made.get("rp_flag") and made.get("private") and made.get("erinnerung")
    calendar(
        tmp_path, "UID:r\nSUMMARY:Sprechstunde\nDTSTART:20270301T100000\nDTEND:20270301T110000"
    )
    again = cli(["run", str(source), "-m", str(ICS_MAPPING)], sandbox, home, tmp_path)
    assert "1 updated" in again.stdout, again.stdout + again.stderr
    (now,) = sandbox.store.all_appointments()
    assert not now.get("rp_flag") and not now.get("private")
    assert now.get("location") == {"keine Angaben": ""}

    sheet = openpyxl.load_workbook(tmp_path / "c.results.xlsx").worksheets[0]
    said = [str(c.value) for row in sheet.iter_rows() for c in row if c.value]
    assert any("the reminder stays in onOffice" in s for s in said), said


def test_a_dropped_alarm_is_said_on_screen_and_on_every_later_run_from_any_computer(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Issue 32, point 7: the reminder, which no modify can remove, stays in onOffice; the run
    that drops it says so on screen too, and later runs (this computer's "already-created",
    another's "exists") say it again, where they once said nothing: onOffice still differs."""
    event = "UID:r\nSUMMARY:Sprechstunde\nDTSTART:20270301T100000\nDTEND:20270301T110000"
    alarm = "\nBEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT15M\nEND:VALARM"
    source = calendar(tmp_path, event + alarm)
    args = ["--lang", "en", "run", str(source), "-m", str(ICS_MAPPING)]
    assert "1 created" in cli(args, sandbox, tmp_path / "pc", tmp_path).stdout
    calendar(tmp_path, event)
    said = "row 2: onOffice keeps the reminder, which the file does not set"

    def results() -> list[Any]:
        return [r for r in sheet_rows(tmp_path / "c.results.xlsx", "Results")]

    for home, status in (("pc", "updated"), ("pc", "already-created"), ("pc2", "exists")):
        done = cli(args, sandbox, tmp_path / home, tmp_path)
        assert f"1 {status}" in done.stdout and said in done.stdout, done.stdout + done.stderr
        (row,) = results()
        assert row["Status (import)"] == status  # beside the calendar's own STATUS
        assert "the reminder stays in onOffice" in str(row["Error"]), row
        (held,) = sandbox.store.all_appointments()
        assert held.get("erinnerung") == "15 minutes"  # as said: it stays
    summary = [
        r[1]
        for r in openpyxl.load_workbook(tmp_path / "c.results.xlsx")["Summary"].iter_rows(
            values_only=True
        )
    ]
    assert any(str(s).startswith(said) for s in summary), summary
    calendar(tmp_path, event + alarm)  # the alarm back: onOffice equals the file, nothing said
    back = cli(args, sandbox, tmp_path / "pc", tmp_path)
    assert "onOffice keeps" not in back.stdout, back.stdout
    assert results()[0]["Error"] in (None, ""), results()


def test_the_check_plans_say_a_dropped_alarm_stays_in_onoffice(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Issue 32, point 7, in the dry run: a check's plan of a re-export without its alarm said
    "update" and nothing else, though the run that follows says the reminder stays; the plan
    says it too (and again once the row is updated: onOffice still holds the reminder)."""
    event = "UID:r\nSUMMARY:Sprechstunde\nDTSTART:20270301T100000\nDTEND:20270301T110000"
    alarm = "\nBEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT15M\nEND:VALARM"
    source = calendar(tmp_path, event + alarm)
    journal = tmp_path / "j.sqlite"

    def plan() -> tuple[dict[int, str], dict[int, str]]:
        prepared = prepare(source, ICS_MAPPING)
        planned = planned_check(client, source, prepared, journal_path=journal)
        return planned.plan, planned.plan_notes

    with client_for(sandbox) as client:
        made = run_import(source, ICS_MAPPING, client=client, journal_path=journal)
        assert made.counts() == {"created": 1}
        unchanged = plan()  # nothing stays that the file does not set
        assert unchanged == ({2: "unchanged"}, {2: f"appointment {made.results[2].appointment_id}"})
        calendar(tmp_path, event)
        said = "the reminder stays in onOffice: the onOffice API has no way to remove it"
        actions, notes = plan()
        assert actions == {2: "update"} and notes[2].endswith("; " + said), notes
        assert run_import(source, ICS_MAPPING, client=client, journal_path=journal).counts() == {
            "updated": 1
        }
        actions, notes = plan()
    assert actions == {2: "unchanged"} and notes[2].endswith("; " + said), (actions, notes)


def test_a_dropped_exdate_is_said_to_stay_left_out_unless_the_series_goes(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Issue 32, point 7: a re-export whose series no longer leaves 8 March out was "updated"
    while onOffice kept skipping it (`rp_exception` has no documented empty value): said, as
    the reminder is, on this run and later ones from any computer; a series dropped as a whole
    takes its left-out dates with it (nothing said)."""
    event = "UID:r\nSUMMARY:Sprechstunde\nDTSTART:20270301T100000\nDTEND:20270301T110000"
    series = event + "\nRRULE:FREQ=WEEKLY;COUNT=4"
    source = calendar(tmp_path, series + "\nEXDATE:20270308T100000")
    args = ["--lang", "en", "run", str(source), "-m", str(ICS_MAPPING)]
    assert "1 created" in cli(args, sandbox, tmp_path / "pc", tmp_path).stdout
    calendar(tmp_path, series)
    said = "row 2: onOffice keeps the series' list of left-out dates, which the file does not set"
    for home, status in (("pc", "updated"), ("pc2", "exists")):
        done = cli(args, sandbox, tmp_path / home, tmp_path)
        assert f"1 {status}" in done.stdout and said in done.stdout, done.stdout + done.stderr
        (row,) = sheet_rows(tmp_path / "c.results.xlsx", "Results")
        assert "the series' list of left-out dates stays in onOffice" in str(row["Error"]), row
        (held,) = sandbox.store.all_appointments()
        assert held["rp_exception"] == ["2027-03-08"]  # as said: still left out
    calendar(tmp_path, event)  # no series any more: nothing is left out of anything
    gone = cli(args, sandbox, tmp_path / "pc", tmp_path)
    assert "1 updated" in gone.stdout and "onOffice keeps" not in gone.stdout, gone.stdout
    (held,) = sandbox.store.all_appointments()
    assert not held.get("rp_flag")


def test_a_reminder_set_in_onoffice_is_said_only_where_the_mapping_fills_reminders(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """A read shows onOffice's reminder on any computer; it is said to stay only where the
    mapping fills reminders (a calendar's VALARM): a list without any is not told, on every
    run, of the reminders an office sets in onOffice."""
    lists = tmp_path / "list"
    lists.mkdir()
    source, mapping = write(lists, list_rows(1))
    cal = calendar(tmp_path, "UID:r\nSUMMARY:Sprechstunde\nDTSTART:20270301T100000")
    runs = [
        ["--lang", "en", "run", str(p), "-m", str(m)]
        for p, m in ((source, mapping), (cal, ICS_MAPPING))
    ]
    for args in runs:
        assert "1 created" in cli(args, sandbox, tmp_path / "pc", tmp_path).stdout
    for made in sandbox.store.all_appointments():  # an office adds reminders in onOffice
        edit_in_onoffice(sandbox, made["id"], erinnerung="1 hours")
    plain = cli(runs[0], sandbox, tmp_path / "pc2", tmp_path)
    assert "1 exists" in plain.stdout and "onOffice keeps" not in plain.stdout, plain.stdout
    told = cli(runs[1], sandbox, tmp_path / "pc2", tmp_path)
    assert "1 exists" in told.stdout, told.stdout + told.stderr
    assert "row 2: onOffice keeps the reminder, which the file does not set" in told.stdout


def test_an_event_the_parser_refuses_is_its_rows_error_and_the_others_go_on(
    tmp_path: Path,
) -> None:
    """One event with a property the parser refuses (a date parameter on a text) does not
    refuse the calendar: its row names the property; the events around it are read."""
    got = rows(
        calendar(
            tmp_path,
            "UID:1\nSUMMARY:ok\nDTSTART:20270301T100000\nDURATION:PT1H",
            "UID:2\nSUMMARY:kaputt\nDTSTART:20270301T100000\nDURATION:PT1H\n"
            "CATEGORIES;VALUE=DATE:20270301T100000",
            "UID:3\nSUMMARY:ok too\nDTSTART:20270302T100000\nDURATION:PT1H",
        )
    )
    assert [o.valid for o in got.values()] == [True, False, True]
    (error,) = got[3].errors
    assert error.code == "ics-unreadable" and error.message.startswith("CATEGORIES: ")


# --- issue 34: the reader's own lines, each pinned (bench/mutation.py ics) ------------------------
def test_month_names_are_the_twelve_in_order() -> None:
    from importer.source import ics

    assert [ics.month_name(m) for m in range(1, 13)] == [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ]


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("a.ics", b"", True),
        ("a.ICAL", b"", True),
        ("a.ifb", b"", True),
        ("a.icalendar", b"", True),
        ("a.txt", b"\xef\xbb\xbf \r\nbegin:vcalendar\r\n", True),  # BOM, blanks, lower case
        ("a.txt", b"BEGIN:VEVENT\r\n", False),
        ("a.csv", b"Subject,Start Date\r\n", False),
    ],
)
def test_a_calendar_is_known_by_its_name_or_its_first_line(
    name: str, head: bytes, expected: bool
) -> None:
    from importer.source import ics

    assert ics.is_calendar(Path(name), head) is expected


def test_an_unreadable_event_names_its_property_uid_and_summary_with_the_zones_kept(
    tmp_path: Path,
) -> None:
    """The parser refuses the file: each event is read on its own with both of the file's
    time zones; a refused one keeps its UID (with a parameter) and folded summary (with a
    colon), and names the first property refused on its own, past its alarms."""
    bad = "CATEGORIES;VALUE=DATE:20270301T100000"
    alarm = "BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT15M\nEND:VALARM"
    got = read_rows(
        tmp_path,
        "UID:1\nSUMMARY:ok\nDTSTART;TZID=Eastern:20270705T040000\nDURATION:PT1H",
        f"{bad}\nUID;X-SOURCE=test;X-B=2:u-2\nSUMMARY:Termin: No\n tar\nX-NO-COLON\n"
        "DTSTART:20270301T100000",
        f"UID:3\nSUMMARY:x\nDTSTART:20270301T100000\n{alarm}\n{bad.replace(';', ';X-A=1;')}",
        # refused only inside its alarm: no line alone is, so the event is named
        "UID:4\nSUMMARY:y\nDTSTART:20270301T100000\n"
        "BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER;VALUE=DATE:x\nEND:VALARM",
        'UID:5\nSUMMARY:z\nDTSTART;TZID="W. Europe Standard Time":20270705T100000',
        zone=NEW_YORK_ZONE + OUTLOOK_ZONE,
    )
    assert [(r["UID"], r["SUMMARY"], r["DTSTART"]) for r in got.rows] == [
        ("1", "ok", "05.07.2027 10:00"),
        ("u-2", "Termin: Notar", None),
        ("3", "x", None),
        ("4", "y", None),
        ("5", "z", "05.07.2027 10:00"),
    ]
    why = "You must use datetime, date, timedelta, time or tuple (for periods)"
    assert got.errors == {
        (3, "DTSTART"): ("ics-unreadable", f"CATEGORIES: the event cannot be read ({why})"),
        (4, "DTSTART"): ("ics-unreadable", f"CATEGORIES: the event cannot be read ({why})"),
        (5, "DTSTART"): (
            "ics-unreadable",
            "VEVENT: the event cannot be read (Expected datetime, date, or time. Got: 'x')",
        ),
    }
    assert got.warnings == {}


def raw_calendar(*events: bytes) -> bytes:
    body = b"".join(
        b"BEGIN:VEVENT\r\nUID:%d\r\nDTSTART:20270301T100000\r\nSUMMARY:%s\r\nEND:VEVENT\r\n"
        % (n + 1, e)
        for n, e in enumerate(events)
    )
    return b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + body + b"END:VCALENDAR\r\n"


def refusal(raw: bytes, max_rows: int = 10) -> tuple[str, str]:
    from importer.core.errors import SourceFileError
    from importer.source import ics

    with pytest.raises(SourceFileError) as refused:
        ics.read_events(Path("c.ics"), raw, max_rows)
    return refused.value.code, str(refused.value)


@pytest.mark.parametrize("case", ["upper", "lower"])
def test_the_row_limit_holds_exactly_at_its_edge_in_any_letter_case(case: str) -> None:
    """N events are read, N+1 refused: counted fast in capitals, exactly in any letter case
    (RFC 5545's names are case-insensitive: a lower-case file was refused as no calendar and
    passed the row and nesting limits uncounted)."""
    from importer.source import ics

    raw = raw_calendar(b"a", b"b", b"c")
    more = raw_calendar(b"a", b"b", b"c", b"d")
    if case == "lower":
        raw, more = (r.replace(b"BEGIN:", b"begin:").replace(b"END:", b"End:") for r in (raw, more))
    assert len(ics.read_events(Path("c.ics"), raw, 3).rows) == 3
    assert refusal(more, 3) == (
        "file-too-many-rows",
        "c.ics: more than 3 rows, the limit; split the file",
    )
    nest = b"".join(b"begin:x-n%d\r\n" % i for i in range(7))  # 9 deep in all
    nest += b"".join(b"end:x-n%d\r\n" % i for i in reversed(range(7)))
    deep = raw.replace(b"SUMMARY:a\r\n", b"SUMMARY:a\r\n" + nest)
    assert refusal(deep) == (
        "ics-malformed",
        "c.ics: components are nested more than 8 deep; this is no calendar export",
    )


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VTODO\r\n", "END:VTODO without its BEGIN"),
        (b"END:VCALENDAR\r\n", "END:VCALENDAR without its BEGIN"),
        (
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nEND:VEVENT\r\n",
            "the file ends inside VCALENDAR (END:VCALENDAR is missing: cut off?)",
        ),
        (b"", "no BEGIN:VCALENDAR: this is not a calendar (.ics) file"),
    ],
)
def test_a_broken_structure_is_said_in_one_line(raw: bytes, says: str) -> None:
    assert refusal(raw) == ("ics-malformed", f"c.ics: {says}")


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        (b"\xef\xbb\xbf" + raw_calendar("Köln".encode()), "utf-8"),
        (raw_calendar("Köln".encode()).decode().encode("utf-16"), "utf-16"),
        (("\ufeff" + raw_calendar(b"K\xc3\xb6ln").decode()).encode("utf-16-be"), "utf-16"),
        (
            raw_calendar(b"K\xf6ln").replace(b"SUMMARY:", b'SUMMARY;CHARSET="ISO-8859-1":'),
            "iso-8859-1",
        ),
        (raw_calendar(b"K\xc3\xb6ln").replace(b"SUMMARY:", b"SUMMARY;charset=UTF8:"), "utf-8"),
        (raw_calendar(b"K\xf6ln"), "cp1252"),  # no UTF-8 sequence at all: Windows-1252
    ],
    ids=["bom", "utf-16", "utf-16-be", "declared", "declared-utf8", "windows"],
)
def test_each_encoding_reads_the_same_letters(raw: bytes, encoding: str) -> None:
    from importer.source import ics

    events = ics.read_events(Path("c.ics"), raw, 10)
    assert (events.encoding, events.rows[0]["SUMMARY"]) == (encoding, "Köln")


def test_a_windows_file_is_read_with_its_euro_sign_and_its_unused_bytes_refused() -> None:
    from importer.source import ics

    events = ics.read_events(Path("c.ics"), raw_calendar(b"\x80 5"), 10)
    assert (events.encoding, events.rows[0]["SUMMARY"]) == ("cp1252", "€ 5")
    assert refusal(raw_calendar(b"x\x8d")) == (
        "ics-encoding",
        "c.ics: line 6: the byte 0x8D is not CP1252 (the file mixes character sets or is "
        "damaged); export the calendar again as UTF-8",
    )
    assert refusal(raw_calendar(b"\xef\xbf\xbd")) == (
        "ics-encoding",
        "c.ics: line 6 holds the replacement character \ufffd: a letter was lost before this "
        "file was written (a wrong conversion); export the calendar again",
    )


def test_texts_and_people_read_as_a_person_reads_them(tmp_path: Path) -> None:
    """Spaces collapsed, a description's lines kept, a place on one line; categories of every
    line; the organiser once whatever the letter case, an attendee once, rooms by name once
    (a semicolon in a name is a comma), addresses without an e-mail left out and said."""
    got = read_rows(
        tmp_path,
        "UID:p\nSUMMARY:  Besichtigung   AC-1  \nLOCATION:Theaterstraße 12,\\n 52062   Aachen\n"
        "DESCRIPTION:Erste  Zeile \\n\\n  zweite   Zeile\nSTATUS:tentative\nCLASS:private\n"
        "CATEGORIES:Kunde, Besichtigung\nCATEGORIES: VIP \nDTSTART:20270301T100000\n"
        "DURATION:PT45M\nORGANIZER;CN=Büro:MAILTO:buero@immo.example\n"
        "ATTENDEE;CN=Maria Müller:mailto:maria@immo.example\nATTENDEE:mailto:BUERO@immo.example\n"
        "ATTENDEE;CN=Maria:mailto:MARIA@immo.example\n"
        'ATTENDEE;CUTYPE=RESOURCE;CN="Beamer;  Raum 2":mailto:beamer@immo.example\n'
        "ATTENDEE;CUTYPE=room:mailto:raum@immo.example\n"
        'ATTENDEE;CUTYPE=ROOM;CN="beamer; raum 2":mailto:x@y.example\n'
        "ATTENDEE;CN=Hausmeister:mailto:hausmeister\nATTENDEE:invalid:nomail",
        "UID:o\nSUMMARY:x\nDTSTART:20270301T100000\nORGANIZER;CN=Notar:invalid:nomail\n"
        "ATTENDEE:mailto:a@b.example",
    )
    first = {k: v for k, v in got.rows[0].items() if v is not None}
    assert first == {
        "UID": "p",
        "SUMMARY": "Besichtigung AC-1",
        "DTSTART": "01.03.2027 10:00",
        "DTEND": "01.03.2027 10:45",
        "ALL-DAY": "no",
        "LOCATION": "Theaterstraße 12, 52062 Aachen",
        "DESCRIPTION": "Erste Zeile\n\nzweite Zeile",
        "ORGANIZER": "buero@immo.example",
        "ATTENDEE": "maria@immo.example",
        "RESOURCES": "Beamer, Raum 2; raum@immo.example",
        "CATEGORIES": "Kunde, Besichtigung, VIP",
        "CLASS": "PRIVATE",
        "STATUS": "TENTATIVE",
    }
    assert (got.rows[1]["ORGANIZER"], got.rows[1]["ATTENDEE"]) == (None, "a@b.example")
    assert got.errors == {}
    assert got.warnings == {
        (2, "ATTENDEE"): "the attendee 'Hausmeister' has no e-mail ('hausmeister'); left out; "
        "the attendee 'invalid:nomail' has no e-mail ('invalid:nomail'); left out",
        (3, "ATTENDEE"): "the organiser 'invalid:nomail' has no e-mail; left out",
    }


SERIES_CELLS = ("REPEAT", "INTERVAL", "UNTIL", "EXDATE", "RRULE")


@pytest.mark.parametrize(
    ("start", "rule", "cells"),
    [
        # 2027-03-01 is a Monday; Outlook writes the start's own BYDAY, BYMONTHDAY, BYMONTH
        (
            "20270301T100000",
            "FREQ=weekly;INTERVAL=3;BYDAY=mo;WKST=SU;COUNT=3",
            ("weekly", "3", "12.04.2027", None, "FREQ=WEEKLY;COUNT=3;INTERVAL=3;BYDAY=MO;WKST=SU"),
        ),
        (
            "20270331T100000",
            "FREQ=MONTHLY;INTERVAL=999;BYMONTHDAY=31;COUNT=2",
            (
                "monthly",
                "999",
                "31.12.2276",
                None,
                "FREQ=MONTHLY;COUNT=2;INTERVAL=999;BYMONTHDAY=31",
            ),
        ),
        (
            "20270301T100000",
            "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=1;UNTIL=20290301",
            (
                "yearly",
                "1",
                "01.03.2029",
                None,
                "FREQ=YEARLY;UNTIL=20290301;BYMONTHDAY=1;BYMONTH=3",
            ),
        ),
        # an all-day series: its end a date too, or a moment in Berlin (00:15 on 29 March)
        (
            "20270301",
            "FREQ=WEEKLY;COUNT=3",
            ("weekly", "1", "15.03.2027", None, "FREQ=WEEKLY;COUNT=3"),
        ),
        (
            "20270301",
            "FREQ=WEEKLY;UNTIL=20270328T221500Z",
            ("weekly", "1", "29.03.2027", None, "FREQ=WEEKLY;UNTIL=20270328T221500Z"),
        ),
        # a date UNTIL is that whole day, to its last second
        (
            "20270301T235930",
            "FREQ=WEEKLY;UNTIL=20270329",
            ("weekly", "1", "29.03.2027", None, "FREQ=WEEKLY;UNTIL=20270329"),
        ),
        # a zoned start: a date UNTIL, a floating UNTIL read in the start's zone
        (
            "TZID=Europe/Berlin:20270301T100000",
            "FREQ=WEEKLY;UNTIL=20270331",
            ("weekly", "1", "29.03.2027", None, "FREQ=WEEKLY;UNTIL=20270331"),
        ),
        (
            "TZID=Europe/Berlin:20270301T100000",
            "FREQ=WEEKLY;UNTIL=20270331T000000",
            ("weekly", "1", "29.03.2027", None, "FREQ=WEEKLY;UNTIL=20270331T000000"),
        ),
        (
            "20270301T100000",
            "FREQ=DAILY;UNTIL=20270228",
            # refused: the rule stays in REPEAT (sent again from the results, refused again)
            ("FREQ=DAILY;UNTIL=20270228", "1", None, None, "FREQ=DAILY;UNTIL=20270228"),
        ),
    ],
)
def test_a_series_is_its_repeat_interval_and_last_day(
    tmp_path: Path, start: str, rule: str, cells: tuple[str | None, ...]
) -> None:
    sep = ";" if start.startswith("TZID") else ":"
    got = read_rows(tmp_path, f"UID:s\nSUMMARY:x\nDTSTART{sep}{start}\nRRULE:{rule}")
    assert tuple(got.rows[0][c] for c in SERIES_CELLS) == cells, got.errors
    said = [w.split(";")[0] for w in got.warnings.values()]  # none but a monthly's months
    short = "monthly on day 31: June, September have no day 31"
    assert said == ([short] if cells[0] == "monthly" else [])
    assert got.errors == (
        {(2, "REPEAT"): ("ics-rule-unsupported", f"RRULE {cells[4]}: no occurrence at all")}
        if cells[2] is None
        else {}
    )


ONE_BY_ONE = (
    "onOffice repeats on the start's own weekday and day only; {} cannot be a series (write "
    "its appointments one by one)"
)


@pytest.mark.parametrize(
    ("rule", "says"),
    [
        ("FREQ=DAILY;INTERVAL=0", "an interval from 1 to 999"),
        ("FREQ=DAILY;INTERVAL=999;COUNT=1", None),
        ("FREQ=DAILY;INTERVAL=1000", "an interval from 1 to 999"),
        ("FREQ=DAILY;COUNT=1", None),
        ("FREQ=DAILY;COUNT=0", "a series of 1 to 10000 occurrences"),
        ("FREQ=DAILY;COUNT=10001", "a series of 1 to 10000 occurrences"),
        ("INTERVAL=2", "onOffice repeats only daily, weekly, monthly or yearly"),
        ("FREQ=SECONDLY", "onOffice repeats only daily, weekly, monthly or yearly"),
        (
            "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1",
            "onOffice series have no BYSETPOS (the n-th weekday or day of a month); write its "
            "appointments one by one",
        ),
        (
            "FREQ=WEEKLY;BYDAY=TU",
            "onOffice repeats on the start's own weekday and day only; BYDAY=TU cannot be a "
            "series (write its appointments one by one)",
        ),
        (
            "FREQ=MONTHLY;BYMONTHDAY=2",
            "onOffice repeats on the start's own weekday and day only; BYMONTHDAY=2 cannot be "
            "a series (write its appointments one by one)",
        ),
        (
            "FREQ=YEARLY;BYMONTH=4",
            "onOffice repeats on the start's own weekday and day only; BYMONTH=4 cannot be a "
            "series (write its appointments one by one)",
        ),
        ("FREQ=DAILY;BYDAY=MO", ONE_BY_ONE.format("BYDAY=MO")),
        ("FREQ=WEEKLY;BYMONTHDAY=1", ONE_BY_ONE.format("BYMONTHDAY=1")),
        ("FREQ=MONTHLY;BYMONTH=3", ONE_BY_ONE.format("BYMONTH=3")),
        (
            "FREQ=DAILY;BYHOUR=10;BYWEEKNO=9",  # the first part in the alphabet named
            "onOffice series have no BYHOUR (write its appointments one by one)",
        ),
    ],
)
def test_a_rule_is_a_series_or_its_rows_error_naming_the_part(
    tmp_path: Path, rule: str, says: str | None
) -> None:
    event = f"UID:e\nSUMMARY:x\nDTSTART:20270301T100000\nRRULE:{rule}"
    got = read_rows(tmp_path, event)
    if says is None:
        assert got.errors == {} and got.rows[0]["UNTIL"] == "01.03.2027"
    else:
        assert got.errors == {(2, "REPEAT"): ("ics-rule-unsupported", f"RRULE {rule}: {says}")}
        # the rule stays in its cell: sent again from the results workbook, refused again
        assert got.rows[0]["REPEAT"] == rule


def test_each_alarm_becomes_its_nearest_reminder_and_each_difference_is_said(
    tmp_path: Path,
) -> None:
    def alarm(trigger: str, action: str = "DISPLAY") -> str:
        return f"BEGIN:VALARM\nACTION:{action}\nTRIGGER{trigger}\nEND:VALARM"

    base = "SUMMARY:x\nDTSTART:20270301T100000\nDTEND:20270301T113000\n"
    all_day = "SUMMARY:x\nDTSTART;VALUE=DATE:20270301\n"
    got = read_rows(
        tmp_path,
        f"UID:1\n{base}{alarm(':-PT10M')}",  # as near to 5 as to 15 minutes: 15
        f"UID:2\n{base}{alarm(':-PT80M')}",
        f"UID:3\n{base}{alarm(';RELATED=end:-PT2H')}",  # 30 minutes before the start
        f"UID:4\n{base}{alarm(';RELATED=END:-PT1H30M')}",  # at the start
        f"UID:5\n{all_day}{alarm(':-PT9H')}",  # 15:00 the day before
        f"UID:6\n{base}{alarm(';VALUE=DATE-TIME:20270301T085800Z')}",  # 09:58 Berlin
        # Apple's placeholder, whatever its action, never rings; the next alarm does
        f"UID:7\n{base}{alarm(';VALUE=DATE-TIME:19760401T005545Z', 'AUDIO')}\n"
        f"{alarm(':-PT5M', 'AUDIO')}",
        f"UID:8\n{base}{alarm(':PT1M')}",
    )
    assert [r["VALARM"] for r in got.rows] == [
        "15 minutes",
        "1 hours",
        "30 minutes",
        "0 minutes",
        "12 hours",
        "0 minutes",
        "5 minutes",
        "0 minutes",
    ]
    offers = "is not a reminder onOffice offers"
    assert got.warnings == {
        (2, "VALARM"): f"the alarm 10 min before {offers}; 15 minutes before is the nearest",
        (3, "VALARM"): f"the alarm 1:20 h before {offers}; 1 hours before is the nearest",
        (6, "VALARM"): f"the alarm 9:00 h before {offers}; 12 hours before is the nearest",
        (7, "VALARM"): f"the alarm 2 min before {offers}; 0 minutes before is the nearest",
        (9, "VALARM"): "the alarm is after the start; onOffice reminds before it: at the start",
    }
    assert got.errors == {}


def test_times_ends_and_what_a_series_leaves_out_are_each_said_exactly(tmp_path: Path) -> None:
    long_value = "2" * 121
    got = read_rows(
        tmp_path,
        "UID:1\nSUMMARY:x\nDTSTART:20270301T100005\nDURATION:PT1H",  # seconds shown
        "UID:2\nSUMMARY:x\nDTSTART;VALUE=DATE:20270301\nDTEND;VALUE=DATE:20270301",
        "UID:3\nSUMMARY:x\nDTSTART:20270301T100000\nDTEND;TZID=Europe/Berlin:20270328T023000",
        f"UID:4\nSUMMARY:x\nDTSTART:{long_value}",
        f"UID:5\nSUMMARY:x\nDTSTART:{long_value[:120]}",
        "UID:6\nSUMMARY:x\nDTSTART:20270301T100000\nEXDATE:20270308T100000",
        # Exchange's flag: a day's event midnight to the same midnight is no all-day one
        "UID:7\nSUMMARY:x\nDTSTART:20270310T000000\nDTEND:20270310T000000\n"
        "X-MICROSOFT-MSNCALENDAR-ALLDAYEVENT:true",
        "UID:8\nSUMMARY:x\nDTSTART:20270310T000000\nDTEND:20270310T120000\n"
        "X-MICROSOFT-CDO-ALLDAYEVENT:TRUE",
        "UID:9\nSUMMARY:x\nDTSTART;VALUE=DATE:20270310\nDURATION:P2D",
        "UID:10\nSUMMARY:x\nDTSTART:20270301T100000\nRRULE:FREQ=WEEKLY;COUNT=4\n"
        "EXDATE:20270315T100000,20270308T100000\nEXDATE:20270322T100000",
    )
    assert [(r["DTSTART"], r["DTEND"], r["ALL-DAY"]) for r in got.rows] == [
        ("01.03.2027 10:00:05", "01.03.2027 11:00:05", "no"),
        ("01.03.2027", "01.03.2027", "yes"),
        ("01.03.2027 10:00", None, "no"),
        (None, None, None),
        (None, None, None),
        ("01.03.2027 10:00", "01.03.2027 10:00", "no"),
        ("10.03.2027 00:00", "10.03.2027 00:00", "no"),
        ("10.03.2027 00:00", "10.03.2027 12:00", "no"),
        ("10.03.2027", "11.03.2027", "yes"),
        ("01.03.2027 10:00", "01.03.2027 10:00", "no"),
    ]
    assert got.rows[9]["EXDATE"] == "08.03.2027, 15.03.2027, 22.03.2027"
    bad = "is not a date or time"
    assert got.errors == {
        (4, "DTEND"): (
            "time-does-not-exist",
            "28.03.2027 02:30 does not exist: the clocks jump forward to summer time",
        ),
        (5, "DTSTART"): ("ics-bad-date", f"'{long_value[:120]}…' {bad}"),
        (6, "DTSTART"): ("ics-bad-date", f"'{long_value[:120]}' {bad}"),
        (7, "EXDATE"): ("ics-rule-unsupported", "EXDATE without an RRULE: nothing to leave out"),
    }


def test_series_warnings_name_the_months_and_zones_and_overrides_follow_their_series(
    tmp_path: Path,
) -> None:
    """Monthly on the 29th to 31st names the months without that day (those the interval
    visits), yearly on 29 February warns; a series in a zone whose clocks change on other
    days warns, one in a zone without summer time too; an override is a row right after its
    series wherever it stands, a cancelled one (any letter case) only left out; an occurrence
    of an event that is no series is a row of its own; the same warning is said once."""
    got = read_rows(
        tmp_path,
        "UID:m\nRECURRENCE-ID:20270531T100000\nSUMMARY:moved\nDTSTART:20270601T100000",
        "UID:m\nRECURRENCE-ID:20270731T100000\nSTATUS:cancelled\nSUMMARY:x\n"
        "DTSTART:20270731T100000",
        "UID:m\nSUMMARY:monthly\nDTSTART:20270331T100000\nRRULE:FREQ=MONTHLY;COUNT=6\n"
        "EXDATE:20270531T100000",  # the moved one's day too: said once
        "UID:b\nSUMMARY:every second month\nDTSTART:20271230T100000\n"
        "RRULE:FREQ=MONTHLY;INTERVAL=2;COUNT=3",
        # every sixth month from January visits July too: no day missing
        "UID:c\nSUMMARY:every sixth\nDTSTART:20270131T100000\nRRULE:FREQ=MONTHLY;INTERVAL=6",
        "UID:e\nSUMMARY:from January\nDTSTART:20270130T100000\nRRULE:FREQ=MONTHLY;INTERVAL=2",
        "UID:d\nSUMMARY:the 28th\nDTSTART:20270128T100000\nRRULE:FREQ=MONTHLY",
        "UID:y\nSUMMARY:leap\nDTSTART:20280229T100000\nRRULE:FREQ=YEARLY;COUNT=2",
        "UID:t\nSUMMARY:Tokyo\nDTSTART;TZID=Asia/Tokyo:20270301T180000\nRRULE:FREQ=DAILY",
        "UID:n\nSUMMARY:single\nDTSTART:20270301T100000",
        "UID:n\nRECURRENCE-ID:20270301T100000\nSUMMARY:single moved\nDTSTART:20270302T100000",
        "UID:z\nSUMMARY:twice\nDTSTART;TZID=Mars/Olympus:20270301T100000\n"
        "ATTENDEE:invalid:nomail\nATTENDEE:invalid:nomail",
    )
    assert [(r["UID"], r["SUMMARY"], r["EXDATE"]) for r in got.rows] == [
        ("m", "monthly", "31.05.2027, 31.07.2027"),
        ("m (31.05.2027)", "moved", None),
        ("b", "every second month", None),
        ("c", "every sixth", None),
        ("e", "from January", None),
        ("d", "the 28th", None),
        ("y", "leap", None),
        ("t", "Tokyo", None),
        ("n", "single", None),
        ("n (01.03.2027)", "single moved", None),
        ("z", "twice", None),
    ]
    assert got.rows[0]["UNTIL"] == "31.12.2027" and got.rows[6]["UNTIL"] == "29.02.2032"
    check = "(its documentation does not say): check them in onOffice"
    no_day = "onOffice may leave those months out or move the appointment " + check
    assert got.warnings == {
        (2, "REPEAT"): "monthly on day 31: February, April, June, September, November have no "
        f"day 31; {no_day}",
        (4, "REPEAT"): f"monthly on day 30: February have no day 30; {no_day}",
        (8, "REPEAT"): "yearly on 29 February: in the years between leap years onOffice may "
        f"leave the appointment out or move it {check}",
        (9, "REPEAT"): "the series is in the time zone Asia/Tokyo: onOffice repeats it at "
        "Berlin's 10:00, so after a clock change in only one of the two zones its "
        "appointments are an hour off",
        (12, "DTSTART"): "the time zone 'Mars/Olympus' is unknown; the time is read as Berlin's",
        (12, "ATTENDEE"): "the attendee 'invalid:nomail' has no e-mail ('invalid:nomail'); "
        "left out",
    }
    assert got.errors == {}


def test_an_event_without_a_start_says_so_and_leaves_every_empty_cell_empty(
    tmp_path: Path,
) -> None:
    from importer.source import ics

    got = read_rows(
        tmp_path,
        "UID:1\nDTEND:20270301T100000",
        "UID:2\nDTSTART;VALUE=TIME:100000",
        "CATEGORIES;VALUE=DATE:20270301T100000",  # unreadable, with neither UID nor SUMMARY
    )
    assert got.rows == [dict.fromkeys(ics.COLUMNS, None) | {"UID": u} for u in ("1", "2", None)]
    assert got.errors == {
        (2, "DTSTART"): ("ics-bad-date", "the event has no DTSTART"),
        (3, "DTSTART"): ("ics-bad-date", "not a date or time"),
        (4, "DTSTART"): (
            "ics-unreadable",
            "CATEGORIES: the event cannot be read (You must use datetime, date, timedelta, "
            "time or tuple (for periods))",
        ),
    }


def test_a_calendar_of_no_events_is_refused() -> None:
    raw = b"BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:1\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    assert refusal(raw) == ("no-data-rows", "c.ics: the calendar holds no events")
    declared = raw_calendar(b"K\xf6ln").replace(b"SUMMARY:", b"SUMMARY;CHARSET=utf-8:")
    assert refusal(declared)[1].startswith("c.ics: line 6: the byte 0xF6 is not UTF-8 (")


@pytest.mark.parametrize(
    ("zone", "warned"),
    [("Africa/Lagos", True), ("Africa/Johannesburg", True), ("Europe/Paris", False)],
)
def test_a_series_in_a_zone_whose_offset_differs_in_winter_or_summer_is_warned(
    tmp_path: Path, zone: str, warned: bool
) -> None:
    got = read_rows(tmp_path, f"UID:1\nDTSTART;TZID={zone}:20270301T100000\nRRULE:FREQ=DAILY")
    assert ((2, "REPEAT") in got.warnings) is warned


@pytest.mark.parametrize(
    ("until", "last"), [("89991231T000000Z", "01.03.8999"), ("90000101T000000Z", None)]
)
def test_an_until_from_the_year_9000_means_no_end(
    tmp_path: Path, until: str, last: str | None
) -> None:
    rule = f"FREQ=YEARLY;UNTIL={until}"
    got = read_rows(tmp_path, f"UID:1\nDTSTART:20270301T100000\nRRULE:{rule}")
    assert (got.rows[0]["REPEAT"], got.rows[0]["UNTIL"], got.errors) == ("yearly", last, {})


def test_what_a_series_cannot_be_is_said_in_its_own_words(tmp_path: Path) -> None:
    base = "SUMMARY:x\nDTSTART:20270301T100000\n"
    got = read_rows(
        tmp_path,
        f"UID:1\n{base}RRULE:FREQ=DAILY;COUNT=2\nRRULE:FREQ=WEEKLY",
        f"UID:2\n{base}RRULE:FREQ=DAILY;COUNT=2\nRDATE:20270310T100000",
        f"UID:3\n{base}RRULE:FREQ=DAILY;INTERVAL=x",
        f"UID:4\n{base}LOCATION:Markt 1\\n\\n\\n52062 Aachen\nCATEGORIES:a,,b",
    )
    said = {k: v[1] for k, v in got.errors.items()}
    assert said == {
        (2, "REPEAT"): "the event has 2 RRULEs; an onOffice series has one",
        (3, "REPEAT"): "RDATE: extra dates of a series cannot be an onOffice series",
        (4, "REPEAT"): f"RRULE {got.rows[2]['RRULE']} cannot be read",
    }
    assert {v[0] for v in got.errors.values()} == {"ics-rule-unsupported"}
    assert (got.rows[3]["LOCATION"], got.rows[3]["CATEGORIES"]) == ("Markt 1, 52062 Aachen", "a, b")


def test_a_value_out_of_range_is_the_error_of_the_cell_it_fills(tmp_path: Path) -> None:
    """A lead or a date past the year 9999 in Berlin: the row's error on the alarm, the
    series, or (an occurrence's RECURRENCE-ID) the start; that one was put on a column the
    report does not have, so the check said "the start is missing" instead."""
    why = "the event cannot be read (date value out of range)"
    path = calendar(
        tmp_path,
        "UID:1\nDTSTART:20270301T100000\nBEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-P99999999D\n"
        "END:VALARM",
        "UID:2\nDTSTART:20270301T100000\nRRULE:FREQ=DAILY\nEXDATE:99991231T235959Z",
        "UID:3\nRECURRENCE-ID:99991231T235959Z\nDTSTART:20270301T100000",
    )
    from importer.source import ics

    assert ics.read_events(path, path.read_bytes(), 10).errors == {
        (2, "VALARM"): ("ics-unreadable", f"VALARM: {why}"),
        (3, "REPEAT"): ("ics-unreadable", f"RRULE: {why}"),
        (4, "DTSTART"): ("ics-unreadable", f"RECURRENCE-ID: {why}"),
    }
    checked = rows(path)[4]
    assert [(p.code, p.columns, p.message) for p in checked.problems] == [
        ("ics-unreadable", ("DTSTART",), f"RECURRENCE-ID: {why}")
    ]


@pytest.mark.parametrize("day", range(1, 8))  # 1 March 2027 is a Monday, 7 March a Sunday
def test_a_weekly_rule_on_its_starts_own_weekday_is_a_series_on_any_weekday(
    tmp_path: Path, day: int
) -> None:
    weekday = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][day - 1]
    other = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][day % 7]
    got = read_rows(
        tmp_path,
        f"UID:1\nDTSTART:2027030{day}T100000\nRRULE:FREQ=WEEKLY;COUNT=2;BYDAY={weekday}",
        f"UID:2\nDTSTART:2027030{day}T100000\nRRULE:FREQ=WEEKLY;COUNT=2;BYDAY={other}",
    )
    assert (got.rows[0]["REPEAT"], got.rows[0]["UNTIL"]) == ("weekly", f"{day + 7:02d}.03.2027")
    assert list(got.errors) == [(3, "REPEAT")]


def test_an_exchange_all_day_series_repeats_its_day(tmp_path: Path) -> None:
    zone = 'TZID="W. Europe Standard Time"'
    got = read_rows(
        tmp_path,
        f"UID:1\nDTSTART;{zone}:20270310T000000\nDTEND;{zone}:20270311T000000\n"
        "X-MICROSOFT-CDO-ALLDAYEVENT:TRUE\nRRULE:FREQ=WEEKLY;COUNT=2",
        zone=OUTLOOK_ZONE,
    )
    row = got.rows[0]
    assert (row["DTSTART"], row["ALL-DAY"], row["REPEAT"], row["UNTIL"]) == (
        "10.03.2027",
        "yes",
        "weekly",
        "17.03.2027",
    )
    assert (got.errors, got.warnings) == ({}, {})


def test_two_alarms_keep_the_first_and_an_unreadable_end_is_said(tmp_path: Path) -> None:
    alarm = "BEGIN:VALARM\nACTION:DISPLAY\nTRIGGER:-PT{}M\nEND:VALARM"
    got = read_rows(
        tmp_path,
        f"UID:1\nDTSTART:20270301T100000\n{alarm.format(15)}\n{alarm.format(5)}",
        "UID:2\nDTSTART:20270301T100000\nDTEND:2027",
    )
    assert got.rows[0]["VALARM"] == "15 minutes" and got.rows[1]["DTEND"] is None
    assert got.warnings == {(2, "VALARM"): "2 alarms: onOffice keeps one, the first"}
    assert got.errors == {(3, "DTEND"): ("ics-bad-date", "'2027' is not a date or time")}


def test_each_unreadable_start_id_or_duration_is_said_on_its_own_cell(tmp_path: Path) -> None:
    """A start past the year 9999 in Berlin; an all-day occurrence of an all-day series (its
    date names it and leaves it out); an occurrence id that is no date leaves the UID as it
    is; a DURATION that is none is the end's error."""
    got = read_rows(
        tmp_path,
        "UID:1\nDTSTART:99991231T235959Z",
        "UID:s\nDTSTART;VALUE=DATE:20270301\nRRULE:FREQ=WEEKLY;COUNT=3",
        "UID:s\nRECURRENCE-ID;VALUE=DATE:20270308\nDTSTART;VALUE=DATE:20270309",
        "UID:x\nRECURRENCE-ID:garbage\nDTSTART:20270301T100000",
        "UID:d\nDTSTART:20270301T100000\nDURATION:PTXM",
    )
    assert [(r["UID"], r["DTSTART"], r["EXDATE"]) for r in got.rows] == [
        ("1", None, None),
        ("s", "01.03.2027", "08.03.2027"),
        ("s (08.03.2027)", "09.03.2027", None),
        ("x", "01.03.2027 10:00", None),
        ("d", "01.03.2027 10:00", None),
    ]
    assert got.errors == {
        (2, "DTSTART"): (
            "ics-unreadable",
            "DTSTART: the event cannot be read (date value out of range)",
        ),
        (6, "DTEND"): ("ics-bad-date", "DURATION is not readable"),
    }


def test_a_summary_is_one_line_and_a_place_keeps_its_last_letter(tmp_path: Path) -> None:
    got = read_rows(tmp_path, "UID:1\nDTSTART:20270301T100000\nSUMMARY:a\\nb\nLOCATION:Haus X,")
    assert (got.rows[0]["SUMMARY"], got.rows[0]["LOCATION"]) == ("a b", "Haus X")


def test_dates_left_out_in_onoffice_are_said_only_where_the_mapping_fills_exceptions(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """A list of series without a column of left-out dates (`series: {repeat: …}` alone):
    a date an office leaves out of such a series in onOffice is none the file set, and no run
    may tell the office, run after run, to remove it by hand (as with reminders)."""
    source = write_csv(
        tmp_path / "serien.csv",
        "Start;Betreff;Makler;Wdh\n01.03.2027 10:00;Teamrunde;mmueller;weekly\n",
    )
    mapping = tmp_path / "serien.yaml"
    mapping.write_text(
        "start: Start\nend: {minutes: 30}\nfields:\n  description: Betreff\n"
        "  subscribers.users: {column: Makler, lookup: user}\nseries: {repeat: Wdh}\n",
        encoding="utf-8",
    )
    args = ["--lang", "en", "run", str(source), "-m", str(mapping)]
    assert "1 created" in cli(args, sandbox, tmp_path / "pc", tmp_path).stdout
    (made,) = sandbox.store.all_appointments()
    edit_in_onoffice(sandbox, made["id"], rp_exception=["2027-03-08"])  # an office's choice
    for home, status in (("pc", "already-created"), ("pc2", "exists")):
        done = cli(args, sandbox, tmp_path / home, tmp_path)
        assert f"1 {status}" in done.stdout, done.stdout + done.stderr
        assert "onOffice keeps" not in done.stdout, done.stdout
