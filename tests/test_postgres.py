"""The PostgreSQL backend beyond the shared store tests: its schema marker, foreign
databases, nodes opening at once, a whole poll, the URL in the config, an outage."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from feedgen_dw.config import FeedConfig, parse_config
from feedgen_dw.demo import FIRST, SECOND
from feedgen_dw.errors import ConfigError, StoreError
from feedgen_dw.fetch import Fetcher
from feedgen_dw.poll import Output, feed_paths, fixed_clock, poll_feed
from feedgen_dw.replay import ReplayServer
from feedgen_dw.schema import MIGRATIONS
from feedgen_dw.store import SqlStore, claims, open_store
from feedgen_dw.store.postgres import redact
from tests.pg import PgServer, pg_server_fixture, pg_url_fixture  # noqa: F401  # fixtures

T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)


def test_schema_is_created_once_and_marked(pg_url: str) -> None:
    open_store(pg_url).close()
    open_store(pg_url).close()  # a second open migrates nothing
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT version FROM feedgen_dw_schema").fetchall() == [
            (len(MIGRATIONS),)]


def test_nodes_opening_together_migrate_once(pg_url: str) -> None:
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            open_store(pg_url).close()
        except BaseException as exc:  # collected for the assert
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_a_database_of_something_else_is_refused_and_left_alone(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE feeds (x int)")
    with pytest.raises(StoreError, match="something else"):
        open_store(pg_url)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass('feedgen_dw_schema')").fetchone() == (None,)


def test_a_server_that_is_not_there_is_one_line_without_the_password(
    pg_server: PgServer,
) -> None:
    url = f"postgresql://feedgen:s3cret@127.0.0.1:{pg_server.port + 1}/x"
    with pytest.raises(StoreError) as info:
        open_store(url)
    message = str(info.value)
    assert "s3cret" not in message and "\n" not in message and "cannot open" in message
    assert redact(url) == f"postgresql://feedgen:***@127.0.0.1:{pg_server.port + 1}/x"


def test_the_config_takes_a_postgresql_url(tmp_path: Path) -> None:
    feeds = {"f": {"url": "https://h.example/a-1"}}
    for url in ("postgresql://feedgen@db.example/feeds", "postgres://u:pw@db:5433/feeds"):
        config = parse_config({"database": url, "feeds": feeds}, tmp_path / "c.yaml")
        assert config.database == url
    with pytest.raises(ConfigError, match="names no database") as info:
        parse_config({"database": "postgresql://u:pw@db/", "feeds": feeds}, tmp_path / "c.yaml")
    assert "pw" not in str(info.value)


def test_a_whole_poll_through_postgresql(pg_url: str, server: ReplayServer,
                                         tmp_path: Path) -> None:
    store: SqlStore = open_store(pg_url)
    fetcher = Fetcher(retries=0)
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/")
    feed = FeedConfig(name="f", url=server.publish(FIRST), site="dw")
    try:
        assert poll_feed(feed, store, fetcher, output, fixed_clock(T0)).ok
        first = feed_paths(output, "f")["atom"].read_bytes()
        server.publish(SECOND)
        later = T0 + timedelta(hours=2)
        result = poll_feed(feed, store, fetcher, output, fixed_clock(later))
        assert result.ok and result.new >= 1
        assert feed_paths(output, "f")["atom"].read_bytes() != first
        assert store.status("f").last_success == later
        assert all(i.stored_xml is not None for i in store.items("f", 100))
    finally:
        store.close()
        fetcher.close()


def test_the_store_works_again_after_the_server_restarts(pg_server: PgServer) -> None:
    url = pg_server.new_database()
    store = open_store(url)
    store.record_failure("f", "x", T0)
    pg_server.stop()  # every pooled connection is cut
    pg_server.start()
    # a query on a dead connection fails at once (one error, not a wait); the store
    # tries the database again every 2 s and, once it answers, uses a fresh pool
    for _ in range(100):
        try:
            store.record_failure("f", "y", T0 + timedelta(minutes=1))
            break
        except StoreError as exc:
            assert "\n" not in str(exc)
            time.sleep(0.1)
    assert store.status("f").failures == 2
    store.close()


def test_migrate_copies_a_sqlite_state_again_and_again_to_the_same_result(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from feedgen_dw.cli import main
    from feedgen_dw.diff import diff_article
    from feedgen_dw.model import Article, EntryXml, HttpState, Section

    def article(*texts: str) -> Article:
        return Article(article_id="a-7", host="h.example", url="https://h.example/a-7",
                       title="T", feed_title="T", language="de", profile="dw", source="t",
                       sections=tuple(Section(headline=f"H {t}", html=f"<p>{t}</p>", text=t)
                                      for t in texts))

    (tmp_path / "config.yaml").write_text(
        "database: state.sqlite3\nfeeds:\n  f:\n    url: https://h.example/a-7\n")
    sqlite = open_store(tmp_path / "state.sqlite3")
    first = diff_article(None, article("eins zwei drei", "vier fünf sechs"), T0).state
    http = HttpState(config_url="https://h.example/a-7", fetch_url="https://h.example/b",
                     etag='"e1"', last_modified="Tue, 24 Nov 2026 05:00:00 GMT")
    sqlite.save_poll("f", [first], T0, http=http, changed=True)
    sqlite.mark_rendered("f", {s.item_id: EntryXml(f"k{s.key}", b"<entry/>", b"<item/>")
                               for s in first.sections})
    sqlite.record_failure("f", "HTTP 503", T0 + timedelta(minutes=5))
    argv = ["migrate", "--config", str(tmp_path / "config.yaml"), "--to", pg_url]
    assert main(argv) == 0
    # a later state in SQLite (a section fewer) copied again replaces the first copy
    later = T0 + timedelta(minutes=10)
    second = diff_article(first, article("neu", "eins zwei drei"), later).state
    sqlite.save_poll("f", [second], later, previous=[first])
    assert main(argv) == 0 and main(argv) == 0
    assert "copied" in capsys.readouterr().out
    pg = open_store(pg_url)
    try:
        assert pg.load_article("f", "a-7") == sqlite.load_article("f", "a-7")
        assert pg.statuses() == sqlite.statuses()
        assert pg.items("f", 100) == sqlite.items("f", 100)
        assert pg.overview() == sqlite.overview()
    finally:
        pg.close()
        sqlite.close()


def test_migrate_wants_a_postgresql_url(tmp_path: Path) -> None:
    from feedgen_dw.cli import main

    (tmp_path / "config.yaml").write_text("feeds:\n  f:\n    url: https://h.example/a-7\n")
    assert main(["migrate", "--config", str(tmp_path / "config.yaml"),
                 "--to", "sqlite:///x"]) == 2


def _first_poll(pg_url: str, server: ReplayServer,
                folder: Path) -> tuple[SqlStore, Fetcher, Output, FeedConfig]:
    """A store, a fetcher, an output folder and a feed of the demo's first page."""
    return (open_store(pg_url), Fetcher(retries=0), Output(folder, "http://127.0.0.1:8080/"),
            FeedConfig(name="f", url=server.publish(FIRST), site="dw"))


