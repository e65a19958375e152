"""Benchmark a living list (issue 21): rounds of random edits, run from two computers.

    python bench/living_bench.py [--rows 30 1000] [--rounds 12] [--sequences 3] [--seed 1]
    python bench/living_bench.py --rows 20000 --rounds 1 --sequences 1 --keyed no   # first import
    python bench/living_bench.py --dialect read_art=label --rows 1000 --rounds 4 --latency 4

Each sequence imports a list of viewings, then edits it in rounds of 1-4 random edits (time
moved, prospect / type / agent / note changed, row deleted or inserted, two rows swapped, a
look-alike twin added: ``tests/living.py``) and imports each round with ``--cancel-removed``;
every third round runs on computer B (a ledger of its own, its own folder: nothing of A's). After
every run it compares onOffice with the file and prints the divergences (rows no active
appointment holds, rows held twice, active appointments of the import that hold no row: all
must be 0), the API actions per row that run cost (every action the sandbox received, reads
included), and the statuses. Rows the plan asks about (no key, two look-alike rows changed at
once) are answered as the booking numbers say (``--pair``), which costs a second run.

After the rounds, the list is run again with nothing new on computer A and on computer B (issue
30: an unchanged re-run from any computer creates, modifies and reports nothing); then a person
moves one row's appointment in onOffice and gives another a type of its own, and the unchanged
list is run on A and on B: both appointments must be a conflict, nothing written
(``--no-person`` leaves it out). A last line per size sums it up against issue 30's bounds:
API actions per row at most 1.01 for a first import and 0.01 for an unchanged re-run (the exit
code is 1 if any bound or count fails).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from importer.onoffice.client import OnOfficeClient, Timeouts  # noqa: E402
from importer.run.runner import RunReport  # noqa: E402
from importer.run.submit import RunOptions, run_import  # noqa: E402
from importer.sandbox import Dialect, Faults, Sandbox  # noqa: E402
from tests.living import EDITS, Numbers, Viewing, divergence, first_list, write_list  # noqa: E402

OPTIONS = RunOptions(cancel_removed=True, backoff_base=0.01, backoff_cap=0.05, settle_delay=0.05)
FIRST_BOUND, UNCHANGED_BOUND = 1.01, 0.01  # API actions per row (issue 30)
SUMMARY = (
    "dialect | rows | runs | actions/row: first import | unchanged re-run (A, B) | edit runs (mean,"
    " max) | divergences | conflicts nobody caused | person's changes seen (writes) | bounds"
)
WRITES = ("create calendar", "modify calendar", "delete calendar")


def actions(sb: Sandbox) -> int:
    return sum(sb.stats.actions.values())


def run(
    sb: Sandbox,
    client: OnOfficeClient,
    folder: Path,
    rows: list[Viewing],
    keyed: bool,
    journal: Path,
    ids: dict[str, int],
) -> tuple[RunReport, int]:
    """One run (answering the plan's questions by the booking numbers); the actions it cost."""
    before = actions(sb)
    source, mapping = write_list(folder, rows, keyed)
    report = run_import(source, mapping, client=client, options=OPTIONS, journal_path=journal)
    if report.questions:
        asked = [row for q in report.questions for row in q.rows]
        choices = {row: ids.get(rows[row - 2].nr) for row in asked}
        answered = RunOptions(**{**vars(OPTIONS), "choices": choices})
        report = run_import(source, mapping, client=client, options=answered, journal_path=journal)
    for row, result in report.results.items():
        if result.appointment_id is not None:
            ids[rows[row - 2].nr] = result.appointment_id
    return report, actions(sb) - before


def person(
    sb: Sandbox, rows: list[Viewing], ids: dict[str, int], rng: random.Random
) -> dict[int, Viewing]:
    """A person's changes in onOffice: one row's appointment moved an hour later, another's given
    a type of its own. The two appointments and their rows."""
    chosen = {ids[v.nr]: v for v in rng.sample(rows, 2)}
    moved, retyped = chosen
    record = sb.store.appointment(moved)
    assert record is not None
    for k in ("start_dt", "end_dt"):
        later = datetime.fromisoformat(record[k]) + timedelta(hours=1)
        record[k] = later.strftime("%Y-%m-%d %H:%M:%S")
    sb.store.update_appointment(record, record["modified"])
    record = sb.store.appointment(retyped)
    assert record is not None
    sb.store.update_appointment({**record, "art": "Telefonat"}, record["modified"])
    return chosen


def sequence(
    n: int,
    rounds: int,
    keyed: bool,
    seed: int,
    work: Path,
    dialect: str = "",
    people: bool = True,
    latency: float = 0.0,
) -> list[dict[str, object]]:
    rng = random.Random(seed)
    numbers = Numbers()
    rows = first_list(n, rng, numbers)
    out = []
    ids: dict[str, int] = {}
    # the first import and the rounds; then nothing new on A and on B; then a person's changes
    steps = [(r, "B" if r and r % 3 == 0 else "A") for r in range(rounds + 1)]
    steps += [(rounds + 1, "A"), (rounds + 1, "B")]
    steps += [(rounds + 2, "A"), (rounds + 2, "B")] if people else []
    with (
        Sandbox(dialect=Dialect.parse(dialect)) as sb,
        OnOfficeClient(sb.url, sb.credentials, timeouts=Timeouts(5, 30)) as client,
    ):
        if latency:
            sb.faults = Faults(latency=latency, writes_only=True)
        changed: dict[int, Viewing] = {}
        for r, where in steps:
            edits: list[str] = []
            kind = "first" if r == 0 else "edit" if r <= rounds else "nothing new"
            if 0 < r <= rounds:
                edits = rng.choices(sorted(EDITS), k=rng.randint(1, 4))
                for e in edits:
                    rows = EDITS[e](rows, rng, numbers)
            if r == rounds + 2:
                kind = "person"
                changed = changed or person(sb, rows, ids, rng)
            folder = work / f"{n}-{seed}-{keyed}" / where
            started = time.perf_counter()
            writes = sum(sb.stats.actions[a] for a in WRITES)
            report, cost = run(sb, client, folder, rows, keyed, folder / "ledger.sqlite", ids)
            # the person's two appointments do not hold their rows: onOffice compared without
            found = divergence(
                [a for a in sb.store.all_appointments() if a["id"] not in changed],
                [v for v in rows if v not in changed.values()],
            )
            conflicts = {
                res.appointment_id
                for res in report.results.values()
                if str(res.status) == "conflict"
            }
            out.append(
                {
                    "round": r,
                    "computer": where,
                    "kind": kind,
                    "edits": ",".join(edits) or {"first": "first import"}.get(kind, kind),
                    "rows": len(rows),
                    "missing": found.missing,
                    "doubled": found.doubled,
                    "surplus": found.surplus,
                    # nobody edited onOffice, but in the person's runs: those two must be
                    "conflicts": len(conflicts - set(changed)),
                    "seen": len(conflicts & set(changed)),
                    "writes": sum(sb.stats.actions[a] for a in WRITES) - writes,
                    "actions/row": cost / max(1, len(rows)),
                    "seconds": time.perf_counter() - started,
                    "statuses": dict(
                        sorted(Counter(str(s) for s in report.counts().elements()).items())
                    ),
                    "asked": bool(report.questions),
                }
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[30, 1000])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--sequences", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keyed", choices=["both", "yes", "no"], default="both")
    parser.add_argument(
        "--dialect", default="", help="the sandbox's dialect (importer/sandbox/dialects.py)"
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="milliseconds the sandbox takes per request holding a write (default 0: the "
        "in-process sandbox then takes more than 500 writes a second, which reads by `modified` "
        "cannot tell apart within one second, and the run looks for its rows by reference)",
    )
    parser.add_argument(
        "--no-person", action="store_true", help="leave out the runs after a person's changes"
    )
    args = parser.parse_args()
    keys = {"both": (False, True), "yes": (True,), "no": (False,)}[args.keyed]
    os.environ.setdefault("ONOFFICE_IMPORT_DATA", tempfile.mkdtemp())
    head = "rows | key | seq | round | computer | edits | missing | doubled | surplus | conflicts"
    head += " | person's changes seen | writes | actions/row"
    print(f"| {head} | s |")
    print("|" + "---|" * 14)
    summaries, failed = [], False
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.rows:
            lines = []
            for keyed in keys:
                for s in range(args.sequences):
                    for line in sequence(
                        n, args.rounds, keyed, args.seed + s, Path(tmp), args.dialect,
                        not args.no_person, args.latency / 1000,
                    ):  # fmt: skip
                        lines.append(line)
                        seen = f"{line['seen']} of 2" if line["kind"] == "person" else ""
                        print(
                            f"| {n} | {'yes' if keyed else 'no'} | {s + 1} | {line['round']} "
                            f"| {line['computer']} | {line['edits']} | {line['missing']} "
                            f"| {line['doubled']} | {line['surplus']} | {line['conflicts']} "
                            f"| {seen} | {line['writes']} | {line['actions/row']:.3f} "
                            f"| {line['seconds']:.1f} |"
                        )
            name = (args.dialect or "default") + (f" ({args.latency:g} ms)" if args.latency else "")
            summary, ok = summed(n, name, lines)
            summaries.append(summary)
            failed = failed or not ok
    print()
    print(f"| {SUMMARY} |")
    print("|" + "---|" * 10)
    for summary in summaries:
        print(summary)
    if failed:
        raise SystemExit(1)


