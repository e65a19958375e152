"""An onOffice we have not seen (issue 30): whatever shape an account's reads have, an unchanged
list run again creates, changes and reports nothing, from either computer, and a person's
change to a field the reads show is still a conflict.

Each dialect point is one way a real account may answer where the documentation only shows an
example (``importer/sandbox/dialects.py``); the last ones combine several."""

from __future__ import annotations

import json
import random
import shutil
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from importer.core import contract
from importer.onoffice.client import OnOfficeClient, Record, Timeouts
from importer.onoffice.form import (
    form_of,
    learn_types,
    memo,
    normalised,
    read_shape,
    recall,
    unseen_notice,
)
from importer.onoffice.readback import FIELDS, Appointment, field_digests, from_read
from importer.onoffice.reference import Stamp, read_stamp
from importer.output.results import default_results_path, write_results
from importer.run.submit import RunReport, run_import
from importer.run.undo import undo_import
from importer.sandbox import Dialect, Faults, Sandbox
from tests import living
from tests.conftest import ROOT
from tests.files import write_csv
from tests.helpers import FAST, cli, client_for, edit_in_onoffice
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
            assert again.exit_code == 0
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


GROUP_MAPPING = (
    "start: Start\nend: {minutes: 30}\nfields:\n  description: Betreff\n"
    "  subscribers.users: {column: Makler, lookup: user}\n"
    "  subscribers.groups: {column: Gruppe, lookup: group}\n"
)


@pytest.mark.parametrize(
    "dialect",
    [
        "calendar_read=removed,list_users=members",
        "calendar_read=removed,list_users=explicit",
        "read_users=omitted",  # read calendar: `user_ids` hold the group's members too
        "calendar_read=removed,list_users=members,modify_subscribers=merge",
    ],
)
def test_a_group_list_is_compared_whether_members_are_listed_or_not(
    tmp_path: Path, dialect: str
) -> None:
    """Point 1's "group members listed as participants or not": a read may list a group's
    members among the participants (`get groups` lists them, §6.5). Rows for the agent group
    "Vertrieb Aachen" (17, 18, 19), every second one also for Maria Müller (17, one of its
    members): run again unchanged on this computer and on another, every row is already
    there; a person's move is a conflict; a row changed in the file is updated (no conflict
    nobody caused: before, "holds something else, and nothing here tells"); a participant a
    person added who is no member of the group is a conflict, on either computer."""
    mapping = tmp_path / "g.yaml"
    mapping.write_text(GROUP_MAPPING, encoding="utf-8")
    day = (contract.local_now() + timedelta(days=3)).strftime("%d.%m.%Y")
    iso = f"{day[6:]}-{day[3:5]}-{day[:2]}"
    subjects = [f"Termin {i}" for i in range(6)]

    def put() -> Path:
        text = "Start;Betreff;Makler;Gruppe\n" + "".join(
            f"{day} {9 + i}:00;{subject};{'mmueller' if i % 2 else ''};Vertrieb Aachen\n"
            for i, subject in enumerate(subjects)
        )
        return write_csv(tmp_path / "g.csv", text)

    with Sandbox(dialect=Dialect.parse(dialect)) as sb:
        first = _run(put(), mapping, sb, tmp_path / "a.sqlite")
        assert first.counts() == {"created": 6}, first.results
        writes = _writes(sb)
        for journal in ("a.sqlite", "b.sqlite"):
            again = _run(put(), mapping, sb, tmp_path / journal)
            assert _there(again) == 6, [(r.status, r.error) for r in again.results.values()]
            assert again.exit_code == 0
        edit_in_onoffice(
            sb,
            first.results[3].appointment_id,
            start_dt=f"{iso} 18:00:00",
            end_dt=f"{iso} 18:30:00",
        )
        for journal in ("a.sqlite", "b.sqlite"):
            third = _run(put(), mapping, sb, tmp_path / journal)
            assert third.results[3].status == "conflict", third.results[3]
            assert _there(third) == 5
        assert _writes(sb) == writes
        subjects[2] = "Termin 2, verlegt"  # rows 4 and 5: changed in the file
        subjects[3] = "Termin 3, verlegt"
        for journal in ("a.sqlite", "b.sqlite"):
            edited = _run(put(), mapping, sb, tmp_path / journal)
            assert edited.results[4].status in ("updated", "unchanged"), edited.results[4]
            assert edited.results[5].status in ("updated", "unchanged"), edited.results[5]
        assert _writes(sb) == writes + 2
        record = sb.store.appointment(first.results[6].appointment_id or 0)
        assert record is not None
        edit_in_onoffice(sb, record["id"], users=[*record.get("users", []), 22])
        subjects[4] = "Termin 4, verlegt"  # row 6: changed in the file and in onOffice
        for journal in ("b.sqlite", "a.sqlite"):
            fourth = _run(put(), mapping, sb, tmp_path / journal)
            assert fourth.results[6].status == "conflict", fourth.results[6]
        assert _writes(sb) == writes + 2


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


