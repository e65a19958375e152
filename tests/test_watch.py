"""Two runs of one list at once (``importer/run/watch.py``): every row in onOffice once, on every
server, with a bounded number of reads, and messages in Berlin's time.

The two runs are two real run_import calls in threads of their own, each with its own client and
ledger (two computers: no shared lock), against a real sandbox over HTTP. Their start offsets
come from a seeded random generator (:data:`SEED`); the order in which each run creates is its
own (unseeded by design: two runs of one list rarely reach the same row at once).
"""

from __future__ import annotations

import dataclasses
import os
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from importer.core.contract import DATETIME_FORMAT
from importer.onoffice.client import Credentials, OnOfficeClient, Record
from importer.onoffice.readback import Appointment, from_list
from importer.onoffice.reference import Stamp, read_stamp, with_stamp
from importer.run import watch as watch_module
from importer.run.runner import RunReport
from importer.run.state import INTACT, Prior, State
from importer.run.submit import RunOptions, described, run_import
from importer.run.watch import MAX_LOOK_READS, NEVER, OVERLAP, Watch
from importer.sandbox import Dialect, Faults, Sandbox

from .helpers import client_for, generated, subjects

SEED = 3410
ROWS = 60  # a run takes about 2 s (30 ms a write): the second starts 0-1 s after the first
# Creates sent beyond one per row, in a trial: the twins of the first batch that the later
# run deletes again (0-4 measured). Both runs writing on (the earlier one not waiting, or the
# later one not giving way) sends dozens.
EXTRA_CREATES = 6
OPTIONS = RunOptions(backoff_base=0.01, backoff_cap=0.05, settle_delay=0.05, quiet_after=2.0)
OLD = "2026-01-01 00:00:00"  # `modified` of appointments edited before the runs


def busy(sb: Sandbox, n: int, modified: str = OLD) -> None:
    """``n`` appointments of another agent, last edited at ``modified``."""
    for i in range(n):
        day = f"2027-02-{1 + i % 28:02d}"
        sb.store.insert_appointment(
            {
                "start_dt": f"{day} 07:00:00",
                "end_dt": f"{day} 07:30:00",
                "description": f"busy {i}",
                "users": [18],
            },
            modified,
        )


def two_runs(
    tmp_path: Path, sb: Sandbox, source: Path, mapping: Path, offset: float
) -> list[RunReport]:
    """Two runs of one list, the second ``offset`` seconds after the first; bounded in time."""
    reports: list[RunReport | BaseException] = [RuntimeError("did not end")] * 2

    def run(n: int) -> None:
        try:
            with client_for(sb) as client:
                reports[n] = run_import(
                    source,
                    mapping,
                    client=client,
                    journal_path=tmp_path / f"pc{n}.db",
                    options=OPTIONS,
                )
        except BaseException as exc:  # noqa: BLE001 - handed to the test, not lost in the thread
            reports[n] = exc

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(2)]
    threads[0].start()
    time.sleep(offset)
    threads[1].start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a run did not end within 120 s"
    for report in reports:
        if isinstance(report, BaseException):
            raise report
    return [r for r in reports if isinstance(r, RunReport)]


# reading -> (the server, trials): the documented reading is where the order of two runs
# is decided by their first writes; the others take turns by run id
READINGS = {
    "documented": (Dialect(), 4),
    "without read calendar": (Dialect(calendar_read="removed"), 3),
    "modifiedstart ignored": (Dialect(modifiedstart="ignored"), 2),
}


