"""A living list of viewings: edits as an office makes them, and whether onOffice holds the file.

Shared by the stateful property test (``tests/test_living.py``) and the bench
(``bench/living_bench.py``). A list is a Python list of :class:`Viewing`; :data:`EDITS` are the
edit kinds of issues 21 and 31 (time moved, prospect / type / agent / note changed, row deleted
or inserted, two rows swapped, a look-alike twin added, two rows swapped and one edited, the
list re-sorted by agent); :func:`divergence` compares what the
sandbox holds with the file.
"""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from importer.onoffice.reference import note_without_reference, read_stamp

AGENTS = {"mmueller": 17, "jschmidt": 18, "aweber": 19, "tkoch": 21, "lbecker": 22}
ESTATES = {"AC-1042": 608, "0815": 609, "AC-1043": 610, "K-2201": 611, "AC-1050": 613}
PROSPECTS = {"132": 5431, "133": 5432, "140": 5433, "141": 5434}
KINDS = ("Besichtigung", "Uebergabe", "Notartermin", "Beratung")

# How an account may show its own writes where the documentation only gives examples (issue 30):
# each point alone, as tests/test_form.py and bench/read_shapes.py run the list under them.
READ_SHAPES = (
    "read_art=label",
    "read_art=key",
    "read_users=omitted",
    "read_groups=omitted",
    "resource_keys=omitted",
    "read_modified=missing",
    "modify_subscribers=merge",
    "read_art=label,fields=bare",
)

HEADER = "Nr;Datum;Beginn;Dauer;Objekt;Makler;Interessent;Terminart;Notiz"
MAPPING = """
start: {date: Datum, time: Beginn}
end: {duration: Dauer}
fields:
  description: {template: "{Terminart} {Objekt}"}
  note: Notiz
  art: Terminart
  relatedEstateId: {column: Objekt, lookup: estate}
  relatedAddressIds: {column: Interessent, lookup: {kind: address, by: KdNr}}
  subscribers.users: {column: Makler, lookup: user}
"""


@dataclass(frozen=True)
class Viewing:
    nr: str  # the booking number (the key, where the mapping has one)
    start: datetime
    minutes: int
    estate: str
    agent: str
    prospect: str
    kind: str
    note: str

    def line(self) -> str:
        return ";".join(
            [
                self.nr,
                self.start.strftime("%d.%m.%Y"),
                self.start.strftime("%H:%M"),
                str(self.minutes),
                self.estate,
                self.agent,
                self.prospect,
                self.kind,
                self.note,
            ]
        )

    def held_by(self, record: dict[str, Any]) -> bool:
        """The sandbox's stored appointment holds exactly this row."""
        end = self.start + timedelta(minutes=self.minutes)
        return (
            record["start_dt"] == self.start.strftime("%Y-%m-%d %H:%M:%S")
            and record["end_dt"] == end.strftime("%Y-%m-%d %H:%M:%S")
            and record.get("description") == f"{self.kind} {self.estate}"
            and record.get("art") == self.kind
            and record.get("estate_id") == ESTATES[self.estate]
            and sorted(record.get("address_ids", [])) == [PROSPECTS[self.prospect]]
            and sorted(record.get("users", [])) == [AGENTS[self.agent]]
            and note_without_reference(record.get("note", "")).strip() == self.note
        )


def mapping_text(keyed: bool) -> str:
    return ("key: Nr\n" if keyed else "") + MAPPING


