"""Benchmark `check` (no --resolve) on 100,000 rows, .xlsx and .csv, against the plain way.

    python bench/check_bench.py [--rows 100000] [--repeat 1] [--out bench/out]
    python bench/check_bench.py --against ../older-checkout   # ours now vs ours then

With ``--against`` the importer of another checkout (e.g. ``git worktree add ../before
<commit>``) is measured instead of the plain way, interleaved in the same run: a change must
not make `check` more than 10% slower.

The plain way is what a script would do: pandas `read_excel` (openpyxl) or `read_csv`, then
`to_excel` (openpyxl) of the same frame. Every measurement runs in a fresh Python process so
that peak memory (ru_maxrss) belongs to that measurement alone; the options are interleaved.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HEADER = [
    "Datum",
    "Beginn",
    "Ende",
    "Objekt-Nr.",
    "Interessent",
    "E-Mail",
    "Makler",
    "Terminart",
    "Erinnerung",
    "Ressourcen",
    "abgesagt",
    "Privat",
    "Telefon",
    "Kundennr",
    "Bemerkung",
]
MAPPING = """
start: {date: Datum, time: Beginn}
end: {time: Ende, minutes: 30}
fields:
  description: {template: "{Terminart} {Objekt-Nr.} mit {Interessent}"}
  note: Bemerkung
  art: {column: Terminart, map: {Besichtigung: Besichtigung, Übergabe: Uebergabe,
        Notartermin: Notartermin, Beratung: Beratung}}
  erinnerung: Erinnerung
  abgesagt: {column: abgesagt, default: nein}
  private: {column: Privat, default: nein}
  ressources: {column: Ressourcen, split: ","}
  relatedEstateId: {column: Objekt-Nr., lookup: estate}
  relatedAddressIds: {column: E-Mail, lookup: address}
  subscribers.users: {column: Makler, lookup: user}
