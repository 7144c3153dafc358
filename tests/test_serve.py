"""The built-in server over real HTTP."""

from __future__ import annotations

import gzip
import http.client
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedgen_dw.serve import FeedHTTPServer
from tests.fsclock import file_system_clock


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[FeedHTTPServer, Path]]:
    root = tmp_path / "public"
    root.mkdir()
    (root / "live.atom").write_bytes(b"<feed>atom</feed>" * 50)
    (root / "live.rss").write_bytes(b"<rss>rss</rss>")
    (root / "live.json").write_bytes(b'{"version": "x"}')
    (root / "index.html").write_bytes(b"<!DOCTYPE html><title>i</title>")
    (root / "feeds.opml").write_bytes(b"<opml/>")
    (root / "notes.txt").write_bytes(b"not a feed")
    (tmp_path / "secret.atom").write_bytes(b"outside")
    (root / "link.atom").symlink_to(tmp_path / "secret.atom")
    (root / "sub").mkdir()
    (root / "sub" / "x.atom").write_bytes(b"nested")
    for path in root.iterdir():
        os.utime(path, (1_700_000_000, 1_700_000_000), follow_symlinks=False)
    server = FeedHTTPServer(root, "127.0.0.1", 0, lambda name: 300 if name.startswith("live")
                            else 60, clock=file_system_clock(tmp_path)).start()
    yield server, root
    server.stop()


def request(server: FeedHTTPServer, method: str, path: str,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=5)
    conn.putrequest(method, path, skip_accept_encoding=True)  # the path goes out as written
    for key, value in (headers or {}).items():
        conn.putheader(key, value)
    conn.endheaders()
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


@pytest.mark.parametrize(("path", "ctype"), [
    ("/live.atom", "application/atom+xml; charset=utf-8"),
    ("/live.rss", "application/rss+xml; charset=utf-8"),
    ("/live.json", "application/feed+json"),
    ("/", "text/html; charset=utf-8"),
    ("/index.html", "text/html; charset=utf-8"),
    ("/feeds.opml", "text/x-opml; charset=utf-8"),
])
def test_content_types(site: tuple[FeedHTTPServer, Path], path: str, ctype: str) -> None:
    status, headers, _ = request(site[0], "GET", path)
    assert (status, headers["content-type"]) == (200, ctype)


def test_etag_last_modified_cache_control_and_304(site: tuple[FeedHTTPServer, Path]) -> None:
    server, root = site
    status, headers, body = request(server, "GET", "/live.atom")
    assert status == 200 and body == (root / "live.atom").read_bytes()
    assert headers["cache-control"] == "public, max-age=300"
    etag, modified = headers["etag"], headers["last-modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert request(server, "GET", "/live.atom", {"If-None-Match": etag})[0] == 304
    assert request(server, "GET", "/live.atom", {"If-Modified-Since": modified})[0] == 304
    assert request(server, "GET", "/live.atom", {"If-None-Match": '"other"'})[0] == 200
    assert request(server, "GET", "/index.html")[1]["cache-control"] == "public, max-age=60"
    (root / "live.atom").write_bytes(b"<feed>new</feed>")
    assert request(server, "GET", "/live.atom", {"If-None-Match": etag})[0] == 200
    # changed in this very second: no Last-Modified, so If-Modified-Since cannot go stale
    fresh = request(server, "GET", "/live.atom")[1]
    assert "last-modified" not in fresh
    assert request(server, "GET", "/live.atom", {"If-Modified-Since": modified})[0] == 200


def test_a_browser_gets_xml_it_can_style(site: tuple[FeedHTTPServer, Path]) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert request(site[0], "GET", "/live.atom", {"Accept": browser})[1]["content-type"] == (
        "application/xml; charset=utf-8")
    reader = "application/atom+xml, application/rss+xml;q=0.9, */*;q=0.1"
    assert request(site[0], "GET", "/live.atom", {"Accept": reader})[1]["content-type"] == (
        "application/atom+xml; charset=utf-8")


def test_head_and_gzip(site: tuple[FeedHTTPServer, Path]) -> None:
    server, root = site
    status, headers, body = request(server, "HEAD", "/live.atom")
    assert status == 200 and body == b""
    assert headers["content-length"] == str(len((root / "live.atom").read_bytes()))
    status, headers, body = request(server, "GET", "/live.atom", {"Accept-Encoding": "gzip"})
    assert headers["content-encoding"] == "gzip" and headers["vary"] == "Accept-Encoding, Accept"
    assert gzip.decompress(body) == (root / "live.atom").read_bytes()
    plain = request(server, "GET", "/live.atom")[1]
    assert "content-encoding" not in plain and plain["etag"] != headers["etag"]
    refused = request(server, "GET", "/live.atom", {"Accept-Encoding": "gzip;q=0"})[1]
    assert "content-encoding" not in refused


@pytest.mark.parametrize("path", [
    "/../secret.atom", "/%2e%2e/secret.atom", "/%2E%2E%2Fsecret.atom", "/..%2fsecret.atom",
    "/sub%2fx.atom", "/sub/x.atom", "/sub/", "/link.atom", "//etc/passwd", "/etc/passwd",
    "http://127.0.0.1/../secret.atom", "/notes.txt", "/.hidden.atom", "/live.atom%00",
    "/..\\secret.atom", "/nope.atom",
])
def test_nothing_outside_output_dir(site: tuple[FeedHTTPServer, Path], path: str) -> None:
    status, _, body = request(site[0], "GET", path)
    assert status == 404 and b"outside" not in body and b"nested" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_get_and_head(site: tuple[FeedHTTPServer, Path], method: str) -> None:
    status, headers, _ = request(site[0], method, "/live.atom")
    assert status == 405 and headers["allow"] == "GET, HEAD"


def test_binds_to_loopback_by_default_in_the_cli() -> None:
    from feedgen_dw.cli import _parser

    args = _parser(["serve"]).parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 8080)
    assert _parser(["daemon", "--serve"]).parse_args(["daemon", "--serve"]).host == "127.0.0.1"


def test_max_age_follows_the_feed_interval() -> None:
    from feedgen_dw.config import FeedConfig
    from feedgen_dw.serve import feed_max_age

    feeds = [FeedConfig(name="a", url="http://x/a-1", interval=300),
             FeedConfig(name="b", url="http://x/a-2", interval=60)]
    assert feed_max_age(feeds, "a.atom") == 300
    assert feed_max_age(feeds, "b.json") == 60
    assert feed_max_age(feeds, "index.html") == 60  # shared files: the shortest interval
