"""The time left of a long step (importer.core.progress): the rate from the recent samples,
the smoothing, and the words at their edges, in both languages."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from importer.core import i18n
from importer.core.progress import WINDOW, Pace, left_words, recent_rate, seconds_left, smoothed
from importer.sandbox import Sandbox

from .files import write_csv


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_no_data_yet_no_rate_and_no_estimate() -> None:
    assert recent_rate([], 5.0) is None
    assert recent_rate([(0.0, 0)], 0.5) is None  # one sample: no span
    assert recent_rate([(0.0, 0), (0.5, 10)], 0.5) is None  # half a second is one batch
    assert smoothed(None, None, 1.0) is None
    assert seconds_left(100, None) is None
    assert Pace(clock=Clock()).left(100) is None
    with i18n.use("en"):
        assert left_words(None, 100) == "working out the time left …"


def test_rate_zero_is_no_estimate_not_infinity() -> None:
    assert recent_rate([(0.0, 40), (5.0, 40), (10.0, 40)], 10.0) is None
    assert seconds_left(100, 0.0) is None
    clock = Clock()
    pace = Pace(clock=clock)
    pace.record(0, 100)
    clock.t += 5
    pace.record(0, 100)
    assert pace.rate() == 0.0 and pace.left(100) is None
    with i18n.use("en"):
        assert pace.words(100) == "working out the time left …"
    # a stall after a steady stretch: the rate falls, and after a whole window is not known
    for _step in range(40):
        clock.t += 0.25
        pace.record(10 + _step, 100)
    before = pace.rate()
    clock.t += 5
    assert 0 < pace.rate() < before
    clock.t += 15
    assert pace.left(50) is None


def test_the_rate_is_the_recent_one_not_the_average_since_the_start() -> None:
    # a slow start (10 items in 30 s), then 10 a second for 20 s
    samples = [(float(t), t // 3) for t in range(0, 31)]
    samples += [(30.0 + t, 10 + 10 * t) for t in range(1, 21)]
    rate = recent_rate(samples, 50.0)
    assert rate == pytest.approx(10.0, rel=0.01)  # the average since the start is 4.2


def test_a_stall_inside_the_window_lowers_the_rate() -> None:
    samples = [(0.0, 0), (5.0, 50)]  # 10 a second, then nothing for 5 s
    assert recent_rate(samples, 10.0) == pytest.approx(5.0)
    assert recent_rate(samples, 5.0 + WINDOW + 0.1) is None  # nothing for a whole window


def test_the_last_item_says_finishing_never_zero_seconds() -> None:
    with i18n.use("en"):
        assert left_words(0.0, 1) == "less than a minute left"
        assert left_words(0.4, 1) == "less than a minute left"
        assert left_words(0.0, 0) == "finishing …"
    assert seconds_left(0, None) == 0.0
    clock = Clock()
    pace = Pace(clock=clock)
    for done in range(0, 101):
        clock.t += 0.1
        pace.record(done, 100)
        if done == 99:
            assert pace.left(1) == pytest.approx(0.1, rel=0.05)
            with i18n.use("en"):
                assert pace.words(1) == "less than a minute left"
    assert pace.left(0) == 0.0
    with i18n.use("de"):
        assert pace.words(0) == "wird abgeschlossen …"
        assert left_words(3.0, 2) == "weniger als eine Minute übrig"


@pytest.mark.parametrize(
    ("seconds", "en", "de"),
    [
        (59.9, "less than a minute left", "weniger als eine Minute übrig"),
        (60.0, "about 1 minute left", "etwa 1 Minute übrig"),
        (89.0, "about 1 minute left", "etwa 1 Minute übrig"),
        (91.0, "about 2 minutes left", "etwa 2 Minuten übrig"),
        (108.0, "about 2 minutes left", "etwa 2 Minuten übrig"),  # issue 31 said "3 min" here
        (629.0, "about 10 minutes left", "etwa 10 Minuten übrig"),
        (631.0, "about 10 minutes left", "etwa 10 Minuten übrig"),  # to five from here on
        (13 * 60.0, "about 15 minutes left", "etwa 15 Minuten übrig"),
        (54 * 60.0, "about 55 minutes left", "etwa 55 Minuten übrig"),
        (56 * 60.0, "about 1 hour left", "etwa 1 Stunde übrig"),
        (100 * 60.0, "about 1.5 hours left", "etwa 1,5 Stunden übrig"),
        (125 * 60.0, "about 2 hours left", "etwa 2 Stunden übrig"),
    ],
)
def test_rounded_as_people_read_it(seconds: float, en: str, de: str) -> None:
    with i18n.use("en"):
        assert left_words(seconds, 5) == en
    with i18n.use("de"):
        assert left_words(seconds, 5) == de


def test_the_estimate_does_not_jump_with_one_slow_batch() -> None:
    # 10 items a second for 30 s, then one batch that takes 3 s (a slow answer) and goes on
    clock = Clock()
    pace = Pace(clock=clock)
    done = 0
    for _step in range(120):  # 30 s of quarter seconds
        clock.t += 0.25
        done += 2 if _step % 2 else 3
        pace.record(done, 2000)
    steady = pace.left(2000 - done)
    assert steady == pytest.approx((2000 - done) / 10, rel=0.02)
    clock.t += 3.0
    done += 10
    pace.record(done, 2000)
    shown = pace.left(2000 - done)
    raw = seconds_left(2000 - done, recent_rate(pace.samples, clock.t))
    assert shown is not None and raw is not None and steady is not None
    # the recent rate fell by a sixth; the time shown moved by less than half of that jump
    assert abs(shown - steady) < 0.5 * abs(raw - steady)


def test_a_slow_start_gives_way_within_seconds() -> None:
    """20,000 rows at 8.8 a second for the first 12 s, then 650 a second (the bench's import:
    a time-smoothed estimate still said "about 15 minutes" with 20 s left)."""
    clock = Clock()
    pace = Pace(clock=clock)
    done = 0.0
    for _step in range(48):
        clock.t += 0.25
        done += 2.2
        pace.record(int(done), 20000)
    with i18n.use("en"):
        assert pace.words(20000 - int(done)) == "about 40 minutes left"  # 37.7
    for _step in range(32):  # 8 s at 650 a second
        clock.t += 0.25
        done += 162.5
        pace.record(int(done), 20000)
    left = pace.left(20000 - int(done))
    assert left is not None and left < 60  # at 650 a second: 23 s
    with i18n.use("en"):
        assert pace.words(20000 - int(done)) == "less than a minute left"


def test_the_rate_follows_a_changed_one_by_its_time_constant() -> None:
    assert smoothed(20.0, 10.0, 4.0) == pytest.approx(10.0 + (1 - 0.3679) * 10.0, rel=0.001)
    assert smoothed(20.0, 10.0, 0.0) == 10.0  # no time passed: not moved
    assert smoothed(None, 10.0, 1.0) is None  # no recent rate: not known
    assert smoothed(50.0, None, 10.0) == 50.0  # the first rate is the recent one
    assert smoothed(20.0, 10.0, 12.0) == pytest.approx(20.0, rel=0.06)  # 3 TAU: within 5%


def test_a_new_stage_counts_again_from_its_own_rate() -> None:
    clock = Clock()
    pace = Pace(clock=clock)
    for done in range(0, 100, 5):
        clock.t += 0.5
        pace.record(done, 100)
    assert pace.rate() == pytest.approx(10.0, rel=0.05)
    clock.t += 0.5
    pace.record(0, 50)  # the report is written: rows counted from 0
    assert pace.smooth is None and len(pace.samples) == 1


def test_a_check_tells_its_rows_as_it_goes(tmp_path: Path) -> None:
    """The check's count (the web app's check page shows it with rate and time left): every
    EVERY rows and at the last, from a real CSV file; then its report's rows as written."""
    from importer.output.report import write_report
    from importer.rules.check import EVERY, check

    rows = "\n".join(f"{1 + i % 28:02d}.05.2031;09:00;Termin {i}" for i in range(450))
    source = write_csv(tmp_path / "lang.csv", "Datum;Beginn;Betreff\n" + rows + "\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "start: {date: Datum, time: Beginn}\nend: {minutes: 30}\nfields: {description: Betreff}\n"
    )
    told: list[tuple[int, int]] = []
    report = check(source, mapping, progress=lambda done, total: told.append((done, total)))
    assert EVERY == 200 and len(report.outcomes) == 450
    assert told == [(0, 450), (200, 450), (400, 450), (450, 450)]
    told.clear()
    write_report(report, tmp_path / "r.check.xlsx", progress=lambda d, t: told.append((d, t)))
    assert told == [(0, 450), (450, 450)]  # every 500 rows written, and the last


