"""The journal: what was about to be sent and what came of it, durable before and after.

SQLite in WAL mode: a row's *intent* is committed before its request leaves, its *outcome*
(appointment id, or error) right after. Committed means safe from a killed process; safe from
a power cut too (``synchronous=FULL``, an fsync per commit) only where the journal is the sole
memory (``options.reference: false``): otherwise the stamp every appointment carries in
onOffice recognises what a power cut took from the journal (``synchronous=NORMAL``), and the
fsync (0.6 ms a row, measured in bench/import_bench.py) is saved. A process killed at any instant
leaves each row in one of these states, and a re-run knows what to do with each:

    (none)    never sent                      -> send
    sending   intent recorded, outcome not    -> settle by reading the calendar back
    unknown   sent, outcome could not be told -> settle by reading the calendar back
    failed    the server refused it           -> send again (it may have been fixed)
    created   the server answered with an id  -> skip: already created
    undone    created, then removed by `undo`    -> send again if the row is run again

Rows are keyed by their identity (:mod:`importer.run.identity`: the mapping's key, else the
fingerprint of the content first created). An entry keeps the payload last written to its
appointment, the input file it came from, and, while a modify is on its way, the payload being
written (``pending``). One run at a time: a lock file beside the
journal (released by the OS when the process dies, even by ``kill -9``).

A journal belongs to one account (API URL and API user, :meth:`OnOfficeClient.account`) and
says so in its meta table; opened for another account it refuses, so it never vouches for
appointments in a calendar it has not seen. By default it is the account's *ledger* in the
user's data folder (:func:`ledger_path`), which every run for that account finds, whatever the
input or the results file are called.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import filelock
import platformdirs

from ..core.errors import ConfigurationError, JournalError
from ..core.i18n import _
from ..core.stopping import phase
from ..onoffice.client import OnOfficeClient
from ..onoffice.form import MEMO_KEY, recall
from ..onoffice.reference import list_name

SENDING, UNKNOWN, FAILED, CREATED, UNDONE = "sending", "unknown", "failed", "created", "undone"
CANCELED_REMOVED = "canceled-removed"  # undo action: a run cancelled it, its row left the file
# undo actions: deleted (by undo, or a twin a run made and deleted), cancelled by undo
UNDO_DELETED, UNDO_CANCELED = "deleted", "canceled"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    fingerprint TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    appointment_id INTEGER,
    error TEXT,
    source_row INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    intent_at TEXT,
    outcome_at TEXT,
    payload TEXT NOT NULL,
    input TEXT,
    pending TEXT,
    content TEXT,
    list TEXT
);
CREATE INDEX IF NOT EXISTS entries_state ON entries (state);
CREATE TABLE IF NOT EXISTS imports (
    results TEXT PRIMARY KEY,
    list TEXT,
    input TEXT,
    mapping TEXT,
    mapping_name TEXT,
    sheet TEXT,
    header_row INTEGER,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS undo (
    appointment_id INTEGER PRIMARY KEY,
    action TEXT NOT NULL,
    at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Entry:
    fingerprint: str
    state: str
    appointment_id: int | None
    error: str | None
    source_row: int | None
    attempts: int
    intent_at: str | None
    payload: dict[str, Any]
    input: str | None = None  # the file the row was last imported from
    pending: dict[str, Any] | None = None  # a modify sent, its outcome not yet recorded
    content: str | None = None  # the fingerprint of the row's parameters last written
    list: str | None = None  # the name of the list (:func:`importer.onoffice.reference.list_name`)


Statement = tuple[str, tuple[Any, ...]]


@dataclass
class _Ticket:
    """Statements waiting to be committed, and how their commit went."""

    statements: list[Statement]
    done: bool = False
    error: JournalError | None = None
    lazy: bool = False  # nobody waits for it: a failure shows at the next durable write


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


class _Lock:
    """An exclusive lock on ``path`` that dies with the process (filelock: flock on POSIX,
    msvcrt on Windows, tested there by its maintainers); the holder's pid beside it, to name."""

    def __init__(self, path: Path, journal: Path) -> None:
        self.path = path
        self._lock = filelock.FileLock(path, blocking=False)
        holder = path.with_name(path.name + ".pid")
        try:
            self._lock.acquire()
        except filelock.Timeout:
            try:
                pid = holder.read_text(encoding="ascii").strip() or "?"
            except OSError:
                pid = "?"
            raise ConfigurationError(
                _(
                    "another import is running on the journal {journal} (pid {pid}); wait for "
                    "it to finish"
                ).format(journal=journal, pid=pid),
                path=journal,
            ) from None
        holder.write_text(str(os.getpid()), encoding="ascii")

    def release(self) -> None:
        self._lock.release()


