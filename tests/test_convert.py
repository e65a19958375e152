"""Mapping applied to real files: templates, maps, lists, dates, series, look-ups, problems."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from importer import CheckReport, check
from importer.mapping.spec import load_mapping
from importer.onoffice.client import OnOfficeClient
from importer.sandbox import Sandbox, load_fixtures

from .files import rewrite_member, set_cell_xml, write_csv, write_xlsx

NOW = datetime(2026, 11, 25, 12, 0)


def run(tmp_path: Path, csv_text: str, mapping: str, api: Any = None) -> CheckReport:
    source = write_csv(tmp_path / "in.csv", csv_text)
    (tmp_path / "m.yaml").write_text(mapping, encoding="utf-8")
    return check(source, tmp_path / "m.yaml", api=api, report=False, now=NOW)


def fields(report: CheckReport, row: int) -> dict[str, Any]:
    outcome = next(o for o in report.outcomes if o.row == row)
    assert outcome.parameters is not None, outcome.problems
    return {
        **outcome.parameters["data"],
        **{k: v for k, v in outcome.parameters.items() if k != "data"},
    }


def codes(report: CheckReport, row: int) -> list[str]:
    return [p.code for p in next(o for o in report.outcomes if o.row == row).problems]


BASIC = "start: Start\nend: {minutes: 30}\n"


def test_template_map_and_list_splitting(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        (
            "Start;Art;Objekt;Kunde;Erinnerung per;Flag\n"
            "01.12.2026 10:00;  BESICHTIGUNG ;AC-1;Frau Krüger;email|Popup;X\n"
            "02.12.2026 10:00;Telefon;;Herr Yılmaz;sms;\n"
            "03.12.2026 10:00;Kaffee;AC-2;;;ja\n"
        ),
        BASIC
        + (
            "maps:\n  arten: {Besichtigung: Besichtigung, Telefon: Telefonat}\n"
            "fields:\n"
            "  description: {template: '{Art} {Objekt} mit {Kunde}'}\n"
            "  art: {column: Art, map: arten}\n"
            "  erinnerung: {value: 15 Min}\n"
            "  reminderTypes: {column: Erinnerung per, split: ['|', ',']}\n"
            "  private: {column: Flag, default: nein}\n"
        ),
    )
    first = fields(report, 2)
    assert first["description"] == "BESICHTIGUNG AC-1 mit Frau Krüger"
    assert first["art"] == "Besichtigung"
    assert first["erinnerung"] == "15 minutes"
    assert first["reminderTypes"] == ["email", "popup"]
    assert first["private"] is True
    second = fields(report, 3)
    assert second["description"] == "Telefon mit Herr Yılmaz"  # the empty column leaves no gap
    assert second["private"] is False  # the default
    assert codes(report, 4) == ["value-not-mapped"]
    assert report.problems[0].columns == ("Art",)


def test_a_template_takes_a_cell_as_typed_or_as_its_field_maps_it(tmp_path: Path) -> None:
    """In a template, "{Art}" is the cell as typed; "{=Art}" the cell as the map of the field
    reading the column Art translates it: the subject says "Besichtigung" where the office typed
    "Besichtigungen"; a value the map does not know stays as typed (the type reports it)."""
    report = run(
        tmp_path,
        (
            "Start;Art;Objekt\n"
            "01.12.2026 10:00;Besichtigungen;0815\n"
            "02.12.2026 10:00;Kaffee;AC-2\n"
            "03.12.2026 10:00;;AC-3\n"
        ),
        BASIC
        + (
            "fields:\n"
            "  description: {template: '{=Art} {Objekt} ({Art})'}\n"
            "  art: {column: Art, map: {Besichtigungen: Besichtigung, Übergaben: Uebergabe}}\n"
        ),
    )
    assert fields(report, 2)["description"] == "Besichtigung 0815 (Besichtigungen)"
    assert codes(report, 3) == ["value-not-mapped"]
    assert fields(report, 4)["description"].startswith("AC-3")  # an empty cell: no word


def test_map_default_takes_unknown_values(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        "Start;Art\n01.12.2026 10:00;Kaffee\n",
        BASIC + "fields:\n  art: {column: Art, map: {Besichtigung: B, '*': Sonstiges}}\n",
    )
    assert fields(report, 2)["art"] == "Sonstiges"


def test_date_time_columns_end_by_time_duration_or_24(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        (
            "Datum;Von;Bis;Dauer\n"
            "01.12.2026;14:30 Uhr;15:15;\n"
            "01.12.2026;09:00;;01:30\n"
            "01.12.2026;22:00;24:00;\n"
            "01.12.2026;09:00;;\n"
            "01.12.2026;09:00;08:00;\n"
        ),
        "start: {date: Datum, time: Von}\nend: {time: Bis, duration: Dauer}\n",
    )
    assert fields(report, 2)["end_dt"] == "2026-12-01 15:15:00"
    assert fields(report, 3)["end_dt"] == "2026-12-01 10:30:00"
    assert fields(report, 4)["end_dt"] == "2026-12-02 00:00:00"
    assert codes(report, 5) == ["end-missing"]
    assert codes(report, 6) == ["end-before-start"]
    problem = next(p for p in report.problems if p.code == "end-before-start")
    assert problem.columns == ("Datum", "Von", "Bis", "Dauer")


def test_all_day_appointments(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        "Tag;Ganztags\n05.12.2026;ja\n06.12.2026 10:00;nein\n07.12.2026;nein\n",
        "start: Tag\nend: {minutes: 60}\nall_day: Ganztags\n",
    )
    day = fields(report, 2)
    assert (day["start_dt"], day["end_dt"], day["ganztags"]) == (
        "2026-12-05 00:00:00",
        "2026-12-05 23:59:59",
        True,
    )
    assert "ganztags" not in fields(report, 3)
    assert codes(report, 4) == ["date-without-time"]


def text_formula(book: Any) -> None:
    cell = book.active["D2"]
    cell.value, cell.data_type = '=HYPERLINK("x")', "s"  # text that looks like a formula


def test_excel_cells_and_error_cells(tmp_path: Path) -> None:
    src = write_xlsx(
        tmp_path / "src.xlsx",
        [
            ["Datum", "Beginn", "Ende", "Notiz"],
            [date(2026, 12, 1), time(10, 0), time(11, 0), "placeholder"],
            [date(2026, 12, 2), time(10, 0), time(11, 0), "ok"],
        ],
        formats={0: "DD.MM.YYYY", 1: "HH:MM", 2: "HH:MM"},
        setup=text_formula,
    )
    path = rewrite_member(
        src,
        tmp_path / "in.xlsx",
        "xl/worksheets/sheet1.xml",
        lambda d: set_cell_xml(d, "D3", '<c r="D3" t="e"><v>#N/A</v></c>'),
    )
    (tmp_path / "m.yaml").write_text(
        "start: {date: Datum, time: Beginn}\nend: {time: Ende}\nfields: {note: Notiz}\n"
    )
    report = check(path, tmp_path / "m.yaml", report=False, now=NOW)
    assert fields(report, 2)["note"] == '=HYPERLINK("x")'  # text, sent as text
    assert fields(report, 2)["start_dt"] == "2026-12-01 10:00:00"
    assert codes(report, 3) == ["cell-error"]
    assert "#N/A" in report.problems[0].message


def test_series_fields(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        (
            "Start;Ende;Wdh;Alle;Bis;Ausser\n"
            "07.12.2026 09:00;07.12.2026 09:30;wöchentlich;2;31.03.2027;21.12.2026, 28.12.2026\n"
            "07.12.2026 09:00;07.12.2026 09:30;Monthly;;;\n"
            "07.12.2026 09:00;07.12.2026 09:30;;;31.03.2027;\n"
            "07.12.2026 09:00;07.12.2026 09:30;stündlich;;;\n"
        ),
        "start: Start\nend: Ende\nseries: {repeat: Wdh, interval: Alle, until: Bis, "
        "exceptions: {column: Ausser, split: ','}}\n",
    )
    weekly = fields(report, 2)
    assert {k: v for k, v in weekly.items() if k.startswith("rp_")} == {
        "rp_flag": True,
        "rp_type": "w",
        "rp_tage": 2,
        "rp_beginn_datum": "2026-12-07",
        "rp_ende_datum": "2027-03-31",
        "rp_ende_status": 1,
        "rp_exception": "#2026-12-21#2026-12-28",
    }
    monthly = fields(report, 3)
    assert (monthly["rp_type"], monthly["rp_tage"], monthly["rp_ende_status"]) == ("m", 1, 2)
    assert "rp_ende_datum" not in monthly
    assert codes(report, 4) == ["series-without-repeat"]
    assert codes(report, 5) == ["bad-repeat"]


def test_time_problems_dst_past_and_text(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        (
            "Start;Notiz\n"
            "28.03.2027 02:30;Sommerzeit\n"
            "31.10.2027 02:30;Winterzeit\n"
            "01.02.2026 10:00;vorbei\n"
            "01.12.2026 10:00;Be\u200bsich\u202etigung\n"
            "45678;Serial\n"
            "   ;leer\n"
        ),
        BASIC + "fields: {note: Notiz}\n",
    )
    assert codes(report, 2) == ["time-does-not-exist"]
    assert codes(report, 3) == ["time-ambiguous"]  # a warning: the row stays valid
    assert report.outcomes[1].valid
    assert codes(report, 4) == ["in-the-past"]
    assert report.outcomes[2].valid
    assert fields(report, 5)["note"] == "Besichtigung"
    assert codes(report, 5) == ["invisible-characters-removed"]
    assert codes(report, 6) == ["bad-datetime"]
    assert codes(report, 7) == ["start-missing"]


def test_past_dates_can_be_refused(tmp_path: Path) -> None:
    report = run(tmp_path, "Start\n01.02.2026 10:00\n", BASIC + "options: {past: error}\n")
    assert not report.outcomes[0].valid
    assert [(p.code, p.is_error) for p in report.outcomes[0].problems] == [("in-the-past", True)]


def test_duplicate_rows_are_flagged(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        "Start;Betreff\n01.12.2026 10:00;A\n01.12.2026 10:00;A\n",
        BASIC + "fields: {description: Betreff}\n",
    )
    assert codes(report, 3) == ["duplicate-row"]
    assert "row 2" in report.outcomes[1].problems[0].message


def test_required_and_too_long(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        f"Start;Betreff\n01.12.2026 10:00;\n01.12.2026 11:00;{'x' * 300}\n",
        BASIC + "fields: {description: {column: Betreff, required: true}}\n",
    )
    assert codes(report, 2) == ["required-missing"]
    assert codes(report, 3) == ["text-too-long"]


# --- look-ups against the sandbox -----------------------------------------------------------------
@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[OnOfficeClient]:
    with OnOfficeClient(sandbox.url, sandbox.credentials) as client:
        yield client


LOOKUPS = BASIC + (
    "fields:\n"
    "  relatedEstateId: {column: Objekt, lookup: estate}\n"
    "  relatedAddressIds: {column: Kunde, split: ',', lookup: {kind: address, by: KdNr}}\n"
    "  subscribers.users: {column: Makler, split: ';', lookup: user}\n"
    "  subscribers.groups: {column: Gruppe, lookup: group}\n"
    "  ressources: {column: Mittel, split: ',', lookup: resource}\n"
    "  von: {column: Ersteller, lookup: user}\n"
)


def test_lookups_resolve_human_keys(tmp_path: Path, api: OnOfficeClient) -> None:
    report = run(
        tmp_path,
        (
            "Start;Objekt;Kunde;Makler;Gruppe;Mittel;Ersteller\n"
            '01.12.2026 10:00;0815;132, 0150;"mmueller; Jonas Schmidt";Vermietung;'
            "Firmenfahrzeug, beamer;Anna Weber\n"
            "01.12.2026 11:00;AC-9999;1207;Schmidt, Jonas;vermietung;Hubschrauber;api\n"
        ),
        LOOKUPS,
        api=api,
    )
    first = fields(report, 2)
    assert first["relatedEstateId"] == 609
    assert first["relatedAddressIds"] == [5431, 5435]
    assert first["subscribers"] == {"users": [17, 18], "groups": [4]}
    assert first["ressources"] == ["ind_Schl_3151", "ind_Schl_3152"]
    assert first["von"] == "aweber"
    problems = {p.code: p for p in report.outcomes[1].problems}
    assert set(problems) == {"estate-not-found", "address-ambiguous", "resource-not-found"}
    assert "5436 (Markus Wagner), 5437 (Claudia Wagner)" in problems["address-ambiguous"].message
    assert problems["estate-not-found"].columns == ("Objekt",)
    assert "'AC-9999'" in problems["estate-not-found"].message
    # estates, addresses, users (for both fields), groups, resources; no more: double bookings
    # against onOffice are a run's (and check --resolve's), from one read of the rows' days
    assert api.requests_sent == 5


@pytest.mark.documented("conflicts")
def test_lookups_batch_by_the_500_cap_and_cache(tmp_path: Path) -> None:
    fixtures = load_fixtures()
    fixtures.estates = [{"id": 10_000 + n, "objektnr_extern": f"E-{n:04d}"} for n in range(700)]
    rows = (
        "".join(f"01.12.2026 10:00;E-{n:04d}\n" for n in range(700)) + "01.12.2026 11:00;E-0001\n"
    )
    with Sandbox(fixtures) as sb, OnOfficeClient(sb.url, sb.credentials) as client:
        report = run(
            tmp_path,
            "Start;Objekt\n" + rows,
            BASIC + "fields: {relatedEstateId: {column: Objekt, lookup: estate}}\n",
            api=client,
        )
        assert report.valid_count == 701
        # 500 + 200 keys (the repeated key is cached; a full page of 500 is followed by one
        # more page read, since cntabsolute may be the page size)
        assert client.requests_sent == 3
    assert fields(report, 702)["relatedEstateId"] == 10_001


def test_valid_sample_rows_are_accepted_by_the_sandbox(
    sandbox: Sandbox, api: OnOfficeClient
) -> None:
    from .conftest import ROOT

    sent = 0
    for name, source in (
        ("viewings", "viewings.xlsx"),
        ("termine", "termine.csv"),
        ("series", "series.csv"),
    ):
        report = check(
            ROOT / "samples" / source,
            ROOT / "mappings" / f"{name}.yaml",
            api=api,
            report=False,
            now=NOW,
        )
        for outcome in report.outcomes:
            if outcome.valid:
                assert outcome.parameters is not None
                api.create_appointment(outcome.parameters)
                sent += 1
    assert sent == sandbox.store.count_appointments() == 20


def test_reminder_channels_only_where_the_row_has_a_reminder(tmp_path: Path) -> None:
    text = "Start;Erinnerung\n02.03.2030 10:00;15 Min\n02.03.2030 11:00;\n"
    mapping = (
        "start: Start\nend: {minutes: 30}\n"
        "fields: {erinnerung: Erinnerung, reminderTypes: {value: email}}\n"
    )
    source = write_csv(tmp_path / "in.csv", text)
    path = tmp_path / "m.yaml"
    path.write_text(mapping, encoding="utf-8")
    strict = check(source, load_mapping(path), report=False).outcomes
    assert [p.code for p in strict[1].errors] == ["reminder-types-need-reminder"]
    path.write_text(mapping + "options: {channels_without_reminder: leave-out}\n", "utf-8")
    left_out = check(source, load_mapping(path), report=False).outcomes
    assert all(o.valid for o in left_out)
    assert left_out[0].parameters["reminderTypes"] == ["email"]  # type: ignore[index]
    assert "reminderTypes" not in left_out[1].parameters  # type: ignore[operator]


def test_a_template_line_keeps_its_words_with_one_space_between_them(tmp_path: Path) -> None:
    """A filled template's line: blank cells and runs of any whitespace (tab, no-break space,
    Unicode's line separator) become one space, none at the ends; an empty line stays out."""
    report = run(
        tmp_path,
        (
            "Start;Art;Objekt;Kunde\n"
            "01.12.2026 10:00;Besichtigung;AC-1;Frau Krüger\n"
            "02.12.2026 10:00;  Telefon\t;  ;Herr\u00a0\u00a0Yılmaz\n"
            "03.12.2026 10:00;\t;AC-2\u2028B;\n"
        ),
        BASIC
        + 'fields:\n  description: {template: "{Art} {Objekt} mit {Kunde}\\n\\n\\n{Kunde}"}\n'
        + "  note: {template: '{Art} {Objekt} mit {Kunde}'}\n",
    )
    assert [fields(report, row)["description"] for row in (2, 3, 4)] == [
        "Besichtigung AC-1 mit Frau Krüger\n\nFrau Krüger",
        "Telefon mit Herr Yılmaz\n\nHerr Yılmaz",
        "AC-2 B mit",
    ]
    assert [fields(report, row)["note"] for row in (2, 3, 4)] == [
        "Besichtigung AC-1 mit Frau Krüger",
        "Telefon mit Herr Yılmaz",
        "AC-2 B mit",
    ]
