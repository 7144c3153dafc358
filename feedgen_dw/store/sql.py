"""The queries of the state, written once for both backends.

`SqlStore` holds every read and write a poll makes; a backend (sqlite.py, postgres.py)
gives it a connection for reads, a transaction for writes and the driver's error types.
Times are ISO-8601 text in UTC on both backends, so the same SQL orders and compares them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol

from feedgen_dw.errors import StoreError
from feedgen_dw.model import (
    ArticleState,
    EntryXml,
    FeedItem,
    FeedStatus,
    HttpState,
    SectionState,
)
from feedgen_dw.safetext import error_line

# What a SectionState is read from: not the kept entries, which only rendering reads
# (a sort of 400 rows that carries their blobs along costs more than the query).
SECTION_COLUMNS = (
    "key, item_id, title, html, link, published, updated, seen_headline, seen_text, "
    "content_hash, position, removed_at, revision, authors, raw_digest"
)

Row = Any  # sqlite3.Row or psycopg's dict row: both are read by column name

# save_poll: a 304 keeps the stored validators, a fetched page brings its own
_KEEP_HTTP = ""
_NEW_HTTP = (", config_url=excluded.config_url, fetch_url=excluded.fetch_url, "
             "etag=excluded.etag, last_modified=excluded.last_modified, "
             "validators_from=excluded.validators_from, api_off_until=excluded.api_off_until")


class Writer(Protocol):
    """Statements inside one transaction (placeholders are `?` on both backends)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


def _ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _req_dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _authors(stored: str) -> tuple[str, ...]:
    return () if stored == "[]" else tuple(json.loads(stored))  # most sections name none


def _moved_only(was: SectionState, now: SectionState) -> bool:
    return was.position != now.position and {**vars(was), "position": 0} == {
        **vars(now), "position": 0}


