"""Issue 12: the built-in server under hostile clients. Idle and half-sent connections
cost a descriptor, not a thread, and time out; odd headers get strict answers."""

from __future__ import annotations

import re
import resource
import socket
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest

from feedgen_dw import httpd
from feedgen_dw.serve import FeedHTTPServer
from tests.fsclock import file_system_clock

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[FeedHTTPServer]:
    root = tmp_path / "public"
    root.mkdir()
    (root / "live.atom").write_bytes(b"<feed>atom</feed>")
    (root / "index.html").write_bytes(b"<!DOCTYPE html><title>i</title>")
    server = FeedHTTPServer(root, "127.0.0.1", 0, lambda name: 60,
                            clock=file_system_clock(tmp_path)).start()
    yield server
    server.stop()


def _exchange(server: FeedHTTPServer, raw: bytes, timeout: float = 5) -> bytes:
    """Send `raw`, read until the server closes or goes quiet."""
    with socket.create_connection(server.server_address[:2], timeout=timeout) as sock:
        sock.sendall(raw)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and b"Connection: close" not in chunks[0]:
                    sock.settimeout(0.3)  # kept alive: take what has come
        except TimeoutError:
            pass
        return b"".join(chunks)


def _get(path: str, *headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: x", "Connection: close", *headers, "", ""]
    return "\r\n".join(lines).encode()


def test_a_real_client_is_served_within_a_second_beside_2000_idle_sockets(
    site: FeedHTTPServer
) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 5000:
        pytest.skip(f"the descriptor limit ({hard}) is below what 2,000 sockets a side need")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    idle: list[socket.socket] = []
    threads_before = threading.active_count()
    try:
        for _ in range(2000):
            idle.append(socket.create_connection(site.server_address[:2], timeout=5))
        time.sleep(0.5)  # the server has accepted what it will
        started = time.monotonic()
        answer = _exchange(site, _get("/live.atom"))
        assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"<feed>atom</feed>")
        assert time.monotonic() - started < 1.0
        assert threading.active_count() <= threads_before + httpd.WORKERS  # not one per socket
    finally:
        for sock in idle:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_idle_and_half_sent_connections_are_closed(
    site: FeedHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(httpd, "IDLE_TIMEOUT", 0.5)
    monkeypatch.setattr(httpd, "REQUEST_TIMEOUT", 0.5)
    address = site.server_address[:2]
    with socket.create_connection(address, timeout=5) as idle, \
            socket.create_connection(address, timeout=5) as slow:
        slow.sendall(b"GET /live.atom HTTP/1.1\r\nHost: x\r\n")  # and never the blank line
        started = time.monotonic()
        assert idle.recv(10) == b"" and slow.recv(10) == b""  # closed by the server
        assert time.monotonic() - started < 4


def test_keep_alive_and_pipelined_requests(site: FeedHTTPServer) -> None:
    one = b"GET /live.atom HTTP/1.1\r\nHost: x\r\n\r\n"
    answer = _exchange(site, one + one + _get("/index.html"))
    assert answer.count(b"HTTP/1.1 200") == 3 and answer.endswith(b"<title>i</title>")


@pytest.mark.parametrize("value", ["gzip;q=abc", "gzip;q=", "gzip;q=1.5", "gzip; q=0.0001",
                                   "gzip;q=-1", "gzip;q=nan", "gzip;q=inf", "gzip;;;"])
def test_malformed_q_values_mean_no_gzip(site: FeedHTTPServer, value: str) -> None:
    answer = _exchange(site, _get("/live.atom", f"Accept-Encoding: {value}"))
    assert answer.startswith(b"HTTP/1.1 200") and b"Content-Encoding" not in answer
    assert answer.endswith(b"<feed>atom</feed>")


def test_gzip_with_a_good_q_value(site: FeedHTTPServer) -> None:
    answer = _exchange(site, _get("/live.atom", "Accept-Encoding: gzip;q=0.5"))
    assert b"Content-Encoding: gzip" in answer


def test_nosniff_everywhere_and_a_policy_on_html(site: FeedHTTPServer) -> None:
    for path in ("/", "/live.atom", "/nope.atom"):
        assert b"X-Content-Type-Options: nosniff" in _exchange(site, _get(path))
    head = _exchange(site, _get("/")).split(b"\r\n\r\n")[0].decode()
    policy = re.search(r"Content-Security-Policy: (.*)", head)
    assert policy and "default-src 'none'" in policy.group(1)
    assert "script-src" not in policy.group(1)
    assert "Content-Security-Policy" not in _exchange(site, _get("/live.atom")).decode()


@pytest.mark.parametrize("request_line", [b"GET /live.atom\r\n", b"GET /live.atom\r\n\r\n",
                                          b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1 x\r\n\r\n"])
def test_no_http_0_9_answers(site: FeedHTTPServer, request_line: bytes) -> None:
    answer = _exchange(site, request_line)
    assert answer.startswith(b"HTTP/1.") and b" 400 " in answer.split(b"\r\n")[0]
    assert b"<feed>" not in answer


def test_if_modified_since_in_the_future_is_no_304(site: FeedHTTPServer) -> None:
    future = formatdate(site.clock() + 30 * 86400, usegmt=True)
    answer = _exchange(site, _get("/live.atom", f"If-Modified-Since: {future}"))
    assert answer.startswith(b"HTTP/1.1 200")
    for odd in ("yesterday", "Mon, 99 Nov 2026 25:61:61 GMT", "Tue, 01 Jan 99999 00:00:00 GMT"):
        answer = _exchange(site, _get("/live.atom", f"If-Modified-Since: {odd}"))
        assert answer.startswith(b"HTTP/1.1 200"), odd


def test_the_root_can_move(site: FeedHTTPServer, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "live.atom").write_bytes(b"<feed>moved</feed>")
    site.root = other
    assert _exchange(site, _get("/live.atom")).endswith(b"<feed>moved</feed>")
    site.root = lambda: tmp_path / "public"
    assert _exchange(site, _get("/live.atom")).endswith(b"<feed>atom</feed>")


def test_a_request_head_over_the_limit_is_dropped(site: FeedHTTPServer) -> None:
    huge = b"GET / HTTP/1.1\r\nX: " + b"a" * (httpd.MAX_HEAD + 10)
    assert b"200" not in _exchange(site, huge)


def test_nginx_serves_what_the_tool_writes() -> None:
    conf = (REPO / "contrib" / "nginx.conf").read_text(encoding="utf-8")
    # the feeds' location (its name captured for the browser page) and the other files'
    locations = re.findall(
        r"location ~ \^/(?:\(\?<feedname>)?\[a-z0-9\]\[a-z0-9._-\]\*\)?\\\.\(([a-z|]+)\)\$", conf)
    assert locations, "the locations of the files"
    served = {suffix for found in locations for suffix in found.split("|")}
    assert served >= {"atom", "rss", "json", "opml", "html", "xsl"}
    types = re.search(r"types \{(.*?)\}", conf, re.S)
    assert types
    # a types block replaces nginx's mime.types for the server: every suffix is in it
    for mime, suffix in (("application/atom+xml", "atom"), ("application/rss+xml", "rss"),
                         ("application/feed+json", "json"), ("text/x-opml", "opml"),
                         ("text/html", "html"), ("text/xsl", "xsl")):
        assert re.search(rf"{re.escape(mime)}\s+{suffix};", types.group(1)), mime
    assert "X-Content-Type-Options" in conf
