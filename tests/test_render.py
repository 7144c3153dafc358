from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from html import escape
from typing import Any

import feedparser
import pytest
from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.ext.dc import DcEntryExtension, DcExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feedgen_dw import PROJECT_URL, __version__
from feedgen_dw.model import FeedItem, FeedMeta
from feedgen_dw.render import (
    EMPTY_FEED_TIME,
    STYLESHEET_PI,
    distinct_updated,
    entry_key,
    entry_xml,
    feed_url,
    render,
    render_feed,
)
from feedgen_dw.safetext import xml_safe

T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)
META = FeedMeta(name="live", title="DW – Ukraine aktuell", link="https://www.dw.com/de/s/a-1",
                self_base="http://127.0.0.1:8080/", language="de")
ITEMS = [
    FeedItem(item_id=f"tag:www.dw.com,2026-11-24:a-1/s{i}", title=f"Titel {i} <&>",
             html=f"<p>Absatz {i} &amp; mehr</p>", link=f"https://www.dw.com/de/s/a-1#:~:text=T{i}",
             published=T0 - timedelta(seconds=i), updated=T0 + timedelta(hours=i % 2))
    for i in range(3)
]
ATOM = "{http://www.w3.org/2005/Atom}"


def test_both_formats_parse_cleanly_in_the_given_order() -> None:
    docs = render(META, ITEMS)
    for fmt in ("atom", "rss"):
        parsed = feedparser.parse(docs[fmt])
        assert parsed.bozo == 0
        assert [e.id for e in parsed.entries] == [i.item_id for i in ITEMS]
        assert [e.title for e in parsed.entries] == [i.title for i in ITEMS]
        assert parsed.feed.title == META.title
        assert parsed.feed.language == "de" or parsed.feed.get("language") == "de"


def test_output_is_deterministic_and_has_no_clock() -> None:
    assert render(META, ITEMS) == render(META, ITEMS)
    atom = etree.fromstring(render(META, ITEMS)["atom"])
    assert atom.findtext(f"{ATOM}updated") == "2026-11-24T06:00:00+00:00"  # newest updated
    rss = etree.fromstring(render(META, ITEMS)["rss"])
    assert rss.findtext("channel/lastBuildDate") == "Tue, 24 Nov 2026 06:00:00 +0000"


def test_links_ids_and_guid() -> None:
    docs = render(META, ITEMS)
    atom = etree.fromstring(docs["atom"])
    links = {link.get("rel"): link.get("href") for link in atom.findall(f"{ATOM}link")}
    assert links == {"self": "http://127.0.0.1:8080/live.atom", "alternate": META.link}
    entry_links = atom.findall(f"{ATOM}entry/{ATOM}link")
    assert {(link.get("rel"), link.get("type")) for link in entry_links} == {
        ("alternate", "text/html")}
    assert atom.find(f"{ATOM}entry/{ATOM}content").get("type") == "html"
    rss = etree.fromstring(docs["rss"])
    assert rss.findtext("channel/link") == META.link
    assert rss.find("channel/{http://www.w3.org/2005/Atom}link").get("href") == (
        "http://127.0.0.1:8080/live.rss")
    guid = rss.find("channel/item/guid")
    assert guid.get("isPermaLink") == "false" and guid.text == ITEMS[0].item_id


def test_empty_feed_renders() -> None:
    docs = render(META, [])
    assert feedparser.parse(docs["atom"]).bozo == 0


def test_feeds_built_from_kept_entries_equal_a_fresh_rendering() -> None:
    docs, fresh = render_feed(META, ITEMS)
    assert set(fresh) == {i.item_id for i in ITEMS}  # nothing kept yet: all rendered
    kept = [replace(i, stored_xml=fresh[i.item_id]) for i in ITEMS]
    again, fresh_again = render_feed(META, kept)
    assert again == docs and fresh_again == {}


def test_a_stale_kept_entry_is_rendered_again() -> None:
    _, fresh = render_feed(META, ITEMS)
    kept = [replace(i, stored_xml=fresh[i.item_id]) for i in ITEMS]
    # the item was edited after its entry was kept: the key no longer fits
    edited = replace(kept[1], title="Neuer Titel", html="<p>neu</p>")
    docs, fresh_now = render_feed(META, [kept[0], edited, kept[2]])
    assert list(fresh_now) == [edited.item_id]
    assert fresh_now[edited.item_id].key == entry_key(edited)
    titles = [e.title for e in feedparser.parse(docs["atom"]).entries]
    assert titles == [ITEMS[0].title, "Neuer Titel", ITEMS[2].title]
    assert "neu" in feedparser.parse(docs["rss"]).entries[1].description


