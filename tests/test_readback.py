"""Reading appointments back (importer/onoffice/readback.py) in whichever shape a server answers,
and comparing them with what the import wrote, field by field (issue 30).

Records here are written as the documentation shows them (§5.1, §5.2) and as the plausible
alternatives the sandbox's dialects switch to; the digests are golden values (a change to
them makes every appointment imported before look changed in onOffice)."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from importer.core import contract
from importer.core.errors import ActionRefused, OutcomeUnknown
from importer.onoffice.client import Action, OnOfficeClient, Record
from importer.onoffice.readback import (
    FIELDS,
    Who,
    calendar_read,
    cancels,
    changed_fields,
    days_of,
    differences,
    field_digests,
    find_appointment,
    first_day,
    from_list,
    from_read,
    holds,
    plain,
    read_ids,
    read_modified,
    read_one,
    read_period,
    resembles,
    same_content,
    seen_digest,
    seen_digests,
    shown_field_digests,
    stamp_holds,
    text,
    with_field,
)
from importer.sandbox import Dialect, Sandbox
from tests.helpers import client_for

PARAMS: dict[str, Any] = {
    "data": {
        "start_dt": "2027-03-01 10:00:00",
        "end_dt": "2027-03-01 10:30:00",
        "description": "Besichtigung AC-1042",
        "art": "Besichtigung",
        "note": "Schlüssel beim Hausmeister",
        "ressources": ["ind_Schl_3152", "ind_Schl_3151"],
    },
    "subscribers": {"users": [17]},
    "relatedAddressIds": [5431],
    "relatedEstateId": 608,
}


def edited(elements: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A record's elements with ``changes``: a value replaces its element, None removes it."""
    out = {**elements, **changes}
    return {k: v for k, v in out.items() if not (k in changes and changes[k] is None)}


def _read(**changes: Any) -> Record:
    """A `read calendar` record holding PARAMS, as the documentation shows one (§5.2)."""
    elements: dict[str, Any] = {
        "start_dt": "2027-03-01 10:00:00",
        "end_dt": "2027-03-01 10:30:00",
        "description": "Besichtigung AC-1042",
        "note": "Schlüssel beim Hausmeister",
        "art": {"Besichtigung": "Besichtigung"},
        "users": [{"id": "17", "username": "mmueller"}],
        "user_ids": [17],
        "groups": [],
        "ressources": ["Firmenfahrzeug", "Beamer"],
        "ressourcesWithKeys": {"ind_Schl_3151": "Firmenfahrzeug", "ind_Schl_3152": "Beamer"},
        "assignedaddressids": [5431],
        "assignedobjectids": [608],
        "status": "active",
        "modified": "2027-02-01 09:00:00",
    }
    elements = edited(elements, changes)
    return Record(2712, "calendar", elements)


def _listed(**changes: Any) -> Record:
    """An `appointmentList` record holding PARAMS (§5.1)."""
    elements: dict[str, Any] = {
        "id": "2712",
        "modified": "2027-02-01T09:00:00+00:00",
        "subject": "Besichtigung AC-1042",
        "notes": "Schlüssel beim Hausmeister",
        "type": {"value": "Besichtigung", "label": "Besichtigung"},
        "status": {"value": "active", "label": "aktiv"},
        "date": {
            "start": "2027-03-01T09:00:00+00:00",
            "end": "2027-03-01T09:30:00+00:00",
            "allDay": False,
        },
        "groups": [],
        "users": [{"id": "17", "userName": "mmueller"}],
        "resources": [
            {"id": "ind_Schl_3151", "name": "Firmenfahrzeug"},
            {"id": "ind_Schl_3152", "name": "Beamer"},
        ],
        "contacts": [{"id": "5431", "confirmationStatus": "not-set"}],
        "estate": {"id": "608"},
    }
    elements = edited(elements, changes)
    return Record(2712, "calendar", elements)


def test_golden_digests() -> None:
    """The whole digest as the versions before issue 30 computed it, and each field's."""
    plain = {**PARAMS, "data": {k: v for k, v in PARAMS["data"].items() if k != "ressources"}}
    assert seen_digest(plain) == "08123f541ff9"
    assert field_digests(plain) == "d75bc0545ee6e0ec0e111fbe86280e235bf1e63b5a5f8754b0b381f8b151"
    assert len(field_digests(PARAMS)) == 6 * len(FIELDS)
    # resources in any order are one set of resources
    turned = {
        **PARAMS,
        "data": {**PARAMS["data"], "ressources": ["ind_Schl_3151", "ind_Schl_3152"]},
    }
    assert field_digests(turned) == field_digests(PARAMS)
    assert seen_digest(turned) == seen_digest(PARAMS)


@pytest.mark.parametrize("record", [_read(), _listed()], ids=["read calendar", "appointmentList"])
def test_the_documented_shapes_hold_what_was_written(record: Record) -> None:
    found = from_read(record) if record.elements.get("start_dt") else from_list(record)
    assert found.unseen == frozenset()
    assert differences(found, PARAMS) == []
    assert changed_fields(found, field_digests(PARAMS)) == []
    assert stamp_holds(found, field_digests(PARAMS), seen_digest(PARAMS)) is True
    assert seen_digest(PARAMS) in seen_digests(found)
    assert shown_field_digests(found) == field_digests(PARAMS)


