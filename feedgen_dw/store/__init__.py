"""State between polls, behind one small interface, on SQLite or PostgreSQL.

`Store` is what poll_feed() needs; sql.py holds its queries for both backends,
sqlite.py the default (a file, one machine), postgres.py the database several daemons
share. `open_store(database)` picks the backend from the config's `database:`: a path,
or a postgresql:// URL. psycopg is imported only for the latter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Protocol

from feedgen_dw.model import ArticleState, EntryXml, FeedItem, FeedStatus, HttpState
from feedgen_dw.store.sql import SqlStore
from feedgen_dw.store.sqlite import APPLICATION_ID, SQLiteStore

__all__ = ["APPLICATION_ID", "SQLiteStore", "SqlStore", "Store", "is_postgres_url",
           "open_store", "served_documents"]


class Store(Protocol):
    """What the poll needs from a state backend."""

    keeps_documents: bool  # PostgreSQL: documents kept in the poll's transaction

    def load_article(self, feed: str, article_id: str) -> ArticleState | None: ...

    def latest_article(self, feed: str, sections: bool = False) -> ArticleState | None: ...

    def has_articles(self, feed: str) -> bool: ...

    def recent_articles(
        self, feed: str, since: datetime) -> list[tuple[str, str, str | None]]: ...

    def save_poll(
        self, feed: str, articles: Sequence[ArticleState], now: datetime,
        http: HttpState | None = None, changed: bool = False,
        previous: Sequence[ArticleState] = (),
    ) -> None: ...

    def record_failure(self, feed: str, error: str, now: datetime) -> None: ...

    def status(self, feed: str) -> FeedStatus: ...

    def items(self, feed: str, limit: int) -> list[FeedItem]: ...

    def mark_rendered(self, feed: str, entries: Mapping[str, EntryXml] | None = None,
                      documents: Mapping[str, bytes] | None = None) -> set[str] | None: ...

    def put_documents(self, documents: Mapping[str, bytes]) -> set[str] | None: ...

    def render_again(self, feed: str) -> None: ...

    def overview(self) -> dict[str, tuple[str | None, str | None, int]]: ...

    def statuses(self) -> dict[str, FeedStatus]: ...

    def nodes(self) -> tuple[dict[str, str], dict[str, tuple[datetime, int]]]: ...

    def newest(self, feeds: Sequence[str],
               limit: int) -> dict[str, list[tuple[str, datetime]]]: ...

    def poll_transaction(self) -> AbstractContextManager[None]: ...

    def after_commit(self, action: Callable[[], object]) -> None: ...

    def close(self) -> None: ...


def is_postgres_url(database: Path | str) -> bool:
    """True for a postgresql:// or postgres:// URL (a path is a SQLite file)."""
    return isinstance(database, str) and database.startswith(("postgresql://", "postgres://"))


def served_documents(database: Path | str) -> Callable[[str], tuple[bytes, int] | None] | None:
    """What `serve` serves for a PostgreSQL state: the documents in the database (the
    last copy of each while the database is away); None for a SQLite state (its files)."""
    if isinstance(database, Path):
        return None
    from feedgen_dw.store.postgres import Documents

    return Documents(open_store(database))


def open_store(database: Path | str, connections: int = 4) -> SqlStore:
    """The store at `database`: a SQLite file, or a PostgreSQL URL (a pool of at most
    `connections`: a daemon's workers each hold one from a poll's first write to its
    commit)."""
    if isinstance(database, Path):
        return SQLiteStore(database)
    from feedgen_dw.store.postgres import PostgresStore

    return PostgresStore(database, connections)