def data_dir() -> Path:
    """Where ledgers live: $ONOFFICE_IMPORT_DATA, else the platform's per-user data folder
    (platformdirs: $XDG_DATA_HOME or ~/.local/share on Linux, %LOCALAPPDATA% on Windows,
    ~/Library/Application Support on macOS). A macOS folder of earlier versions
    (~/.local/share/onoffice-import) is kept in use: its ledgers are the account's memory."""
    if explicit := os.environ.get("ONOFFICE_IMPORT_DATA"):
        return Path(explicit)
    found = Path(platformdirs.user_data_dir("onoffice-import", appauthor=False))
    earlier = Path.home() / ".local" / "share" / "onoffice-import"
    if sys.platform == "darwin" and earlier.is_dir() and not found.is_dir():  # pragma: no cover
        return earlier
    return found


def ledger_path(account: str) -> Path:
    """The journal of one account (see :meth:`OnOfficeClient.account`)."""
    digest = hashlib.sha256(account.encode()).hexdigest()[:16]
    return data_dir() / "ledgers" / f"{digest}.sqlite"


class Journal:
    def __init__(
        self, path: str | Path, account: str | None = None, *, power_safe: bool = True
    ) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = _Lock(self.path.with_name(self.path.name + ".lock"), self.path)
        except OSError as exc:
            raise ConfigurationError(
                _("cannot use the journal {path}: {why}").format(path=self.path, why=exc.strerror),
                path=self.path,
            ) from None
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            phase("ledger")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if power_safe else 'NORMAL'}")
            self._db.executescript(_SCHEMA)
            columns = {r[1] for r in self._db.execute("PRAGMA table_info(entries)")}
            if "input" not in columns:
                self._db.execute("ALTER TABLE entries ADD COLUMN input TEXT")
            # Rows of an earlier version's journal came from the last input it recorded
            # (beside the results, a journal had one input).
            self._db.execute(
                "UPDATE entries SET input = "
                "(SELECT value FROM meta WHERE key = 'last_input') WHERE input IS NULL"
            )
            for added in ("pending", "content", "list"):
                if added not in columns:
                    self._db.execute(f"ALTER TABLE entries ADD COLUMN {added} TEXT")
            if "list" not in columns:  # ledgers before lists had names: named by their file
                for (path,) in self._db.execute("SELECT DISTINCT input FROM entries").fetchall():
                    self._db.execute(
                        "UPDATE entries SET list = ? WHERE input IS ?",
                        (list_name(path or ""), path),
                    )
        except sqlite3.Error as exc:
            self._lock.release()
            raise ConfigurationError(
                _("the journal {path} cannot be used ({why})").format(path=self.path, why=exc),
                path=self.path,
            ) from None
        except KeyboardInterrupt:  # stopped while it opens: SQLite rolls back what it began
            with contextlib.suppress(AttributeError):
                self._db.close()
            self._lock.release()
            raise
        self._mutex = threading.Lock()  # one statement on the connection at a time
        self._commits = threading.Condition()  # group commit: see _durably
        self._queue: list[_Ticket] = []
        self._committing = False
        self.input: str | None = None  # the file being imported, recorded with each entry
        self.list: str | None = None  # the name of its list, recorded with each entry
        self.derived = False  # the input is a results workbook: rows keep their own file
        if account is not None:
            self._claim(account)

    def _claim(self, account: str) -> None:
        """Stamp a new journal with its account; refuse one that belongs to another."""
        owner = self.get_meta("account")
        if owner is None:
            self.set_meta("account", account)
        elif owner != account:
            self.close()
            raise ConfigurationError(
                _(
                    "the journal {path} belongs to {owner}, not to {account}; it does not "
                    "vouch for another account's appointments (leave out --journal to use this "
                    "account's own)"
                ).format(path=self.path, owner=owner, account=account),
                path=self.path,
            )

    def close(self) -> None:
        try:
            self.flush()
        except JournalError:
            pass  # lost outcomes are read back from onOffice by the next run
        finally:
            with self._mutex:
                self._db.close()
            self._lock.release()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        self._durably([(sql, args)])

    def _record(self, sql: str, args: tuple[Any, ...], *more: Statement) -> None:
        """An outcome: committed with the next durable write (the next row's intent, normally),
        at the latest before the journal is read or closed. It need not wait for the disk: an
        outcome a crash loses is read back from onOffice by the next run (the intent is what
        must be on disk before a request leaves)."""
        with self._commits:
            self._queue.append(_Ticket([(sql, args), *more], lazy=True))

    def flush(self) -> None:
        """Commit the outcomes recorded so far (:meth:`_record`), also those a commit of
        another thread holds (in flight: not in the queue any more, not on disk yet)."""
        with self._commits:
            waiting = self._committing or any(not t.done for t in self._queue)
        if waiting:
            self._durably([])

    def _durably(self, statements: list[Statement]) -> None:
        """Commit ``statements`` in one transaction, durable (FULL) when this returns.

        Group commit: the workers of a run write at once, and each commit waits for the disk
        (fsync). Whoever finds no commit going on commits everything queued meanwhile, its own
        statements among them, in one transaction; the others wait for it. So eight workers
        share the disk's waits instead of queueing for them one by one, and nothing returns
        before it is on disk. A disk that fails stops the run (never a guess)."""
        ticket = _Ticket(statements)
        with self._commits:
            self._queue.append(ticket)
            while not ticket.done:
                if self._committing:
                    self._commits.wait()
                    continue
                self._committing = True
                batch, self._queue = self._queue, []
                error: JournalError | None = JournalError(self.path, _("interrupted"))
                self._commits.release()
                try:
                    error = self._commit(batch)
                finally:
                    self._commits.acquire()
                    self._committing = False
                    for waiting in batch:
                        waiting.done, waiting.error = True, error
                    self._commits.notify_all()
        if ticket.error is not None:  # the outcomes committed with it failed with it too
            raise ticket.error

    def _commit(self, batch: list[_Ticket]) -> JournalError | None:
        with self._mutex:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                for ticket in batch:
                    for sql, args in ticket.statements:
                        self._db.execute(sql, args)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:  # disk full, read-only, removed: stop, never guess
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                return JournalError(self.path, str(exc))
        return None

    # --- meta -----------------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self._mutex:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._write("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # --- entries --------------------------------------------------------------------------------
    _COLUMNS: Final = (
        "fingerprint",
        "state",
        "appointment_id",
        "error",
        "source_row",
        "attempts",
        "intent_at",
        "payload",
        "input",
        "pending",
        "content",
        "list",
    )
    _ENTRY: Final = f"SELECT {', '.join(_COLUMNS)} FROM entries"

    @staticmethod
    def _entry(row: tuple[Any, ...]) -> Entry:
        pending = json.loads(row[9]) if row[9] else None
        fingerprint, state, appointment_id, error, source_row, attempts, intent_at = row[:7]
        return Entry(
            fingerprint,
            state,
            appointment_id,
            error,
            source_row,
            attempts,
            intent_at,
            json.loads(row[7]),
            row[8],
            pending,
            row[10],
            row[11],
        )

    def entry(self, fingerprint: str) -> Entry | None:
        self.flush()
        with self._mutex:
            row = self._db.execute(self._ENTRY + " WHERE fingerprint = ?", (fingerprint,))
            found = row.fetchone()
        return None if found is None else self._entry(found)

    def entries(self) -> dict[str, Entry]:
        self.flush()
        with self._mutex:
            rows = self._db.execute(self._ENTRY).fetchall()
        return {r[0]: self._entry(r) for r in rows}

    def claimed_ids(self) -> set[int]:
        """Appointment ids some row already owns (a read-back must not adopt them twice)."""
        self.flush()
        with self._mutex:
            rows = self._db.execute(
                "SELECT appointment_id FROM entries WHERE appointment_id IS NOT NULL"
            ).fetchall()
        return {r[0] for r in rows}

    def intent(
        self, fingerprint: str, source_row: int, payload: dict[str, Any], content: str
    ) -> None:
        """Durably record that this row is about to be sent. Call before every attempt."""
        self._write(
            "INSERT INTO entries (fingerprint, state, source_row, attempts, intent_at, payload, "
            "input, content, list) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?) ON CONFLICT (fingerprint) "
            "DO UPDATE SET state = excluded.state, source_row = excluded.source_row, "
            "attempts = entries.attempts + 1, intent_at = excluded.intent_at, error = NULL, "
            "payload = excluded.payload, input = excluded.input, pending = NULL, "
            "content = excluded.content, list = excluded.list",
            (
                fingerprint,
                SENDING,
                source_row,
                _now(),
                _json(payload),
                self.input,
                content,
                self.list,
            ),
        )

    def adopt(
        self,
        fingerprint: str,
        source_row: int,
        payload: dict[str, Any],
        appointment_id: int,
        content: str | None,
    ) -> None:
        """Record an appointment found in onOffice with this row's reference as the row's,
        holding ``payload`` (``content`` None: what it holds is not known)."""
        self._record(
            "INSERT INTO entries (fingerprint, state, appointment_id, source_row, attempts, "
            "intent_at, outcome_at, payload, input, content, list) "
            "VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (fingerprint) DO UPDATE SET state = excluded.state, "
            "appointment_id = excluded.appointment_id, error = NULL, pending = NULL, "
            "outcome_at = excluded.outcome_at, input = excluded.input, "
            "payload = excluded.payload, content = excluded.content, list = excluded.list",
            (
                fingerprint,
                CREATED,
                appointment_id,
                source_row,
                _now(),
                _now(),
                _json(payload),
                self.input,
                content,
                self.list,
            ),
        )

    def created(self, fingerprint: str, appointment_id: int) -> None:
        self._record(
            "UPDATE entries SET state = ?, appointment_id = ?, error = NULL, outcome_at = ? "
            "WHERE fingerprint = ?",
            (CREATED, appointment_id, _now(), fingerprint),
        )

    def failed(self, fingerprint: str, error: str) -> None:
        self._record(
            "UPDATE entries SET state = ?, error = ?, outcome_at = ? WHERE fingerprint = ?",
            (FAILED, error, _now(), fingerprint),
        )

    def unknown(self, fingerprint: str, error: str) -> None:
        self._record(
            "UPDATE entries SET state = ?, error = ?, outcome_at = ? WHERE fingerprint = ?",
            (UNKNOWN, error, _now(), fingerprint),
        )

    def pending(self, fingerprint: str, payload: dict[str, Any]) -> None:
        """Durably record that a modify writing ``payload`` is about to be sent."""
        self._write(
            "UPDATE entries SET pending = ? WHERE fingerprint = ?", (_json(payload), fingerprint)
        )

    def updated(
        self, fingerprint: str, source_row: int, payload: dict[str, Any], content: str
    ) -> None:
        """The appointment now holds ``payload`` (written by a modify, or found so)."""
        # A results workbook is derived from its input: its rows stay that file's.
        place = "" if self.derived else ", source_row = ?, input = ?, list = ?"
        args = () if self.derived else (source_row, self.input, self.list)
        self._record(
            "UPDATE entries SET state = ?, payload = ?, pending = NULL, error = NULL, "
            f"intent_at = ?, outcome_at = ?, content = ?{place} WHERE fingerprint = ?",
            (CREATED, _json(payload), _now(), _now(), content, *args, fingerprint),
            # written again (made active again, say): no longer undone
            (
                "DELETE FROM undo WHERE appointment_id IN "
                "(SELECT appointment_id FROM entries WHERE fingerprint = ?)",
                (fingerprint,),
            ),
        )

    def rekey(self, old: str, new: str) -> None:
        """A row's identity changed (its mapping gained a key): its entry moves to ``new``."""
        self._write("UPDATE entries SET fingerprint = ? WHERE fingerprint = ?", (new, old))

    def seen(self, rows: list[tuple[str, int]]) -> None:
        """Rows found in the file at these places (key, source row): where they are now."""
        if not rows:
            return
        statements = [  # another list's row that holds the same stays that list's
            (
                "UPDATE entries SET source_row = ?, input = ? WHERE fingerprint = ? "
                "AND (list = ? OR list IS NULL)",
                (r, self.input, k, self.list),
            )
            for k, r in rows
        ]
        self._transaction(*statements)

    def settled_pending(self, fingerprint: str) -> None:
        """The modify was refused: the appointment still holds the entry's payload."""
        self._record("UPDATE entries SET pending = NULL WHERE fingerprint = ?", (fingerprint,))

    # --- undo -------------------------------------------------------------------------------------
    def _transaction(self, *statements: Statement) -> None:
        self._durably(list(statements))

    def undone(self, appointment_id: int, action: str) -> None:
        """Record that `undo` removed (or cancelled) this appointment, or that a run cancelled
        it because its row left the file (:data:`CANCELED_REMOVED`)."""
        self._transaction(
            ("INSERT OR REPLACE INTO undo VALUES (?, ?, ?)", (appointment_id, action, _now())),
            ("UPDATE entries SET state = ? WHERE appointment_id = ?", (UNDONE, appointment_id)),
        )

    def recorded(self, made: ImportRecord) -> None:
        """Record where a run writes its results workbook, and what opening it on a later day
        needs (the mapping as used, the sheet): History finds every import of the account by
        it, the CLI's too. A later run of the same workbook (its failed rows sent again, no
        ``input``) keeps what the first recorded and says when; a run of a file (the same one
        with a mended mapping, or another writing to this path) records itself instead."""
        keep = "IGNORE" if made.input is None else "REPLACE"
        self._transaction(
            (
                f"INSERT OR {keep} INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    made.results,
                    made.list,
                    made.input,
                    made.mapping,
                    made.mapping_name,
                    made.sheet,
                    made.header_row,
                    made.at or _now(),
                ),
            ),
            ("UPDATE imports SET at = ? WHERE results = ?", (made.at or _now(), made.results)),
        )

    def moved(self, old: str, new: str) -> None:
        """An import's results workbook is at ``new`` now (it was given back to History)."""
        self._transaction(("UPDATE imports SET results = ? WHERE results = ?", (new, old)))

    def undone_ids(self) -> dict[int, str]:
        self.flush()
        with self._mutex:
            rows = self._db.execute("SELECT appointment_id, action FROM undo").fetchall()
        return dict(rows)


