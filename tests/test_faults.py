"""The fault matrix: each fault against the sandbox, counted in its store and its POST counters.

For every fault: the documented exit code, 0 duplicates and 0 lost rows after re-runs, results
complete; where the server did the work but the answer was lost, the row is settled by reading
back, never by a second POST.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from importer.core.errors import ExitCode
from importer.onoffice.client import OnOfficeClient, Timeouts
from importer.output.results import write_results
from importer.run.submit import RunOptions, RunReport, run_import
from importer.sandbox import Faults, Sandbox

from .helpers import generated

ROWS = 100
# These servers finish within the settle delay (the slowest answers after 0.8 s), so a row proven
# absent after it may be sent again at once (resend_after=0); the default waits 120 s for that.
OPTIONS = RunOptions(
    backoff_base=0.01,
    backoff_cap=0.05,
    settle_delay=1.0,
    unreachable_limit=50,
    resend_after=0.0,
)


def create_posts(sandbox: Sandbox) -> Counter[str]:
    return Counter({k: v for k, v in sandbox.stats.by_identifier.items() if k.startswith("row-")})


def until_done(
    sandbox: Sandbox, tmp_path: Path, source: Path, mapping: Path, runs: int = 6
) -> list[RunReport]:
    reports = []
    for _ in range(runs):
        with OnOfficeClient(sandbox.url, sandbox.credentials, timeouts=Timeouts(1, 0.5)) as c:
            reports.append(
                run_import(
                    source, mapping, client=c, journal_path=tmp_path / "j.sqlite", options=OPTIONS
                )
            )
        if reports[-1].exit_code == ExitCode.OK:
            break
    return reports


def exactly_once(sandbox: Sandbox) -> None:
    subjects = Counter(a["description"] for a in sandbox.store.all_appointments())
    assert len(subjects) == ROWS, f"{ROWS - len(subjects)} rows lost"
    assert set(subjects.values()) == {1}, [s for s, n in subjects.items() if n > 1][:5]


@pytest.mark.parametrize(
    ("faults", "one_post_per_row"),
    [
        (Faults(fail_before_rate=0.3, fail_before="503", writes_only=True, seed=1), False),
        (Faults(fail_before_rate=0.3, fail_before="reset", writes_only=True, seed=2), False),
        (Faults(drop_after_rate=0.3, drop_after="500", writes_only=True, seed=3), True),
        (Faults(drop_after_rate=0.3, drop_after="reset", writes_only=True, seed=4), True),
        pytest.param(  # past the 0.5 s timeout: 35 s of waiting, in CI's share
            Faults(latency=(0.0, 0.8), writes_only=True, seed=5), True, marks=pytest.mark.ci_share
        ),
        pytest.param(  # every call, reads too: 12 s, in CI's share
            Faults(fail_before_rate=0.15, drop_after_rate=0.15, latency=(0.0, 0.02), seed=6),
            False,
            marks=pytest.mark.ci_share,
        ),
    ],
    ids=["503-before", "reset-before", "500-after", "dropped-after", "slow", "mixed-all-calls"],
)
def test_fault_matrix(
    tmp_path: Path, sandbox: Sandbox, faults: Faults, one_post_per_row: bool
) -> None:
    source, mapping = generated(tmp_path, ROWS)
    sandbox.faults = faults
    reports = until_done(sandbox, tmp_path, source, mapping)
    assert reports[-1].exit_code == ExitCode.OK, [r.counts() for r in reports]
    exactly_once(sandbox)
    posts = create_posts(sandbox)
    assert len(posts) == ROWS
    if one_post_per_row:  # the server did the work every time: read back, never re-sent
        assert set(posts.values()) == {1}, posts.most_common(3)
    written = write_results(reports[-1], tmp_path / "rows.results.xlsx")
    assert written.exists()
    assert sum(reports[-1].counts().values()) == ROWS


def test_connection_refused_from_row_50_on_then_back(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = generated(tmp_path, ROWS)

    def unplug_at_50(done: int, total: int, counts: Counter[str]) -> None:
        if done == 50:
            sandbox.stop()  # the port is closed: connection refused

    with OnOfficeClient(sandbox.url, sandbox.credentials, timeouts=Timeouts(1, 0.5)) as client:
        first = run_import(
            source,
            mapping,
            client=client,
            journal_path=tmp_path / "j.sqlite",
            options=RunOptions(backoff_base=0.01, backoff_cap=0.02),
            progress=unplug_at_50,
        )
    assert first.exit_code == ExitCode.STOPPED
    counts = first.counts()
    assert (
        counts["created"] == 50
        and counts["created"] + counts["failed"] + counts["not-sent"] + counts["unknown"] == ROWS
    )
    assert sandbox.store.count_appointments() == 50
    sandbox.start()  # same port, same store
    reports = until_done(sandbox, tmp_path, source, mapping)
    assert reports[-1].exit_code == ExitCode.OK
    exactly_once(sandbox)


def test_each_attempt_is_signed_afresh_even_after_long_backoffs(tmp_path: Path) -> None:
    """Every signature moves time on by 150 s: a timestamp signed once and sent again later
    (as after a long backoff) would be refused as stale (136)."""
    now = [1_900_000_000.0]

    def sign_time() -> float:  # the client's clock: read once per signature
        now[0] += 150
        return now[0]

    with Sandbox(clock=lambda: now[0]) as sb:  # the server's clock: the latest signature
        sb.faults = Faults(fail_before_rate=0.5, fail_before="503", writes_only=True, seed=9)
        source, mapping = generated(tmp_path, 20)
        for _ in range(4):
            with OnOfficeClient(sb.url, sb.credentials, clock=sign_time) as client:
                report = run_import(
                    source,
                    mapping,
                    client=client,
                    journal_path=tmp_path / "j.sqlite",
                    options=OPTIONS,
                )
            if report.exit_code == ExitCode.OK:
                break
        assert report.exit_code == ExitCode.OK, report.stopped
        assert sb.store.count_appointments() == 20
        assert max(create_posts(sb).values()) > 1  # retries happened, each signed anew