class _FeedLinks(BaseExtension):  # type: ignore[misc]
    """feedgen writes only the self link into RSS; a WebSub hub link must be there too.
    Both formats get the stylesheet that makes them readable in a browser."""

    hub: str | None = None

    def extend_atom(self, feed: Any) -> Any:
        feed.addprevious(etree.ProcessingInstruction("xml-stylesheet", STYLESHEET_PI))
        return feed

    def extend_rss(self, rss: Any) -> Any:
        rss.addprevious(etree.ProcessingInstruction("xml-stylesheet", STYLESHEET_PI))
        channel = rss.find("channel")
        if self.hub and channel is not None:
            link = etree.SubElement(channel, "{http://www.w3.org/2005/Atom}link")
            link.set("href", self.hub)
            link.set("rel", "hub")
        return rss


class _EntryLinkFix(BaseEntryExtension):  # type: ignore[misc]
    """Put back rel/type on Atom entry links, which feedgen 1.0.0 drops (issue 135)."""

    def extend_atom(self, entry: Any) -> Any:
        # feedgen builds entries without a namespace; the feed root adds it on output
        for link in entry.findall("link"):
            link.set("rel", "alternate")
            link.set("type", "text/html")
        return entry


def _feedgen_generator(meta: FeedMeta, items: Sequence[FeedItem], fmt: str) -> FeedGenerator:
    fg = FeedGenerator()
    fg.register_extension("linkfix", _FeedLinks, _EntryLinkFix, atom=True, rss=True)
    fg.register_extension("dc", DcExtension, DcEntryExtension, atom=False, rss=True)
    fg.linkfix.hub = meta.hub
    self_url = feed_url(meta, fmt)
    fg.id(feed_url(meta, "atom"))
    # feedgen refuses to write a feed without a title or a link ("Required fields not
    # set"): a page without a title must not make the feed unwritable
    title = xml_safe(meta.title).strip() or meta.name
    fg.title(title)
    fg.subtitle(xml_safe(meta.subtitle) or title)
    # RSS takes the channel link from the last fg.link() call: self first, article last
    fg.link(href=self_url, rel="self",
            type="application/atom+xml" if fmt == "atom" else "application/rss+xml")
    if meta.hub:
        fg.link(href=meta.hub, rel="hub")
    fg.link(href=xml_safe(meta.link) or self_url, rel="alternate", type="text/html")
    if meta.language and xml_safe(meta.language) == meta.language:
        fg.language(meta.language)
    if meta.author:
        author = xml_safe(meta.author) or "?"
        fg.author(name=author)  # Atom; RSS's managingEditor must be an e-mail
        fg.dc.dc_creator(author)
    fg.generator("feedgen-dw", version=__version__, uri=PROJECT_URL)
    updated = max((item.updated for item in items), default=EMPTY_FEED_TIME)
    fg.updated(updated)
    fg.lastBuildDate(updated)
    return fg


def _fill_entry(fe: FeedEntry, item: FeedItem) -> None:
    """An item's entry through feedgen's own setters: what render.entry_xml() reproduces."""
    fe.id(xml_safe(item.item_id))
    fe.guid(xml_safe(item.item_id), permalink=False)
    title = xml_safe(item.title) or "…"
    fe.title(title)
    fe.link(href=xml_safe(item.link), rel="alternate", type="text/html")
    fe.content(xml_safe(item.html) or f"<p>{escape(title)}</p>", type="html")
    fe.published(item.published)
    fe.updated(item.updated)
    authors = [xml_safe(name) or "?" for name in item.authors]
    for name in authors:
        fe.author(name=name)
    if authors:
        fe.dc.dc_creator(authors)


def _feedgen_whole(meta: FeedMeta, items: list[FeedItem], fmt: str) -> bytes:
    """feedgen appending every entry itself: what the kept entries must reproduce."""
    items = distinct_updated(items)
    fg = _feedgen_generator(meta, items, fmt)
    for item in items:
        _fill_entry(fg.add_entry(order="append"), item)
    whole: bytes = fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True)
    return whole


def test_kept_entries_give_the_bytes_of_feedgens_own_rendering() -> None:
    odd = [replace(ITEMS[0], html="<p>zwei\nZeilen</p>\n<p>mit <b>Markup</b></p>",
                   authors=("AFP", "dpa")), replace(ITEMS[1], html=""), ITEMS[2]]
    for meta in (META, replace(META, hub="https://hub.example/", language=None),
                 replace(META, author="Deutsche Welle"),
                 replace(META, title=" ", link="", subtitle='Ü "<&>"\n', language="d\x00e",
                         author="\x01", hub="https://hub.example/?a=1&b=2")):
        for items in ([], odd[:1], odd):
            docs = render(meta, items)
            for fmt in ("atom", "rss"):
                assert docs[fmt] == _feedgen_whole(meta, items, fmt), (fmt, len(items))


def _feedgen_entry(item: FeedItem) -> tuple[bytes, bytes]:
    """The entry as feedgen's FeedEntry renders it, placed as render.entry_xml() places it."""
    from feedgen_dw.render import DC_NS, INDENT

    fe = FeedEntry()
    fe.register_extension("linkfix", _EntryLinkFix, atom=True, rss=True)
    fe.register_extension("dc", DcEntryExtension, atom=False, rss=True)
    _fill_entry(fe, item)
    atom, rss = fe.atom_entry(), fe.rss_entry()
    etree.indent(atom, INDENT, level=1)
    etree.indent(rss, INDENT, level=2)
    etree.Element("rss", nsmap={"dc": DC_NS}).append(rss)
    rss_bytes = etree.tostring(rss)
    head = rss_bytes.index(b">")
    dc = f' xmlns:dc="{DC_NS}"'.encode()
    return etree.tostring(atom), rss_bytes[:head].replace(dc, b"") + rss_bytes[head:]


