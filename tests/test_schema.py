"""The Pandera schema and the sandbox agree on every calendar create rule they can both see."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from importer.core.problems import Level
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


START, END = "2027-03-01 10:00:00", "2027-03-01 11:00:00"

# (field, value, the codes of the row's problems): each check's edge, on both sides
CELLS: list[tuple[str, Any, set[str]]] = [
    ("description", "x" * 255, set()),
    ("description", "x" * 256, {"text-too-long"}),
    ("description", 5, {"not-text"}),
    ("note", "x" * (32_767 - 203), set()),  # room for the stamp (contract.REFERENCE_RESERVE)
    ("note", "x" * (32_767 - 202), {"text-too-long"}),
    ("ganztags", True, set()),
    ("ganztags", "ja", {"not-boolean"}),
    ("transitTime", "01:30:00", set()),
    ("transitTime", "01:60:00", {"bad-duration-format"}),
    ("transitTime", 90, {"bad-duration-format"}),
    ("status", "completed", set()),
    ("status", "done", {"bad-status"}),
    ("erinnerung", "15 minutes", set()),
    ("erinnerung", "10 minutes", {"bad-reminder"}),
    ("rp_type", "w", set()),
    ("rp_type", "x", {"bad-repeat"}),
    ("rp_ende_status", 2, set()),
    ("rp_ende_status", 3, {"bad-series-end-status"}),
    ("reminderTypes", [], set()),
    ("reminderTypes", ["email", "sms"], {"reminder-types-need-reminder"}),
    ("reminderTypes", ["email", "fax"], {"bad-reminder-type", "reminder-types-need-reminder"}),
    ("reminderTypes", "email", {"bad-reminder-type", "reminder-types-need-reminder"}),
    ("rp_tage", 1, set()),
    ("rp_tage", 999, set()),
    ("rp_tage", 0, {"bad-interval"}),
    ("rp_tage", 1000, {"bad-interval"}),
    ("rp_tage", True, {"bad-interval"}),
    ("rp_beginn_datum", "2027-03-01", set()),
    ("rp_beginn_datum", "2027-02-30", {"bad-series-date"}),
    ("rp_ende_datum", "01.03.2027", {"bad-series-date"}),
    ("rp_exception", "#2027-03-08#2027-03-15", set()),
    ("rp_exception", "#2027-03-08#2027-02-30", {"bad-exception"}),
    ("rp_exception", "2027-03-08", {"bad-exception"}),
    ("rp_exception", 3, {"bad-exception"}),
    ("relatedEstateId", 1, set()),
    ("relatedEstateId", 0, {"bad-id"}),
    ("relatedEstateId", True, {"bad-id"}),
    ("relatedEstateId", "17", {"bad-id"}),
    ("relatedAddressIds", [1, 2], set()),
    ("relatedAddressIds", list(range(1, 501)), set()),
    ("relatedAddressIds", list(range(1, 502)), {"too-many-ids"}),
    ("relatedAddressIds", [1, 0], {"bad-id-list"}),
    ("relatedAddressIds", 5, {"bad-id-list"}),
    ("subscribers.users", [17, "18"], {"bad-id-list"}),
    ("subscribers.groups", list(range(1, 502)), {"too-many-ids"}),
    ("ressources", ["Beamer", "Raum 2"], set()),
    ("ressources", ["Beamer", ""], {"bad-resources"}),
    ("ressources", ["Beamer", 2], {"bad-resources"}),
    ("ressources", "Beamer", {"bad-resources"}),
    ("location", {"estate": 17}, set()),
    ("location", {"office": 17}, {"bad-location"}),
    ("location", {"estate": 17, "address": 5}, {"bad-location"}),
    ("location", {}, {"bad-location"}),
    ("location", "Büro", {"bad-location"}),
    ("rp_flag", "yes", {"not-boolean"}),
    ("unknown", object(), set()),
]


@pytest.mark.parametrize(
    ("field", "value", "codes"), CELLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CELLS)]
)
def test_each_check_has_its_edge_where_the_contract_puts_it(
    field: str, value: Any, codes: set[str]
) -> None:
    """One cell beside a valid start and end: exactly the codes of the check it breaks."""
    row = pd.DataFrame(
        [{"start_dt": START, "end_dt": END, field: value}], index=pd.Index([3]), dtype=object
    )
    problems = schema.validate(row, {field: ("Spalte",)})
    assert {p.code for p in problems} == codes
    for p in problems:
        assert p.row == 3 and p.is_error
    narrow = [p for p in problems if p.code not in schema.WIDE_FIELDS]
    assert all((p.field, p.columns, p.value) == (field, ("Spalte",), value) for p in narrow)


def test_wide_checks_compare_at_their_edges_and_name_both_dates() -> None:
    """End equal to start is taken, a minute before is not; a series may end on its first day
    but not before it; the messages name both moments as the user writes them."""
    rows = pd.DataFrame(
        [
            {"start_dt": START, "end_dt": START},
            {"start_dt": START, "end_dt": "2027-03-01 09:59:00"},
            {
                "start_dt": START,
                "end_dt": END,
                "rp_beginn_datum": "2027-03-01",
                "rp_ende_datum": "2027-03-01",
            },
            {
                "start_dt": START,
                "end_dt": END,
                "rp_beginn_datum": "2027-03-02",
                "rp_ende_datum": "2027-03-01",
            },
        ],
        index=pd.Index([2, 3, 4, 5]),
        dtype=object,
    )
    sources = {"start_dt": ("Beginn",), "end_dt": ("Ende",), "rp_ende_datum": ("Bis",)}
    problems = schema.validate(rows, sources)
    assert [(p.row, p.code) for p in problems] == [
        (3, "end-before-start"),
        (5, "series-end-before-start"),
    ]
    early, series = problems
    assert early.message == (
        "the end (01.03.2027 09:59) is before the start (01.03.2027 10:00); fix the times"
    )
    assert (early.field, early.value, early.columns) == ("start_dt", None, ("Beginn", "Ende"))
    assert series.message == "the series ends (01.03.2027) before it begins (02.03.2027)"
    assert (series.field, series.columns) == ("rp_ende_datum", ("Bis",))


def test_a_series_needs_its_parts_and_an_end_date_when_it_ends_on_one() -> None:
    """rp_flag true without the series fields: series-incomplete; rp_ende_status 1 without
    rp_ende_datum: series-end-missing; status 2 (open) needs no date."""
    base = {"start_dt": START, "end_dt": END}
    series = {"rp_type": "w", "rp_tage": 1, "rp_beginn_datum": "2027-03-01"}
    rows = pd.DataFrame(
        [
            {**base, "rp_flag": True, **series, "rp_ende_status": 2},
            {**base, "rp_flag": True, **series, "rp_ende_status": 1},
            {**base, "rp_flag": True, "rp_type": "w", "rp_ende_status": 2},
            {**base, "rp_flag": False, "rp_ende_status": 2},
        ],
        index=pd.Index([2, 3, 4, 5]),
        dtype=object,
    )
    found = [(p.row, p.code) for p in schema.validate(rows, {})]
    assert found == [(3, "series-end-missing"), (4, "series-incomplete")]


def test_a_message_shows_the_value_as_the_user_typed_it() -> None:
    """With ``cells``, a message quotes the cell as typed (asked with the row and its source
    columns); the problem's value stays the converted one."""
    rows = pd.DataFrame(
        [{"start_dt": START, "end_dt": END, "erinnerung": "10 minutes"}],
        index=pd.Index([6]),
        dtype=object,
    )
    asked = []

    def typed(row: int, columns: tuple[str, ...]) -> Any:
        asked.append((row, columns))
        return "10 Min"

    (problem,) = schema.validate(rows, {"erinnerung": ("Erinnerung",)}, typed)
    assert asked == [(6, ("Erinnerung",))]
    assert problem.message.startswith("'10 Min' is not a reminder onOffice offers")
    assert problem.value == "10 minutes"
    (plain,) = schema.validate(rows, {"erinnerung": ("Erinnerung",)})
    assert plain.message.startswith("'10 minutes' is not a reminder onOffice offers")


