"""What onOffice holds of a list (importer/run/state.py): each appointment's condition, the
stamps a cancel writes, and the state read from the real sandbox over HTTP (issue 34).

Appointments are written as the import writes them (the payload with its stamp, through our
client), the ledger is a real SQLite journal; a person's change is made in the sandbox's store.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from importer.onoffice.client import OnOfficeClient, Record
from importer.onoffice.readback import (
    Appointment,
    field_digests,
    from_list,
    from_read,
    seen_digest,
    seen_digests,
    shown_field_digests,
    with_field,
)
from importer.onoffice.reference import Stamp, list_tag, read_stamp, reference, with_stamp
from importer.rules.payload import fingerprint
from importer.run.journal import CREATED, UNDONE, Entry, Journal
from importer.run.state import (
    CHANGED,
    GONE,
    INTACT,
    LIST_WINDOW_DAYS,
    RETIRED_CONTENT,
    UNSURE,
    Prior,
    State,
    Wanted,
    collapse,
    condition,
    read_state,
    restamped,
    retired,
)
from importer.run.submit import run_import
from importer.sandbox import Dialect, Sandbox
from tests import living
from tests.helpers import FAST, client_for, edit_in_onoffice
from tests.test_readback import edited

LIST = "Besichtigungen"
RUN, OTHER_RUN = "0a0a0a0a", "7f3a09c2"
DAY = date(2027, 3, 1)


def payload(
    day: date = DAY,
    hour: int = 10,
    subject: str = "Besichtigung AC-1042",
    *,
    users: tuple[int, ...] = (17,),
    groups: tuple[int, ...] = (),
) -> dict[str, Any]:
    subscribers: dict[str, Any] = {}
    if users:
        subscribers["users"] = list(users)
    if groups:
        subscribers["groups"] = list(groups)
    return {
        "data": {
            "start_dt": f"{day.isoformat()} {hour:02d}:00:00",
            "end_dt": f"{day.isoformat()} {hour:02d}:30:00",
            "description": subject,
            "art": "Besichtigung",
            "note": "Schlüssel beim Hausmeister",
        },
        "subscribers": subscribers,
        "relatedEstateId": 608,
    }


def stamp_of(
    params: dict[str, Any], *, name: str = LIST, run: str = RUN, row: int = 2, at: int = 0
) -> Stamp:
    """The stamp the import writes with ``params``."""
    content = fingerprint(params)
    return Stamp(
        reference(content),
        list_tag(name),
        row,
        False,
        content[:12],
        seen_digest(params),
        run,
        at,
        field_digests(params),
    )


def write(client: OnOfficeClient, params: dict[str, Any], stamp: Stamp | None = None) -> int:
    """An appointment as the import creates it (``stamp`` None: reference off, no stamp)."""
    return client.create_appointment(with_stamp(params, stamp) if stamp else params)


def ledger(tmp_path: Path, *written: tuple[dict[str, Any], int], name: str = LIST) -> Journal:
    """A real ledger that created each (payload, appointment id) from the list ``name``."""
    journal = Journal(tmp_path / f"ledger-{name}.sqlite")
    journal.input, journal.list = f"{name}.csv", name
    for i, (params, appointment_id) in enumerate(written):
        content = fingerprint(params)
        journal.intent(content, i + 2, params, content)
        journal.created(content, appointment_id)
    journal.flush()
    return journal


def state_of(
    client: OnOfficeClient, rows: list[dict[str, Any]], entries: dict[str, Entry] | None = None
) -> State:
    return read_state(client, Wanted(LIST, RUN, rows, entries or {}))


def read(sb: Sandbox, appointment_id: int) -> Appointment:
    with client_for(sb) as client:
        record = client.read_appointment(appointment_id)
    assert record is not None
    return from_read(Record(appointment_id, "calendar", record))


def entry(params: dict[str, Any], **changes: Any) -> Entry:
    content = fingerprint(params)
    base = Entry(content, CREATED, 2712, None, 2, 1, "2027-02-01 09:00:00", params)
    return replace(base, **changes)


def shown(params: dict[str, Any], stamp: Stamp | None = None, **changes: Any) -> Appointment:
    """A read calendar record of an appointment written with ``params`` (the documented
    shape), with ``changes`` to its elements (None: left out)."""
    data = params["data"]
    users = params.get("subscribers", {}).get("users", [])
    note = with_stamp(params, stamp)["data"]["note"] if stamp else data["note"]
    elements: dict[str, Any] = {
        "start_dt": data["start_dt"],
        "end_dt": data["end_dt"],
        "description": data["description"],
        "note": note,
        "art": {data["art"]: data["art"]},
        "users": [{"id": str(u)} for u in users],
        "user_ids": users,
        "groups": [],
        "ressources": [],
        "ressourcesWithKeys": {},
        "assignedaddressids": [],
        "assignedobjectids": [608],
        "status": "active",
        "modified": "2027-02-01 09:00:00",
    }
    elements = edited(elements, changes)
    return from_read(Record(2712, "calendar", elements))


# --- condition(): every branch ------------------------------------------------------------------
PARAMS = payload()
STAMP = stamp_of(PARAMS)


def test_an_appointment_not_read_is_gone() -> None:
    assert condition(None, STAMP, entry(PARAMS)) == GONE
    assert condition(None, None, None) == GONE


def test_by_the_stamp_an_unchanged_appointment_is_intact_a_changed_one_changed() -> None:
    assert condition(shown(PARAMS, STAMP), STAMP, None) == INTACT
    assert condition(shown(PARAMS, STAMP, description="anders"), STAMP, None) == CHANGED
    # the stamp decides before the ledger: a ledger that holds the change does not vouch for it
    moved = payload(hour=11)
    found = shown(moved, STAMP)
    assert condition(found, STAMP, entry(moved)) == CHANGED
    # a stamp before field digests is compared through its whole digest
    # a field the read does not show: the field digests still prove it intact
    assert condition(shown(PARAMS, STAMP, art=None), STAMP, None) == INTACT
    whole = replace(STAMP, fields="")
    assert condition(shown(PARAMS, whole), whole, None) == INTACT
    assert condition(shown(moved, whole), whole, None) == CHANGED


def test_an_appointment_a_run_or_undo_cancelled_is_intact() -> None:
    cancelled = shown(PARAMS, STAMP, status="canceled")
    assert condition(cancelled, STAMP, entry(PARAMS, state=UNDONE)) == INTACT
    # cancelled without the ledger saying the import did: a person's cancel
    assert condition(cancelled, STAMP, entry(PARAMS)) == CHANGED
    assert condition(cancelled, STAMP, None) == CHANGED
    # undone, but active again: compared as any other
    assert condition(shown(PARAMS, STAMP), STAMP, entry(PARAMS, state=UNDONE)) == INTACT
    assert condition(shown(moved := payload(hour=9), STAMP), STAMP, entry(moved, state=UNDONE)) == (
        CHANGED
    )


def test_without_a_complete_stamp_the_ledgers_payload_decides() -> None:
    one_line = Stamp(STAMP.ref)
    for stamp in (one_line, None):
        assert condition(shown(PARAMS, stamp), stamp, entry(PARAMS)) == INTACT
        changed = shown(PARAMS, stamp, description="anders")
        assert condition(changed, stamp, entry(PARAMS)) == CHANGED
        # a modify on its way: the appointment may hold either payload
        moved = payload(hour=11)
        assert condition(shown(moved, stamp), stamp, entry(PARAMS, pending=moved)) == INTACT
        assert condition(shown(moved, stamp), stamp, entry(moved, pending=PARAMS)) == INTACT
        assert condition(shown(moved, stamp), stamp, entry(PARAMS)) == CHANGED
        # nothing to compare with: cannot be told
        assert condition(shown(PARAMS, stamp), stamp, entry(PARAMS, payload={})) == UNSURE
        assert condition(shown(PARAMS, stamp), stamp, None) == UNSURE


def _grouped(changed: bool = False) -> tuple[Appointment, Stamp]:
    """An appointment for group 3 as appointmentList shows it listing the group's members
    among the participants (§5.1: it cannot tell them from explicit ones)."""
    params = payload(users=(), groups=(3,))
    stamp = stamp_of(params)
    members = [{"id": "17"}, {"id": "18"}, {"id": "19"}, *([{"id": "20"}] if changed else [])]
    record = Record(
        2712,
        "calendar",
        {
            "id": "2712",
            "modified": "2027-02-01T09:00:00+00:00",
            "subject": params["data"]["description"],
            "notes": with_stamp(params, stamp)["data"]["note"],
            "type": {"value": "Besichtigung", "label": "Besichtigung"},
            "status": {"value": "active", "label": "aktiv"},
            "date": {"start": "2027-03-01T09:00:00+00:00", "end": "2027-03-01T09:30:00+00:00"},
            "groups": [{"id": "3"}],
            "users": members,
            "resources": [],
            "contacts": [],
            "estate": {"id": "608"},
        },
    )
    return from_list(record), stamp


def test_a_group_appointment_listed_with_its_members_is_unsure_never_intact() -> None:
    """README, Limits: with agent groups and without read calendar, a change made in onOffice
    cannot be told from the import's own write: unsure (a conflict), never intact."""
    for changed in (False, True):
        found, stamp = _grouped(changed)
        assert found.users is None
        assert condition(found, stamp, None) == UNSURE


