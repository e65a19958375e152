"""The journal, the account's SQLite ledger (importer/run/journal.py), tested directly on real
SQLite files: each state a row can be left in and what moves it on, the intent durable before a
request leaves and the outcomes with the next write, one run at a time (a lock naming its
holder), one account per ledger, ledgers of earlier versions migrated or read as they are, a
disk that fails stopping the run (exit code 4), and the read-only views (snapshot, history)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import filelock
import pytest

from importer.core.errors import ConfigurationError, ExitCode, JournalError
from importer.run.journal import (
    CANCELED_REMOVED,
    CREATED,
    FAILED,
    SENDING,
    UNDONE,
    UNKNOWN,
    Entry,
    FileHistory,
    ImportRecord,
    Journal,
    data_dir,
    default_journal_path,
    entry_content,
    entry_list,
    history,
    imports,
    ledger_path,
    rows_key,
    snapshot,
)

PAYLOAD = {"data": {"description": "Übergabe Müller"}}


def _open(tmp_path: Path, **kwargs: object) -> Journal:
    journal = Journal(tmp_path / "j.sqlite", **kwargs)  # type: ignore[arg-type]
    journal.input, journal.list = "/in/viewings.xlsx", "viewings"
    return journal


def _raw(path: Path, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_a_row_goes_from_intent_to_each_outcome(tmp_path: Path) -> None:
    with _open(tmp_path) as journal:
        journal.intent("a", 2, PAYLOAD, "c-a")
        journal.intent("b", 3, PAYLOAD, "c-b")
        journal.intent("c", 4, PAYLOAD, "c-c")
        sent = journal.entry("a")
        assert sent == Entry(
            "a", SENDING, None, None, 2, 1, sent.intent_at if sent else None, PAYLOAD,
            "/in/viewings.xlsx", None, "c-a", "viewings",
        )  # fmt: skip
        assert sent is not None and sent.intent_at and len(sent.intent_at) == 19
        journal.created("a", 101)
        journal.failed("b", "255: Invalid value")
        journal.unknown("c", "timed out")
        states = {k: (e.state, e.appointment_id, e.error) for k, e in journal.entries().items()}
        assert states == {
            "a": (CREATED, 101, None),
            "b": (FAILED, None, "255: Invalid value"),
            "c": (UNKNOWN, None, "timed out"),
        }
        assert journal.entry("nothing") is None
        assert journal.claimed_ids() == {101}
    # the payload kept as text readable by anyone, umlauts as written
    (payload,) = _raw(tmp_path / "j.sqlite", "SELECT payload FROM entries WHERE fingerprint='a'")
    assert payload == (json.dumps(PAYLOAD, ensure_ascii=False),)


def test_another_attempt_counts_and_clears_the_last_outcome(tmp_path: Path) -> None:
    with _open(tmp_path) as journal:
        journal.intent("a", 2, PAYLOAD, "c1")
        journal.failed("a", "refused")
        journal.pending("a", {"data": {"x": 1}})
        journal.list, journal.input = "other", "/in/other.csv"
        journal.intent("a", 5, {"data": {}}, "c2")
        entry = journal.entry("a")
        assert entry is not None
        assert (entry.state, entry.attempts, entry.error, entry.pending) == (SENDING, 2, None, None)
        assert (entry.source_row, entry.payload, entry.content) == (5, {"data": {}}, "c2")
        assert (entry.input, entry.list) == ("/in/other.csv", "other")
        journal.created("a", 7)
        journal.failed("a", "again")  # a failed write keeps the id it had
        entry = journal.entry("a")
        assert entry is not None and (entry.state, entry.appointment_id) == (FAILED, 7)
        journal.created("a", 7)
        assert journal.entry("a").error is None  # type: ignore[union-attr]


def test_adopt_records_an_appointment_found_in_onoffice(tmp_path: Path) -> None:
    with _open(tmp_path) as journal:
        journal.adopt("new", 3, PAYLOAD, 55, None)
        journal.intent("old", 4, {"data": {}}, "c")
        journal.failed("old", "lost")
        journal.pending("old", PAYLOAD)
        journal.adopt("old", 9, PAYLOAD, 56, "c-found")
        new, old = journal.entry("new"), journal.entry("old")
    assert new is not None and old is not None
    assert (new.state, new.appointment_id, new.attempts, new.content) == (CREATED, 55, 0, None)
    assert (new.source_row, new.input, new.list) == (3, "/in/viewings.xlsx", "viewings")
    assert (old.state, old.appointment_id, old.error, old.pending) == (CREATED, 56, None, None)
    assert (old.attempts, old.source_row, old.content, old.payload) == (1, 4, "c-found", PAYLOAD)


def test_a_modify_pending_then_written_or_refused(tmp_path: Path) -> None:
    """pending: durable at once; updated: the new payload, no longer pending nor undone, the
    row's place as now (a results workbook's rows keep their own file's); settled_pending:
    refused, the old payload stays."""
    path = tmp_path / "j.sqlite"
    with _open(tmp_path) as journal:
        for key, ident in (("a", 1), ("b", 2)):
            journal.intent(key, 2, PAYLOAD, "c")
            journal.created(key, ident)
            journal.failed(key, "e")
        journal.undone(1, "deleted")
        journal.pending("a", {"data": {"new": 1}})
        assert snapshot(path, "")[0]["a"].pending == {"data": {"new": 1}}  # before any flush
        journal.input, journal.list = "/in/renamed.xlsx", "renamed"
        journal.updated("a", 8, {"data": {"new": 1}}, "c-new")
        assert journal.undone_ids() == {}
        a = journal.entry("a")
        assert a is not None
        assert (a.state, a.payload, a.pending, a.error, a.content) == (
            CREATED, {"data": {"new": 1}}, None, None, "c-new",
        )  # fmt: skip
        assert (a.source_row, a.input, a.list) == (8, "/in/renamed.xlsx", "renamed")
        journal.derived = True
        journal.input, journal.list = "/in/renamed.results.xlsx", "x"
        journal.updated("a", 9, PAYLOAD, "c-3")
        a = journal.entry("a")
        assert a is not None and (a.source_row, a.input, a.list, a.content) == (
            8, "/in/renamed.xlsx", "renamed", "c-3",
        )  # fmt: skip
        journal.pending("b", {"data": {"refused": 1}})
        journal.settled_pending("b")
        b = journal.entry("b")
        assert b is not None and (b.pending, b.payload, b.state) == (None, PAYLOAD, FAILED)


def test_rekey_seen_and_undone(tmp_path: Path) -> None:
    with _open(tmp_path) as journal:
        journal.intent("old", 2, PAYLOAD, "c")
        journal.created("old", 10)
        journal.rekey("old", "key:K1")
        assert set(journal.entries()) == {"key:K1"}
        journal.list = "mine"
        journal.intent("mine", 2, PAYLOAD, "c")
        journal.list = "theirs"
        journal.intent("theirs", 3, PAYLOAD, "c")
        journal.list, journal.input = "mine", "/in/mine.csv"
        journal.seen([])
        journal.seen([("mine", 20), ("theirs", 30), ("key:K1", 40)])
        rows = {k: (e.source_row, e.input) for k, e in journal.entries().items()}
        assert rows == {
            "mine": (20, "/in/mine.csv"),
            "theirs": (3, "/in/viewings.xlsx"),  # another list's row stays where it was
            "key:K1": (2, "/in/viewings.xlsx"),  # of list "viewings" too
        }
        journal.intent("nolist", 5, PAYLOAD, "c")
        _ = journal.entries()
        journal._db.execute("UPDATE entries SET list = NULL WHERE fingerprint = 'nolist'")
        journal.seen([("nolist", 50)])
        assert journal.entry("nolist").source_row == 50  # type: ignore[union-attr]
        journal.undone(10, "deleted")
        journal.undone(11, CANCELED_REMOVED)
        journal.undone(10, "canceled")  # the last action counts
        assert journal.undone_ids() == {10: "canceled", 11: CANCELED_REMOVED}
        assert journal.entry("key:K1").state == UNDONE  # type: ignore[union-attr]


def test_times_are_utc_and_a_plain_journal_names_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In Berlin as anywhere: the intent's time is UTC. A journal whose caller named no input
    or list records none (not an empty name); its folders are made as needed."""
    monkeypatch.setenv("TZ", "America/New_York")  # never UTC, summer or winter
    time.tzset()
    try:
        path = tmp_path / "new" / "deeper" / "j.sqlite"
        with Journal(path) as journal:
            before = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
            journal.intent("a", 2, PAYLOAD, "c")
            entry = journal.entry("a")
        after = datetime.now(UTC).replace(tzinfo=None)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert entry is not None and entry.intent_at is not None
    assert before <= datetime.strptime(entry.intent_at, "%Y-%m-%d %H:%M:%S") <= after
    assert (entry.input, entry.list) == (None, None)


