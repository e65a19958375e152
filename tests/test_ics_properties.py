"""Property test of the loader for calendars (issue 32): a VEVENT with arbitrary properties
and parameters, in any order, gives rows (with their cells' errors and warnings) or our own
typed errors, never a traceback. Bounded and seeded as the other property tests
(tests/test_properties.py); FUZZ_SCALE multiplies the budget for a long run by hand."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from importer import check
from importer.core.errors import ImporterError

SCALE = int(os.environ.get("FUZZ_SCALE", "1"))
pytestmark = pytest.mark.fuzz
MAPPING = Path(__file__).parent.parent / "mappings" / "ics.yaml"

NAMES = [
    "DTSTART",
    "DTEND",
    "DURATION",
    "RRULE",
    "EXDATE",
    "RDATE",
    "RECURRENCE-ID",
    "ATTENDEE",
    "ORGANIZER",
    "CLASS",
    "STATUS",
    "LOCATION",
    "SUMMARY",
    "DESCRIPTION",
    "CATEGORIES",
    "UID",
    "X-MICROSOFT-CDO-ALLDAYEVENT",
    "X-APPLE-DEFAULT-ALARM",
    "TRIGGER",
    "ACTION",
]
PARAMETERS = [
    "TZID=Europe/Berlin",
    'TZID="W. Europe Standard Time"',
    "TZID=Mars/Olympus",
    "VALUE=DATE",
    "VALUE=DATE-TIME",
    "VALUE=PERIOD",
    "CUTYPE=ROOM",
    "CUTYPE=RESOURCE",
    "CN=Maria Müller",
    'CN="Schäfer, Peter"',
    "RELATED=END",
    "CHARSET=ISO-8859-1",
    "X-ODD=;;",
]
VALUES = [
    "20270301T100000",
    "20270301T100000Z",
    "20270301",
    "20270328T023000",
    "99991231T235959Z",
    "00000000T000000",
    "FREQ=WEEKLY;UNTIL=20270329",
    "FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1",
    "FREQ=DAILY;COUNT=10001",
    "FREQ=YEARLY;UNTIL=99991231T235959Z",
    "FREQ=SECONDLY;INTERVAL=0",
    "-PT15M",
    "PT0S",
    "P99999999D",
    "mailto:m.mueller@immo-rheinland.example",
    "invalid:nomail",
    "PRIVATE",
    "TRUE",
    "NONE",
    "Theaterstraße 12\\n52062 Aachen",
    "",
]
# any name a writer may invent (X-… or not), any parameter, its value quoted or bare, with the
# characters that end a parameter or a line's name (";", ":", ",", '"')
NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True)
PARAMETER = st.builds(
    lambda name, value, quoted: f'{name}="{value}"' if quoted else f"{name}={value}",
    NAME,
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12).map(
        lambda v: v.replace('"', "")
    ),
    st.booleans(),
)
line = st.tuples(
    st.one_of(
        st.sampled_from([n for n in NAMES if n not in ("UID", "DTSTART", "DURATION")] * 3 + NAMES),
        NAME,
    ),
    st.lists(st.one_of(st.sampled_from(PARAMETERS), PARAMETER), max_size=3),
    st.one_of(st.sampled_from(VALUES), st.text(max_size=20)),
)
alarm = st.lists(line, max_size=3)
event = st.tuples(st.lists(line, max_size=8), st.lists(alarm, max_size=2))


def _text(events: list[tuple[list[tuple[str, list[str], str]], list[list[object]]]]) -> str:
    out = ["BEGIN:VCALENDAR", "VERSION:2.0"]
    for n, (lines, alarms) in enumerate(events):
        out.append("BEGIN:VEVENT")
        # a readable event first, then whatever the case adds (a second DTSTART too)
        out += [f"UID:{n}", "SUMMARY:x", "DTSTART:20270301T100000", "DURATION:PT1H"]
        for name, params, value in lines:
            clean = " ".join(str(value).replace("\r", " ").split("\n"))
            out.append(";".join([name, *params]) + ":" + clean)
        for body in alarms:
            out.append("BEGIN:VALARM")
            for name, params, value in body:  # type: ignore[misc]
                clean = " ".join(str(value).replace("\r", " ").split("\n"))
                out.append(";".join([name, *params]) + ":" + clean)
            out.append("END:VALARM")
        out.append("END:VEVENT")
    out.append("END:VCALENDAR")
    return "\r\n".join(out) + "\r\n"


@pytest.mark.ci_share  # a fuzz of 11-19 s (19 on two busy cores): in CI's share (.ci/run)
def test_arbitrary_vevent_properties_and_parameters_give_rows_or_typed_errors() -> None:
    seen: Counter[str] = Counter()
    why: Counter[str] = Counter()

    @seed(32)
    @given(st.lists(event, min_size=1, max_size=4))
    @settings(
        max_examples=200 * SCALE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def prop(events: list[tuple[list[tuple[str, list[str], str]], list[list[object]]]]) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "fuzz.ics"
            path.write_text(_text(events), encoding="utf-8")
            try:
                report = check(path, MAPPING, report=False, now=datetime(2026, 11, 25))
            except ImporterError as exc:
                assert str(exc) and "Traceback" not in str(exc)
                seen["refused"] += 1
                why[str(exc).split(": ", 1)[-1][:50]] += 1
                return
            seen["files with rows"] += 1
            for outcome in report.outcomes:
                assert outcome.valid == (outcome.parameters is not None)
                seen["valid rows" if outcome.valid else "invalid rows"] += 1
                for problem in outcome.problems:
                    assert problem.code and problem.message and problem.row >= 2
                    assert "\ufffd" not in problem.message

    prop()
    print(f"generated calendars: {dict(seen)}; refused: {why.most_common(5)}")
    # it means something only where most files get as far as rows, some valid, some not
    assert seen["files with rows"] >= 0.5 * (seen["files with rows"] + seen["refused"])
    assert seen["valid rows"] and seen["invalid rows"]