@pytest.mark.parametrize(
    ("lang", "said", "summary", "labels"),
    [
        (
            "en",
            "reads do not show an appointment's participants",
            "Summary",
            ["Not checked", "Read shape"],
        ),
        (
            "de",
            "zeigt beim Lesen eines Termins nicht: Teilnehmer",
            "Übersicht",
            ["Nicht geprüft", "Wie Termine gelesen werden"],
        ),
    ],
)
def test_what_cannot_be_seen_is_said_once_and_the_summary_keeps_it(
    tmp_path: Path, lang: str, said: str, summary: str, labels: list[str]
) -> None:
    """The run in a process of its own, in either language: its output says once which kinds
    of change cannot be seen on this account, and its results workbook's Summary keeps the
    line (under "Not checked", and in the account report's read shape). (The first run reads
    no appointment of the list: it has nothing to see the account's reads by.)"""
    _rows, source, mapping = _list(tmp_path)
    with Sandbox(dialect=Dialect.parse("calendar_read=removed,read_users=omitted")) as sb:
        for attempt in ("first", "again"):
            args = ["--lang", lang, "run", "-m", str(mapping), str(source)]
            if attempt == "first":
                assert cli(args, sb, tmp_path / "pc", tmp_path).returncode == 0
                continue
            done = cli(args, sb, tmp_path / "pc", tmp_path)
            out = done.stdout + done.stderr
            assert done.returncode == 0, out
            assert out.count(said) == 1, (attempt, out)
            sheet = openpyxl.load_workbook(default_results_path(source))[summary]
            kept = [r[0] for r in sheet.iter_rows(values_only=True) if said in str(r[1] or "")]
            assert kept == labels, (attempt, kept)


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
        # undo removes the import's every appointment, the two cancelled and replaced too
        # (they stayed, cancelled, in onOffice: the row's ledger entry went to the new one)
        results = tmp_path / "list" / "viewings.results.xlsx"
        write_results(_run(source, mapping, sb, tmp_path / "a.sqlite"), results)
        with client_for(sb) as client:
            undone = undo_import(results, client=client, journal_path=tmp_path / "a.sqlite")
        assert undone.counts() == {"deleted": ROWS + (2 if semantics == "merge" else 0)}
        assert sb.store.all_appointments() == []


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


