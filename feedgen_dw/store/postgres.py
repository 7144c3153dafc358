"""The PostgreSQL backend: psycopg 3 over a connection pool, the queries of sql.py.

Several nodes share one database: the schema is created and migrated on open under an
advisory lock, so nodes starting together migrate it once. The password comes from the
URL, PGPASSWORD or ~/.pgpass (libpq reads them); messages never show it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from feedgen_dw.errors import StoreError
from feedgen_dw.schema import postgres_migrations, statements
from feedgen_dw.store.sql import Row, SqlStore, Writer, one_line

SCHEMA_LOCK = 0x46475744  # advisory lock key while the schema is checked or migrated
CONNECT_TIMEOUT = 5  # seconds to reach the server
POOL_TIMEOUT = 10.0  # seconds a query waits for a connection: a poll fails after that
PROBE_EVERY = 2.0  # seconds between attempts to reach a database that went away

# the pool logs every failed reconnect; the poll that fails says it once
logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


@lru_cache(maxsize=256)
def _pg(sql: str) -> str:
    return sql.replace("?", "%s")


class _PgWriter:
    def __init__(self, conn: psycopg.Connection[Row]) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._conn.execute(_pg(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            with self._conn.cursor() as cur:
                cur.executemany(_pg(sql), rows)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(_pg(sql), params).fetchall()


class _Pinned:
    """The transaction of one poll_transaction(): begun at the thread's first write."""

    def __init__(self) -> None:
        self.pool: ConnectionPool[psycopg.Connection[Row]] | None = None
        self.conn: psycopg.Connection[Row] | None = None
        self.tx: AbstractContextManager[Any] | None = None
        self.after: list[Callable[[], object]] = []