def test_meta_is_kept_and_replaced(tmp_path: Path) -> None:
    with _open(tmp_path) as journal:
        assert journal.get_meta("k") is None
        journal.set_meta("k", "1")
        journal.set_meta("k", "2")
        journal.set_meta(rows_key("/in/a.csv"), "12")
    assert snapshot(tmp_path / "j.sqlite", "")[1] == {"k": "2", "rows2:/in/a.csv": "12"}


def test_the_intent_is_on_disk_at_once_the_outcomes_with_the_next_write(tmp_path: Path) -> None:
    """Another reader sees the intent as soon as intent() returns; an outcome only after the
    next durable write, a read of the journal, or its close (a crash loses at most outcomes,
    which the next run reads back from onOffice)."""
    path = tmp_path / "j.sqlite"
    journal = _open(tmp_path, power_safe=False)
    try:
        journal.intent("a", 2, PAYLOAD, "c")
        assert snapshot(path, "")[0]["a"].state == SENDING
        journal.created("a", 1)
        assert snapshot(path, "")[0]["a"].state == SENDING  # not yet
        journal.intent("b", 3, PAYLOAD, "c")
        assert snapshot(path, "")[0]["a"].state == CREATED  # with the next intent
        journal.failed("b", "e")
        journal.flush()
        assert snapshot(path, "")[0]["b"].state == FAILED
        journal.unknown("b", "u")
    finally:
        journal.close()
    assert snapshot(path, "")[0]["b"].state == UNKNOWN  # with the close