@pytest.mark.parametrize(
    ("changes", "unseen"),
    [
        ({"users": None}, set()),  # user_ids shows the participants: no group
        ({"users": None, "user_ids": None}, {"participants"}),
        ({"art": None}, {"type"}),
        ({"ressourcesWithKeys": None}, {"resources"}),  # labels only, until the list is asked
        ({"assignedaddressids": None}, {"contacts"}),
        ({"assignedobjectids": None}, {"property"}),
        ({"modified": None}, {"modified"}),
    ],
)
def test_a_read_names_what_it_does_not_show_and_compares_the_rest(
    changes: dict[str, Any], unseen: set[str]
) -> None:
    found = from_read(_read(**changes))
    assert found.unseen == unseen
    assert changed_fields(found, field_digests(PARAMS)) == []
    assert differences(found, PARAMS) == []
    # a person's change to a field it does show is still seen
    moved = from_read(_read(**changes, start_dt="2027-03-01 11:00:00"))
    assert changed_fields(moved, field_digests(PARAMS)) == ["start"]
    assert differences(moved, PARAMS) == ["start"]
    assert stamp_holds(moved, field_digests(PARAMS), seen_digest(PARAMS)) is False


@pytest.mark.parametrize(
    ("art", "types", "text"),
    [
        ({"Besichtigung": "Besichtigung"}, {"Besichtigung"}, ""),
        ("Besichtigung", {"Besichtigung"}, "Besichtigung"),
        ({"Uebergabe": "Übergabe"}, {"Uebergabe", "Übergabe"}, ""),
        ("Übergabe", {"Übergabe"}, "Übergabe"),
        ([], set(), ""),
    ],
)
def test_the_type_in_each_form(art: Any, types: set[str], text: str) -> None:
    found = from_read(_read(art=art))
    assert found.types == types
    assert found.type_text == text


def test_a_type_read_as_another_text_is_a_change_until_the_form_is_known() -> None:
    found = from_read(_read(art="Beratungsgespräch"))
    assert changed_fields(found, field_digests(PARAMS)) == ["type"]
    # with the account's form applied (onoffice/form.py) the written key is among its types
    assert (
        changed_fields(replace(found, types=found.types | {"Besichtigung"}), field_digests(PARAMS))
        == []
    )


def test_every_field_is_told_apart() -> None:
    """Each field's change names that field and no other."""
    stamped = field_digests(PARAMS)
    edits = {
        "start": {"start_dt": "2027-03-01 10:15:00"},
        "end": {"end_dt": "2027-03-01 10:45:00"},
        "subject": {"description": "Besichtigung AC-1043"},
        "type": {"art": {"Notartermin": "Notartermin"}},
        "participants": {"users": [{"id": "18"}], "user_ids": [18]},
        "resources": {"ressourcesWithKeys": {"ind_Schl_3151": "Firmenfahrzeug"}},
        "contacts": {"assignedaddressids": [5432]},
        "property": {"assignedobjectids": [609]},
        "note": {"note": "Schlüssel bei Frau Krüger"},
        "cancelled": {"status": "canceled"},
    }
    assert sorted(edits) == sorted(FIELDS)
    for name, change in edits.items():
        assert changed_fields(from_read(_read(**change)), stamped) == [name], name


def test_group_members_listed_as_participants_cannot_be_told() -> None:
    """appointmentList with a group: `users` may hold its members (UNDOCUMENTED, §5.1)."""
    grouped = from_list(_listed(groups=[{"id": "3"}], users=[{"id": "17"}, {"id": "21"}]))
    assert grouped.users is None
    assert changed_fields(grouped, field_digests(PARAMS)) is None
    assert stamp_holds(grouped, field_digests(PARAMS), seen_digest(PARAMS)) is None
    without_groups = from_list(_listed(groups=None))  # no `groups` element: cannot tell either
    assert without_groups.users is None


def test_a_cancel_changes_only_the_cancelled_digest() -> None:
    stamped = field_digests(PARAMS)
    cancelled = with_field(stamped, "cancelled", True)
    size = len(stamped) // len(FIELDS)
    assert cancelled[:-size] == stamped[:-size]
    assert cancelled != stamped
    assert changed_fields(from_read(_read(status="canceled")), cancelled) == []
    assert with_field("", "cancelled", True) == ""


# --- golden: a known appointment read back ------------------------------------------------------
def test_golden_digest_of_a_known_appointment_read_back() -> None:
    """The digest a read of the documented shape gives (the stamp's ``v`` second part): a
    change here makes every appointment imported before look changed in onOffice."""
    assert seen_digest(PARAMS) == "301ec167cf65"
    assert seen_digests(from_read(_read())) == {"301ec167cf65"}
    # appointmentList's times have two readings (UTC, as written): one digest each
    listed = from_list(_listed())
    assert seen_digests(listed, as_listed=True) == {"301ec167cf65", "82f78133e1b0"}
    assert seen_digests(listed) == seen_digests(listed, as_listed=True)  # no group
    golden = "d75bc0545ee6e0ec0e111fbe86280ea9d371e63b5a5f8754b0b381f8b151"
    assert field_digests(PARAMS) == golden
    assert shown_field_digests(from_read(_read())) == golden
    # resources in the order a row names them, or any other: one digest
    turned = {
        **PARAMS,
        "data": {**PARAMS["data"], "ressources": ["ind_Schl_3151", "ind_Schl_3152"]},
    }
    assert seen_digest(turned) == "301ec167cf65"
    # a field a read does not show is "000000" in the stamp of what is left as it is
    assert shown_field_digests(from_read(_read(art=None)))[18:24] == "000000"


