"""Following a source instead of one URL: a DW topic page or an RSS/RDF/Atom feed lists the
articles; those whose title matches are polled into one continuous feed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import etree
from parsel import Selector

from feedgen_dw.errors import ExtractError
from feedgen_dw.extract.html import clean_url, normalize_space

CONTENT_PATH_RE = re.compile(r"/(?:a|live)-\d+(?:[/?#]|$)")
XML_START_RE = re.compile(r"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<(rss|rdf:RDF|feed)\b", re.S)


@dataclass(frozen=True)
class Link:
    """An article the index points to."""

    url: str
    title: str


def _from_feed(text: str, base: str) -> list[Link]:
    try:
        root = etree.fromstring(text.encode("utf-8"),
                                parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise ExtractError(f"{base}: the index is not well-formed XML ({exc})") from None
    links = []
    for item in root.iter("{*}item", "{*}entry"):
        title = normalize_space("".join(item.findtext("{*}title") or ""))
        href = item.findtext("{*}link") or ""
        if not href.strip():
            link = item.find("{*}link")
            href = link.get("href", "") if link is not None else ""
        url = clean_url(href, base)
        if url:
            links.append(Link(url, title))
    return links


def _from_page(text: str, base: str) -> list[Link]:
    sel = Selector(text=text, type="html")
    links = []
    for anchor in sel.css("a[href]"):
        href = anchor.attrib.get("href", "")
        if not CONTENT_PATH_RE.search(href):
            continue
        heading = anchor.css("h2, h3, h4, .title")
        title = (heading[0] if heading else anchor).xpath("string()").get() or ""
        title = normalize_space(title) or normalize_space(anchor.attrib.get("title", "")
                                                          or anchor.attrib.get("aria-label", ""))
        url = clean_url(urljoin(base, href), base)
        if url and title:
            links.append(Link(url, title))
    return links


def content_id(url: str) -> str:
    """`a-123` or `live-123` from a DW URL (slugs change, ids do not); else the URL."""
    found = CONTENT_PATH_RE.search(url)
    return found.group(0).strip("/?#") if found else url


def index_links(text: str, base: str, match: str | None) -> list[Link]:
    """The articles of an index page or feed, in its order (newest first), one per article
    id, whose title matches `match` (a regex, searched); ExtractError when none does."""
    links = _from_feed(text, base) if XML_START_RE.match(text) else _from_page(text, base)
    pattern = re.compile(match) if match else None
    seen: set[str] = set()
    chosen = []
    for link in links:
        key = content_id(link.url)
        if key in seen or (pattern is not None and not pattern.search(link.title)):
            continue
        seen.add(key)
        chosen.append(link)
    if not chosen:
        what = f" matching {match!r}" if match else ""
        raise ExtractError(f"{base}: the index lists no article{what}; the feed stays as it is")
    return chosen
