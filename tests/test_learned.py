"""What an account has shown of its appointment types (importer/onoffice/learned.py), tested
directly: confirmed (shown or taken), refused (and no longer once shown or taken), kept in the
ledger's text and read back from it, a damaged text read as nothing learned; and the types the
real sandbox shows over HTTP, learned as the account shows them."""

from __future__ import annotations

import json
from pathlib import Path

from importer.onoffice.learned import LEDGER_KEY, Learned
from importer.onoffice.readback import Appointment, read_ids
from importer.run.journal import Journal
from importer.sandbox import Sandbox
from tests.helpers import client_for

TYPES = ("Besichtigung", "Uebergabe")  # keys of the sandbox's agency.json


def _seen(*types: str, key: str = "") -> Appointment:
    return Appointment(
        id=1, series=1, starts=frozenset(), ends=frozenset(), subject="", note="",
        types=frozenset(types), users=None, participants=frozenset(), resources=frozenset(),
        resource_names=frozenset(), addresses=frozenset(), estates=frozenset(), modified=None,
        cancelled=False, via="read calendar", type_key=key,
    )  # fmt: skip


def test_nothing_learned_is_false_and_each_part_makes_it_true() -> None:
    assert not Learned()
    assert Learned(shown={"a": "A"}) and Learned(refused={"a": "x"}) and Learned(taken={"a"})


def test_loads_reads_what_dumps_wrote() -> None:
    learned = Learned({"Besichtigung": "Besichtigung", "k1": "Übergabe"}, {"Kaffee": "255"})
    learned.taken = {"Notar", "Abnahme"}
    text = learned.dumps()
    assert json.loads(text) == {
        "shown": {"Besichtigung": "Besichtigung", "k1": "Übergabe"},
        "refused": {"Kaffee": "255"},
        "taken": ["Abnahme", "Notar"],  # sorted: the same memory, the same text
    }
    assert "Übergabe" in text  # as written, not \u-escaped
    assert list(json.loads(text)) == ["refused", "shown", "taken"]  # keys sorted
    assert Learned.loads(text) == learned


def test_a_damaged_or_missing_text_is_nothing_learned() -> None:
    for text in (None, "", "{", "[1, 2]", '"text"', "null", "42"):
        assert Learned.loads(text) == Learned(), text
    # parts of the wrong shape are dropped, the others kept; empty keys dropped
    partly = Learned.loads('{"shown": ["a"], "refused": {"x": 255, "": "y"}, "taken": {"a": 1}}')
    assert partly == Learned({}, {"x": "255"}, set())
    partly = Learned.loads('{"shown": {"1": 2}, "taken": ["b", "", null, 7]}')
    assert partly == Learned({"1": "2"}, {}, {"b", "7"})
    assert Learned.loads('{"taken": "ab"}').taken == set()


def test_saw_confirms_key_and_label() -> None:
    """The key is `art`'s key where the read shows it, else the smaller text; the label the
    other text (the key itself when it shows one text only)."""
    learned = Learned()
    learned.saw([_seen("k1", "Übergabe", key="k1"), None, _seen(), _seen("Besichtigung")])
    assert learned.shown == {"k1": "Übergabe", "Besichtigung": "Besichtigung"}
    learned = Learned()
    learned.saw([_seen("b", "a")])  # no key shown: the smaller one is the key
    assert learned.shown == {"a": "b"}
    learned = Learned()
    learned.saw([_seen("a", "b", key="b")])  # the key shown, though it sorts later
    assert learned.shown == {"b": "a"}


def test_a_label_seen_once_is_kept() -> None:
    learned = Learned()
    learned.saw([_seen("k1")])
    assert learned.shown == {"k1": "k1"}
    learned.saw([_seen("k1", "Übergabe", key="k1")])  # the label is learned later
    assert learned.shown == {"k1": "Übergabe"}
    learned.saw([_seen("k1", key="k1"), _seen("k1", "Zzz", key="k1")])  # not forgotten
    assert learned.shown == {"k1": "Übergabe"}


def test_seeing_a_type_ends_its_refusal_key_and_label() -> None:
    learned = Learned(refused={"k1": "255", "Übergabe": "252", "Kaffee": "255"})
    learned.saw([_seen("k1", "Übergabe", key="k1")])
    assert learned.refused == {"Kaffee": "255"}
    learned = Learned(refused={"k1": "255", "A": "252", "B": "252", "C": "252"})
    learned.saw([_seen("k1", "A", "B", key="k1")])  # every other text shown too
    assert learned.refused == {"C": "252"}
    assert learned.shown == {"k1": "A"}


def test_took_confirms_as_written_and_ends_a_refusal() -> None:
    learned = Learned(refused={"Notar": "255", "Kaffee": "255"})
    learned.took("Notar")
    learned.took("")
    learned.took("Abnahme")  # never refused
    assert learned.taken == {"Notar", "Abnahme"} and learned.refused == {"Kaffee": "255"}


def test_a_refusal_counts_only_for_a_type_neither_shown_nor_taken() -> None:
    learned = Learned(shown={"k1": "Übergabe"}, taken={"Notar"})
    for value in ("k1", "Notar", ""):
        learned.refused_with(value, "255: Invalid value for parameter art")
    assert learned.refused == {}
    learned.refused_with("Kaffee", "255: Invalid value for parameter art")
    learned.refused_with("Übergabe", "252")  # a label only: the refusal stands
    assert learned.refused == {
        "Kaffee": "255: Invalid value for parameter art",
        "Übergabe": "252",
    }


def test_choices_are_the_shown_and_the_taken_no_shown_type_answers_to() -> None:
    learned = Learned(
        shown={"k1": "Übergabe", "Besichtigung": "Besichtigung"},
        refused={"Kaffee": "255"},
        taken={"Übergabe", "k1", "Notar", "Abnahme"},
    )
    choices = learned.choices()
    assert choices == {
        "Abnahme": "Abnahme",
        "Notar": "Notar",
        "k1": "Übergabe",
        "Besichtigung": "Besichtigung",
    }
    assert list(choices) == ["Abnahme", "Notar", "k1", "Besichtigung"]
    assert Learned().choices() == {}


def test_the_types_the_sandbox_shows_are_learned_and_kept_in_the_ledger(tmp_path: Path) -> None:
    """Over HTTP: what `read calendar` answers, read back, is learned as the account shows it;
    kept under the ledger's key and read back alike."""
    day = {"start_dt": "2027-03-01 10:00:00", "end_dt": "2027-03-01 11:00:00"}
    with Sandbox(port=0) as sb, client_for(sb) as client:
        ids = [client.create_appointment({"data": {**day, "art": t}}) for t in TYPES]
        found = read_ids(client, ids)
    learned = Learned()
    learned.refused_with("Besichtigung", "255: Invalid value for parameter art")
    learned.saw(found.values())
    assert learned.shown == {"Besichtigung": "Besichtigung", "Uebergabe": "Übergabe"}
    assert not learned.refused
    with Journal(tmp_path / "ledger.sqlite") as journal:
        journal.set_meta(LEDGER_KEY, learned.dumps())
        assert Learned.loads(journal.get_meta(LEDGER_KEY)) == learned