def test_any_node_serves_the_documents_from_the_database(
    pg_url: str, server: ReplayServer, tmp_path: Path,
) -> None:
    import gzip

    import requests

    from feedgen_dw.poll import write_site
    from feedgen_dw.serve import FeedHTTPServer
    from feedgen_dw.store.postgres import Documents

    store, fetcher, output, feed = _first_poll(pg_url, server, tmp_path / "node-a")
    assert poll_feed(feed, store, fetcher, output, fixed_clock(T0)).ok
    write_site([feed], store, output)
    fetcher.close()
    # another node: nothing in its output_dir, everything from the database
    documents = Documents(open_store(pg_url))
    (tmp_path / "node-b").mkdir()
    httpd = FeedHTTPServer(tmp_path / "node-b", "127.0.0.1", 0, lambda name: 60,
                           documents=documents).start()
    try:
        atom = feed_paths(output, "f")["atom"].read_bytes()
        got = requests.get(httpd.url + "f.atom", timeout=10)
        assert got.status_code == 200 and got.content == atom
        assert got.headers["Content-Type"].startswith("application/atom+xml")
        etag = got.headers["ETag"]
        again = requests.get(httpd.url + "f.atom", headers={"If-None-Match": etag},
                             timeout=10)
        assert again.status_code == 304
        zipped = requests.get(httpd.url + "f.atom", headers={"Accept-Encoding": "gzip"},
                              stream=True, timeout=10)
        assert zipped.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(zipped.raw.read()) == atom
        page = requests.get(httpd.url + "f.atom", headers={"Accept": "text/html"}, timeout=10)
        assert page.content == (output.directory / "f.html").read_bytes()
        assert b"f.atom" in requests.get(httpd.url, timeout=10).content  # the index
        assert requests.get(httpd.url + "nope.atom", timeout=10).status_code == 404
        # the database goes away: the last copy of what was served is served on
        documents._store.close()
        assert requests.get(httpd.url + "f.atom", timeout=10).content == atom
    finally:
        httpd.stop()
        store.close()


