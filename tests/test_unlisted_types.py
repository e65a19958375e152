"""An account that lists no appointment types (issue 30, points 3-5): the check learns them from
what the account shows, takes and refuses, and says per row what it cannot vouch for; every
refusal that names a field marks its cell; a word that names two types is called ambiguous.

The sandbox answers `get fields` with `permittedvalues: null` for `art` (dialect `fields=bare`,
§6.6 warns of it) and refuses an unknown `art` with 255 "Invalid value for parameter art"
(dialect `art_refusal=255`)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from importer.core.errors import ExitCode
from importer.core.i18n import use
from importer.onoffice.client import OnOfficeClient
from importer.rules.check import check, prepare
from importer.rules.refusals import explain
from importer.run.submit import planned_check
from importer.sandbox import Faults, Sandbox
from importer.sandbox.fixtures import load_fixtures

from .files import write_csv
from .helpers import cli

UNLISTED = "fields=bare,art_refusal=255"
MAPPING = "start: Start\nend: {minutes: 30}\nfields:\n  description: Betreff\n  art: Art\n"
# 16 rows: 5 of types the account has (3 Besichtigung, 2 Notartermin), 11 of types it has not
KNOWN = ["Besichtigung", "Notartermin", "Besichtigung", "Notartermin", "Besichtigung"]
UNKNOWN = ["Kaffee", "Mittagessen", "Teamrunde", "Kaffee", "Schulung", "Kaffee"]
UNKNOWN += ["Mittagessen", "Teamrunde", "Sport", "Kaffee", "Schulung"]


def listing(tmp_path: Path) -> tuple[Path, Path]:
    kinds = KNOWN + UNKNOWN
    lines = [
        f"02.03.2030 {8 + i // 2:02d}:{i % 2 * 30:02d};Termin {i};{k}" for i, k in enumerate(kinds)
    ]
    source = write_csv(tmp_path / "termine.csv", "Start;Betreff;Art\n" + "\n".join(lines) + "\n")
    mapping = tmp_path / "termine.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return source, mapping


def seed(sb: Sandbox) -> None:
    """A colleague's appointments on the rows' day: the account shows two of its types."""
    with OnOfficeClient(sb.url, sb.credentials) as client:
        for art, hour in (("Besichtigung", 18), ("Notartermin", 19)):
            data = {
                "start_dt": f"2030-03-02 {hour}:00:00",
                "end_dt": f"2030-03-02 {hour}:30:00",
                "description": "Kollegin",
                "art": art,
            }
            client.create_appointment({"data": data})


def counts_line(out: str) -> str:
    return next(line.strip() for line in out.splitlines() if "rows read:" in line)


def test_a_check_without_a_type_list_vouches_only_for_what_the_account_showed(
    tmp_path: Path,
) -> None:
    """Issue 30: "check --resolve says 16 valid, exit 0; the run creates 5 and 11 are refused;
    a second check again says 16 valid, and --only-failed sends the same 11 again"."""
    source, mapping = listing(tmp_path)
    home = tmp_path / "pc"
    with Sandbox(dialect=UNLISTED) as sb:
        seed(sb)
        first = cli(["check", str(source), "-m", str(mapping), "--resolve"], sb, home, tmp_path)
        out = first.stdout + first.stderr
        # the two types a colleague's appointments show are confirmed; the rest are not
        assert counts_line(out) == "16 rows read: 5 valid, 11 unconfirmed, 0 invalid", out
        assert first.returncode == ExitCode.UNCONFIRMED == 6, out
        assert "11 x type-unconfirmed" not in out  # a warning, not an error code
        # per row and cell in the report: its own status, and the type's column named
        sheet = openpyxl.load_workbook(tmp_path / "termine.check.xlsx").worksheets[0]
        header = [c.value for c in sheet[1]]
        status, warnings = header.index("Status"), header.index("Warnings")
        rows = list(sheet.iter_rows(min_row=2, values_only=True))
        assert [r[status] for r in rows] == ["valid"] * 5 + ["unconfirmed"] * 11
        assert str(rows[5][warnings]).startswith("Art: onOffice does not list its appointment")
        run = cli(["run", str(source), "-m", str(mapping)], sb, home, tmp_path)
        out = run.stdout + run.stderr
        assert run.returncode == ExitCode.ROWS_FAILED, out
        assert sb.store.count_appointments() == 2 + 5
        assert sb.stats.actions["create calendar"] == 2 + 16

        second = cli(["check", str(source), "-m", str(mapping), "--resolve"], sb, home, tmp_path)
        out = second.stdout + second.stderr
        assert counts_line(out) == "16 rows read: 5 valid, 11 invalid", out
        assert "11 x type-refused" in out, out
        assert "onOffice refused 'Kaffee' as an appointment type" in out, out
        assert second.returncode == ExitCode.ROWS_FAILED, out

        results = tmp_path / "termine.results.xlsx"
        assert results.exists()
        again = cli(["run", str(results), "-m", str(mapping), "--only-failed"], sb, home, tmp_path)
        out = again.stdout + again.stderr
        assert sb.stats.actions["create calendar"] == 2 + 16, out  # none of the 11 sent again
        assert again.returncode == ExitCode.ROWS_FAILED, out


