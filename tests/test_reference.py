"""The import stamp (importer/onoffice/reference.py): formats that outlive a version.

Every appointment an import ever wrote is found again by these values: a change to the salt of a
reference, to the list tag's case-folding or to the stamp's text would orphan every appointment
imported before an upgrade. So each is pinned by a golden value computed by the version before
issue 30 (commit 2e7f3f8) and unchanged since.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from importer.onoffice.reference import (
    Stamp,
    found_in,
    list_filter,
    list_name,
    list_tag,
    note_without_reference,
    read_stamp,
    reference,
    with_reference,
    with_stamp,
    without_reference,
)

FULL = Stamp(
    "3f9a1c07d2e4b856",
    "9c1e55aa",
    12,
    True,
    "5d2c9a0e1b7f",
    "8e1f0a2b3c4d",
    "7f3a09c2",
    1796400000,
    "d75bc0545ee6e0ec0e111fbe86280e235bf1e63b5a5f8754b0b381f8b151",
)


def test_golden_references_and_list_tags() -> None:
    assert reference("abc") == "d00a154f8bfae022"
    assert reference("K:B-001") == "e30c9f9d08e01891"
    # a list is its name, compared without case
    assert list_tag("Besichtigungen") == "19152db8"
    assert list_tag("BESICHTIGUNGEN") == "19152db8"
    assert list_tag("besichtigungen") == "19152db8"
    assert list_tag("Besichtigungen 2") != "19152db8"
    assert list_filter("19152db8") == "%onoffice-import list 19152db8 %"


def test_golden_row_references() -> None:
    """The reference of each form a row identity takes (importer/run/identity.py): a key's
    (``key:`` and 32 hex of its columns' values), a content's fingerprint (32 hex), and the
    fingerprint of an allowed duplicate with its occurrence number."""
    key = "key:" + hashlib.sha256(b'[["Nr", "B-001"]]').hexdigest()[:32]
    assert key == "key:b72157d706e729a824c08a8aee78a05f"
    assert reference(key) == "eb8b1ecbc602e905"
    assert reference("5d2c9a0e1b7f40a1c3e5d7f9a1b3c5d7") == "596111548974e28b"
    assert reference("5d2c9a0e1b7f40a1c3e5d7f9a1b3c5d7#2") == "cd1204f8200a2196"
    # the salt, independently of the code
    salted = hashlib.sha256(b"onoffice-import:5d2c9a0e1b7f40a1c3e5d7f9a1b3c5d7#2")
    assert reference("5d2c9a0e1b7f40a1c3e5d7f9a1b3c5d7#2") == salted.hexdigest()[:16]
    assert (
        list_tag("Besichtigungen")
        == hashlib.sha256(b"onoffice-import list:besichtigungen").hexdigest()[:8]
    )


def test_golden_stamp_text() -> None:
    assert FULL.text() == (
        "onoffice-import ref 3f9a1c07d2e4b856\n"
        "onoffice-import list 9c1e55aa row 12 key v 5d2c9a0e1b7f 8e1f0a2b3c4d by 7f3a09c2 "
        "at 1796400000 f d75bc0545ee6e0ec0e111fbe86280e235bf1e63b5a5f8754b0b381f8b151"
    )
    assert Stamp("3f9a1c07d2e4b856").text() == "onoffice-import ref 3f9a1c07d2e4b856"
    # the two-line stamp before field digests and times (as issue 30 found them written)
    earlier = Stamp(
        "3f9a1c07d2e4b856", "9c1e55aa", 3, False, "5d2c9a0e1b7f", "8e1f0a2b3c4d", "7f3a09c2"
    )
    assert earlier.text() == (
        "onoffice-import ref 3f9a1c07d2e4b856\n"
        "onoffice-import list 9c1e55aa row 3 v 5d2c9a0e1b7f 8e1f0a2b3c4d by 7f3a09c2"
    )
    # a row not known is row 0
    assert "list 9c1e55aa row 0 v " in replace(earlier, row=None).text()


@pytest.mark.parametrize(
    "stamp",
    [
        FULL,
        Stamp("3f9a1c07d2e4b856"),  # the one-line stamp of the first versions
        Stamp(  # the two-line stamp before field digests (issue 30)
            "3f9a1c07d2e4b856", "9c1e55aa", 3, False, "5d2c9a0e1b7f", "8e1f0a2b3c4d", "7f3a09c2"
        ),
    ],
)
def test_every_stamp_version_reads_back_as_written(stamp: Stamp) -> None:
    for note in (stamp.text(), f"Schlüssel beim Hausmeister\n\n{stamp.text()}"):
        assert read_stamp(note) == stamp
        assert read_stamp(note.replace("\n", "\r\n")) == stamp  # a server storing CRLF
        assert found_in(note) == {stamp.ref}
    assert stamp.complete == bool(stamp.list_tag)


def test_a_stamp_with_damaged_field_digests_is_read_without_them() -> None:
    damaged = FULL.text()[:-1]  # 59 hex digits: not the f part
    found = read_stamp(damaged)
    assert found is not None
    assert found.ref == FULL.ref


def test_the_stamp_is_the_notes_last_lines_and_comes_off_whole() -> None:
    params = {"data": {"note": "Schlüssel beim Hausmeister", "start_dt": "x"}}
    stamped = with_stamp(params, FULL)
    assert stamped["data"]["note"] == f"Schlüssel beim Hausmeister\n\n{FULL.text()}"
    assert params["data"]["note"] == "Schlüssel beim Hausmeister"  # a copy
    assert without_reference(stamped) == params
    # a note stamped again keeps one stamp, and a person's text below it stays
    again = with_stamp(stamped, FULL)
    assert again["data"]["note"].count("onoffice-import ref") == 1
    below = f"{FULL.text()}\nvon Frau Krüger ergänzt"
    assert note_without_reference(below) == "von Frau Krüger ergänzt"
    bare = with_reference({"data": {}}, "3f9a1c07d2e4b856")
    assert bare["data"]["note"] == "onoffice-import ref 3f9a1c07d2e4b856"
    assert without_reference(bare) == {"data": {}}


def test_a_note_without_a_stamp_has_none() -> None:
    assert read_stamp("Schlüssel beim Hausmeister") is None
    assert read_stamp("") is None
    assert found_in("Schlüssel beim Hausmeister") == set()
    assert note_without_reference("") == ""
    # a payload without a note, or without data, is as it was
    assert without_reference({"data": {}}) == {"data": {}}
    assert without_reference({"data": {"note": None}}) == {"data": {"note": None}}
    assert without_reference({}) == {}
    assert with_stamp({}, FULL) == {"data": {"note": FULL.text()}}
    assert with_stamp({"data": {"note": None}}, FULL)["data"]["note"] == FULL.text()


def test_the_last_of_several_stamps_counts() -> None:
    other = Stamp("0000000000000001")
    assert read_stamp(f"{other.text()}\n\n{FULL.text()}") == FULL
    assert found_in(f"{other.text()}\n\n{FULL.text()}") == {other.ref, FULL.ref}


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("Besichtigungen.xlsx", "Besichtigungen"),
        ("/daten/Besichtigungen.csv", "Besichtigungen"),
        ("Besichtigungen.results.xlsx", "Besichtigungen"),
        ("Besichtigungen.check.xlsx", "Besichtigungen.check"),  # its Summary names the list
        (".results.xlsx", ".results"),
        ("Besichtigungen .results.xlsx", "Besichtigungen"),
        ("Besichtigungen 2027.03.xlsx", "Besichtigungen 2027.03"),
        ("Liste", "Liste"),
    ],
)
def test_a_list_is_known_by_its_file_name(path: str, name: str) -> None:
    assert list_name(path) == name
