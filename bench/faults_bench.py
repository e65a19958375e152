"""Benchmark `run` under faults: 1,000 rows, 20 ms latency, 8 workers; fault-free, then with
20% of the creates refused before processing (HTTP 503) and 5% processed with the answer lost.

    python bench/faults_bench.py [--rows 1000] [--latency 0.02] [--workers 8] [--seed 7]

Each side gets a fresh sandbox process. Reported per side: wall time, create POSTs, the requests
the existence checks cost (the period read before the first create, then one request per batch
holding one reference read per row), the reads settling cost, and, read back from the sandbox
afterwards, the appointments per row (0 duplicates, 0 lost is the bar; wall time at most 2x
fault-free).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from import_bench import start_sandbox, write_rows

from importer.onoffice.client import Action, Credentials, OnOfficeClient
from importer.onoffice.readback import read_period
from importer.run.submit import RunOptions, run_import


class CountingClient(OnOfficeClient):
    """Counts the actions sent, by kind (the bench's own instrument, not the importer's)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.counted: Counter[str] = Counter()

    def send(self, actions: Sequence[Action]) -> list[Any]:
        for a in actions:
            self.counted[f"{a.kind} {a.resourcetype}"] += 1
        if any(a.identifier.startswith("ref-") for a in actions):
            self.counted["reference requests"] += 1  # one request, up to 50 reference reads
            self.counted["reference reads"] += len(actions)
        return super().send(actions)


def measure(rows: int, latency: float, workers: int, faults: list[str]) -> dict[str, Any]:
    proc, env = start_sandbox(latency, *faults)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            source, mapping = write_rows(Path(tmp), rows)
            creds = Credentials(env["ONOFFICE_TOKEN"], env["ONOFFICE_SECRET"])
            with CountingClient(env["ONOFFICE_API_URL"], creds) as client:
                wall = time.perf_counter()
                report = run_import(
                    source,
                    mapping,
                    client=client,
                    journal_path=Path(tmp) / "j.sqlite",
                    options=RunOptions(workers=workers, unreachable_limit=rows),
                )
                wall = time.perf_counter() - wall
                counted = Counter(client.counted)
            with OnOfficeClient(env["ONOFFICE_API_URL"], creds) as reader:
                stored = read_period(reader, date(2027, 1, 1), date(2027, 12, 31)).appointments
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    per_subject = Counter(a.subject for a in stored)
    reads = counted["read calendar"] + counted["get appointmentList"]
    period_reads = report.existence_reads - counted["reference requests"]
    return {
        "wall_s": wall,
        "counts": dict(report.counts()),
        "creates": counted["create calendar"],
        "existence_reads": report.existence_reads,
        "reference_reads": counted["reference reads"],
        "settle_reads": reads - period_reads - counted["reference reads"],
        "duplicates": sum(n - 1 for n in per_subject.values() if n > 1),
        "lost": rows - len(per_subject),
        "unsettled": [r.error for r in report.results.values() if r.status != "created"][:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    faulty = [
        "--fail-before-rate", "0.2", "--fail-before", "503",
        "--drop-after-rate", "0.05", "--drop-after", "reset",
        "--writes-only", "--seed", str(args.seed),
    ]  # fmt: skip
    print(f"{args.rows} rows, {args.latency * 1000:.0f} ms latency, {args.workers} workers")
    print(
        f"{'side':>10} {'wall s':>7} {'creates':>8} {'exist requests':>14} {'(ref reads)':>11} "
        f"{'settle reads':>12} {'dups':>5} {'lost':>5}  outcome"
    )
    base = None
    for side, faults in (("fault-free", []), ("faults", faulty)):
        r = measure(args.rows, args.latency, args.workers, faults)
        base = base or r["wall_s"]
        print(
            f"{side:>10} {r['wall_s']:7.1f} {r['creates']:8d} {r['existence_reads']:14d} "
            f"{r['reference_reads']:11d} {r['settle_reads']:12d} {r['duplicates']:5d} "
            f"{r['lost']:5d}  {r['counts']}",
            flush=True,
        )
        for error in r["unsettled"]:
            print(f"{'':>10} not created: {error}")
    print(f"faulty / fault-free wall time: {r['wall_s'] / base:.2f}x")
    sys.exit(0 if r["duplicates"] == 0 and r["lost"] == 0 else 1)


if __name__ == "__main__":
    main()