options: {past: allow}
"""


def rows(n: int) -> list[list[object]]:
    rng = random.Random(42)
    agents = ["mmueller", "jschmidt", "aweber", "tkoch", "lbecker", "skaya"]
    kinds = ["Besichtigung"] * 6 + ["Übergabe", "Notartermin", "Beratung"]
    reminders = ["15 Min", "30 Min", "1 Std", "1 Tag", "", "10 Min"]  # 10 Min is invalid
    first = date(2027, 1, 4)
    out = []
    for i in range(n):
        day = first + timedelta(days=i // 40)
        start = datetime.combine(day, datetime.min.time()) + timedelta(minutes=480 + 15 * (i % 40))
        end = start + timedelta(minutes=rng.choice([30, 45, 60]))
        if i % 97 == 0:
            end = start - timedelta(minutes=15)  # end before start
        name = f"Kunde {i}"
        out.append(
            [
                day,
                start.time(),
                end.time(),
                f"AC-{1000 + i % 900}",
                name,
                f"kunde{i}@example.de",
                rng.choice(agents),
                rng.choice(kinds),
                rng.choice(reminders),
                rng.choice(["", "Firmenfahrzeug", "Firmenfahrzeug, Beamer"]),
                "x" if i % 50 == 0 else "",
                rng.choice(["ja", "nein", ""]),
                f"0241 {rng.randint(100000, 999999)}",
                f"{i:06d}",
                rng.choice(
                    [
                        "",
                        "Unterlagen mitbringen",
                        "Schlüssel im Büro; Parkplatz im Hof",
                        "Rückruf erbeten",
                    ]
                ),
            ]
        )
    return out


def make_files(n: int, out: Path) -> tuple[Path, Path]:
    """The two inputs, written once (openpyxl, write-only: neither way's own writer)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    out.mkdir(parents=True, exist_ok=True)
    xlsx, csv_path = out / f"bench-{n}.xlsx", out / f"bench-{n}.csv"
    data = rows(n)
    if not xlsx.exists():
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Termine")
        sheet.append(HEADER)

        def typed(value: object, fmt: str) -> WriteOnlyCell:
            cell = WriteOnlyCell(sheet, value)
            cell.number_format = fmt
            return cell

        for values in data:
            sheet.append(
                [
                    typed(values[0], "dd.mm.yyyy"),
                    typed(values[1], "hh:mm"),
                    typed(values[2], "hh:mm"),
                    *(v if v != "" else None for v in values[3:]),
                ]
            )
        book.save(xlsx)
    if not csv_path.exists():
        with csv_path.open("w", encoding="cp1252", newline="") as f:
            writer = csv.writer(f, delimiter=";")
            writer.writerow(HEADER)
            for values in data:
                writer.writerow(
                    [
                        values[0].strftime("%d.%m.%Y"),
                        values[1].strftime("%H:%M"),
                        values[2].strftime("%H:%M"),
                        *values[3:],
                    ]
                )
    (out / "bench.yaml").write_text(MAPPING, encoding="utf-8")
    return xlsx, csv_path


def child(kind: str, path: Path, out: Path) -> dict[str, object]:
    """One measurement; runs in its own process."""
    started = time.perf_counter()
    if kind == "ours":
        import importer

        report = importer.check(path, out / "bench.yaml", report=out / f"{path.stem}.check.xlsx")
        stages = dict(report.timings)
        rows_read = len(report.outcomes)
        extra = {"valid": report.valid_count, "invalid": report.invalid_count}
    else:
        import pandas as pd

        clock = time.perf_counter()
        if path.suffix == ".xlsx":
            frame = pd.read_excel(path, engine="openpyxl")
        else:
            frame = pd.read_csv(path, sep=";", encoding="cp1252")
        load = time.perf_counter() - clock
        clock = time.perf_counter()
        frame.to_excel(out / f"{path.stem}.plain.xlsx", engine="openpyxl", index=False)
        stages = {"load": load, "report": time.perf_counter() - clock}
        rows_read, extra = len(frame), {}
    total = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mib = usage.ru_maxrss / 1024
    return {
        "kind": kind,
        "file": path.name,
        "rows": rows_read,
        "total_s": round(total, 2),
        # CPU seconds of the whole process, imports included: on a machine others keep busy,
        # wall time measures the others too; both ways run on one core
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "stages_s": {k: round(v, 2) for k, v in stages.items()},
        "rows_per_s": round(rows_read / total),
        "peak_mib": round(peak_mib),
        **extra,
    }


def measure(kind: str, path: Path, out: Path, against: Path | None = None) -> dict[str, object]:
    """One measurement in a fresh process; ``kind`` "then" is ours from the ``against`` tree."""
    env = dict(os.environ)
    if kind == "then":
        assert against is not None
        env["PYTHONPATH"] = str(against.resolve())
    run = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            "ours" if kind == "then" else kind,
            str(path),
            str(out),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--against", type=Path, help="another checkout to compare ours with")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path, out = args.child
        print(json.dumps(child(kind, Path(path), Path(out))))
        return
    xlsx, csv_path = make_files(args.rows, args.out)
    results: dict[tuple[str, str], list[dict[str, object]]] = {}
    other = "then" if args.against else "plain"
    for _ in range(args.repeat):
        for path in (csv_path, xlsx):
            for kind in ("ours", other):  # interleaved
                results.setdefault((path.suffix, kind), []).append(
                    measure(kind, path, args.out, args.against)
                )
    print(f"{args.rows:,} rows x {len(HEADER)} columns, median of {args.repeat}")
    print(
        f"{'file':6} {'way':6} {'total s':>8} {'CPU s':>6} {'load':>6} {'map':>6} {'valid.':>6} "
        f"{'report':>7} {'rows/s':>8} {'peak MiB':>9}"
    )
    for (suffix, kind), runs in results.items():
        total = statistics.median(r["total_s"] for r in runs)  # type: ignore[misc]
        best = min(runs, key=lambda r: abs(r["total_s"] - total))  # type: ignore[operator]
        s = best["stages_s"]
        print(
            f"{suffix:6} {kind:6} {total:8.1f} {best.get('cpu_s', 0):6.1f} "
            f"{s.get('load', 0):6.1f} {s.get('map', 0):6.1f} "
            f"{s.get('validate', 0):6.1f} {s.get('report', 0):7.1f} {best['rows_per_s']:8,} "
            f"{best['peak_mib']:9,}"
        )  # type: ignore[union-attr]
    for suffix in (".csv", ".xlsx"):
        ours = statistics.median(r["total_s"] for r in results[(suffix, "ours")])  # type: ignore[misc]
        alt = statistics.median(r["total_s"] for r in results[(suffix, other)])  # type: ignore[misc]
        cpu = [
            statistics.median(r["cpu_s"] for r in results[(suffix, k)])  # type: ignore[misc]
            for k in ("ours", other)
        ]
        if args.against:
            print(
                f"{suffix}: ours {ours:.1f} s vs then {alt:.1f} s = {ours / alt - 1:+.0%}"
                f" (CPU {cpu[0]:.1f} s vs {cpu[1]:.1f} s = {cpu[0] / cpu[1] - 1:+.0%})"
            )
        else:
            print(
                f"{suffix}: ours {ours:.1f} s vs plain {alt:.1f} s = {alt / ours:.1f}x faster"
                f" (CPU {cpu[0]:.1f} s vs {cpu[1]:.1f} s = {cpu[1] / cpu[0]:.1f}x)"
            )
    print(json.dumps({f"{k[0]} {k[1]}": v for k, v in results.items()}))


if __name__ == "__main__":
    main()
