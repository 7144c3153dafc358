"""Polite fetching against a local server that counts requests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import feedgen_dw.extract
from feedgen_dw.config import FeedConfig, Settings
from feedgen_dw.demo import FIRST, SECOND
from feedgen_dw.fetch import Fetcher
from feedgen_dw.poll import Output, feed_paths, fixed_clock, poll_feed
from feedgen_dw.replay import ReplayServer
from feedgen_dw.store import SQLiteStore

T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[SQLiteStore, Fetcher, Output]]:
    store, fetcher = SQLiteStore(tmp_path / "s.sqlite3"), Fetcher(backoff=0.1)
    yield store, fetcher, Output(tmp_path / "public", "http://127.0.0.1:8080/")
    store.close()
    fetcher.close()


def test_unchanged_page_is_a_conditional_get_answered_304(
    server: ReplayServer, env: tuple[SQLiteStore, Fetcher, Output],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, fetcher, output = env
    feed = FeedConfig(name="f", url=server.publish(FIRST))
    assert poll_feed(feed, store, fetcher, output, fixed_clock(T0)).ok
    mtimes = {p: p.stat().st_mtime_ns for p in feed_paths(output, "f").values()}

    def no_parsing(*args: object) -> None:
        raise AssertionError("a 304 must not be parsed")

    monkeypatch.setattr(feedgen_dw.extract, "extract_page", no_parsing)
    result = poll_feed(feed, store, fetcher, output, fixed_clock(T0 + timedelta(minutes=5)))
    assert result.ok and result.not_modified and not result.written
    assert server.site.headers[-1]["If-None-Match"] == server.site.pages[FIRST.path][1]["ETag"]
    assert server.request_count() == 2
    assert {p: p.stat().st_mtime_ns for p in feed_paths(output, "f").values()} == mtimes
    assert store.status("f").last_success == T0 + timedelta(minutes=5)


def test_retry_after_is_honoured(
    server: ReplayServer, env: tuple[SQLiteStore, Fetcher, Output]
) -> None:
    store, fetcher, output = env
    url = server.publish(FIRST)
    server.queue(FIRST.path, 429, b"slow down", {"Retry-After": "1", "Content-Type": "text/html"})
    result = poll_feed(FeedConfig(name="f", url=url), store, fetcher, output, fixed_clock(T0))
    assert result.ok and result.new == 3
    first, second = server.site.times
    assert second - first >= 1.0  # waited as asked, not the 0.1 s backoff


def test_a_long_retry_after_fails_the_poll_and_reaches_the_schedule(
    server: ReplayServer, env: tuple[SQLiteStore, Fetcher, Output]
) -> None:
    store, fetcher, output = env
    url = server.publish(FIRST)
    server.queue(FIRST.path, 503, b"", {"Retry-After": "3600", "Content-Type": "text/html"})
    result = poll_feed(FeedConfig(name="f", url=url), store, fetcher, output, fixed_clock(T0))
    assert not result.ok and result.retry_after == 3600
    assert "Retry-After 3600s" in (result.error or "")
    assert server.request_count() == 1


def test_body_over_max_bytes_is_refused_without_reading_it_all(
    server: ReplayServer, env: tuple[SQLiteStore, Fetcher, Output]
) -> None:
    store, fetcher, output = env
    total = 50 * 1024 * 1024
    server.stream("/de/huge/a-1", total)
    feed = FeedConfig(name="f", url=server.base_url + "/de/huge/a-1",
                      settings=Settings(max_bytes=1024 * 1024))
    result = poll_feed(feed, store, fetcher, output, fixed_clock(T0))
    assert not result.ok and "over max_bytes (1048576)" in (result.error or "")
    fetcher.close()  # drop the connection, as a finished poll does
    assert server.site.sent.get("/de/huge/a-1", 0) < total // 4


def test_a_permanent_redirect_is_remembered(
    server: ReplayServer, env: tuple[SQLiteStore, Fetcher, Output]
) -> None:
    store, fetcher, output = env
    old = server.publish(FIRST)
    server.publish(SECOND)  # the slug changed: the old URL now answers 301
    feed = FeedConfig(name="f", url=old)
    assert poll_feed(feed, store, fetcher, output, fixed_clock(T0)).ok
    assert server.request_count() == 2
    assert store.status("f").http.fetch_url == server.base_url + "/de/ukraine-aktuell-kiew-" \
        "meldet-gel%C3%A4ndegewinne/a-70000001"
    result = poll_feed(feed, store, fetcher, output, fixed_clock(T0 + timedelta(minutes=5)))
    assert result.ok and result.not_modified
    assert server.request_count() == 3  # one request, straight to the new URL
    assert "selenskyj" not in server.site.requests[-1]


def test_user_agent_and_timeout_come_from_the_config(
    server: ReplayServer, env: tuple[SQLiteStore, Fetcher, Output]
) -> None:
    store, _, output = env
    server.publish(FIRST)
    server.site.delay = 1.0
    feed = FeedConfig(name="f", url=server.base_url + FIRST.path,
                      settings=Settings(user_agent="my-reader/1.0", timeout=0.3))
    result = poll_feed(feed, store, Fetcher(retries=0), output, fixed_clock(T0))
    assert not result.ok and "timed out after 0.3s" in (result.error or "")
    assert server.site.headers[-1]["User-Agent"] == "my-reader/1.0"
