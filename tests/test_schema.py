"""The Pandera schema and the sandbox agree on every calendar create rule they can both see."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from importer.rules import schema

from .create_cases import ACCEPTED, REFUSED

# Refusals only the server can know: referenced records and seeded lists (look-ups cover them).
SERVER_ONLY = {
    "unknown-art",
    "unknown-resource",
    "unknown-von",
    "unknown-address",
    "unknown-estate",
    "unknown-user",
    "unknown-group",
    "users-not-array",
    "groups-not-array",
    "location-two-keys",
    "location-id-not-integer",
    "unknown-data-field",
    "no-data",
}


def frame(parameters: dict[str, Any]) -> pd.DataFrame:
    """The flat fields a converted row would have, from create parameters."""
    fields: dict[str, Any] = dict(parameters.get("data", {}))
    for name in ("relatedAddressIds", "relatedEstateId", "reminderTypes", "location"):
        if name in parameters:
            fields[name] = parameters[name]
    for kind, ids in parameters.get("subscribers", {}).items():
        fields[f"subscribers.{kind}"] = ids
    for name, value in list(fields.items()):
        if name in ("ganztags", "private") and value in (0, 1, "0", "1"):
            fields[name] = bool(int(value))  # the mapping stage sends booleans
        if name == "relatedEstateId" and isinstance(value, str):
            fields[name] = int(value)
    return pd.DataFrame([fields], index=pd.Index([7], name="row"), dtype=object)


@pytest.mark.parametrize("parameters", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_schema_accepts_what_the_server_accepts(parameters: dict[str, Any]) -> None:
    assert schema.validate(frame(parameters), {}) == []


REFUSED_BY_BOTH = {k: v for k, v in REFUSED.items() if k not in SERVER_ONLY}


@pytest.mark.parametrize(
    ("parameters", "code"), REFUSED_BY_BOTH.values(), ids=REFUSED_BY_BOTH.keys()
)
def test_schema_refuses_what_the_server_refuses(parameters: dict[str, Any], code: int) -> None:
    problems = schema.validate(frame(parameters), {"start_dt": ("Beginn",)})
    assert problems, f"the server refuses this with {code}, the schema let it through"
    assert all(p.row == 7 and p.is_error for p in problems)


def test_one_pass_reports_every_problem_of_every_row_with_source_columns() -> None:
    rows = pd.DataFrame(
        [
            {
                "start_dt": "2027-01-01 10:00:00",
                "end_dt": "2027-01-01 09:00:00",
                "erinnerung": "10 minutes",
                "reminderTypes": ["fax"],
            },
            {
                "start_dt": "2027-02-30 10:00:00",
                "end_dt": "2027-03-01 09:00:00",
                "status": "done",
                "rp_flag": True,
            },
            {"start_dt": None, "end_dt": None, "description": "x" * 300},
        ],
        index=pd.Index([4, 5, 9], name="row"),
        dtype=object,
    )
    sources = {"start_dt": ("Datum", "Beginn"), "end_dt": ("Ende",), "erinnerung": ("Erinnerung",)}
    found = {(p.row, p.code): p for p in schema.validate(rows, sources)}
    assert set(found) == {
        (4, "end-before-start"),
        (4, "bad-reminder"),
        (4, "bad-reminder-type"),
        (5, "bad-start"),
        (5, "bad-status"),
        (5, "series-incomplete"),
        (9, "start-missing"),
        (9, "text-too-long"),
    }
    assert found[(4, "end-before-start")].columns == ("Datum", "Beginn", "Ende")
    assert found[(4, "bad-reminder")].columns == ("Erinnerung",)
    assert "300 characters; onOffice takes at most 255" in found[(9, "text-too-long")].message


def test_a_subject_of_255_characters_is_taken_and_one_of_256_is_not() -> None:
    """The limit itself: onOffice takes 255 characters (§4.1)."""
    rows = pd.DataFrame(
        [
            {"start_dt": "2027-03-01 10:00:00", "end_dt": "2027-03-01 11:00:00", "description": d}
            for d in ("x" * 255, "x" * 256)
        ],
        index=pd.Index([2, 3], name="row"),
        dtype=object,
    )
    found = {(p.row, p.code) for p in schema.validate(rows, {"description": ("Betreff",)})}
    assert found == {(3, "text-too-long")}