# --- the stamps a cancel writes ------------------------------------------------------------
def test_a_cancel_restamps_the_appointment_as_the_imports_write() -> None:
    found = shown(PARAMS, STAMP)
    data = restamped(found, cancelled=True, run=OTHER_RUN, at=1796400000)
    assert data["status"] == "canceled"
    assert data["note"].startswith("Schlüssel beim Hausmeister\n\nonoffice-import ref ")
    stamp = read_stamp(data["note"])
    assert stamp == replace(
        STAMP,
        seen=min(seen_digests(replace(found, cancelled=True))),
        run=OTHER_RUN,
        at=1796400000,
        fields=with_field(STAMP.fields, "cancelled", True),
    )
    assert stamp is not None
    assert stamp.seen != STAMP.seen and stamp.fields != STAMP.fields
    # read back cancelled, it is the import's own write
    after = replace(found, cancelled=True, note=data["note"])
    assert condition(after, stamp, None) == INTACT
    # made active again: the stamp says so
    again = restamped(after, cancelled=False, run=RUN, at=1796400100)
    assert again["status"] == "active"
    back = read_stamp(again["note"])
    assert back is not None
    assert back.fields == STAMP.fields and back.seen == STAMP.seen and back.at == 1796400100
    assert condition(replace(after, cancelled=False, note=again["note"]), back, None) == INTACT