def write_list(
    folder: Path,
    rows: Sequence[Viewing],
    keyed: bool,
    kind: str = "csv",
    typo: tuple[str, str] | None = None,
) -> tuple[Path, Path]:
    """The list as ``folder/viewings.csv`` (``kind`` "xlsx": ``viewings.xlsx``, dates and times
    as Excel's own cells) and its mapping (the same name on every computer). ``typo``: the
    booking number of a row and the date typed into it instead of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in ("viewings.csv", "viewings.xlsx"):  # one list: the other saving is gone
        (folder / stale).unlink(missing_ok=True)
    lines = [r.line() for r in rows]
    if typo is not None:
        lines = [
            _typed(line, typo[1]) if line.startswith(typo[0] + ";") else line for line in lines
        ]
    if kind == "xlsx":
        source = folder / "viewings.xlsx"
        _write_xlsx(source, lines)
    else:
        source = folder / "viewings.csv"
        source.write_text(HEADER + "\n" + "".join(line + "\n" for line in lines), encoding="utf-8")
    mapping = folder / "viewings.yaml"
    mapping.write_text(mapping_text(keyed), encoding="utf-8")
    return source, mapping


def _typed(line: str, day: str) -> str:
    cells = line.split(";")
    cells[1] = day
    return ";".join(cells)


def _write_xlsx(path: Path, lines: Sequence[str]) -> None:
    """The rows as an office saves them in Excel: a date cell, a time cell, numbers as numbers
    (a mistyped date stays the text typed)."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.split(";"))
    for line in lines:
        cells: list[Any] = line.split(";")
        with contextlib.suppress(ValueError):  # a typo stays the text typed
            cells[1] = datetime.strptime(cells[1], "%d.%m.%Y")
        cells[2] = datetime.strptime(cells[2], "%H:%M").time()
        cells[3] = int(cells[3])
        sheet.append(cells)
        sheet.cell(row=sheet.max_row, column=2).number_format = "DD.MM.YYYY"
        sheet.cell(row=sheet.max_row, column=3).number_format = "HH:MM"
    book.save(path)


class Numbers:
    """Booking numbers and notes that are new every time."""

    def __init__(self) -> None:
        self.n = 0

    def next(self) -> int:
        self.n += 1
        return self.n


