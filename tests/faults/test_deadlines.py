"""Deadlines: no upstream holds a fetch, a poll, a hub ping or a stopping daemon for long.
Bounds are generous (a 2 s deadline must end within 10 s): the machine is shared."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from feedgen_dw.config import FeedConfig, Settings
from feedgen_dw.errors import FetchError
from feedgen_dw.fetch import Fetcher, FetchSettings
from feedgen_dw.poll import Output, fixed_clock, poll_feed
from feedgen_dw.push import ping_hub
from feedgen_dw.store import SQLiteStore
from tests.faults.rawserver import RawServer, raw_server, wait_until
from tests.faults.test_hostile_world import T0, _page, _run
from tests.procs import running, stopped

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"


def _trickler(server_box: list[RawServer]) -> object:
    def answer(conn: socket.socket, head: bytes) -> None:
        server_box[0].trickle(conn, HEAD + _page(), every=0.3)
    return answer


def _silent(conn: socket.socket, head: bytes) -> None:
    time.sleep(60)  # accepts, reads the request, never answers (until the server stops)


def test_a_trickling_server_cannot_hold_a_poll_past_its_deadline(tmp_path: Path) -> None:
    box: list[RawServer] = []
    with raw_server(_trickler(box)) as server:  # type: ignore[arg-type]
        box.append(server)
        store, fetcher = SQLiteStore(tmp_path / "s.sqlite3"), Fetcher()
        # timeout 1 s: every read gets a byte in time; the fetch may take 3 s in total
        feed = FeedConfig(name="live", url=server.base_url + "/a-1", settings=Settings(timeout=1))
        started = time.monotonic()
        try:
            result = poll_feed(feed, store, fetcher, Output(tmp_path, "http://x/"),
                               fixed_clock(T0))
        finally:
            fetcher.close()
            store.close()
        took = time.monotonic() - started
    assert not result.ok and "timed out after" in (result.error or "")
    assert "in total" in (result.error or "") and took < 10, (took, result.error)


def test_a_server_that_never_answers_says_how_long_it_waited(tmp_path: Path) -> None:
    with raw_server(_silent) as server:
        config = tmp_path / "config.yaml"
        config.write_text(f"timeout: 1s\nfeeds:\n  live:\n    url: {server.base_url}/a-1\n",
                          encoding="utf-8")
        started = time.monotonic()
        code, _, err = _run(config, T0)
        took = time.monotonic() - started
    assert code == 1 and err.count("\n") == 1, err
    assert "timed out after" in err and "s in total" in err, err
    assert took < 10, took


def test_https_against_an_http_server_is_one_line_in_words(tmp_path: Path) -> None:
    with raw_server(lambda c, h: c.sendall(HEAD), read_head=False) as server:
        url = server.base_url.replace("http://", "https://") + "/a-1"
        config = tmp_path / "config.yaml"
        config.write_text(f"timeout: 2s\nfeeds:\n  live:\n    url: {url}\n", encoding="utf-8")
        code, _, err = _run(config, T0)
    assert code == 1 and err.count("\n") == 1, err
    assert "TLS handshake failed (is this an http:// server?)" in err, err
    assert "_ssl.c" not in err


def test_a_hub_that_never_answers_is_given_up_on_in_bounded_time() -> None:
    with raw_server(_silent) as hub:
        started = time.monotonic()
        ok = ping_hub(hub.base_url + "/", ["http://x/a.atom", "http://x/a.rss",
                                           "http://x/a.json"], timeout=2)
        took = time.monotonic() - started
    assert not ok and took < 10, took


def test_the_fetch_deadline_covers_retries_and_their_waits() -> None:
    # 503 with Retry-After 5 s is waited out inside a poll, but not past the deadline
    answer = (b"HTTP/1.1 503 Busy\r\nRetry-After: 5\r\nContent-Length: 0\r\n"
              b"Connection: close\r\n\r\n")
    with raw_server(lambda c, h: c.sendall(answer)) as server:
        fetcher = Fetcher()
        started = time.monotonic()
        try:
            with pytest.raises(FetchError, match="Retry-After 5s"):
                fetcher.get(server.base_url + "/a-1", FetchSettings(timeout=1, total=2))
        finally:
            fetcher.close()
        took = time.monotonic() - started
    assert took < 10, took


def test_sigterm_ends_a_daemon_stuck_on_a_trickling_server(tmp_path: Path) -> None:
    box: list[RawServer] = []
    with raw_server(_trickler(box)) as server:  # type: ignore[arg-type]
        box.append(server)
        config = tmp_path / "config.yaml"
        # a long timeout: the poll would go on for minutes
        config.write_text(f"timeout: 60s\nfeeds:\n  live:\n    url: {server.base_url}/a-1\n"
                          "    interval: 1s\n", encoding="utf-8")  # polls outlast the interval
        with running("-m", "feedgen_dw", "daemon", "--config", str(config)) as proc:
            wait_until(lambda: len(server.requests) >= 1, "the poll to start")
            time.sleep(1)  # well inside the trickle
            started = time.monotonic()
            output = stopped(proc)
            took = time.monotonic() - started
    assert proc.returncode == 0, output
    assert took < 10, (took, output)
    assert "Traceback" not in output, output
    assert "maximum number of running instances" not in output  # no per-tick noise