# --- reading, field by field ----------------------------------------------------------------------
def test_a_read_calendar_record_as_read() -> None:
    found = from_read(_read())
    assert found.id == 2712 and found.series == 2712
    assert found.starts == {"2027-03-01 10:00:00"} and found.ends == {"2027-03-01 10:30:00"}
    assert found.readings == (("2027-03-01 10:00:00", "2027-03-01 10:30:00"),)
    assert found.subject == "Besichtigung AC-1042"
    assert found.note == "Schlüssel beim Hausmeister"
    assert found.types == {"Besichtigung"} and found.type_key == "Besichtigung"
    assert found.users == {17} and found.participants == {17}
    assert found.resources == {"ind_Schl_3151", "ind_Schl_3152"}
    assert found.resource_names == {"Firmenfahrzeug", "Beamer"}
    assert found.addresses == {5431} and found.estates == {608}
    assert found.modified == "2027-02-01 09:00:00"
    assert not found.cancelled and not found.all_day
    assert found.via == "read calendar"
    occurrence = from_read(Record("2712@2027-03-08", "calendar", _read().elements))
    assert occurrence.id == "2712@2027-03-08" and occurrence.series == 2712
    # `abgesagt` where a server shows no `status`; `status` wins where it does
    assert from_read(_read(status=None, abgesagt="1")).cancelled
    assert not from_read(_read(status=None)).cancelled
    assert not from_read(_read(status="active", abgesagt="1")).cancelled
    assert from_read(_read(ganztags="1")).all_day
    # users left out, a group: who is explicit cannot be told
    grouped = from_read(_read(users=None, groups=[3], user_ids=[17, 18]))
    assert grouped.users is None and grouped.participants == {17, 18}
    assert from_read(_read(users=None, groups=[])).users == {17}
    assert from_read(_read(users=None, groups=None)).users is None
    labelled = from_read(_read(ressourcesWithKeys=None, ressources=[]))
    assert "resources" not in labelled.unseen  # no resources at all: nothing unseen
    assert from_read(_read(modified="")).modified is None
    assert from_read(_read(description=None, note=None)).subject == ""


def test_an_appointment_list_record_as_read() -> None:
    found = from_list(_listed())
    assert found.id == 2712 and found.series == 2712
    # UTC as the contract recommends (Berlin in March: +1 h), then as written
    assert found.readings == (
        ("2027-03-01 10:00:00", "2027-03-01 10:30:00"),
        ("2027-03-01 09:00:00", "2027-03-01 09:30:00"),
    )
    assert found.starts == {"2027-03-01 10:00:00", "2027-03-01 09:00:00"}
    assert found.subject == "Besichtigung AC-1042" and found.note == "Schlüssel beim Hausmeister"
    assert found.types == {"Besichtigung"} and found.type_key == "Besichtigung"
    assert found.users == {17} and found.participants == {17}
    assert found.resources == {"ind_Schl_3151", "ind_Schl_3152"}
    assert found.resource_names == {"Firmenfahrzeug", "Beamer"}
    assert found.addresses == {5431} and found.estates == {608}
    assert found.modified == "2027-02-01 09:00:00"
    assert found.via == "appointmentList" and not found.cancelled and not found.all_day
    assert from_list(_listed(modified="2027-02-01T10:00:00+01:00")).modified == (
        "2027-02-01 09:00:00"
    )
    assert from_list(_listed(modified="2027-02-01 10:00:00")).modified == "2027-02-01 10:00:00"
    assert from_list(_listed(modified="gestern")).modified is None
    assert from_list(_listed(modified=None)).modified is None
    local = {"start": "2027-03-01T10:00:00", "end": "2027-03-01T10:30:00", "allDay": True}
    naive = from_list(_listed(date=local))
    assert naive.readings == (("2027-03-01 10:00:00", "2027-03-01 10:30:00"),)
    assert naive.all_day
    assert from_list(_listed(date={"start": "bald"})).starts == frozenset()
    assert from_list(_listed(status={"value": "canceled"})).cancelled
    assert from_list(_listed(id=None)).id == 2712
    assert from_list(_listed(id="2712@2027-03-08")).series == 2712
    assert from_list(_listed(users=None)).users is None
    assert from_list(_listed(type={"label": "Besichtigung"})).type_key == ""
    assert from_list(_listed(type="Viewing")).type_text == "Viewing"


