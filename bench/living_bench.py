"""Benchmark a living list (issue 21): rounds of random edits, run from two computers.

    python bench/living_bench.py [--rows 30 1000] [--rounds 12] [--sequences 3] [--seed 1]
    python bench/living_bench.py --rows 20000 --rounds 1 --sequences 1 --keyed no   # first import

Each sequence imports a list of viewings, then edits it in rounds of 1-4 random edits (time
moved, prospect / type / agent / note changed, row deleted or inserted, two rows swapped, a
look-alike twin added: ``tests/living.py``) and imports each round with ``--cancel-removed``;
every third round runs on computer B (a ledger of its own, its own folder: nothing of A's). After
every run it compares onOffice with the file and prints the divergences (rows no active
appointment holds, rows held twice, active appointments of the import that hold no row: all
must be 0), the API actions per row that run cost (every action the sandbox received, reads
included), and the statuses. Rows the plan asks about (no key, two look-alike rows changed at
once) are answered as the booking numbers say (``--pair``), which costs a second run.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from importer.onoffice.client import OnOfficeClient, Timeouts  # noqa: E402
from importer.run.runner import RunReport  # noqa: E402
from importer.run.submit import RunOptions, run_import  # noqa: E402
from importer.sandbox import Dialect, Sandbox  # noqa: E402
from tests.living import EDITS, Numbers, Viewing, divergence, first_list, write_list  # noqa: E402

OPTIONS = RunOptions(cancel_removed=True, backoff_base=0.01, backoff_cap=0.05, settle_delay=0.05)


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


def sequence(
    n: int, rounds: int, keyed: bool, seed: int, work: Path, dialect: str = ""
) -> list[dict[str, object]]:
    rng = random.Random(seed)
    numbers = Numbers()
    rows = first_list(n, rng, numbers)
    out = []
    ids: dict[str, int] = {}
    with (
        Sandbox(dialect=Dialect.parse(dialect)) as sb,
        OnOfficeClient(sb.url, sb.credentials, timeouts=Timeouts(5, 30)) as client,
    ):
        for r in range(rounds + 2):  # the first import, the rounds, then a run of nothing new
            edits: list[str] = []
            if 0 < r <= rounds:
                edits = rng.choices(sorted(EDITS), k=rng.randint(1, 4))
                for kind in edits:
                    rows = EDITS[kind](rows, rng, numbers)
            where = "B" if r and r % 3 == 0 else "A"
            folder = work / f"{n}-{seed}-{keyed}" / where
            started = time.perf_counter()
            report, cost = run(sb, client, folder, rows, keyed, folder / "ledger.sqlite", ids)
            found = divergence(sb.store.all_appointments(), rows)
            out.append(
                {
                    "round": r,
                    "computer": where,
                    "edits": ",".join(edits) or ("first import" if r == 0 else "none"),
                    "rows": len(rows),
                    "missing": found.missing,
                    "doubled": found.doubled,
                    "surplus": found.surplus,
                    "conflicts": report.counts()["conflict"],  # nobody edited onOffice
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
    args = parser.parse_args()
    keys = {"both": (False, True), "yes": (True,), "no": (False,)}[args.keyed]
    os.environ.setdefault("ONOFFICE_IMPORT_DATA", tempfile.mkdtemp())
    total = Counter[str]()
    cost: dict[str, list[float]] = {"first": [], "edit": [], "nothing new": []}
    head = "rows | key | seq | round | computer | edits | missing | doubled | surplus | conflicts"
    head += " | actions/row"
    print(f"| {head} | s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.rows:
            for keyed in keys:
                for s in range(args.sequences):
                    lines = sequence(n, args.rounds, keyed, args.seed + s, Path(tmp), args.dialect)
                    for line in lines:
                        total["runs"] += 1
                        for k in ("missing", "doubled", "surplus", "conflicts"):
                            total[k] += int(line[k])  # type: ignore[call-overload]
                        kind = {"first import": "first", "none": "nothing new"}.get(
                            str(line["edits"]), "edit"
                        )
                        cost[kind].append(float(line["actions/row"]))  # type: ignore[arg-type]
                        print(
                            f"| {n} | {'yes' if keyed else 'no'} | {s + 1} | {line['round']} "
                            f"| {line['computer']} | {line['edits']} | {line['missing']} "
                            f"| {line['doubled']} | {line['surplus']} | {line['conflicts']} "
                            f"| {line['actions/row']:.3f} | {line['seconds']:.1f} |"
                        )
    print()
    print(
        f"{total['runs']} runs: {total['missing']} rows missing, {total['doubled']} rows doubled, "
        f"{total['surplus']} surplus appointments, {total['conflicts']} conflicts (all must be 0)"
    )
    for kind, values in cost.items():
        if values:
            mean = sum(values) / len(values)
            print(f"actions per row, {kind} runs: max {max(values):.3f}, mean {mean:.3f}")
    if total["missing"] or total["doubled"] or total["surplus"] or total["conflicts"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