def test_power_safety_and_wal(tmp_path: Path) -> None:
    """FULL (an fsync per commit) unless told the stamp in onOffice backs it; WAL always."""
    for power_safe, level in ((True, 2), (False, 1)):
        with Journal(tmp_path / f"{power_safe}.sqlite", power_safe=power_safe) as journal:
            assert journal._db.execute("PRAGMA synchronous").fetchone() == (level,)
        assert _raw(tmp_path / f"{power_safe}.sqlite", "PRAGMA journal_mode") == [("wal",)]
    with Journal(tmp_path / "default.sqlite") as journal:
        assert journal._db.execute("PRAGMA synchronous").fetchone() == (2,)


def test_writers_of_many_threads_are_all_committed(tmp_path: Path) -> None:
    with _open(tmp_path, power_safe=False) as journal:
        unseen: list[str] = []

        def work(worker: int) -> None:
            reader = sqlite3.connect(journal.path, check_same_thread=False)
            try:
                for i in range(25):
                    key = f"{worker}-{i}"
                    journal.intent(key, i, PAYLOAD, "c")
                    # committed when intent() returns, whoever's commit carried it
                    query = "SELECT state FROM entries WHERE fingerprint = ?"
                    if reader.execute(query, (key,)).fetchone() is None:
                        unseen.append(key)
                    journal.created(key, worker * 100 + i)
            finally:
                reader.close()

        threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        entries = journal.entries()
    assert unseen == []
    assert len(entries) == 200 and {e.state for e in entries.values()} == {CREATED}
    assert len({e.appointment_id for e in entries.values()}) == 200


