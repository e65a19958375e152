"""An onOffice we have not seen (issue 30): for each way an account may show its own writes, what
an unchanged re-run does and whether a person's change is still seen.

    python bench/read_shapes.py [--rows 35] [--point read_art=label --point ...]

Per dialect point (importer/sandbox/dialects.py): a list of viewings imported on computer A, run
again unchanged on A and on B (no ledger of A's), then one appointment moved and one given another
type in onOffice by a person, and run again on B. Prints a Markdown table: the re-runs' statuses
and writes, API actions per row, and which person's change came out as a conflict.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from importer.onoffice.client import OnOfficeClient, Timeouts  # noqa: E402
from importer.run.submit import RunOptions, run_import  # noqa: E402
from importer.sandbox import Dialect, Sandbox  # noqa: E402
from tests.living import READ_SHAPES, Numbers, first_list, write_list  # noqa: E402

# every point of issue 30 alone (read_art=object is the default), and some together
POINTS = [
    "default",
    *READ_SHAPES,
    "modifiedstart=ignored",
    "fields=bare,art_refusal=255",
    "read_art=label,fields=bare,art_refusal=255",
    "calendar_read=removed",
    "calendar_read=removed,read_users=omitted",
]
OPTIONS = RunOptions(backoff_base=0.01, backoff_cap=0.05, settle_delay=0.05)


def _actions(sb: Sandbox) -> int:
    return sum(sb.stats.actions.values())


def one(point: str, n: int, work: Path) -> dict[str, str]:
    rows = first_list(n, random.Random(30), Numbers())
    source, mapping = write_list(work, rows, keyed=False)
    with (
        Sandbox(dialect=Dialect.parse(point)) as sb,
        OnOfficeClient(sb.url, sb.credentials, timeouts=Timeouts(5, 30)) as client,
    ):

        def run(computer: str) -> tuple[Counter[str], int]:
            before = _actions(sb)
            journal = work / f"{computer}.sqlite"
            report = run_import(
                source, mapping, client=client, journal_path=journal, options=OPTIONS
            )
            return Counter(str(s) for s in report.counts().elements()), _actions(sb) - before

        first, first_cost = run("A")
        again_a, cost_a = run("A")
        again_b, _cost_b = run("B")
        ids = sorted(a["id"] for a in sb.store.all_appointments())
        moved, retyped = sb.store.appointment(ids[0]), sb.store.appointment(ids[1])
        assert moved is not None and retyped is not None
        start = rows[0].start + timedelta(hours=1)
        moved["start_dt"] = start.strftime("%Y-%m-%d %H:%M:%S")
        moved["end_dt"] = (start + timedelta(minutes=rows[0].minutes)).strftime("%Y-%m-%d %H:%M:%S")
        sb.store.update_appointment(moved, moved["modified"])
        retyped["art"] = "Telefonat"
        sb.store.update_appointment(retyped, retyped["modified"])
        edited, _cost = run("B")
    quiet = {"already-created", "exists"}

    def said(c: Counter[str]) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(c.items()))

    rerun = "quiet" if set(again_a) <= quiet and set(again_b) <= quiet else "NOT quiet"
    return {
        "point": point,
        "first import": said(first),
        "re-run A / B": f"{rerun}: {said(again_a)} / {said(again_b)}",
        "actions/row first, re-run": f"{first_cost / n:.3f}, {cost_a / n:.3f}",
        "person's move and type change": f"{edited['conflict']} of 2 conflict",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=35)
    parser.add_argument(
        "--point", action="append", help="a dialect (default: every point of the issue)"
    )
    args = parser.parse_args()
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, point in enumerate(args.point or POINTS):
            lines.append(one("" if point == "default" else point, args.rows, Path(tmp) / str(i)))
            lines[-1]["point"] = point
    head = list(lines[0])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for line in lines:
        print("| " + " | ".join(line[h] for h in head) + " |")


if __name__ == "__main__":
    main()