def test_what_a_payload_differs_in_is_named_as_on_the_form() -> None:
    found = from_read(_read())
    assert differences(found, PARAMS) == []
    assert differences(found, {**PARAMS, "relatedAddressIds": [5432]}) == ["contacts"]
    assert differences(found, {**PARAMS, "relatedEstateId": 609}) == ["property"]
    assert differences(found, {**PARAMS, "subscribers": {"users": [18]}}) == ["participants"]
    data = PARAMS["data"]
    assert differences(found, {**PARAMS, "data": {**data, "ressources": ["ind_Schl_3151"]}}) == [
        "resources"
    ]
    # resources named by their labels are the same resources
    by_label = {**PARAMS, "data": {**data, "ressources": ["Beamer", "Firmenfahrzeug"]}}
    assert differences(found, by_label) == []
    assert differences(found, {**PARAMS, "data": {**data, "art": ""}}) == []  # no type set
    assert differences(found, {**PARAMS, "data": {**data, "status": "canceled"}}) == ["cancelled"]
    noted = {**PARAMS, "data": {**data, "note": "anders"}}
    assert differences(found, noted) == []
    assert differences(found, noted, note=True) == ["note"]
    # participants where the read cannot tell explicit ones: those written must be among them
    grouped = from_list(_listed(groups=[{"id": "3"}], users=[{"id": "17"}, {"id": "21"}]))
    assert differences(grouped, PARAMS) == []
    assert differences(grouped, {**PARAMS, "subscribers": {"users": [18]}}) == ["participants"]
    # a field not shown is never named
    assert (
        differences(from_read(_read(assignedaddressids=None)), {**PARAMS, "relatedAddressIds": [1]})
        == []
    )
    assert resembles(found, PARAMS)
    assert not resembles(found, {**PARAMS, "data": {**data, "description": "anders"}})
    assert not resembles(found, {**PARAMS, "data": {**data, "start_dt": "2027-03-01 11:00:00"}})
    assert holds(found, PARAMS) and same_content(found, noted) and not holds(found, noted)


def test_text_is_compared_as_a_person_reads_it() -> None:
    assert text("  Zeile 1  \r\nZeile 2\t\rZeile 3 \n") == "Zeile 1\nZeile 2\nZeile 3"
    assert text("Mu\u0308ller") == "Müller"  # NFC
    assert text(None) == "" and text(0) == ""
    assert plain("Notiz\n\nonoffice-import ref 3f9a1c07d2e4b856") == "Notiz"
    assert cancels({"status": "canceled"}) and not cancels({"status": "active", "abgesagt": 1})
    assert cancels({"abgesagt": True}) and not cancels({})


def test_the_days_a_payload_touches() -> None:
    assert first_day(PARAMS) == date(2027, 3, 1)
    assert first_day({}) is None and first_day({"data": {"start_dt": "bald"}}) is None
    assert first_day({"data": {"start_dt": None}}) is None
    later = {"data": {"start_dt": "2027-03-05 23:00:00", "end_dt": "2027-03-06 01:00:00"}}
    assert days_of([later, PARAMS]) == (date(2027, 3, 1), date(2027, 3, 6))


def test_whose_appointments_a_read_must_see() -> None:
    assert Who.of(PARAMS) == Who(frozenset({17}))
    assert Who.of({"subscribers": {"groups": [3]}}) == Who(frozenset(), frozenset({3}))
    assert not Who.of({}) and Who.of(PARAMS) and Who(groups=frozenset({3}))
    both = Who.of_all([PARAMS, {"subscribers": {"users": [18], "groups": [3]}}])
    assert both == Who(frozenset({17, 18}), frozenset({3}))
    assert Who.of_all([]) == Who()


def test_the_read_calendar_action_for_a_period() -> None:
    action = calendar_read(date(2027, 3, 1), date(2027, 3, 2), note_contains="list 9c1e55aa")
    assert action.actionid.endswith(":read") and action.resourcetype == "calendar"
    assert action.parameters == {
        "datestart": "2027-03-01 00:00:00",
        "dateend": "2027-03-03 00:00:00",
        "allusers": True,
        "showcancelled": True,
        "filter": {"note": [{"op": "like", "val": "%list 9c1e55aa%"}]},
    }
    pattern = calendar_read(date(2027, 3, 1), date(2027, 3, 1), note_contains="%a %")
    assert pattern.parameters["filter"]["note"][0]["val"] == "%a %"
    assert "filter" not in calendar_read(date(2027, 3, 1), date(2027, 3, 1)).parameters


