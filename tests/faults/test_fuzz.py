"""Property-based fuzzing: the server's paths and methods, the extractor and the diff."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedgen_dw.demo import FIRST, SECOND, THIRD
from feedgen_dw.diff import diff_article
from feedgen_dw.errors import FeedgenDwError
from feedgen_dw.extract import extract_page
from feedgen_dw.replay import render_page
from feedgen_dw.serve import FeedHTTPServer

T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)
SERVED = {"live.atom", "live.rss", "live.json", "index.html", "feeds.opml"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeedHTTPServer]:
    base = tmp_path_factory.mktemp("fuzz")
    root = base / "public"
    root.mkdir()
    for name in SERVED:
        (root / name).write_text(f"inside {name}", encoding="utf-8")
    (base / "secret.atom").write_text("outside-secret", encoding="utf-8")
    (root / "escape.atom").symlink_to(base / "secret.atom")
    (root / "dir.atom").mkdir()
    server = FeedHTTPServer(root, "127.0.0.1", 0, lambda name: 60).start()
    yield server
    server.stop()


PIECES = st.sampled_from([
    "/", "..", ".", "%2e", "%2E", "%2f", "%2F", "%5c", "\\", "%00", "//", "live.atom",
    "live.rss", "index.html", "secret.atom", "escape.atom", "dir.atom", "feeds.opml", "public",
    "%252e", "~", ";", "?x=1", "#frag", "%c0%af", "..;", "LIVE.ATOM", "live.atom.", " ",
])
METHODS = st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
                           "TRACE", "CONNECT", "PROPFIND", "get"])


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pieces=st.lists(PIECES, min_size=1, max_size=6), method=METHODS)
def test_only_get_and_head_inside_output_dir_succeed(
    served: FeedHTTPServer, pieces: list[str], method: str
) -> None:
    path = "/" + "".join(pieces).lstrip("/")
    conn = http.client.HTTPConnection(*served.server_address[:2], timeout=5)
    try:
        conn.putrequest(method, path.replace(" ", "%20"), skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert b"outside-secret" not in body
    if response.status == 200:
        assert method in ("GET", "HEAD")
        bare = path.split("?")[0].split("#")[0]
        name = "index.html" if bare == "/" else bare[1:]
        assert name in SERVED, path
        assert body == (b"" if method == "HEAD" else f"inside {name}".encode())
    else:
        assert response.status in (400, 404, 405, 501)


PAGES = [render_page(page, "https://www.dw.com", noise=n, apollo=a)
         for page in (FIRST, SECOND, THIRD) for n in (0, 1) for a in (True, False)]
URL = "https://www.dw.com/de/ukraine-aktuell/a-70000001"


@st.composite
def mutated(draw: st.DrawFn) -> str:
    page = draw(st.sampled_from(PAGES))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(page)))
        kind = draw(st.sampled_from(["cut", "insert", "duplicate", "truncate"]))
        if kind == "cut":
            page = page[:at] + page[at + draw(st.integers(1, 5000)):]
        elif kind == "insert":
            junk = draw(st.one_of(
                st.text(max_size=40),
                st.sampled_from(["<h2>", "</div>", "<p>", "<script>", "]]>", "<!--", "\x00",
                                 "\ud800", "<h2></h2>", "<div class='rich-text'>", "{", '"']),
            ))
            page = page[:at] + junk + page[at:]
        elif kind == "duplicate":
            page = page[:at] + page[at: at + draw(st.integers(1, 3000))] + page[at:]
        else:
            page = page[:at]
    return page


def _check(page: str) -> None:
    try:
        article = extract_page(page, URL, "dw")
    except FeedgenDwError:
        return
    assert extract_page(page, URL, "dw") == article  # deterministic
    for section in article.sections:
        assert section.headline.strip()
    for prev in (None, diff_article(None, extract_page(PAGES[0], URL, "dw"), T0).state):
        try:
            result = diff_article(prev, article, T0 + timedelta(hours=1))
        except FeedgenDwError:
            continue
        assert result == diff_article(prev, article, T0 + timedelta(hours=1))
        for item in result.state.sections:
            assert item.item_id.startswith("tag:") and item.title.strip()


@settings(max_examples=150, deadline=None)
@given(page=mutated())
def test_extractor_and_diff_on_mutated_pages(page: str) -> None:
    _check(page)


@settings(max_examples=150, deadline=None)
@given(body=st.text(max_size=500), title=st.text(max_size=60))
def test_extractor_and_diff_on_generated_html(body: str, title: str) -> None:
    _check(f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
           f'<div class="rich-text">{body}</div></article></body></html>')
    _check(body)
