"""A living list (issues 21, 31): after every edit, on every computer, onOffice holds exactly the
file.

The stateful property (:class:`LivingList`, Hypothesis): a list of viewings imported, then edited
(time moved, prospect / type / agent / note changed, rows deleted, inserted, swapped, swapped
and edited, re-sorted by agent, a look-alike twin added, saved as .xlsx or .csv) and imported
again with ``--cancel-removed`` from computer A (this process, its ledger) or computer B (a real
second process with its own HOME and folder, no ledger of A's), with and without ``key:``, under
the documented reading and this session's random dialect. After every run: each row one active
appointment holding its content, nothing else of the import's active, no conflict nobody
caused, no double booking against the rows' own appointments. Where the plan asks (two
look-alike rows changed at once, no key), nothing is created for those rows, and the answer
given (``--pair``) makes onOffice hold the file. Besides (issue 31): a round with a date
mistyped (and maybe a look-alike inserted below it) leaves the invalid row's appointment as it
was (kept, never another row's), fixed the next round; a person's change in onOffice with the
file's change of the same row is a conflict on that appointment, nothing created or cancelled,
and ``--force`` then writes the row.

The seed of Hypothesis is the session's (printed at the end: ``DIALECT_SEED=N`` replays it);
``FUZZ_SCALE=N`` runs N times as many examples.

Then each reproduction of the issue, as a test that failed before the fix.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import openpyxl
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from importer.output.results import write_results
from importer.run.runner import RunReport
from importer.run.submit import RunOptions, run_import
from importer.sandbox import Faults, Sandbox

from .budget import budget, timeout
from .forkserver import run as forked
from .helpers import FAST, cli, client_for, computer, edit_in_onoffice, rows, sheet_rows, write
from .living import (
    EDITS,
    KINDS,
    PROSPECTS,
    Numbers,
    Viewing,
    divergence,
    first_list,
    write_list,
)

SEED = int(os.environ.get("DIALECT_SEED", "0"))
LIVE = RunOptions(
    cancel_removed=True, backoff_base=0.01, backoff_cap=0.05, settle_delay=0.05, quiet_after=5
)


TYPO = "31.04.2027"  # no such day: the row is invalid while it is typed so
TALLY: Counter[str] = Counter()  # what the examples of this process did (printed after each)


class LivingList(RuleBasedStateMachine):
    """One office list, two computers (see the module's doc)."""

    keyed = False

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="living-"))
        # computer A's ledger, of this example alone (a replayed example's rows are the same
        # rows: a ledger of an earlier example would know them, from another sandbox)
        self.data = os.environ.get("ONOFFICE_IMPORT_DATA")
        os.environ["ONOFFICE_IMPORT_DATA"] = str(self.folder / "data")
        self.sandbox = Sandbox().start()
        self.client = client_for(self.sandbox)
        self.numbers = Numbers()
        self.rows: list[Viewing] = []
        self.rng = random.Random(0)
        self.ids: dict[str, int] = {}  # booking number -> its appointment, as the runs said
        self.runs = 0
        self.edits: Counter[str] = Counter()
        self.kind = "csv"  # how the list is saved: csv or xlsx (the same list either way)
        self.typo: str | None = None  # the booking number of a row whose date is mistyped
        self.held: set[int] = set()  # appointments kept for the mistyped row (may be its own)
        self.force = False  # the next run writes the rows over a person's changes

    def teardown(self) -> None:
        TALLY.update(self.edits)
        TALLY["examples"] += 1
        TALLY["runs"] += self.runs
        self.client.close()
        self.sandbox.close()
        if self.data is None:
            os.environ.pop("ONOFFICE_IMPORT_DATA", None)
        else:
            os.environ["ONOFFICE_IMPORT_DATA"] = self.data
        shutil.rmtree(self.folder, ignore_errors=True)

    def write(self, folder: Path) -> tuple[Path, Path]:
        typo = (self.typo, TYPO) if self.typo else None
        return write_list(folder, self.rows, self.keyed, self.kind, typo)

    @initialize(seed=st.integers(0, 2**32 - 1), n=st.integers(12, 30))
    def first_import(self, seed: int, n: int) -> None:
        self.rng = random.Random(seed)
        self.rows = first_list(n, self.rng, self.numbers)
        self.run_a()

    @rule(seed=st.integers(0, 2**32 - 1), where=st.sampled_from(["A", "A", "B"]))
    def a_round(self, seed: int, where: str) -> None:
        """A round of the office's: edits, a mistyped date, or a person's change in onOffice
        with the file's, drawn from the seed and the round (alike whichever seeds Hypothesis
        draws first: every kind is met in a few rounds)."""
        draw = random.Random(f"{seed}/{self.runs}").random()
        if draw < 0.6:
            self.edit_and_run(seed, where)
        elif draw < 0.8:
            self.mistype_a_date(seed, where)
        else:
            self.a_person_and_the_file_change_one_row(seed, where)

    def edit_and_run(self, seed: int, where: str) -> None:
        """A round: a mistyped date fixed, 1-4 edits of kinds drawn alike (from the seed),
        sometimes the list saved as the other kind (xlsx / csv), then a run on computer A or
        B."""
        rng = random.Random(f"{seed}:{self.runs}")
        self.typo = None
        for kind in rng.choices(sorted(EDITS), k=rng.randint(1, 4)):
            self.rows = EDITS[kind](self.rows, rng, self.numbers)
            self.edits[kind] += 1
        if rng.random() < 0.25:
            self.kind = "xlsx" if self.kind == "csv" else "csv"
            self.edits["saved as " + self.kind] += 1
        self.run_a() if where == "A" else self.run_b()

    def mistype_a_date(self, seed: int, where: str) -> None:
        """A round with 0-2 edits in which a row that stays as it was gets a date that does not
        exist (and, half the time, a look-alike inserted right below it): the row is invalid,
        its appointment kept as it was, never given to another row; fixed the next round."""
        rng = random.Random(f"{seed}:{self.runs}")
        self.typo = None
        before = {v.nr: v for v in self.rows}
        for kind in rng.choices(sorted(EDITS), k=rng.randint(0, 2)):
            self.rows = EDITS[kind](self.rows, rng, self.numbers)
            self.edits[kind] += 1
        untouched = [i for i, v in enumerate(self.rows) if before.get(v.nr) == v]
        if untouched:
            i = rng.choice(untouched)
            self.typo = self.rows[i].nr
            self.edits["typo"] += 1
            if rng.random() < 0.5:
                k, v = self.numbers.next(), self.rows[i]
                twin = replace(
                    v,
                    nr=f"B-{k:05d}",
                    note=f"Notiz {k}",
                    prospect=_other(v.prospect, PROSPECTS, rng),
                )
                self.rows.insert(i + 1, twin)
                self.edits["twin below the typo"] += 1
        self.run_a() if where == "A" else self.run_b()

    def a_person_and_the_file_change_one_row(self, seed: int, where: str) -> None:
        """A person moves a row's appointment in onOffice (3 h later) and the file changes that
        row (prospect, type, note, time) in the same round: the row is a conflict on its own
        appointment, nothing is created or cancelled for it; then --force writes it over."""
        rng = random.Random(f"{seed}:{self.runs}")
        self.typo = None
        i = rng.randrange(len(self.rows))
        v = self.rows[i]
        appointment = self.ids[v.nr]
        record = self.sandbox.store.appointment(appointment)
        assert record is not None
        later = {
            k: (datetime.fromisoformat(record[k]) + timedelta(hours=3)).isoformat(" ")
            for k in ("start_dt", "end_dt")
        }
        edit_in_onoffice(self.sandbox, appointment, **later)
        changes = {
            "prospect": lambda v: replace(v, prospect=_other(v.prospect, PROSPECTS, rng)),
            "kind": lambda v: replace(v, kind=_other(v.kind, KINDS, rng)),
            "note": lambda v: replace(v, note=f"Notiz {self.numbers.next()}"),
            "move": lambda v: replace(v, start=v.start + timedelta(minutes=30)),
        }
        for name in rng.sample(sorted(changes), rng.randint(1, 3)):
            v = changes[name](v)
            self.edits["person+" + name] += 1
        self.rows[i] = v
        if where == "A":
            self.run_a(expect=(v.nr, appointment))
        else:
            self.run_b(expect=(v.nr, appointment))
        self.force = True
        self.run_a() if rng.random() < 0.5 else self.run_b()  # with --force

    @rule()
    def run_again_unchanged(self) -> None:
        """A run with nothing edited sends nothing."""
        source, mapping = self.write(self.folder / "a")
        report = run_import(source, mapping, client=self.client, options=LIVE)
        counts = report.counts()
        assert set(counts) <= {"already-created", "exists", "unchanged", "invalid"}, counts
        self.after(report)

    def options(self) -> RunOptions:
        return RunOptions(**{**vars(LIVE), "force": self.force})

    def run_a(self, expect: tuple[str, int] | None = None) -> None:
        """Computer A: this process, with its ledger (``expect``: the row, by its booking
        number, that must be a conflict on this appointment)."""
        source, mapping = self.write(self.folder / "a")
        report = run_import(source, mapping, client=self.client, options=self.options())
        self.force = False
        if expect is not None:
            self.conflicted(
                {self.rows[row - 2].nr: (str(r.status), r.appointment_id)
                 for row, r in report.results.items()},
                [(r.appointment_id, str(r.status)) for r in report.removed],
                expect,
            )  # fmt: skip
            self.runs += 1
            return
        self.after(report)

    def run_b(self, expect: tuple[str, int] | None = None) -> None:
        """Computer B: another process, HOME and folder, no ledger of A's."""
        home = self.folder / "b"
        self.write(home / "work")
        args = ["run", f"viewings.{self.kind}", "-m", "viewings.yaml", "--cancel-removed"]
        done = forked(
            [*args, *(["--force"] if self.force else [])],
            cwd=home / "work",
            env=computer(self.sandbox, home),
            timeout=120,
        )
        self.force = False
        assert done.returncode in (0, 1), done.stdout + done.stderr
        book = home / "work" / "viewings.results.xlsx"
        table = sheet_rows(book, "Results")
        removed = removed_sheet(book)
        statuses = Counter(str(r["Status"]) for r in table)
        self.runs += 1
        if expect is not None:
            self.conflicted(
                {self.rows[int(r["Source row"]) - 2].nr: (str(r["Status"]), r["Appointment ID"])
                 for r in table},
                removed,
                expect,
            )  # fmt: skip
            return
        assert statuses["conflict"] == 0, done.stdout
        assert "in onOffice" not in done.stdout
        self.learn({int(r["Source row"]): r["Appointment ID"] for r in table})
        self.held = {n for n, what in removed if what == "kept"} if self.typo else set()
        if statuses["ambiguous"]:  # the plan asks: answered on computer A
            assert done.returncode == 1
            self.answer()
        else:
            assert done.returncode == (1 if self.typo else 0), done.stdout + done.stderr
            assert statuses["invalid"] == (1 if self.typo else 0), done.stdout
            self.compare()

    def conflicted(
        self,
        rows: dict[str, tuple[str, Any]],
        removed: list[tuple[int, str]],
        expect: tuple[str, int],
    ) -> None:
        """The run after a person's change and the file's to one row: that row a conflict on
        its appointment; nothing created, nothing else of the list cancelled."""
        nr, appointment = expect
        assert rows[nr] == ("conflict", appointment), rows
        others = Counter(status for n, (status, _a) in rows.items() if n != nr)
        assert set(others) <= {"already-created", "exists", "unchanged"}, rows
        assert {n for n, what in removed if what == "canceled"} <= self.held, removed
        assert appointment not in {n for n, _what in removed}, removed

    def after(self, report: RunReport) -> None:
        counts = report.counts()
        assert counts["conflict"] == 0, report.results
        warned = [p.message for o in report.check.outcomes for p in o.warnings]
        assert not [w for w in warned if "in onOffice" in w], warned
        self.learn({row: r.appointment_id for row, r in report.results.items()})
        self.runs += 1
        self.held = {r.appointment_id for r in report.removed if r.status == "kept"}
        self.held = self.held if self.typo else set()
        if report.questions:
            # nothing was created for the rows it asks about
            asked = {row for q in report.questions for row in q.rows}
            assert all(report.results[row].status == "ambiguous" for row in asked)
            self.answer(report)
        else:
            assert counts["invalid"] == (1 if self.typo else 0), report.results
            assert report.exit_code == (1 if self.typo else 0), (counts, report.stopped)
            self.compare()

    def learn(self, ids: dict[int, Any]) -> None:
        for row, appointment in ids.items():
            if isinstance(appointment, int) and 2 <= row < len(self.rows) + 2:
                self.ids[self.rows[row - 2].nr] = appointment

    def answer(self, report: RunReport | None = None) -> None:
        """Say which appointment each asked row is (the booking numbers know), run again."""
        source, mapping = self.write(self.folder / "a")
        if report is None:
            from importer.rules.check import prepare
            from importer.run.submit import planned_check

            planned = planned_check(self.client, source, prepare(source, mapping))
            asked = [row for row, action in planned.plan.items() if action == "ambiguous"]
        else:
            asked = [row for q in report.questions for row in q.rows]
        choices = {row: self.ids.get(self.rows[row - 2].nr) for row in asked}
        again = run_import(
            source,
            mapping,
            client=self.client,
            options=RunOptions(**{**vars(LIVE), "choices": choices}),
        )
        assert not again.questions and again.exit_code == (1 if self.typo else 0), again.results
        self.learn({row: r.appointment_id for row, r in again.results.items()})
        if self.typo:
            self.held = {r.appointment_id for r in again.removed if r.status == "kept"}
        self.compare()

    def compare(self) -> None:
        """onOffice holds the file: each row one active appointment holding it (a mistyped row:
        its appointment as it was), nothing else active but what is kept for a mistyped row."""
        records = [
            r
            for r in self.sandbox.store.all_appointments()
            if r["id"] not in self.held or any(v.held_by(r) for v in self.rows)
        ]
        found = divergence(records, self.rows)
        assert found.total == 0, f"{found} after run {self.runs} (DIALECT_SEED={SEED})"

    @invariant()
    def never_a_twin_of_a_row(self) -> None:
        """Between runs too: no row is ever held by two active appointments."""
        if self.runs:
            assert divergence(self.sandbox.store.all_appointments(), self.rows).doubled == 0