def test_entries_hold_odd_text_as_feedgen_does() -> None:
    """Text lxml escapes differently in text and attributes, characters outside ASCII,
    an empty link, authors, an empty author, a time zone other than UTC."""
    cet = timezone(timedelta(hours=1))
    odd = [
        replace(ITEMS[0], title='Ä "quoted" \'x\' <b>\r\n\tend', link='https://x/?a=1&b="2"\n',
                html="<p>€ — ü\r\n</p>]]>", authors=("Jörg", "", "A & B")),
        replace(ITEMS[1], link="", title="", html="", published=datetime(2026, 2, 1, 23, 5,
                                                                          tzinfo=cet)),
        replace(ITEMS[2], item_id="id with ü", updated=datetime(2026, 12, 31, 1, tzinfo=cet)),
        replace(ITEMS[2], published=datetime(2026, 7, 6, 0, 0, 59, tzinfo=UTC)),
    ]
    rng = random.Random(7)
    alphabet = "aZ09 \t\n\r&<>\"'=;#/äü€😀\x00\x0b\ufffe]]>"
    for n in range(100):  # text of every kind lxml escapes, in every field
        def text(length: int = 12) -> str:
            return "".join(rng.choice(alphabet) for _ in range(rng.randrange(length)))
        odd.append(FeedItem(item_id=f"i{n}{text()}", title=text(), html=text(40),
                            link=text(), published=T0, updated=T0,
                            authors=tuple(text(5) for _ in range(rng.randrange(3)))))
    for item in odd:
        xml = entry_xml(item)
        assert (xml.atom, xml.rss) == _feedgen_entry(item), item
    with pytest.raises(ValueError):  # feedgen refuses an entry without an id; so do we
        entry_xml(replace(ITEMS[0], item_id=""))


def test_the_feed_has_an_author_and_rss_items_name_theirs_in_dc_creator() -> None:
    meta = replace(META, author="www.dw.com")
    items = [replace(ITEMS[0], authors=("Anna Beispiel", "dpa")), *ITEMS[1:]]
    docs = render(meta, items)
    atom = etree.fromstring(docs["atom"])
    assert atom.findtext(f"{ATOM}author/{ATOM}name") == "www.dw.com"
    assert atom.index(atom.find(f"{ATOM}author")) < atom.index(atom.find(f"{ATOM}entry"))
    rss = etree.fromstring(docs["rss"])
    dc = "{http://purl.org/dc/elements/1.1/}creator"
    assert rss.findtext(f"channel/{dc}") == "www.dw.com"
    assert [c.text for c in rss.findall(f"channel/item/{dc}")] == ["Anna Beispiel", "dpa"]
    assert rss.find("channel/item/author") is None  # RSS wants an e-mail there
    assert feedparser.parse(docs["rss"]).entries[0].author in ("Anna Beispiel", "dpa")
    assert json.loads(docs["json"])["authors"] == [{"name": "www.dw.com"}]
    assert etree.fromstring(render(META, ITEMS)["atom"]).find(f"{ATOM}author") is None


def test_tied_updated_times_become_distinct_in_feed_order() -> None:
    # three sections edited in one poll, one new section of that poll on top
    t = T0 + timedelta(hours=3)
    items = [replace(ITEMS[0], published=t, updated=t),
             *(replace(i, updated=t) for i in ITEMS)]
    items[0] = replace(items[0], item_id="tag:x,2026-11-24:a-1/new")
    atom = etree.fromstring(render(META, items)["atom"])
    times = [e.findtext(f"{ATOM}updated") for e in atom.findall(f"{ATOM}entry")]
    assert times == ["2026-11-24T08:00:00+00:00", "2026-11-24T07:59:59+00:00",
                     "2026-11-24T07:59:58+00:00", "2026-11-24T07:59:57+00:00"]
    # the new one was never edited: it keeps published == updated
    assert atom.findtext(f"{ATOM}entry/{ATOM}published") == times[0]
    assert [e.findtext(f"{ATOM}published") for e in atom.findall(f"{ATOM}entry")][1:] == [
        i.published.isoformat() for i in ITEMS]
    assert atom.findtext(f"{ATOM}updated") == times[0]
    assert render(META, ITEMS) == render(META, ITEMS)  # and still no clock


def test_an_item_without_content_shows_its_title_as_content() -> None:
    docs = render(META, [replace(ITEMS[0], html="", title="Nur <ein> Titel")])
    entry = etree.fromstring(docs["atom"]).find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}content") == "<p>Nur &lt;ein&gt; Titel</p>"