def test_what_a_run_was_taken_and_refused_with_is_kept_in_the_ledger(tmp_path: Path) -> None:
    """Without a colleague's appointments the first check vouches for none; after a run the
    account's answers decide: taken types are confirmed, refused ones named as refused."""
    source, mapping = listing(tmp_path)
    home = tmp_path / "pc"
    with Sandbox(dialect=UNLISTED) as sb:
        first = cli(["check", str(source), "-m", str(mapping), "--resolve"], sb, home, tmp_path)
        assert counts_line(first.stdout) == "16 rows read: 0 valid, 16 unconfirmed, 0 invalid"
        cli(["run", str(source), "-m", str(mapping)], sb, home, tmp_path)
        assert sb.store.count_appointments() == 5
        # another file of the same account: the ledger's knowledge holds for it too
        other = write_csv(
            tmp_path / "neu.csv",
            "Start;Betreff;Art\n03.03.2030 09:00;A;Notartermin\n03.03.2030 10:00;B;Sport\n"
            "03.03.2030 11:00;C;Bewertung\n",
        )
        later = cli(["check", str(other), "-m", str(mapping), "--resolve"], sb, home, tmp_path)
        assert counts_line(later.stdout) == "3 rows read: 1 valid, 1 unconfirmed, 1 invalid"
        assert "row 3: Art: onOffice refused 'Sport'" in later.stdout, later.stdout
        # the office adds the type in onOffice: --retry-refused sends the row again, once
        sb.fixtures.appointment_types["Sport"] = "Sport"
        retried = cli(
            ["run", str(other), "-m", str(mapping), "--retry-refused"], sb, home, tmp_path
        )
        # Notartermin, Sport (retried) and Bewertung (the account has it, unconfirmed till now)
        assert "3 rows: 3 created" in retried.stdout, retried.stdout
        after = cli(["check", str(other), "-m", str(mapping), "--resolve"], sb, home, tmp_path)
        assert counts_line(after.stdout) == "3 rows read: 3 valid, 0 invalid", after.stdout
        assert after.returncode == 0


def test_a_refusal_naming_its_field_marks_the_cell_and_names_the_allowed_values(
    tmp_path: Path,
) -> None:
    """Issue 30: 255 "Invalid value for parameter art" became "onOffice does not take this
    value; fix the value": no field named, no cell marked, no allowed values."""
    source, mapping = listing(tmp_path)
    with Sandbox(dialect=UNLISTED) as sb, OnOfficeClient(sb.url, sb.credentials) as client:
        seed(sb)
        from importer.run.submit import run_import

        with use("de"):
            report = run_import(source, mapping, client=client, journal_path=tmp_path / "j.sqlite")
    failed = [r for r in report.results.values() if r.status == "failed"]
    assert len(failed) == 11
    kaffee = report.results[7]  # row 7: the first Kaffee
    assert kaffee.answer == "255: Invalid value for parameter art"
    assert [(p.row, p.columns, p.field) for p in kaffee.problems] == [(7, ("Art",), "art")]
    assert kaffee.error is not None
    assert kaffee.error.startswith("onOffice nimmt 'Kaffee' nicht als Terminart"), kaffee.error
    assert "Besichtigung, Notartermin" in kaffee.error  # what the account has shown