def removed_sheet(book: Path) -> list[tuple[int, str]]:
    """The results workbook's Removed sheet: appointment id and what happened to it."""
    if "Removed" not in openpyxl.load_workbook(book, read_only=True).sheetnames:
        return []
    return [
        (int(r["Appointment ID"]), str(r["What happened"])) for r in sheet_rows(book, "Removed")
    ]


class KeyedLivingList(LivingList):
    keyed = True


def _run(machine: type[RuleBasedStateMachine], examples: int) -> None:
    import hypothesis.core

    before = hypothesis.core.global_force_seed
    hypothesis.core.global_force_seed = SEED  # the session's seed: printed, replayable
    TALLY.clear()
    started = time.monotonic()
    try:
        run_state_machine_as_test(
            machine,
            settings=budget(examples, PER_EXAMPLE, stateful_step_count=12, print_blob=True),
        )
    finally:
        hypothesis.core.global_force_seed = before
        took = time.monotonic() - started
        print(f"{machine.__name__}: {took:.0f} s, seed {SEED}, {dict(sorted(TALLY.items()))}")


# Seconds an example (a sequence of up to 12 edits and runs) takes at most on a quiet core.
PER_EXAMPLE = 120.0


@pytest.mark.fuzz  # bounded: 3 examples of 12 steps (FUZZ_SCALE=N for N times as many)
@timeout(3, PER_EXAMPLE)
def test_onoffice_holds_the_living_list_after_every_run_without_a_key() -> None:
    _run(LivingList, 3)


