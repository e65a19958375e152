"""Look-up reads in the sandbox through the client: filters, paging past 500, users, groups."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from importer.core.errors import ActionRefused
from importer.onoffice.client import Action, OnOfficeClient
from importer.sandbox import FixtureError, Sandbox, fixtures_from_dict, load_fixtures

pytestmark = pytest.mark.documented  # pins the default answer shapes


def test_estate_by_external_number_keeps_leading_zeros(client: OnOfficeClient) -> None:
    found = client.read_estates(
        filter={"objektnr_extern": [{"op": "=", "val": "0815"}]}, data=["Id", "objektnr_extern"]
    )
    assert [(r.id, r.elements) for r in found] == [(609, {"Id": "609", "objektnr_extern": "0815"})]
    # Both sides numeric compare as numbers (assumption §5.3, as MySQL may): "815" finds
    # "0815" too, which is why the importer's look-ups re-check exact equality themselves.
    loose = client.read_estates(
        filter={"objektnr_extern": [{"op": "=", "val": "815"}]}, data=["objektnr_extern"]
    )
    assert [r.elements["objektnr_extern"] for r in loose] == ["0815"]


def test_estate_filter_operators(client: OnOfficeClient) -> None:
    def ext(op: str, val: object) -> list[str]:
        found = client.read_estates(
            filter={"objektnr_extern": [{"op": op, "val": val}]}, data=["objektnr_extern"]
        )
        return sorted(r.elements["objektnr_extern"] for r in found)

    assert ext("IN", ["AC-1042", "K-2201"]) == ["AC-1042", "K-2201"]
    assert ext("like", "ac-104%") == ["AC-1042", "AC-1043"]
    assert ext("not like", "%-%") == ["00077", "0815"]
    assert ext("not in", ["0815", "00077", "AC-1042", "AC-1043", "AC-1050"]) == ["K-2201", "K-2305"]
    with pytest.raises(ActionRefused) as caught:
        ext("~", "x")
    assert caught.value.errorcode == 142
    with pytest.raises(ActionRefused) as caught:
        client.read_estates(filter={"nope": [{"op": "=", "val": 1}]}, data=["Id"])
    assert caught.value.errorcode == 75


def test_address_main_email_vs_any_email_vs_customer_number(client: OnOfficeClient) -> None:
    def ids(field: str, value: str) -> list[int]:
        return [
            r.id
            for r in client.read_addresses(
                filter={field: [{"op": "=", "val": value}]}, data=["KdNr"]
            )
        ]

    assert ids("Email", "sabine.krueger@example.de") == [5431]
    assert ids("Email", "s.krueger@firma.example") == []  # not her main address
    assert ids("email", "s.krueger@firma.example") == [5431]
    assert ids("KdNr", "0150") == [5435]
    assert ids("KdNr", "150") == [5435]  # both numeric: compared as numbers (assumption §5.3)
    assert ids("KdNr", "1207") == [5436, 5437]  # customer numbers need not be unique


@pytest.fixture
def big_sandbox() -> Iterator[Sandbox]:
    fixtures = load_fixtures()
    fixtures.addresses = [
        {
            "id": 10_000 + n,
            "KdNr": str(n),
            "Name": f"Kunde {n}",
            "Email": f"k{n}@example.de",
            "emails": [f"k{n}@example.de"],
            "Ort": "Aachen" if n % 3 else "Köln",
        }
        for n in range(1234)
    ]
    with Sandbox(fixtures) as sb:
        yield sb


def test_address_paging_past_the_500_cap(big_sandbox: Sandbox) -> None:
    with OnOfficeClient(big_sandbox.url, big_sandbox.credentials) as client:
        found = client.read_addresses(filter={"Ort": [{"op": "=", "val": "Aachen"}]}, data=["KdNr"])
        assert len(found) == 822
        assert len({r.id for r in found}) == 822
        assert client.requests_sent == 2
        one = client.call(Action("read", "address", {"listlimit": 9999, "data": ["KdNr"]}))
        assert len(one.records) == 500
        assert one.cntabsolute == 1234
        default = client.call(Action("read", "address", {"data": ["KdNr"]}))
        assert len(default.records) == 20


def test_users_groups_and_resources(client: OnOfficeClient) -> None:
    users = {r.elements["username"]: r for r in client.get_users()}
    assert users["mmueller"].id == 17
    assert users["mmueller"].type is None
    assert set(users["mmueller"].elements) == {
        "id",
        "username",
        "firstname",
        "lastname",
        "email",
        "meetingurl",
    }
    groups = {r.elements["name"]: r.id for r in client.get_groups()}
    assert groups["Büro Köln"] == 5
    office = client.call(Action("get", "groups", {"groupfilter": "officeGroups"})).records
    assert {r.elements["groupType"] for r in office} == {"GroupOffice"}
    members = client.call(Action("get", "users", {"userfilter": "byGroupId", "groupId": 4})).records
    assert sorted(r.elements["username"] for r in members) == ["lbecker", "tkoch"]
    resources = client.get_calendar_resources()
    assert resources[0].id == 1
    assert resources[0].type == ""
    assert resources[0].elements == {"ind_Schl_3151": "Firmenfahrzeug"}


def test_read_user_with_filter(client: OnOfficeClient) -> None:
    found = client.call(
        Action(
            "read",
            "user",
            {"data": ["Nr", "Name"], "filter": {"Nachname": [{"op": "=", "val": "Weber"}]}},
        )
    )
    assert [(r.id, r.elements) for r in found.records] == [(19, {"Nr": 19, "Name": "aweber"})]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "must be an object"),
        ({"users": [{"username": "x"}]}, "integer ids"),
        ({"estates": [{"id": 1}, {"id": 1}]}, "duplicate ids"),
        ({"resources": ["a"]}, "map keys to labels"),
        ({"people": []}, "unknown fixture keys"),
    ],
)
def test_fixtures_are_validated(raw: object, message: str) -> None:
    with pytest.raises(FixtureError, match=message):
        fixtures_from_dict(raw)
