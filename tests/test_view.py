"""The page of a feed (view.py): readable without XSLT or JavaScript, hostile text
escaped, and shown to a browser that opens a feed's URL (serve.py), never to a reader."""

from __future__ import annotations

import http.client
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import html

from feedgen_dw.model import FeedItem, FeedMeta
from feedgen_dw.render import render
from feedgen_dw.serve import FeedHTTPServer, wants_page
from feedgen_dw.view import render_view

T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)
META = FeedMeta(name="live", title="DW – Ukraine aktuell", link="https://www.dw.com/de/s/a-1",
                self_base="http://127.0.0.1:8080/", language="de", author="www.dw.com")
ITEMS = [
    FeedItem(item_id=f"tag:www.dw.com,2026-11-24:a-1/s{i}", title=f"Titel {i}",
             html=f"<p>Absatz {i}</p>", link=f"https://www.dw.com/de/s/a-1#:~:text=T{i}",
             published=T0 - timedelta(hours=i), updated=T0 - timedelta(hours=i))
    for i in range(3)
]
HOSTILE = replace(
    ITEMS[0], title='<script>alert(1)</script> & "quotes"',
    html=('<p onclick="alert(1)">Text <a href="javascript:alert(1)">link</a></p>'
          '<script>alert(2)</script><iframe src="https://evil.example/"></iframe>'
          '<img src="x" onerror="alert(3)"><style>body{display:none}</style>'
          '<a href="https://ok.example/">ok</a><!-- a comment -->'),
    link="javascript:alert(4)")
# what browsers and readers send
CHROMIUM = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
            "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
FEEDPARSER = ("application/atom+xml,application/rdf+xml,application/rss+xml,"
              "application/x-netcdf,application/xml;q=0.9,text/xml;q=0.2,*/*;q=0.1")


def _page(items: list[FeedItem], meta: FeedMeta = META) -> html.HtmlElement:
    return html.fromstring(render_view(meta, items))


def test_the_page_shows_title_subscribe_urls_and_items_in_utc() -> None:
    edited = replace(ITEMS[1], updated=T0 + timedelta(minutes=30))
    doc = _page([ITEMS[0], edited, ITEMS[2]])
    assert doc.findtext(".//h1") == META.title == doc.findtext(".//title")
    assert doc.xpath("//ul[@class='subscribe']//a/@href") == [
        "http://127.0.0.1:8080/live.atom", "http://127.0.0.1:8080/live.rss",
        "http://127.0.0.1:8080/live.json"]
    assert doc.xpath("//link[@rel='alternate']/@type") == [
        "application/atom+xml", "application/rss+xml", "application/feed+json"]
    assert [a.text for a in doc.xpath("//article/h2/a")] == ["Titel 0", "Titel 1", "Titel 2"]
    times = [" ".join(p.text_content().split()) for p in doc.xpath("//article/p[@class='time']")]
    assert times == ["2026-11-24 05:00 UTC",
                     "2026-11-24 04:00 UTC, updated 2026-11-24 05:30 UTC",
                     "2026-11-24 03:00 UTC"]
    assert doc.xpath("//article/div/p/text()") == ["Absatz 0", "Absatz 1", "Absatz 2"]
    assert doc.find(".//main").get("lang") == "de"


def test_the_page_is_the_feeds_items_and_depends_only_on_them() -> None:
    assert render_view(META, ITEMS) == render_view(META, ITEMS)
    feedish = render(META, ITEMS)
    assert b"Titel 2" in feedish["atom"] and b"Titel 2" in render_view(META, ITEMS)
    assert _page([]).xpath("//article") == []


def test_text_from_outside_is_escaped_and_the_page_carries_no_script() -> None:
    hostile_meta = replace(META, title="<b>Feed</b><script>alert(5)</script>",
                           link="javascript:alert(6)")
    data = render_view(hostile_meta, [HOSTILE])
    doc = html.fromstring(data)
    assert not doc.xpath("//script|//iframe|//style[ancestor::body]|//object|//embed")
    assert not [a for el in doc.iter() for a in el.attrib if a.lower().startswith("on")]
    for attr in doc.xpath("//@href|//@src"):
        assert attr.startswith(("http://", "https://")), attr
    assert doc.findtext(".//h1") == "<b>Feed</b><script>alert(5)</script>"  # shown as text
    assert doc.findtext(".//article/h2") == HOSTILE.title
    assert b"javascript:" not in data and b"<!--" not in data.split(b"<body>")[1]
    assert [a.get("href") for a in doc.xpath("//article//a")] == [None, "https://ok.example/"]
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert "default-src 'none'" in csp and "script-src" not in csp


