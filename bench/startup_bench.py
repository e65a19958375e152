"""Start-up: how long the CLI takes before it does anything, side by side with the libraries.

    python bench/startup_bench.py [--repeat 7]

Each command runs in a fresh process; the median wall time of ``--repeat`` runs is printed,
interleaved so that a busy machine slows every side alike. Targets (issue "A house that is easy
to live in"): ``--help`` and ``sandbox --help`` under 0.15 s; ``check`` of the 14-row sample
within 25% of ``import pandas, pandera.pandas``. Run it in an environment installed with
``pip install .`` (no test extras): with Hypothesis installed, pandera imports it while
registering its backends (about 0.15 s more for ``check``).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
SCRIPT = Path(PY).parent / "onoffice-import"  # the console script, as a user starts it
CLI = [str(SCRIPT)] if SCRIPT.exists() else [PY, "-m", "importer"]


def commands(report: Path) -> dict[str, list[str]]:
    sample = str(ROOT / "samples" / "viewings.xlsx")
    mapping = str(ROOT / "mappings" / "viewings.yaml")
    return {
        "python -c 'import click'": [PY, "-c", "import click"],
        "onoffice-import --help": [*CLI, "--help"],
        "onoffice-import sandbox --help": [*CLI, "sandbox", "--help"],
        "python -c 'import pandas, pandera.pandas'": [PY, "-c", "import pandas, pandera.pandas"],
        "onoffice-import check (14-row sample)": [
            *CLI,
            "check",
            sample,
            "-m",
            mapping,
            "--report",
            str(report),
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        todo = commands(Path(folder) / "report.xlsx")
        times: dict[str, list[float]] = {name: [] for name in todo}
        for _ in range(args.repeat):
            for name, command in todo.items():
                start = time.perf_counter()
                subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
                times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{value:6.3f} s  {name}")
    libraries = medians["python -c 'import pandas, pandera.pandas'"]
    check = medians["onoffice-import check (14-row sample)"]
    print(f"check / import pandas+pandera: {check / libraries:.2f}x (target at most 1.25x)")


if __name__ == "__main__":
    main()
