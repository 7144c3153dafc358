"""State between polls, behind a small interface; SQLite (stdlib) is the backend here.

`Store` is what poll_feed() needs; a PostgreSQL backend for several daemons sharing one
state would implement the same methods. Schema is created and migrated on open.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

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
from feedgen_dw.schema import MIGRATIONS

# What a SectionState is read from: not the kept entries, which only rendering reads
# (a sort of 400 rows that carries their blobs along costs more than the query).
SECTION_COLUMNS = (
    "key, item_id, title, html, link, published, updated, seen_headline, seen_text, "
    "content_hash, position, removed_at, revision, authors, raw_digest"
)

# Marks the file as ours, so a foreign SQLite database is refused, not overwritten.
APPLICATION_ID = 0x46475744  # "FGWD"



class Store(Protocol):
    """What the poll needs from a state backend."""

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

    def mark_rendered(self, feed: str, entries: Mapping[str, EntryXml] | None = None) -> None: ...

    def overview(self) -> dict[str, tuple[str | None, str | None, int]]: ...

    def statuses(self) -> dict[str, FeedStatus]: ...

    def close(self) -> None: ...


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


def _status(row: sqlite3.Row) -> FeedStatus:
    return FeedStatus(
        name=row["name"], last_poll=_dt(row["last_poll"]), last_success=_dt(row["last_success"]),
        last_error=row["last_error"], failures=row["failures"],
        last_change=_dt(row["last_change"]), render_pending=bool(row["render_pending"]),
        http=HttpState(
            config_url=row["config_url"], fetch_url=row["fetch_url"], etag=row["etag"],
            last_modified=row["last_modified"],
        ),
    )


class SQLiteStore:
    """SQLite file in WAL mode; one transaction per poll."""

    def __init__(self, path: Path) -> None:
        self.path = path
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
            db.execute("BEGIN IMMEDIATE")
            try:
                for script in MIGRATIONS[version:]:
                    for statement in script.split(";"):
                        if statement.strip():
                            db.execute(statement)
                db.execute(f"PRAGMA application_id={APPLICATION_ID}")
                db.execute(f"PRAGMA user_version={len(MIGRATIONS)}")
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    def _section(self, row: sqlite3.Row) -> SectionState:
        return SectionState(
            key=row["key"], item_id=row["item_id"], title=row["title"], html=row["html"],
            link=row["link"], published=_req_dt(row["published"]),
            updated=_req_dt(row["updated"]), seen_headline=row["seen_headline"],
            seen_text=row["seen_text"], content_hash=row["content_hash"],
            position=row["position"], removed_at=_dt(row["removed_at"]),
            revision=row["revision"], authors=_authors(row["authors"]),
            raw_digest=row["raw_digest"],
        )

    def _article(self, row: sqlite3.Row, sections: bool = True) -> ArticleState:
        if not sections:
            return self._article_row(row, ())
        rows = self._db.execute(
            f"SELECT {SECTION_COLUMNS} FROM sections WHERE feed=? AND article_id=? "
            "ORDER BY position < 0, position, published DESC, key",
            (row["feed"], row["article_id"]),
        ).fetchall()
        return self._article_row(row, tuple(self._section(r) for r in rows))

    @staticmethod
    def _article_row(row: sqlite3.Row, sections: tuple[SectionState, ...]) -> ArticleState:
        return ArticleState(
            article_id=row["article_id"], host=row["host"], url=row["url"], title=row["title"],
            feed_title=row["feed_title"], language=row["language"], tag_date=row["tag_date"],
            first_seen=_req_dt(row["first_seen"]), last_changed=_req_dt(row["last_changed"]),
            sections=sections, fetch_url=row["fetch_url"],
        )

    def load_article(self, feed: str, article_id: str) -> ArticleState | None:
        """The stored state of one article of a feed, or None before its first poll."""
        row = self._db.execute(
            "SELECT * FROM articles WHERE feed=? AND article_id=?", (feed, article_id)
        ).fetchone()
        return self._article(row) if row else None

    def recent_articles(self, feed: str, since: datetime) -> list[tuple[str, str, str | None]]:
        """(article id, url, where it was fetched) of the feed's articles changed at or
        after `since`, newest first seen first."""
        rows = self._db.execute(
            "SELECT article_id, url, fetch_url FROM articles WHERE feed=? AND "
            "last_changed >= ? ORDER BY first_seen DESC, article_id", (feed, _ts(since)),
        ).fetchall()
        return [(r["article_id"], r["url"], r["fetch_url"]) for r in rows]

    def has_articles(self, feed: str) -> bool:
        """True once a poll of the feed has stored an article (cheap: no sections loaded)."""
        row = self._db.execute("SELECT 1 FROM articles WHERE feed=? LIMIT 1", (feed,)).fetchone()
        return row is not None

    def latest_article(self, feed: str, sections: bool = False) -> ArticleState | None:
        """The most recently first-seen article of a feed (its metadata heads the feed),
        with its sections only when asked."""
        row = self._db.execute(
            "SELECT * FROM articles WHERE feed=? ORDER BY first_seen DESC, article_id DESC "
            "LIMIT 1", (feed,),
        ).fetchone()
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
        db = self._db
        before = {art.article_id: art for art in previous}
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                for art in articles:
                    self._write_article(feed, art, before.get(art.article_id))
                db.execute(
                    "INSERT INTO feeds (name, last_poll, last_success, last_error, failures, "
                    "last_change, render_pending) VALUES (?, ?, ?, NULL, 0, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET "
                    "last_poll=excluded.last_poll, last_success=excluded.last_success, "
                    "last_error=NULL, failures=0, "
                    "last_change=coalesce(excluded.last_change, feeds.last_change), "
                    "render_pending=max(feeds.render_pending, excluded.render_pending)",
                    (feed, _ts(now), _ts(now), _ts(now) if changed else None, int(bool(articles))),
                )
                if http is not None:
                    db.execute(
                        "UPDATE feeds SET config_url=?, fetch_url=?, etag=?, last_modified=? "
                        "WHERE name=?",
                        (http.config_url, http.fetch_url, http.etag, http.last_modified, feed),
                    )
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite rolls back by itself on I/O errors
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: saving feed {feed!r} failed ({exc})") from None

    def _write_article(self, feed: str, art: ArticleState, prev: ArticleState | None) -> None:
        db = self._db
        db.execute(
            "INSERT OR REPLACE INTO articles (feed, article_id, host, url, title, feed_title, "
            "language, tag_date, first_seen, last_changed, fetch_url) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (feed, art.article_id, art.host, art.url, art.title, art.feed_title, art.language,
             art.tag_date,
             _ts(art.first_seen), _ts(art.last_changed), art.fetch_url),
        )
        old = {s.key: s for s in prev.sections} if prev else {}
        if prev is None:
            db.execute(
                "DELETE FROM sections WHERE feed=? AND article_id=? "
                "AND key NOT IN (SELECT value FROM json_each(?))",
                (feed, art.article_id, json.dumps([s.key for s in art.sections])),
            )
        else:
            gone = old.keys() - {s.key for s in art.sections}
            db.executemany("DELETE FROM sections WHERE feed=? AND article_id=? AND key=?",
                           [(feed, art.article_id, key) for key in gone])
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
        db.executemany("UPDATE sections SET position=? WHERE feed=? AND article_id=? AND key=?",
                       moved)
        db.executemany(
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
        try:
            self._db.execute(
                "INSERT INTO feeds (name, last_poll, last_error, failures) VALUES (?, ?, ?, 1) "
                "ON CONFLICT(name) DO UPDATE SET last_poll=excluded.last_poll, "
                "last_error=excluded.last_error, failures=feeds.failures + 1",
                (feed, _ts(now), error_line(error)),  # no credentials, XML-safe
            )
        except sqlite3.Error as exc:
            msg = f"{self.path}: recording a failure of {feed!r} failed: {exc}"
            raise StoreError(msg) from None

    def status(self, feed: str) -> FeedStatus:
        """Poll bookkeeping of a feed (empty before its first poll)."""
        row = self._db.execute("SELECT * FROM feeds WHERE name=?", (feed,)).fetchone()
        return _status(row) if row is not None else FeedStatus(name=feed)

    def overview(self) -> dict[str, tuple[str | None, str | None, int]]:
        """feed -> (feed title, article URL of its newest article, item count), for all
        feeds in two queries (the index page lists thousands of feeds)."""
        latest = {
            r["feed"]: (r["feed_title"], r["url"])
            for r in self._db.execute(
                "SELECT feed, feed_title, url FROM articles a WHERE first_seen = "
                "(SELECT max(first_seen) FROM articles b WHERE b.feed = a.feed)")
        }
        counts = {r[0]: r[1] for r in self._db.execute(
            "SELECT feed, count(*) FROM sections GROUP BY feed")}
        return {feed: (*latest.get(feed, (None, None)), counts.get(feed, 0))
                for feed in set(latest) | set(counts)}

    def statuses(self) -> dict[str, FeedStatus]:
        """Poll bookkeeping of every feed, in one query."""
        return {row["name"]: _status(row) for row in self._db.execute("SELECT * FROM feeds")}

    def mark_rendered(self, feed: str, entries: Mapping[str, EntryXml] | None = None) -> None:
        """The feed files now show the stored state; keep the `entries` rendered for them
        (by item id) for the next rendering."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(
                    "INSERT OR REPLACE INTO entries (feed, item_id, key, atom, rss) "
                    "VALUES (?,?,?,?,?)",
                    [(feed, item_id, x.key, x.atom, x.rss)
                     for item_id, x in (entries or {}).items()],
                )
                # entries of items that are gone (pruned, or republished under a new id)
                db.execute("DELETE FROM entries WHERE feed=? AND item_id NOT IN "
                           "(SELECT item_id FROM sections WHERE feed=?)", (feed, feed))
                db.execute("UPDATE feeds SET render_pending=0 WHERE name=?", (feed,))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: updating feed {feed!r} failed ({exc})") from None

    def items(self, feed: str, limit: int) -> list[FeedItem]:
        """The newest `limit` items of a feed, newest first (removed sections included)."""
        rows = self._db.execute(
            "SELECT s.item_id, title, html, link, published, updated, authors, e.key AS "
            "entry_key, e.atom AS entry_atom, e.rss AS entry_rss FROM sections s "
            "LEFT JOIN entries e ON e.feed = s.feed AND e.item_id = s.item_id "
            "WHERE s.feed=? ORDER BY published DESC, s.item_id LIMIT ?",
            (feed, limit),
        ).fetchall()
        return [
            FeedItem(
                item_id=r["item_id"], title=r["title"], html=r["html"], link=r["link"],
                published=_req_dt(r["published"]), updated=_req_dt(r["updated"]),
                authors=_authors(r["authors"]),
                stored_xml=EntryXml(r["entry_key"], r["entry_atom"], r["entry_rss"])
                if r["entry_key"] else None,
            )
            for r in rows
        ]