def test_a_row_without_a_start_has_one_problem_and_one_without_an_end_its_own() -> None:
    """No start: start-missing only (no end-missing beside it); no end: end-missing; no start
    and end columns at all: the same, per row."""
    rows = pd.DataFrame(
        [{"start_dt": None, "end_dt": None}, {"start_dt": START, "end_dt": None}],
        index=pd.Index([2, 3]),
        dtype=object,
    )
    problems = schema.validate(rows, {"start_dt": ("Beginn",), "end_dt": ("Ende",)})
    assert [(p.row, p.code, p.columns) for p in problems] == [
        (2, "start-missing", ("Beginn",)),
        (3, "end-missing", ("Ende",)),
    ]
    assert [p.message for p in problems] == ["the start is missing", "the end is missing"]
    bare = pd.DataFrame([{"description": "x"}], index=pd.Index([4]), dtype=object)
    assert [(p.row, p.code) for p in schema.validate(bare, {})] == [(4, "start-missing")]


def test_a_status_that_disagrees_with_the_cancelled_mark_is_a_warning() -> None:
    """`status` wins over `abgesagt` (§4.1): a warning on each row where they disagree, none
    where they agree or one is missing."""
    rows = pd.DataFrame(
        [
            {"status": "canceled", "abgesagt": False},
            {"status": "active", "abgesagt": True},
            {"status": "canceled", "abgesagt": True},
            {"status": "active", "abgesagt": False},
            {"status": None, "abgesagt": True},
            {"status": "active", "abgesagt": None},
        ],
        index=pd.Index([2, 3, 4, 5, 6, 7]),
        dtype=object,
    )
    sources = {"status": ("Status",), "abgesagt": ("Abgesagt", "Status")}
    warnings = schema.status_warnings(rows, sources)
    assert [(w.row, w.code, w.level, w.field) for w in warnings] == [
        (2, "status-overrides-cancelled", Level.WARNING, "status"),
        (3, "status-overrides-cancelled", Level.WARNING, "status"),
    ]
    assert warnings[0].columns == ("Status", "Abgesagt")
    assert warnings[0].message == "the status 'canceled' overrides the cancelled mark"
    assert warnings[0].value is None
    assert schema.status_warnings(pd.DataFrame([{"x": 1}], index=pd.Index([2])), {}) == []


