"""Coverage-guided fuzzing of "bytes in, rows or typed errors out" with atheris.

    pip install atheris
    python fuzz/fuzz_load.py -max_total_time=3600 -rss_limit_mb=2048 \
        -artifact_prefix=fuzz/findings/ fuzz/corpus

Each input is written as a .csv and as an .xlsx and loaded, then run through `check` with a
small mapping. Any exception other than our own typed errors is a finding (atheris stops and
writes the input to crash-*). The corpus folder is seeded from samples/ on first run.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import atheris

with atheris.instrument_imports():
    import yaml

    from importer import check
    from importer.core.errors import ImporterError
    from importer.mapping.spec import parse_mapping

ROOT = Path(__file__).resolve().parent.parent
FOLDER = Path(tempfile.mkdtemp(prefix="fuzz-load-"))
MAPPING = parse_mapping(
    yaml.safe_load("start: A\nend: {column: B}\nfields: {description: C, note: D}\n"),
    Path("fuzz.yaml"),
)
NOW = datetime(2026, 11, 25)


def one_input(data: bytes) -> None:
    for name in ("in.csv", "in.xlsx"):
        path = FOLDER / name
        path.write_bytes(data)
        with contextlib.suppress(ImporterError):  # a typed refusal is a correct answer
            check(path, MAPPING, report=False, now=NOW)


def main() -> None:
    corpus = next((Path(a) for a in sys.argv[1:] if not a.startswith("-")), None)
    if corpus is not None and not corpus.exists():
        corpus.mkdir(parents=True)
        for sample in (ROOT / "samples").glob("*.*[vx]"):
            shutil.copy(sample, corpus / sample.name)
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
