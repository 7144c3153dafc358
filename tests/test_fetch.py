from __future__ import annotations

from typing import Any

import pytest

from feedgen_dw.errors import FetchError
from feedgen_dw.fetch import DEFAULT_USER_AGENT, Fetcher, FetchSettings, Validators
from feedgen_dw.replay import ReplayServer

HTML = {"Content-Type": "text/html; charset=utf-8"}


def test_get_follows_redirects_and_decodes(server: ReplayServer) -> None:
    server.set("/a", 301, b"", {"Location": "/b"})
    server.set("/b", 200, "<p>Grüße</p>".encode(), HTML)
    page = Fetcher().get(server.base_url + "/a")
    assert (page.url, page.status, page.text) == (server.base_url + "/b", 200, "<p>Grüße</p>")


def test_charset_from_meta_when_header_has_none(server: ReplayServer) -> None:
    body = '<meta charset="iso-8859-1"><p>Grüße</p>'.encode("iso-8859-1")
    server.set("/l", 200, body, {"Content-Type": "text/html"})
    assert "Grüße" in Fetcher().get(server.base_url + "/l").text


@pytest.mark.parametrize("status", [404, 410])
def test_http_errors_name_url_and_status(server: ReplayServer, status: int) -> None:
    server.set("/x", status, b"gone", HTML)
    with pytest.raises(FetchError) as info:
        Fetcher().get(server.base_url + "/x")
    assert f"{server.base_url}/x: HTTP {status}" in str(info.value)
    assert info.value.status == status


def test_non_html_is_refused(server: ReplayServer) -> None:
    server.set("/j", 200, b'{"error": 1}', {"Content-Type": "application/json"})
    with pytest.raises(FetchError, match="not an HTML page"):
        Fetcher().get(server.base_url + "/j")


def test_size_cap(server: ReplayServer) -> None:
    server.set("/big", 200, b"x" * 5000, HTML)
    with pytest.raises(FetchError, match="over max_bytes"):
        Fetcher().get(server.base_url + "/big", FetchSettings(max_bytes=1000))


def test_connection_refused_is_a_fetch_error() -> None:
    with pytest.raises(FetchError, match="connection failed"):
        Fetcher(retries=0).get("http://127.0.0.1:9/")


def test_user_agent_names_the_project(server: ReplayServer) -> None:
    assert DEFAULT_USER_AGENT.startswith("feedgen-dw/")
    server.set("/ua", 200, b"<p>x</p>", HTML)
    Fetcher().get(server.base_url + "/ua")
    assert server.site.headers[-1]["User-Agent"] == DEFAULT_USER_AGENT