@pytest.mark.parametrize(
    "reading",
    [  # all but the documented reading in CI's share (.ci/run): each costs 10-20 s of waiting
        pytest.param(r, marks=pytest.mark.ci_share) if r != "documented" else r for r in READINGS
    ],
)
def test_two_runs_at_once_never_leave_a_row_twice(tmp_path: Path, reading: str) -> None:
    """Seeded offsets 0-1 s; a single doubled row in any trial fails the test, and so do
    both runs writing on side by side (more than EXTRA_CREATES twins sent and deleted)."""
    rng = random.Random(f"{SEED}-{reading}")
    source, mapping = generated(tmp_path, ROWS)
    figures = []
    dialect, trials = READINGS[reading]
    for trial in range(trials):
        offset = round(rng.uniform(0.0, 1.0), 2)
        with Sandbox(dialect=dialect) as sb:
            sb.faults = Faults(latency=0.03, writes_only=True)
            if reading == "modifiedstart ignored":
                busy(sb, 600)  # every read by `modified` fills the 500 cap
            reports = two_runs(tmp_path / f"t{trial}", sb, source, mapping, offset)
            made = subjects(sb)
            creates = sb.stats.actions["create calendar"]
        doubled = {s: n for s, n in made.items() if n > 1 and not s.startswith("busy")}
        figures.append((offset, creates - ROWS, [dict(r.counts()) for r in reports]))
        assert not doubled, (reading, trial, offset, doubled)
        assert sum(1 for s in made if s.startswith("Termin")) == ROWS, "a row is missing"
        for report in reports:
            assert report.stopped is None, report.stopped
            assert set(report.counts()) <= {"created", "exists", "unchanged"}, report.counts()
        assert creates - ROWS <= EXTRA_CREATES, (reading, trial, figures[-1])
    print(f"{reading}: (offset s, twins sent and deleted, counts) per trial: {figures}")


def test_a_server_ignoring_modifiedstart_is_asked_a_bounded_number_of_times(
    tmp_path: Path,
) -> None:
    """Reproduction: 6,644 reads in 4 minutes, never finished. Now the first look notices the
    older appointments it was given, and the run goes on by reference, saying so once."""
    source, mapping = generated(tmp_path, 30)
    with Sandbox(dialect=Dialect(modifiedstart="ignored")) as sb, client_for(sb) as client:
        busy(sb, 1200)
        began = time.monotonic()
        report = run_import(source, mapping, client=client, options=OPTIONS)
        took = time.monotonic() - began
        reads = sb.stats.actions["read calendar"]
    assert report.counts() == {"created": 30}
    said = [n for n in report.notices if "by the time of their last edit" in n]
    assert len(said) == 1, report.notices
    # the rows' days, one look by `modified` (stopped at once), then each row looked for by
    # its reference before its create and once after it
    assert reads <= 4 + MAX_LOOK_READS + 2 * 30, reads
    assert took < 30, took


@pytest.mark.parametrize("reading", ["documented", "without read calendar"])
def test_a_create_that_could_not_be_checked_for_a_twin_is_named_plainly(
    tmp_path: Path, reading: str
) -> None:
    """Point 7 of issue 30: never a doubled row, or the run says plainly that it could not
    rule one out. onOffice stops answering as the run's last look begins: the creates that
    look was for are named, once, with what to do."""
    source, mapping = generated(tmp_path, 6)
    dialect = READINGS[reading][0]
    with Sandbox(dialect=dialect) as sb, client_for(sb) as client:

        def stage(_words: str, _done: int, _of: int) -> None:  # the last look begins
            sb.faults = Faults(fail_before_rate=1.0, fail_before="503")

        report = run_import(source, mapping, client=client, options=OPTIONS, stage=stage)
        assert sb.store.count_appointments() == 6
    assert report.counts() == {"created": 6}
    said = [n for n in report.notices if "could not be checked after their create" in n]
    assert len(said) == 1, report.notices
    assert (
        said[0].startswith("rows ") and "may be in onOffice twice; look for them there" in said[0]
    )