@pytest.mark.parametrize(
    ("server", "field", "column"),
    [
        ("Invalid value for parameter art", "art", "Art"),
        ('Invalid value for parameter "art"', "art", "Art"),
        ('Unknown value in select field "art": Kaffee', "art", "Art"),
        ('Invalid value for parameter "erinnerung"', "erinnerung", "Erinnerung"),
        ('Unknown value in select field "ressources": Beamer', "ressources", "Raum"),
    ],
)
def test_every_refusal_that_names_a_field_marks_its_cell(
    server: str, field: str, column: str
) -> None:
    sources = {"art": ("Art",), "erinnerung": ("Erinnerung",), "ressources": ("Raum",)}
    allowed = {"art": "Besichtigung, Kaffee, Übergabe (Uebergabe)"}
    sent = {"data": {"art": "Kaffee", "erinnerung": "7 minutes", "ressources": ["Beamer"]}}
    code = 252 if "select" in server else 255
    with use("de"):
        told = explain(4, code, server, sources, allowed, sent)
    assert [(p.columns, p.field) for p in told.problems] == [((column,), field)]
    assert "Wert" not in told.message or field != "art"
    if field == "art":
        # the allowed values, never the refused word itself
        assert told.message.endswith("schreiben Sie einen von: Besichtigung, Übergabe (Uebergabe)")


# --- ambiguous words (point 5) ----------------------------------------------------------------
TWINS = {
    "Besichtigung": "Termin",  # key "Besichtigung", label "Termin"
    "Termin": "Notartermin",  # key "Termin" is the label of the first
    "Beratung": "Gespräch",
    "Telefonat": "Gespräch",  # two types with one label
}


@pytest.mark.parametrize("listed", [True, False], ids=["listed", "learned"])
def test_a_word_naming_two_types_is_called_ambiguous_naming_both(
    tmp_path: Path, listed: bool
) -> None:
    fixtures = load_fixtures()
    fixtures.appointment_types = dict(TWINS)
    source = write_csv(
        tmp_path / "t.csv",
        "Start;Betreff;Art\n02.03.2030 10:00;A;Termin\n02.03.2030 11:00;B;Gespräch\n"
        "02.03.2030 12:00;C;Notartermin\n",
    )
    mapping = tmp_path / "t.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    dialect = "" if listed else UNLISTED
    with (
        Sandbox(fixtures=fixtures, dialect=dialect) as sb,
        OnOfficeClient(sb.url, sb.credentials) as client,
    ):
        if not listed:  # the account shows every type in an appointment of that day
            for n, key in enumerate(TWINS):
                data = {
                    "start_dt": f"2030-03-02 1{n}:00:00",
                    "end_dt": f"2030-03-02 1{n}:30:00",
                    "art": key,
                }
                client.create_appointment({"data": data})
            checked = planned_check(
                client, source, prepare(source, mapping), journal_path=tmp_path / "j.sqlite"
            )
        else:
            checked = check(source, mapping, api=client)
    by_row = {o.row: o for o in checked.outcomes}
    termin, gespraech, notar = by_row[2], by_row[3], by_row[4]
    assert [p.code for p in termin.errors] == ["type-ambiguous"]
    message = termin.errors[0].message
    # names both types, each in a word that names it alone, never the word as written
    assert "'Besichtigung'" in message and "'Notartermin'" in message, message
    assert "'Termin'" not in message.split(":", 1)[1], message
    assert [p.code for p in gespraech.errors] == ["type-ambiguous"]
    assert "'Beratung'" in gespraech.errors[0].message
    assert "'Telefonat'" in gespraech.errors[0].message
    assert notar.valid and notar.parameters["data"]["art"] == "Termin"  # type: ignore[index]


# --- the sandbox's dialect points (§6.6, §3.3) ------------------------------------------------
@pytest.mark.parametrize(
    ("dialect", "listed"),
    [("fields=permitted", True), ("fields=bare", None), ("fields=absent", "missing")],
)
def test_get_fields_answers_art_as_the_dialect_says(dialect: str, listed: object) -> None:
    with Sandbox(dialect=dialect) as sb, OnOfficeClient(sb.url, sb.credentials) as client:
        (record,) = client.get_fields("calendar")
    fields = record.elements
    assert record.id == "calendar"
    if listed == "missing":
        assert "art" not in fields and "ressources" in fields
    elif listed is None:
        assert fields["art"]["type"] == "singleselect"
        assert fields["art"]["permittedvalues"] is None  # JSON null
    else:
        assert fields["art"]["permittedvalues"]["Uebergabe"] == "Übergabe"


