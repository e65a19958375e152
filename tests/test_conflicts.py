"""Double-booking warnings: within the file, and against onOffice's calendar as a read of the
rows' days shows it (never a row's own appointment, nor another of its list's)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from importer import check
from importer.cli import main
from importer.onoffice.client import OnOfficeClient
from importer.run.submit import AGENTS_UNSEEN
from importer.sandbox import Sandbox

from .files import write_csv

MAPPING = """
start: Start
end: Ende
fields:
  description: Betreff
  subscribers.users: {column: Makler, lookup: user}
  relatedEstateId: {column: Objekt, lookup: estate}
"""
ROWS = (
    "Start;Ende;Betreff;Makler;Objekt\n"
    "01.12.2027 10:00;01.12.2027 11:00;A;mmueller;AC-1042\n"
    "01.12.2027 10:30;01.12.2027 11:30;B;mmueller;0815\n"  # Maria twice at 10:30
    "01.12.2027 11:00;01.12.2027 12:00;C;jschmidt;AC-1043\n"  # Jonas twice (C and D)
    "01.12.2027 11:00;01.12.2027 11:30;D;jschmidt;0815\n"  # and estate 0815 twice (B and D)
    "02.12.2027 09:00;02.12.2027 10:00;E;aweber;K-2201\n"
)
NOW = datetime(2026, 11, 25)


def files(tmp_path: Path) -> tuple[Path, Path]:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return write_csv(tmp_path / "in.csv", ROWS), mapping


def bookings(report: object) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for p in report.problems:  # type: ignore[attr-defined]
        if p.code == "double-booking":
            out.setdefault(p.row, []).append(p.message)
    return out


def test_rows_of_the_file_that_book_the_same_agent_or_estate_are_warned(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    source, mapping = files(tmp_path)
    with OnOfficeClient(sandbox.url, sandbox.credentials) as api:
        report = check(source, mapping, api=api, report=False, now=NOW)
    found = bookings(report)
    assert set(found) == {2, 3, 4, 5}  # row 6 touches nobody's slot
    assert found[2][0] == (
        "double booking: this agent is also booked at this time in row 3 of the file"
    )
    assert (
        "double booking: this estate also has an appointment at this time in row 5 of the file"
        in found[3]
    )
    assert report.valid_count == 5  # warnings only
    problem = next(p for p in report.problems if p.row == 5)
    assert problem.columns == ("Objekt",)


def test_appointments_already_in_onoffice_are_warned_and_strict_refuses(
    tmp_path: Path,
    sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from importer.rules.check import prepare
    from importer.run.submit import planned_check

    source, mapping = files(tmp_path)
    with OnOfficeClient(sandbox.url, sandbox.credentials) as api:
        busy = api.create_appointment(
            {
                "data": {
                    "description": "Notartermin",
                    "start_dt": "2027-12-02 09:30:00",
                    "end_dt": "2027-12-02 10:30:00",
                },
                "subscribers": {"users": [19]},
            }
        )
        offline = check(source, mapping, api=api, report=False, now=NOW)
        report = planned_check(api, source, prepare(source, mapping))
    assert 6 not in bookings(offline)  # a check without the plan does not read the calendar
    if AGENTS_UNSEEN in report.notices:  # reads without participants: said, not checked
        assert 6 not in bookings(report)
        return
    # the warning names the appointment it clashes with
    assert bookings(report)[6] == [
        "double booking: this agent already has “Notartermin” 02.12.2027 09:30–10:30 "
        f"(appointment {busy}) in onOffice"
    ]
    assert [str(p.value) for p in report.problems if p.row == 6 and p.code == "double-booking"] == [
        "19"
    ]
    monkeypatch.setenv("ONOFFICE_API_URL", sandbox.url)
    monkeypatch.setenv("ONOFFICE_TOKEN", sandbox.credentials.token)
    monkeypatch.setenv("ONOFFICE_SECRET", sandbox.credentials.secret)
    for args, code, invalid in (([], 0, 0), (["--strict"], 1, 5)):
        with pytest.raises(SystemExit) as caught:
            main(["check", str(source), "-m", str(mapping), "--resolve", *args])
        assert caught.value.code == code
        assert f"{5 - invalid} valid, {invalid} invalid" in capsys.readouterr().out


def test_run_warns_or_refuses_double_bookings_but_never_its_own_rows(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    from importer.run.submit import RunOptions, run_import

    source = write_csv(
        tmp_path / "in.csv",
        "Start;Ende;Betreff;Makler;Objekt\n"
        "03.12.2027 10:00;03.12.2027 11:00;A;aweber;AC-1042\n"
        "04.12.2027 10:00;04.12.2027 11:00;B;tkoch;0815\n",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    strict = RunOptions(strict=True)
    with OnOfficeClient(sandbox.url, sandbox.credentials) as api:
        api.create_appointment(
            {
                "data": {"start_dt": "2027-12-04 10:30:00", "end_dt": "2027-12-04 11:30:00"},
                "subscribers": {"users": [21]},
            }
        )  # Thomas is busy then
        first = run_import(
            source, mapping, client=api, journal_path=tmp_path / "j.sqlite", options=strict
        )
        if AGENTS_UNSEEN in first.check.notices:  # reads without participants: said, not checked
            assert [first.results[r].status for r in (2, 3)] == ["created", "created"]
        else:
            assert [first.results[r].status for r in (2, 3)] == ["created", "invalid"]
            assert "this agent already has “without subject”" in (first.results[3].error or "")
            assert (first.results[3].error or "").startswith("Makler: ")  # the user's column
        second = run_import(
            source, mapping, client=api, journal_path=tmp_path / "j.sqlite", options=strict
        )
        elsewhere = run_import(  # another computer: no ledger, the same calendar
            source, mapping, client=api, journal_path=tmp_path / "k.sqlite", options=strict
        )
    assert second.results[2].status == "already-created"  # not a conflict with itself
    assert elsewhere.results[2].status == "exists"  # nor on a computer that never saw it
    assert sandbox.store.count_appointments() == 3 if AGENTS_UNSEEN in first.check.notices else 2


def test_run_results_show_the_warnings(tmp_path: Path, sandbox: Sandbox) -> None:
    import openpyxl

    from importer.output.results import write_results
    from importer.run.submit import run_import

    source, mapping = files(tmp_path)
    with OnOfficeClient(sandbox.url, sandbox.credentials) as api:
        report = run_import(source, mapping, client=api, journal_path=tmp_path / "j.sqlite")
    written = write_results(report, tmp_path / "in.results.xlsx")
    book = openpyxl.load_workbook(written)
    sheet = book["Results"]
    header = [c.value for c in sheet[1]]
    warnings = {r[-1].value: r[header.index("Warnings")].value for r in sheet.iter_rows(min_row=2)}
    assert "double booking: this agent is also booked at this time in row 3" in warnings[2]
    assert warnings[6] is None
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["Rows with warnings"] == 4
    codes = {r[2]: r[0] for r in book["Summary"].iter_rows(values_only=True) if r[0]}
    assert codes["double-booking"] == "4 rows"  # rows, not problems; words before the code


def test_a_calendar_that_cannot_be_read_completely_is_said_once_not_silently_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """600 appointments on the rows' first day: a read cannot show them all (500 is the cap),
    so double bookings there may be missing; check --resolve and run say so once."""
    import openpyxl

    from importer.output.results import write_results
    from importer.run.submit import run_import

    source, mapping = files(tmp_path)
    with Sandbox() as sb:
        for n in range(600):
            sb.store.insert_appointment(
                {
                    "start_dt": "2027-12-01 07:00:00",
                    "end_dt": "2027-12-01 07:30:00",
                    "description": f"busy {n}",
                    "users": [17],  # Maria, whom a row books that day
                },
                "2026-11-01 00:00:00",
            )
        monkeypatch.setenv("ONOFFICE_API_URL", sb.url)
        monkeypatch.setenv("ONOFFICE_TOKEN", sb.credentials.token)
        monkeypatch.setenv("ONOFFICE_SECRET", sb.credentials.secret)
        with pytest.raises(SystemExit) as caught:
            main(["check", str(source), "-m", str(mapping), "--resolve"])
        assert caught.value.code == 0
        out = capsys.readouterr().out
        assert out.count("double bookings may be missing") == 1, out
        with OnOfficeClient(sb.url, sb.credentials) as api:
            report = run_import(source, mapping, client=api, journal_path=tmp_path / "j.sqlite")
        assert sb.stats.actions["get appointmentConflicts"] == 0  # one read, not a call per row
    assert report.counts()["created"] == 5
    written = write_results(report, tmp_path / "in.results.xlsx")
    summary = [r for r in openpyxl.load_workbook(written)["Summary"].iter_rows(values_only=True)]
    assert any(r[0] == "Not checked" and "may be missing" in str(r[1]) for r in summary)
    check_report = openpyxl.load_workbook(tmp_path / "in.check.xlsx")["Summary"]
    assert any(r[0] == "Not checked" for r in check_report.iter_rows(values_only=True))