def test_a_second_run_on_the_same_journal_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path), pytest.raises(ConfigurationError, match="another import is running"):
        Journal(path)
    Journal(path).close()  # free again once the first is closed


def test_the_lock_names_its_holder_and_exit_code_3(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path):
        with pytest.raises(ConfigurationError) as refused:
            Journal(path)
        assert str(refused.value) == (
            f"another import is running on the journal {path} (pid {os.getpid()}); wait for it "
            "to finish"
        )
        assert refused.value.path == str(path)
        assert refused.value.exit_code == ExitCode.CONFIGURATION == 3
        (tmp_path / "j.sqlite.lock.pid").unlink()  # its holder unknown: "?"
        with pytest.raises(ConfigurationError, match=r"\(pid \?\)"):
            Journal(path)
        (tmp_path / "j.sqlite.lock.pid").write_text("  ")
        with pytest.raises(ConfigurationError, match=r"\(pid \?\)"):
            Journal(path)


def test_a_journal_belongs_to_one_account(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path, "https://a/api.php user 1") as journal:
        assert journal.get_meta("account") == "https://a/api.php user 1"
    Journal(path, "https://a/api.php user 1").close()
    Journal(path).close()  # no account named: not checked
    with pytest.raises(ConfigurationError) as refused:
        Journal(path, "https://b/api.php user 2")
    assert str(refused.value) == (
        f"the journal {path} belongs to https://a/api.php user 1, not to https://b/api.php user 2"
        "; it does not vouch for another account's appointments (leave out --journal to use "
        "this account's own)"
    )
    assert refused.value.path == str(path)
    Journal(path).close()  # the refusal let go of the lock
    with pytest.raises(ConfigurationError) as refused:
        snapshot(path, "https://b/api.php user 2")
    assert str(refused.value) == (
        f"the journal {path} belongs to https://a/api.php user 1, not to https://b/api.php user 2"
    )
    assert refused.value.path == str(path)
    assert snapshot(path, "https://a/api.php user 1") == (
        {},
        {"account": "https://a/api.php user 1"},
    )