@pytest.mark.parametrize(("accept", "page"), [
    (CHROMIUM, True), (FIREFOX, True), ("text/html", True),
    (FEEDPARSER, False), ("application/atom+xml", False), ("*/*", False), (None, False),
    ("", False), ("application/feed+json, application/json", False),
    ("text/html;q=0, */*", False), ("text/html;q=x", True),
    ("text/html, application/rss+xml", False),
])
def test_who_gets_the_page(accept: str | None, page: bool) -> None:
    assert wants_page(accept) is page


def _get(server: FeedHTTPServer, path: str, accept: str | None) -> http.client.HTTPResponse:
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
    conn.request("GET", path, headers={"Accept": accept} if accept else {})
    response = conn.getresponse()
    response.read()  # type: ignore[no-untyped-call]
    conn.close()
    return response


def test_a_browser_opening_a_feed_url_gets_the_page(tmp_path: Path) -> None:
    docs = render(META, ITEMS)
    for fmt, data in docs.items():
        (tmp_path / f"live.{fmt}").write_bytes(data)
    (tmp_path / "live.html").write_bytes(render_view(META, ITEMS))
    server = FeedHTTPServer(tmp_path, "127.0.0.1", 0, lambda name: 300).start()
    try:
        for fmt in ("atom", "rss", "json"):
            browser = _get(server, f"/live.{fmt}", CHROMIUM)
            assert browser.headers["Content-Type"] == "text/html; charset=utf-8", fmt
            assert "Accept" in browser.headers["Vary"]
            reader = _get(server, f"/live.{fmt}", FEEDPARSER)
            assert reader.headers["Content-Type"].startswith("application/"), fmt
            assert reader.headers["ETag"] != browser.headers["ETag"]
        (tmp_path / "live.html").unlink()  # another writer's folder: the XSL stays
        fallback = _get(server, "/live.atom", CHROMIUM)
        assert fallback.headers["Content-Type"] == "application/xml; charset=utf-8"
    finally:
        server.stop()


def test_sanitized_content_goes_in_as_it_is_and_anything_else_through_the_allow_list() -> None:
    from feedgen_dw.extract.html import sanitize
    from feedgen_dw.view import _passes

    raw = ('<div><p class="x" style="color:red">Text <a href="/rel?utm_source=x">rel</a> '
           '<b onclick="x()">b</b></p><script>x()</script><figure><img src="a.jpg" alt="A">'
           "<figcaption>F &amp; G</figcaption></figure><ul><li>1 &lt; 2</li></ul></div>")
    clean = sanitize(html.fragments_fromstring(raw), "https://www.dw.com/de/x/a-1")
    assert _passes(clean)
    assert clean in render_view(META, [replace(ITEMS[0], html=clean)]).decode()
    for bad in ('<p onclick="x()">t</p>', "<p>a < b</p>", '<a href="javascript:x()">t</a>',
                "<!-- c --><p>t</p>", "<p style='x'>t</p>", "<svg></svg>", '<img src="x">'):
        assert not _passes(bad), bad


def test_the_index_lists_the_newest_three_titles_with_times_and_the_last_error() -> None:
    from feedgen_dw.model import FeedStatus
    from feedgen_dw.pages import FeedSummary, render_index

    newest = ((HOSTILE.title, T0), ("Zwei", T0 - timedelta(hours=1)),
              ("Drei", T0 - timedelta(hours=2)))
    feeds = [FeedSummary(name="live", title="Live <i>", link="https://www.dw.com/de/s/a-1",
                         status=FeedStatus(name="live", last_success=T0,
                                           last_error="HTTP 503 <b>down</b>"),
                         items=7, newest=newest),
             FeedSummary(name="new", title="New", link=None,
                         status=FeedStatus(name="new"), items=0)]
    doc = html.fromstring(render_index(feeds, "http://127.0.0.1:8080/"))
    assert not doc.xpath("//script")
    live, new = doc.xpath("//tbody/tr")
    assert [" ".join(li.text_content().split()) for li in live.xpath(".//ul/li")] == [
        f"2026-11-24 05:00 UTC {HOSTILE.title}", "2026-11-24 04:00 UTC Zwei",
        "2026-11-24 03:00 UTC Drei"]
    assert live.xpath("string(td[4])") == "HTTP 503 <b>down</b>"  # as text
    assert live.xpath("string(td[1]/strong)") == "Live <i>"
    assert "http://127.0.0.1:8080/live.html" in live.xpath(".//a/@href")
    assert new.xpath(".//ul") == [] and "http://127.0.0.1:8080/new.html" not in new.xpath(
        ".//a/@href")  # no page before the first poll
