"""The payload rules: one spelling per payload (its fingerprint), and what a modify sends."""

from __future__ import annotations

import hashlib
from pathlib import Path

from importer.core import contract
from importer.rules.payload import (
    canonical,
    fingerprint,
    kept_on_modify,
    modify_parameters,
    parameters,
)
from importer.run.submit import run_import
from importer.sandbox import Sandbox
from tests.files import write_csv
from tests.helpers import FAST, client_for

BASE = {"data": {"start_dt": "2027-03-01 10:00:00", "end_dt": "2027-03-01 11:00:00"}}


def test_the_order_of_ids_means_nothing_to_the_fingerprint() -> None:
    one = {**BASE, "relatedAddressIds": [5432, 5431], "subscribers": {"users": [18, 17]}}
    other = {**BASE, "relatedAddressIds": [5431, 5432], "subscribers": {"users": [17, 18]}}
    assert canonical(one) == canonical(other)
    assert fingerprint(one) == fingerprint(other)
    assert fingerprint({**one, "relatedAddressIds": [5431]}) != fingerprint(one)


def test_a_modify_replaces_the_contacts_and_empties_what_the_row_no_longer_sets() -> None:
    sent = modify_parameters({**BASE, "relatedAddressIds": [5433]})
    assert sent["replaceAddressIds"] is True  # without it, onOffice adds to the old contacts
    assert sent["relatedAddressIds"] == [5433]
    assert sent["relatedEstateId"] == 0 and sent["subscribers"] == {"users": [], "groups": []}


def test_a_changed_contact_replaces_the_old_one_in_onoffice(tmp_path: Path) -> None:
    """The row's contact changes: the appointment then has the new contact only."""
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "key: Nr\nstart: Start\nend: {minutes: 30}\nfields:\n  description: Betreff\n"
        "  relatedAddressIds: {column: Kontakt, lookup: address}\n",
        encoding="utf-8",
    )

    def put(contact: str) -> Path:
        return write_csv(
            tmp_path / "k.csv",
            f"Nr;Start;Betreff;Kontakt\nA1;01.03.2027 10:00;Besichtigung;{contact}\n",
        )

    with Sandbox() as sb, client_for(sb) as client:
        first = run_import(put("sabine.krueger@example.de"), mapping, client=client, options=FAST)
        again = run_import(put("ahmet.yilmaz@example.de"), mapping, client=client, options=FAST)
        assert (first.counts(), again.counts()) == ({"created": 1}, {"updated": 1})
        (record,) = sb.store.all_appointments()
        assert record["address_ids"] == [5432]


def test_parameters_send_only_what_is_set_in_the_apis_shape() -> None:
    """A create's parameters: the set data fields under `data`, the set top-level parameters
    beside it, the participants grouped by kind; nothing that is None."""
    fields = {
        "start_dt": "2027-03-01 10:00:00",
        "description": "Besichtigung",
        "note": None,
        "relatedAddressIds": [5432],
        "relatedEstateId": 17,
        "reminderTypes": ["email"],
        "location": "Büro",
        "subscribers.users": [18],
        "subscribers.groups": None,
        "unknown": "not an API field",
    }
    assert parameters(fields) == {
        "data": {"start_dt": "2027-03-01 10:00:00", "description": "Besichtigung"},
        "relatedAddressIds": [5432],
        "relatedEstateId": 17,
        "reminderTypes": ["email"],
        "location": "Büro",
        "subscribers": {"users": [18]},
    }
    assert parameters({"subscribers.groups": [3], "end_dt": "x"}) == {
        "data": {"end_dt": "x"},
        "subscribers": {"groups": [3]},
    }
    assert parameters({"start_dt": None, "relatedEstateId": None}) == {"data": {}}


