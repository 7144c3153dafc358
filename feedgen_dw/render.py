"""Feed files from stored items: Atom 1.0 and RSS 2.0, the bytes feedgen 1.0.0 writes.

Output depends only on its input (no clock), so the same state gives the same bytes and
an unchanged feed is never rewritten. The documents are built with lxml element for
element as feedgen builds them for the FeedGenerator that tests/test_render.py sets up
(feedgen's setters, checks, extensions and locale switching cost several times the
elements; importing it and dateutil costs more than a poll): the tests hold the bytes to
feedgen's own rendering. feedgen's traps that this output keeps: Atom entry links lose
rel/type (upstream issue 135, put back as feedgen-dw did with an extension); the RSS
channel link is the last link given; the Atom namespace is an attribute of <feed>.

Each item's entry is rendered once, indented for its place in the feed, and kept
(EntryXml, stored with the item). A feed is the document without entries with the kept
entries put in before its closing tag, where feedgen would have appended them, so a poll
that adds one item renders one entry, not all of them again.

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
ENTRY_MARKUP_VERSION = code_digest(__file__, extra=f"lxml {etree.LXML_VERSION}")
# Where entries go in feedgen's pretty-printed documents: before the closing tag of the
# element they belong to, at its depth (Atom: feed/entry; RSS: rss/channel/item).
_ENTRY_SLOTS = {"atom": (b"</feed>", 1), "rss": (b"  </channel>", 2)}
INDENT = "  "  # lxml's pretty_print indentation
DC_NS = "http://purl.org/dc/elements/1.1/"
# A kept RSS item is serialized on its own, so it declares the dc prefix that the whole
# document declares once on <rss>: the declaration is taken out again.
_DC_DECLARATION = f' xmlns:dc="{DC_NS}"'.encode()


def feed_url(meta: FeedMeta, fmt: str) -> str:
    """Where the served file of format `fmt` lives."""
    return f"{meta.self_base}{meta.name}.{fmt}"


def entry_key(item: FeedItem) -> str:
    """A digest of everything an item's entry is rendered from."""
    parts = (ENTRY_MARKUP_VERSION, item.item_id, item.title, item.html, item.link,
             item.published.isoformat(), item.updated.isoformat(), *item.authors)
    data = "\x00".join(parts).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _rfc2822(when: datetime) -> str:
    """feedgen's formatRFC2822 (strftime in the C locale) without switching the process's
    locale twice per item."""
    return (f"{_DAYS[when.weekday()]}, {when.day:02d} {_MONTHS[when.month - 1]} "
            f"{when.year:04d} {when:%H:%M:%S %z}")


def _sub(parent: Any, tag: str, text: str | None = None) -> Any:
    element = etree.SubElement(parent, tag)
    element.text = text
    return element


def _text(value: str) -> str:
    """`value` escaped as lxml writes text in ASCII (other characters as references)."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
        "\r", "&#13;")


def _attr(value: str) -> str:
    """`value` escaped as lxml writes an attribute value."""
    return _text(value).replace('"', "&quot;").replace("\n", "&#10;").replace(
        "\t", "&#9;")


def entry_xml(item: FeedItem, key: str | None = None) -> EntryXml:
    """The item's Atom entry and RSS item as feedgen renders them (with the dc extension
    and Atom links' rel/type put back), serialized by lxml in ASCII and indented as they
    are in the pretty-printed feeds.

    Written as text: a feedgen FeedEntry costs ten times that, lxml elements three
    times. The tests compare these bytes with feedgen's, for odd text too."""
    # stored text is XML-safe when written; xml_safe() again here because one bad
    # character (an older state, a path that forgot) must not stop every later rendering
    item_id = _text(xml_safe(item.item_id))
    title = xml_safe(item.title) or "…"
    link = xml_safe(item.link)
    # an entry without content or summary is a validator warning; a title-only update
    # shows its title as its content
    content = _text(xml_safe(item.html) or f"<p>{escape(title)}</p>")
    title = _text(title)
    authors = [_text(xml_safe(name) or "?") for name in item.authors]
    if not item_id:
        raise ValueError("Required fields not set (id)")  # as feedgen refuses it
    names = "".join(f"    <author>\n      <name>{name}</name>\n    </author>\n"
                    for name in authors)
    atom = (f"<entry>\n    <id>{item_id}</id>\n    <title>{title}</title>\n"
            f"    <updated>{item.updated.isoformat()}</updated>\n{names}"
            f'    <content type="html">{content}</content>\n'
            f'    <link href="{_attr(link)}" rel="alternate" type="text/html"/>\n'
            f"    <published>{item.published.isoformat()}</published>\n  </entry>")
    creators = "".join(f"      <dc:creator>{name}</dc:creator>\n" for name in authors)
    rss = (f"<item>\n      <title>{title}</title>\n"
           + (f"      <link>{_text(link)}</link>\n" if link else "")
           + f"      <description>{content}</description>\n"
           f'      <guid isPermaLink="false">{item_id}</guid>\n'
           f"      <pubDate>{_rfc2822(item.published)}</pubDate>\n{creators}    </item>")
    return EntryXml(key=key or entry_key(item),
                    atom=atom.encode("ascii", "xmlcharrefreplace"),
                    rss=rss.encode("ascii", "xmlcharrefreplace"))


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