def test_a_journal_that_cannot_be_used_is_refused_naming_it(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    inside = blocker / "j.sqlite"
    with pytest.raises(ConfigurationError) as refused:
        Journal(inside)
    assert str(refused.value) == f"cannot use the journal {inside}: File exists"
    assert refused.value.path == str(inside)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all, " * 100)
    with pytest.raises(ConfigurationError) as refused:
        Journal(garbage)
    assert str(refused.value) == (f"the journal {garbage} cannot be used (file is not a database)")
    assert refused.value.exit_code == ExitCode.CONFIGURATION
    assert refused.value.path == str(garbage)
    # the lock was let go
    filelock.FileLock(tmp_path / "garbage.sqlite.lock", blocking=False).acquire().lock.release()
    with pytest.raises(ConfigurationError) as refused:
        snapshot(garbage, "")
    assert str(refused.value) == f"the journal {garbage} cannot be read (file is not a database)"
    assert refused.value.path == str(garbage)
    assert snapshot(tmp_path / "none.sqlite", "acc") == ({}, {})
    assert not (tmp_path / "none.sqlite").exists()  # reading made none


def test_a_disk_that_fails_stops_the_run_and_the_journal_goes_on_after(tmp_path: Path) -> None:
    """A commit refused by SQLite is a JournalError (exit code 4) naming the journal; the
    outcomes queued with it fail with it; the transaction is rolled back, so the journal works
    again once the disk does."""
    path = tmp_path / "j.sqlite"
    with _open(tmp_path) as journal:
        journal.intent("a", 2, PAYLOAD, "c")
        journal.created("a", 1)
        _raw(path, "ALTER TABLE entries RENAME TO gone")
        with pytest.raises(JournalError) as stopped:
            journal.intent("b", 3, PAYLOAD, "c")
        assert stopped.value.exit_code == ExitCode.STOPPED == 4
        assert stopped.value.path == path and "no such table: entries" in stopped.value.reason
        assert str(stopped.value).startswith(f"the journal {path} cannot be written (")
        _raw(path, "ALTER TABLE gone RENAME TO entries")
        journal.intent("b", 3, PAYLOAD, "c")
        entries = journal.entries()
        assert {k: e.state for k, e in entries.items()} == {"a": SENDING, "b": SENDING}
        journal.created("b", 2)
        _raw(path, "ALTER TABLE entries RENAME TO gone")
    # the close could not commit "b created": no error (the next run reads it back)
    _raw(path, "ALTER TABLE gone RENAME TO entries")
    assert snapshot(path, "")[0]["b"].state == SENDING


OLD = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE entries (fingerprint TEXT PRIMARY KEY, state TEXT NOT NULL, "
    "appointment_id INTEGER, error TEXT, source_row INTEGER, attempts INTEGER NOT NULL "
    "DEFAULT 0, intent_at TEXT, outcome_at TEXT, payload TEXT NOT NULL);"
    "INSERT INTO entries VALUES ('f1#x', 'created', 7, NULL, 2, 1, '2026-01-01 10:00:00', "
    "NULL, '{}');"
)


def test_a_journal_of_an_earlier_version_is_read_then_migrated(tmp_path: Path) -> None:
    """Read as it is (missing columns as nothing), then opened: the new columns added, its
    rows from the last input it recorded, named by that file's list."""
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(OLD + "INSERT INTO meta VALUES ('last_input', '/in/Besichtigungen.xlsx');")
    db.close()
    (old,) = snapshot(path, "acc")[0].values()
    assert (old.state, old.appointment_id, old.input, old.list, old.content) == (
        CREATED, 7, None, None, None,
    )  # fmt: skip
    assert entry_content(old) == "f1" and entry_list(old) == ""
    with Journal(path) as journal:
        migrated = journal.entry("f1#x")
    assert migrated is not None
    assert (migrated.input, migrated.list, migrated.pending) == (
        "/in/Besichtigungen.xlsx", "Besichtigungen", None,
    )  # fmt: skip
    columns = [r[1] for r in _raw(path, "PRAGMA table_info(entries)")]
    assert columns[-4:] == ["input", "pending", "content", "list"]
    with Journal(path) as journal:  # opened again: nothing changes
        assert journal.entry("f1#x") == migrated
        journal.list = "Besichtigungen Mai"  # a list named otherwise than its file
        journal.adopt("f2", 3, PAYLOAD, 8, None)
    with Journal(path) as journal:  # a name once given stays
        assert journal.entry("f2").list == "Besichtigungen Mai"  # type: ignore[union-attr]
        assert journal.entry("f1#x") == migrated


def test_an_earlier_journal_without_a_last_input_has_rows_of_no_list(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(OLD)
    db.close()
    with Journal(path) as journal:
        entry = journal.entry("f1#x")
    assert entry is not None and (entry.input, entry.list) == (None, "")


def test_entry_content_and_list() -> None:
    def entry(fingerprint: str, content: str | None, input: str | None, list: str | None) -> Entry:
        return Entry(fingerprint, CREATED, 1, None, 2, 1, None, {}, input, None, content, list)

    assert entry_content(entry("abc#2", "c9", None, None)) == "c9"
    assert entry_content(entry("abc#2", None, None, None)) == "abc"
    assert entry_content(entry("abc", "", None, None)) == "abc"
    assert entry_content(entry("key:K1", None, None, None)) is None
    assert entry_content(entry("key:K1", "c9", None, None)) == "c9"
    assert entry_list(entry("a", None, "/in/x.results.xlsx", "named")) == "named"
    assert entry_list(entry("a", None, "/in/x.results.xlsx", None)) == "x"
    assert entry_list(entry("a", None, None, None)) == ""


def test_history_lists_each_list_newest_first(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path, "acc") as journal:
        for name, key, row in (("a", "a1", 2), ("a", "a2", 3), ("b", "b1", 2), ("a", "a3", 4)):
            journal.list = name
            journal.intent(key, row, PAYLOAD, "c")
        journal.list = "c"
        journal.intent("c1", 9, PAYLOAD, "c")
        journal.created("a1", 1)
        journal.failed("a2", "e")
        journal.list = "a"
        journal.adopt("a4", 5, PAYLOAD, 4, None)
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE entries SET intent_at = '2026-01-0' || source_row || ' 10:00:00'")
        db.execute("UPDATE entries SET intent_at = '2026-02-01 00:00:00' WHERE fingerprint='b1'")
        db.execute("UPDATE entries SET intent_at = NULL WHERE fingerprint IN ('c1', 'a4')")
    db.close()
    assert history(path, "acc") == [
        FileHistory("b", {SENDING: 1}, "2026-02-01 00:00:00"),
        FileHistory("a", {CREATED: 2, FAILED: 1, SENDING: 1}, "2026-01-04 10:00:00"),
        FileHistory("c", {SENDING: 1}, ""),  # never sent as far as it knows
    ]
    assert history(tmp_path / "none.sqlite", "acc") == []
    with pytest.raises(ConfigurationError, match="belongs to acc"):
        history(path, "other")


def test_where_ledgers_live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    account = "https://api.onoffice.de/api/stable/api.php user 17"
    digest = hashlib.sha256(account.encode()).hexdigest()[:16]
    assert data_dir() == Path(os.environ["ONOFFICE_IMPORT_DATA"])
    assert ledger_path(account) == data_dir() / "ledgers" / f"{digest}.sqlite"
    assert ledger_path(account) != ledger_path(account + "8")
    monkeypatch.delenv("ONOFFICE_IMPORT_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "onoffice-import"
    # the folder earlier versions used on macOS is no reason on another system
    (Path.home() / ".local" / "share" / "onoffice-import").mkdir(parents=True)
    assert data_dir() == tmp_path / "xdg" / "onoffice-import"
    assert rows_key("/in/a.csv") == "rows2:/in/a.csv"
    results = tmp_path / "viewings.results.xlsx"
    assert default_journal_path(results) == tmp_path / "viewings.results.journal.sqlite"


def test_an_imports_record_is_the_last_file_run_into_its_results(tmp_path: Path) -> None:
    """History opens a results workbook with what the ledger recorded for it. Sending its
    failed rows again (no input: the workbook itself) keeps the file's record; a new run of a
    file writing to the same results (a mended mapping, or viewings.csv after viewings.xlsx)
    replaced nothing, so History opened the new workbook with the old mapping and list."""
    results = str(tmp_path / "viewings.results.xlsx")
    with Journal(tmp_path / "j.sqlite", "acct") as journal:
        journal.recorded(ImportRecord(results, "viewings", "/in/viewings.xlsx", "old: 1", "v1"))
        journal.recorded(ImportRecord(results, "viewings", None, "derived: 1", "v1", at="2027"))
        (kept,) = imports(tmp_path / "j.sqlite", "acct")
        assert (kept.input, kept.mapping, kept.at) == ("/in/viewings.xlsx", "old: 1", "2027")
        journal.recorded(ImportRecord(results, "viewings", "/in/viewings.csv", "new: 2", "v2"))
    (now,) = imports(tmp_path / "j.sqlite", "acct")
    assert (now.input, now.mapping, now.mapping_name) == ("/in/viewings.csv", "new: 2", "v2")