def first_list(n: int, rng: random.Random, numbers: Numbers) -> list[Viewing]:
    """``n`` distinct viewings over a few weeks in 2027, each in a slot of its own."""
    base = datetime(2027, 3, 1, 8, 0)
    slots = rng.sample(range(max(40, n // 8 + 1) * 20), n)
    return [
        _viewing(base + timedelta(days=s // 20, minutes=30 * (s % 20)), rng, numbers) for s in slots
    ]


def _viewing(start: datetime, rng: random.Random, numbers: Numbers) -> Viewing:
    k = numbers.next()
    return Viewing(
        f"B-{k:05d}",
        start,
        rng.choice((30, 45, 60)),
        rng.choice(list(ESTATES)),
        rng.choice(list(AGENTS)),
        rng.choice(list(PROSPECTS)),
        rng.choice(KINDS),
        f"Notiz {k}",
    )


Edit = Callable[[list[Viewing], random.Random, Numbers], list[Viewing]]


def _one(
    rows: list[Viewing], rng: random.Random, change: Callable[[Viewing], Viewing]
) -> list[Viewing]:
    if not rows:
        return rows
    i = rng.randrange(len(rows))
    out = list(rows)
    out[i] = change(rows[i])
    return out


def move(rows: list[Viewing], rng: random.Random, numbers: Numbers) -> list[Viewing]:
    shift = rng.choice((timedelta(minutes=30), timedelta(minutes=-30), timedelta(hours=1),
                        timedelta(hours=-1), timedelta(days=1)))  # fmt: skip
    return _one(rows, rng, lambda v: replace(v, start=v.start + shift))


def prospect(rows: list[Viewing], rng: random.Random, numbers: Numbers) -> list[Viewing]:
    return _one(rows, rng, lambda v: replace(v, prospect=_other(rng, PROSPECTS, v.prospect)))


def kind(rows: list[Viewing], rng: random.Random, numbers: Numbers) -> list[Viewing]:
    return _one(rows, rng, lambda v: replace(v, kind=_other(rng, KINDS, v.kind)))


def agent(rows: list[Viewing], rng: random.Random, numbers: Numbers) -> list[Viewing]:
    return _one(rows, rng, lambda v: replace(v, agent=_other(rng, AGENTS, v.agent)))


def note(rows: list[Viewing], rng: random.Random, numbers: Numbers) -> list[Viewing]:
    return _one(rows, rng, lambda v: replace(v, note=f"Notiz {numbers.next()}"))


def delete(rows: list[Viewing], rng: random.Random, numbers: Numbers) -> list[Viewing]:
    if len(rows) <= 1:
        return rows
    i = rng.randrange(len(rows))
    return rows[:i] + rows[i + 1 :]


def insert(rows: list[Viewing], rng: random.Random, numbers: Numbers) -> list[Viewing]:
    day = rng.choice(rows).start.date() if rows else date(2027, 3, 1)
    start = datetime.combine(day, datetime.min.time()) + timedelta(
        hours=8, minutes=30 * rng.randrange(20)
    )
    new = _viewing(start, rng, numbers)
    i = rng.randrange(len(rows) + 1)
    return [*rows[:i], new, *rows[i:]]


def swap(rows: list[Viewing], rng: random.Random, numbers: Numbers) -> list[Viewing]:
    if len(rows) < 2:
        return rows
    i, j = rng.sample(range(len(rows)), 2)
    out = list(rows)
    out[i], out[j] = out[j], out[i]
    return out


def twin(rows: list[Viewing], rng: random.Random, numbers: Numbers) -> list[Viewing]:
    """A look-alike below a row: same slot, estate and agent, another note (a second prospect
    invited to the same viewing)."""
    if not rows:
        return rows
    i = rng.randrange(len(rows))
    k = numbers.next()
    copy = replace(
        rows[i],
        nr=f"B-{k:05d}",
        note=f"Notiz {k}",
        prospect=_other(rng, PROSPECTS, rows[i].prospect),
    )
    return [*rows[: i + 1], copy, *rows[i + 1 :]]


def _other(rng: random.Random, choices: Any, now: str) -> str:
    return rng.choice([c for c in choices if c != now])


def swap_edit(rows: list[Viewing], rng: random.Random, numbers: Numbers) -> list[Viewing]:
    """Two rows swapped, and one of them edited in the same round (prospect and type)."""
    if len(rows) < 2:
        return rows
    i, j = rng.sample(range(len(rows)), 2)
    out = list(rows)
    v = out[i]
    out[i], out[j] = (
        out[j],
        replace(v, prospect=_other(rng, PROSPECTS, v.prospect), kind=_other(rng, KINDS, v.kind)),
    )
    return out


def by_agent(rows: list[Viewing], rng: random.Random, numbers: Numbers) -> list[Viewing]:
    """The list re-sorted by agent (ties keep their order), as Excel's sort does."""
    return sorted(rows, key=lambda v: v.agent, reverse=rng.random() < 0.5)


EDITS: dict[str, Edit] = {
    "move": move,
    "prospect": prospect,
    "kind": kind,
    "agent": agent,
    "note": note,
    "delete": delete,
    "insert": insert,
    "swap": swap,
    "twin": twin,
    "swap_edit": swap_edit,
    "by_agent": by_agent,
}
# A row's own edits, for a round where a person also changes its appointment in onOffice.
ROW_EDITS: dict[str, Edit] = {"move": move, "prospect": prospect, "kind": kind, "note": note}


@dataclass(frozen=True)
class Divergence:
    """Where onOffice and the file differ after a run (all zero: onOffice holds the file)."""

    missing: int  # rows no active appointment holds
    doubled: int  # rows held by more than one active appointment
    surplus: int  # active appointments of the import that hold no row

    @property
    def total(self) -> int:
        return self.missing + self.doubled + self.surplus


def divergence(records: Sequence[dict[str, Any]], rows: Sequence[Viewing]) -> Divergence:
    """Compare the sandbox's appointments with the list: each row one active appointment of the
    import holding it, no other active appointment of the import."""
    active = [
        r
        for r in records
        if r.get("status", "active") != "canceled" and read_stamp(r.get("note", "")) is not None
    ]
    by_start: dict[str, list[dict[str, Any]]] = {}
    for r in active:
        by_start.setdefault(r["start_dt"], []).append(r)
    held = Counter[int]()
    used: set[int] = set()
    for i, row in enumerate(rows):
        for r in by_start.get(row.start.strftime("%Y-%m-%d %H:%M:%S"), []):
            if row.held_by(r):
                held[i] += 1
                used.add(r["id"])
    missing = sum(1 for i in range(len(rows)) if held[i] == 0)
    doubled = sum(1 for i in range(len(rows)) if held[i] > 1)
    # two identical rows share their appointments: surplus counts what no row holds
    surplus = sum(1 for r in active if r["id"] not in used)
    same = Counter(rows)
    doubled -= sum(1 for i, row in enumerate(rows) if same[row] > 1 and held[i] == same[row])
    return Divergence(missing, doubled, surplus)


def dates_of(rows: Sequence[Viewing]) -> tuple[date, date]:
    return min(r.start.date() for r in rows), max(r.start.date() for r in rows)
