"""Calendars as people's programs write them (issue 32): a corpus of exports written the way
Outlook 365, Google Calendar, Apple Calendar, Thunderbird and Nextcloud write them
(``tests/data/calendars``), each with the appointments it must become, checked against the
sandbox's account and then imported.

The corpus table of the issue's note is :data:`CORPUS`: per file its events, and per row what
it becomes (created, created with a warning, refused, and why).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from importer import check
from importer.core.errors import ExitCode, SourceFileError
from importer.onoffice.client import OnOfficeClient
from importer.run.submit import run_import
from importer.sandbox import Sandbox

from .helpers import client_for

ROOT = Path(__file__).parent.parent
CALENDARS = ROOT / "tests" / "data" / "calendars"
ICS_MAPPING = ROOT / "mappings" / "ics.yaml"

OK, WARNED = "created", "warned"  # a refusal is written as its problem code

# file -> row -> (outcome, the codes of its problems, what the appointment holds)
CORPUS: dict[str, dict[int, tuple[str, list[str], dict[str, Any]]]] = {
    "outlook365.ics": {
        # a weekly team meeting: colleagues take part, the organiser (again as an attendee in
        # other letter case) once, the room a resource of the account
        2: (
            OK,
            [],
            {
                "start_dt": "2027-03-01 09:00:00",
                "rp_type": "w",
                "rp_ende_datum": "2027-04-26",
                "users": [17, 18, 19],
                "ressources": ["ind_Schl_3153"],
                "erinnerung": "15 minutes",
                "private": False,
            },
        ),
        # a notary's meeting: the agent takes part, the buyer is linked; the notary (no
        # contact) and Outlook's invalid:nomail are left out, said
        3: (
            WARNED,
            ["cell-warning", "left-out"],
            {"users": [17], "addresses": [5431], "erinnerung": "1 hours"},
        ),
        # Exchange's all-day event (midnight to midnight with X-MICROSOFT-CDO-ALLDAYEVENT)
        4: (
            OK,
            [],
            {
                "start_dt": "2027-03-10 00:00:00",
                "end_dt": "2027-03-11 23:59:59",
                "ganztags": True,
                "private": True,
            },
        ),
        # 02:30 on the night the clocks go forward, in Outlook's own zone form
        5: ("time-does-not-exist", ["time-does-not-exist"], {}),
        # CLASS:CONFIDENTIAL, an alarm at the start (PT0S)
        6: (OK, [], {"private": True, "erinnerung": "0 minutes", "users": [18]}),
    },
    "google.ics": {
        # UTC times; an e-mail alarm and a popup (the first kept, said); a guest unknown
        2: (
            WARNED,
            ["cell-warning", "left-out"],
            {"start_dt": "2027-03-02 10:00:00", "users": [17], "addresses": [5432]},
        ),
        # EXDATE lists, an override moved to Sunday and a cancelled one: all left out
        3: (
            OK,
            [],
            {
                "rp_type": "w",
                "rp_ende_datum": "2027-04-21",
                "rp_exception": "#2027-03-17#2027-03-31#2027-04-07#2027-04-14#2027-04-21",
            },
        ),
        4: (OK, [], {"start_dt": "2027-04-11 10:00:00", "users": [18]}),
        # monthly on the 31st: the months without it named
        5: (WARNED, ["cell-warning"], {"rp_type": "m", "rp_ende_datum": "2027-10-31"}),
        # the last Friday of the month: refused naming BYSETPOS
        6: ("ics-rule-unsupported", ["ics-rule-unsupported"], {}),
        7: (OK, [], {"ganztags": True, "end_dt": "2027-03-22 23:59:59"}),
    },
    "apple.ics": {
        # floating time; Apple's placeholder alarm is no reminder; the address on one line
        2: (
            OK,
            [],
            {
                "start_dt": "2027-03-04 10:30:00",
                "location": {"sonstiges": "Theaterstraße 12, 52062 Aachen, Deutschland"},
            },
        ),
        # an alarm at the start (PT0S) beside the placeholder: at the start, no warning
        3: (OK, [], {"erinnerung": "0 minutes"}),
        # yearly on 29 February: the years between named
        4: (
            WARNED,
            ["cell-warning"],
            {"ganztags": True, "rp_type": "j", "rp_ende_status": 2, "erinnerung": "15 hours"},
        ),
        # 02:30 floating on the night the clocks go forward: refused as in Outlook's form
        5: ("time-does-not-exist", ["time-does-not-exist"], {}),
    },
    "thunderbird.ics": {
        # a date-only UNTIL ends on that day whether the start is zoned or floating
        2: (OK, [], {"rp_ende_datum": "2027-03-29", "erinnerung": "30 minutes"}),
        3: (OK, [], {"rp_ende_datum": "2027-03-29"}),
        # UNTIL=99991231T235959Z: a series without end
        4: (OK, [], {"rp_type": "m", "rp_ende_status": 2}),
        # the second Tuesday of every third month: refused naming BYDAY
        5: ("ics-rule-unsupported", ["ics-rule-unsupported"], {}),
    },
    "nextcloud.ics": {
        # CUTYPE=RESOURCE is a resource of the account; a room it does not have is left out
        2: (
            WARNED,
            ["cell-warning", "left-out"],
            {
                "private": True,
                "ressources": ["ind_Schl_3152"],
                "users": [21, 22],
                "addresses": [5434],
            },
        ),
        # COUNT 10,000 exactly: a series; 10,001: refused; INTERVAL 999 exactly: a series
        3: (OK, [], {"rp_type": "t", "private": True, "addresses": [5435]}),
        4: ("ics-rule-unsupported", ["ics-rule-unsupported"], {}),
        5: (OK, [], {"rp_tage": 999, "rp_ende_datum": "2029-12-12"}),
    },
    # Windows-1252 without a word about it, and ISO-8859-1 declared (CHARSET=): read right
    "outlook2007-latin1.ics": {
        2: (OK, [], {"description": "Übergabe Müllerstraße"}),
        3: (OK, [], {"description": "Schlüssel für Frau Weiß"}),
    },
    "vcal-charset.ics": {
        2: (OK, [], {"description": "Übergabe Müllerstraße"}),
        3: (OK, [], {"description": "Schlüssel für Frau Weiß"}),
    },
}
EVENTS = {
    "outlook365.ics": 5,
    "google.ics": 7,
    "apple.ics": 4,
    "thunderbird.ics": 4,
    "nextcloud.ics": 4,
    "outlook2007-latin1.ics": 2,
    "vcal-charset.ics": 2,
    "broken-utf8.ics": 2,
}


def _held(outcome: Any) -> dict[str, Any]:
    """What the appointment holds, in the words of :data:`CORPUS`."""
    params = outcome.parameters or {}
    held = dict(params.get("data", {}))
    held["users"] = (params.get("subscribers") or {}).get("users")
    held["addresses"] = params.get("relatedAddressIds")
    held["location"] = params.get("location")
    return held


@pytest.mark.parametrize("name", list(CORPUS))
def test_each_export_becomes_its_appointments(name: str, client: OnOfficeClient) -> None:
    path = CALENDARS / name
    assert path.read_bytes().count(b"BEGIN:VEVENT") == EVENTS[name]
    report = check(path, ICS_MAPPING, api=client, report=False)
    got = {o.row: o for o in report.outcomes}
    assert sorted(got) == sorted(CORPUS[name])
    for row, (outcome, codes, held) in CORPUS[name].items():
        o = got[row]
        found = sorted(p.code for p in o.problems)
        assert found == sorted(codes), (row, [p.message for p in o.problems])
        if outcome in (OK, WARNED):
            assert o.valid and bool(o.warnings) == (outcome == WARNED), (row, o.problems)
            have = _held(o)
            assert {k: have.get(k) for k in held} == held, row
        else:
            assert not o.valid and outcome in {p.code for p in o.errors}, row


def test_a_calendar_with_bytes_of_no_character_set_is_refused_naming_the_line(
    tmp_path: Path,
) -> None:
    """UTF-8 with one Windows-1252 byte in it: neither; the line is named, nothing imported
    (never U+FFFD in onOffice)."""
    with pytest.raises(SourceFileError) as refused:
        check(CALENDARS / "broken-utf8.ics", ICS_MAPPING, report=False)
    assert refused.value.code == "ics-encoding"
    assert "line 15" in str(refused.value) and "0xFC" in str(refused.value)


def test_the_corpus_imports_as_its_table_says(tmp_path: Path, sandbox: Sandbox) -> None:
    """Each file run for real: the rows the table calls created (with or without warnings)
    are created, the refused ones are not."""
    for name, rows in CORPUS.items():
        made = sum(1 for outcome, _codes, _held in rows.values() if outcome in (OK, WARNED))
        before = sandbox.store.count_appointments()
        source = tmp_path / name
        shutil.copy(CALENDARS / name, source)
        with client_for(sandbox) as client:  # in process: the CLI's run is test_ics.py's
            done = run_import(
                source, ICS_MAPPING, client=client, journal_path=tmp_path / f"{name}.sqlite"
            )
        refused = len(rows) - made
        assert done.counts()["created"] == made, done.counts()
        assert done.exit_code == (ExitCode.ROWS_FAILED if refused else ExitCode.OK)
        assert sandbox.store.count_appointments() - before == made
    private = [a for a in sandbox.store.all_appointments() if a.get("private") in (True, 1, "1")]
    assert len(private) == 4  # Urlaub, Bewertung, Präsentation, Telefonat