def snapshot(path: str | Path, account: str) -> tuple[dict[str, Entry], dict[str, str]]:
    """The entries and meta of a journal, read only and without its lock (a run may be going
    on); empty when there is none yet. Refuses a journal of another account, as
    :class:`Journal`."""
    path = Path(path)
    if not path.exists():
        return {}, {}
    with _read_only(path) as db:
        owner = db.execute("SELECT value FROM meta WHERE key = 'account'").fetchone()
        if owner is not None and owner[0] != account:
            raise ConfigurationError(
                _("the journal {path} belongs to {owner}, not to {account}").format(
                    path=path, owner=owner[0], account=account
                ),
                path=path,
            )
        columns = {r[1] for r in db.execute("PRAGMA table_info(entries)")}
        # a journal of an earlier version, not migrated yet: its missing columns as NULL
        present = [c if c in columns else "NULL" for c in Journal._COLUMNS]
        select = f"SELECT {', '.join(present)} FROM entries"
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        return {r[0]: Journal._entry(r) for r in db.execute(select)}, meta


def recall_account(client: OnOfficeClient, path: str | Path | None = None) -> None:
    """What this computer's ledger of the account keeps of its form (how it shows types, what
    a modify does to participants: :func:`importer.onoffice.form.recall`), for a report that
    runs nothing. A ledger missing, of another account, or unreadable teaches nothing."""
    account = client.account()
    path = Path(path) if path is not None else ledger_path(account)
    if not path.exists():
        return
    try:
        with _read_only(path) as db:
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    except (ConfigurationError, sqlite3.Error):
        return
    if meta.get("account", account) == account:
        recall(client, meta.get(MEMO_KEY))


