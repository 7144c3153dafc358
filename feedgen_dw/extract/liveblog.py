"""The `liveblog` profile: any outlet's schema.org LiveBlogPosting, one item per update.

Reads JSON-LD (`"@type": "LiveBlogPosting"` with `liveBlogUpdate`) or microdata
(`itemtype=…/LiveBlogPosting` with `itemprop=liveBlogUpdate`). Each update's own id (its
`@id`, or the fragment of its `url`), else its publication time, is its identity, so an
edited update stays one item.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
import weakref
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from parsel import Selector

from feedgen_dw.errors import ExtractError
from feedgen_dw.extract import generic, times
from feedgen_dw.extract.html import (
    Known,
    clean_url,
    normalize_space,
    page_selector,
    to_uri,
)
from feedgen_dw.extract.structured import json_ld_objects, parse_time
from feedgen_dw.extract.titles import derived_title, strip_lead
from feedgen_dw.model import Article, Section

NAME = "liveblog"
SAFE_KEY_RE = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class _Update:
    key: str | None
    headline: str
    body: str  # plain text
    published: datetime | None
    authors: tuple[str, ...]


def _is_liveblog(obj: dict[str, Any]) -> bool:
    kind = obj.get("@type")
    return kind == "LiveBlogPosting" or (isinstance(kind, list) and "LiveBlogPosting" in kind)


def _text(value: object) -> str:
    """JSON-LD text: entities decoded (outlets double-escape), tags dropped, space folded."""
    if not isinstance(value, str):
        return ""
    value = html.unescape(html.unescape(value))
    return normalize_space(TAG_RE.sub(" ", value) if "<" in value else value)


TAG_RE = re.compile(r"<[^>]+>")


@lru_cache(maxsize=1024)
def _name(name: str) -> str:
    # a blog's few authors are named on each of its hundreds of updates
    return normalize_space(name)


def _names(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    names = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip():
            names.append(_name(name))
    return tuple(dict.fromkeys(names))


def _key(update_id: object, url: object) -> str | None:
    if isinstance(update_id, str) and update_id.strip():
        return update_id.strip()
    if isinstance(url, str) and "#" in url:
        return url.split("#", 1)[1] or None
    return None


def _ld_updates(sel: Selector) -> tuple[dict[str, Any], list[_Update]] | None:
    for obj in json_ld_objects(sel):
        if not _is_liveblog(obj):
            continue
        raw = obj.get("liveBlogUpdate") or []
        raw = raw if isinstance(raw, list) else [raw]
        updates = [
            _Update(
                key=_key(u.get("@id"), u.get("url")),
                headline=_text(u.get("headline")),
                body=_text(u.get("articleBody")),
                published=times.parse_iso(u.get("datePublished")),  # maybe local: see _utc
                authors=_names(u.get("author")),
            )
            for u in raw if isinstance(u, dict)
        ]
        return obj, updates
    return None


def _prop(scope: Selector, name: str) -> str:
    """A microdata property of this item (not of items nested in it)."""
    for node in scope.xpath(f".//*[@itemprop='{name}']"):
        owner = node.xpath("ancestor::*[@itemscope][1]")
        if owner and owner[0].root is not scope.root:
            continue
        value = node.attrib.get("content") or node.attrib.get("datetime")
        if value is None:
            value = " ".join(node.xpath(".//text()").getall())
        return str(value)
    return ""


def _microdata_updates(sel: Selector) -> tuple[dict[str, Any], list[_Update]] | None:
    posting = sel.xpath("//*[@itemscope][contains(@itemtype, 'LiveBlogPosting')]")
    if not posting:
        return None
    root = posting[0]
    updates = [
        _Update(
            key=_key(None, _prop(u, "url")),
            headline=_text(_prop(u, "headline")),
            body=_text(_prop(u, "articleBody")),
            published=times.parse_iso(_prop(u, "datePublished")),
            authors=_names(_prop(u, "author") or None),
        )
        for u in root.xpath(".//*[@itemprop='liveBlogUpdate']")
    ]
    meta = {"headline": _prop(root, "headline"), "url": _prop(root, "url")}
    return meta, updates


Found = tuple[str, dict[str, Any], list[_Update]] | None
# find()'s last answer in this thread, and the page it was for: `site: auto` asks
# matches() and then extract() of the same page, and reading the JSON-LD is most of both
_last = threading.local()


def find(sel: Selector) -> Found:
    """Where the page's live-blog updates are: ('JSON-LD' | 'microdata', posting, updates)."""
    last: tuple[weakref.ref[Selector], Found] | None = getattr(_last, "found", None)
    if last is not None and last[0]() is sel:
        return last[1]
    found = _find(sel)
    _last.found = (weakref.ref(sel), found)
    return found