def test_a_cancel_of_an_appointment_without_a_note_of_its_own_or_a_complete_stamp() -> None:
    bare = {**PARAMS, "data": {k: v for k, v in PARAMS["data"].items() if k != "note"}}
    stamp = stamp_of(bare)
    data = restamped(shown(bare, stamp, note=stamp.text()), cancelled=True, run=RUN, at=5)
    assert data["note"].startswith("onoffice-import ref ")
    assert read_stamp(data["note"]) is not None
    # no seen digest to be had (a field unseen): the stamp's own is kept
    unseen = shown(PARAMS, STAMP, art=None)
    kept = read_stamp(restamped(unseen, cancelled=True, run=RUN, at=5)["note"])
    assert kept is not None and kept.seen == STAMP.seen
    one_line = Stamp(STAMP.ref)
    assert restamped(shown(PARAMS, one_line), cancelled=True, run=RUN, at=5) == {
        "status": "canceled"
    }
    assert restamped(shown(PARAMS), cancelled=False, run=RUN, at=5) == {"status": "active"}


def test_a_retired_appointment_keeps_its_list_and_takes_a_reference_of_its_own() -> None:
    found = shown(PARAMS, STAMP)
    data = retired(found, run=OTHER_RUN, at=1796400000)
    assert data["status"] == "canceled"
    assert data["note"].startswith("Schlüssel beim Hausmeister\n\n")
    stamp = read_stamp(data["note"])
    cancelled = replace(found, cancelled=True)
    assert stamp == Stamp(
        reference("retired:2712"),
        STAMP.list_tag,
        STAMP.row,
        False,
        RETIRED_CONTENT,
        min(seen_digests(cancelled)),
        OTHER_RUN,
        1796400000,
        shown_field_digests(cancelled),
    )
    assert RETIRED_CONTENT == "000000000000"
    assert reference("retired:2712") == "9d9470f66dae87ae"  # golden: undo finds them by it
    assert condition(replace(cancelled, note=data["note"]), stamp, None) == INTACT
    bare = retired(shown(PARAMS, STAMP, note=STAMP.text()), run=RUN, at=1)
    assert bare["note"].startswith("onoffice-import ref ")
    unseen = read_stamp(retired(shown(PARAMS, STAMP, art=None), run=RUN, at=1)["note"])
    assert unseen is not None and unseen.seen == STAMP.seen
    assert retired(shown(PARAMS, Stamp(STAMP.ref)), run=RUN, at=1) == {"status": "canceled"}
    assert retired(shown(PARAMS), run=RUN, at=1) == {"status": "canceled"}


def test_a_series_read_once_per_occurrence_is_its_first_occurrence() -> None:
    first = replace(shown(PARAMS), id="2712@2027-03-01", starts=frozenset({"2027-03-01 10:00:00"}))
    later = replace(first, id="2712@2027-03-08", starts=frozenset({"2027-03-08 10:00:00"}))
    other = replace(shown(PARAMS), id=2713, series=2713)
    odd = replace(shown(PARAMS), id="x", series="x")  # no appointment id: left out
    assert collapse([odd, later, first, other]) == {2712: first, 2713: other}
    assert collapse([first, later]) == {2712: first}
    empty = replace(first, starts=frozenset())
    assert collapse([first, empty]) == {2712: empty}  # no start read: taken as earliest
    assert collapse([empty, first]) == {2712: empty}


# --- Prior ---------------------------------------------------------------------------------
def test_a_priors_reference_content_row_and_changes() -> None:
    found = shown(PARAMS, STAMP)
    by_stamp = Prior(2712, found, STAMP, None, INTACT, True)
    assert by_stamp.ref == STAMP.ref
    assert by_stamp.content == STAMP.content
    assert by_stamp.row == 2
    assert by_stamp.keyed is False
    assert by_stamp.changes == []
    assert by_stamp.active and not by_stamp.cancelled
    keyed = replace(by_stamp, stamp=replace(STAMP, keyed=True))
    assert keyed.keyed is True
    changed = replace(by_stamp, found=shown(PARAMS, STAMP, description="anders"))
    assert changed.changes == ["subject"]
    assert replace(by_stamp, stamp=replace(STAMP, fields="")).changes == []
    assert replace(by_stamp, found=None).changes == []
    assert replace(by_stamp, found=None).active is False
    assert replace(by_stamp, found=None).cancelled is False
    cancelled = replace(by_stamp, found=replace(found, cancelled=True))
    assert cancelled.cancelled and not cancelled.active
    # the ledger's entry: its row where it holds what the stamp says, else the stamp's
    mine = entry(PARAMS, source_row=7)
    assert replace(by_stamp, entry=mine).row == 7
    assert replace(by_stamp, entry=replace(mine, content="f" * 32)).row == 2
    assert replace(by_stamp, entry=mine, stamp=Stamp(STAMP.ref)).row == 7
    assert replace(by_stamp, entry=mine, stamp=None).row == 7
    assert replace(by_stamp, stamp=None).row is None
    # without a complete stamp: the ledger's reference, content and key
    ledgered = Prior(2712, found, Stamp(STAMP.ref), mine, INTACT, True)
    assert ledgered.content == fingerprint(PARAMS)[:12]
    assert ledgered.keyed is False
    assert replace(ledgered, entry=replace(mine, fingerprint="key:B-001")).keyed is True
    assert replace(ledgered, stamp=None).ref == reference(fingerprint(PARAMS))
    assert replace(ledgered, stamp=None, entry=None).ref is None
    assert replace(ledgered, entry=None).content is None
    assert replace(ledgered, entry=None).keyed is False
    keyed_entry = replace(mine, fingerprint="key:B-1", content=None)
    assert replace(ledgered, entry=keyed_entry).content is None


