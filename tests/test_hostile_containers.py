"""Hostile containers are refused within 10 s and 512 MiB, each measured in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .files import write_xlsx

PROBE = """
import json, resource, sys, time
started = time.monotonic()
from importer.errors import SourceFileError
from importer.load import load_table
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
    template = write_xlsx(folder / "t.xlsx", [["Start", "Ende"], ["a", "b"]])
    path = folder / "million.xlsx"
    with zipfile.ZipFile(template) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(item, zin.read(item.filename))
        with zout.open("xl/worksheets/sheet1.xml", "w") as f:
            f.write(
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b"<sheetData>"
            )
            chunk = []
            for n in range(1, 1_048_577):
                chunk.append(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>')
                if len(chunk) == 50_000:
                    f.write("".join(chunk).encode())
                    chunk = []
            f.write("".join(chunk).encode() + b"</sheetData></worksheet>")
    return path


def zip_bomb(folder: Path) -> Path:
    template = write_xlsx(folder / "t.xlsx", [["Start", "Ende"], ["a", "b"]])
    path = folder / "bomb.xlsx"
    with zipfile.ZipFile(template) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
        with zout.open("xl/sharedStrings.xml", "w") as f:
            for _ in range(1024):  # 1 GiB inflated
                f.write(b" " * (1 << 20))
    return path


def billion_laughs(folder: Path) -> Path:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{"&lol" + (str(i - 1) if i > 1 else "") + ";"}' * 10 + '">'
        for i in range(1, 10)
    )
    bomb = f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]><sst>&lol9;</sst>'
    template = write_xlsx(folder / "t.xlsx", [["Start", "Ende"], ["a", "b"]])
    path = folder / "laughs.xlsx"
    with zipfile.ZipFile(template) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
        zout.writestr("xl/sharedStrings.xml", bomb)
    return path


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