# --- reads against the sandbox -------------------------------------------------------------
def _viewing(
    day: date, minute: int = 0, users: tuple[int, ...] = (17,), groups: tuple[int, ...] = ()
) -> dict[str, Any]:
    start = datetime(day.year, day.month, day.day, 8) + timedelta(minutes=minute)
    return {
        "data": {
            "start_dt": start.strftime("%Y-%m-%d %H:%M:%S"),
            "end_dt": (start + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S"),
            "description": f"Termin {minute}",
            "note": "list 9c1e55aa" if minute % 2 else "",
        },
        "subscribers": {"users": list(users), **({"groups": list(groups)} if groups else {})},
    }


def _create(client: OnOfficeClient, payloads: list[dict[str, Any]]) -> list[int]:
    ids: list[int] = []
    for i in range(0, len(payloads), 50):
        actions = [Action("create", "calendar", p) for p in payloads[i : i + 50]]
        for outcome in client.send(actions):
            assert not isinstance(outcome, Exception), outcome
            ids.append(int(outcome.records[0].id))
    return ids


def test_a_period_read_splits_at_the_cap_until_each_part_fits() -> None:
    cap = contract.READ_PAGE_CAP
    days = [date(2027, 3, 1), date(2027, 3, 5)]  # apart: a read's `dateend` day is included
    with Sandbox() as sb, client_for(sb) as client:
        made = _create(client, [_viewing(d, m) for d in days for m in range(cap // 2 + 20)])
        period = read_period(client, days[0], days[1], margin=False)
        assert (len(period.appointments), period.complete, period.reads) == (len(made), True, 3)
        assert {a.series for a in period.appointments} == set(made)
        # a day of margin either side: the day before is read too
        (before,) = _create(client, [_viewing(days[0] - timedelta(days=1))])
        padded = read_period(client, days[0], days[1])
        assert (len(padded.appointments), padded.complete, padded.reads) == (len(made) + 1, True, 3)
        assert before not in {
            a.series for a in read_period(client, *days, margin=False).appointments
        }
        # the list's stamp as a filter: half of them
        noted = read_period(client, days[0], days[1], note_like="%list 9c1e55aa%", margin=False)
        assert (len(noted.appointments), noted.complete, noted.reads) == (len(made) // 2, True, 1)
        # one day that fills the cap cannot be split: not everything was seen
        _create(client, [_viewing(days[0], 600 + m) for m in range(cap // 2)])
        full = read_period(client, days[0], days[0], margin=False)
        assert (len(full.appointments), full.complete, full.reads) == (cap, False, 1)


def test_without_read_calendar_a_period_is_read_through_the_list_for_whom_it_concerns() -> None:
    day = date(2027, 3, 1)
    dialect = Dialect.parse("calendar_read=removed,list_scope=own,list_cancelled=hidden")
    with Sandbox(dialect=dialect) as sb, client_for(sb) as client:
        mine, theirs, cancelled = _create(
            client, [_viewing(day, 0, (21,)), _viewing(day, 2, (), (3,)), _viewing(day, 4, (21,))]
        )
        client.modify_appointment(cancelled, {"data": {"status": "canceled"}})
        period = read_period(client, day, day, Who(frozenset({21})))
        assert "read calendar" in client.unsupported
        assert {a.series for a in period.appointments} == {mine, cancelled}
        assert all(a.via == "appointmentList" for a in period.appointments)
        assert period.complete and period.reads == 1
        both = read_period(client, day, day, Who(frozenset({21}), frozenset({3})))
        assert {a.series for a in both.appointments} == {mine, theirs, cancelled}
        # nobody named: the list's scope is not surely everyone's
        nobody = read_period(client, day, day)
        assert not nobody.complete


def test_appointments_read_by_id_fifty_to_a_request() -> None:
    day = date(2027, 3, 1)
    with Sandbox() as sb, client_for(sb) as client:
        made = _create(client, [_viewing(day, m) for m in range(60)])
        client.delete_appointment(made[0])
        posts = sb.stats.posts
        found = read_ids(client, made)
        assert sb.stats.posts - posts == 2
        assert found[made[0]] is None
        assert [found[n].series for n in made[1:]] == made[1:]  # type: ignore[union-attr]
        assert read_ids(client, []) == {}
        assert read_one(client, made[0], day) is None
        one = read_one(client, made[1], None)
        assert one is not None and one.series == made[1]
        assert find_appointment(client, made[0], [_viewing(day)]) is None
    with Sandbox(dialect=Dialect.parse("calendar_read=removed")) as sb, client_for(sb) as client:
        with pytest.raises(ActionRefused):
            read_ids(client, _create(client, [_viewing(day)]))
        assert "read calendar" in client.unsupported


def test_without_read_calendar_an_appointment_is_looked_for_on_its_days() -> None:
    """Found where it was written; not there where every appointment could be seen: gone for
    read_one, but cannot be told for the import (a person may have moved it)."""
    days = [date(2027, 3, 1), date(2027, 3, 8)]
    with Sandbox(dialect=Dialect.parse("calendar_read=removed")) as sb, client_for(sb) as client:
        (made,) = _create(client, [_viewing(days[1])])
        found = read_one(client, made, days[1], Who(frozenset({17})))
        assert found is not None and found.series == made
        assert "read calendar" in client.unsupported
        assert read_one(client, made, days[0], Who(frozenset({17}))) is None
        with pytest.raises(OutcomeUnknown):
            read_one(client, made, None)
        later = find_appointment(client, made, [_viewing(days[1]), _viewing(days[0])])
        assert later is not None and later.series == made
        with pytest.raises(OutcomeUnknown):
            find_appointment(client, made, [_viewing(days[0])])
        with pytest.raises(OutcomeUnknown):
            find_appointment(client, made, [])
    own = Dialect.parse("calendar_read=removed,list_scope=own")
    with Sandbox(dialect=own) as sb, client_for(sb) as client:
        (made,) = _create(client, [_viewing(days[1])])
        with pytest.raises(OutcomeUnknown):  # nobody named: not everyone's seen
            read_one(client, made, days[0])


def test_what_changed_in_a_window_is_read_by_its_modified_time() -> None:
    cap = contract.READ_PAGE_CAP
    with Sandbox() as sb, client_for(sb) as client:
        made = _create(client, [_viewing(date(2027, 3, 1), m) for m in range(3)])
        stored = [sb.store.appointment(n) for n in made]
        for record, when in zip(
            stored,
            ["2027-02-01 09:00:00", "2027-02-01 09:00:30", "2027-02-02 09:00:00"],
            strict=True,
        ):
            assert record is not None
            sb.store.update_appointment(record, when)
        window = read_modified(client, datetime(2027, 2, 1, 9), datetime(2027, 2, 1, 10))
        assert {a.series for a in window.appointments} == set(made[:2])
        assert window.complete and window.reads == 1
        base = sb.store.appointment(made[0])
        assert base is not None
        for i in range(cap + 10):  # more than the cap in two seconds, in the later half
            sb.store.insert_appointment(base, f"2027-02-03 09:45:0{i % 2}")
        for _ in range(300):  # in the earlier half: read after the later one is split
            sb.store.insert_appointment(base, "2027-02-03 09:10:00")
        crowded = read_modified(client, datetime(2027, 2, 3, 9), datetime(2027, 2, 3, 10))
        # split to windows of a second: every one read, the crowded second said incomplete
        assert (len(crowded.appointments), crowded.complete, crowded.reads) == (810, False, 25)
        # cancelled ones too
        client.modify_appointment(made[2], {"data": {"status": "canceled"}})
        record = sb.store.appointment(made[2])
        assert record is not None
        sb.store.update_appointment(record, "2027-02-04 09:00:00")
        late = read_modified(client, datetime(2027, 2, 4, 9), datetime(2027, 2, 4, 10))
        assert [a.series for a in late.appointments] == [made[2]]
        assert late.appointments[0].cancelled


def test_ids_are_matched_to_their_answers_whatever_their_order() -> None:
    day = date(2027, 3, 1)
    with Sandbox(dialect=Dialect.parse("result_order=reversed")) as sb, client_for(sb) as client:
        made = _create(client, [_viewing(day, m) for m in range(3)])
        client.delete_appointment(made[1])
        found = read_ids(client, made)
    assert found[made[1]] is None
    assert [found[n].series for n in (made[0], made[2])] == [made[0], made[2]]  # type: ignore[union-attr]


# --- each element read, and what is compared, one by one ---------------------------------
def test_the_type_as_appointmentlist_shows_it() -> None:
    both = from_list(_listed(type={"value": "Uebergabe", "label": "Übergabe"}))
    assert (both.types, both.type_key, both.type_text) == (
        {"Uebergabe", "Übergabe"},
        "Uebergabe",
        "",
    )
    value = from_list(_listed(type={"value": "Uebergabe"}))
    assert (value.types, value.type_key) == ({"Uebergabe"}, "Uebergabe")
    label = from_list(_listed(type={"label": "Übergabe"}))
    assert (label.types, label.type_key) == ({"Übergabe"}, "")
    text = from_read(_read(art="Übergabe"))
    assert (text.types, text.type_key, text.type_text) == ({"Übergabe"}, "", "Übergabe")
    empty = from_read(_read(art=""))
    assert (empty.types, empty.type_key, empty.type_text) == (frozenset(), "", "")
    assert from_read(_read(art={})).type_key == ""


def test_what_each_read_leaves_out_is_named() -> None:
    assert from_read(_read(user_ids=None)).unseen == frozenset()  # `users` shows them
    assert from_read(_read(art=None, ressourcesWithKeys=None)).unseen == {"type", "resources"}
    for element, name in [
        ("type", "type"),
        ("users", "participants"),
        ("resources", "resources"),
        ("contacts", "contacts"),
        ("estate", "property"),
        ("modified", "modified"),
    ]:
        assert from_list(_listed(**{element: None})).unseen == {name}, element


def test_participants_explicit_and_through_groups() -> None:
    # read calendar: `users` are the explicit ones, `user_ids` every participant
    grouped = from_read(_read(users=[{"id": "17"}], user_ids=[17, 18], groups=[3]))
    assert grouped.users == {17} and grouped.participants == {17, 18}
    assert from_read(_read(users=[{"id": "18"}], user_ids=[17])).participants == {17, 18}
    assert shown_field_digests(grouped)[24:30] == field_digests(PARAMS)[24:30]
    assert differences(grouped, PARAMS) == []
    assert differences(from_read(_read()), {**PARAMS, "subscribers": {}}) == ["participants"]
    # appointmentList with a group listing exactly the written participants
    listed = from_list(_listed(groups=[{"id": "3"}], users=[{"id": "17"}]))
    assert differences(listed, PARAMS) == []
    assert seen_digests(listed) == frozenset()  # cannot tell without the listed ones
    assert seen_digest(PARAMS) in seen_digests(listed, as_listed=True)
    assert shown_field_digests(listed) == field_digests(PARAMS)
    # a stamp before field digests: proven by the listed participants where they match
    assert stamp_holds(listed, "", seen_digest(PARAMS)) is True
    members = from_list(_listed(groups=[{"id": "3"}], users=[{"id": "17"}, {"id": "18"}]))
    assert stamp_holds(members, "", seen_digest(PARAMS)) is None
    # and by the whole digest where every field shows
    found = from_read(_read())
    assert stamp_holds(found, "", seen_digest(PARAMS)) is True
    assert stamp_holds(found, "", "000000000000") is False


def test_missing_elements_read_as_empty() -> None:
    bare = from_read(Record(None, "calendar", {}))
    assert bare.id == "" and bare.starts == {""} and bare.ends == {""}
    assert bare.note == "" and bare.subject == ""
    listed = from_list(Record(None, "calendar", {}))
    assert listed.id == "" and listed.subject == "" and listed.note == ""
    assert from_list(Record(2712, "calendar", {"id": "2713"})).id == 2713  # the element's id
    assert from_list(Record(2712, "calendar", {})).id == 2712
    assert from_list(Record(2712, "calendar", {"id": ""})).id == 2712
    assert from_read(_read(ressources=["", "Beamer"])).resource_names == {"Beamer"}
    odd = from_list(_listed(resources=[{"id": "ind_Schl_3151"}, {"name": "Beamer"}, "Beamer"]))
    assert (odd.resources, odd.resource_names) == ({"ind_Schl_3151"}, {"Beamer"})
    # times read one way for the start, two for the end: one reading
    uneven = {"start": "2027-03-01T10:00:00", "end": "2027-03-01T09:30:00+00:00"}
    assert from_list(_listed(date=uneven)).readings == (
        ("2027-03-01 10:00:00", "2027-03-01 10:30:00"),
    )


def test_modified_is_utc_whatever_this_computers_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        assert from_list(_listed(modified="2027-02-01T10:00:00+01:00")).modified == (
            "2027-02-01 09:00:00"
        )
    finally:
        monkeypatch.undo()
        time.tzset()


def test_each_field_is_named_as_on_the_form() -> None:
    found = from_read(_read(ressources=[]))  # keys only
    data = PARAMS["data"]
    for change, name in [
        ({"end_dt": "2027-03-01 11:00:00"}, "end"),
        ({"description": "anders"}, "subject"),
        ({"art": "Notartermin"}, "type"),
    ]:
        assert differences(found, {**PARAMS, "data": {**data, **change}}) == [name]
    assert differences(found, PARAMS) == []
    no_text = from_read(_read(description=None, note=None, ressources=[]))
    bare = {**PARAMS, "data": {k: v for k, v in data.items() if k not in ("description", "note")}}
    assert differences(no_text, bare, note=True) == []
    assert resembles(no_text, bare)
    assert not resembles(found, {}) and differences(found, {})  # no data: nothing holds
    # a field a read does not show, and those after it, still compared
    assert changed_fields(from_read(_read(art=None, status="canceled")), field_digests(PARAMS)) == [
        "cancelled"
    ]


def test_what_a_modify_leaves_is_digested_as_read() -> None:
    """A modify that sets no type leaves the appointment's: the digest takes it from the
    appointment written over."""
    untyped = {**PARAMS, "data": {k: v for k, v in PARAMS["data"].items() if k != "art"}}
    before = from_read(_read())
    assert seen_digest(untyped, before) == seen_digest(PARAMS)
    assert field_digests(untyped, before) == field_digests(PARAMS)
    assert seen_digest(untyped) != seen_digest(PARAMS)
    assert seen_digest(untyped, from_read(_read(art=[]))) == seen_digest(untyped)
    # a read without a type is what a payload without one wrote
    assert seen_digest(untyped) in seen_digests(from_read(_read(art=[])))
    # a payload without a note is what a read of an empty note shows
    noteless = {**PARAMS, "data": {k: v for k, v in PARAMS["data"].items() if k != "note"}}
    assert field_digests(noteless) == shown_field_digests(from_read(_read(note="")))
    timeless = {"data": {}}
    assert (
        field_digests(timeless)[:12]
        == shown_field_digests(from_read(Record(1, "calendar", {"start_dt": "", "end_dt": ""})))[
            :12
        ]
    )
    empty = {"data": {"start_dt": "", "end_dt": "", "note": ""}}
    assert field_digests(empty) == field_digests({"data": {}})
    assert seen_digest(empty) == seen_digest({"data": {}})


def test_one_fields_digest_is_replaced_in_place() -> None:
    stamped = field_digests(PARAMS)
    moved = with_field(stamped, "start", "2027-03-01 11:00:00")
    assert len(moved) == len(stamped)
    assert moved[6:] == stamped[6:] and moved[:6] != stamped[:6]
    typed = with_field(stamped, "type", "Notartermin")
    assert typed[:18] == stamped[:18] and typed[24:] == stamped[24:]


def test_the_action_of_a_read_names_itself_when_asked() -> None:
    assert calendar_read(date(2027, 3, 1), date(2027, 3, 1)).identifier == ""
    assert calendar_read(date(2027, 3, 1), date(2027, 3, 1), identifier="x").identifier == "x"


def test_what_cannot_be_found_is_said_with_its_id() -> None:
    day = date(2027, 3, 1)
    with Sandbox(dialect=Dialect.parse("calendar_read=removed")) as sb, client_for(sb) as client:
        (made,) = _create(client, [_viewing(day)])
        with pytest.raises(OutcomeUnknown) as none:
            find_appointment(client, made, [_viewing(day + timedelta(days=5))])
        with pytest.raises(OutcomeUnknown) as no_day:
            read_one(client, made, None)
        assert sb.stats.actions["read calendar"] == 1  # asked once, then known missing
    assert str(none.value) == f"appointment {made} is on none of the days it was written for"
    assert str(no_day.value) == f"appointment {made}: no day to look for it on"
    own = Dialect.parse("calendar_read=removed,list_scope=own")
    with Sandbox(dialect=own) as sb, client_for(sb) as client:
        (made,) = _create(client, [_viewing(day)])
        with pytest.raises(OutcomeUnknown) as unseen:
            read_one(client, made, day + timedelta(days=5))
    assert str(unseen.value) == f"appointment {made}: cannot tell whether it still exists"


def test_without_read_calendar_the_list_is_read_with_the_note_filter_and_its_cap() -> None:
    day = date(2027, 3, 1)
    cap = contract.READ_PAGE_CAP
    with Sandbox(dialect=Dialect.parse("calendar_read=removed")) as sb, client_for(sb) as client:
        made = _create(client, [_viewing(day, m) for m in range(4)])
        noted = read_period(client, day, day, Who(frozenset({17})), note_like="list 9c1e55aa")
        assert {a.series for a in noted.appointments} == {made[1], made[3]}
        again = read_period(client, day, day, Who(frozenset({17})))
        assert len(again.appointments) == 4
        assert sb.stats.actions["read calendar"] == 1
        _create(client, [_viewing(day, 10 + m) for m in range(cap - 4)])
        full = read_period(client, day, day, Who(frozenset({17})), margin=False)
        assert (len(full.appointments), full.complete, full.reads) == (cap, False, 1)


def _bulk(sb: Sandbox, model: int, days: list[date], each: int) -> None:
    """``each`` copies of appointment ``model`` on every day of ``days`` (straight into the
    store: quicker than creating them)."""
    record = sb.store.appointment(model)
    assert record is not None
    for day in days:
        for m in range(each):
            start = datetime(day.year, day.month, day.day, 8) + timedelta(minutes=m)
            sb.store.insert_appointment(
                {
                    **record,
                    "start_dt": start.strftime("%Y-%m-%d %H:%M:%S"),
                    "end_dt": (start + timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S"),
                },
                record["modified"],
            )


def test_a_split_period_reads_every_part() -> None:
    """Seven full days (200 each) on a server whose `dateend` is exclusive: split twice over,
    every appointment is read, each day once."""
    first = date(2027, 3, 1)
    days = [first + timedelta(days=n) for n in range(7)]
    with Sandbox(dialect=Dialect.parse("dateend=exclusive")) as sb, client_for(sb) as client:
        (model,) = _create(client, [_viewing(first - timedelta(days=30))])
        _bulk(sb, model, days, 200)
        period = read_period(client, days[0], days[-1], margin=False)
        assert (len(period.appointments), period.complete, period.reads) == (1400, True, 7)
        _bulk(sb, model, [first - timedelta(days=1), first - timedelta(days=2)], 1)
        padded = read_period(client, days[0], days[0])
        # a day of margin either side: the day before and after, not two before
        assert len(padded.appointments) == 1 + 200 + 200


@pytest.mark.parametrize(
    ("members", "explicit", "named"),
    [
        # a group of 3 (17 among them): every choice of members is tried
        ({17, 18, 19}, {17}, []),
        ({17, 18, 19}, {17, 21}, []),
        ({18, 19, 20}, {17}, []),
        # a group of 12: none or one member among the explicit ones is tried, no more
        (set(range(17, 29)), {17}, []),
        (set(range(17, 29)), {40, 17}, []),
    ],
)
def test_the_explicit_participants_are_told_from_the_groups_listed_members(
    members: set[int], explicit: set[int], named: list[str]
) -> None:
    """A read lists the group's members among the participants (§5.1; `users` None): with the
    members the account lists (`get groups`) the stamp's explicit ones are told from them, and
    a participant a person added who is no member is a change (issue 30)."""
    params = {**PARAMS, "subscribers": {"users": sorted(explicit), "groups": [3]}}
    digests = field_digests(params)
    listed = from_read(_read(users=None, groups=[3], user_ids=sorted(explicit | members)))
    assert listed.users is None and listed.groups == {3}
    assert changed_fields(listed, digests) is None  # the members not known: cannot tell
    known = replace(listed, members=frozenset(members))
    assert changed_fields(known, digests) == named
    added = replace(known, participants=known.participants | {99})
    assert changed_fields(added, digests) == (["participants"] if len(members) <= 8 else None)
    assert known.beyond_groups == frozenset(explicit - members)


def test_more_than_one_member_of_a_large_group_among_the_explicit_cannot_be_told() -> None:
    members = set(range(17, 29))
    params = {**PARAMS, "subscribers": {"users": [17, 18], "groups": [3]}}
    listed = from_read(_read(users=None, groups=[3], user_ids=sorted(members)))
    known = replace(listed, members=frozenset(members))
    assert changed_fields(known, field_digests(params)) is None