def test_a_first_import_of_more_than_a_page_is_looked_at_by_modified_to_the_end(
    tmp_path: Path,
) -> None:
    """bench/living_bench.py at 1,000 rows on the documented server: the last look, over every
    create since the early looks (more than a page of 500), ran past its cap of reads (mostly
    spent halving the day ahead of the window), so the run said that more was edited in
    onOffice than 8 reads show and looked for each of its rows by its reference: 986 reads,
    1.99 API actions per row. 600 rows are more than a page after the early looks; a write
    takes 4 ms (no second holds a page of writes: that, reads by `modified` cannot tell
    apart, and the run rightly looks by reference then)."""
    source, mapping = generated(tmp_path, 600)
    with Sandbox() as sb, client_for(sb) as client:
        sb.faults = Faults(latency=0.004, writes_only=True)
        report = run_import(source, mapping, client=client, options=OPTIONS)
        reads = sb.stats.actions["read calendar"]
        actions = sum(sb.stats.actions.values())
    assert report.counts() == {"created": 600}
    assert report.notices == []
    # the rows' days (they spread over 12 months), 6 early looks and the last one (14 measured)
    assert reads <= 20, reads
    assert actions <= 600 + 30, actions  # the creates, reads, look-ups, preflight


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def test_a_look_past_its_cap_of_reads_stops_asking_by_modified() -> None:
    """A server that honours the window, with more edits since the last look than
    MAX_LOOK_READS pages hold: the look stops at the cap and says why."""
    with Sandbox() as sb, client_for(sb) as client:
        watch = Watch(client, "abcd1234", "run1", _utc(client.server_now() - 5))
        busy(sb, MAX_LOOK_READS * 500 + 1, _utc(client.server_now()).strftime(DATETIME_FORMAT))
        assert watch.look() == []
        reads = sb.stats.actions["read calendar"]
    assert not watch.supported
    assert watch.reads == reads == MAX_LOOK_READS
    assert watch.notice == (
        f"more appointments were edited in onOffice during this run than {MAX_LOOK_READS} reads "
        "show: this run looked for each of its next rows by its reference before sending it"
    )


def _note(ref: str, run: str, at: int = 0, tag: str = "abcd1234") -> str:
    stamp = Stamp(ref, tag, 2, False, "0" * 12, "0" * 12, run, at)
    note: str = with_stamp({"data": {}}, stamp)["data"]["note"]
    return note


def _appointment(
    series: int,
    ref: str,
    cancelled: bool = False,
    run: str = "0000beef",
    at: int = 0,
    tag: str = "abcd1234",
) -> Appointment:
    note = _note(ref, run, at, tag)
    return Appointment(
        id=series, series=series, starts=frozenset(), ends=frozenset(), subject="", note=note,
        types=frozenset(), users=None, participants=frozenset(), resources=frozenset(),
        resource_names=frozenset(), addresses=frozenset(), estates=frozenset(), modified=None,
        cancelled=cancelled, via="read calendar",
    )  # fmt: skip


def test_the_run_that_wrote_first_goes_on_and_the_other_waits() -> None:
    """By the server's `modified` of each run's first write, which both read alike (the planted
    bug of issue 34, the order inverted, makes the earlier one wait); a tie by run id; without
    reads by `modified`, the lower run id goes on; a run quiet for longer is not waited for."""
    early, late = "2026-12-07 10:00:00", "2026-12-07 10:00:03"
    a = Watch(None, "abcd1234", "bbbb0000", _utc(0))  # type: ignore[arg-type]
    b = Watch(None, "abcd1234", "aaaa0000", _utc(0))  # type: ignore[arg-type]
    for watch in (a, b):
        watch.first = {"bbbb0000": early, "aaaa0000": late}
    a.seen = {"aaaa0000": time.monotonic()}
    b.seen = {"bbbb0000": time.monotonic()}
    assert a.waiting_for(5.0) is None  # wrote first: goes on
    assert b.waiting_for(5.0) == "bbbb0000"  # wrote later (though its id is lower): waits
    assert a.others(5.0) and b.others(5.0)
    for watch in (a, b):  # the same second: the run id decides, alike for both
        watch.first = {"bbbb0000": early, "aaaa0000": early}
    assert (a.waiting_for(5.0), b.waiting_for(5.0)) == ("aaaa0000", None)
    for watch in (a, b):  # no reads by `modified`: the lower run id goes on
        watch.first = {"bbbb0000": early, "aaaa0000": late}
        watch.supported = False
    assert (a.waiting_for(5.0), b.waiting_for(5.0)) == ("aaaa0000", None)
    a.seen = {"aaaa0000": time.monotonic() - 6.0}  # quiet for longer: ended, or died
    assert a.waiting_for(5.0) is None and not a.others(5.0)