def test_proxies_come_from_the_environment_and_no_proxy_is_honoured(
    server: ReplayServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on: the "proxy" is down
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    server.set("/p", 200, b"<p>ok</p>", HTML)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(FetchError, match=r"connection failed|gave up"):
        Fetcher(retries=0).get(server.base_url + "/p")  # through the proxy
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert Fetcher(retries=0).get(server.base_url + "/p").text == "<p>ok</p>"  # around it


def test_a_cookie_set_by_a_redirect_lives_only_within_its_chain(server: ReplayServer) -> None:
    # a consent redirect: sets a cookie and sends us back; the next fetch starts clean
    server.set("/consent", 302, b"", {"Location": "/page", "Set-Cookie": "ok=1; Path=/"})
    server.set("/page", 200, b"<p>x</p>", HTML)
    Fetcher().get(server.base_url + "/consent")
    assert server.site.headers[-1].get("Cookie") == "ok=1"
    fetcher = Fetcher()
    fetcher.get(server.base_url + "/page")
    assert "Cookie" not in server.site.headers[-1]


def test_url_credentials_go_to_their_own_origin_only(server: ReplayServer) -> None:
    elsewhere = server.base_url.replace("127.0.0.1", "localhost")
    server.set("/away", 302, b"", {"Location": elsewhere + "/there"})
    server.set("/there", 200, b"<p>x</p>", HTML)
    Fetcher().get(server.base_url.replace("http://", "http://user:pw@") + "/away")
    first, last = server.site.headers[-2], server.site.headers[-1]
    assert first.get("Authorization") == "Basic dXNlcjpwdw==" and "Authorization" not in last


def test_a_relative_redirect_keeps_the_query_quoted(server: ReplayServer) -> None:
    server.set("/r", 301, b"", {"Location": "/b?q=a b"})
    server.set("/b", 200, b"<p>x</p>", HTML)
    page = Fetcher().get(server.base_url + "/r")
    assert page.url == server.base_url + "/b?q=a%20b" and page.permanent_url == page.url


# A conditional GET goes out over fetch.py's plain http.client first; what is not a 304
# is handed to the full path as its first answer: asked once, handled as before.
ETAG = {**HTML, "ETag": '"v1"'}


def test_a_conditional_get_answered_304_and_then_200_over_one_connection(
    server: ReplayServer,
) -> None:
    server.set("/c", 200, b"<p>one</p>", ETAG)
    fetcher = Fetcher()
    assert fetcher.get(server.base_url + "/c", validators=Validators('"v1"')).not_modified
    assert fetcher.get(server.base_url + "/c", validators=Validators('"v1"')).not_modified
    server.set("/c", 200, "<p>zwei Grüße</p>".encode(), {**HTML, "ETag": '"v2"'})
    page = fetcher.get(server.base_url + "/c", validators=Validators('"v1"'))
    assert (page.status, page.text, page.validators.etag) == (200, "<p>zwei Grüße</p>", '"v2"')
    assert len(server.site.requests) == 3  # each answer asked for once


def test_a_conditional_get_answered_503_is_retried_after_its_retry_after(
    server: ReplayServer,
) -> None:
    server.set("/r", 200, b"<p>ok</p>", ETAG)
    server.queue("/r", 503, b"busy", {**HTML, "Retry-After": "0"})
    page = Fetcher().get(server.base_url + "/r", validators=Validators('"old"'))
    assert page.text == "<p>ok</p>" and len(server.site.requests) == 2


def test_a_conditional_get_answered_with_a_redirect_follows_it(server: ReplayServer) -> None:
    server.set("/old", 301, b"", {"Location": "/new"})
    server.set("/new", 200, b"<p>moved</p>", ETAG)
    page = Fetcher().get(server.base_url + "/old", validators=Validators('"v0"'))
    assert page.text == "<p>moved</p>" and page.permanent_url == server.base_url + "/new"
    assert server.site.requests == ["/old", "/new"]
    assert server.site.headers[-1]["If-None-Match"] == '"v0"'


def test_a_conditional_get_whose_error_page_was_not_read_still_leaves_a_working_fetcher(
    server: ReplayServer,
) -> None:
    server.set("/e", 404, b"x" * 200_000, HTML)
    fetcher = Fetcher()
    with pytest.raises(FetchError, match="HTTP 404"):
        fetcher.get(server.base_url + "/e", validators=Validators('"v0"'))
    server.set("/e", 200, b"<p>back</p>", ETAG)
    assert fetcher.get(server.base_url + "/e", validators=Validators('"v0"')).text == (
        "<p>back</p>")


# A 200 is read by the plain client itself (pooled.py only for redirects, errors, proxies
# and encodings other than gzip): the same limits and error lines.
def test_a_gzipped_page_is_inflated_also_from_two_members(server: ReplayServer) -> None:
    import gzip

    body = gzip.compress("<p>Grüße, ".encode()) + gzip.compress(b"zweiter Teil</p>")
    server.set("/gz", 200, body, {**HTML, "Content-Encoding": "gzip"})
    assert Fetcher().get(server.base_url + "/gz").text == "<p>Grüße, zweiter Teil</p>"


def test_a_gzip_bomb_stops_at_max_bytes(server: ReplayServer) -> None:
    import gzip

    server.set("/bomb", 200, gzip.compress(b"x" * 20_000_000), {**HTML,
                                                               "Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="over max_bytes"):
        Fetcher().get(server.base_url + "/bomb", FetchSettings(max_bytes=100_000))


def test_a_body_shorter_than_its_content_length_is_broken_mid_body() -> None:
    from tests.faults.rawserver import raw_server

    def answer(conn: Any, head: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n"
                     b"Connection: close\r\n\r\n<p>only this</p>")

    with raw_server(answer) as server, pytest.raises(FetchError, match="broken mid-body"):
        Fetcher(retries=0).get(server.base_url + "/cut")


def test_a_bad_gzip_body_is_a_fetch_error(server: ReplayServer) -> None:
    server.set("/badgz", 200, b"not gzip at all", {**HTML, "Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="failed to decode"):
        Fetcher().get(server.base_url + "/badgz")
