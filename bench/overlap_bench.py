"""Benchmark two computers running the same list at the same moment (issue 21, point 7).

    python bench/overlap_bench.py [--rows 200] [--trials 10] [--offsets 0 0.2 1 3] [--workers 1]

Each trial starts a sandbox (20 ms latency on every write), then two `onoffice-import run`
processes of the same list, each with a HOME and folder of its own (two computers, no shared
ledger or lock), the second ``offset`` seconds after the first. Afterwards it counts the rows
that have more than one appointment (must be 0 for a run that starts after the other wrote its
first rows: it sees the other in its first read and waits) and how long each run took.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from importer.sandbox import Faults, Sandbox  # noqa: E402
from importer.sandbox.dialects import Dialect  # noqa: E402

MAPPING = """
start: Start
end: {minutes: 30}
fields:
  description: Betreff
  subscribers.users: {column: Makler, lookup: user}
"""
AGENTS = ["mmueller", "jschmidt", "aweber", "tkoch"]


def write_list(folder: Path, n: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{1 + i % 28:02d}.{1 + i // 28 % 12:02d}.2027 {8 + i % 10:02d}:{i % 4 * 15:02d};"
        f"Termin {i:05d};{AGENTS[i % 4]}\n"
        for i in range(n)
    ]
    (folder / "liste.csv").write_text("Start;Betreff;Makler\n" + "".join(lines), encoding="utf-8")
    (folder / "liste.yaml").write_text(MAPPING, encoding="utf-8")


def trial(rows: int, offset: float, workers: int, work: Path, dialect: Dialect) -> dict[str, float]:
    with Sandbox(faults=Faults(latency=0.02, writes_only=True), dialect=dialect) as sb:
        procs = []
        started = []
        for n in range(2):
            home = work / f"pc{n}"
            write_list(home / "work", rows)
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("ONOFFICE")},
                "HOME": str(home),
                "XDG_DATA_HOME": str(home / ".local" / "share"),
                "ONOFFICE_API_URL": sb.url,
                "ONOFFICE_TOKEN": sb.credentials.token,
                "ONOFFICE_SECRET": sb.credentials.secret,
            }
            if n:
                time.sleep(offset)
            started.append(time.perf_counter())
            args = ["run", "liste.csv", "-m", "liste.yaml", "--workers", str(workers)]
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "importer", *args],
                    cwd=home / "work",
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        took, waited = [], 0
        for proc, began in zip(procs, started, strict=True):
            out, _ = proc.communicate(timeout=600)
            took.append(time.perf_counter() - began)
            assert proc.returncode == 0, out
            waited += "waited while it wrote" in out
        made = Counter(a["description"] for a in sb.store.all_appointments())
        assert len(made) == rows, "a row is missing"
        return {
            "doubled": sum(n - 1 for n in made.values()),
            "first_s": took[0],
            "second_s": took[1],
            "waited": waited,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--offsets", type=float, nargs="+", default=[0.0, 0.2, 1.0, 3.0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--dialect", default="", help="sandbox dialect, e.g. calendar_read=removed (default: docs)"
    )
    args = parser.parse_args()
    dialect = Dialect.parse(args.dialect)
    print(f"two runs of one list of {args.rows} rows, --workers {args.workers}, dialect {dialect}")
    print("| second starts after | trials | rows doubled (total) | trials with a double |"
          " a run waited | first run s | second run s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for offset in args.offsets:
        results = []
        for _ in range(args.trials):
            with tempfile.TemporaryDirectory() as tmp:
                results.append(trial(args.rows, offset, args.workers, Path(tmp), dialect))
        doubled = sum(r["doubled"] for r in results)
        hit = sum(1 for r in results if r["doubled"])
        waited = sum(1 for r in results if r["waited"])
        first = sum(r["first_s"] for r in results) / len(results)
        second = sum(r["second_s"] for r in results) / len(results)
        print(
            f"| {offset:.1f} s | {len(results)} | {doubled} | {hit} | {waited} "
            f"| {first:.1f} | {second:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