def test_where_modified_cannot_be_read_a_recent_stamp_of_another_run_means_it_writes() -> None:
    with Sandbox() as sb, client_for(sb) as client:
        now = int(client.server_now())
        watch = Watch(client, "abcd1234", "aaaa0000", _utc(now), ended={"cccc0000"})
        watch.saw(
            [
                _appointment(1, "a" * 16, run="aaaa0000", at=now),  # its own
                _appointment(2, "b" * 16, run="cccc0000", at=now),  # an ended run's
                _appointment(3, "c" * 16, run="dddd0000", at=now - 60),  # long ago
            ],
            5.0,
        )
        assert watch.seen == {}
        watch.saw([_appointment(4, "d" * 16, run="eeee0000", at=now - 1)], 5.0)
        assert set(watch.seen) == {"eeee0000"}
        watch.seen.clear()
        watch.saw([_appointment(4, "d" * 16, run="eeee0000", at=now - 1)], 5.0)
        assert watch.seen == {}  # the same write again is not news


def test_the_lower_id_of_two_twins_stays_and_only_a_shown_create_is_checked() -> None:
    watch = Watch(None, "abcd1234", "run1", _utc(0))  # type: ignore[arg-type]
    ref, other = "a" * 16, "b" * 16
    # not shown yet: not checked (a later look decides)
    assert watch.twins({ref: 105}) == ([], {})
    watch.record([_appointment(105, ref), _appointment(103, ref), _appointment(107, other)])
    checked, twins = watch.twins({ref: 105, other: 107})
    assert checked == [ref, other]
    assert {r: int(a.series) for r, a in twins.items()} == {ref: 103}  # 107 has no lower twin
    # the other run's copy shown by an earlier look than ours: it stays all the same
    later = Watch(None, "abcd1234", "run1", _utc(0))  # type: ignore[arg-type]
    later.record([_appointment(103, ref)])
    later.record([_appointment(105, ref)])
    assert {r: int(a.series) for r, a in later.twins({ref: 105})[1].items()} == {ref: 103}
    # the other run's copy created after ours: ours stays (that run deletes its own)
    watch.record([_appointment(109, other)])
    assert watch.twins({other: 107})[1] == {}
    # a cancelled copy is no twin
    fresh = Watch(None, "abcd1234", "run1", _utc(0))  # type: ignore[arg-type]
    fresh.record([_appointment(3, ref, cancelled=True), _appointment(5, ref)])
    assert fresh.twins({"c" * 16: 1, ref: 5}) == ([ref], {})  # 1 not shown: still looked at 5


def test_a_cancelled_create_is_checked_against_the_cancelled_twins_written_meanwhile() -> None:
    """A row the file cancels is created cancelled: it was never shown, so every import of a
    list with one said it 'could not be checked after its create' (the demo too)."""
    ref = "a" * 16
    earlier = _appointment(101, ref, cancelled=True, run="0000aaaa", at=500)  # a removed row's
    other = _appointment(103, ref, cancelled=True, run="0000bbbb", at=1001)  # another run's
    ours = _appointment(105, ref, cancelled=True, run="run1", at=1002)
    watch = Watch(None, "abcd1234", "run1", _utc(1000))  # type: ignore[arg-type]
    watch.record([earlier, ours])
    assert watch.twins({ref: 105}) == ([ref], {})  # checked; the earlier run's is no twin
    watch.record([other])
    checked, twins = watch.twins({ref: 105})
    assert checked == [ref] and int(twins[ref].series) == 103
    # an active appointment is no twin of a cancelled create, nor the other way round
    mixed = Watch(None, "abcd1234", "run1", _utc(1000))  # type: ignore[arg-type]
    mixed.record([_appointment(103, ref, run="0000bbbb", at=1001), ours])
    assert mixed.twins({ref: 105}) == ([ref], {})


