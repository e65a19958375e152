"""The file is read once per command (issue 34): the bytes parsed are the bytes hashed, so the
SHA-256 in the report and the results describes exactly the rows checked."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from importer.rules.check import check, prepare
from importer.sandbox import Sandbox

from .files import write_csv, write_xlsx
from .helpers import CSV_MAPPING, computer

ROWS = [
    ["Start", "Betreff", "Makler", "Objekt"],
    ["01.03.2027 10:00", "Besichtigung 1", "mmueller", "AC-1042"],
    ["02.03.2027 11:30", "Besichtigung 2", "jschmidt", "0815"],
]

# A real CLI process whose Python-level opens of the source file are counted (the audit hook
# sees builtins.open, io.open and zipfile's; calamine now gets bytes, never the path).
COUNTING = """
import json, os, sys
target = os.path.realpath(sys.argv[1])
opened = []
def hook(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        if os.path.realpath(os.fsdecode(args[0])) == target:
            opened.append(args[1])
sys.addaudithook(hook)
from importer.cli import main
counts = {}
for command in sys.argv[3:]:
    opened.clear()
    try:
        main([command, sys.argv[1], "-m", sys.argv[2]])
    except SystemExit as exc:
        assert not exc.code, (command, exc.code)
    counts[command] = len(opened)
print("OPENS " + json.dumps(counts))
"""


def source_file(tmp_path: Path, kind: str) -> Path:
    if kind == "xlsx":
        return write_xlsx(tmp_path / "liste.xlsx", ROWS)
    text = "".join(";".join(r) + "\n" for r in ROWS)
    return write_csv(tmp_path / "liste.csv", text)


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_check_and_run_open_the_file_once(tmp_path: Path, kind: str) -> None:
    """Was: an .xlsx four times (head, zip scan, calamine, SHA-256), a CSV three times."""
    source = source_file(tmp_path, kind)
    mapping = tmp_path / "liste.yaml"
    mapping.write_text(CSV_MAPPING, encoding="utf-8")
    with Sandbox() as sb:
        env = {**computer(sb, tmp_path / "home"), "PYTHONPATH": os.pathsep.join(sys.path)}
        done = subprocess.run(
            [sys.executable, "-c", COUNTING, str(source), str(mapping), "check", "run"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        created = sb.store.count_appointments()
    line = [x for x in done.stdout.splitlines() if x.startswith("OPENS ")]
    assert line, done.stdout + done.stderr
    assert json.loads(line[0].removeprefix("OPENS ")) == {"check": 1, "run": 1}
    assert created == 2


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_the_hash_is_of_the_bytes_the_rows_came_from(tmp_path: Path, kind: str) -> None:
    """The file changes between its read and the end of the check: the report's SHA-256 is
    still that of the bytes its rows were parsed from (it was hashed by a later read)."""
    source = source_file(tmp_path, kind)
    mapping = tmp_path / "liste.yaml"
    mapping.write_text(CSV_MAPPING, encoding="utf-8")
    parsed = hashlib.sha256(source.read_bytes()).hexdigest()
    prepared = prepare(source, mapping)
    changed = [*ROWS, ["03.03.2027 09:00", "Besichtigung 3", "aweber", "AC-1043"]]
    if kind == "xlsx":
        write_xlsx(source, changed)
    else:
        write_csv(source, "".join(";".join(r) + "\n" for r in changed))
    assert hashlib.sha256(source.read_bytes()).hexdigest() != parsed
    report = check(source, prepared[0], prepared=prepared)
    assert report.source_sha256 == parsed
    assert len(report.outcomes) == 2