def deleted(undone: dict[int, str]) -> frozenset[int]:
    """The appointments :meth:`Journal.undone_ids` says were deleted (known gone)."""
    return frozenset(n for n, action in undone.items() if action == UNDO_DELETED)


def deleted_in(path: str | Path) -> frozenset[int]:
    """:func:`deleted` of the journal at ``path``, read only as :func:`snapshot` (which checks
    its account); none when there is no journal, or one of a version without undo."""
    path = Path(path)
    if not path.exists():
        return frozenset()
    with _read_only(path) as db:
        try:
            rows = db.execute("SELECT appointment_id, action FROM undo").fetchall()
        except sqlite3.OperationalError:
            return frozenset()
    return deleted(dict(rows))


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    """A journal opened read only, without its lock; one SQLite cannot read is refused,
    naming it."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            yield db
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise ConfigurationError(
            _("the journal {path} cannot be read ({why})").format(path=path, why=exc), path=path
        ) from None


@dataclass(frozen=True)
class ImportRecord:
    """An import as the ledger recorded it (:meth:`Journal.recorded`)."""

    results: str  # the results workbook's absolute path when it was written
    list: str
    input: str | None
    mapping: str  # the mapping's text as the run used it (no secret)
    mapping_name: str
    sheet: str | None = None
    header_row: int | None = None
    at: str = ""  # UTC, "YYYY-MM-DD HH:MM:SS", of the last run that wrote it


def imports(path: str | Path, account: str) -> list[ImportRecord]:
    """The imports recorded in the journal at ``path`` (read only, as :func:`snapshot`),
    newest first; none in a journal of a version before they were recorded."""
    path = Path(path)
    if not path.exists():
        return []
    with _read_only(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        if "imports" not in tables:
            return []
        owner = db.execute("SELECT value FROM meta WHERE key = 'account'").fetchone()
        if owner is not None and owner[0] != account:  # another account's: none of ours
            return []
        rows = db.execute(
            "SELECT results, list, input, mapping, mapping_name, sheet, header_row, at "
            "FROM imports ORDER BY at DESC"
        ).fetchall()
    return [ImportRecord(*row) for row in rows]


def reclaim(path: str | Path, account: str) -> None:
    """Give a journal to ``account``: only for the practice sandbox's own ledger, whose
    calendar is the same whatever port the sandbox listens on this time (its account's name
    holds the URL)."""
    with Journal(path) as journal:
        journal.set_meta("account", account)


@dataclass(frozen=True)
class FileHistory:
    """What the ledger knows of the rows of one imported file."""

    input: str  # the list's name (its file's name without the extension)
    states: dict[str, int]  # entries per state (created, failed, unknown, ...)
    last: str  # when a row of it was last sent (UTC, "YYYY-MM-DD HH:MM:SS")


def entry_content(entry: Entry) -> str | None:
    """The fingerprint of the row content an entry's appointment holds (ledgers before it was
    recorded: the key, where the key is a content's)."""
    if entry.content:
        return entry.content
    if entry.fingerprint.startswith("key:"):
        return None
    return entry.fingerprint.split("#")[0]


