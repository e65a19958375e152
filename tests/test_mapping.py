"""Mapping files: parsed into typed objects; broken ones report every problem with its key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from importer.core.errors import MappingError
from importer.mapping.spec import load_mapping

from .conftest import ROOT

MAPPINGS = sorted((ROOT / "mappings").glob("*.yaml"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", MAPPINGS, ids=[p.stem for p in MAPPINGS])
def test_shipped_mappings_load(path: Path) -> None:
    mapping = load_mapping(path)
    assert mapping.required_columns()


def test_mapping_is_immutable(tmp_path: Path) -> None:
    mapping = load_mapping(
        write(
            tmp_path,
            "start: {column: S}\nend: {minutes: 30}\n"
            "fields: {art: {column: T, map: {a: Besichtigung}}}\n",
        )
    )
    with pytest.raises(AttributeError):
        mapping.timezone = None  # type: ignore[misc]
    with pytest.raises(TypeError):  # its parts too: one mapping serves many runs
        mapping.fields["note"] = mapping.fields["art"]  # type: ignore[index]
    value_map = mapping.fields["art"].map
    assert value_map is not None
    with pytest.raises(TypeError):
        value_map["b"] = "Übergabe"  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("start: {colum: Start}\nend: {minutes: 30}", "start.colum", "did you mean 'column'"),
        ("start: Start\nend: {minutes: 30}\nfeilds: {}", "feilds", "did you mean 'fields'"),
        (
            "start: {column: S}\nend: {minutes: 30}\nfields: {descripton: x}",
            "fields.descripton",
            "did you mean 'description'",
        ),
        (
            "start: {column: S}\nend: {minutes: 30}\nfields: {relatedEstateId: {column: O, "
            "lookup: estates}}",
            "fields.relatedEstateId.lookup",
            "unknown look-up 'estates'",
        ),
        (
            "start: {column: S}\nend: {minutes: 30}\nfields: {relatedEstateId: {column: O, "
            "lookup: user}}",
            "fields.relatedEstateId.lookup",
            "cannot take a user look-up",
        ),
        (
            "start: {column: S}\nend: {minutes: 30}\nfields: {relatedAddressIds: {column: K, "
            "lookup: {kind: address, by: phone}}}",
            "fields.relatedAddressIds.lookup.by",
            "go by email, Email, KdNr",
        ),
        (
            "start: {column: S, formats: ['dd.mm.yyyy']}\nend: {minutes: 30}",
            "start.formats",
            "not a strptime format",
        ),
        ("end: {minutes: 30}", "start", "the start is mandatory"),
        ("start: {column: S}", "end", "say how the end is found"),
        ("start: {column: S}\nend: {minutes: -5}", "end.minutes", "a positive number"),
        (
            "start: {column: S}\nend: {minutes: 30}\nfields: {note: {column: N, value: x}}",
            "fields.note",
            "use one of column, value, template",
        ),
        (
            "start: {column: S}\nend: {minutes: 30}\nfields: {art: {column: A, map: ja_nein}}",
            "fields.art.map",
            "no map named 'ja_nein'",
        ),
        (
            "start: {column: S}\nend: {minutes: 30}\nfields: {art: {column: A, split: ','}}",
            "fields.art.split",
            "takes one value",
        ),
        (
            "start: {column: S}\nend: {minutes: 30}\ntimezone: Mars/Olympus",
            "timezone",
            "unknown time zone",
        ),
        (
            "start: {column: S}\nend: {minutes: 30}\nlocation: {type: room, column: R}",
            "location.type",
            "one of address",
        ),
        (
            "start: {column: S}\nend: {minutes: 30}\nseries: {every: I}",
            "series.repeat",
            "needs `repeat`",
        ),
        (
            "start: {column: S}\nend: {minutes: 30}\nsource: {header_row: 0}",
            "source.header_row",
            "1 or more",
        ),
        ("start: [unclosed", "line 1", "not valid YAML"),
    ],
)
def test_broken_mappings_name_the_key_path(
    tmp_path: Path, text: str, path: str, message: str
) -> None:
    with pytest.raises(MappingError) as caught:
        load_mapping(write(tmp_path, text))
    assert any(p.startswith(path) and message in m for p, m in caught.value.problems), (
        caught.value.problems
    )
    assert str(tmp_path / "m.yaml") in str(caught.value)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = "start: {colum: S}\nend: {}\nfields: {nope: x, note: {split: 3}}\n"
    with pytest.raises(MappingError) as caught:
        load_mapping(write(tmp_path, text))
    assert len(caught.value.problems) >= 4


def test_missing_columns_suggest_close_names(tmp_path: Path) -> None:
    mapping = load_mapping(
        write(
            tmp_path,
            "start: {date: Datum, time: Begin}\nend: {minutes: 30}\n"
            "fields: {description: {template: '{Terminart} {Objekt}'}}\n",
        )
    )
    with pytest.raises(MappingError) as caught:
        mapping.check_columns(["Datum", "Beginn", "Terminart", "Objekt-Nr."], "x.xlsx")
    messages = dict(caught.value.problems)
    assert "did you mean 'Beginn'?" in messages["start.time.column"]
    assert (
        "no column 'Objekt' in x.xlsx; did you mean 'Objekt-Nr.'?"
        in messages["fields.description.template"]
    )


def test_columns_match_ignoring_case_and_spaces(tmp_path: Path) -> None:
    mapping = load_mapping(
        write(tmp_path, "start: {column: [Start, Beginn]}\nend: {minutes: 30}\n")
    )
    assert mapping.check_columns(["  beginn "], "x.csv") == {
        "Start": "  beginn ",
        "Beginn": "  beginn ",
    }


def test_missing_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="mapping file not found"):
        load_mapping(tmp_path / "nope.yaml")


def test_unknown_option_values_are_refused(tmp_path: Path) -> None:
    from importer.core.errors import MappingError

    path = tmp_path / "m.yaml"
    path.write_text(
        "start: S\nend: E\noptions: {all_day_end: soon, channels_without_reminder: drop}\n",
        encoding="utf-8",
    )
    with pytest.raises(MappingError) as refused:
        load_mapping(path)
    assert "options.all_day_end: one of end-of-day, as-written" in str(refused.value)
    assert "options.channels_without_reminder: one of error, leave-out" in str(refused.value)
