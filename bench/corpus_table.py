"""The corpus table of issue 32: every calendar and CSV export of the corpus run against the
sandbox as a user runs it, one line each.

    python bench/corpus_table.py            # a Markdown table on stdout (about a minute)

The corpus: ``tests/data/calendars/*.ics`` (tests/test_ics_corpus.py), the calendar samples
``samples/*.ics`` and the CSV exports ``samples/outlook-{de,en,uk}.csv`` and
``samples/google.csv`` (tests/test_csv_exports.py). Each file is run with its shipped mapping
by the CLI in a process of its own (its own HOME, so its own ledger) into a sandbox of its own
over HTTP on 127.0.0.1 (the sample agency, an empty calendar: the samples are the same
appointments written by different programs). The counts are the results workbook's statuses
(created; of those, warned: a created row with warnings; refused: every row not created) and
the exit code. "Why" names each warned or refused row by its problem codes and cells, as
`check` against the same sandbox finds them, and the file's own warnings (the encoding, an
assumed day/month order); a file refused as a whole says its one line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from importer import check  # noqa: E402
from importer.core.errors import ImporterError  # noqa: E402
from importer.onoffice.client import OnOfficeClient  # noqa: E402
from importer.sandbox import Sandbox  # noqa: E402
from tests.helpers import computer  # noqa: E402

ICS = ROOT / "mappings" / "ics.yaml"
CORPUS: list[tuple[Path, str, Path]] = [  # file, the program it imitates, its mapping
    *(
        (ROOT / "tests" / "data" / "calendars" / name, program, ICS)
        for name, program in (
            ("outlook365.ics", "Outlook 365 (VTIMEZONE, X-MS/CDO properties)"),
            ("google.ics", "Google Calendar (Z times, overrides, EXDATE lists)"),
            ("apple.ics", "Apple Calendar (floating times, placeholder alarm)"),
            ("thunderbird.ics", "Thunderbird"),
            ("nextcloud.ics", "Nextcloud"),
            ("outlook2007-latin1.ics", "Outlook 2007 (Windows-1252)"),
            ("vcal-charset.ics", "Outlook 2007 (declared CHARSET=)"),
            ("broken-utf8.ics", "Outlook 2007 (UTF-8 with one Windows-1252 byte)"),
        )
    ),
    (ROOT / "samples" / "outlook.ics", "Outlook 365 (README sample)", ICS),
    (ROOT / "samples" / "google.ics", "Google Calendar (README sample)", ICS),
    (ROOT / "samples" / "apple.ics", "Apple Calendar (README sample)", ICS),
    (
        ROOT / "samples" / "outlook-de.csv",
        "Outlook CSV, German",
        ROOT / "mappings" / "outlook-csv.yaml",
    ),
    (
        ROOT / "samples" / "outlook-en.csv",
        "Outlook CSV, US",
        ROOT / "mappings" / "outlook-csv.yaml",
    ),
    (
        ROOT / "samples" / "outlook-uk.csv",
        "Outlook CSV, UK",
        ROOT / "mappings" / "outlook-csv.yaml",
    ),
    (
        ROOT / "samples" / "google.csv",
        "Google Calendar import CSV",
        ROOT / "mappings" / "google-csv.yaml",
    ),
]
CREATED = "created"


def _env(sb: Sandbox, home: Path) -> dict[str, str]:
    """A computer of its own (tests.helpers.computer) whose CLI finds this checkout."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**computer(sb, home), "PYTHONPATH": path}


def _statuses(results: Path) -> list[str]:
    """The import's status of each row (the results' first column, by its name)."""
    import openpyxl

    book = openpyxl.load_workbook(results, read_only=True)
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert str(rows[0][0]).startswith("Status"), rows[0]
    return [str(r[0]) for r in rows[1:]]


def _events(path: Path, mapping: Path) -> str:
    if path.suffix == ".ics":
        return str(path.read_bytes().count(b"BEGIN:VEVENT"))
    return "-"


def _why(path: Path, mapping: Path, client: OnOfficeClient) -> tuple[str, int, int]:
    """The warned and refused rows by their codes, the file's warnings; (why, rows, warned)."""
    report = check(path, mapping, api=client, report=False)
    said: list[str] = []
    warned = 0
    for o in report.outcomes:
        if not o.valid:
            (first, *_rest) = o.errors
            said.append(f"r{o.row} refused: {_named(o.errors)} ({_short(first.message)})")
        elif o.warnings:
            warned += 1
            said.append(f"r{o.row} warned: {_named(o.warnings)}")
    said += [f"file: {_short(w, 110)}" for w in report.file_warnings]
    return "; ".join(said) or "-", len(report.outcomes), warned


def _named(problems: Any) -> str:
    """Each problem as its code and cell: "left-out@ATTENDEE"."""
    return ", ".join(dict.fromkeys(f"{p.code}@{'+'.join(p.columns)}" for p in problems))


def _short(text: str, size: int = 70) -> str:
    text = text.replace("|", "/").replace("\n", " ")
    return text if len(text) <= size else text[: size - 1] + "…"


def line(path: Path, program: str, mapping: Path, sb: Sandbox, folder: Path) -> str:
    work = folder / path.relative_to(ROOT).as_posix().replace("/", "-")
    work.mkdir()
    source = work / path.name
    shutil.copy(path, source)
    done = subprocess.run(
        [sys.executable, "-m", "importer", "--lang", "en", "run", str(source), "-m", str(mapping)],
        cwd=work,
        env=_env(sb, work / "home"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    results = work / f"{path.stem}.results.xlsx"
    name = path.relative_to(ROOT).as_posix()
    events = _events(path, mapping)
    if not results.exists():  # refused as a whole: its one line
        said = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1]
        said = re.sub(r"/\S+/", "", said)  # the folder of this machine
        return (
            f"| {name} | {program} | {events} | - | 0 | 0 | all | exit {done.returncode}: {said} |"
        )
    statuses = _statuses(results)
    created = statuses.count(CREATED)
    with OnOfficeClient(sb.url, sb.credentials) as client:
        why, rows, warned = _why(path, mapping, client)
    assert rows == len(statuses), (name, rows, statuses)
    refused = len(statuses) - created
    other = Counter(s for s in statuses if s not in (CREATED, "invalid"))
    if other:  # refused by onOffice, or found there already: said too
        why += "; run: " + ", ".join(f"{n} {s}" for s, n in sorted(other.items()))
    return (
        f"| {name} | {program} | {events} | {rows} | {created} | {warned} | {refused} "
        f"| exit {done.returncode}; {why} |"
    )


def main() -> None:
    print(
        "| file | program it imitates | events | rows | created | of them warned | refused | why |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for path, program, mapping in CORPUS:
            try:
                with Sandbox() as sb:  # each file into an empty calendar of the sample agency
                    print(line(path, program, mapping, sb, Path(tmp)), flush=True)
            except ImporterError as exc:  # the check of a file the run refused as well
                print(f"| {path.name} | {program} | - | - | 0 | 0 | all | {exc} |", flush=True)


if __name__ == "__main__":
    main()