# --- read_state() against the sandbox ----------------------------------------------------------
def test_the_lists_appointments_are_found_on_the_rows_days_and_a_year_either_side(
    tmp_path: Path,
) -> None:
    """Read on a server whose `dateend` is exclusive (§5.2 leaves it open), so that each
    period's edge shows: the rows' days with a day of margin, then the list's filter from two
    days to LIST_WINDOW_DAYS either side."""
    rows = [payload(), payload(DAY + timedelta(days=3), subject="Besichtigung 0815")]
    last = DAY + timedelta(days=3)
    window = timedelta(days=LIST_WINDOW_DAYS)
    with Sandbox(dialect=Dialect.parse("dateend=exclusive")) as sb, client_for(sb) as client:
        person = write(client, payload(DAY, hour=14, subject="Kaffee"))  # read first: not ours
        on_day = write(client, rows[0], stamp_of(rows[0]))
        elsewhere = {
            n: write(client, p, stamp_of(p))
            for n, p in {
                "first": payload(DAY - window),
                "two before": payload(DAY - timedelta(days=2)),
                "two after": payload(last + timedelta(days=2)),
                "last": payload(last + window),
                "soon": payload(last + timedelta(days=30)),
            }.items()
        }
        too_far = [
            write(client, p, stamp_of(p))
            for p in (payload(DAY - window - timedelta(days=1)), payload(last + window + ONE))
        ]
        other_list = payload(last + timedelta(days=30), hour=12)
        theirs = write(client, other_list, stamp_of(other_list, name="Übergaben"))
        beside = payload(hour=12, subject="Übergabe AC-1043")  # another list's, on a row's day
        named_by_ref = write(client, beside, stamp_of(beside, name="Übergaben"))
        state = state_of(client, rows)
    assert state.list_name == LIST and state.list_tag == list_tag(LIST)
    found = {p.appointment_id: p for p in state.priors}
    assert set(found) == {on_day, *elsewhere.values()}
    assert all(p.condition == INTACT and p.ours for p in found.values())
    assert theirs not in found and person not in found and not set(too_far) & set(found)
    # every import appointment read is known by its reference: another list's too
    assert set(state.by_ref) == {p.ref for p in found.values()} | {stamp_of(beside).ref}
    assert [p.ours for p in state.by_ref[stamp_of(beside).ref]] == [False]
    assert {a.series for a in state.calendar} == {on_day, person, named_by_ref}
    assert state.complete and state.list_complete
    assert state.reads == 3  # the rows' days, and the list a year either side
    assert state.running == {} and state.unseen is None
    assert state.prior(on_day) is found[on_day]
    assert state.prior(person) is None
    assert abs((datetime.now(UTC).replace(tzinfo=None) - state.since).total_seconds()) < 60


ONE = timedelta(days=1)


def test_without_rows_the_list_is_read_around_today() -> None:
    with Sandbox() as sb, client_for(sb) as client:
        today = write(client, PARAMS, stamp_of(PARAMS))
        later = payload(DAY + timedelta(days=30))
        soon = write(client, later, stamp_of(later))
        state = read_state(client, Wanted(LIST, RUN, [], {}, today=DAY))
        elsewhere = read_state(client, Wanted(LIST, RUN, [], {}, today=DAY + timedelta(days=500)))
    assert {p.appointment_id for p in state.priors} == {today, soon}
    assert {a.series for a in state.calendar} == {today}
    assert elsewhere.priors == []


def test_an_appointment_whose_create_answer_was_lost_is_the_rows(tmp_path: Path) -> None:
    """The ledger knows a create was sent and no id came back (sending, unknown): the
    appointment carrying that row's reference is that entry's; a refused create is not."""
    rows = [payload(), payload(hour=11), payload(hour=12)]
    with Sandbox() as sb, client_for(sb) as client, ledger(tmp_path) as journal:
        made = [write(client, p, stamp_of(p)) for p in rows]
        for i, params in enumerate(rows):
            content = fingerprint(params)
            journal.intent(content, i + 2, params, content)
        journal.unknown(fingerprint(rows[1]), "timeout")
        journal.failed(fingerprint(rows[2]), "refused")
        entries = journal.entries()
        state = state_of(client, rows, entries)
    by_id = {p.appointment_id: p for p in state.priors}
    assert by_id[made[0]].entry == entries[fingerprint(rows[0])]
    assert by_id[made[1]].entry == entries[fingerprint(rows[1])]
    assert by_id[made[2]].entry is None
    assert all(p.condition == INTACT for p in state.priors)