def entry_list(entry: Entry) -> str:
    """The name of the list an entry's row belongs to (ledgers before lists had names: its
    file's)."""
    return entry.list or list_name(entry.input or "")


def history(path: str | Path, account: str) -> list[FileHistory]:
    """The lists imported into ``account`` through the journal at ``path``, newest first
    (read only, as :func:`snapshot`): a list's file and its results workbook are one."""
    entries, _meta = snapshot(path, account)
    files: dict[str, tuple[dict[str, int], str]] = {}
    for entry in entries.values():
        name = entry_list(entry)
        states, last = files.setdefault(name, ({}, ""))
        states[entry.state] = states.get(entry.state, 0) + 1
        files[name] = (states, max(last, entry.intent_at or ""))
    found = [FileHistory(name, states, last) for name, (states, last) in files.items()]
    return sorted(found, key=lambda f: f.last, reverse=True)


def _json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def rows_key(input_path: str) -> str:
    """The meta key holding how many rows the file had at its last run.

    "rows2": rows numbered as a spreadsheet shows them (a CSV record with line breaks is one
    row). Ledgers of the versions that numbered CSV text lines have only "rows:", so their
    rows are not matched by place until a run has recorded where every row is now."""
    return f"rows2:{input_path}"


def default_journal_path(results: Path) -> Path:
    return results.with_name(f"{results.stem}.journal.sqlite")
