"""When a row starts and ends (importer/mapping/schedule.py): 24:00, all-day ends, midnight."""

from __future__ import annotations

from pathlib import Path

from importer import check
from importer.mapping.spec import load_mapping

from .files import write_csv


def sent(tmp_path: Path, text: str, mapping: str) -> list[dict[str, object] | None]:
    source = write_csv(tmp_path / "in.csv", text)
    path = tmp_path / "m.yaml"
    path.write_text(mapping, encoding="utf-8")
    outcomes = check(source, load_mapping(path), report=False).outcomes
    return [o.parameters for o in outcomes]


def test_an_all_day_end_is_kept_as_written_when_the_mapping_says_so(tmp_path: Path) -> None:
    text = "Von;Bis;Ganztags\n02.03.2030 08:00;04.03.2030 17:30;ja\n05.03.2030;05.03.2030;ja\n"
    base = "start: Von\nend: Bis\nall_day: Ganztags\n"
    default = sent(tmp_path, text, base)
    kept = sent(tmp_path, text, base + "options: {all_day_end: as-written}\n")
    ends = [[p["data"]["end_dt"] for p in run] for run in (default, kept)]  # type: ignore[index]
    assert ends == [
        ["2030-03-04 23:59:59", "2030-03-05 23:59:59"],
        ["2030-03-04 17:30:00", "2030-03-05 23:59:59"],  # a date alone still ends the day
    ]
    starts = [p["data"]["start_dt"] for p in kept]  # type: ignore[index]
    assert starts == ["2030-03-02 00:00:00", "2030-03-05 00:00:00"]


def test_24_00_in_a_date_and_time_column_is_the_end_of_that_day(tmp_path: Path) -> None:
    text = "Von;Bis\n02.03.2030 22:00;02.03.2030 24:00\n02.03.2030 22:00;2030-03-02T24:00:00\n"
    params = sent(tmp_path, text, "start: Von\nend: Bis\n")
    assert [p["data"]["end_dt"] for p in params] == ["2030-03-03 00:00:00"] * 2  # type: ignore[index]


def test_an_all_day_row_ending_at_midnight_ends_the_day_before(tmp_path: Path) -> None:
    text = (
        "Von;Bis;Ganztags\n"
        "05.03.2030;05.03.2030 24:00;ja\n"  # the end of 05.03.: one day
        "05.03.2030;07.03.2030 00:00;ja\n"  # midnight before 07.03.: two days
        "05.03.2030;06.03.2030;ja\n"  # a date: that day included, two days
    )
    params = sent(tmp_path, text, "start: Von\nend: Bis\nall_day: Ganztags\n")
    assert [p["data"]["end_dt"] for p in params] == [  # type: ignore[index]
        "2030-03-05 23:59:59",
        "2030-03-06 23:59:59",
        "2030-03-06 23:59:59",
    ]


def test_24_00_is_no_start(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", "Von;Bis\n02.03.2030 24:00;03.03.2030 01:00\n")
    path = tmp_path / "m.yaml"
    path.write_text("start: Von\nend: Bis\n", encoding="utf-8")
    outcome = check(source, load_mapping(path), report=False).outcomes[0]
    assert [p.code for p in outcome.errors] == ["bad-datetime"]
    assert "24:00 is allowed for an end only" in outcome.errors[0].message


def test_a_repeated_end_time_names_the_end_cells(tmp_path: Path) -> None:
    """Issue 31: the warning for an end that happens twice (the clocks go back) named the
    start's cells ("Datum, Beginn"); it names the cells the end is read from."""
    text = (
        "Datum;Beginn;Ende;Dauer\n"
        "31.10.2027;01:30;02:30;60\n"  # the end happens twice
        "31.10.2027;02:30;03:30;60\n"  # the start happens twice
    )
    mapping = "start: {date: Datum, time: Beginn}\nend: {time: Ende}\n"
    by_end = write_csv(tmp_path / "in.csv", text)
    path = tmp_path / "m.yaml"
    found = {}
    for name, end in (("time", "{time: Ende}"), ("duration", "{duration: Dauer}")):
        path.write_text(mapping.replace("{time: Ende}", end), encoding="utf-8")
        outcomes = check(by_end, load_mapping(path), report=False).outcomes
        found[name] = [
            [(p.columns, p.field) for p in o.warnings if p.code == "time-ambiguous"]
            for o in outcomes
        ]
    start = (("Datum", "Beginn"), "start_dt")
    assert found["time"] == [[(("Ende",), "end_dt")], [start]]
    assert found["duration"] == [[(("Datum", "Beginn", "Dauer"), "end_dt")], [start]]