def test_a_ledgers_appointment_no_read_shows_is_read_by_id(tmp_path: Path) -> None:
    far = payload(DAY + timedelta(days=600))  # outside every period read, and no stamp
    with Sandbox() as sb, client_for(sb) as client:
        undone = write(client, payload(DAY + timedelta(days=800)))  # the lowest id: read first
        client.delete_appointment(undone)
        kept = write(client, far)
        deleted = write(client, payload(DAY + timedelta(days=700)))
        client.delete_appointment(deleted)
        other = write(client, payload(DAY + timedelta(days=900)))
        with ledger(tmp_path, (far, kept), (payload(DAY + timedelta(days=700)), deleted)) as ours:
            ours.list = LIST
            ours.intent("u" * 32, 5, payload(DAY + timedelta(days=800)), "u" * 32)
            ours.created("u" * 32, undone)
            ours.undone(undone, "deleted")
            entries = ours.entries()
        with ledger(tmp_path, (payload(DAY + timedelta(days=900)), other), name="Übergaben") as j:
            entries |= j.entries()
        state = state_of(client, [payload()], entries)
        named = read_state(client, Wanted(LIST, RUN, [payload()], entries, named=[other]))
    found = {p.appointment_id: p for p in state.priors}
    assert set(found) == {kept, deleted}  # the undone one is sent anew: no prior
    assert found[kept].condition == INTACT and found[kept].found is not None
    assert found[kept].ours and found[kept].stamp is None
    assert found[kept].entry is not None and found[kept].entry.appointment_id == kept
    assert found[deleted].condition == GONE and found[deleted].found is None
    assert found[deleted].ours
    assert state.reads == 3 + 1  # the ids in one request
    # a results workbook names another list's appointment: read, and not this list's
    by_name = {p.appointment_id: p for p in named.priors}
    assert by_name[other].ours is False and by_name[other].condition == INTACT


def test_a_read_that_cannot_tell_is_unsure_never_gone(tmp_path: Path) -> None:
    """Without read calendar an appointment is looked for where it was written: one not there
    (a person moved it, or deleted it) is unsure, never gone."""
    written = payload(DAY + timedelta(days=600))
    gone = payload(DAY + timedelta(days=650))
    with Sandbox(dialect=Dialect.parse("calendar_read=removed")) as sb, client_for(sb) as client:
        moved = write(client, written)
        deleted = write(client, gone)
        client.delete_appointment(deleted)
        edit_in_onoffice(sb, moved, start_dt="2029-06-01 10:00:00", end_dt="2029-06-01 10:30:00")
        with ledger(tmp_path, (written, moved), (gone, deleted)) as ours:
            state = state_of(client, [payload()], ours.entries())
        assert "read calendar" in client.unsupported
        assert sb.stats.actions["read calendar"] == 1  # then known missing: not asked again
    found = {p.appointment_id: p for p in state.priors}
    assert found[moved].condition == UNSURE and found[moved].found is None
    assert found[moved].entry is not None and found[moved].ours
    # deleted, too, is only not where it was written: never taken for gone without a read
    assert found[deleted].condition == UNSURE
    # a results workbook's appointment this ledger never knew, unsure too
    with Sandbox(dialect=Dialect.parse("calendar_read=removed")) as sb, client_for(sb) as client:
        named = write(client, written)
        edit_in_onoffice(sb, named, start_dt="2029-06-01 10:00:00", end_dt="2029-06-01 10:30:00")
        state = read_state(client, Wanted(LIST, RUN, [payload()], {}, named=[named]))
    assert [(p.appointment_id, p.condition, p.entry, p.ours) for p in state.priors] == [
        (named, UNSURE, None, True)
    ]


def test_a_named_appointment_deleted_is_gone(tmp_path: Path) -> None:
    """A results workbook names an appointment this ledger never knew: deleted, it is gone
    (and the ledger's own deleted one after it too)."""
    later = payload(DAY + timedelta(days=600))
    with Sandbox() as sb, client_for(sb) as client:
        deleted = write(client, payload())
        client.delete_appointment(deleted)
        known = write(client, later)
        client.delete_appointment(known)
        with ledger(tmp_path, (later, known)) as j:
            entries = j.entries()
        state = read_state(client, Wanted(LIST, RUN, [payload()], entries, named=[deleted]))
    assert [(p.appointment_id, p.condition, p.ours, p.entry is None) for p in state.priors] == [
        (deleted, GONE, True, True),
        (known, GONE, True, False),
    ]


@pytest.mark.parametrize("ledgered", [False, True], ids=["another computer", "this computer"])
def test_with_agent_groups_listed_among_the_participants_a_persons_participant_is_seen(
    tmp_path: Path, ledgered: bool
) -> None:
    """appointmentList lists the group's members among the participants (§5.1); `get groups`
    names them (§6.5), so the explicit participants the stamp names are told from them: the
    import's write is intact, a participant a person added who is no member is a change. (One
    who is a member is listed anyway: that change cannot be seen.) Before: unsure, a conflict
    for every group row changed in the file."""
    params = payload(users=(), groups=(3,))  # "Vertrieb Aachen": 17, 18, 19
    dialect = Dialect.parse("calendar_read=removed,list_users=members")
    conditions = []
    with Sandbox(dialect=dialect) as sb, client_for(sb) as client:
        made = write(client, params, stamp_of(params))
        entries = ledger(tmp_path, (params, made)).entries() if ledgered else {}
        record = sb.store.appointment(made)
        assert record is not None
        for added in ([], [18], [20]):
            edit_in_onoffice(sb, made, users=[*record.get("users", []), *added])
            state = state_of(client, [params], entries)
            prior = state.prior(made)
            assert prior is not None and prior.ours
            assert prior.found is not None and prior.found.users is None
            assert prior.found.members == {17, 18, 19}
            assert (prior.entry is not None) == ledgered
            conditions.append(prior.condition)
    assert conditions == [INTACT, INTACT, CHANGED]


