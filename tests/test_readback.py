"""Reading appointments back (importer/onoffice/readback.py) in whichever shape a server answers,
and comparing them with what the import wrote, field by field (issue 30).

Records here are written as the documentation shows them (§5.1, §5.2) and as the plausible
alternatives the sandbox's dialects switch to; the digests are golden values (a change to
them makes every appointment imported before look changed in onOffice)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from importer.onoffice.client import Record
from importer.onoffice.readback import (
    FIELDS,
    changed_fields,
    differences,
    field_digests,
    from_list,
    from_read,
    seen_digest,
    seen_digests,
    shown_field_digests,
    stamp_holds,
    with_field,
)

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
    for name, value in changes.items():
        if value is None:
            del elements[name]
        else:
            elements[name] = value
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
    for name, value in changes.items():
        if value is None:
            del elements[name]
        else:
            elements[name] = value
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