def test_canonical_is_one_exact_spelling() -> None:
    """Sorted keys, no spaces, non-ASCII as itself, and the unordered lists (contacts, reminder
    types, participants, resources) sorted by their text: the fingerprint of every row already
    in a journal depends on this exact spelling."""
    params = {
        "relatedEstateId": 3,
        "data": {"ressources": [9, 10, 1], "description": "Übergabe", "end_dt": "e"},
        "reminderTypes": ["sms", "email"],
        "relatedAddressIds": [9, 10, 1],
        "subscribers": {"users": [9, 10, 1], "groups": [2, 1]},
    }
    assert canonical(params) == (  # by text: 10 before 9
        '{"data":{"description":"Übergabe","end_dt":"e","ressources":[1,10,9]},'
        '"relatedAddressIds":[1,10,9],"relatedEstateId":3,"reminderTypes":["email","sms"],'
        '"subscribers":{"groups":[1,2],"users":[1,10,9]}}'
    )
    assert params["relatedAddressIds"] == [9, 10, 1]  # the caller's payload is left as it was
    assert params["data"]["ressources"] == [9, 10, 1]
    assert canonical({"data": {"ressources": "R1"}}) == '{"data":{"ressources":"R1"}}'
    assert canonical({"data": {}}) == '{"data":{}}'
    assert canonical({"relatedEstateId": 3}) == '{"relatedEstateId":3}'  # no data: no resources


def test_the_fingerprint_is_the_first_half_of_the_canonical_sha256() -> None:
    """32 hex digits of SHA-256 over the canonical UTF-8 text (journals hold these ids)."""
    params = {"data": {"description": "Übergabe"}}
    digest = hashlib.sha256(canonical(params).encode("utf-8")).hexdigest()
    assert fingerprint(params) == digest[:32]


def test_a_modify_clears_every_field_the_row_no_longer_sets() -> None:
    """Every clearable field gets its empty value unless the row sets it; what the row sets,
    and its participants, are sent as they are; the estate is kept when the row names one."""
    new = {
        "data": {"description": "Neu", "start_dt": "s"},
        "relatedEstateId": 17,
        "location": "Büro",
        "subscribers": {"users": [18]},
    }
    sent = modify_parameters(new)
    assert sent == {
        "data": {
            "description": "Neu",
            "start_dt": "s",
            "note": "",
            "ressources": [],
            "private": False,
            "ganztags": False,
            "allowTransitTime": False,
            "abgesagt": False,
            "transitTime": "00:00:00",
            "transitTimePre": "00:00:00",
            "transitTimePost": "00:00:00",
            "rp_flag": False,
        },
        "relatedEstateId": 17,
        "location": "Büro",
        "relatedAddressIds": [],
        "replaceAddressIds": True,
        "subscribers": {"users": [18], "groups": []},
    }
    assert new["data"] == {"description": "Neu", "start_dt": "s"}  # the row's own left alone
    assert modify_parameters({"relatedAddressIds": None, "subscribers": None})["data"] == {
        **contract.CLEARED_VALUES
    }


def test_a_re_export_without_series_place_or_privacy_clears_them_and_names_what_stays() -> None:
    """Issue 32: a re-export that no longer sets the series, the place, the private mark or the
    reminder. The series ends (rp_flag false), the place becomes "keine Angaben", private goes
    false; the reminder (no documented empty value) is named as staying, never silently."""
    before = {
        "data": {
            "description": "Besichtigung",
            "rp_flag": True,
            "rp_type": "w",
            "private": True,
            "erinnerung": "15 minutes",
        },
        "location": {"sonstiges": "Theaterstraße 12"},
        "reminderTypes": ["popup"],
    }
    new = {"data": {"description": "Besichtigung"}}
    sent = modify_parameters(new)
    assert sent["data"]["rp_flag"] is False and sent["data"]["private"] is False
    assert sent["location"] == {"keine Angaben": ""}
    assert "erinnerung" not in sent["data"] and "reminderTypes" not in sent
    assert kept_on_modify(before, new) == ["erinnerung", "reminderTypes"]
    assert kept_on_modify(before, before) == [] and kept_on_modify(None, new) == []
    series = modify_parameters({"data": {"rp_flag": True}, "location": {"sonstiges": "Büro"}})
    assert series["data"]["rp_flag"] is True and series["location"] == {"sonstiges": "Büro"}