def test_another_run_of_the_list_writing_now_is_seen_running() -> None:
    rows = [payload(), payload(hour=11), payload(hour=12), payload(hour=13)]
    with Sandbox() as sb, client_for(sb) as client:
        other = write(client, rows[0], stamp_of(rows[0], run=OTHER_RUN))
        write(client, rows[1], stamp_of(rows[1], run=RUN))  # this run's own
        earlier = write(client, rows[2], stamp_of(rows[2], run="11111111"))
        write(client, rows[3], stamp_of(rows[3], name="Übergaben", run="22222222"))
        record = sb.store.appointment(earlier)
        assert record is not None
        sb.store.update_appointment(record, "2020-01-01 00:00:00")  # long ago
        state = state_of(client, rows)
    modified = state.prior(other)
    assert modified is not None and modified.found is not None
    assert state.running == {OTHER_RUN: modified.found.modified}


def test_a_run_whose_read_shows_no_modified_is_not_taken_for_running() -> None:
    with Sandbox(dialect=Dialect.parse("read_modified=missing")) as sb, client_for(sb) as client:
        made = write(client, PARAMS, stamp_of(PARAMS, run=OTHER_RUN))
        state = state_of(client, [PARAMS])
    assert state.running == {}
    assert state.prior(made) is not None
    assert state.unseen is not None and "time of the last change" in state.unseen


def test_without_read_calendar_the_lists_appointments_of_every_user_are_read() -> None:
    """appointmentList shows only the users it is asked for: an agent no row names any more
    is asked for too (the account's users)."""
    rows = [payload(users=(17,))]
    gone_agent = payload(hour=15, users=(21,))
    with Sandbox(dialect=Dialect.parse("calendar_read=removed")) as sb, client_for(sb) as client:
        mine = write(client, rows[0], stamp_of(rows[0]))
        theirs = write(client, gone_agent, stamp_of(gone_agent, row=3))
        state = state_of(client, rows)
    assert {p.appointment_id for p in state.priors} == {mine, theirs}
    assert state.list_complete and state.complete
    assert all(p.condition == INTACT for p in state.priors)


def test_whose_appointment_it_is_the_stamp_says_else_the_ledger(tmp_path: Path) -> None:
    """A complete stamp names its list; a one-line stamp (earlier versions) or none leaves
    it to this computer's ledger."""
    rows = [payload(hour=h) for h in (8, 9, 10, 11)]
    with Sandbox() as sb, client_for(sb) as client:
        old_ours = write(client, rows[0], Stamp(stamp_of(rows[0]).ref))
        old_unknown = write(client, rows[1], Stamp(stamp_of(rows[1]).ref))
        moved_list = write(client, rows[2], stamp_of(rows[2], name="Übergaben"))
        plain_ours = write(client, rows[3])
        with ledger(
            tmp_path, (rows[0], old_ours), (rows[2], moved_list), (rows[3], plain_ours)
        ) as j:
            entries = j.entries()
        state = state_of(client, rows, entries)
    found = {p.appointment_id: p for p in state.priors}
    assert set(found) == {old_ours, plain_ours}
    assert old_unknown not in found
    assert found[old_ours].ours and found[plain_ours].ours
    assert found[old_ours].condition == INTACT  # by the ledger's payload
    assert [p.ours for p in state.by_ref[stamp_of(rows[2]).ref]] == [False]
    assert [p.ours for p in state.by_ref[stamp_of(rows[1]).ref]] == [False]


def test_another_lists_deleted_appointment_is_none_of_this_lists(tmp_path: Path) -> None:
    far = payload(DAY + timedelta(days=600))
    with Sandbox() as sb, client_for(sb) as client:
        deleted = write(client, far)
        client.delete_appointment(deleted)
        with ledger(tmp_path, (far, deleted), name="Übergaben") as j:
            entries = j.entries()
        posts = sb.stats.posts
        state = state_of(client, [payload()], entries)
        assert sb.stats.posts - posts == 3  # the three period reads, no read by id
    assert state.priors == [] and state.reads == 3


def test_the_ledgers_last_entry_for_an_appointment_counts(tmp_path: Path) -> None:
    first, second = payload(DAY + timedelta(days=600)), payload(DAY + timedelta(days=600), 11)
    with Sandbox() as sb, client_for(sb) as client:
        made = write(client, second)
        with ledger(tmp_path, (first, made), (second, made)) as j:
            entries = j.entries()
        older = {
            k: replace(e, intent_at=f"2027-01-0{i + 1} 09:00:00")
            for i, (k, e) in enumerate(entries.items())
        }
        newer = {
            k: replace(e, intent_at=f"2027-01-0{2 - i} 09:00:00")
            for i, (k, e) in enumerate(entries.items())
        }
        last = [state_of(client, [payload()], e).prior(made) for e in (older, newer)]
    assert last[0] is not None and last[0].entry is not None
    assert last[0].entry.payload == second and last[0].condition == INTACT
    assert last[1] is not None and last[1].entry is not None
    assert last[1].entry.payload == first and last[1].condition == CHANGED