def test_an_appointment_list_time_is_named_in_berlin_time() -> None:
    """Reproduction: the twin's message named 09:15 for an appointment at 11:15 (UTC shown as
    Berlin time). appointmentList gives +00:00; the message shows the wall clock in Berlin."""
    record = Record(
        2712,
        "appointmentList",
        {
            "id": 2712,
            "subject": "Besichtigung AC-1042",
            "date": {"start": "2027-06-01T09:15:00+00:00", "end": "2027-06-01T09:45:00+00:00"},
        },
    )
    assert described(from_list(record)) == "Besichtigung AC-1042, 01.06.2027 11:15"
    when = {"start": "2027-01-11T09:15:00+00:00", "end": "2027-01-11T09:45:00+00:00"}
    winter = Record(2713, "appointmentList", {"id": 2713, "date": when})
    assert described(from_list(winter)).endswith("11.01.2027 10:15")


class Clock:
    """The watch's clock (time.monotonic) held still, and its sleeps recorded, not slept: the
    edges of its waits to the exact second."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    held = Clock()
    monkeypatch.setattr(watch_module, "time", held)
    return held


@pytest.fixture
def berlin() -> Iterator[None]:
    """This computer's clock in Berlin's time: a look still reads the server's time as UTC."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Berlin"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def _offline(now: float = 1000.0) -> OnOfficeClient:
    """A real client that never sends: its server time is its clock's until an answer."""
    return OnOfficeClient("http://127.0.0.1:9/x", Credentials("tok", "sec"), clock=lambda: now)


def _insert(sb: Sandbox, modified: str, note: str) -> int:
    record = {
        "start_dt": "2027-02-01 07:00:00",
        "end_dt": "2027-02-01 07:30:00",
        "description": "stamped",
        "note": note,
        "users": [18],
    }
    return sb.store.insert_appointment(record, modified)


def test_a_look_shows_the_lists_writes_and_the_other_runs_writing(
    clock: Clock, berlin: None
) -> None:
    """One look, in window order: an unstamped appointment (edited at the window's first
    second), another list's, this run's own, another run's two writes, an ended run's and a
    write already known. Only the new write of a run still going counts as writing; each run's
    first write is its earliest `modified`; the next look starts OVERLAP before the server's
    time (UTC, on a computer in Berlin) of this one."""
    with Sandbox() as sb, client_for(sb) as client:
        now = int(client.server_now())

        def at(seconds: int) -> str:
            return _utc(now + seconds).strftime(DATETIME_FORMAT)

        busy(sb, 1, at(-60))
        other = _insert(sb, at(-59), _note("1" * 16, "ffff0000", tag="99999999"))
        own = _insert(sb, at(-50), _note("2" * 16, "aaaa0000"))
        b1 = _insert(sb, at(-40), _note("3" * 16, "bbbb0000"))
        b2 = _insert(sb, at(-30), _note("4" * 16, "bbbb0000"))
        ended = _insert(sb, at(-20), _note("5" * 16, "cccc0000"))
        known = _insert(sb, at(-10), _note("6" * 16, "dddd0000"))
        watch = Watch(client, "abcd1234", "aaaa0000", _utc(now - 60), ended={"cccc0000"})
        watch.known = {(known, at(-10))}
        before = client.server_now()
        out = watch.look()
        after, looked = client.server_now(), watch.since
        assert watch.look() == []  # nothing edited since
        reads = sb.stats.actions["read calendar"]
    assert all(stamp == read_stamp(a.note) for a, stamp in out)
    assert [(int(a.series), s.run) for a, s in out] == [
        (other, "ffff0000"),
        (own, "aaaa0000"),
        (b1, "bbbb0000"),
        (b2, "bbbb0000"),
        (ended, "cccc0000"),
        (known, "dddd0000"),
    ]
    assert watch.seen == {"bbbb0000": clock.now}
    assert watch.first == {
        "aaaa0000": at(-50),
        "bbbb0000": at(-40),
        "cccc0000": at(-20),
        "dddd0000": at(-10),
    }
    assert watch.known == {
        (own, at(-50)),
        (b1, at(-40)),
        (b2, at(-30)),
        (ended, at(-20)),
        (known, at(-10)),
    }
    assert watch.shown == {own, b1, b2, ended, known}
    assert {ref: int(a.series) for ref, a in watch.lowest.items()} == {
        "2" * 16: own,
        "3" * 16: b1,
        "4" * 16: b2,
        "5" * 16: ended,
        "6" * 16: known,
    }
    assert (watch.supported, watch.notice, watch.reads, reads) == (True, None, 2, 2)
    assert _utc(before) - OVERLAP <= looked <= _utc(after) - OVERLAP