@pytest.mark.parametrize(
    "dialect",
    ["read_art=label,fields=bare", "read_art=label,fields=bare,calendar_read=removed"],
    ids=["read-calendar", "appointmentList"],
)
def test_undo_learns_the_types_form_before_it_judges_on_any_read(
    tmp_path: Path, dialect: str
) -> None:
    """CI's DIALECT_SEED=74584: `art` read as its label, no type list and no read calendar.
    Undo learned how the account shows types only through read calendar, so under
    appointmentList the sample's one handover (`uebergabe`, shown "Übergabe") was taken for a
    person's edit and left (6 deleted, 2 skipped). It learns from appointmentList's read too: 7
    deleted, the one a person edited left alone."""
    source = tmp_path / "viewings.xlsx"
    shutil.copy(ROOT / "samples" / "viewings.xlsx", source)
    results, journal = default_results_path(source), tmp_path / "ledger.sqlite"
    with Sandbox(dialect=Dialect.parse(dialect)) as sb, client_for(sb) as client:
        mapping = ROOT / "mappings" / "viewings.yaml"
        report = run_import(source, mapping, client=client, journal_path=journal, options=FAST)
        write_results(report, results)
        assert report.counts()["created"] == 8  # and the sample's invalid rows
        edited = next(r.appointment_id for r in report.results.values() if r.appointment_id)
        edit_in_onoffice(sb, edited, note="edited by an agent")
        undone = undo_import(results, client=client, journal_path=journal)
    assert undone.counts() == {"deleted": 7, "skipped-modified": 1}
    assert [i.appointment_id for i in undone.items if i.status == "skipped-modified"] == [edited]


# --- form.py's functions, one by one ------------------------------------------------------------
# Appointments as a read shows them (read calendar, §5.2) with `art` as a plain string; the
# account behind them is a real sandbox: the type and resource lists are asked over HTTP.
_WRITTEN_AT = 1796400000  # the import's write, on the server's clock (the stamp's `at`)


def _shown_as(
    text: str,
    *,
    at: int = _WRITTEN_AT,
    modified: str | None = "2026-12-04 16:00:00",  # = _WRITTEN_AT in UTC
    stamped: bool = True,
    **elements: Any,
) -> Appointment:
    stamp = Stamp(
        "3f9a1c07d2e4b856", "9c1e55aa", 2, False, "5d2c9a0e1b7f", "8e1f0a2b3c4d", "7f3a09c2", at
    )
    record: dict[str, Any] = {
        "start_dt": "2027-03-01 10:00:00",
        "end_dt": "2027-03-01 10:30:00",
        "description": "Besichtigung",
        "note": stamp.text() if stamped else "",
        "art": text,
        "users": [{"id": "17"}],
        "user_ids": [17],
        "groups": [],
        "ressources": [],
        "ressourcesWithKeys": {},
        "assignedaddressids": [],
        "assignedobjectids": [],
        "status": "active",
    }
    if modified is not None:
        record["modified"] = modified
    for name, value in elements.items():
        if value is None:
            del record[name]  # left out of the read
        else:
            record[name] = value
    return from_read(Record(2712, "calendar", record))


def _fields_asked(sb: Sandbox) -> int:
    return sb.stats.actions["get fields"]


def test_golden_written_at_is_the_modified_it_names() -> None:
    assert datetime.fromtimestamp(_WRITTEN_AT, UTC).strftime("%Y-%m-%d %H:%M:%S") == (
        "2026-12-04 16:00:00"
    )


def test_a_text_most_of_a_types_appointments_show_is_its_form() -> None:
    with Sandbox(dialect=Dialect.parse("fields=bare")) as sb, client_for(sb) as client:
        written = [(_shown_as("Viewing"), "Besichtigung")] * 3
        written += [(_shown_as("Kaffee"), "Besichtigung")]  # a person's edit of one
        learn_types(client, written)
        form = form_of(client)
        assert form.shown_as == {"Besichtigung": "Viewing"}
        assert form.type_keys("Viewing") == {"Besichtigung"}
        assert form.type_keys("Kaffee") == set()
        assert _fields_asked(sb) == 1  # the account's list asked once (it lists none)
        assert form.types == {}


def test_a_text_only_half_of_a_types_appointments_show_is_not_learned() -> None:
    with Sandbox(dialect=Dialect.parse("fields=bare")) as sb, client_for(sb) as client:
        written = [(_shown_as("Viewing"), "Besichtigung")] * 2
        written += [(_shown_as("Kaffee"), "Besichtigung")] * 2
        learn_types(client, written)
        assert form_of(client).shown_as == {}