@pytest.mark.fuzz  # bounded: 2 examples of 12 steps
@timeout(2, PER_EXAMPLE)
def test_onoffice_holds_the_living_list_after_every_run_with_a_key() -> None:
    _run(KeyedLivingList, 2)


# --- the reproductions -------------------------------------------------------------------
def active(sb: Sandbox) -> Counter[str]:
    return Counter(
        a["description"] for a in sb.store.all_appointments() if a.get("status") != "canceled"
    )


def test_an_edit_a_move_and_a_deletion_in_one_run_double_nothing(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Row 5 moved by an hour, row 8's subject changed, row 40 deleted, in one run: rows 5 and 8
    had two active appointments each."""
    table = rows(39)
    source, mapping = write(tmp_path, table)
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client, options=FAST)
        table[3][1] = table[3][1][:11] + f"{int(table[3][1][11:13]) + 1:02d}" + table[3][1][13:]
        table[6][2] = "Besichtigung verlegt"
        del table[-1]
        write(tmp_path, table)
        again = run_import(source, mapping, client=client, options=LIVE)
    assert again.counts() == {"updated": 2, "already-created": 36}
    assert [r.status for r in again.removed] == ["canceled"]
    assert set(active(sandbox).values()) == {1} and len(active(sandbox)) == 38


def test_three_of_five_rows_edited_update_their_appointments(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Editing 3 of 5 rows of a CSV gave 7 appointments for 5 rows, exit 0."""
    table = rows(5)
    source, mapping = write(tmp_path, table)
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client, options=FAST)
        for i in (0, 2, 4):
            table[i][2] += " neu"
        write(tmp_path, table)
        again = run_import(source, mapping, client=client, options=FAST)
    assert again.counts() == {"updated": 3, "already-created": 2}
    assert sandbox.store.count_appointments() == 5