def summed(n: int, dialect: str, lines: list[dict[str, Any]]) -> tuple[str, bool]:
    """One size's runs against issue 30's bounds: a Markdown line, and whether all hold."""

    def cost(kind: str) -> list[float]:
        return [float(line["actions/row"]) for line in lines if line["kind"] == kind]

    first, edit, again = cost("first"), cost("edit"), cost("nothing new")
    by = {
        w: max(float(x["actions/row"]) for x in lines if x["kind"] == "nothing new" and
               x["computer"] == w)
        for w in ("A", "B")
    }  # fmt: skip
    diverged = sum(int(x["missing"]) + int(x["doubled"]) + int(x["surplus"]) for x in lines)
    conflicts = sum(int(x["conflicts"]) for x in lines)
    people = [x for x in lines if x["kind"] == "person"]
    seen = sum(int(x["seen"]) for x in people)
    writes = sum(int(x["writes"]) for x in people)
    again_writes = sum(int(x["writes"]) for x in lines if x["kind"] == "nothing new")
    ok = {
        f"first ≤ {FIRST_BOUND}": max(first) <= FIRST_BOUND,
        f"unchanged ≤ {UNCHANGED_BOUND}": max(again) <= UNCHANGED_BOUND and not again_writes,
        "0 divergences": not diverged,
        "0 conflicts": not conflicts,
        "person's changes seen": seen == 2 * len(people) and not writes,
    }
    bounds = ", ".join(k + (" ok" if v else " FAILED") for k, v in ok.items())
    mean = sum(edit) / len(edit) if edit else 0.0
    line = (
        f"| {dialect} | {n} | {len(lines)} | {max(first):.3f} | {by['A']:.3f}, {by['B']:.3f} "
        f"| {mean:.3f}, {max(edit, default=0.0):.3f} | {diverged} | {conflicts} "
        f"| {seen} of {2 * len(people)} ({writes}) | {bounds} |"
    )
    return line, all(ok.values())


if __name__ == "__main__":
    main()
