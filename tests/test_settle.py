"""Settling a lost answer: the row's appointment is adopted, a person's never."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from importer.core import contract
from importer.onoffice.readback import Who, days_of, read_period
from importer.onoffice.reference import PREFIX
from importer.run.settle import Existing, _since, find_created, find_existing, find_references
from importer.run.submit import run_import
from importer.sandbox import Faults, Sandbox
from tests.files import write_csv
from tests.helpers import FAST, client_for


def test_without_stamps_a_persons_older_identical_appointment_is_not_adopted(
    tmp_path: Path,
) -> None:
    """options.reference: false, so nothing marks the import's own appointments. A person
    entered the same viewing before the run; the run's create is made, its answer lost: the
    read-back adopts the appointment written since the row's intent, never the person's."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "start: Start\nend: {minutes: 30}\nfields:\n  description: Betreff\n"
        "options:\n  reference: false\n",
        encoding="utf-8",
    )
    source = write_csv(tmp_path / "l.csv", "Start;Betreff\n01.03.2027 10:00;Besichtigung\n")
    with Sandbox() as sb, client_for(sb) as client:
        persons = client.create_appointment(
            {
                "data": {
                    "start_dt": "2027-03-01 10:00:00",
                    "end_dt": "2027-03-01 10:30:00",
                    "description": "Besichtigung",
                }
            }
        )
        record = sb.store.appointment(persons)
        assert record is not None
        sb.store.update_appointment(record, "2020-01-01 00:00:00")  # written long before
        time.sleep(1.1)  # the run's intent is later than anything before it, by the clock
        sb.faults = Faults(plan=["lost"], writes_only=True)
        report = run_import(source, mapping, client=client, options=FAST)
        (result,) = report.results.values()
        assert result.status == "created" and result.appointment_id not in (None, persons)
        assert sb.store.count_appointments() == 2


DAY = "2027-03-01"
ROW = {
    "data": {
        "start_dt": f"{DAY} 10:00:00",
        "end_dt": f"{DAY} 10:30:00",
        "description": "Besichtigung",
    },
    "subscribers": {"users": [18]},
}
REF, OTHER_REF = "0123456789abcdef", "fedcba9876543210"


def _made(sb: Sandbox, note: str = "", modified: str = "2020-01-01 00:00:00", **data: Any) -> int:
    """An appointment of the row's slot, as a person or an import left it ``modified``."""
    record = {**ROW["data"], "users": [18], "note": note, **data}
    return sb.store.insert_appointment(record, modified)


def test_the_intent_is_moved_back_by_the_clock_margin() -> None:
    """A write counts as the run's from five minutes before its intent (clocks differ)."""
    assert _since("2027-03-01 10:00:00") == "2027-03-01 09:55:00"
    assert _since("2027-03-01 00:02:00") == "2027-02-28 23:57:00"
    assert _since(None) is None and _since("") is None


def test_with_a_reference_only_the_appointments_carrying_it_are_the_rows() -> None:
    """The first made of those carrying the row's reference and claimed by no other row; a
    look-alike without it is a person's, no reason to hold the row back; none left: absent."""
    with Sandbox() as sb, client_for(sb) as client:
        _made(sb)  # a person's identical viewing
        _made(sb, note=f"{PREFIX}{OTHER_REF}")
        first = _made(sb, note=f"Schlüssel beim Hausmeister\n{PREFIX}{REF}")
        second = _made(sb, note=f"{PREFIX}{REF}")
        found = find_created(client, ROW, None, set(), REF)
        assert (found.appointment_id, found.absent, found.candidates) == (first, False, ())
        assert found.appointment is not None and found.appointment.id == first
        assert found.reads == 1
        assert find_created(client, ROW, None, {first}, REF).appointment_id == second
        gone = find_created(client, ROW, None, {first, second}, REF)
        assert (gone.appointment_id, gone.absent, gone.candidates) == (None, True, ())
        assert gone.appointment is None


