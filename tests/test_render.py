from __future__ import annotations

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
    from feedgen_dw.render import _fill_entry, _generator

    fg = _generator(meta, items, fmt)
    for item in items:
        _fill_entry(fg.add_entry(order="append"), item)
    whole: bytes = fg.atom_str(pretty=True) if fmt == "atom" else fg.rss_str(pretty=True)
    return whole


def test_kept_entries_give_the_bytes_of_feedgens_own_rendering() -> None:
    odd = [replace(ITEMS[0], html="<p>zwei\nZeilen</p>\n<p>mit <b>Markup</b></p>",
                   authors=("AFP", "dpa")), replace(ITEMS[1], html=""), ITEMS[2]]
    for meta in (META, replace(META, hub="https://hub.example/", language=None)):
        for items in ([], odd[:1], odd):
            docs = render(meta, items)
            for fmt in ("atom", "rss"):
                assert docs[fmt] == _feedgen_whole(meta, items, fmt), (fmt, len(items))
