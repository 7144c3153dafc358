"""WebSub: rel="hub" in the feeds and a publish ping after each change."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from lxml import etree

from feedgen_dw.config import FeedConfig
from feedgen_dw.demo import FIRST, SECOND
from feedgen_dw.fetch import Fetcher
from feedgen_dw.poll import Output, fixed_clock, poll_feed
from feedgen_dw.replay import ReplayServer
from feedgen_dw.store import SQLiteStore

T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)


class Hub(ThreadingHTTPServer):
    """A stand-in hub that records what it is told."""

    def __init__(self) -> None:
        self.pings: list[dict[str, list[str]]] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                hub.pings.append(parse_qs(self.rfile.read(length).decode()))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/hub"


@pytest.fixture
def hub() -> Iterator[Hub]:
    server = Hub()
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_hub_link_and_publish_pings_after_changes_only(
    server: ReplayServer, hub: Hub, tmp_path: Path
) -> None:
    store, fetcher = SQLiteStore(tmp_path / "s.sqlite3"), Fetcher()
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/", hub=hub.url)
    feed = FeedConfig(name="live", url=server.publish(FIRST))
    assert poll_feed(feed, store, fetcher, output, fixed_clock(T0)).ok
    expected = [{"hub.mode": ["publish"], "hub.url": [f"http://127.0.0.1:8080/live.{fmt}"]}
                for fmt in ("atom", "rss", "json")]
    assert hub.pings == expected
    atom = etree.fromstring((output.directory / "live.atom").read_bytes())
    assert atom.xpath("//*[local-name()='link'][@rel='hub']/@href") == [hub.url]
    rss = etree.fromstring((output.directory / "live.rss").read_bytes())
    assert rss.xpath("//*[local-name()='link'][@rel='hub']/@href") == [hub.url]
    server.publish(FIRST, noise=3)  # noise: no change, no ping
    assert poll_feed(feed, store, fetcher, output, fixed_clock(T0 + timedelta(minutes=5))).ok
    assert len(hub.pings) == 3
    server.publish(SECOND)
    assert poll_feed(feed, store, fetcher, output, fixed_clock(T0 + timedelta(hours=1))).ok
    assert len(hub.pings) == 6


def test_a_hub_that_is_down_does_not_fail_the_poll(server: ReplayServer, tmp_path: Path) -> None:
    store, fetcher = SQLiteStore(tmp_path / "s.sqlite3"), Fetcher()
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/", hub="http://127.0.0.1:9/")
    feed = FeedConfig(name="live", url=server.publish(FIRST))
    assert poll_feed(feed, store, fetcher, output, fixed_clock(T0)).ok
