"""The check tells the truth about the account (issue 22): the rows `check --resolve` calls
valid are the rows onOffice accepts, row for row.

One file holds every kind of value only the account can judge: types by key, by name and
unknown, resources known and unknown, agents with and without the right to their calendar, estate
and contact look-ups, series right and wrong. It is checked (the library call behind `check
--resolve`), then run, then edited and checked and run again (updates need the right to modify).
This module is swept (conftest.SWEPT): it runs against the documented sandbox and under the
session's random dialect. Where a dialect does not answer a check (no `permittedvalues`, no
`checkuserrecordsright`), the check says so once, and only the rows of that kind may differ.
"""

from __future__ import annotations

from pathlib import Path

from importer.core.i18n import use
from importer.onoffice.client import OnOfficeClient
from importer.rules.check import prepare
from importer.rules.refusals import explain
from importer.run.runner import Status
from importer.run.submit import RunOptions, planned_check, run_import
from importer.sandbox import Sandbox, load_fixtures

from .files import write_csv

MAPPING = """
start: Start
end: Ende
fields:
  description: Betreff
  art: Art
  subscribers.users: {column: Makler, split: ",", lookup: user}
  relatedEstateId: {column: Objekt, lookup: estate}
  relatedAddressIds: {column: Kontakt, lookup: address}
  ressources: {column: Ressource, split: ",", lookup: resource}
series:
  repeat: Wiederholung
  interval: Intervall
  until: Bis
"""
HEADER = "Start;Ende;Betreff;Art;Makler;Objekt;Kontakt;Ressource;Wiederholung;Intervall;Bis\n"
DAY = "08.03.2027"
ROWS = {  # row -> (its cells after the start and end, what onOffice does with it)
    2: "Besichtigung A;Besichtigung;mmueller;AC-1042;sabine.krueger@example.de;Beamer;;;",
    3: "Übergabe B;Übergabe;jschmidt;0815;;;;;",  # the type by its name
    4: "Kaffee C;Kaffee;aweber;;;;;;",  # no type of this account
    5: "Besichtigung D;Besichtigung;tkoch;;;Hubschrauber;;;",  # no such resource
    6: "Besichtigung E;Besichtigung;skaya;;;;;;",  # the API user may not write skaya's
    7: "Besichtigung F;Besichtigung;mmueller;ZZ-9999;;;;;",  # no such estate
    8: "Besichtigung G;Besichtigung;jschmidt;;niemand@example.invalid;;;;",  # no such contact
    9: "Teamrunde H;Intern;aweber;;;;weekly;1;29.03.2027",  # a series
    10: "Teamrunde I;Intern;tkoch;;;;weekly;1;01.03.2027",  # it ends before it begins
    11: "Beratung J;Beratungsgespräch;lbecker;;;Firmenfahrzeug;;;",  # by name, lbecker
    12: "Besichtigung K;Besichtigung;mmueller,skaya;;;;;;",  # one of two agents not allowed
}
VALID = {2, 3, 9, 11}  # what a truthful check calls valid, and what onOffice takes
TYPES = {4}  # rows only a check of the types can find
BY_LABEL = {3, 11}  # rows whose type is written by its name: sent as the key only if listed
RIGHTS = {6, 12}  # rows only a check of the rights can find
# skaya's calendar may not be written; lbecker's may be created but not modified.
RIGHTS_FIXTURE = {"create": [17, 18, 19, 21, 22], "modify": [17, 18, 19, 21]}
FAST = RunOptions(backoff_base=0.01, backoff_cap=0.05, settle_delay=0.05)


def lines(rows: dict[int, str]) -> str:
    hours = {row: 8 + row for row in rows}
    return HEADER + "".join(
        f"{DAY} {hours[r]:02d}:00;{DAY} {hours[r]:02d}:45;{cells}\n" for r, cells in rows.items()
    )


def checked_and_run(
    client: OnOfficeClient, source: Path, mapping: Path, journal: Path
) -> tuple[set[int], dict[int, str], set[int], dict[int, Status], list[str]]:
    """(rows the check calls valid, their plan, rows onOffice took, every row's status,
    the check's notices)."""
    prepared = prepare(source, mapping)
    checked = planned_check(client, source, prepared, journal_path=journal)
    assert not checked.unresolved, checked.unresolved
    valid = {o.row for o in checked.outcomes if o.valid}
    report = run_import(source, mapping, client=client, journal_path=journal, options=FAST)
    status = {r.row: r.status for r in report.results.values()}
    taken = {r for r, s in status.items() if s in (Status.CREATED, Status.UPDATED)}
    return valid, {r: checked.plan.get(r, "") for r in valid}, taken, status, checked.notices


def unchecked(notices: list[str]) -> set[int]:
    """The rows a dialect's silence may leave to onOffice: said in the notices, or none."""
    rows: set[int] = set()
    if any(n.startswith("the appointment types were not checked") for n in notices):
        rows |= TYPES | BY_LABEL
    if any(n.startswith("the rights were not checked") for n in notices):
        rows |= RIGHTS
    return rows