def _find(sel: Selector) -> Found:
    found = _ld_updates(sel)
    if found and found[1]:
        return "JSON-LD", *found
    micro = _microdata_updates(sel)
    if micro and micro[1]:
        return "microdata", *micro
    return None


def matches(url: str, selector: Selector) -> str | None:
    """Why this profile fits the page, or None."""
    found = find(selector)
    if found is None:
        return None
    return f"schema.org LiveBlogPosting in {found[0]} with {len(found[2])} updates"


def _safe_key(key: str | None, update: _Update) -> str:
    if key:
        cleaned = SAFE_KEY_RE.sub("", key)
        if cleaned and len(cleaned) <= 64:
            return "p-" + cleaned
    basis = f"{key}|{update.published}|{'' if update.published else update.headline}"
    return "p-" + hashlib.sha256(basis.encode()).hexdigest()[:12]


PARAGRAPH_BREAK_RE = re.compile(r"\s*\n\s*\n\s*|\r\n\r\n")


def _paragraphs(text: str) -> str:
    # both breaks hold a "\n": most bodies in JSON-LD have none, and the pattern takes
    # long to fail at every space of a body (a sixth of the ticker's noise-only extraction)
    pieces = PARAGRAPH_BREAK_RE.split(text) if "\n" in text else [text]
    parts = [p.strip() for p in pieces if p.strip()]
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in parts)


def _sections(updates: list[_Update], title: str) -> Iterator[Section]:
    used: set[str] = set()
    counts: dict[str, int] = {}
    for update in updates:
        counts[update.headline] = counts.get(update.headline, 0) + 1
    lengths = Counter(len(u.headline) for u in updates if u.headline)
    cut_at = max(lengths, key=lambda n: (lengths[n], n), default=0)
    if cut_at < 40 or lengths[cut_at] < 3 or lengths[cut_at] * 2 < len(updates):
        cut_at = 0  # headlines are not cut at a fixed length
    for update in updates:
        if not (update.body or update.headline):
            continue
        if update.headline == title or (len(updates) > 2 and counts[update.headline] > 1
                                         and counts[update.headline] * 2 > len(updates)):
            # some outlets repeat the blog's headline on every update: that is no title
            update = _Update(update.key, "", update.body, update.published, update.authors)
        key, n = _safe_key(update.key, update), 2
        base = key
        while key in used:  # two updates of the same second
            key, n = f"{base}-{n}", n + 1
        used.add(key)
        body = _paragraphs(update.body)
        headline = _headline(update, body)
        if cut_at and len(update.headline) == cut_at and headline.endswith(
                update.headline[-8:]):
            headline = headline.rsplit(" ", 1)[0] + " …"  # cut mid-word by the outlet
        yield Section(headline=headline, html=body,
                      text=normalize_space(update.body), published=update.published,
                      source_key=key, authors=update.authors)


def _headline(update: _Update, body: str) -> str:
    """The update's own headline without a clock time in front ("19:02(IST) TOSS: …"),
    unless it is only the start of its body cut short: then the body's first sentence."""
    own = strip_lead(update.headline)
    cut = own.rstrip(" .…")
    if own and not (len(cut) < len(update.body) and cut in update.body[:len(own) + 40]):
        return own
    return derived_title(update.body, body) or own or "…"



def _utc(updates: list[_Update], sel: Selector, url: str) -> list[_Update]:
    """Update times in UTC; times written without a zone are in the page's zone."""
    if all(u.published is None or u.published.tzinfo is not None for u in updates):
        return [replace(u, published=times.to_utc(u.published, UTC)) if u.published else u
                for u in updates]
    zone = times.page_zone(url, sel.xpath("/html/@lang").get(), times.page_times(sel, url), {})
    return [replace(u, published=times.to_utc(u.published, zone.tz)) if u.published else u
            for u in updates]


def degraded(updates: list[_Update]) -> list[str]:
    """How the structured updates fall short of the page (the Guardian: one date for all,
    bodies cut at 1,000 characters, the whole blog's authors on each), or []."""
    if len(updates) < 3:
        return []
    faults = []
    if len({u.published for u in updates}) == 1:
        faults.append("one date for every update")
    lengths = Counter(len(u.body) for u in updates)
    longest = max(lengths)
    if longest >= 400 and lengths[longest] >= 2:
        faults.append(f"bodies cut at {longest} characters")
    if len({u.authors for u in updates}) == 1 and len(updates[0].authors) > 1:
        faults.append("the blog's authors on every update")
    return faults