def test_one_appointment_teaches_a_form_only_where_nobody_changed_it() -> None:
    """Two appointments showing one text teach it whatever their `modified`; one alone only
    when its `modified` is no later than the import's write (with the clocks' margin), or
    where the account shows no `modified` at all."""
    margin = contract.CLOCK_MARGIN_SECONDS
    later = "2026-12-04 16:05:01"  # 301 s after the write
    cases = [
        ([_shown_as("Viewing", modified=later)] * 2, True),
        ([_shown_as("Viewing", modified=later)], False),
        ([_shown_as("Viewing", at=_WRITTEN_AT - margin)], True),  # at the margin's edge
        ([_shown_as("Viewing", at=_WRITTEN_AT - margin - 1)], False),
        ([_shown_as("Viewing", at=0)], False),  # a stamp that says no time
        ([_shown_as("Viewing", modified="gestern")], False),  # a time that cannot be read
        ([_shown_as("Viewing", modified=None)], True),  # no `modified` shown
        ([_shown_as("Viewing", modified="")], False),  # shown, but empty: nothing tells
        ([_shown_as("Viewing", stamped=False, modified=None)], True),
        ([_shown_as("Viewing", stamped=False)], False),  # no stamp says when it was written
    ]
    for appointments, learned in cases:
        with Sandbox(dialect=Dialect.parse("fields=bare")) as sb, client_for(sb) as client:
            learn_types(client, [(a, "Besichtigung") for a in appointments])
            expected = {"Besichtigung": "Viewing"} if learned else {}
            assert form_of(client).shown_as == expected, appointments[0]


def test_a_text_two_types_show_is_the_form_of_the_one_most_show_it_for_or_of_neither() -> None:
    with Sandbox(dialect=Dialect.parse("fields=bare")) as sb, client_for(sb) as client:
        written = [(_shown_as("Termin"), "Beratung")] * 2
        written += [(_shown_as("Termin"), "Besichtigung")] * 3
        learn_types(client, written)
        assert form_of(client).shown_as == {"Besichtigung": "Termin"}
    with Sandbox(dialect=Dialect.parse("fields=bare")) as sb, client_for(sb) as client:
        written = [(_shown_as("Termin"), "Besichtigung")] * 3
        written += [(_shown_as("Termin"), "Beratung")] * 2
        learn_types(client, written)
        assert form_of(client).shown_as == {"Besichtigung": "Termin"}
    for first, second in (("Besichtigung", "Beratung"), ("Beratung", "Besichtigung")):
        with Sandbox(dialect=Dialect.parse("fields=bare")) as sb, client_for(sb) as client:
            # as often for both, in either order: nothing tells whose form it is
            written = [(_shown_as("Termin"), first)] * 2 + [(_shown_as("Termin"), second)] * 2
            learn_types(client, written)
            assert form_of(client).shown_as == {}


def test_a_text_that_is_a_type_is_never_another_types_form() -> None:
    with Sandbox(dialect=Dialect.parse("fields=bare")) as sb, client_for(sb) as client:
        # a type key written elsewhere, or one of the appointments' own types
        learn_types(client, [(_shown_as("Telefonat"), "Besichtigung")] * 2, known=["Telefonat"])
        written = [(_shown_as("Beratung"), "Besichtigung")] * 2
        written += [(_shown_as("Beratung"), "Beratung")]
        learn_types(client, written)
        assert form_of(client).shown_as == {}
    with Sandbox() as sb, client_for(sb) as client:
        # a label the account's type list gives another type
        learn_types(client, [(_shown_as("Beratungsgespräch"), "Besichtigung")] * 2)
        assert form_of(client).shown_as == {}
        assert form_of(client).type_keys("Beratungsgespräch") == {"Beratung"}


def test_types_read_as_written_teach_nothing_and_ask_nothing() -> None:
    with Sandbox() as sb, client_for(sb) as client:
        learn_types(client, [(_shown_as("Besichtigung"), "Besichtigung")] * 3)
        learn_types(client, [(_shown_as("Viewing"), "")] * 3)  # no type written
        learn_types(client, [(_shown_as(""), "Besichtigung")] * 3)  # no text read
        assert _fields_asked(sb) == 0
        assert form_of(client).shown_as == {} and form_of(client).types is None


