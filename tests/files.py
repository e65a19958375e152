"""Builders of real test files: workbooks (openpyxl), CSVs, and hand-made zip containers."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[Any]],
    *,
    title: str = "Termine",
    formats: dict[int, str] | None = None,
    extra_sheets: Sequence[str] = (),
    setup: Callable[[Any], None] | None = None,
) -> Path:
    """A workbook with ``rows`` on its first sheet; ``formats`` = {column index: number format}."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for values in rows:
        sheet.append(list(values))
    for col, fmt in (formats or {}).items():
        for row in sheet.iter_rows(min_col=col + 1, max_col=col + 1):
            row[0].number_format = fmt
    for name in extra_sheets:
        book.create_sheet(name)["A1"] = "notes"
    if setup:
        setup(book)
    book.save(path)
    return path


def write_csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def rewrite_member(src: Path, dst: Path, member: str, edit: Callable[[bytes], bytes]) -> Path:
    """Copy a zip, passing one member through ``edit``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            zout.writestr(item, edit(data) if item.filename == member else data)
    return dst


def with_member(folder: Path, name: str, member: str, chunks: Iterable[bytes]) -> Path:
    """A small real workbook in which ``member`` is replaced (or added), streamed from chunks."""
    template = write_xlsx(folder / f"template-{name}", [["Start", "Ende"], ["a", "b"]])
    path = folder / name
    with zipfile.ZipFile(template) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename != member:
                zout.writestr(item, zin.read(item.filename))
        with zout.open(member, "w") as f:
            for chunk in chunks:
                f.write(chunk)
    template.unlink()
    return path


def set_cell_xml(data: bytes, ref: str, xml: str) -> bytes:
    """Replace cell ``ref`` of a sheet XML with raw ``xml``."""
    pattern = rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)'.encode()
    return re.sub(pattern, xml.encode(), data, count=1, flags=re.S)