@pytest.mark.parametrize(
    ("dialect", "code", "text"),
    [
        ("", 252, 'Unknown value in select field "art": Kaffee'),
        ("art_refusal=255", 255, "Invalid value for parameter art"),
    ],
)
def test_an_unknown_type_is_refused_as_the_dialect_says(dialect: str, code: int, text: str) -> None:
    from importer.core.errors import ActionRefused

    data = {"start_dt": "2030-03-02 10:00:00", "end_dt": "2030-03-02 10:30:00", "art": "Kaffee"}
    with Sandbox(dialect=dialect) as sb, OnOfficeClient(sb.url, sb.credentials) as client:
        with pytest.raises(ActionRefused) as refused:
            client.create_appointment({"data": data})
        assert (refused.value.errorcode, refused.value.server_message) == (code, text)
        made = client.create_appointment({"data": {**data, "art": "Besichtigung"}})
        with pytest.raises(ActionRefused) as again:  # a modify alike
            client.modify_appointment(made, {"data": {"art": "Kaffee"}})
        assert (again.value.errorcode, again.value.server_message) == (code, text)


def test_a_refused_resource_marks_its_cell_and_names_the_accounts_resources(
    tmp_path: Path,
) -> None:
    """The registry's 252 naming `ressources`: the resource cell, the account's resources."""
    from importer.run.submit import run_import

    fixtures = load_fixtures()
    source = write_csv(
        tmp_path / "r.csv", "Start;Raum\n02.03.2030 10:00;Firmenfahrzeug\n02.03.2030 11:00;\n"
    )
    mapping = tmp_path / "r.yaml"
    mapping.write_text(
        "start: Start\nend: {minutes: 30}\n"
        "fields:\n  ressources: {column: Raum, lookup: resource}\n",
        encoding="utf-8",
    )
    with Sandbox(fixtures=fixtures) as sb, OnOfficeClient(sb.url, sb.credentials) as client:
        checked = check(source, mapping, api=client)
        assert checked.valid_count == 2
        key = next(iter(sb.fixtures.resources))
        sb.faults = Faults(
            refuse_writes=(252, f'Unknown value in select field "ressources": {key}')
        )
        report = run_import(source, mapping, client=client, journal_path=tmp_path / "j.sqlite")
    refused = report.results[2]
    assert refused.status == "failed" and refused.answer is not None
    assert refused.answer.startswith('252: Unknown value in select field "ressources"')
    assert [(p.columns, p.field) for p in refused.problems] == [(("Raum",), "ressources")]
    assert refused.error is not None and "write one of:" in refused.error, refused.error
    offered = refused.error.split("write one of:")[1]
    assert "Firmenfahrzeug" not in offered and "Konferenzraum" in offered, offered


def test_a_type_taken_as_written_stays_as_written_and_an_unchanged_rerun_sends_nothing(
    tmp_path: Path,
) -> None:
    """A server that lists no types and takes labels: "Übergabe" goes as written, is taken,
    and from then on is confirmed as written (not turned into the key the read shows, which
    would change the row's content and modify every appointment on the next run)."""
    from importer.run.submit import run_import

    source = write_csv(
        tmp_path / "t.csv",
        "Start;Betreff;Art\n02.03.2030 10:00;A;Übergabe\n02.03.2030 11:00;B;Besichtigung\n",
    )
    mapping = tmp_path / "t.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    journal = tmp_path / "ledger.sqlite"
    with (
        Sandbox(dialect="fields=bare,art_values=labels") as sb,
        OnOfficeClient(sb.url, sb.credentials) as client,
    ):
        first = planned_check(client, source, prepare(source, mapping), journal_path=journal)
        assert (first.valid_count, first.unconfirmed_count) == (2, 2)
        done = run_import(source, mapping, client=client, journal_path=journal)
        assert done.counts()["created"] == 2
        again = planned_check(client, source, prepare(source, mapping), journal_path=journal)
        assert (again.valid_count, again.unconfirmed_count, again.exit_code) == (2, 0, 0)
        assert set(again.plan.values()) == {"unchanged"}
        writes = sb.stats.actions["create calendar"] + sb.stats.actions["modify calendar"]
        rerun = run_import(source, mapping, client=client, journal_path=journal)
        assert rerun.counts()["already-created"] == 2, rerun.results
        assert sb.stats.actions["create calendar"] + sb.stats.actions["modify calendar"] == writes