def test_what_was_learned_is_kept_in_the_ledger_and_recalled() -> None:
    with Sandbox() as sb, client_for(sb) as client, client_for(sb) as later:
        assert memo(client) is None
        form = form_of(client)
        form.learn_type("Uebergabe", "Handover")
        form.learn_type("Besichtigung", "Viewing")
        text = memo(client)
        assert text == '{"type shown as": {"Besichtigung": "Viewing", "Uebergabe": "Handover"}}'
        form.subscribers = "merge"
        text = memo(client)
        assert json.loads(text or "") == {
            "type shown as": {"Besichtigung": "Viewing", "Uebergabe": "Handover"},
            "subscribers on modify": "merge",
        }
        assert form_of(later) is not form
        recall(later, text)
        assert form_of(later).shown_as == form.shown_as
        assert form_of(later).subscribers == "merge"
        assert form_of(later).type_keys("Viewing") == {"Besichtigung"}
    with Sandbox() as sb, client_for(sb) as client:
        form_of(client).subscribers = "replace"
        assert memo(client) == '{"subscribers on modify": "replace"}'
        for damaged in (None, "", "{", "[1]", '{"type shown as": 1, "subscribers on modify": "x"}'):
            with client_for(sb) as fresh:
                recall(fresh, damaged)
                assert form_of(fresh).shown_as == {} and form_of(fresh).subscribers == ""
        with client_for(sb) as fresh:
            recall(fresh, '{"subscribers on modify": "replace", "type shown as": {"7": 8}}')
            assert form_of(fresh).subscribers == "replace"
            assert form_of(fresh).shown_as == {"7": "8"}


def test_a_type_shown_as_text_is_read_as_the_keys_the_account_lists_with_it() -> None:
    with Sandbox() as sb, client_for(sb) as client:
        found = normalised(client, _shown_as("Beratungsgespräch"))
        assert found.types == {"Beratungsgespräch", "Beratung"}
        assert found.type_key == "Beratung"
        again = normalised(client, _shown_as("Uebergabe"))  # a key, as text
        assert again.type_key == "Uebergabe" and "Übergabe" not in again.types
        assert _fields_asked(sb) == 1  # asked once per client
        unknown = normalised(client, _shown_as("Kaffee"))
        assert unknown.types == {"Kaffee"} and unknown.type_key == ""
        plain = _shown_as("", art={"Besichtigung": "Besichtigung"})
        assert normalised(client, plain) == plain


def test_a_text_two_types_are_listed_with_keeps_no_single_key() -> None:
    with Sandbox(dialect=Dialect.parse("fields=bare")) as sb, client_for(sb) as client:
        form = form_of(client)
        form.learn_type("Besichtigung", "Termin")
        form.learn_type("Beratung", "Termin")
        found = normalised(client, _shown_as("Termin"))
        assert found.types == {"Termin", "Besichtigung", "Beratung"}
        assert found.type_key == ""
        # learned before the list was asked: the list is not asked for a text it explains
        assert _fields_asked(sb) == 0
        assert normalised(client, _shown_as("Viewing")).types == {"Viewing"}
        assert _fields_asked(sb) == 1


def test_without_a_type_list_the_account_is_asked_once() -> None:
    with Sandbox(dialect=Dialect.parse("fields=unconfigured")) as sb, client_for(sb) as client:
        assert normalised(client, _shown_as("Viewing")).types == {"Viewing"}
        normalised(client, _shown_as("Viewing"))
        assert form_of(client).types == {}
        assert _fields_asked(sb) == 1


