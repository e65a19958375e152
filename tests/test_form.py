"""An onOffice we have not seen (issue 30): whatever shape an account's reads have, an unchanged
list run again creates, changes and reports nothing, from either computer, and a person's
change to a field the reads show is still a conflict.

Each dialect point is one way a real account may answer where the documentation only shows an
example (``importer/sandbox/dialects.py``); the last ones combine several."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from importer.core import contract
from importer.onoffice.readback import FIELDS, field_digests
from importer.onoffice.reference import Stamp, read_stamp
from importer.run.submit import RunReport, run_import
from importer.sandbox import Dialect, Sandbox
from tests import living
from tests.helpers import FAST, client_for, edit_in_onoffice
from tests.test_living import SEED, LivingList

SHAPES = [
    "read_art=label",
    "read_art=key",
    "read_users=omitted",
    "read_groups=omitted",
    "resource_keys=omitted",
    "read_modified=missing",
    "read_art=label,fields=bare",
    "read_art=label,fields=bare,read_users=omitted,read_modified=missing",
    "read_art=key,calendar_read=removed,read_groups=omitted",
]
ROWS = 35


def _list(tmp_path: Path) -> tuple[list[living.Viewing], Path, Path]:
    rows = living.first_list(ROWS, random.Random(30), living.Numbers())
    source, mapping = living.write_list(tmp_path / "list", rows, keyed=False)
    return rows, source, mapping


def _writes(sb: Sandbox) -> int:
    return sum(sb.stats.actions[a] for a in ("create calendar", "modify calendar"))


def _run(source: Path, mapping: Path, sb: Sandbox, journal: Path) -> RunReport:
    with client_for(sb) as client:
        return run_import(source, mapping, client=client, journal_path=journal, options=FAST)


def _there(report: RunReport) -> int:
    """The rows already in onOffice as they are (nothing sent for them); 0 if any row is
    anything else (created, updated, conflict …) besides ``conflict``."""
    counts = report.counts()
    quiet = counts["already-created"] + counts["exists"]
    return quiet if quiet + counts["conflict"] == len(report.results) else 0


@pytest.mark.parametrize("dialect", SHAPES)
def test_an_unchanged_list_run_again_is_already_there(tmp_path: Path, dialect: str) -> None:
    """Run twice on one computer, then on another (no ledger): 35 already there each time, no
    write; then a person moves one appointment in onOffice: that row alone is a conflict, and
    it is not overwritten."""
    rows, source, mapping = _list(tmp_path)
    with Sandbox(dialect=Dialect.parse(dialect)) as sb:
        first = _run(source, mapping, sb, tmp_path / "a.sqlite")
        assert first.counts() == {"created": ROWS}, first.results
        writes = _writes(sb)
        assert writes == ROWS
        for journal in ("a.sqlite", "b.sqlite"):  # this computer, then a colleague's
            again = _run(source, mapping, sb, tmp_path / journal)
            assert _there(again) == ROWS, [(r.status, r.error) for r in again.results.values()]
        assert _writes(sb) == writes
        moved = first.results[2].appointment_id  # row 2: the first below the header
        record = sb.store.appointment(moved)
        assert record is not None
        start = rows[0].start + timedelta(hours=1)
        end = start + timedelta(minutes=rows[0].minutes)
        edit_in_onoffice(
            sb,
            moved,
            start_dt=start.strftime("%Y-%m-%d %H:%M:%S"),
            end_dt=end.strftime("%Y-%m-%d %H:%M:%S"),
        )
        for journal in ("a.sqlite", "b.sqlite"):
            third = _run(source, mapping, sb, tmp_path / journal)
            assert _there(third) == ROWS - 1
            assert third.counts()["conflict"] == 1
            assert third.results[2].status == "conflict"
        assert _writes(sb) == writes
        assert living.divergence(sb.store.all_appointments(), rows).missing == 1  # the moved


@pytest.mark.parametrize("other", ["Beratung", "Telefonat"])  # one the file writes, one not
@pytest.mark.parametrize(
    "dialect", ["read_art=label", "read_art=label,fields=bare", "read_art=key"]
)
def test_a_type_changed_in_onoffice_is_a_conflict_whatever_form_the_type_is_read_in(
    tmp_path: Path, dialect: str, other: str
) -> None:
    """The type is read as a plain text (its label, or its key), with or without the account's
    type list: the import's own types are recognised, a person's other type is a conflict."""
    rows, source, mapping = _list(tmp_path)
    with Sandbox(dialect=Dialect.parse(dialect)) as sb:
        first = _run(source, mapping, sb, tmp_path / "a.sqlite")
        target = next(r for r in first.results.values() if rows[r.row - 2].kind != other)
        edit_in_onoffice(sb, target.appointment_id, art=other)
        again = _run(source, mapping, sb, tmp_path / "b.sqlite")
    assert _there(again) == ROWS - 1
    assert again.counts()["conflict"] == 1
    conflict = next(r for r in again.results.values() if r.status == "conflict")
    assert conflict.appointment_id == target.appointment_id
    assert "type" in (conflict.error or "")


def test_a_field_the_account_does_not_show_is_named_once(tmp_path: Path) -> None:
    """appointmentList without `users`: a change of participants made in onOffice cannot be
    seen. The run says so once (and its Summary keeps it), and takes no other field's change
    for it."""
    _rows, source, mapping = _list(tmp_path)
    dialect = "calendar_read=removed,read_users=omitted"
    with Sandbox(dialect=Dialect.parse(dialect)) as sb:
        first = _run(source, mapping, sb, tmp_path / "a.sqlite")
        edit_in_onoffice(sb, first.results[4].appointment_id, users=[living.AGENTS["tkoch"]])
        again = _run(source, mapping, sb, tmp_path / "b.sqlite")
    assert _there(again) == ROWS
    unseen = [n for n in again.check.notices if "do not show" in n]
    assert len(unseen) == 1
    assert "participants" in unseen[0]
    assert "type" not in unseen[0]


def test_the_documented_shape_names_nothing_unseen(tmp_path: Path) -> None:
    _rows, source, mapping = _list(tmp_path)
    with Sandbox() as sb:
        _run(source, mapping, sb, tmp_path / "a.sqlite")
        again = _run(source, mapping, sb, tmp_path / "a.sqlite")
    assert _there(again) == ROWS
    assert not [n for n in again.check.notices if "do not show" in n]


def test_without_users_in_read_calendar_the_participants_show_in_user_ids(tmp_path: Path) -> None:
    """read calendar without `users`, no group: `user_ids` are the participants, so a person's
    change of agent is a conflict naming the participants."""
    rows, source, mapping = _list(tmp_path)
    with Sandbox(dialect=Dialect.parse("read_users=omitted")) as sb:
        first = _run(source, mapping, sb, tmp_path / "a.sqlite")
        other = next(n for a, n in living.AGENTS.items() if a != rows[2].agent)
        edit_in_onoffice(sb, first.results[4].appointment_id, users=[other])
        again = _run(source, mapping, sb, tmp_path / "b.sqlite")
    assert _there(again) == ROWS - 1
    assert "participants" in (again.results[4].error or "")
    assert not [n for n in again.check.notices if "do not show" in n]


def test_the_stamp_carries_each_fields_digest() -> None:
    """Golden values: the field digests of a known payload, and a stamp with them read back as
    written (a later version must read today's stamps)."""
    params = {
        "data": {
            "start_dt": "2027-03-01 10:00:00",
            "end_dt": "2027-03-01 10:30:00",
            "description": "Besichtigung AC-1042",
            "art": "Besichtigung",
            "note": "Schlüssel beim Hausmeister",
        },
        "subscribers": {"users": [17]},
        "relatedAddressIds": [5431],
        "relatedEstateId": 608,
    }
    digests = field_digests(params)
    assert len(digests) == 6 * len(FIELDS) == 60
    # start, end, subject, type, participants, resources, contacts, property, note, cancelled
    assert digests == "d75bc0545ee6e0ec0e111fbe86280e235bf1e63b5a5f8754b0b381f8b151"
    ids = ("3f9a1c07d2e4b856", "9c1e55aa", 12, False, "5d2c9a0e1b7f", "8e1f0a2b3c4d", "7f3a09c2")
    stamp = Stamp(*ids, 1796400000, digests)
    assert read_stamp("Notiz\n\n" + stamp.text()) == stamp
    earlier = Stamp(*ids, 1796400000)
    assert read_stamp(earlier.text()) == earlier  # a stamp of the version before
    longest = Stamp(*ids[:2], 9_999_999, True, *ids[4:], 999_999_999_999, digests)
    assert len("\n\n" + longest.text()) <= contract.REFERENCE_RESERVE  # a note never too long


def _agent_changed(rows: list[living.Viewing], i: int) -> list[living.Viewing]:
    edited = list(rows)
    agent = next(a for a in living.AGENTS if a != rows[i].agent)
    edited[i] = replace(rows[i], agent=agent)
    return edited


@pytest.mark.parametrize("semantics", ["merge", "replace"])
def test_an_agent_change_leaves_onoffice_holding_the_file_whatever_a_modify_does(
    tmp_path: Path, semantics: str
) -> None:
    """Whether a modify's `subscribers` replaces or adds is UNDOCUMENTED (§5.4). The first
    modify that takes a participant off is read back once; on an account that adds, the row
    gets a new appointment (the old one cancelled, its stamp retired) and every later run is
    quiet, on both computers; the answer is kept in the ledger, so the next change is not read
    back again."""
    rows, source, mapping = _list(tmp_path)
    with Sandbox(dialect=Dialect.parse(f"modify_subscribers={semantics}")) as sb:

        def run(journal: str = "a.sqlite") -> tuple[RunReport, int, int]:
            reads, modifies = (sb.stats.actions[f"{a} calendar"] for a in ("read", "modify"))
            report = _run(source, mapping, sb, tmp_path / journal)
            return (
                report,
                sb.stats.actions["read calendar"] - reads,
                sb.stats.actions["modify calendar"] - modifies,
            )

        run()
        rows = _agent_changed(rows, 3)
        living.write_list(tmp_path / "list", rows, keyed=False)
        changed, first_reads, modifies = run()
        assert living.divergence(sb.store.all_appointments(), rows).total == 0
        assert modifies == 2 if semantics == "merge" else 1  # the update (and the cancel)
        kinds = Counter(r.status for r in changed.results.values())
        assert kinds["created" if semantics == "merge" else "updated"] == 1
        if semantics == "merge":
            assert "created anew" in str(changed.results[5].error)
        for journal in ("a.sqlite", "b.sqlite"):
            assert _there(run(journal)[0]) == ROWS
        # the next agent change: the answer is in the ledger, nothing is read back
        rows = _agent_changed(rows, 7)
        living.write_list(tmp_path / "list", rows, keyed=False)
        _, reads, modifies = run()
        assert living.divergence(sb.store.all_appointments(), rows).total == 0
        assert reads == first_reads - 1  # the first change was read back once, this one not
        assert modifies == 1  # the cancel (merge), or the update (replace)
        active = [a for a in sb.store.all_appointments() if a.get("status") != "canceled"]
    assert len(active) == ROWS


# Every point of a read shape or a modify the documentation leaves open (issue 30), and all of
# them at once: the living list's property holds under each.
POINTS = living.READ_SHAPES
EVERYTHING = (
    "read_art=label,read_users=omitted,read_groups=omitted,resource_keys=omitted,"
    "read_modified=missing,modify_subscribers=merge,fields=bare"
)


@pytest.mark.fuzz
@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    "dialect", [POINTS[SEED % len(POINTS)], EVERYTHING], ids=["seeded-point", "every-point"]
)
def test_onoffice_holds_the_living_list_under_a_read_shape(
    dialect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The living list's machine (tests/test_living.py: after every edit and run, on either
    computer, onOffice holds the file, no row is a conflict nobody caused and a person's change
    is one) driven through six seeded rounds, on computer A or B (a second process), and a
    run of nothing new, under
    one of the points drawn by the session's seed (DIALECT_SEED) and under all of them at
    once. `python bench/living_bench.py --dialect POINT` runs every point longer."""
    chosen = Dialect.parse(dialect)
    original = Sandbox.__init__

    def init(self: Sandbox, *args: Any, dialect: Any = None, **kwargs: Any) -> None:
        original(self, *args, dialect=chosen if dialect is None else dialect, **kwargs)

    monkeypatch.setattr(Sandbox, "__init__", init)
    rng = random.Random(SEED)
    print(f"living list under the dialect {dialect}, seed {SEED}")
    machine = LivingList()
    try:
        machine.first_import(rng.randrange(2**32), 20)
        for where in ("A", "A", "B", "A", "B", "A"):
            machine.a_round(rng.randrange(2**32), where)  # edits, a typo, or a person's change
            machine.compare()
        machine.run_again_unchanged()
    finally:
        machine.teardown()
    assert machine.runs >= 8
    assert sum(machine.edits.values()) >= 6
