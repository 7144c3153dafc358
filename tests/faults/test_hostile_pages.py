"""Hostile page content never crashes extraction with anything but a FeedgenDwError:
deeply nested or unclosed tags, structured data of the wrong type, blank titles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from feedgen_dw.config import FeedConfig
from feedgen_dw.errors import FeedgenDwError
from feedgen_dw.extract import extract_page
from feedgen_dw.extract.html import element_text, parse_fragment, sanitize_with_text
from feedgen_dw.fetch import Fetcher
from feedgen_dw.poll import Output, feed_paths, fixed_clock, poll_feed
from feedgen_dw.replay import ReplayServer
from feedgen_dw.store import SQLiteStore
from tests.conftest import parse_feed

DW_URL = "https://www.dw.com/de/x/a-123"
DEEP = 1500  # deeper than Python's recursion limit


def _extract(page: str, url: str, site: str) -> None:
    try:
        article = extract_page(page, url, site)
    except FeedgenDwError:
        return
    assert article.title.strip() and article.feed_title.strip()
    assert all(s.headline.strip() for s in article.sections)


def test_thousands_of_nested_tags_are_sanitized_without_recursion() -> None:
    root = node = etree.Element("p")
    for n in range(DEEP):
        node = etree.SubElement(node, "b" if n % 2 else "i")
        node.tail = " "
    node.text = "tief"
    html, text = sanitize_with_text([root], "https://x.example/")
    assert text == "tief" and html.startswith("<p><i><b><i>")
    assert element_text(root) == "tief"
    assert parse_fragment("<p>" + "<b>" * DEEP + "x")  # lxml keeps some of it, no error


@pytest.mark.parametrize("site", ["auto", "dw", "generic", "liveblog"])
@pytest.mark.parametrize("markup", [
    "<div>" * DEEP + "<p>Tief verschachtelt.</p>",
    "<p>" + "<b>" * DEEP + "Nie geschlossen.",
    "<ul>" + "<li><ul>" * DEEP + "<li>Liste</li>",
])
def test_deep_or_unclosed_markup(site: str, markup: str) -> None:
    page = f'<html><body><div class="rich-text">{markup}</div></body></html>'
    _extract(page, DW_URL if site == "dw" else "https://x.example/p", site)


def _apollo(entry: dict[str, object]) -> str:
    state = json.dumps({"Article:123": {"text": "<p>Eins.</p><h2>Zwei</h2><p>Drei.</p>",
                                        **entry}})
    return (f'<html><head><link rel="canonical" href="{DW_URL}"></head><body>'
            f"<script>window.__APOLLO_STATE__ = {state};</script></body></html>")


def _ld(obj: dict[str, object]) -> str:
    return (f'<html><head><script type="application/ld+json">{json.dumps(obj)}</script>'
            '</head><body><div class="rich-text"><p>Text der Seite.</p></div></body></html>')


WRONG_TYPES: list[object] = [42, 4.5, ["a", "b"], {"x": 1}, None, True, "   \u00a0 "]


@pytest.mark.parametrize("value", WRONG_TYPES, ids=repr)
def test_apollo_fields_of_the_wrong_type(value: object) -> None:
    for field in ("title", "canonicalUrl", "id", "firstPublicationDate"):
        _extract(_apollo({field: value}), DW_URL, "dw")
    article = extract_page(_apollo({"title": value, "canonicalUrl": value}), DW_URL, "dw")
    assert article.url == DW_URL  # never a URL made from a number


@pytest.mark.parametrize("value", WRONG_TYPES, ids=repr)
def test_json_ld_fields_of_the_wrong_type(value: object) -> None:
    news = {"@type": "NewsArticle", "headline": value, "datePublished": value,
            "mainEntityOfPage": {"@id": value}, "inLanguage": value}
    _extract(_ld(news), DW_URL, "dw")
    _extract(_ld(news), "https://x.example/p", "auto")
    blog = {"@type": "LiveBlogPosting", "headline": value, "url": value,
            "liveBlogUpdate": [{"headline": value, "articleBody": "Eins.", "author": value,
                                "datePublished": value, "@id": value},
                               {"headline": value, "articleBody": value}]}
    _extract(_ld(blog), "https://x.example/p", "auto")


def test_blank_titles_never_reach_the_feed(server: ReplayServer, tmp_path: Path) -> None:
    blog = {"@type": "LiveBlogPosting", "headline": " \u00a0 ",
            "liveBlogUpdate": [{"headline": "  ", "articleBody": "Der Text des Eintrags.",
                                "datePublished": "2024-05-01T10:00:00Z", "@id": "u1"}]}
    page = _ld(blog).replace("<head>", "<head><title>\t</title>")
    server.set("/blank", 200, page.encode(), {"Content-Type": "text/html"})
    store = SQLiteStore(tmp_path / "state.sqlite3")
    fetcher = Fetcher()
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/")
    feed = FeedConfig(name="live", url=server.base_url + "/blank", site="auto")
    try:
        from datetime import UTC, datetime

        result = poll_feed(feed, store, fetcher, output,
                           clock=fixed_clock(datetime(2024, 5, 1, 12, tzinfo=UTC)))
    finally:
        store.close()
        fetcher.close()
    assert result.ok, result.error
    parsed = parse_feed(feed_paths(output, "live")["atom"])
    assert parsed.feed.title.strip()
    assert [e.title for e in parsed.entries] == ["Der Text des Eintrags."]


def test_times_at_the_ends_of_the_calendar() -> None:
    for value in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "9999-12-31"):
        page = (f'<html lang="de"><head><meta property="article:modified_time" '
                f'content="{value}"><script type="application/ld+json">{{"@type": '
                f'"NewsArticle", "dateModified": "{value}"}}</script></head><body><div>'
                "<h3>23.50 Uhr: Eins</h3><p>Text eins.</p><h3>0.10 Uhr: Zwei</h3>"
                "<p>Text zwei.</p></div></body></html>")
        for site in ("auto", "dw", "generic"):
            _extract(page, "https://www.dw.com/de/x/a-9" if site == "dw" else
                     "https://x.example/9999/12/31/live", site)


BITS = ["<div>", "</div>", "<p>", "</p>", "<h2>", "</h2>", "<h3>", "<strong>", "</strong>",
        "<hr>", "<article class='post'>", "</article>", "<time datetime='2024-03-31T02:30'>",
        "</time>", "12.31 Uhr: ", "23:59 GMT – ", "1.23pm ", "Freitag, 3. 5.", "Sunday 3 March",
        "Update vom 12. März, 9.05 Uhr: ", "___", "***", "vor 3 Minuten", "Text. ", "Mehr Text ",
        "<span class='ad'>", "</span>", "<ul><li>", "</li></ul>", "&nbsp;", "<br>", "\u00a0",
        "UPDATE 3 – ", "<script>var x = 1;</script>", "<!-- c -->"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(BITS), max_size=60), st.sampled_from(
    ["https://x.example/live", "https://www.br.de/2024/03/31/t", "https://a.example.co.uk/"]))
def test_random_live_page_soup_never_crashes(bits: list[str], url: str) -> None:
    _extract(f"<html><body>{''.join(bits)}</body></html>", url, "auto")