def test_without_a_reference_only_a_fresh_exact_look_alike_is_adopted() -> None:
    """No reference: an identical appointment modified since the intent (less the margin) is
    the row's; an older one, or a fresh one that differs, is only named as a candidate."""
    with Sandbox() as sb, client_for(sb) as client:
        _made(sb, description="Übergabe", modified="2027-06-01 00:00:00")  # not alike at all
        old = _made(sb, modified="2027-01-01 09:54:59")
        found = find_created(client, ROW, "2027-01-01 10:00:00", set(), None)
        assert (found.appointment_id, found.absent, found.candidates) == (None, False, (str(old),))
        assert found.reads == 1
        assert found.appointment is None
        # with no intent known, any identical one counts
        assert find_created(client, ROW, None, set(), None).appointment_id == old
        at_margin = _made(sb, modified="2027-01-01 09:55:00")
        found = find_created(client, ROW, "2027-01-01 10:00:00", set(), None)
        assert (found.appointment_id, found.candidates) == (at_margin, ())
        assert found.appointment is not None and found.appointment.id == at_margin
        differs = _made(sb, end_dt=f"{DAY} 10:45:00", modified="2027-06-01 00:00:00")
        found = find_created(client, ROW, "2027-01-01 10:00:00", {at_margin}, None)
        assert found.appointment_id is None
        assert found.candidates == tuple(sorted((str(old), str(differs))))


def test_without_a_reference_nothing_alike_proves_the_row_absent() -> None:
    """Another subject or another time is not the row's: a complete read of neither proves the
    row absent."""
    with Sandbox() as sb, client_for(sb) as client:
        _made(sb, description="Übergabe")
        _made(sb, start_dt=f"{DAY} 11:00:00", end_dt=f"{DAY} 11:30:00")
        found = find_created(client, ROW, None, set(), None)
        assert (found.appointment_id, found.absent, found.candidates) == (None, True, ())
        assert found.reads == 1


def _busy(sb: Sandbox, imported: bool = False) -> None:
    """More appointments on the row's day than one read returns: the day cannot be read whole
    (``imported``: each with another row's reference)."""
    for n in range(contract.READ_PAGE_CAP):
        sb.store.insert_appointment(
            {
                "start_dt": f"{DAY} 07:00:00",
                "end_dt": f"{DAY} 07:30:00",
                "description": f"b{n}",
                "users": [18],
                "note": f"{PREFIX}{n:016x}" if imported else "",
            },
            "2026-11-01 00:00:00",
        )


def test_a_day_past_the_read_cap_is_asked_for_the_reference_itself() -> None:
    """The period read is incomplete: the row's reference is looked for on its own; found, the
    row is settled, and not found in that complete read, it is absent; the reads add up."""
    with Sandbox() as sb, client_for(sb) as client:
        _busy(sb)
        first, last = days_of([ROW])
        period_reads = read_period(client, first, last, Who.of(ROW)).reads
        assert period_reads > 1  # the period was split before the day alone was too much
        gone = find_created(client, ROW, None, set(), REF)
        assert (gone.appointment_id, gone.absent, gone.reads) == (None, True, period_reads + 1)
        made = _made(sb, note=f"{PREFIX}{REF}")
        found = find_created(client, ROW, None, set(), REF)
        assert (found.appointment_id, found.absent, found.reads) == (made, False, gone.reads)
        assert found.appointment is not None and found.appointment.id == made
        claimed = find_created(client, ROW, None, {made}, REF)
        assert (claimed.appointment_id, claimed.absent) == (None, True)
        # without a reference an incomplete read proves nothing
        assert find_created(client, ROW, None, {made}, None).absent is False


def test_existing_rows_are_found_by_their_references_in_one_read() -> None:
    """Each wanted reference: the first-made appointment carrying it and not ignored; any
    import's appointment of the period is listed as imported, a person's is not."""
    second_row = {**ROW, "data": {**ROW["data"], "description": "Zweite"}}
    with Sandbox() as sb, client_for(sb) as client:
        assert find_existing(client, []) == Existing({}, 0, True)
        ignored = _made(sb, note=f"{PREFIX}{OTHER_REF}")  # read first: it ends nothing
        _made(sb)
        one = _made(sb, note=f"{PREFIX}{REF}")
        again = _made(sb, note=f"{PREFIX}{REF}")
        stranger = _made(sb, note=f"{PREFIX}{'1' * 16}")
        existing = find_existing(client, [(REF, ROW), (OTHER_REF, second_row)], {ignored})
        assert existing.found == {REF: one}
        assert (existing.reads, existing.complete) == (1, True)
        assert set(existing.appointments) == {one, again}
        assert existing.appointments[one].id == one
        assert sorted(a.id for a in existing.imported) == [one, again, stranger]
        everything = find_existing(client, [(REF, ROW), (OTHER_REF, second_row)])
        assert everything.found == {REF: one, OTHER_REF: ignored}