def test_a_look_where_reads_do_not_show_modified(clock: Clock) -> None:
    """Such a write is known by its appointment alone, and its run's first write is unknown."""
    with Sandbox(dialect=Dialect(read_modified="missing")) as sb, client_for(sb) as client:
        now = int(client.server_now())
        write = _insert(sb, _utc(now - 5).strftime(DATETIME_FORMAT), _note("3" * 16, "bbbb0000"))
        watch = Watch(client, "abcd1234", "aaaa0000", _utc(now - 60))
        assert [int(a.series) for a, _ in watch.look()] == [write]
    assert watch.known == {(write, "")}
    assert watch.first == {"bbbb0000": NEVER}
    assert watch.seen == {"bbbb0000": clock.now}


def test_a_server_without_read_calendar_is_asked_once() -> None:
    with Sandbox(dialect=Dialect(calendar_read="removed")) as sb, client_for(sb) as client:
        watch = Watch(client, "abcd1234", "aaaa0000", _utc(client.server_now() - 60))
        assert watch.look() == []
        assert watch.look() == []
        reads = sb.stats.actions["read calendar"]
        assert "read calendar" in client.unsupported
    assert watch.supported is False and watch.notice is None and reads == 1


def test_a_server_answering_older_appointments_is_not_asked_by_modified_again(
    clock: Clock,
) -> None:
    """What such an answer shows is not taken as news (it may be anything, of any time)."""
    with Sandbox(dialect=Dialect(modifiedstart="ignored")) as sb, client_for(sb) as client:
        _insert(sb, OLD, _note("3" * 16, "bbbb0000"))
        since = _utc(client.server_now() - 60)
        watch = Watch(client, "abcd1234", "aaaa0000", since)
        assert watch.look() == []
        assert watch.look() == []
        reads = sb.stats.actions["read calendar"]
    assert (reads, watch.reads, watch.supported, watch.since) == (1, 1, False, since)
    assert watch.seen == {} and watch.first == {}
    assert watch.notice == (
        "onOffice does not read appointments by the time of their last edit (it answered older "
        "ones): this run looked for each of its next rows by its reference before sending it"
    )


def _prior(appointment_id: int, run: str | None, modified: str | None, ours: bool = True) -> Prior:
    stamp = None if run is None else Stamp("1" * 16, "abcd1234", 1, False, "0" * 12, "0" * 12, run)
    found = dataclasses.replace(_appointment(appointment_id, "1" * 16), modified=modified)
    return Prior(appointment_id, found, stamp, None, INTACT, ours)


