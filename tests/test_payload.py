"""The payload rules: one spelling per payload (its fingerprint), and what a modify sends."""

from __future__ import annotations

from pathlib import Path

from importer.rules.payload import canonical, fingerprint, modify_parameters
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
