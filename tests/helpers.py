"""Helpers several test modules share: generated rows, a client for a sandbox, the CLI in a
process of its own (a colleague's computer), and the edit scenarios' small table."""

from __future__ import annotations

import os
import socket
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from importer.onoffice.client import OnOfficeClient, Timeouts
from importer.run.submit import RunOptions
from importer.sandbox import Faults, Sandbox

from . import forkserver
from .files import write_csv

CSV_MAPPING = """
start: Start
end: {minutes: 30}
fields:
  description: Betreff
  subscribers.users: {column: Makler, lookup: user}
  relatedEstateId: {column: Objekt, lookup: estate}
"""
# Quick retries and settling, the default wait before re-sending a lost create.
FAST = RunOptions(backoff_base=0.01, backoff_cap=0.05, settle_delay=0.05)
AGENTS = ["mmueller", "jschmidt", "aweber", "tkoch"]
ESTATES = ["AC-1042", "0815", "AC-1043", "K-2201"]


def generated(tmp_path: Path, n: int) -> tuple[Path, Path]:
    """``n`` distinct valid rows (unique subjects) and their mapping."""
    lines = [
        f"{1 + i % 28:02d}.{1 + i // 28 % 12:02d}.2027 {8 + i % 10:02d}:{i % 4 * 15:02d};"
        f"Termin {i:04d};{AGENTS[i % 4]};{ESTATES[i % 4]}\n"
        for i in range(n)
    ]
    source = write_csv(tmp_path / "rows.csv", "Start;Betreff;Makler;Objekt\n" + "".join(lines))
    mapping = tmp_path / "rows.yaml"
    mapping.write_text(CSV_MAPPING, encoding="utf-8")
    return source, mapping


def client_for(sb: Sandbox, read: float = 2.0) -> OnOfficeClient:
    return OnOfficeClient(sb.url, sb.credentials, timeouts=Timeouts(1, read))


def subjects(sb: Sandbox) -> Counter[str]:
    return Counter(a.get("description", "") for a in sb.store.all_appointments())


def computer(sb: Sandbox, home: Path) -> dict[str, str]:
    """The environment of another computer: its own HOME and data folder, this sandbox."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("ONOFFICE")},
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "ONOFFICE_API_URL": sb.url,
        "ONOFFICE_TOKEN": sb.credentials.token,
        "ONOFFICE_SECRET": sb.credentials.secret,
    }


def cli(
    args: list[str],
    sb: Sandbox,
    home: Path,
    cwd: Path,
    env_extra: dict[str, str] | None = None,
    file_size_limit: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own, as on another computer (``env_extra``: variables to
    add, e.g. this process's data folder to share its ledger)."""
    return forkserver.run(
        args,
        cwd=cwd,
        env={**computer(sb, home), **(env_extra or {})},
        timeout=120,
        file_size_limit=file_size_limit,
    )


KEYED_MAPPING = "key: Nr\n" + CSV_MAPPING


def rows(n: int) -> list[list[str]]:
    """``n`` distinct rows: Nr, Start, Betreff, Makler, Objekt."""
    return [
        [
            f"B-{i:03d}",
            f"{1 + i % 28:02d}.{1 + i // 28 % 12:02d}.2027 {8 + i % 10:02d}:{i % 4 * 15:02d}",
            f"Termin {i:04d}",
            AGENTS[i % 4],
            ESTATES[i % 4],
        ]
        for i in range(n)
    ]


def write(folder: Path, table: list[list[str]], keyed: bool = False) -> tuple[Path, Path]:
    source = write_csv(
        folder / "rows.csv",
        "Nr;Start;Betreff;Makler;Objekt\n" + "".join(";".join(r) + "\n" for r in table),
    )
    mapping = folder / "rows.yaml"
    mapping.write_text(KEYED_MAPPING if keyed else CSV_MAPPING, encoding="utf-8")
    return source, mapping


def edit(table: list[list[str]]) -> list[list[str]]:
    """Row 2's time moved, row 5's subject changed, row 8's agent changed (rows as in Excel:
    the header is row 1)."""
    edited = [list(r) for r in table]
    edited[0][1] = edited[0][1][:11] + "17:45"
    edited[3][2] = "Besichtigung verschoben"
    edited[6][3] = "tkoch" if edited[6][3] != "tkoch" else "aweber"
    return edited


def lost_write() -> Faults:
    """The next write is made, its answer lost."""
    return Faults(plan=["lost"], writes_only=True)


def subject_set(sb: Sandbox) -> set[str]:
    return {a["description"] for a in sb.store.all_appointments()}


def edit_in_onoffice(sb: Sandbox, appointment: int | None, **fields: object) -> None:
    """A person's change in onOffice (straight into the sandbox's store)."""
    assert appointment is not None
    record = sb.store.appointment(appointment)
    assert record is not None
    sb.store.update_appointment({**record, **fields}, record["modified"])


def edit_results(path: Path, cells: dict[tuple[int, str], object]) -> None:
    """Type into a results workbook's Results sheet, as a user in Excel would:
    ``{(spreadsheet row, column header): value}``."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    sheet = book["Results"]
    header = [c.value for c in sheet[1]]
    for (row, column), value in cells.items():
        sheet.cell(row=row, column=header.index(column) + 1, value=value)
    book.save(path)


def sheet_rows(workbook: Any, sheet: str) -> list[dict[str, Any]]:
    """A sheet of one of our workbooks (a path or an open openpyxl book) as a dict a row,
    by header: tests do not depend on where a column sits."""
    import openpyxl

    book = (
        openpyxl.load_workbook(workbook, read_only=True) if isinstance(workbook, Path) else workbook
    )
    values = list(book[sheet].iter_rows(values_only=True))
    if not values:
        return []
    header = [str(h) for h in values[0]]
    return [dict(zip(header, row, strict=False)) for row in values[1:]]


def statuses(workbook: Any, sheet: str = "Results") -> Counter[str]:
    """The Status column of a results workbook (or a report's Rows sheet), counted."""
    return Counter(str(r["Status"]) for r in sheet_rows(workbook, sheet))


def nowhere() -> str:
    """An API URL on 127.0.0.1 where nothing listens (a port just freed): every request is
    refused at once, never delivered."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/api.php"