def test_invalid_rows_hold_back_only_what_they_could_be(tmp_path: Path, sandbox: Sandbox) -> None:
    """--cancel-removed did nothing for a deleted row of a file that also held 5 invalid rows
    that had nothing to do with it."""
    table = rows(12)
    for r in table[7:]:  # five rows invalid from the start, of another agent and estate
        r[1], r[3], r[4] = "kein Datum", "tkoch", "K-2201"
    source, mapping = write(tmp_path, table)
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        gone = first.results[4].appointment_id
        del table[2]
        for r in table[6:]:
            r[1] = "Datum folgt"  # still invalid, typed anew: nothing to do with the deleted row
        write(tmp_path, table)
        again = run_import(source, mapping, client=client, options=LIVE)
    assert again.counts() == {"already-created": 6, "invalid": 5}
    assert [(r.appointment_id, r.status) for r in again.removed] == [(gone, "canceled")]


def test_a_row_updated_elsewhere_is_no_conflict_here(tmp_path: Path, sandbox: Sandbox) -> None:
    """Once the second computer had updated a row, the first called it conflict from then on."""
    table = rows(8)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    with client_for(sandbox) as client:
        source, mapping = write(a, table)
        run_import(source, mapping, client=client, options=FAST)
        table[2][2] = "Termin verlegt"
        for folder, journal in ((b, "b.sqlite"), (a, None), (b, "b.sqlite"), (a, None)):
            source, mapping = write(folder, table)
            path = tmp_path / journal if journal else None
            report = run_import(source, mapping, client=client, options=FAST, journal_path=path)
            assert report.counts()["conflict"] == 0 and report.exit_code == 0, report.results
            table[5][2] += "+"  # and the next computer finds one more edit
    assert sandbox.store.count_appointments() == 8


