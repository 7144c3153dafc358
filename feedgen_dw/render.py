"""Feed files from stored items, through feedgen: Atom 1.0 and RSS 2.0.

Output depends only on its input (no clock), so the same state gives the same bytes and
an unchanged feed is never rewritten. feedgen 1.0.0 traps handled here: add_entry()
prepends by default; Atom entry links lose rel/type (upstream issue 135); the RSS channel
link is the last fg.link() call; description() would overwrite Atom content; unset dates
default to now() with microseconds (lastBuildDate too).

Each item's entry is rendered by feedgen once, indented for its place in the feed, and
kept (EntryXml, stored with the item). A feed is feedgen's document without entries with
the kept entries put in before its closing tag, where feedgen would have appended them:
the bytes equal feedgen's whole rendering (tests hold them to that), and a poll that adds
one item renders one entry, not all of them again.

What the W3C feed validator holds us to (tests/test_validity.py encodes it): an author on
the feed (RFC 4287 wants one on the feed or on every entry; sections name none), no two
entries with one `updated` (items changed in one poll would share it, see
distinct_updated), and item authors in RSS as `dc:creator` (RSS's own `<author>` must be
an e-mail address).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from feedgen import version as feedgen_version
from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.ext.dc import DcEntryExtension, DcExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feedgen_dw import PROJECT_URL, __version__, code_digest
from feedgen_dw.model import EntryXml, FeedItem, FeedMeta
from feedgen_dw.output import STYLESHEET
from feedgen_dw.safetext import xml_safe

# A fixed time for a feed without items, so even that renders deterministically.
EMPTY_FEED_TIME = datetime(2000, 1, 1, tzinfo=UTC)
STYLESHEET_PI = f'type="text/xsl" href="{STYLESHEET}"'
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# Part of every entry's key: entries kept from other code (this module, feedgen, lxml)
# are rendered again.
ENTRY_MARKUP_VERSION = code_digest(
    __file__, extra=f"feedgen {feedgen_version.version_str}, lxml {etree.LXML_VERSION}")
# Where entries go in feedgen's pretty-printed documents: before the closing tag of the
# element they belong to, at its depth (Atom: feed/entry; RSS: rss/channel/item).
_ENTRY_SLOTS = {"atom": (b"</feed>", 1), "rss": (b"  </channel>", 2)}
INDENT = "  "  # lxml's pretty_print indentation
DC_NS = "http://purl.org/dc/elements/1.1/"
# A kept RSS item is serialized on its own, so it declares the dc prefix that the whole
# document declares once on <rss>: the declaration is taken out again.
_DC_DECLARATION = f' xmlns:dc="{DC_NS}"'.encode()


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


def feed_url(meta: FeedMeta, fmt: str) -> str:
    """Where the served file of format `fmt` lives."""
    return f"{meta.self_base}{meta.name}.{fmt}"


def entry_key(item: FeedItem) -> str:
    """A digest of everything an item's entry is rendered from."""
    parts = (ENTRY_MARKUP_VERSION, item.item_id, item.title, item.html, item.link,
             item.published.isoformat(), item.updated.isoformat(), *item.authors)
    data = "\x00".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _fill_entry(fe: FeedEntry, item: FeedItem) -> None:
    # stored text is XML-safe when written; xml_safe() again here because one bad
    # character (an older state, a path that forgot) must not stop every later rendering
    fe.id(xml_safe(item.item_id))
    fe.guid(xml_safe(item.item_id), permalink=False)
    title = xml_safe(item.title) or "…"
    fe.title(title)
    fe.link(href=xml_safe(item.link), rel="alternate", type="text/html")
    # an entry without content or summary is a validator warning; a title-only update
    # shows its title as its content
    fe.content(xml_safe(item.html) or f"<p>{escape(title)}</p>", type="html")
    fe.published(item.published)
    fe.updated(item.updated)
    authors = [xml_safe(name) or "?" for name in item.authors]
    for name in authors:
        fe.author(name=name)
    if authors:
        fe.dc.dc_creator(authors)