def test_the_first_read_gives_each_running_writer_its_earliest_write(clock: Clock) -> None:
    """Watch.of: the list's writes are known; a run writing the list now (state.running) and
    not known to have ended makes the run wait a little before its first batch."""
    t = "2026-12-07 10:00:0"
    gone = Prior(100, None, Stamp("1" * 16), None, INTACT, True)
    priors = [
        gone,
        _prior(101, "aaaa0001", t + "1"),
        _prior(102, "aaaa0001", t + "5"),
        _prior(103, "bbbb0002", None),  # reads without `modified`
        _prior(104, "cccc0003", t + "2", ours=False),  # another list's appointment
        _prior(105, None, t + "3"),  # known from the ledger only
        _prior(106, "dddd0004", t + "4"),  # a run that is not writing now
    ]
    since = datetime(2026, 12, 7, 10, 0, 10)
    running = {r: t + "5" for r in ("aaaa0001", "bbbb0002", "cccc0003")}
    state = State("viewings", "abcd1234", priors, {}, [], True, True, 0, since, running)
    client = _offline()
    watch = Watch.of(client, state, "eeee0005", ended={"bbbb0002"})
    assert (watch.client, watch.list_tag, watch.run) == (client, "abcd1234", "eeee0005")
    assert watch.client is client and watch.since == since - OVERLAP
    assert watch.ended == {"bbbb0002"}
    assert watch.known == {
        (101, t + "1"),
        (102, t + "5"),
        (103, ""),
        (104, t + "2"),
        (105, t + "3"),
        (106, t + "4"),
    }
    assert watch.first == {"aaaa0001": t + "1", "bbbb0002": NEVER}
    assert watch.recent is True and watch.began == clock.now
    # every run that wrote it lately has ended: nothing to wait for
    quiet = Watch.of(client, state, "eeee0005", ended={"aaaa0001", "bbbb0002"})
    assert quiet.recent is False
    assert Watch.of(client, state, "eeee0005").ended == set()


def test_before_its_first_batch_a_run_gives_a_recent_writer_a_few_round_trips(
    clock: Clock,
) -> None:
    client = _offline()
    watch = Watch(client, "abcd1234", "aaaa0000", _utc(0), began=clock.now - 0.1)
    watch.settle_first()  # no other run wrote lately: no wait
    watch.recent = True
    client.round_trip = 0.01
    watch.settle_first()  # a fast server: GRACE from the first read
    client.round_trip = 0.3
    watch.settle_first()  # a slow one: GRACE_ROUND_TRIPS of its round trips
    watch.began = clock.now - 2.0
    watch.settle_first()  # that time has passed already
    assert clock.slept == pytest.approx([0.4, 1.1, 0.0])


def test_a_run_quiet_for_exactly_quiet_after_still_writes(clock: Clock) -> None:
    watch = Watch(None, "abcd1234", "bbbb0000", _utc(0), supported=False)  # type: ignore[arg-type]
    watch.seen = {"aaaa0000": clock.now - 5.0}
    assert watch.others(5.0) and watch.waiting_for(5.0) == "aaaa0000"
    clock.now += 0.001
    assert not watch.others(5.0) and watch.waiting_for(5.0) is None
    # a run that has not written yet gives way to one that has
    fresh = Watch(None, "abcd1234", "cccc0000", _utc(0))  # type: ignore[arg-type]
    fresh.first = {"dddd0000": "2026-12-07 10:00:00"}
    fresh.seen = {"dddd0000": clock.now}
    assert fresh.waiting_for(5.0) == "dddd0000"


def test_a_look_by_reference_counts_only_another_runs_new_recent_write(clock: Clock) -> None:
    """Where modified cannot be read: by the stamp's server time, up to quiet_after + OVERLAP
    seconds before the server's now, each write once."""
    watch = Watch(_offline(1000.0), "abcd1234", "aaaa0000", _utc(0))
    plain = dataclasses.replace(_appointment(9, "9" * 16), note="")
    watch.saw(
        [
            plain,
            _appointment(10, "1" * 16, run="ffff0000", at=1000, tag="99999999"),  # other list
            _appointment(11, "2" * 16, run="aaaa0000", at=1000),  # its own
            _appointment(12, "3" * 16, run="eeee0000", at=993),  # 7 s ago: the edge
            _appointment(13, "4" * 16, run="abab0000", at=1000),
            _appointment(14, "5" * 16, run="cdcd0000", at=992),  # 8 s ago: too long
        ],
        5.0,
    )
    assert watch.seen == {"eeee0000": clock.now, "abab0000": clock.now}
    assert watch.known == {(12, "993"), (13, "1000"), (14, "992")}
    watch.seen.clear()
    watch.saw([_appointment(12, "3" * 16, run="eeee0000", at=999)], 5.0)  # written again
    assert watch.seen == {"eeee0000": clock.now}