def test_no_double_booking_against_the_lists_own_appointments(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """On the second computer 28 of 29 rows carried double-booking warnings against their own
    appointments; nor does a row moved into the slot its neighbour leaves in the same run."""
    table = rows(12)
    with client_for(sandbox) as client:
        source, mapping = write(tmp_path, table)
        run_import(source, mapping, client=client, options=FAST)
        elsewhere = run_import(
            source, mapping, client=client, options=FAST, journal_path=tmp_path / "b.sqlite"
        )
        # row 3 moves into row 7's slot (same agent), and row 7 moves away in the same run
        assert table[1][3] == table[5][3]
        table[1][1], table[5][1] = table[5][1], table[5][1][:11] + "19:00"
        write(tmp_path, table)
        moved = run_import(source, mapping, client=client, options=FAST)
    for report in (elsewhere, moved):
        warned = [p.message for o in report.check.outcomes for p in o.warnings]
        assert warned == [], warned
    assert moved.counts() == {"updated": 2, "already-created": 10}


def test_a_create_that_never_reached_onoffice_is_settled_in_the_same_run(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """A 503 before processing, and its read-back refused too: the row was `unknown` for 120 s
    while the console said "1/1 rows sent". The run reads it back again before it ends, and
    sends it once it is proven absent; a row left unknown says when to run again."""
    source, mapping = write(tmp_path, rows(1))
    with client_for(sandbox) as client:
        # the create, then the read-back and its three retries, are declined
        sandbox.faults = Faults(plan=["503"] * 5, from_first_write=True)
        report = run_import(source, mapping, client=client, options=FAST)
    assert report.counts() == {"created": 1}, report.results
    assert sandbox.stats.actions["create calendar"] == 2
    assert sandbox.store.count_appointments() == 1


def test_an_unknown_row_says_when_the_next_run_can_settle_it(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source, mapping = write(tmp_path, rows(1))
    with client_for(sandbox) as client:
        sandbox.faults = Faults(plan=["lost"], writes_only=True)
        with sandbox_store_hidden(sandbox):  # the read-back does not see it yet
            report = run_import(source, mapping, client=client, options=FAST)
    result = report.results[2]
    assert result.status == "unknown"
    assert "run again from" in (result.error or "") and "to settle it" in (result.error or "")


class sandbox_store_hidden:
    """While inside, reads of the sandbox's calendar do not see appointments created inside."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.store = sandbox.store
        self.original = self.store.appointments_overlapping

    def __enter__(self) -> None:
        first = {a["id"] for a in self.store.all_appointments()}
        original = self.original

        def hidden(start: str, end: str) -> list[dict[str, Any]]:
            return [a for a in original(start, end) if a["id"] in first]

        self.store.appointments_overlapping = hidden  # type: ignore[method-assign]

    def __exit__(self, *exc: object) -> None:
        self.store.appointments_overlapping = self.original  # type: ignore[method-assign]


def test_results_of_a_run_name_the_list(tmp_path: Path, sandbox: Sandbox) -> None:
    """A results workbook under a name of its own is still its list's (its Summary says so)."""
    source, mapping = write(tmp_path, rows(4))
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        results = write_results(first, tmp_path / "import-juli.xlsx")
        again = run_import(results, mapping, client=client, options=FAST)
    assert again.list_name == "rows" and again.counts() == {"already-created": 4}


TWINS = """start: Start
end: {minutes: 30}
fields:
  description: Betreff
  note: Notiz
  subscribers.users: {column: Makler, lookup: user}
"""


def twins(folder: Path, notes: list[str]) -> tuple[Path, Path]:
    """Look-alike rows: the same slot, subject and agent, told apart by their notes only;
    below a row that stays as it is."""
    lines = "01.03.2027 09:00;Übergabe;jschmidt;Schlüssel\n"
    lines += "".join(f"02.03.2027 10:00;Besichtigung;mmueller;{n}\n" for n in notes)
    source = folder / "twins.csv"
    source.write_text("Start;Betreff;Makler;Notiz\n" + lines, encoding="utf-8")
    mapping = folder / "twins.yaml"
    mapping.write_text(TWINS, encoding="utf-8")
    return source, mapping


def test_two_look_alike_rows_changed_at_once_are_asked_never_guessed(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Two look-alike rows; one is deleted and the other's note edited in the same run: either
    appointment could be the edited row's. The plan asks (check's Plan column), the run sends
    nothing for it and cancels neither; `--pair` answers, and onOffice holds the file."""
    from importer.rules.check import prepare
    from importer.run.submit import planned_check

    source, mapping = twins(tmp_path, ["Frau Krüger", "Herr Yılmaz"])
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
        kept = first.results[4].appointment_id  # the second twin's
        twins(tmp_path, ["Herr Yılmaz, kommt mit Partnerin"])
        planned = planned_check(client, source, prepare(source, mapping))
        assert planned.plan == {2: "unchanged", 3: "ambiguous"}
        assert "--pair" in planned.plan_notes[3]
        twin_ids = (first.results[3].appointment_id, kept)
        assert planned.questions == [((3,), tuple(sorted(twin_ids)))]
        asked = run_import(source, mapping, client=client, options=LIVE)
        assert asked.counts() == {"already-created": 1, "ambiguous": 1}
        assert asked.exit_code == 1
        assert {r.status for r in asked.removed} == {"kept"}  # neither cancelled on a guess
        assert sandbox.store.count_appointments() == 3  # nothing created
        answer = RunOptions(**{**vars(LIVE), "choices": {3: kept}})
        answered = run_import(source, mapping, client=client, options=answer)
    assert answered.counts() == {"already-created": 1, "updated": 1}
    assert answered.exit_code == 0
    assert answered.results[3].appointment_id == kept
    assert [r.status for r in answered.removed] == ["canceled"]
    live = {a["id"]: a for a in sandbox.store.all_appointments() if a.get("status") != "canceled"}
    assert set(live) == {first.results[2].appointment_id, kept}
    assert "kommt mit Partnerin" in live[kept]["note"]


def test_the_cli_asks_and_takes_the_answer(tmp_path: Path, sandbox: Sandbox) -> None:
    source, mapping = twins(tmp_path, ["Frau Krüger", "Herr Yılmaz"])
    home = tmp_path / "home"
    env = computer(sandbox, home)
    args = ["run", source.name, "-m", mapping.name, "--cancel-removed"]
    first = forked(args, cwd=tmp_path, env=env, timeout=60)
    assert first.returncode == 0, first.stdout + first.stderr
    twins(tmp_path, ["Herr Yılmaz, kommt mit Partnerin"])
    check = forked(["check", source.name, "-m", mapping.name, "--resolve"], cwd=tmp_path, env=env)
    assert "row 3: rows 3 could each be appointment" in check.stdout, check.stdout
    asked = forked(args, cwd=tmp_path, env=env, timeout=60)
    assert asked.returncode == 1 and "1 ambiguous" in asked.stdout, asked.stdout
    assert "--pair" in asked.stdout
    wrong = forked([*args, "--pair", "3:2701"], cwd=tmp_path, env=env)
    assert wrong.returncode == 2 and "ROW=APPOINTMENT_ID" in wrong.stderr
    ids = {a["note"].split("\n")[0]: a["id"] for a in sandbox.store.all_appointments()}
    kept = ids["Herr Yılmaz"]
    answered = forked([*args, "--pair", f"3={kept}"], cwd=tmp_path, env=env, timeout=60)
    assert answered.returncode == 0 and "1 updated" in answered.stdout, answered.stdout
    live = {a["id"] for a in sandbox.store.all_appointments() if a.get("status") != "canceled"}
    assert live == {ids["Schlüssel"], kept}
    new = forked([*args, "--pair", "3=new"], cwd=tmp_path, env=env, timeout=60)
    assert new.returncode == 0, new.stdout  # nothing asked any more: the answer is not needed


# --- day two (issue 31): undo after a living list, a person's change with a row's, invalid rows,
# look-alikes on the second computer ---------------------------------------------------------------
def _abc(tmp_path: Path, sandbox: Sandbox) -> tuple[list[list[str]], Path, Path]:
    """Rows A, B, C imported, then B deleted from the file and run with --cancel-removed."""
    table = rows(3)
    source, mapping = write(tmp_path, table)
    with client_for(sandbox) as client:
        run_import(source, mapping, client=client, options=FAST)
        write(tmp_path, [table[0], table[2]])
        cancelled = run_import(source, mapping, client=client, options=LIVE)
    assert [r.status for r in cancelled.removed] == ["canceled"]
    write_results(cancelled, tmp_path / "cancelled.results.xlsx")
    return table, source, mapping


def test_undo_after_a_living_list_removes_what_later_runs_cancelled_and_updated(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Rows A, B, C imported; B deleted and cancelled (--cancel-removed); A moved and run again:
    undo of that results workbook deleted A and C and left B's cancelled appointment (1 left)."""
    from importer.run.undo import undo_import

    table, source, mapping = _abc(tmp_path, sandbox)
    table[0][1] = table[0][1][:11] + "17:45"
    write(tmp_path, [table[0], table[2]])
    results = tmp_path / "rows.results.xlsx"
    with client_for(sandbox) as client:
        moved = run_import(source, mapping, client=client, options=LIVE)
        assert moved.counts() == {"updated": 1, "already-created": 1}
        write_results(moved, results)
        undone = undo_import(results, client=client)
        again = undo_import(results, client=client)
    assert undone.counts() == {"deleted": 3}, undone.items
    assert sandbox.store.count_appointments() == 0
    assert set(again.counts()) <= {"deleted", "already-gone"}  # a second undo does nothing


def test_undo_straight_after_the_cancel_run_never_makes_an_appointment_active(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """Undo of the run that cancelled B (its row left the file) made B active again: a viewing
    in no list, made by the import (1 active after the undo)."""
    from importer.run.undo import undo_import

    _table, _source, _mapping = _abc(tmp_path, sandbox)
    with client_for(sandbox) as client:
        undone = undo_import(tmp_path / "cancelled.results.xlsx", client=client)
    assert undone.counts() == {"deleted": 3}, undone.items
    assert sandbox.store.count_appointments() == 0


def _three(tmp_path: Path) -> list[Viewing]:
    """Three viewings on three days, the living list's columns (prospect, type, agent …)."""
    rng, numbers = random.Random(31), Numbers()
    base = first_list(3, rng, numbers)
    return [replace(v, start=v.start.replace(day=2 + i)) for i, v in enumerate(base)]


def _active_ids(sb: Sandbox) -> set[int]:
    return {a["id"] for a in sb.store.all_appointments() if a.get("status") != "canceled"}


@pytest.mark.parametrize("where", ["A", "B"])
def test_a_person_moved_it_and_the_row_changed_prospect_and_type_is_a_conflict(
    tmp_path: Path, sandbox: Sandbox, where: str
) -> None:
    """A person moves an appointment in onOffice; then the file changes that row's prospect and
    type: the run created a second appointment and listed the person's as "left the file" (4
    active for 3 rows). It is a conflict, as with ``key:``; on either computer."""
    table = _three(tmp_path)
    source, mapping = write_list(tmp_path / "a", table, keyed=False)
    with client_for(sandbox) as client:
        first = run_import(source, mapping, client=client, options=FAST)
    moved = first.results[3].appointment_id
    record = sandbox.store.appointment(moved)
    assert record is not None
    edit_in_onoffice(
        sandbox, moved, start_dt=record["start_dt"][:11] + "18:00:00",
        end_dt=record["start_dt"][:11] + "18:30:00",
    )  # fmt: skip
    v = table[1]
    table[1] = replace(v, prospect=_other(v.prospect, PROSPECTS), kind=_other(v.kind, KINDS))
    if where == "A":
        source, mapping = write_list(tmp_path / "a", table, keyed=False)
        with client_for(sandbox) as client:
            again = run_import(source, mapping, client=client, options=LIVE)
        counts = again.counts()
        removed = [r.appointment_id for r in again.removed]
        conflict = again.results[3]
        assert (conflict.status, conflict.appointment_id) == ("conflict", moved)
    else:
        home = tmp_path / "b"
        write_list(home / "work", table, keyed=False)
        args = ["run", "viewings.csv", "-m", "viewings.yaml", "--cancel-removed"]
        done = cli(args, sandbox, home, home / "work")
        assert done.returncode == 1, done.stdout + done.stderr
        book = home / "work" / "viewings.results.xlsx"
        results = sheet_rows(book, "Results")
        counts = Counter(str(r["Status"]) for r in results)
        removed = [] if "Removed" not in openpyxl.load_workbook(book).sheetnames else ["?"]
        assert [(r["Status"], r["Appointment ID"]) for r in results][1] == ("conflict", moved)
    assert counts["conflict"] == 1 and counts["already-created"] + counts["exists"] == 2
    assert removed == []
    assert len(_active_ids(sandbox)) == 3


def test_a_person_moved_it_and_the_row_moved_and_changed_is_a_conflict_on_the_second_computer(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    """CI's DIALECT_SEED=74584: a person moves an appointment 3 h in onOffice; the file moves
    that row to its top and changes that row's prospect, type and note; run on computer B (no
    ledger). The row was like its moved appointment in only 8 of 16, so a second appointment
    was created. The stamp says what the import wrote: the row is like that in 10 of 16 (all but
    contacts, type, subject and note), the only plausible row for it, so it is the conflict on
    its own appointment."""
    rng, numbers = random.Random(74584), Numbers()
    table = [replace(v, start=v.start.replace(day=2 + i)) for i, v in enumerate(
        first_list(6, rng, numbers))]  # fmt: skip
    first = run_on("A", tmp_path, sandbox, table)
    assert first.counts() == {"created": 6}
    moved = first.rows[2][1]
    assert moved is not None
    record = sandbox.store.appointment(moved)
    assert record is not None
    later = {
        k: (datetime.fromisoformat(record[k]) + timedelta(hours=3)).isoformat(" ")
        for k in ("start_dt", "end_dt")
    }
    edit_in_onoffice(sandbox, moved, **later)
    v = table[2]
    table[2] = replace(
        v, prospect=_other(v.prospect, PROSPECTS), kind=_other(v.kind, KINDS), note="Notiz 424"
    )
    table.insert(0, table.pop(2))  # away from its neighbours: nothing places it
    run = run_on("B", tmp_path, sandbox, table)
    assert run.rows[0] == ("conflict", moved), run
    assert run.counts() == {"conflict": 1, "exists": 5}, run
    assert run.removed == [] and run.code == 1
    assert len(_active_ids(sandbox)) == 6


def _other(now: str, choices: Any, rng: random.Random | None = None) -> str:
    others = [c for c in choices if c != now]
    return rng.choice(others) if rng is not None else others[0]


class Outcome(NamedTuple):
    """A run's outcome on either computer: per row its status and appointment; the removed."""

    rows: list[tuple[str, int | None]]
    removed: list[tuple[int, str]]
    code: int

    def counts(self) -> Counter[str]:
        return Counter(status for status, _id in self.rows)


def run_on(
    where: str, folder: Path, sb: Sandbox, table: list[Viewing], typo: tuple[str, str] = ("", "")
) -> Outcome:
    """The list as ``table`` (``typo``: a text typed over the file's), run with
    --cancel-removed on computer A (this process, its ledger) or B (a process of its own)."""
    work = folder / "a" if where == "A" else folder / "b" / "work"
    source, mapping = write_list(work, table, keyed=False)
    if typo[0]:
        text = source.read_text(encoding="utf-8")
        assert text.count(typo[0]) == 1
        source.write_text(text.replace(*typo), encoding="utf-8")
    if where == "A":
        with client_for(sb) as client:
            report = run_import(source, mapping, client=client, options=LIVE)
        return Outcome(
            [(str(r.status), r.appointment_id) for _n, r in sorted(report.results.items())],
            [(r.appointment_id, r.status) for r in report.removed],
            int(report.exit_code),
        )
    args = ["run", "viewings.csv", "-m", "viewings.yaml", "--cancel-removed"]
    done = cli(args, sb, folder / "b", work)
    assert done.returncode in (0, 1), done.stdout + done.stderr
    book = work / "viewings.results.xlsx"
    found = [
        (str(r["Status"]), r["Appointment ID"] if isinstance(r["Appointment ID"], int) else None)
        for r in sheet_rows(book, "Results")
    ]
    removed = removed_sheet(book)
    return Outcome(found, removed, done.returncode)


@pytest.mark.parametrize("where", ["A", "B"])
def test_an_invalid_rows_appointment_is_never_given_to_a_look_alike_inserted_after_it(
    tmp_path: Path, sandbox: Sandbox, where: str
) -> None:
    """A row's date mistyped (31.04.2027) in the same round as a look-alike row inserted after
    it: the invalid row's appointment was rewritten with the new row's content, and when the
    date was fixed the original row got a new appointment (1 appointment changed that nobody
    asked to change). Now the new row is created, the invalid row's appointment kept for it."""
    table = _three(tmp_path)
    first = run_on(where, tmp_path, sandbox, table)
    assert first.counts() == {"created": 3}
    theirs = first.rows[1][1]
    twin = replace(
        table[1], nr="B-09999", note="Notiz 9999", prospect=_other(table[1].prospect, PROSPECTS)
    )
    day = table[1].start.strftime("%d.%m.%Y")
    mistyped = run_on(
        where, tmp_path, sandbox, [table[0], table[1], twin, table[2]],
        (f";{day};{table[1].start:%H:%M};{table[1].minutes};{table[1].estate};{table[1].agent};"
         f"{table[1].prospect};", f";31.04.2027;{table[1].start:%H:%M};{table[1].minutes};"
         f"{table[1].estate};{table[1].agent};{table[1].prospect};"),
    )  # fmt: skip
    statuses = [s for s, _n in mistyped.rows]
    assert statuses[1] == "invalid" and statuses[2] == "created", mistyped
    assert mistyped.rows[2][1] != theirs
    assert mistyped.removed == [(theirs, "kept")]
    record = sandbox.store.appointment(theirs)
    assert record is not None and table[1].held_by(record)  # as the import wrote it
    fixed = run_on(where, tmp_path, sandbox, [table[0], table[1], twin, table[2]])
    assert fixed.rows[1][1] == theirs and fixed.code == 0, fixed
    assert set(fixed.counts()) <= {"already-created", "exists"}
    assert (
        divergence(sandbox.store.all_appointments(), [table[0], table[1], twin, table[2]]).total
        == 0
    )
    assert len(_active_ids(sandbox)) == 4


@pytest.mark.parametrize("moved", [False, True], ids=["in-place", "moved"])
@pytest.mark.parametrize("which", [1, 2], ids=["original", "twin"])
def test_a_look_alike_changed_on_the_second_computer_keeps_its_appointment(
    tmp_path: Path, sandbox: Sandbox, which: int, moved: bool
) -> None:
    """Changing a look-alike row's prospect and type on the second computer (and moving it to
    the end of the list) cancelled its appointment and created a new one (the id and its
    history lost): as the only candidate, it is modified."""
    table = _three(tmp_path)
    twin = replace(
        table[1], nr="B-09999", note="Notiz 9999", prospect=_other(table[1].prospect, PROSPECTS)
    )
    table = [table[0], table[1], twin, table[2]]
    first = run_on("A", tmp_path, sandbox, table)
    assert first.counts() == {"created": 4}
    ids = {v.nr: n for v, (_s, n) in zip(table, first.rows, strict=True)}
    v = table[which]
    changed = replace(
        v, prospect=_other(v.prospect, [*PROSPECTS][::-1]), kind=_other(v.kind, KINDS)
    )
    table[which] = changed
    if moved:
        table = [r for r in table if r is not changed] + [changed]
    run = run_on("B", tmp_path, sandbox, table)
    at = table.index(changed)
    assert run.rows[at] == ("updated", ids[v.nr]), run
    assert run.removed == [] and run.code == 0
    assert divergence(sandbox.store.all_appointments(), table).total == 0
    assert sandbox.store.count_appointments() == 4