def entry_xml(item: FeedItem, key: str | None = None) -> EntryXml:
    """The item's Atom entry and RSS item, rendered by feedgen and indented as they are
    in the pretty-printed feeds."""
    fe = FeedEntry()
    fe.register_extension("linkfix", _EntryLinkFix, atom=True, rss=True)
    # load_extension("dc") first tries to import a module feedgen does not have, on every
    # entry: a failed import searches sys.path again each time (a third of this function)
    fe.register_extension("dc", DcEntryExtension, atom=False, rss=True)
    _fill_entry(fe, item)
    atom, rss = fe.atom_entry(), fe.rss_entry()
    etree.indent(atom, INDENT, level=_ENTRY_SLOTS["atom"][1])
    etree.indent(rss, INDENT, level=_ENTRY_SLOTS["rss"][1])
    # in a parent declaring dc, as in the document, so dc:creator needs no declaration
    etree.Element("rss", nsmap={"dc": DC_NS}).append(rss)
    rss_bytes = etree.tostring(rss)
    head = rss_bytes.index(b">")
    rss_bytes = rss_bytes[:head].replace(_DC_DECLARATION, b"") + rss_bytes[head:]
    return EntryXml(key=key or entry_key(item), atom=etree.tostring(atom), rss=rss_bytes)


def _with_entries(document: bytes, fmt: str, entries: Sequence[bytes]) -> bytes:
    """feedgen's `document` (no entries) with `entries` where feedgen appends them."""
    closing, depth = _ENTRY_SLOTS[fmt]
    at = document.rindex(closing)
    lead = INDENT.encode() * depth
    return document[:at] + b"".join(lead + e + b"\n" for e in entries) + document[at:]


def distinct_updated(items: Sequence[FeedItem]) -> list[FeedItem]:
    """`items` (feed order, newest first) with no two sharing an `updated` time.

    Sections changed in one poll share its time (and a followed feed's articles polled
    together, or a page's minute-precise times, do too); the W3C validator flags that.
    Walking in feed order, an item whose time is taken moves back to the nearest free
    second, so tied items keep their order and an item keeps its own time unless it tied
    when it changed. A never-edited item (published == updated) moves both times."""
    taken: set[datetime] = set()
    out = []
    for item in items:
        when = item.updated
        while when in taken:
            when -= timedelta(seconds=1)
        taken.add(when)
        if when == item.updated:
            out.append(item)
        elif item.published == item.updated:
            out.append(replace(item, updated=when, published=when))
        else:
            out.append(replace(item, updated=when))
    return out


def _generator(meta: FeedMeta, items: Sequence[FeedItem], fmt: str) -> FeedGenerator:
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


def _json_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def render_json(meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    """JSON Feed 1.1 from the same items."""
    # xml_safe: lone surrogates cannot be encoded as UTF-8 either
    title = xml_safe(meta.title).strip() or meta.name
    doc: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": title,
        "home_page_url": xml_safe(meta.link) or feed_url(meta, "json"),
        "feed_url": feed_url(meta, "json"),
    }
    if meta.subtitle:
        doc["description"] = xml_safe(meta.subtitle)
    if meta.language:
        doc["language"] = xml_safe(meta.language)
    if meta.hub:
        doc["hubs"] = [{"type": "WebSub", "url": meta.hub}]
    if meta.author:
        doc["authors"] = [{"name": xml_safe(meta.author)}]
    doc["items"] = [
        {
            "id": xml_safe(item.item_id),
            "url": xml_safe(item.link),
            "title": xml_safe(item.title),
            "content_html": xml_safe(item.html),
            "date_published": _json_time(item.published),
            "date_modified": _json_time(item.updated),
            **({"authors": [{"name": xml_safe(a)} for a in item.authors]}
               if item.authors else {}),
        }
        for item in items
    ]
    # no indent: json's C encoder is only used without it (ten times faster here)
    return (json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8")


def render_feed(meta: FeedMeta, items: Sequence[FeedItem]
                ) -> tuple[dict[str, bytes], dict[str, EntryXml]]:
    """The documents for `items` (newest first, as given), and the entries rendered now
    (by item id) because an item had none kept or a stale one: they are worth keeping."""
    items = distinct_updated(items)
    entries, fresh = [], {}
    for item in items:
        key = entry_key(item)
        xml = item.stored_xml
        if xml is None or xml.key != key:
            xml = fresh[item.item_id] = entry_xml(item, key)
        entries.append(xml)
    atom: bytes = _generator(meta, items, "atom").atom_str(pretty=True)
    rss: bytes = _generator(meta, items, "rss").rss_str(pretty=True)
    return {
        "atom": _with_entries(atom, "atom", [e.atom for e in entries]),
        "rss": _with_entries(rss, "rss", [e.rss for e in entries]),
        "json": render_json(meta, items),
    }, fresh


def render(meta: FeedMeta, items: Sequence[FeedItem]) -> dict[str, bytes]:
    """{'atom': ..., 'rss': ..., 'json': ...} bytes for `items` (newest first, as given)."""
    return render_feed(meta, items)[0]