def fewer_than_the_page(sel: Selector, updates: list[_Update]) -> str:
    """'N updates for M entries on the page' when the page holds more entry elements (with
    ids, beside the element of an update's id) than its structured data lists, or ""."""
    root = sel.root
    for update in updates[:3]:
        key = (update.key or "").rsplit("#", 1)[-1]
        if not key or not isinstance(root, etree._Element):
            continue
        # the attribute axis is scanned fast; "block-<id>" ends with the update's id
        found = root.xpath("//@id[contains(., $k)]/.. | //@data-post-id[. = $k]/..", k=key)
        hits = [e for e in found if isinstance(e, etree._Element) and (
            (e.get("id") or "").endswith(key) or e.get("data-post-id") == key)] if isinstance(
            found, list) else []
        if not hits:
            continue
        el = hits[0]
        parent = el.getparent()
        while parent is not None and len([c for c in parent if isinstance(c.tag, str)]) == 1:
            el, parent = parent, parent.getparent()  # li > article[id]: the li's siblings
        if parent is None:
            return ""
        # siblings of the entry's kind: its tag and, where it has classes, one of them (ad
        # slots and recommenders between the entries have ids too)
        classes = set((el.get("class") or "").split())
        kin = [c for c in parent if c.tag == el.tag and (
            not classes or classes & set((c.get("class") or "").split())) and (
            c.get("id") or c.get("data-post-id") or any(d.get("id") for d in c.iter()))]
        # a pinned copy among ten entries is no missing update; one of three is
        more = len(kin) - len(updates) >= len(updates) // 10 + 1
        return f"{len(updates)} updates for {len(kin)} entries on the page" if more else ""
    return ""


def _from_dom(page: str | bytes, url: str, sel: Selector, known: Known | None,
              updates: list[_Update], faults: list[str]) -> tuple[Section, ...] | None:
    """The page's own entries instead of degraded structured updates, when the generic
    reader finds one entry element per update; keyed like the updates they render."""
    if not {"one date for every update", f"bodies cut at {max(len(u.body) for u in updates)}"
            " characters"} & set(faults) and not any("entries on the page" in f for f in faults):
        return None
    try:
        dom = generic.extract_notes(page, url, sel, known)[0]
    except ExtractError:
        return None
    if not dom.source.startswith("dom: repeated") or len(dom.sections) < len(updates) * 0.8:
        return None
    keys = [_safe_key(u.key, u) for u in updates]
    sections = []
    for section in dom.sections:
        own = (section.source_key or "")[2:]
        # the element's id holds the update's id ("block-<id>"): keep the update's key
        key = next((k for k, u in zip(keys, updates, strict=True)
                    if u.key and own.endswith(SAFE_KEY_RE.sub("", u.key))), section.source_key)
        sections.append(replace(section, source_key=key))
    return tuple(sections)


def extract(page: str | bytes, url: str, selector: Selector | None = None,
            known: Known | None = None) -> Article:
    """Read a live blog's updates into an Article; ExtractError when there are none.
    (`known` is not needed: update bodies are plain text, escaped, never sanitized.)"""
    sel = selector if selector is not None else page_selector(page)
    found = find(sel)
    if found is None:
        raise ExtractError(f"{url}: extraction found nothing: no LiveBlogPosting updates")
    source, posting, updates = found
    canonical_raw = (sel.css('link[rel="canonical"]::attr(href)').get()
                     or posting.get("url") or url)
    canonical = clean_url(str(canonical_raw), url) or to_uri(url)
    parts = urlsplit(canonical)
    title = _text(posting.get("headline")) or normalize_space(
        sel.css("title::text").get() or "") or canonical
    updates = _utc(updates, sel, canonical)
    faults = degraded(updates)
    fewer = fewer_than_the_page(sel, updates) if updates else ""
    if fewer:
        faults.append(fewer)
    if "the blog's authors on every update" in faults:
        updates = [_Update(u.key, u.headline, u.body, u.published, ()) for u in updates]
    sections = tuple(_sections(updates, title))
    dom_sections = _from_dom(page, url, sel, known, updates, faults) if faults else None
    if dom_sections:
        sections = dom_sections
        source = f"DOM entries ({source} updates are degraded: {', '.join(faults)})"
    if not sections:
        raise ExtractError(f"{url}: extraction found nothing: the updates are empty")
    digest = hashlib.sha256(f"{parts.netloc}{parts.path}".encode()).hexdigest()[:12]
    return Article(
        article_id=f"u-{digest}",  # outlets have no common article id: the URL's path is it
        host=parts.hostname or "localhost",
        url=canonical,
        title=title,
        feed_title=title,
        language=sel.xpath("/html/@lang").get(),
        sections=sections,
        profile=NAME,
        source=source,
        published=parse_time(posting.get("datePublished")),
        modified=parse_time(posting.get("dateModified")),
    )