class PostgresStore(SqlStore):
    """A PostgreSQL database shared by any number of nodes; one transaction per poll."""

    GREATEST = "greatest"
    keeps_documents = True

    def __init__(self, url: str, max_connections: int = 4) -> None:
        self.url = url
        self.name = redact(url)
        self._max = max_connections
        self._lock = threading.Lock()
        self._local = threading.local()  # the poll_transaction() of each thread
        self._down_at: float | None = None  # when the database was found gone
        self._closed = False
        try:
            # reach the server first with libpq's own connect timeout: the pool would
            # wait on a timed lock, which never ends under a faked clock
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT).close()
        except psycopg.Error as exc:
            raise StoreError(f"{self.name}: cannot open database ({one_line(exc)})") from None
        try:
            self._pool = self._new_pool()
        except psycopg.Error as exc:  # a malformed URL
            raise StoreError(f"{self.name}: cannot use this database URL "
                             f"({one_line(exc)})") from None
        try:
            self._open()
        except StoreError:
            self._pool.close()
            raise
        except self._driver_errors() as exc:
            self._pool.close()
            raise StoreError(f"{self.name}: cannot open database ({one_line(exc)})") from None

    def _open(self) -> None:
        migrations = postgres_migrations()
        with self._transaction() as w:
            w.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
            found = w.rows(
                "SELECT to_regclass('feedgen_dw_schema') IS NOT NULL AS ours, "
                "to_regclass('feeds') IS NOT NULL OR to_regclass('sections') IS NOT NULL "
                "AS others")[0]
            if not found["ours"]:
                if found["others"]:
                    raise StoreError(f"{self.name}: holds tables of something else; "
                                     "not touching it")
                w.execute("CREATE TABLE feedgen_dw_schema (version INTEGER NOT NULL)")
                w.execute("INSERT INTO feedgen_dw_schema (version) VALUES (0)")
            version = w.rows("SELECT version FROM feedgen_dw_schema")[0]["version"]
            if version > len(migrations):
                raise StoreError(f"{self.name}: schema version {version} is newer than "
                                 "this feedgen-dw knows")
            for statement in statements(migrations[version:]):
                w.execute(statement)
            w.execute("UPDATE feedgen_dw_schema SET version=?", (len(migrations),))

    def _new_pool(self) -> ConnectionPool[psycopg.Connection[Row]]:
        return ConnectionPool(
            self.url, min_size=1, max_size=self._max, open=True, timeout=POOL_TIMEOUT,
            kwargs={"autocommit": True, "row_factory": dict_row,
                    "connect_timeout": CONNECT_TIMEOUT}, name="feedgen-dw")

    def close(self) -> None:
        """Close the pool's connections."""
        self._closed = True
        self._pool.close()

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        return (psycopg.Error, PoolTimeout)

    def _usable_pool(self) -> ConnectionPool[psycopg.Connection[Row]]:
        """The pool, or at once an error while the database is away: no query waits
        for it. Every PROBE_EVERY seconds one connection is tried (libpq's own connect
        timeout); once it succeeds, a fresh pool replaces the one of dead connections."""
        with self._lock:
            if self._down_at is None or self._closed:
                return self._pool
            if time.monotonic() - self._down_at < PROBE_EVERY:
                raise psycopg.OperationalError("the database is unreachable (retrying)")
            self._down_at = time.monotonic()
        psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT).close()  # raises if away
        with self._lock:
            if self._down_at is not None:
                old, self._pool, self._down_at = self._pool, self._new_pool(), None
                old.close(timeout=0)
            return self._pool

    def _gone(self) -> None:
        with self._lock:
            self._down_at = time.monotonic()

    def _pinned(self) -> _Pinned | None:
        return getattr(self._local, "pin", None)

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        pin = self._pinned()
        conn = pin.conn if pin is not None else None  # sees the poll's own writes
        pool = self._usable_pool() if conn is None else None  # raises while away
        try:
            if conn is not None:
                return conn.execute(_pg(sql), params).fetchall()
            assert pool is not None
            with pool.connection() as conn:
                return conn.execute(_pg(sql), params).fetchall()
        except BaseException as exc:
            if pin is not None and pin.conn is not None:
                self._abort(pin, exc)
            if isinstance(exc, psycopg.OperationalError):  # a connection lost, or none
                self._gone()
            raise

    @contextmanager
    def _transaction(self) -> Iterator[Writer]:
        pin = self._pinned()
        pool = self._usable_pool() if pin is None or pin.conn is None else None
        try:
            if pin is None:
                assert pool is not None
                with pool.connection() as conn, conn.transaction():
                    yield _PgWriter(conn)
                return
            if pin.conn is None:
                pin.pool = pool
                assert pool is not None
                pin.conn = pool.getconn()
                pin.tx = pin.conn.transaction()
                pin.tx.__enter__()
            yield _PgWriter(pin.conn)
        except BaseException as exc:
            if pin is not None and pin.conn is not None:
                self._abort(pin, exc)
            if isinstance(exc, psycopg.OperationalError):
                self._gone()
            raise

    def _abort(self, pin: _Pinned, exc: BaseException) -> None:
        """A statement of the poll's transaction failed: all of it is rolled back (no
        savepoint per write: two round trips each), and the writes that follow (the
        failure recorded, the release) begin a transaction of their own."""
        self._unpin(pin, exc, keep_pinned=True)  # raises nothing: exc is on its way
        pin.conn = pin.tx = pin.pool = None
        pin.after.clear()  # no hub hears of what was rolled back

    @contextmanager
    def poll_transaction(self) -> Iterator[None]:
        """Every write of this thread in the block is one transaction, begun at the
        first write (reads before it, and the fetch, hold no connection) and committed
        at the end, or rolled back when the block raises; reads after the first write
        see it. A poll's state, its documents and its release commit together."""
        if self._pinned() is not None:  # nested: the outer block commits
            yield
            return
        pin = self._local.pin = _Pinned()
        try:
            yield
        except BaseException as exc:
            self._unpin(pin, exc)
            raise
        self._unpin(pin, None)
        for action in pin.after:
            action()

    def _unpin(self, pin: _Pinned, exc: BaseException | None,
               keep_pinned: bool = False) -> None:
        if not keep_pinned:
            self._local.pin = None
        if pin.conn is None or pin.tx is None or pin.pool is None:
            return
        try:
            if exc is None:
                pin.tx.__exit__(None, None, None)
            else:
                pin.tx.__exit__(type(exc), exc, exc.__traceback__)
        except psycopg.Error as error:
            if isinstance(error, psycopg.OperationalError):
                self._gone()
            if exc is None:
                raise StoreError(f"{self.name}: committing a poll failed "
                                 f"({one_line(error)})") from None
        finally:
            pin.pool.putconn(pin.conn)

    def after_commit(self, action: Callable[[], object]) -> None:
        pin = self._pinned()
        if pin is None:
            action()
        else:
            pin.after.append(action)

    def newest(self, feeds: Sequence[str], limit: int) -> dict[str, list[tuple[str, datetime]]]:
        # one query for the index, not one per feed
        found: dict[str, list[tuple[str, datetime]]] = {feed: [] for feed in feeds}
        for r in self._rows(
                "SELECT f.feed, s.title, s.published FROM unnest(?::text[]) AS f(feed) "
                "CROSS JOIN LATERAL (SELECT title, published, item_id FROM sections "
                "WHERE sections.feed = f.feed ORDER BY published DESC, item_id LIMIT ?) s "
                "ORDER BY f.feed, s.published DESC, s.item_id", (list(feeds), limit)):
            found[r["feed"]].append((r["title"], datetime.fromisoformat(r["published"])))
        return found

    def _store_documents(self, w: Writer, documents: Mapping[str, bytes]) -> set[str] | None:
        if not documents:
            return set()
        now = int(time.time())  # as a file's mtime: what Last-Modified says
        names = sorted(documents)
        # one statement: only the documents whose bytes changed are written, and named
        return {r["name"] for r in w.rows(
            "INSERT INTO documents (name, body, etag, modified) "
            "SELECT name, body, etag, ? FROM unnest(?::text[], ?::bytea[], ?::text[]) "
            "AS d(name, body, etag) "
            "ON CONFLICT (name) DO UPDATE SET body=excluded.body, etag=excluded.etag, "
            "modified=excluded.modified WHERE documents.etag <> excluded.etag "
            "RETURNING name",
            (now, names, [documents[n] for n in names],
             [document_etag(documents[n]) for n in names]))}