def test_the_rows_the_check_calls_valid_are_the_rows_onoffice_takes(tmp_path: Path) -> None:
    fixtures = load_fixtures()
    fixtures.rights = RIGHTS_FIXTURE
    source = write_csv(tmp_path / "besichtigungen.csv", lines(ROWS))
    mapping = tmp_path / "truth.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    journal = tmp_path / "ledger.sqlite"
    with Sandbox(fixtures=fixtures) as sb, OnOfficeClient(sb.url, sb.credentials) as client:
        valid, plan, taken, status, notices = checked_and_run(client, source, mapping, journal)
        silent = unchecked(notices)
        # where the account lists no types, a name cannot become its key: a server that takes
        # keys only refuses those rows, and the check said the types were not checked
        refused = BY_LABEL if silent & TYPES and sb.dialect.art_values == "keys" else set()
        assert valid - silent == VALID - silent and valid >= VALID
        assert taken == VALID - refused  # onOffice takes the valid rows, and only them
        assert set(plan.values()) == {"create"}
        for row in silent & (valid - VALID):  # said not checked, so left to onOffice: refused
            assert status[row] == Status.FAILED
        assert sb.store.count_appointments() == len(VALID - refused)

        # every row edited: the valid ones are updated; lbecker's row may be created but not
        # changed by the API user, and a truthful check says so before the run
        edited = {r: c.replace(";", " neu;", 1) for r, c in ROWS.items()}
        write_csv(source, lines(edited))
        valid, plan, taken, status, notices = checked_and_run(client, source, mapping, journal)
        silent = unchecked(notices)
        modifiable = VALID - {11}
        if any(n.startswith("the rights were not checked") for n in notices):
            silent |= {11}
        assert valid - silent == modifiable - silent and valid >= modifiable - refused
        # a type onOffice refused in the first run is named as refused now: not sent again
        assert not valid & (refused | TYPES)
        assert taken == modifiable - refused
        assert {plan[r] for r in modifiable - refused} == {"update"}
        assert status[11] in (Status.FAILED, Status.INVALID)
        assert sb.store.count_appointments() == len(VALID - refused)
        subjects = sorted(a["description"] for a in sb.store.all_appointments())
        assert subjects == sorted(
            ["Besichtigung A neu", "Übergabe B neu", "Teamrunde H neu", "Beratung J"]
            if not refused
            else ["Besichtigung A neu", "Teamrunde H neu"]
        )


def test_each_kind_of_problem_is_named_in_its_cell(tmp_path: Path) -> None:
    """What the check says of each row the account refuses: the code and the column."""
    fixtures = load_fixtures()
    fixtures.rights = RIGHTS_FIXTURE
    source = write_csv(tmp_path / "liste.csv", lines(ROWS))
    mapping = tmp_path / "truth.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    with Sandbox(fixtures=fixtures) as sb, OnOfficeClient(sb.url, sb.credentials) as client:
        checked = planned_check(
            client, source, prepare(source, mapping), journal_path=tmp_path / "l.sqlite"
        )
    expected = {
        4: ("type-not-found", ("Art",)),
        5: ("resource-not-found", ("Ressource",)),
        6: ("no-right", ("Makler",)),
        7: ("estate-not-found", ("Objekt",)),
        8: ("address-not-found", ("Kontakt",)),
        10: ("series-end-before-start", ("Bis", "Start")),
        12: ("no-right", ("Makler",)),
    }
    if sb.dialect.fields != "permitted":
        del expected[4]
    if sb.dialect.rights_check != "available":
        del expected[6], expected[12]
    found = {o.row: (o.errors[0].code, o.errors[0].columns) for o in checked.outcomes if o.errors}
    assert found == expected
    kaffee = next(o for o in checked.outcomes if o.row == 4)
    if 4 in expected:  # the allowed types are named, by name and key
        assert "Übergabe (Uebergabe)" in kaffee.errors[0].message


def test_a_refusal_speaks_the_users_language_and_keeps_the_servers_words() -> None:
    """onOffice's answer to a refused row, in the user's words, with its cells; the server's
    code and text kept apart for support; an unknown code still a sentence."""
    sources = {"art": ("Art",), "start_dt": ("Start",)}
    allowed = {"art": "Besichtigung, Übergabe (Uebergabe)"}
    server = 'Unknown value in select field "art": Kaffee'
    with use("de"):
        known = explain(4, 252, server, sources, allowed)
        unknown = explain(4, 9999, "Something odd", sources, allowed)
    assert known.answer == f"252: {server}"
    assert "Unknown value" not in known.message  # the server's English stays in its column
    assert "Besichtigung, Übergabe (Uebergabe)" in known.message  # what onOffice offers
    assert [(p.row, p.columns) for p in known.problems] == [(4, ("Art",))]  # the cell marked
    assert unknown.answer == "9999: Something odd"
    assert unknown.message.startswith("onOffice hat die Zeile abgelehnt")
