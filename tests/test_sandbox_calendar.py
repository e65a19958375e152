"""calendar create/read/modify/delete in the sandbox: every rule accepted and refused."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from importer.core.errors import ActionRefused
from importer.onoffice.client import Action, OnOfficeClient
from importer.sandbox import Sandbox

from .create_cases import ACCEPTED, REFUSED, params

pytestmark = pytest.mark.documented  # pins the default answer shapes


@pytest.mark.parametrize("parameters", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_create_accepts(client: OnOfficeClient, parameters: dict[str, Any]) -> None:
    assert isinstance(client.create_appointment(parameters), int)


@pytest.mark.parametrize(("parameters", "code"), REFUSED.values(), ids=REFUSED.keys())
def test_create_refuses(
    sandbox: Sandbox, client: OnOfficeClient, parameters: dict[str, Any], code: int
) -> None:
    with pytest.raises(ActionRefused) as caught:
        client.create_appointment(parameters)
    assert caught.value.errorcode == code
    assert sandbox.store.count_appointments() == 0


def test_status_overrides_abgesagt(client: OnOfficeClient) -> None:
    both = client.create_appointment(params({"abgesagt": True, "status": "completed"}))
    only_flag = client.create_appointment(params({"abgesagt": True}))
    assert client.read_appointment(both)["status"] == "completed"  # type: ignore[index]
    assert client.read_appointment(only_flag)["status"] == "canceled"  # type: ignore[index]


def test_unlinked_location_falls_back_to_sonstiges(client: OnOfficeClient) -> None:
    new_id = client.create_appointment(params(location={"estate": 608}))
    record = client.read_appointment(new_id)
    assert record is not None and "location" not in record  # read gives the text only (§5.2)
    assert record["ort"] == "Theaterstraße 12, 52062 Aachen"
    day = params()["data"]["start_dt"][:10]
    listed = client.call(
        Action("get", "appointmentList", {"filter": {"startDate": day, "endDate": day}})
    ).records
    location = next(r.elements["location"] for r in listed if str(r.id) == str(new_id))
    assert location == {"type": "sonstiges", "value": "Theaterstraße 12, 52062 Aachen"}


def test_read_by_id_has_documented_fields_and_types(client: OnOfficeClient) -> None:
    new_id = client.create_appointment(
        params(
            {"art": "Besichtigung", "erinnerung": "1 hours", "ressources": ["ind_Schl_3151"]},
            relatedAddressIds=[5431],
            relatedEstateId=608,
            subscribers={"users": [17]},
        )
    )
    record = client.read_appointment(new_id)
    assert record is not None
    assert record["art"] == {"Besichtigung": "Besichtigung"}
    assert record["fuer"] == ["Müller, Maria (mmueller)"]
    assert record["users"][0]["id"] == "17"
    assert record["private"] == "0"
    assert record["ressourcesWithKeys"] == {"ind_Schl_3151": "Firmenfahrzeug"}
    assert record["assignedaddressids"] == [5431]
    assert record["assignedobjectids"] == [608]
    assert record["von"] == "api"
    assert record["rp_beginn_datum"] == "0000-00-00"


def test_read_by_period_visibility_filters_and_cancelled(client: OnOfficeClient) -> None:
    maria = client.create_appointment(params({"description": "A"}, subscribers={"users": [17]}))
    group = client.create_appointment(params({"description": "B"}, subscribers={"groups": [4]}))
    nobody = client.create_appointment(params({"description": "C"}))
    cancelled = client.create_appointment(params({"description": "D", "abgesagt": True}))
    other_day = client.create_appointment(
        params({"start_dt": "2026-08-03 10:00:00", "end_dt": "2026-08-03 11:00:00"})
    )

    def ids(**kw: Any) -> list[int]:
        return [r.id for r in client.read_appointments("2026-08-01", "2026-08-01", **kw)]

    assert ids() == [maria, group, nobody]
    assert ids(showcancelled=True) == [maria, group, nobody, cancelled]
    assert ids(allusers=False, users=[17]) == [maria]
    assert ids(allusers=False, users=[21]) == [group]  # member of group 4
    assert ids(allusers=False, groups=[4]) == [group]
    assert ids(allusers=False) == []  # the API user takes part in none of them
    assert ids(filter={"description": [{"op": "like", "val": "b%"}]}) == [group]
    assert other_day not in ids()
    period = client.read_appointments("2026-07-01", "2026-08-31")
    assert other_day in [r.id for r in period]


def test_read_needs_a_period_and_filters_need_one(client: OnOfficeClient) -> None:
    with pytest.raises(ActionRefused) as caught:
        client.call(Action("read", "calendar", {}))
    assert caught.value.errorcode == 289
    with pytest.raises(ActionRefused) as caught:
        client.call(
            Action(
                "read",
                "calendar",
                {
                    "modifiedstart": "2020-01-01 00:00:00",
                    "modifiedend": "2099-01-01 00:00:00",
                    "filter": {"art": [{"op": "=", "val": "x"}]},
                },
            )
        )
    assert caught.value.errorcode == 241


def test_read_by_modified_range_in_utc(client: OnOfficeClient) -> None:
    new_id = client.create_appointment(params())
    found = client.call(
        Action(
            "read",
            "calendar",
            {
                "modifiedstart": "2000-01-01 00:00:00",
                "modifiedend": "2099-01-01 00:00:00",
                "allusers": True,
            },
        )
    )
    assert [r.id for r in found.records] == [new_id]
    # §5.2: either bound alone is a read by last edit too
    for alone in ({"modifiedstart": "2000-01-01 00:00:00"}, {"modifiedend": "2099-01-01 00:00:00"}):
        only = client.call(Action("read", "calendar", {**alone, "allusers": True}))
        assert [r.id for r in only.records] == [new_id]
    later = client.call(
        Action("read", "calendar", {"modifiedstart": "2099-01-01 00:00:00", "allusers": True})
    )
    assert later.records == []


def test_appointment_list_iso_dates_and_filters(client: OnOfficeClient) -> None:
    summer = client.create_appointment(
        params({"description": "Sommer"}, subscribers={"users": [17]})
    )
    winter = client.create_appointment(
        params({"start_dt": "2026-12-01 09:00:00", "end_dt": "2026-12-01 10:00:00"})
    )
    result = client.call(
        Action(
            "get",
            "appointmentList",
            {"filter": {"startDate": "2026-08-01", "endDate": "2026-08-31", "userIds": ["17"]}},
        )
    )
    (record,) = result.records
    assert record.id == summer
    # UTC with +00:00, as the documented example shows (dialect list_times=utc)
    assert record.elements["date"]["start"] == "2026-08-01T15:45:00+00:00"
    assert record.elements["users"][0]["userName"] == "mmueller"
    winter_list = client.call(
        Action(
            "get",
            "appointmentList",
            {"filter": {"startDate": "2026-12-01", "endDate": "2026-12-01"}},
        )
    )
    assert winter_list.records[0].elements["date"]["start"] == "2026-12-01T08:00:00+00:00"
    assert winter_list.records[0].id == winter
    with pytest.raises(ActionRefused) as caught:
        client.call(Action("get", "appointmentList", {"filter": {"startDate": "2026-08-01"}}))
    assert caught.value.errorcode == 289


def test_modify_adds_addresses_replaces_on_request_and_unlinks_estate(
    client: OnOfficeClient,
) -> None:
    new_id = client.create_appointment(params(relatedAddressIds=[5431], relatedEstateId=608))
    client.modify_appointment(new_id, {"relatedAddressIds": [5432], "data": {"note": "neu"}})
    record = client.read_appointment(new_id)
    assert record["assignedaddressids"] == [5431, 5432]  # type: ignore[index]
    assert record["note"] == "neu"  # type: ignore[index]
    client.modify_appointment(
        new_id, {"relatedAddressIds": [5433], "replaceAddressIds": True, "relatedEstateId": 0}
    )
    record = client.read_appointment(new_id)
    assert record["assignedaddressids"] == [5433]  # type: ignore[index]
    assert record["assignedobjectids"] == []  # type: ignore[index]
    client.modify_appointment(new_id, {"data": {"status": "canceled"}})
    assert client.read_appointment(new_id)["status"] == "canceled"  # type: ignore[index]
    with pytest.raises(ActionRefused) as caught:
        client.modify_appointment(new_id, {"data": {"end_dt": "2026-08-01 08:00:00"}})
    assert caught.value.errorcode == 93
    with pytest.raises(ActionRefused) as caught:
        client.modify_appointment(999_999, {"data": {"note": "x"}})
    assert caught.value.errorcode == 169


def test_delete_by_id_under_both_resource_types(client: OnOfficeClient) -> None:
    first = client.create_appointment(params())
    second = client.create_appointment(params())
    client.delete_appointment(first)
    client.call(Action("delete", "appointments", {}, resourceid=str(second)))
    assert client.read_appointment(first) is None
    assert client.read_appointment(second) is None
    with pytest.raises(ActionRefused) as caught:
        client.delete_appointment(first)
    assert caught.value.errorcode == 169


def test_appointment_conflicts_name_double_booked_users_resources_contacts_estates(
    client: OnOfficeClient,
) -> None:
    client.create_appointment(
        params(
            {"ressources": ["ind_Schl_3151"]},
            subscribers={"users": [17]},
            relatedAddressIds=[5431],
            relatedEstateId=608,
        )
    )
    result = client.call(
        Action(
            "get",
            "appointmentConflicts",
            {
                "data": {
                    "start_dt": "2026-08-01 17:50:00",
                    "end_dt": "2026-08-01 18:30:00",
                    "ressources": ["ind_Schl_3151"],
                },
                "subscribers": {"users": [17, 18]},
                "relatedAddressIds": [5431],
                "relatedEstateId": 608,
            },
        )
    )
    found = {r.id: [e["id"] for e in r.elements] for r in result.records}
    assert found == {
        "conflictedUsers": [17],
        "conflictedResources": ["ind_Schl_3151"],
        "conflictedAddresses": [5431],
        "conflictedEstates": [608],
    }
    touching = client.call(
        Action(
            "get",
            "appointmentConflicts",
            {
                "data": {"start_dt": "2026-08-01 18:00:00", "end_dt": "2026-08-01 19:00:00"},
                "subscribers": {"users": [17]},
            },
        )
    )
    assert all(r.elements == [] for r in touching.records)


def test_two_hundred_concurrent_creates_get_two_hundred_distinct_ids(sandbox: Sandbox) -> None:
    def create(n: int) -> int:
        with OnOfficeClient(sandbox.url, sandbox.credentials) as c:
            return c.create_appointment(params({"description": f"#{n}"}), identifier=f"r{n}")

    with ThreadPoolExecutor(max_workers=16) as pool:
        ids = list(pool.map(create, range(200)))
    assert len(set(ids)) == 200
    assert sandbox.store.count_appointments() == 200
    descriptions = sorted(a["description"] for a in sandbox.store.all_appointments())
    assert descriptions == sorted(f"#{n}" for n in range(200))