def test_resources_shown_by_label_are_the_keys_the_account_lists() -> None:
    labels_only = {"ressources": ["Beamer", "Firmenfahrzeug"], "ressourcesWithKeys": None}
    with Sandbox() as sb, client_for(sb) as client:
        found = _shown_as("", art={"Besichtigung": "Besichtigung"}, **labels_only)
        assert "resources" in found.unseen
        known = normalised(client, found)
        assert known.resources == {"ind_Schl_3151", "ind_Schl_3152"}
        assert "resources" not in known.unseen
        odd = replace(found, resource_names=frozenset({"Beamer", "Hubschrauber"}))
        assert normalised(client, odd) == odd  # one label the account does not list
        listed = replace(found, unseen=found.unseen - {"resources"})
        assert normalised(client, listed) == listed  # keys shown: nothing to do
        assert sb.stats.actions["get calendarResources"] == 1
        assert form_of(client).resources is not None
        assert form_of(client).resources["ind_Schl_3152"] == "Beamer"


def test_which_changes_cannot_be_seen_is_said_in_one_line() -> None:
    seen = _shown_as("Besichtigung")
    assert unseen_notice([]) is None
    assert unseen_notice([seen, seen]) is None
    blind = replace(seen, unseen=frozenset({"modified", "participants", "type"}))
    partly = replace(seen, unseen=frozenset({"resources", "contacts", "property"}))
    assert unseen_notice([seen, blind, partly]) == (
        "This onOffice account's reads do not show an appointment's type, participants,"
        " resources, contacts, property, time of the last change: a change made there by a"
        " person cannot be seen, and is not reported as a conflict."
    )


def test_the_read_shape_in_words() -> None:
    unknown = (
        "Whether a change of participants replaces or adds to them is not known yet: the"
        " first run that takes a participant off reads it back once."
    )
    with Sandbox() as sb, client_for(sb) as client:
        assert read_shape(client, []) == [
            "No appointment was read to see the shape of this account's reads.",
            unknown,
        ]
        plain = _shown_as("", art={"Besichtigung": "Besichtigung"})
        assert read_shape(client, [plain]) == [
            "Every field the import compares is shown.",
            unknown,
        ]
        form_of(client).subscribers = "replace"
        lines = read_shape(client, [_shown_as("Beratungsgespräch"), plain])
        assert lines == [
            "The type is shown as a plain text; it is matched through the account's type list.",
            "Every field the import compares is shown.",
            "A change of participants replaces them (learned by reading back).",
        ]
    with Sandbox(dialect=Dialect.parse("fields=bare")) as sb, client_for(sb) as client:
        form_of(client).subscribers = "merge"
        blind = replace(_shown_as("Viewing"), unseen=frozenset({"participants"}))
        assert read_shape(client, [blind]) == [
            "The type is shown as a plain text; it is matched through the import's own"
            " appointments.",
            unseen_notice([blind]),
            "A change of participants adds to them (learned by reading back): a row whose"
            " agent changes gets a new appointment, the old one is cancelled.",
        ]


def test_modified_is_read_as_utc_whatever_this_computers_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`modified` is the server's UTC (§5.2): on a computer in Berlin time, an appointment
    changed after the import's write is still not taken for untouched."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        margin = contract.CLOCK_MARGIN_SECONDS
        with Sandbox(dialect=Dialect.parse("fields=bare")) as sb, client_for(sb) as client:
            early = _shown_as("Viewing", at=_WRITTEN_AT - margin - 1)
            learn_types(client, [(early, "Besichtigung")])
            assert form_of(client).shown_as == {}
            learn_types(client, [(_shown_as("Viewing", at=_WRITTEN_AT - margin), "Besichtigung")])
            assert form_of(client).shown_as == {"Besichtigung": "Viewing"}
    finally:
        monkeypatch.undo()
        time.tzset()


def test_resources_the_account_cannot_list_now_stay_unseen() -> None:
    labels_only = {"ressources": ["Beamer"], "ressourcesWithKeys": None}
    found = _shown_as("", art={"Besichtigung": "Besichtigung"}, **labels_only)
    with (
        Sandbox(faults=Faults(fail_before_rate=1.0)) as sb,
        OnOfficeClient(sb.url, sb.credentials, timeouts=Timeouts(1, 2), read_retries=0) as client,
    ):
        assert normalised(client, found) == found
        assert form_of(client).resources == {}
