from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import feedparser
from lxml import etree

from feedgen_dw.model import FeedItem, FeedMeta
from feedgen_dw.render import entry_key, render, render_feed

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


def _feedgen_whole(meta: FeedMeta, items: list[FeedItem], fmt: str) -> bytes:
    """feedgen appending every entry itself: what the kept entries must reproduce."""
    from feedgen_dw.render import _fill_entry, _generator, distinct_updated

    items = distinct_updated(items)
    fg = _generator(meta, items, fmt)
    for item in items:
        _fill_entry(fg.add_entry(order="append"), item)
    whole: bytes = fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True)
    return whole


def test_kept_entries_give_the_bytes_of_feedgens_own_rendering() -> None:
    odd = [replace(ITEMS[0], html="<p>zwei\nZeilen</p>\n<p>mit <b>Markup</b></p>",
                   authors=("AFP", "dpa")), replace(ITEMS[1], html=""), ITEMS[2]]
    for meta in (META, replace(META, hub="https://hub.example/", language=None),
                 replace(META, author="Deutsche Welle")):
        for items in ([], odd[:1], odd):
            docs = render(meta, items)
            for fmt in ("atom", "rss"):
                assert docs[fmt] == _feedgen_whole(meta, items, fmt), (fmt, len(items))


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
