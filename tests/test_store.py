from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedgen_dw.diff import diff_article
from feedgen_dw.errors import StoreError
from feedgen_dw.model import Article, EntryXml, Section
from feedgen_dw.schema import MIGRATIONS
from feedgen_dw.store import APPLICATION_ID, SQLiteStore, SqlStore, open_store
from tests.pg import PgServer, pg_server_fixture, pg_url_fixture  # noqa: F401  # fixtures

T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)


def _article(*texts: str) -> Article:
    sections = tuple(Section(headline=f"H {t}", html=f"<p>{t}</p>", text=t) for t in texts)
    return Article(article_id="a-7", host="h.example", url="https://h.example/a-7", title="T",
                   feed_title="T", language="de", sections=sections, profile="dw", source="t")


Opener = Callable[[], SqlStore]


@pytest.fixture(params=["sqlite", "postgres"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Opener:
    """Opens the test's one database (again): a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        database: Path | str = tmp_path / "db" / "state.sqlite3"
    else:
        database = request.getfixturevalue("pg_url")
    return lambda: open_store(database)


def test_state_round_trips_through_the_database(opener: Opener) -> None:
    store = opener()
    state = diff_article(None, _article("eins zwei drei", "vier fünf sechs"), T0).state
    store.save_poll("f", [state], T0)
    store.close()
    reopened = opener()
    assert reopened.load_article("f", "a-7") == state
    assert reopened.latest_article("f") == replace(state, sections=())  # metadata only
    assert reopened.load_article("other", "a-7") is None
    items = reopened.items("f", 1)
    assert [i.item_id for i in items] == [state.sections[0].item_id]
    status = reopened.status("f")
    assert status.last_success == T0 and status.failures == 0
    reopened.close()


def test_wal_schema_version_and_marker(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_failures_are_counted_and_cleared(opener: Opener) -> None:
    store = opener()
    store.record_failure("f", "https://x: HTTP 503", T0)
    store.record_failure("f", "https://x: HTTP 502", T0 + timedelta(minutes=5))
    status = store.status("f")
    assert (status.failures, status.last_error, status.last_success) == (
        2, "https://x: HTTP 502", None)
    store.save_poll("f", [], T0 + timedelta(minutes=10))
    assert store.status("f").failures == 0 and store.status("f").last_error is None


def test_a_poll_is_one_transaction(opener: Opener) -> None:
    store = opener()
    good = diff_article(None, _article("eins zwei drei"), T0).state
    store.save_poll("f", [good], T0)
    bad = diff_article(good, _article("eins zwei drei", "neu hier"), T0 + timedelta(hours=1))
    broken = bad.state.__class__(**{**bad.state.__dict__, "title": None})  # violates NOT NULL
    with pytest.raises(StoreError):
        store.save_poll("f", [broken], T0 + timedelta(hours=1))
    assert store.load_article("f", "a-7") == good


def test_foreign_sqlite_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE mine (x)")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="something else"):
        SQLiteStore(path)
    assert path.read_bytes() == before


def test_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not a usable feedgen-dw database"):
        SQLiteStore(path)
    assert path.read_bytes() == b"this is not a database at all" * 100


def test_an_older_schema_is_migrated_on_open_keeping_the_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute(f"PRAGMA application_id={APPLICATION_ID}")
    db.execute("PRAGMA user_version=1")
    db.execute("INSERT INTO feeds (name, last_poll, failures) VALUES ('f', ?, 2)",
               (T0.isoformat(),))
    db.commit()
    db.close()
    store = SQLiteStore(path)
    status = store.status("f")
    assert (status.failures, status.last_poll, status.render_pending) == (2, T0, False)
    assert status.http.etag is None
    store.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_kept_entries_survive_a_changed_poll_of_their_article(opener: Opener) -> None:
    store = opener()
    first = diff_article(None, _article("eins zwei drei", "vier fünf sechs"), T0).state
    store.save_poll("f", [first], T0)
    items = store.items("f", 10)
    assert all(i.stored_xml is None for i in items)
    kept = {i.item_id: EntryXml(key=f"k{n}", atom=b"<entry/>", rss=b"<item/>")
            for n, i in enumerate(items)}
    store.mark_rendered("f", kept)
    assert {i.item_id: i.stored_xml for i in store.items("f", 10)} == kept
    # a new section on top: the rows of the others are updated in place, entries kept
    later = T0 + timedelta(minutes=5)
    second = diff_article(first, _article("neu hier oben", "eins zwei drei", "vier fünf sechs"),
                          later).state
    store.save_poll("f", [second], later)
    after = {i.item_id: i.stored_xml for i in store.items("f", 10)}
    assert len(after) == 3
    assert {k: v for k, v in after.items() if v is not None} == kept
    # a section the state no longer holds is deleted with its entry
    store.save_poll("f", [replace(second, sections=second.sections[:1])], later)
    assert [i.item_id for i in store.items("f", 10)] == [second.sections[0].item_id]
    # its kept entry goes once the files show the state
    store.mark_rendered("f")
    kept_ids = {r["item_id"] for r in store._rows("SELECT item_id FROM entries")}
    assert set(kept) and kept_ids == set()  # both belonged to sections that are gone
    store.close()


def test_saving_against_the_loaded_state_writes_what_differs_and_reads_back_equal(
    opener: Opener,
) -> None:
    store = opener()
    pages = [
        ("eins zwei drei", "vier fünf sechs"),
        ("neu oben", "eins zwei drei", "vier fünf sechs"),  # every other section moves down
        ("neu oben", "eins zwei drei geändert", "vier fünf sechs"),  # an edit
        ("neu oben", "vier fünf sechs"),  # a removal (kept, marked removed)
        ("ganz neu", "neu oben", "vier fünf sechs"),
    ]
    prev = None
    statements: list[str] = []
    if isinstance(store, SQLiteStore):
        store._db.set_trace_callback(statements.append)  # what reaches SQLite
    for n, texts in enumerate(pages):
        now = T0 + timedelta(minutes=5 * n)
        state = diff_article(prev, _article(*texts), now).state
        statements.clear()
        store.save_poll("f", [state], now, previous=[prev] if prev else [])
        # the new section is inserted, the two old ones only change position
        if n == 1 and statements:
            assert sum(s.startswith("INSERT INTO sections") for s in statements) == 1
            assert sum(s.startswith("UPDATE sections SET position") for s in statements) == 2
        prev = store.load_article("f", "a-7")
        assert prev == state
    # a state without a section it had: the row goes
    smaller = replace(prev, sections=prev.sections[:1])
    store.save_poll("f", [smaller], T0 + timedelta(hours=1), previous=[prev])
    assert store.load_article("f", "a-7") == smaller
    store.close()