ATOM_NS = "http://www.w3.org/2005/Atom"
_RSS_NSMAP = {"dc": DC_NS, "atom": ATOM_NS, "content": "http://purl.org/rss/1.0/modules/content/"}


def _document(meta: FeedMeta, items: Sequence[FeedItem], fmt: str) -> bytes:
    """The feed without entries, as feedgen's atom_str()/rss_str(pretty=True) write it for
    the FeedGenerator the tests build (tests/test_render.py, _feedgen_document), element
    for element: feedgen's setters and extensions cost more than the document."""
    self_url = feed_url(meta, fmt)
    # feedgen refuses to write a feed without a title or a link ("Required fields not
    # set"): a page without a title must not make the feed unwritable
    title = xml_safe(meta.title).strip() or meta.name
    subtitle = xml_safe(meta.subtitle) or title
    link = xml_safe(meta.link) or self_url
    language = meta.language if meta.language and xml_safe(meta.language) == meta.language \
        else None
    author = (xml_safe(meta.author) or "?") if meta.author else None
    updated = max((item.updated for item in items), default=EMPTY_FEED_TIME)
    self_type = "application/atom+xml" if fmt == "atom" else "application/rss+xml"
    if fmt == "atom":
        # feedgen sets the namespace as an attribute: entries and children have none
        root = etree.Element("feed", xmlns=ATOM_NS)
        if language:
            root.set("{http://www.w3.org/XML/1998/namespace}lang", language)
        _sub(root, "id", feed_url(meta, "atom"))
        _sub(root, "title", title)
        _sub(root, "updated", updated.isoformat())
        if author:
            _sub(_sub(root, "author"), "name", author)
        etree.SubElement(root, "link", href=self_url, rel="self", type=self_type)
        if meta.hub:
            etree.SubElement(root, "link", href=meta.hub, rel="hub")
        etree.SubElement(root, "link", href=link, rel="alternate", type="text/html")
        _sub(root, "generator", "feedgen-dw").attrib.update(
            {"uri": PROJECT_URL, "version": __version__})
        _sub(root, "subtitle", subtitle)
    else:
        # RSS's channel link is the last link given to feedgen: the article's
        root = etree.Element("rss", version="2.0", nsmap=_RSS_NSMAP)
        channel = etree.SubElement(root, "channel")
        _sub(channel, "title", title)
        _sub(channel, "link", link)
        _sub(channel, "description", subtitle)
        etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=self_url, rel="self",
                         type=self_type)
        _sub(channel, "docs", "http://www.rssboard.org/rss-specification")
        _sub(channel, "generator", "feedgen-dw")
        if language:
            _sub(channel, "language", language)
        _sub(channel, "lastBuildDate", _rfc2822(updated))
        if meta.hub:  # feedgen writes only the self link into RSS
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=meta.hub, rel="hub")
        if author:  # RSS's managingEditor must be an e-mail
            _sub(channel, f"{{{DC_NS}}}creator", author)
    # the stylesheet that makes a feed readable in a browser
    root.addprevious(etree.ProcessingInstruction("xml-stylesheet", STYLESHEET_PI))
    document: bytes = etree.tostring(etree.ElementTree(root), pretty_print=True,
                                     encoding="UTF-8", xml_declaration=True)
    return document


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
    return {
        "atom": _with_entries(_document(meta, items, "atom"), "atom", [e.atom for e in entries]),
        "rss": _with_entries(_document(meta, items, "rss"), "rss", [e.rss for e in entries]),
        "json": render_json(meta, items),
    }, fresh


def render(meta: FeedMeta, items: Sequence[FeedItem]) -> dict[str, bytes]:
    """{'atom': ..., 'rss': ..., 'json': ...} bytes for `items` (newest first, as given)."""
    return render_feed(meta, items)[0]
