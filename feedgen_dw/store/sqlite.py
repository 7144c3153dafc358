"""The SQLite backend: one file in WAL mode, one connection per thread, one transaction
per poll. The queries are the shared ones of sql.py."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from feedgen_dw.errors import StoreError
from feedgen_dw.schema import MIGRATIONS, statements
from feedgen_dw.store.sql import Row, SqlStore, Writer

# Marks the file as ours, so a foreign SQLite database is refused, not overwritten.
APPLICATION_ID = 0x46475744  # "FGWD"


class _SQLiteWriter:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._db.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._db.execute(sql, params).fetchall()


class SQLiteStore(SqlStore):
    """SQLite file in WAL mode; one transaction per poll."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = str(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, timeout=30)
            self._db.row_factory = sqlite3.Row
            self._open()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: not a usable feedgen-dw database ({exc})") from None
        except OSError as exc:
            raise StoreError(f"{path}: cannot open database ({exc.strerror or exc})") from None

    def _open(self) -> None:
        db = self._db
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app_id != APPLICATION_ID and (tables or version):
            raise StoreError(
                f"{self.path}: is an SQLite database of something else; not touching it"
            )
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this feedgen-dw knows"
            )
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        if version < len(MIGRATIONS):
            with self._transaction() as w:
                for statement in statements(MIGRATIONS[version:]):
                    w.execute(statement)
                w.execute(f"PRAGMA application_id={APPLICATION_ID}")
                w.execute(f"PRAGMA user_version={len(MIGRATIONS)}")

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        return (sqlite3.Error,)

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._db.execute(sql, params).fetchall()

    @contextmanager
    def _transaction(self) -> Iterator[Writer]:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield _SQLiteWriter(db)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite rolls back by itself on I/O errors
                db.execute("ROLLBACK")
            raise
