"""Benchmark `run`: 2,000 rows into the sandbox with 20 ms added latency, --workers 1, 4, 8.

    python bench/import_bench.py [--rows 2000] [--latency 0.02] [--workers 1 4 8]

The sandbox runs in its own process (started with `onoffice-import sandbox`), so the CPU time
measured here is the importer's alone: loading, mapping, validating, look-ups, journal, HTTP.
Wall time is compared with the bound rows x latency / workers, and with the floor: rows x the
time one bare create takes against the same sandbox (a loop of 200 creates of the client alone,
no journal, no importer: the latency, the HTTP stack and the sandbox's own work) / workers.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAPPING = """
start: Start
end: {minutes: 30}
fields:
  description: Betreff
  subscribers.users: {column: Makler, lookup: user}
  relatedEstateId: {column: Objekt, lookup: estate}
"""


def start_sandbox(latency: float, *extra: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from importer.cli import main; main()",
            "sandbox",
            "--port",
            "0",
            "--latency",
            str(latency),
            *extra,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    env: dict[str, str] = {}
    while len(env) < 3:
        line = proc.stdout.readline()
        if "export " in line:
            key, value = line.split("export ", 1)[1].strip().split("=", 1)
            env[key] = value
    return proc, env


def write_rows(folder: Path, n: int) -> tuple[Path, Path]:
    agents = ["mmueller", "jschmidt", "aweber", "tkoch"]
    estates = ["AC-1042", "0815", "AC-1043", "K-2201"]
    lines = [
        f"{1 + i % 28:02d}.{1 + i // 28 % 12:02d}.2027 {8 + i % 10:02d}:{i % 4 * 15:02d};"
        f"Termin {i:05d};{agents[i % 4]};{estates[i % 4]}\n"
        for i in range(n)
    ]
    source = folder / "rows.csv"
    source.write_text("Start;Betreff;Makler;Objekt\n" + "".join(lines), encoding="utf-8")
    mapping = folder / "rows.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return source, mapping


def bare_request(latency: float, n: int = 200) -> float:
    """Seconds one create takes against this sandbox, sent by the client alone."""
    from importer.onoffice.client import Credentials, OnOfficeClient

    proc, env = start_sandbox(latency)
    try:
        creds = Credentials(env["ONOFFICE_TOKEN"], env["ONOFFICE_SECRET"])
        with OnOfficeClient(env["ONOFFICE_API_URL"], creds) as client:
            client.account()
            began = time.perf_counter()
            for i in range(n):
                data = {"start_dt": "2027-03-01 10:00:00", "end_dt": "2027-03-01 11:00:00"}
                client.create_appointment({"data": {**data, "description": f"bare {i}"}})
            return (time.perf_counter() - began) / n
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def measure(rows: int, latency: float, workers: int) -> dict[str, float]:
    from importer.onoffice.client import Credentials, OnOfficeClient
    from importer.run.submit import RunOptions, run_import

    proc, env = start_sandbox(latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            source, mapping = write_rows(Path(tmp), rows)
            creds = Credentials(env["ONOFFICE_TOKEN"], env["ONOFFICE_SECRET"])
            with OnOfficeClient(env["ONOFFICE_API_URL"], creds) as client:
                sent: list[float] = []

                def progress(done: int, total: int, counts: object) -> None:
                    if done == 1:  # the first answer: the send phase began one request earlier
                        sent.append(time.perf_counter() - latency)

                wall, cpu = time.perf_counter(), time.process_time()
                report = run_import(
                    source,
                    mapping,
                    client=client,
                    journal_path=Path(tmp) / "j.sqlite",
                    options=RunOptions(workers=workers),
                    progress=progress,
                )
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            created = report.counts()["created"]
            assert created == rows, report.counts()
            send_wall = time.perf_counter() - sent[0] if sent else wall
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    bound = rows * latency / workers
    return {
        "workers": workers,
        "wall_s": wall,
        "bound_s": bound,
        "over_bound": wall / bound - 1,
        "cpu_ms_per_row": cpu * 1000 / created,
        "send_phase_s": send_wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    print(f"{args.rows} rows, {args.latency * 1000:.0f} ms added latency per request")
    bare = bare_request(args.latency)
    print(f"one bare create: {bare * 1000:.2f} ms ({bare / args.latency - 1:.0%} over the latency)")
    print(
        f"{'workers':>7} {'wall s':>7} {'bound s':>8} {'over bound':>10} {'floor s':>8} "
        f"{'over floor':>10} {'send s':>7} {'send over':>9} {'CPU ms/row':>10}"
    )
    for workers in args.workers:
        r = measure(args.rows, args.latency, workers)
        send_over = r["send_phase_s"] / r["bound_s"] - 1
        floor = args.rows * bare / workers
        print(
            f"{r['workers']:7d} {r['wall_s']:7.1f} {r['bound_s']:8.1f} {r['over_bound']:10.0%} "
            f"{floor:8.1f} {r['wall_s'] / floor - 1:10.0%} "
            f"{r['send_phase_s']:7.1f} {send_over:9.0%} {r['cpu_ms_per_row']:10.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