def test_ids_are_read_fifty_to_a_request(tmp_path: Path) -> None:
    far = [
        payload(DAY + timedelta(days=600), hour=8 + i // 60, subject=f"T {i}") for i in range(51)
    ]
    with Sandbox() as sb, client_for(sb) as client:
        made = [write(client, p) for p in far]
        with ledger(tmp_path, *zip(far, made, strict=True)) as j:
            entries = j.entries()
        state = state_of(client, [payload()], entries)
    assert state.reads == 3 + 2
    assert len(state.priors) == 51 and all(p.condition == INTACT for p in state.priors)


def test_without_read_calendar_a_pending_modify_is_looked_for_on_its_day_too(
    tmp_path: Path,
) -> None:
    """A modify sent, its answer lost: the appointment may be on the day of either payload;
    an undone one not found is unsure (kept), not taken for deleted by undo."""
    written, moving = payload(DAY + timedelta(days=600)), payload(DAY + timedelta(days=610))
    undone_at = payload(DAY + timedelta(days=620))
    with Sandbox(dialect=Dialect.parse("calendar_read=removed")) as sb, client_for(sb) as client:
        made = write(client, moving)
        undone = write(client, undone_at)
        edit_in_onoffice(sb, undone, start_dt="2029-06-01 10:00:00", end_dt="2029-06-01 10:30:00")
        with ledger(tmp_path, (written, made), (undone_at, undone)) as j:
            j.pending(fingerprint(written), moving)
            j.undone(undone, "deleted")
            entries = j.entries()
        state = state_of(client, [payload()], entries)
    found = {p.appointment_id: p for p in state.priors}
    assert found[made].condition == INTACT and found[made].found is not None
    assert found[undone].condition == UNSURE
    assert state.reads == 2 + 2 + 2  # the rows' days (twice: every user), the list, two ids


def test_a_run_whose_modified_is_far_off_is_not_running() -> None:
    rows = [payload(), payload(hour=11)]
    with Sandbox() as sb, client_for(sb) as client:
        ahead = write(client, rows[0], stamp_of(rows[0], run=OTHER_RUN))
        near = write(client, rows[1], stamp_of(rows[1], run="11111111"))
        now = datetime.now(UTC).replace(tzinfo=None)
        for n, offset in ((ahead, 86400), (near, 60)):
            record = sb.store.appointment(n)
            assert record is not None
            moment = now + timedelta(seconds=offset)
            sb.store.update_appointment(record, moment.strftime("%Y-%m-%d %H:%M:%S"))
        state = state_of(client, rows)
    assert list(state.running) == ["11111111"]


def test_a_group_appointment_a_person_added_to_is_not_overwritten_from_the_same_computer(
    tmp_path: Path,
) -> None:
    """README, Limits, from the computer that wrote it: the ledger's payload cannot tell a
    participant a person added from the group's members either, so the row, changed in the
    file, is a conflict (unsure); the person's participant stays."""
    from importer.run.submit import run_import
    from tests.files import write_csv
    from tests.helpers import FAST

    mapping = tmp_path / "g.yaml"
    mapping.write_text(
        "start: Start\nend: {minutes: 30}\nfields:\n  description: Betreff\n"
        "  subscribers.groups: {column: Gruppe, lookup: group}\n",
        encoding="utf-8",
    )
    table = [["01.03.2027 10:00", f"Termin {i}", "Vertrieb Aachen"] for i in range(2)]

    def put() -> Path:
        text = "Start;Betreff;Gruppe\n" + "".join(";".join(r) + "\n" for r in table)
        return write_csv(tmp_path / "g.csv", text)

    journal = tmp_path / "A.sqlite"
    dialect = Dialect.parse("calendar_read=removed,list_users=members")
    with Sandbox(dialect=dialect) as sb, client_for(sb) as client:
        first = run_import(put(), mapping, client=client, options=FAST, journal_path=journal)
        assert first.counts() == {"created": 2}
        made = first.results[2].appointment_id
        edit_in_onoffice(sb, made, users=[20])  # a person adds a participant
        table[0][1] = "Termin geändert"
        again = run_import(put(), mapping, client=client, options=FAST, journal_path=journal)
        record = sb.store.appointment(made or 0)
    assert again.results[2].status == "conflict", again.results[2]
    assert record is not None and 20 in record["users"]
    assert again.results[3].status in ("already-created", "unchanged")


def test_types_the_account_shows_as_text_are_learned_from_the_lists_own_appointments() -> None:
    """An account that shows `art` as its label and lists no types (§6.6 permits no list):
    the import's appointments teach the form, whether their rows are as written or edited since
    (the stamp's digest of the type tells which type the file wrote), so they are intact; a
    text that is a type the file writes elsewhere is never another type's form."""
    dialect = Dialect.parse("read_art=label,fields=bare")
    handover = [payload(hour=h, subject=f"Übergabe {h}") for h in (9, 10)]
    for p in handover:
        p["data"]["art"] = "Uebergabe"  # listed with the label "Übergabe"
    with Sandbox(dialect=dialect) as sb, client_for(sb) as client:
        made = [write(client, p, stamp_of(p)) for p in handover]
        written = {fingerprint(p)[:12]: p for p in handover}
        state = read_state(client, Wanted(LIST, RUN, handover, {}, written=written))
    with Sandbox(dialect=dialect) as sb, client_for(sb) as client:
        anew = [write(client, p, stamp_of(p)) for p in handover]
        edited = read_state(client, Wanted(LIST, RUN, handover, {}))  # rows edited since
    assert [state.prior(n).condition for n in made] == [INTACT, INTACT]  # type: ignore[union-attr]
    assert [edited.prior(n).condition for n in anew] == [INTACT, INTACT]  # type: ignore[union-attr]
    # a person changed both to a type the file writes for another row (not yet created)
    counsel = [payload(hour=h, subject=f"Beratung {h}") for h in (9, 10)]
    for p in counsel:
        p["data"]["art"] = "Beratung"
    viewing = payload(hour=15, subject="Neu")  # "Besichtigung", shown as "Besichtigung"
    with Sandbox(dialect=Dialect.parse("read_art=key,fields=bare")) as sb, client_for(sb) as client:
        made = [write(client, p, stamp_of(p)) for p in counsel]
        for n in made:
            edit_in_onoffice(sb, n, art="Besichtigung")
        written = {fingerprint(p)[:12]: p for p in counsel}
        state = read_state(client, Wanted(LIST, RUN, [*counsel, viewing], {}, written=written))
    assert [state.prior(n).condition for n in made] == [CHANGED, CHANGED]  # type: ignore[union-attr]


def test_the_servers_time_is_utc_whatever_this_computers_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        with Sandbox() as sb, client_for(sb) as client:
            made = write(client, PARAMS, stamp_of(PARAMS, run=OTHER_RUN))
            state = state_of(client, [PARAMS])
        now = datetime.now(UTC).replace(tzinfo=None)
        assert abs((now - state.since).total_seconds()) < 60
        assert list(state.running) == [OTHER_RUN] and state.prior(made) is not None
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_crowded_day_in_the_lists_window(tmp_path: Path) -> None:
    """Another calendar's 500 appointments on a day of the list's window do not hide the
    list's (the read is filtered on its stamp); 500 of the list's own on one day cannot all
    be seen: the list is not complete."""
    cap = 500
    far = DAY + timedelta(days=100)
    with Sandbox() as sb, client_for(sb) as client:
        model = write(client, payload(far, subject="Fremd"))
        mine = write(client, payload(far, hour=18), stamp_of(payload(far, hour=18)))
        for source, count in ((model, cap), (mine, 0)):
            record = sb.store.appointment(source)
            assert record is not None
            for _ in range(count):
                sb.store.insert_appointment(record, record["modified"])
        state = state_of(client, [PARAMS])
        assert state.list_complete and state.reads == 3
        assert state.prior(mine) is not None
        record = sb.store.appointment(mine)
        assert record is not None
        for _ in range(cap):
            sb.store.insert_appointment(record, record["modified"])
        crowded = state_of(client, [PARAMS])
    assert not crowded.list_complete and crowded.complete


@pytest.mark.parametrize("where", ["A", "B"])
def test_a_move_by_the_utc_offset_is_a_conflict_where_only_appointment_list_reads(
    tmp_path: Path, where: str
) -> None:
    """bench/living_bench.py under calendar_read=removed: a person moved an appointment by one
    hour, Berlin's winter offset to UTC. appointmentList's times were kept in both readings
    (``+00:00`` as UTC, and as written: UNDOCUMENTED which, §5.1), the moved time read as
    written was the time the import wrote, and the unchanged list run again said the row was
    already there, on either computer: onOffice no longer held the file. The list's own
    appointments tell the account's reading."""
    rows = living.first_list(10, random.Random(1), living.Numbers())
    source, mapping = living.write_list(tmp_path / "list", rows, keyed=False)
    with Sandbox(dialect=Dialect.parse("calendar_read=removed")) as sb, client_for(sb) as client:
        first = run_import(
            source, mapping, client=client, journal_path=tmp_path / "A.db", options=FAST
        )
        moved = first.results[2].appointment_id
        record = sb.store.appointment(moved)
        assert record is not None
        offset = ZoneInfo("Europe/Berlin").utcoffset(datetime.fromisoformat(record["start_dt"]))
        assert offset is not None
        later = {
            k: (datetime.fromisoformat(record[k]) + offset).strftime("%Y-%m-%d %H:%M:%S")
            for k in ("start_dt", "end_dt")
        }
        edit_in_onoffice(sb, moved, **later)
        again = run_import(
            source, mapping, client=client, journal_path=tmp_path / f"{where}.db", options=FAST
        )
    assert again.results[2].status == "conflict", again.results[2]
    assert again.results[2].appointment_id == moved
    quiet = "already-created" if where == "A" else "exists"
    assert again.counts() == {"conflict": 1, quiet: 9}, again.counts()