def document_etag(body: bytes) -> str:
    """The digest the server's ETag is made of (serve.py uses the same)."""
    return hashlib.sha256(body).hexdigest()[:32]


class Documents:
    """The documents a node serves from the database, each kept after it was read: while
    the database is away, the last copy is served (one query per request otherwise, two
    when the document changed)."""

    RETRY_AFTER = 5.0  # seconds the cache answers alone after the database failed

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[bytes, str, int]] = {}
        self._failed_at: float | None = None

    def __call__(self, name: str) -> tuple[bytes, int] | None:
        """(body, modified as a Unix time) of document `name`, or None."""
        with self._lock:
            cached = self._cache.get(name)
            failed = self._failed_at
        if (cached is not None and failed is not None
                and time.monotonic() - failed < self.RETRY_AFTER):
            return cached[0], cached[2]  # the database just failed: no wait per request
        try:
            row = self._store._one("SELECT etag, modified FROM documents WHERE name=?",
                                   (name,))
            if row is None:
                return None
            if cached is None or cached[1] != row["etag"]:
                body = self._store._one("SELECT body, etag, modified FROM documents "
                                        "WHERE name=?", (name,))
                if body is None:
                    return None
                cached = (bytes(body["body"]), body["etag"], body["modified"])
                with self._lock:
                    self._cache[name] = cached
        except StoreError:
            with self._lock:
                self._failed_at = time.monotonic()
            if cached is None:
                return None
        else:
            with self._lock:
                self._failed_at = None
        return cached[0], cached[2]