def test_a_cron_run_claims_each_feed_and_skips_one_a_daemon_holds(
    pg_url: str, server: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from feedgen_dw.cli import main

    url = server.publish(FIRST)
    (tmp_path / "config.yaml").write_text(
        f"database: {pg_url}\noutput_dir: public\nfeeds:\n"
        f"  a:\n    url: {url}\n    site: dw\n  b:\n    url: {url}\n    site: dw\n",
        encoding="utf-8")
    store = open_store(pg_url)
    try:
        claims.register(store, [(n, url, "127.0.0.1", T0, False) for n in ("a", "b")])
        # a daemon holds b for a long lease
        assert claims.claim(store, "daemon/1", ["b"], T0, T0 + timedelta(days=3650), 1, 4)
        assert main(["run", "--config", str(tmp_path / "config.yaml")]) == 0
        out = capsys.readouterr().out
        assert "b: a daemon is polling it; skipped" in out and "a: 3 new" in out
        assert store.has_articles("a") and not store.has_articles("b")
        # a was released with its next due time, b is still the daemon's
        rows = {r["feed"]: r for r in store._rows("SELECT * FROM claims")}
        assert rows["a"]["node"] is None and rows["a"]["due"] > rows["a"]["last_polled"]
        assert rows["b"]["node"] == "daemon/1"
        assert sum(polls for _, polls in store.nodes()[1].values()) == 1
    finally:
        store.close()


def test_a_poll_whose_claim_was_taken_over_commits_nothing(
    pg_url: str, server: ReplayServer, tmp_path: Path,
) -> None:
    store, fetcher, output, feed = _first_poll(pg_url, server, tmp_path / "public")
    try:
        claims.register(store, [("f", feed.url, "127.0.0.1", T0, False)])
        assert claims.claim(store, "a", ["f"], T0, T0 + timedelta(seconds=1), 1, 4)
        with pytest.raises(claims.LeaseLost), store.poll_transaction():
            assert poll_feed(feed, store, fetcher, output, fixed_clock(T0)).ok
            # a stalled past its lease: b claims the feed meanwhile
            later = T0 + timedelta(seconds=5)
            assert claims.claim(store, "b", ["f"], later, later + timedelta(minutes=2), 1, 4)
            claims.release(store, "a", "f", later, later)
        assert not store.has_articles("f") and store.status("f").last_poll is None
        assert store._one("SELECT count(*) AS n FROM documents")["n"] == 0
        assert not output.directory.exists()  # its files follow only a commit
    finally:
        store.close()
        fetcher.close()


def test_a_failed_write_rolls_its_poll_back_and_the_failure_is_recorded(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        with store.poll_transaction():
            store.save_poll("f", [], T0)  # the poll's state: rolled back below
            store.after_commit(lambda: pytest.fail("a hub pinged for a rolled-back poll"))
            with pytest.raises(StoreError), store._writing("breaking") as w:
                w.execute("SELECT * FROM no_such_table")
            store.record_failure("f", "boom", T0)  # a transaction of its own
        status = store.status("f")
        assert status.failures == 1 and status.last_success is None
    finally:
        store.close()


def test_files_that_cannot_be_written_after_a_commit_are_rendered_by_the_next_poll(
    pg_url: str, server: ReplayServer, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    (tmp_path / "public").write_text("a file where the folder should be")
    store, fetcher, output, feed = _first_poll(pg_url, server, tmp_path / "public")
    try:
        assert poll_feed(feed, store, fetcher, output, fixed_clock(T0)).ok  # committed
        assert "status=files-failed" in caplog.text
        assert store.status("f").render_pending  # the next poll writes them
        assert store._one("SELECT count(*) AS n FROM documents")["n"] == 4  # served
    finally:
        store.close()
        fetcher.close()
