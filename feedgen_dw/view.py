"""`<name>.html`: a feed as a page for people, written beside its Atom, RSS and JSON Feed.

Browsers are dropping XSLT (Chromium already covers a styled feed with a banner), so a
feed opened in a browser is shown this page instead (serve.py decides by Accept). It
needs no XSLT and no JavaScript, and carries a Content-Security-Policy that allows none.
Every text from outside is escaped. Item content is the sanitizer's output, the very HTML
the feeds carry; it is checked against the sanitizer's allow-list once more (a scan of its
tags, cheap: the page is written with the feeds on every change) and anything that does
not pass goes through that allow-list with lxml. Like the feeds, the page depends only on
its input (no clock).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from html import escape
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from feedgen_dw.extract.html import ALLOWED_ATTRS, ALLOWED_TAGS
from feedgen_dw.model import FeedItem, FeedMeta
from feedgen_dw.render import distinct_updated, feed_url

# no script, no frames, no forms, no fetches; images from the web, our inline style
CSP = ("default-src 'none'; img-src http: https:; style-src 'unsafe-inline'; "
       "base-uri 'none'; form-action 'none'")
STYLE = """
body{font:17px/1.55 Georgia,serif;max-width:46rem;margin:2rem auto;padding:0 1rem;
color:#1d1d1f;background:#fdfdfb}
header{border-bottom:2px solid #05a;margin-bottom:1.5rem;padding-bottom:.5rem}
h1{font:700 1.6rem/1.2 system-ui,sans-serif;margin:.2rem 0}
.note,.subscribe{font:15px/1.5 system-ui,sans-serif;color:#333}
.subscribe code{background:#eef;padding:0 .25rem;word-break:break-all}
article{border-bottom:1px solid #ddd;padding:1rem 0}
article h2{font:600 1.2rem/1.3 system-ui,sans-serif;margin:.2rem 0}
article h2 a{color:#05a;text-decoration:none}
.time{font:13px system-ui,sans-serif;color:#666;margin:0}
img{max-width:100%;height:auto}figcaption{font-size:14px;color:#555}
"""
FORMATS = (("atom", "Atom", "application/atom+xml"), ("rss", "RSS", "application/rss+xml"),
           ("json", "JSON Feed", "application/feed+json"))
# markup as the sanitizer writes it: tags (found with the first pattern, a fast scan for
# "<") made of a name and double-quoted attributes
_TAG_RE = re.compile(r"<([^<>]*)>")
_TAG_BODY_RE = re.compile(r'/?([a-z0-9]+)((?:\s+[a-z-]+="[^"]*")*)\s*/?')
_ATTR_RE = re.compile(r'\s+([a-z-]+)="([^"]*)"')


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _web_url(value: str | None) -> bool:
    parts = urlsplit(value or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _passes(html: str) -> bool:
    """True when every tag and attribute of `html` is one the sanitizer lets through,
    with http(s) links: then it goes into the page as it is."""
    tags = _TAG_RE.findall(html)
    if html.count("<") != len(tags) or html.count(">") != len(tags):
        return False  # a stray < or >
    for body in tags:
        match = _TAG_BODY_RE.fullmatch(body)
        if match is None or match.group(1) not in ALLOWED_TAGS:
            return False  # a comment, a tag the allow-list has not, other quoting
        for attr, value in _ATTR_RE.findall(match.group(2)):
            if attr not in ALLOWED_ATTRS.get(match.group(1), ()):
                return False
            if attr in ("href", "src") and not _web_url(value.replace("&amp;", "&")):
                return False
    return True


def _filtered(html: str) -> str:
    """`html` through the sanitizer's allow-list with lxml: for content that did not pass."""
    holder = lxml.html.fragment_fromstring(html, create_parent="div")
    for el in list(holder.iter()):
        if el is holder:
            continue
        if not isinstance(el.tag, str) or el.tag not in ALLOWED_TAGS:
            el.drop_tree()  # comments, and anything the sanitizer would not have let in
            continue
        allowed = ALLOWED_ATTRS.get(el.tag, ())
        for attr in list(el.attrib):
            if attr not in allowed or (attr in ("href", "src") and not _web_url(el.get(attr))):
                del el.attrib[attr]
    inner = escape(holder.text or "", quote=False)
    return inner + "".join(etree.tostring(child, encoding="unicode", method="html")
                           for child in holder)


def _time(value: datetime) -> str:
    return f'<time datetime="{value.isoformat()}">{_utc(value)}</time>'


def _link(text: str, href: str) -> str:
    """`text` linked to `href` when that is a web address, else just the text."""
    if not _web_url(href):
        return escape(text)
    return f'<a href="{escape(href)}">{escape(text)}</a>'


@lru_cache(maxsize=1024)
def _item(item: FeedItem) -> str:
    # pure; the page is written again with every change of its feed, mostly the same items.
    # A key holds the item's text and its rendered entries: 4,096 of them held 18 MB in a
    # daemon of 2,000 feeds, where one feed's items are rarely met again before they are
    # evicted; 1,024 still hold every item of tens of feeds.
    when = _time(item.published)
    if item.updated != item.published:
        when += f", updated {_time(item.updated)}"
    content = item.html if _passes(item.html) else _filtered(item.html)
    return (f'<article>\n<p class="time">{when}</p>\n<h2>{_link(item.title or "…", item.link)}'
            f"</h2>\n<div>{content}</div>\n</article>\n")


def render_view(meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    """The page of a feed: its title, how to subscribe, and its items (newest first, as
    given) with their times in UTC."""
    title = escape(meta.title)
    urls = {fmt: escape(feed_url(meta, fmt)) for fmt, _, _ in FORMATS}
    alternates = "".join(
        f'<link rel="alternate" type="{mime}" title="{title} ({label})" href="{urls[fmt]}">\n'
        for fmt, label, mime in FORMATS)
    subscribe = "".join(f'<li>{label}: <a href="{urls[fmt]}"><code>{urls[fmt]}</code></a></li>\n'
                        for fmt, label, _ in FORMATS)
    # the items are in the article's language, the words around them in English
    lang = f' lang="{escape(meta.language)}"' if meta.language else ""
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n{alternates}<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header>\n<h1>{title}</h1>\n"
        '<p class="note">This is a feed: one item per new section. To subscribe, copy one of '
        "these addresses into your feed reader.</p>\n"
        f'<ul class="subscribe">\n{subscribe}</ul>\n'
        f'<p class="note">Source: {_link("the article", meta.link)} · '
        f'{_link("all feeds", meta.self_base)}</p>\n</header>\n'
        f"<main{lang}>\n{''.join(_item(item) for item in distinct_updated(items))}</main>\n"
        "</body>\n</html>\n"
    )
    return page.encode("utf-8", "replace")