def test_an_imports_last_look_in_onoffice_is_a_counted_stage(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """After its last row an import looks once more in onOffice for twins of its creates (on
    20,000 rows under load: 314 s with the count standing at its end): the ``stage``
    callback names that step and counts it, from 0 to every create still unchecked."""
    from importer.onoffice.client import OnOfficeClient
    from importer.run.submit import LAST_LOOK, run_import

    rows = "\n".join(f"{1 + i % 28:02d}.07.2031;{8 + i % 9}:00;Termin {i}" for i in range(30))
    source = write_csv(tmp_path / "lang.csv", "Datum;Beginn;Betreff\n" + rows + "\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "start: {date: Datum, time: Beginn}\nend: {minutes: 30}\nfields: {description: Betreff}\n"
    )
    rows_told: list[int] = []
    stages: list[tuple[str, int, int]] = []
    with OnOfficeClient(sandbox.url, sandbox.credentials) as client:
        report = run_import(
            source,
            mapping,
            client=client,
            journal_path=tmp_path / "ledger.sqlite",
            progress=lambda done, total, counts: rows_told.append(done),
            stage=lambda words, done, total: stages.append((words, done, total)),
        )
    assert report.counts() == {"created": 30} and rows_told[-1] == 30
    assert {words for words, _d, _t in stages} == {LAST_LOOK}
    total = stages[0][2]
    assert 0 < total <= 30 and stages[0][1] == 0 and stages[-1][1:] == (total, total)
    assert [d for _w, d, _t in stages] == sorted(d for _w, d, _t in stages)


def test_a_page_asking_the_rate_while_the_job_records_never_breaks() -> None:
    """The web app's job thread records (and starts new stages) while a page's request asks
    the rate: without a lock the samples changed under the rate's reading ("deque mutated
    during iteration": a poll answered 500)."""
    ticks = iter(range(10**9))
    pace = Pace(clock=lambda: next(ticks) * 0.3)
    failures: list[BaseException] = []
    done = threading.Event()

    def ask() -> None:
        try:
            while not done.is_set():
                pace.rate()
                pace.words(10)
        except BaseException as exc:  # noqa: BLE001 - what the page's request would raise
            failures.append(exc)

    reader = threading.Thread(target=ask)
    reader.start()
    try:
        for n in range(60_000):
            pace.record(n % 300, 300)  # a new stage every 300 items
    finally:
        done.set()
        reader.join(10)
    assert failures == []