def one_line(exc: BaseException) -> str:
    """A driver's message on one line (libpq's span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def _status(row: Row) -> FeedStatus:
    return FeedStatus(
        name=row["name"], last_poll=_dt(row["last_poll"]), last_success=_dt(row["last_success"]),
        last_error=row["last_error"], failures=row["failures"],
        last_change=_dt(row["last_change"]), render_pending=bool(row["render_pending"]),
        http=HttpState(
            config_url=row["config_url"], fetch_url=row["fetch_url"], etag=row["etag"],
            last_modified=row["last_modified"], validators_from=row["validators_from"],
            api_off_until=_dt(row["api_off_until"]),
        ),
    )


def _section(row: Row) -> SectionState:
    return SectionState(
        key=row["key"], item_id=row["item_id"], title=row["title"], html=row["html"],
        link=row["link"], published=_req_dt(row["published"]),
        updated=_req_dt(row["updated"]), seen_headline=row["seen_headline"],
        seen_text=row["seen_text"], content_hash=row["content_hash"],
        position=row["position"], removed_at=_dt(row["removed_at"]),
        revision=row["revision"], authors=_authors(row["authors"]),
        raw_digest=row["raw_digest"],
    )


def _article_row(row: Row, sections: tuple[SectionState, ...]) -> ArticleState:
    return ArticleState(
        article_id=row["article_id"], host=row["host"], url=row["url"], title=row["title"],
        feed_title=row["feed_title"], language=row["language"], tag_date=row["tag_date"],
        first_seen=_req_dt(row["first_seen"]), last_changed=_req_dt(row["last_changed"]),
        sections=sections, fetch_url=row["fetch_url"],
    )


class SqlStore:
    """Every query of the state; a backend supplies `_fetch`, `_transaction` and `name`."""

    name: str  # for messages: the file, or the database URL without its password
    GREATEST = "max"  # the scalar maximum of two values
    keeps_documents = False  # rendered documents are kept (and served) from the database

    # -- what a backend provides -------------------------------------------------------

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        raise NotImplementedError

    @contextmanager
    def _transaction(self) -> Iterator[Writer]:
        raise NotImplementedError
        yield  # pragma: no cover

    def _driver_errors(self) -> tuple[type[BaseException], ...]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------

    @contextmanager
    def _writing(self, what: str) -> Iterator[Writer]:
        try:
            with self._transaction() as w:
                yield w
        except self._driver_errors() as exc:
            raise StoreError(f"{self.name}: {what} failed ({one_line(exc)})") from None

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            return self._fetch(sql, params)
        except self._driver_errors() as exc:
            raise StoreError(f"{self.name}: reading failed ({one_line(exc)})") from None

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _article(self, row: Row, sections: bool = True) -> ArticleState:
        if not sections:
            return _article_row(row, ())
        rows = self._rows(
            f"SELECT {SECTION_COLUMNS} FROM sections WHERE feed=? AND article_id=? "
            "ORDER BY position < 0, position, published DESC, key",
            (row["feed"], row["article_id"]),
        )
        return _article_row(row, tuple(_section(r) for r in rows))

    def load_article(self, feed: str, article_id: str) -> ArticleState | None:
        """The stored state of one article of a feed, or None before its first poll."""
        row = self._one("SELECT * FROM articles WHERE feed=? AND article_id=?",
                        (feed, article_id))
        return self._article(row) if row else None

    def recent_articles(self, feed: str, since: datetime) -> list[tuple[str, str, str | None]]:
        """(article id, url, where it was fetched) of the feed's articles changed at or
        after `since`, newest first seen first."""
        rows = self._rows(
            "SELECT article_id, url, fetch_url FROM articles WHERE feed=? AND "
            "last_changed >= ? ORDER BY first_seen DESC, article_id", (feed, _ts(since)),
        )
        return [(r["article_id"], r["url"], r["fetch_url"]) for r in rows]

    def has_articles(self, feed: str) -> bool:
        """True once a poll of the feed has stored an article (cheap: no sections loaded)."""
        return self._one("SELECT 1 AS one FROM articles WHERE feed=? LIMIT 1",
                         (feed,)) is not None

    def latest_article(self, feed: str, sections: bool = False) -> ArticleState | None:
        """The most recently first-seen article of a feed (its metadata heads the feed),
        with its sections only when asked."""
        row = self._one(
            "SELECT * FROM articles WHERE feed=? ORDER BY first_seen DESC, article_id DESC "
            "LIMIT 1", (feed,),
        )
        return self._article(row, sections=sections) if row else None

    def save_poll(
        self, feed: str, articles: Sequence[ArticleState], now: datetime,
        http: HttpState | None = None, changed: bool = False,
        previous: Sequence[ArticleState] = (),
    ) -> None:
        """Store the new state of `articles` and mark the poll a success, atomically.

        `http` replaces the stored conditional-GET state when given; `changed` says the
        poll changed the feed's items (the schedule's quiet/stop clock starts again);
        `previous` are stored states this poll loaded: only what differs from them is
        written."""
        before = {art.article_id: art for art in previous}
        with self._writing(f"saving feed {feed!r}") as w:
            for art in articles:
                self._write_article(w, feed, art, before.get(art.article_id))
            # one statement with the validators when there are new ones (a round trip
            # less per poll on PostgreSQL)
            keep = http is None
            http = http or HttpState()
            w.execute(
                "INSERT INTO feeds (name, last_poll, last_success, last_error, failures, "
                "last_change, render_pending, config_url, fetch_url, etag, last_modified, "
                "validators_from, api_off_until) VALUES (?, ?, ?, NULL, 0, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET "
                "last_poll=excluded.last_poll, last_success=excluded.last_success, "
                "last_error=NULL, failures=0, "
                "last_change=coalesce(excluded.last_change, feeds.last_change), "
                f"render_pending={self.GREATEST}(feeds.render_pending, "
                "excluded.render_pending)" + (_KEEP_HTTP if keep else _NEW_HTTP),
                (feed, _ts(now), _ts(now), _ts(now) if changed else None, int(bool(articles)),
                 http.config_url, http.fetch_url, http.etag, http.last_modified,
                 http.validators_from, _ts(http.api_off_until)),
            )

    @staticmethod
    def _write_article(w: Writer, feed: str, art: ArticleState,
                       prev: ArticleState | None) -> None:
        w.execute(
            "INSERT INTO articles (feed, article_id, host, url, title, feed_title, "
            "language, tag_date, first_seen, last_changed, fetch_url) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT (feed, article_id) DO UPDATE SET host=excluded.host, "
            "url=excluded.url, title=excluded.title, feed_title=excluded.feed_title, "
            "language=excluded.language, tag_date=excluded.tag_date, "
            "first_seen=excluded.first_seen, last_changed=excluded.last_changed, "
            "fetch_url=excluded.fetch_url",
            (feed, art.article_id, art.host, art.url, art.title, art.feed_title, art.language,
             art.tag_date, _ts(art.first_seen), _ts(art.last_changed), art.fetch_url),
        )
        old = {s.key: s for s in prev.sections} if prev else {}
        stored = old.keys() if prev is not None else {r["key"] for r in w.rows(
            "SELECT key FROM sections WHERE feed=? AND article_id=?", (feed, art.article_id))}
        gone = stored - {s.key for s in art.sections}
        w.executemany("DELETE FROM sections WHERE feed=? AND article_id=? AND key=?",
                      [(feed, art.article_id, key) for key in sorted(gone)])
        # a new section on top moves every other one down: only their position is written
        rows, moved = [], []
        for s in art.sections:
            was = old.get(s.key)
            if was == s:
                continue
            if was is not None and _moved_only(was, s):
                moved.append((s.position, feed, art.article_id, s.key))
            else:
                rows.append(s)
        w.executemany("UPDATE sections SET position=? WHERE feed=? AND article_id=? AND key=?",
                      moved)
        w.executemany(
            "INSERT INTO sections (feed, article_id, key, item_id, title, html, link, published, "
            "updated, seen_headline, seen_text, content_hash, position, removed_at, revision, "
            "authors, raw_digest) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT (feed, article_id, key) DO UPDATE SET item_id=excluded.item_id, "
            "title=excluded.title, html=excluded.html, link=excluded.link, "
            "published=excluded.published, updated=excluded.updated, "
            "seen_headline=excluded.seen_headline, seen_text=excluded.seen_text, "
            "content_hash=excluded.content_hash, position=excluded.position, "
            "removed_at=excluded.removed_at, revision=excluded.revision, "
            "authors=excluded.authors, raw_digest=excluded.raw_digest",
            [
                (feed, art.article_id, s.key, s.item_id, s.title, s.html, s.link,
                 _ts(s.published), _ts(s.updated), s.seen_headline, s.seen_text,
                 s.content_hash, s.position, _ts(s.removed_at), s.revision,
                 json.dumps(list(s.authors)), s.raw_digest)
                for s in rows
            ],
        )

    def record_failure(self, feed: str, error: str, now: datetime) -> None:
        """Note a failed poll; items stay untouched."""
        with self._writing(f"recording a failure of {feed!r}") as w:
            w.execute(
                "INSERT INTO feeds (name, last_poll, last_error, failures) VALUES (?, ?, ?, 1) "
                "ON CONFLICT(name) DO UPDATE SET last_poll=excluded.last_poll, "
                "last_error=excluded.last_error, failures=feeds.failures + 1",
                (feed, _ts(now), error_line(error)),  # no credentials, XML-safe
            )

    def status(self, feed: str) -> FeedStatus:
        """Poll bookkeeping of a feed (empty before its first poll)."""
        row = self._one("SELECT * FROM feeds WHERE name=?", (feed,))
        return _status(row) if row is not None else FeedStatus(name=feed)

    def overview(self) -> dict[str, tuple[str | None, str | None, int]]:
        """feed -> (feed title, article URL of its newest article, item count), for all
        feeds in two queries (the index page lists thousands of feeds)."""
        latest = {
            r["feed"]: (r["feed_title"], r["url"])
            for r in self._rows(
                "SELECT feed, feed_title, url FROM articles a WHERE first_seen = "
                "(SELECT max(first_seen) FROM articles b WHERE b.feed = a.feed)")
        }
        counts = {r["feed"]: r["n"] for r in self._rows(
            "SELECT feed, count(*) AS n FROM sections GROUP BY feed")}
        return {feed: (*latest.get(feed, (None, None)), counts.get(feed, 0))
                for feed in set(latest) | set(counts)}

    def nodes(self) -> tuple[dict[str, str], dict[str, tuple[datetime, int]]]:
        """(feed -> the node that polled it last, node -> (when it was last seen, polls
        it committed)): the shared schedule of several daemons on PostgreSQL; empty on
        SQLite."""
        polled = {r["feed"]: r["last_node"] for r in self._rows(
            "SELECT feed, last_node FROM claims WHERE last_node IS NOT NULL")}
        seen = {r["node"]: (_req_dt(r["seen"]), r["polls"]) for r in self._rows(
            "SELECT node, seen, polls FROM nodes")}
        return polled, seen

    def newest(self, feeds: Sequence[str], limit: int) -> dict[str, list[tuple[str, datetime]]]:
        """feed -> (title, published) of its newest `limit` items, newest first: what
        the index shows of each feed. One indexed query per feed here; PostgreSQL asks
        once for all."""
        return {feed: [(r["title"], _req_dt(r["published"])) for r in self._rows(
            "SELECT title, published FROM sections WHERE feed=? "
            "ORDER BY published DESC, item_id LIMIT ?", (feed, limit))] for feed in feeds}

    @contextmanager
    def poll_transaction(self) -> Iterator[None]:
        """On PostgreSQL: every write of this thread in the block is one transaction
        (a poll's state, its documents and its release commit together). Here (SQLite)
        each write commits by itself, and a crash between them is repaired by
        render_pending."""
        yield

    def after_commit(self, action: Callable[[], object]) -> None:
        """Run `action` once what this thread wrote is committed (a hub ping must not
        announce a poll that is rolled back): at once outside a poll_transaction."""
        action()

    def statuses(self) -> dict[str, FeedStatus]:
        """Poll bookkeeping of every feed, in one query."""
        return {row["name"]: _status(row) for row in self._rows("SELECT * FROM feeds")}

    def _store_documents(self, w: Writer, documents: Mapping[str, bytes]) -> set[str] | None:
        """Keep rendered documents for serving (PostgreSQL); the names whose bytes
        changed, or None for a backend that keeps none (SQLite: its files are served)."""
        return None

    def put_documents(self, documents: Mapping[str, bytes]) -> set[str] | None:
        """Keep the site's documents (index, OPML, stylesheet) for serving."""
        with self._writing("storing documents") as w:
            return self._store_documents(w, documents)

    def mark_rendered(self, feed: str, entries: Mapping[str, EntryXml] | None = None,
                      documents: Mapping[str, bytes] | None = None) -> set[str] | None:
        """The feed files now show the stored state; keep the `entries` rendered for them
        (by item id) for the next rendering, and the `documents` (file name -> bytes) for
        serving, in the same transaction; the names of documents whose bytes changed
        (None where the backend keeps none)."""
        with self._writing(f"updating feed {feed!r}") as w:
            changed = self._store_documents(w, documents or {})
            w.executemany(
                "INSERT INTO entries (feed, item_id, key, atom, rss) VALUES (?,?,?,?,?) "
                "ON CONFLICT (feed, item_id) DO UPDATE SET key=excluded.key, "
                "atom=excluded.atom, rss=excluded.rss",
                [(feed, item_id, x.key, x.atom, x.rss)
                 for item_id, x in sorted((entries or {}).items())],
            )
            # entries of items that are gone (pruned, or republished under a new id)
            w.execute("DELETE FROM entries WHERE feed=? AND item_id NOT IN "
                      "(SELECT item_id FROM sections WHERE feed=?)", (feed, feed))
            w.execute("UPDATE feeds SET render_pending=0 WHERE name=?", (feed,))
        return changed

    def render_again(self, feed: str) -> None:
        """The feed's files do not show its state: the next poll renders it again."""
        with self._writing(f"updating feed {feed!r}") as w:
            w.execute("UPDATE feeds SET render_pending=1 WHERE name=?", (feed,))

    def items(self, feed: str, limit: int) -> list[FeedItem]:
        """The newest `limit` items of a feed, newest first (removed sections included)."""
        rows = self._rows(
            "SELECT s.item_id, title, html, link, published, updated, authors, e.key AS "
            "entry_key, e.atom AS entry_atom, e.rss AS entry_rss FROM sections s "
            "LEFT JOIN entries e ON e.feed = s.feed AND e.item_id = s.item_id "
            "WHERE s.feed=? ORDER BY published DESC, s.item_id LIMIT ?",
            (feed, limit),
        )
        return [
            FeedItem(
                item_id=r["item_id"], title=r["title"], html=r["html"], link=r["link"],
                published=_req_dt(r["published"]), updated=_req_dt(r["updated"]),
                authors=_authors(r["authors"]),
                stored_xml=EntryXml(r["entry_key"], bytes(r["entry_atom"]),
                                    bytes(r["entry_rss"]))
                if r["entry_key"] else None,
            )
            for r in rows
        ]
