"""The sandbox's SQLite store: appointments, id counters, and its own credentials.

One connection guarded by a lock: the HTTP server is multi-threaded, and serialising writes is
what guarantees that no id is allocated twice. Ids are per module, increasing, never reused
(also after a delete), and persist with the ``--db`` file.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (module TEXT PRIMARY KEY, last_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS appointments (
    id INTEGER PRIMARY KEY,
    start_dt TEXT NOT NULL,
    end_dt TEXT NOT NULL,
    modified TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS appointments_period ON appointments (start_dt, end_dt);
CREATE INDEX IF NOT EXISTS appointments_modified ON appointments (modified);
"""

FIRST_APPOINTMENT_ID = 2700


class Store:
    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- settings -------------------------------------------------------------------------------
    def setting(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_setting(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, value))

    # --- appointments ---------------------------------------------------------------------------
    def insert_appointment(self, record: dict[str, Any], modified: str) -> int:
        with self.transaction() as db:
            row = db.execute("SELECT last_id FROM counters WHERE module = 'calendar'").fetchone()
            new_id = (row[0] if row else FIRST_APPOINTMENT_ID - 1) + 1
            db.execute("INSERT OR REPLACE INTO counters VALUES ('calendar', ?)", (new_id,))
            record = {**record, "id": new_id, "modified": modified}
            db.execute(
                "INSERT INTO appointments (id, start_dt, end_dt, modified, record) "
                "VALUES (?, ?, ?, ?, ?)",
                (new_id, record["start_dt"], record["end_dt"], modified, json.dumps(record)),
            )
        return new_id

    def update_appointment(self, record: dict[str, Any], modified: str) -> None:
        record = {**record, "modified": modified}
        with self.transaction() as db:
            db.execute(
                "UPDATE appointments SET start_dt = ?, end_dt = ?, modified = ?, record = ? "
                "WHERE id = ? AND deleted = 0",
                (record["start_dt"], record["end_dt"], modified, json.dumps(record), record["id"]),
            )

    def delete_appointment(self, appointment_id: int) -> bool:
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE appointments SET deleted = 1 WHERE id = ? AND deleted = 0",
                (appointment_id,),
            )
        return cur.rowcount == 1

    def appointment(self, appointment_id: int) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT record FROM appointments WHERE id = ? AND deleted = 0", (appointment_id,)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def appointments_overlapping(self, start: str, end: str) -> list[dict[str, Any]]:
        """Appointments with start_dt <= end and end_dt >= start (strings compare as times)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT record FROM appointments WHERE deleted = 0 AND start_dt <= ? "
                "AND end_dt >= ? ORDER BY start_dt, id",
                (end, start),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def appointments_modified(self, start: str, end: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT record FROM appointments WHERE deleted = 0 AND modified BETWEEN ? AND ? "
                "ORDER BY modified, id",
                (start, end),
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def all_appointments(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT record FROM appointments WHERE deleted = 0 ORDER BY id"
            ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def count_appointments(self) -> int:
        with self._lock:
            return int(
                self._db.execute("SELECT COUNT(*) FROM appointments WHERE deleted = 0").fetchone()[
                    0
                ]
            )