def test_existing_rows_past_the_read_cap_are_asked_for_one_by_one() -> None:
    """The period read is incomplete: the references it did not show are read on their own, and
    what both found is the answer, complete when the lookups are."""
    with Sandbox() as sb, client_for(sb) as client:
        _busy(sb, imported=True)
        made = _made(sb, note=f"{PREFIX}{REF}")
        first, last = days_of([ROW])
        period = read_period(client, first, last, Who.of(ROW), note_like=PREFIX)
        assert not period.complete
        existing = find_existing(client, [(REF, ROW), (OTHER_REF, ROW)])
        assert existing.found == {REF: made}
        assert existing.complete is True
        assert set(existing.appointments) == {made}
        assert existing.imported  # those the period read showed
        assert existing.reads == period.reads + 1  # the lookups of both rows: one request
        ignoring = find_existing(client, [(REF, ROW)], {made})
        assert (ignoring.found, ignoring.complete) == ({}, True)


def test_the_period_is_read_for_imported_appointments_only() -> None:
    """The read asks for notes with an import's reference: a day full of a person's
    appointments is still read whole, in one read."""
    with Sandbox() as sb, client_for(sb) as client:
        _busy(sb)
        made = _made(sb, note=f"{PREFIX}{REF}")
        existing = find_existing(client, [(REF, ROW)])
        assert (existing.found, existing.reads, existing.complete) == ({REF: made}, 1, True)


def test_without_read_calendar_rows_nobody_takes_part_in_cannot_be_looked_for() -> None:
    """appointmentList sees only the agents and groups it is asked for: with read calendar
    removed, a row without either leaves the answer incomplete; with them, complete; and the
    reference lookups read the period instead."""
    nobody = {"data": ROW["data"]}
    with Sandbox(dialect="calendar_read=removed") as sb, client_for(sb) as client:
        made = _made(sb, note=f"{PREFIX}{REF}")
        ignoring = find_references(client, [(REF, ROW)], {made})
        assert client.unsupported == {"read calendar"}
        assert (ignoring.found, ignoring.complete) == ({}, True)
        sent = client.requests_sent
        find_existing(client, [(REF, ROW)])
        period = client.requests_sent - sent
        found = find_references(client, [(REF, ROW)])
        assert (found.found, found.complete) == ({REF: made}, True)
        assert client.requests_sent == sent + 2 * period  # read calendar is not asked again
        assert find_references(client, [(REF, ROW)], {made}).found == {}
        assert find_existing(client, [(REF, ROW)]).complete is True
        unseen = find_existing(client, [(REF, ROW), (OTHER_REF, nobody)])
        assert (unseen.found, unseen.complete) == ({REF: made}, False)


def test_references_are_read_fifty_to_a_request() -> None:
    """One read calendar action per row, 50 to a request; each row's own reference decides, an
    ignored appointment does not count; nothing to look for costs nothing."""
    with Sandbox() as sb, client_for(sb) as client:
        assert find_references(client, []) == Existing({}, 0, True)
        made = _made(sb, note=f"{PREFIX}{REF}")
        later = _made(sb, note=f"{PREFIX}{REF}")
        rows = [(f"{n:016x}", ROW) for n in range(50)] + [(REF, ROW)]
        found = find_references(client, rows)
        assert (found.found, found.reads, found.complete) == ({REF: made}, 2, True)
        assert set(found.appointments) == {made, later}
        ignoring = find_references(client, [(REF, ROW)], {made})
        assert (ignoring.found, ignoring.reads) == ({REF: later}, 1)
        assert find_references(client, [(REF, ROW)], {made, later}).found == {}


def test_a_reference_is_looked_for_on_its_rows_days_with_a_day_either_side() -> None:
    """The lookup reads the row's days and one day either side (also where dateend excludes
    its day); an appointment carrying the reference further away is not looked at; a lookup
    that fills the read cap is not complete."""
    for dialect in ("dateend=inclusive", "dateend=exclusive"):
        with Sandbox(dialect=dialect) as sb, client_for(sb) as client:
            next_day = _made(
                sb,
                note=f"{PREFIX}{REF}",
                start_dt="2027-03-02 09:00:00",
                end_dt="2027-03-02 09:30:00",
            )
            _made(
                sb,
                note=f"{PREFIX}{OTHER_REF}",
                start_dt="2027-02-27 10:00:00",
                end_dt="2027-02-27 10:30:00",
            )
            found = find_references(client, [(REF, ROW), (OTHER_REF, ROW)])
            assert (found.found, found.reads, found.complete) == ({REF: next_day}, 1, True)
    with Sandbox() as sb, client_for(sb) as client:
        for n in range(contract.READ_PAGE_CAP):
            sb.store.insert_appointment(
                {**ROW["data"], "users": [18], "note": f"{PREFIX}{REF}", "description": f"b{n}"},
                "2026-11-01 00:00:00",
            )
        full = find_references(client, [(REF, ROW)])
        assert full.complete is False and REF in full.found
