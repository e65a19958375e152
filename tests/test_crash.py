"""The importer process killed (-9) or interrupted (Ctrl-C) mid-run: no duplicate, no lost row."""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from importer.core.errors import ExitCode
from importer.sandbox import Faults, Sandbox

from . import forkserver
from .forkserver import Process
from .helpers import generated, statuses

KILLS = 20
ROWS = 1000


def start(sandbox: Sandbox, source: Path, mapping: Path, log: Path, *more: str) -> Process:
    env = {
        **os.environ,
        "ONOFFICE_API_URL": sandbox.url,
        "ONOFFICE_TOKEN": sandbox.credentials.token,
        "ONOFFICE_SECRET": sandbox.credentials.secret,
    }
    with log.open("ab") as out:
        return forkserver.start(
            [
                "run",
                str(source),
                "-m",
                str(mapping),
                # The sandbox has finished with a killed run's request before the next run
                # reads: a row still absent then may be sent at once.
                "--resend-after",
                "0",
                *more,
            ],
            stdout=out,
            stderr=out,
            env=env,
        )


def subjects(sandbox: Sandbox) -> Counter[str]:
    return Counter(a["description"] for a in sandbox.store.all_appointments())


def finish(proc: Process, timeout: float = 120) -> int:
    try:
        return proc.wait(timeout=timeout)
    finally:
        proc.end()


@pytest.mark.ci_share  # 21 processes, 23-35 s: in CI's share (.ci/run), beside the fast kills below
@pytest.mark.timeout(300)
def test_kill_9_at_twenty_points_then_rerun_creates_every_row_exactly_once(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source, mapping = generated(tmp_path, ROWS)
    # a create is in flight most of the time (reads are answered at once: they only cost time)
    sandbox.faults = Faults(latency=0.02, writes_only=True)
    rng = random.Random(20261125)
    log = tmp_path / "runs.log"
    in_flight_kills = 0
    for _ in range(KILLS):
        proc = start(sandbox, source, mapping, log)
        try:
            target = sandbox.stats.posts + rng.randint(8, 45)
            deadline = time.monotonic() + 60
            while sandbox.stats.posts < target and proc.poll() is None:
                assert time.monotonic() < deadline, "the importer made no progress"
                time.sleep(0.001)
            stored = sandbox.store.count_appointments()
        finally:
            proc.end()  # kill -9
        time.sleep(0.1)  # let the server finish the request it was given
        if sandbox.store.count_appointments() > stored:
            in_flight_kills += 1  # killed right after a create was sent: an orphan to adopt
    print(f"{in_flight_kills} of {KILLS} kills came while a create was in flight")
    assert in_flight_kills >= 5
    assert len(subjects(sandbox)) < ROWS  # the kills really interrupted the import
    # the run that settles everything; four workers, as the kills were made at one
    code = finish(start(sandbox, source, mapping, log, "--workers", "4"))
    assert code == ExitCode.OK, log.read_text()[-3000:]
    counts = subjects(sandbox)
    assert len(counts) == ROWS
    assert set(counts.values()) == {1}, [s for s, n in counts.items() if n > 1][:5]
    counted = statuses(tmp_path / "rows.results.xlsx")
    assert sum(counted.values()) == ROWS
    assert set(counted) <= {"created", "already-created"}


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_finishes_in_flight_writes_results_and_exits_130(
    tmp_path: Path, sandbox: Sandbox, stop: signal.Signals
) -> None:
    source, mapping = generated(tmp_path, 150)
    sandbox.faults = Faults(latency=0.02)
    log = tmp_path / "runs.log"
    proc = start(sandbox, source, mapping, log)
    deadline = time.monotonic() + 60
    while sandbox.stats.posts < 40 and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    proc.send_signal(stop)
    assert finish(proc, timeout=30) == ExitCode.INTERRUPTED, log.read_text()[-2000:]
    output = log.read_text()
    assert "Traceback" not in output
    assert "Interrupted" in output
    counted = statuses(tmp_path / "rows.results.xlsx")
    assert counted["created"] == sandbox.store.count_appointments() > 0
    assert counted["not-sent"] > 0 and sum(counted.values()) == 150
    assert finish(start(sandbox, source, mapping, log)) == ExitCode.OK
    assert set(subjects(sandbox).values()) == {1} and len(subjects(sandbox)) == 150


@pytest.mark.parametrize(
    "posts",
    [  # the middle three in CI's share (5 s each; tests/test_stop_phases.py stops each phase)
        1,
        *(pytest.param(n, marks=pytest.mark.ci_share) for n in (3, 5, 7)),
        9,
    ],
    ids=["preflight", "look-ups", "state", "rights", "first-look"],
)
def test_sigterm_before_the_first_write_writes_the_results_and_exits_130(
    tmp_path: Path, sandbox: Sandbox, posts: int
) -> None:
    """Issue 31: SIGTERM before the first write exited 130 without a results workbook (the
    README says "writes the results"). Stopped while each kind of request before the first
    create is in flight (the preflight, the look-ups, the list's state, the rights, the look
    before the first batch): exit 130, every row in the results, nothing created; the next
    run creates every row once."""
    source, mapping = generated(tmp_path, 30)
    sandbox.faults = Faults(latency=0.4)  # each request held: the signal comes while it waits
    log = tmp_path / "runs.log"
    proc = start(sandbox, source, mapping, log)
    deadline = time.monotonic() + 60
    while sandbox.stats.posts < posts and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert sandbox.stats.actions["create calendar"] == 0
    proc.send_signal(signal.SIGTERM)
    assert finish(proc, timeout=30) == ExitCode.INTERRUPTED, log.read_text()[-2000:]
    output = log.read_text()
    assert "Traceback" not in output and "Interrupted" in output
    counted = statuses(tmp_path / "rows.results.xlsx")
    assert counted == {"not-sent": 30}, counted
    assert sandbox.store.count_appointments() == 0
    sandbox.faults = Faults()
    assert finish(start(sandbox, source, mapping, log)) == ExitCode.OK
    assert set(subjects(sandbox).values()) == {1} and len(subjects(sandbox)) == 30
