"""Our .xlsx writer against XlsxWriter, writing the same report-like sheet.

    pip install xlsxwriter   # for this comparison only; not a dependency
    python bench/writer_bench.py [--rows 100000] [--columns 15] [--repeat 3]

The sheet is what a check report holds: text, numbers and dates, every sixth row with two red
cells carrying a note. XlsxWriter runs in ``constant_memory`` mode (its fastest, streaming) with
one red format. Each side writes in a fresh process; medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

OURS = """
import sys, time
from datetime import datetime, timedelta
from importer.output.workbook import RowsSheet, write_workbook
rows, columns, target = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
start = datetime(2027, 3, 1, 9)
def body():
    for r in range(rows):
        cells = [f"text {r} {c}" if c % 3 else (r * 1.5 if c % 2 else start + timedelta(hours=r))
                 for c in range(columns)]
        notes = {1: f"Error: row {r} is wrong", 4: "Error: and this"} if r % 6 == 0 else {}
        yield cells, notes
clock = time.perf_counter()
write_workbook(target, [RowsSheet("Rows", [f"C{c}" for c in range(columns)], body())])
print(time.perf_counter() - clock)
"""

XLSXWRITER = """
import sys, time
from datetime import datetime, timedelta
import xlsxwriter
rows, columns, target = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
start = datetime(2027, 3, 1, 9)
clock = time.perf_counter()
book = xlsxwriter.Workbook(target, {"constant_memory": True})
sheet = book.add_worksheet("Rows")
red = book.add_format({"bg_color": "#FFC7CE"})
when = book.add_format({"num_format": "dd.mm.yyyy hh:mm"})
sheet.write_row(0, 0, [f"C{c}" for c in range(columns)])
for r in range(rows):
    for c in range(columns):
        value = f"text {r} {c}" if c % 3 else (r * 1.5 if c % 2 else start + timedelta(hours=r))
        bad = r % 6 == 0 and c in (1, 4)
        if isinstance(value, datetime):
            sheet.write_datetime(r + 1, c, value, red if bad else when)
        else:
            sheet.write(r + 1, c, value, red if bad else None)
        if bad:
            sheet.write_comment(r + 1, c, f"Error: row {r} is wrong")
book.close()
print(time.perf_counter() - clock)
"""


def timed(script: str, rows: int, columns: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run(
            [sys.executable, "-c", script, str(rows), str(columns), str(Path(folder) / "w.xlsx")],
            capture_output=True,
            text=True,
            check=True,
        )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--columns", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    try:
        import xlsxwriter  # noqa: F401
    except ImportError:
        sys.exit("pip install xlsxwriter first: it is only needed for this comparison")
    sides = {"ours (importer/output/xlsx_write.py)": OURS, "XlsxWriter constant_memory": XLSXWRITER}
    times: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(args.repeat):
        for name, script in sides.items():
            times[name].append(timed(script, args.rows, args.columns))
    print(f"{args.rows:,} rows x {args.columns} columns, every sixth row with two red cells")
    for name, values in times.items():
        print(f"{statistics.median(values):7.2f} s  {name}")


if __name__ == "__main__":
    main()
