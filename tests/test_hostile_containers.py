"""Hostile containers are refused within 10 s and 512 MiB, each measured in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .files import with_member

PROBE = """
import json, resource, sys, time
started = time.monotonic()
from importer.core.errors import SourceFileError
from importer.source.load import load_table
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
clock = time.monotonic()
try:
    load_table(sys.argv[1])
    outcome = "loaded"
except SourceFileError as exc:
    outcome = exc.code
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"outcome": outcome, "seconds": time.monotonic() - clock,
                  "peak_mib": peak / 1024, "baseline_mib": before / 1024}))
"""


def probe(path: Path) -> dict[str, float | str]:
    run = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def million_rows(folder: Path) -> Path:
    """A sheet with 1,048,576 rows of data, streamed straight into the zip (no library)."""

    def sheet() -> Iterator[bytes]:
        yield b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        yield b"<sheetData>"
        for first in range(1, 1_048_577, 50_000):
            rows = range(first, min(first + 50_000, 1_048_577))
            yield "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in rows).encode()
        yield b"</sheetData></worksheet>"

    return with_member(folder, "million.xlsx", "xl/worksheets/sheet1.xml", sheet())


def zip_bomb(folder: Path) -> Path:
    spaces = b" " * (1 << 20)  # 1 GiB inflated
    return with_member(folder, "bomb.xlsx", "xl/sharedStrings.xml", [spaces] * 1024)


def billion_laughs(folder: Path) -> Path:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{"&lol" + (str(i - 1) if i > 1 else "") + ";"}' * 10 + '">'
        for i in range(1, 10)
    )
    bomb = f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]><sst>&lol9;</sst>'
    return with_member(folder, "laughs.xlsx", "xl/sharedStrings.xml", [bomb.encode()])


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (million_rows, "file-too-many-rows"),
        (zip_bomb, "file-too-large"),
        (billion_laughs, "file-forbidden-xml"),
    ],
    ids=["1048576-rows", "zip-bomb-1GiB", "billion-laughs"],
)
def test_hostile_container_is_refused_within_10_s_and_512_mib(
    tmp_path: Path, build: object, code: str
) -> None:
    path = build(tmp_path)  # type: ignore[operator]
    result = probe(path)
    assert result["outcome"] == code
    assert result["seconds"] < 10
    assert result["peak_mib"] < 512
