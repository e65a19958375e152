"""`mapping init`: drafts that map the samples and invented header variants right."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from importer.cli import main
from importer.mapping.draft import draft_mapping
from importer.mapping.spec import load_mapping

from .conftest import ROOT

# Invented variants: the same data under other headers a real office might use.
VARIANTS = {
    "viewings.xlsx": [
        {},
        {
            "Datum": "Date",
            "Beginn": "Start time",
            "Ende": "End time",
            "Objekt-Nr.": "Property",
            "Interessent": "Contact",
            "E-Mail": "Email",
            "Makler": "Agent",
            "Terminart": "Type",
            "Erinnerung": "Reminder",
            "Ressourcen": "Resources",
            "abgesagt": "Cancelled",
            "Bemerkung": "Notes",
        },
        {
            "Datum": "Termindatum",
            "Beginn": "Uhrzeit",
            "Ende": "Bis",
            "Objekt-Nr.": "ImmoNr",
            "Interessent": "Kunde",
            "E-Mail": "E-Mail-Adresse",
            "Makler": "Mitarbeiter",
            "Terminart": "Art",
            "Erinnerung": "Erinnerung",
            "Ressourcen": "Hilfsmittel",
            "abgesagt": "Storniert",
            "Bemerkung": "Notizen",
        },
    ],
    "termine.csv": [
        {},
        {
            "Start": "Beginn",
            "Ende": "Bis",
            "Betreff": "Subject",
            "Objekt": "Objektnummer",
            "Kunde (KdNr)": "Kundennummer",
            "Mitarbeiter": "Berater",
            "Privat": "Private",
            "Ganztägig": "Ganztaegig",
            "Notiz": "Bemerkungen",
        },
    ],
    "series.csv": [
        {},
        {
            "start": "Beginn",
            "end": "Ende",
            "subject": "Betreff",
            "type": "Terminart",
            "repeat": "Wiederholung",
            "every": "Intervall",
            "until": "Serienende",
            "except": "Ausnahmen",
            "attendees": "Teilnehmer",
            "groups": "Gruppe",
            "reminder": "Erinnerung",
            "reminder_by": "Erinnerungsart",
            "location": "Ort",
        },
    ],
}
MAPPINGS = {"viewings.xlsx": "viewings", "termine.csv": "termine", "series.csv": "series"}


def renamed(tmp_path: Path, name: str, headers: dict[str, str]) -> Path:
    source = ROOT / "samples" / name
    target = tmp_path / name
    if name.endswith(".xlsx"):
        book = openpyxl.load_workbook(source)
        for cell in book["Besichtigungen"][3]:
            cell.value = headers.get(cell.value, cell.value)
        book.save(target)
    else:
        encoding = "cp1252" if name == "termine.csv" else "utf-8"
        delimiter = ";" if name == "termine.csv" else ","
        rows = list(
            csv.reader(io.StringIO(source.read_text(encoding=encoding)), delimiter=delimiter)
        )
        rows[0] = [headers.get(h, h) for h in rows[0]]
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
        target.write_bytes(buffer.getvalue().encode(encoding))
    return target


def targets(raw: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """Target -> (columns, look-up kind) of a mapping file, columns renamed as in the variant."""
    out: dict[str, Any] = {}

    def columns(spec: Any) -> tuple[Any, ...]:
        if isinstance(spec, str):
            return (headers.get(spec, spec),)
        if isinstance(spec, dict):
            found = [
                headers.get(c, c)
                for k in ("column", "date", "time", "duration", "repeat")
                if isinstance(c := spec.get(k), str)
            ]
            lookup = spec.get("lookup")
            kind = lookup if isinstance(lookup, str) else (lookup or {}).get("kind")
            return (*found, kind) if kind else tuple(found)
        return ()

    for key in ("start", "all_day", "location"):
        if key in raw:
            out[key] = columns(raw[key])
    if "end" in raw:
        out["end"] = columns(raw["end"]) or ("minutes",)
    for name, spec in (raw.get("fields") or {}).items():
        if isinstance(spec, dict) and "template" in spec:
            out[f"fields.{name}"] = ("template",)
        elif isinstance(spec, dict) and "value" in spec:
            continue  # a constant is the user's decision, nothing to draft
        else:
            out[f"fields.{name}"] = columns(spec)
    if "series" in raw:
        out["series"] = columns(raw["series"])
    return out


def score(tmp_path: Path) -> tuple[int, int]:
    right = total = 0
    for name, variants in VARIANTS.items():
        truth_raw = yaml.safe_load((ROOT / "mappings" / f"{MAPPINGS[name]}.yaml").read_text())
        for n, headers in enumerate(variants):
            folder = tmp_path / f"{name}-{n}"
            folder.mkdir()
            draft = draft_mapping(renamed(folder, name, headers))
            truth = targets(truth_raw, headers)
            drafted = targets(yaml.safe_load(draft.yaml), {})
            for target, expected in truth.items():
                total += 1
                right += drafted.get(target) == expected
    return right, total


def test_drafts_map_most_targets_right_without_edits(tmp_path: Path) -> None:
    right, total = score(tmp_path)
    print(
        f"\nmapping init: {right} of {total} targets right without edits "
        f"({right / total:.0%}) over 3 samples x {sum(map(len, VARIANTS.values()))} header sets"
    )
    assert right / total >= 0.8


@pytest.mark.parametrize("name", list(VARIANTS))
def test_every_draft_is_a_valid_mapping_for_its_file(tmp_path: Path, name: str) -> None:
    draft = draft_mapping(ROOT / "samples" / name)
    path = tmp_path / "draft.yaml"
    path.write_text(draft.yaml, encoding="utf-8")
    mapping = load_mapping(path)
    mapping.check_columns(draft.table.columns, name)
    # every entry explains itself: start, end and each field carry a comment
    lines = draft.yaml.splitlines()
    block = lines[lines.index("fields:") + 1 :]
    fields = [line for line in block if line.startswith("  ") and not line.startswith("   ")]
    fields = fields[: next((i for i, f in enumerate(fields) if not f.strip()), len(fields))]
    entries = [line for line in lines if line.startswith(("start:", "end:"))] + fields
    assert len(entries) >= 3 and all("  # " in line for line in entries), entries


def test_cli_mapping_init_writes_a_draft_and_checks_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.yaml"
    with pytest.raises(SystemExit) as caught:
        main(["mapping", "init", str(ROOT / "samples" / "viewings.xlsx"), "--out", str(out)])
    printed = capsys.readouterr().out
    assert caught.value.code == 1  # the sample's deliberate mistakes
    assert f"Drafted {out}" in printed
    assert "To check: fields.erinnerung: no onOffice reminder for 10 Min" in printed
    assert "14 rows read" in printed
    with pytest.raises(SystemExit) as again:
        main(["mapping", "init", str(ROOT / "samples" / "viewings.xlsx"), "--out", str(out)])
    assert again.value.code == 2
    assert "exists" in capsys.readouterr().err
