"""`onoffice-import check` as a user runs it: exit codes, one-line errors, the report workbook."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from importer.cli import main

from .conftest import ROOT
from .files import write_csv


def run_cli(*args: str) -> int:
    with pytest.raises(SystemExit) as caught:
        main(list(args))
    return int(caught.value.code or 0)


@pytest.fixture
def samples(tmp_path: Path) -> Path:
    for name in ("viewings.xlsx", "termine.csv", "series.csv"):
        shutil.copy(ROOT / "samples" / name, tmp_path / name)
    return tmp_path


def test_check_sample_offline_writes_report_and_exits_1(
    samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_cli(
        "check", str(samples / "viewings.xlsx"), "-m", str(ROOT / "mappings" / "viewings.yaml")
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert "14 rows read: 10 valid, 4 invalid" in out
    assert (
        "resources, estate numbers, contacts, agents (users) were not checked against onOffice; "
        "add --resolve to check them" in out
    )
    assert err == ""
    book = openpyxl.load_workbook(samples / "viewings.check.xlsx")
    assert book.sheetnames == ["Rows", "Summary", "Problems"]
    rows = book["Rows"]
    header = [c.value for c in rows[1]]
    assert header[:3] == ["Status", "Errors", "Warnings"] and header[-1] == "Source row"
    statuses = {r[-1].value: r[header.index("Status")].value for r in rows.iter_rows(min_row=2)}
    assert statuses[11] == "invalid" and statuses[4] == "valid"
    bad = rows["L10"]  # Erinnerung of source row 12: "10 Min"
    assert bad.value == "10 Min"
    assert bad.fill.fgColor.rgb.endswith("FFC7CE")
    assert "'10 Min' is not a reminder onOffice offers" in bad.comment.text  # as typed
    note = next(r for r in rows.iter_rows(min_row=2) if r[-1].value == 7)[14]
    assert note.value == "Zählerstände ablesen; Protokoll =2 Exemplare"
    assert rows.freeze_panes == "C2"  # Status and Errors stay in view
    assert rows.auto_filter.ref


def test_check_with_sandbox_resolves_lookups(
    samples: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_cli(
        "check",
        str(samples / "termine.csv"),
        "-m",
        str(ROOT / "mappings" / "termine.yaml"),
        "--sandbox",
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "9 rows read: 6 valid, 3 invalid" in out
    assert "address-ambiguous" in out
    assert "were not checked against onOffice" not in out


def test_check_all_valid_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_csv(tmp_path / "ok.csv", "Start;Betreff\n01.12.2027 10:00;A\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("start: Start\nend: {minutes: 30}\nfields: {description: Betreff}\n")
    assert run_cli("check", str(source), "-m", str(mapping)) == 0
    assert "1 row read: 1 valid, 0 invalid" in capsys.readouterr().out


def test_broken_mapping_is_one_clear_block_and_exit_2(
    samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "bad.yaml"
    mapping.write_text("start: {colum: Datum}\nend: {minutes: 30}\n")
    code = run_cli("check", str(samples / "viewings.xlsx"), "-m", str(mapping))
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith(f"Error: {mapping}: start.colum: unknown key; did you mean 'column'?")
    assert not out  # the message goes to stderr only, once
    assert not (samples / "viewings.check.xlsx").exists()


def test_mapping_column_missing_from_file_suggests(
    samples: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "start: {date: Datum, time: Begin}\nend: {minutes: 30}\n"
        "source: {sheet: Besichtigungen, header_row: 3}\n"
    )
    assert run_cli("check", str(samples / "viewings.xlsx"), "-m", str(mapping)) == 2
    err = capsys.readouterr().err
    assert "start.time.column: no column 'Begin'" in err
    assert "did you mean 'Beginn'?" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "the file is empty"), (b"\xd0\xcf\x11\xe0" + b"\0" * 600, "97-2003")],
)
def test_unusable_file_is_one_line_exit_2_no_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    source = tmp_path / "in.xlsx"
    source.write_bytes(content)
    code = run_cli("check", str(source), "-m", str(ROOT / "mappings" / "viewings.yaml"))
    out, err = capsys.readouterr()
    assert code == 2
    assert err.strip().count("\n") == 0
    assert err.startswith(f"Error: {source}: ") and message in err
    assert not out  # the message goes to stderr only, once
    assert not (tmp_path / "in.check.xlsx").exists()


def test_resolve_without_credentials_is_exit_3(
    samples: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ONOFFICE_TOKEN", raising=False)
    monkeypatch.delenv("ONOFFICE_SECRET", raising=False)
    code = run_cli(
        "check",
        str(samples / "series.csv"),
        "-m",
        str(ROOT / "mappings" / "series.yaml"),
        "--resolve",
    )
    assert code == 3
    assert "set ONOFFICE_TOKEN and ONOFFICE_SECRET" in capsys.readouterr().err


def test_hostile_text_stays_text_in_the_report(tmp_path: Path) -> None:
    hostile = [
        "=cmd|' /c calc'!A1",
        "+SUM(1,2)",
        "-2+3",
        "@SUM(A1)",
        "\tTAB",
        "\rCR",
        '=HYPERLINK("http://x","y")',
        "a\x01b\x1fc",
        "x" * 40_000,
    ]
    quoted = [h.replace('"', '""') for h in hostile]
    lines = "".join(f'01.12.2027 10:00;"{h}"\n' for h in quoted)
    source = write_csv(tmp_path / "h.csv", "Start;Notiz\n" + lines)
    mapping = tmp_path / "m.yaml"
    mapping.write_text("start: Start\nend: {minutes: 30}\nfields: {note: Notiz}\n")
    run_cli("check", str(source), "-m", str(mapping))
    sheet = openpyxl.load_workbook(tmp_path / "h.check.xlsx")["Rows"]
    column = [c.value for c in sheet[1]].index("Notiz")
    cells = [row[column] for row in sheet.iter_rows(min_row=2)]
    assert len(cells) == len(hostile)
    assert all(c.data_type == "s" for c in cells)
    assert cells[0].value == hostile[0]