def test_only_text_of_the_exact_shape_is_a_date() -> None:
    """A start of the format's digits but not its shape (a one-digit month) is refused, as is
    a start that is no text at all."""
    rows = pd.DataFrame(
        [
            {"start_dt": "2027-3-01 10:00:00", "end_dt": END},
            {"start_dt": 20270301, "end_dt": END},
            {"start_dt": START, "end_dt": END, "rp_beginn_datum": "2027-3-01"},
        ],
        index=pd.Index([2, 3, 4]),
        dtype=object,
    )
    found = [(p.row, p.code) for p in schema.validate(rows, {})]
    assert found == [(2, "bad-start"), (3, "bad-start"), (4, "bad-series-date")]


def test_two_fields_failing_one_check_are_two_problems() -> None:
    """One problem per row, check and field: two flags that are not yes or no are two; a
    series end without its beginning is not before it."""
    rows = pd.DataFrame(
        [
            {
                "start_dt": START,
                "end_dt": END,
                "ganztags": "ja",
                "private": "nein",
                "rp_beginn_datum": None,
                "rp_ende_datum": "2027-03-01",
            }
        ],
        index=pd.Index([2]),
        dtype=object,
    )
    found = [(p.code, p.field) for p in schema.validate(rows, {})]
    assert sorted(found) == [("not-boolean", "ganztags"), ("not-boolean", "private")]


def test_the_schema_has_a_start_and_an_end_whatever_the_columns() -> None:
    """start_dt and end_dt required and not nullable, every other column optional and
    nullable; values kept as objects, never coerced."""
    built = schema.build_schema(["note"])
    assert set(built.columns) == {"note", "start_dt", "end_dt"}
    required = {name: (c.required, c.nullable) for name, c in built.columns.items()}
    assert required == {
        "start_dt": (True, False),
        "end_dt": (True, False),
        "note": (False, True),
    }
    assert all(str(c.dtype) == "object" for c in built.columns.values())
    assert built.coerce is False


def test_a_check_that_raises_fails_every_row_it_concerns_naming_the_field() -> None:
    """Conversion hands reminderTypes only lists of words or None; were it to hand a list of
    lists, the channel check raises (a set of lists). Pandera keeps that as a failure without
    a row: it must not pass the column's other rows, the one with "fax" among them (issue 34)."""
    rows = pd.DataFrame(
        {
            "start_dt": [START] * 4,
            "end_dt": [END] * 4,
            "erinnerung": ["15 minutes"] * 4,
            "reminderTypes": [["fax"], [["email"]], ["email"], None],
        },
        index=pd.Index([2, 3, 4, 5]),
        dtype=object,
    )
    found = schema.validate(rows, {"reminderTypes": ("Erinnerung per",)})
    failed = {p.row: p for p in found if p.code == "check-failed"}
    assert sorted(failed) == [2, 3, 4]  # every row that sends the field; row 5 sends none
    for problem in failed.values():
        assert problem.level is Level.ERROR and problem.columns == ("Erinnerung per",)
        assert problem.field == "reminderTypes"
        assert problem.message.startswith("Erinnerung per could not be checked (bad-reminder")
        assert "TypeError" in problem.message
    assert {p.code for p in found} == {"check-failed"}


def test_a_wide_check_that_raises_fails_every_row() -> None:
    """A cross-field check that raises (a series end that cannot be made text, unreachable from
    a file too): every row gets a problem naming both columns, none passes."""

    class Unordered:
        def __ge__(self, other: object) -> bool:
            raise TypeError("cannot compare")

        def __str__(self) -> str:
            raise TypeError("no text")

    rows = pd.DataFrame(
        {
            "start_dt": [START, START],
            "end_dt": [END, END],
            "rp_beginn_datum": ["2027-03-01", "2027-03-02"],
            "rp_ende_datum": [Unordered(), "2027-04-01"],
        },
        index=pd.Index([2, 3]),
        dtype=object,
    )
    found = schema.validate(rows, {"rp_ende_datum": ("Ende",), "rp_beginn_datum": ("Beginn",)})
    failed = {p.row: p.message for p in found if p.code == "check-failed"}
    assert sorted(failed) == [2, 3], found
    assert all(
        m.startswith("Ende, Beginn could not be checked (series-end-before-start")
        for m in failed.values()
    )
