"""`<name>.html`: a feed as a page for people, written beside its Atom, RSS and JSON Feed.

Browsers are dropping XSLT (Chromium already covers a styled feed with a banner), so a
feed opened in a browser is shown this page instead (serve.py decides by Accept). It
needs no XSLT and no JavaScript, and carries a Content-Security-Policy that allows none:
every text from outside is escaped by lxml's builder, and item content (already cleaned
by the sanitizer's allow-list) passes that allow-list again on its way in, so a page
could only ever show what a feed reader shows. Like the feeds, it depends only on its
input (no clock).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

import lxml.html
from lxml import etree
from lxml.html import builder as E

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
FORMAT_LABELS = (("atom", "Atom"), ("rss", "RSS"), ("json", "JSON Feed"))


def view_file(name: str) -> str:
    """The file name of feed `name`'s page."""
    return f"{name}.html"


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _web_url(value: str | None) -> bool:
    parts = urlsplit(value or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _content(html: str) -> list[etree._Element | str]:
    """An item's HTML as nodes, through the sanitizer's allow-list once more."""
    if not html.strip():
        return []
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
    nodes: list[etree._Element | str] = [holder.text] if holder.text else []
    nodes += list(holder)
    return nodes


def _item(item: FeedItem) -> etree._Element:
    when = [E.TIME(_utc(item.published), datetime=item.published.isoformat())]
    if item.updated != item.published:
        when += [", updated ", E.TIME(_utc(item.updated), datetime=item.updated.isoformat())]
    title = item.title or "…"
    heading = E.A(title, href=item.link) if _web_url(item.link) else title
    article: etree._Element = E.E.article(
        E.P(*when, E.CLASS("time")), E.H2(heading), E.DIV(*_content(item.html)))
    return article


def render_view(meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    """The page of a feed: its title, how to subscribe, and its items (newest first, as
    given) with their times in UTC."""
    urls = {fmt: feed_url(meta, fmt) for fmt, _ in FORMAT_LABELS}
    subscribe = E.UL(*(E.LI(f"{label}: ", E.A(E.CODE(urls[fmt]), href=urls[fmt]))
                       for fmt, label in FORMAT_LABELS), E.CLASS("subscribe"))
    source = [E.A("the article", href=meta.link)] if _web_url(meta.link) else ["the article"]
    page = E.HTML(
        E.HEAD(
            E.META(charset="utf-8"),
            E.META(**{"http-equiv": "Content-Security-Policy", "content": CSP}),
            E.META(name="viewport", content="width=device-width, initial-scale=1"),
            E.TITLE(meta.title),
            *(E.LINK(rel="alternate", type=mime, title=f"{meta.title} ({label})",
                     href=urls[fmt])
              for (fmt, label), mime in zip(FORMAT_LABELS, (
                  "application/atom+xml", "application/rss+xml", "application/feed+json"),
                  strict=True)),
            E.STYLE(STYLE),
        ),
        E.BODY(
            E.E.header(
                E.H1(meta.title),
                E.P("This is a feed: one item per new section. To subscribe, copy one of "
                    "these addresses into your feed reader.", E.CLASS("note")),
                subscribe,
                E.P("Source: ", *source, " · ", E.A("all feeds", href=meta.self_base),
                    E.CLASS("note")),
            ),
            # the items are in the article's language, the words around them in English
            E.E.main(*(_item(item) for item in distinct_updated(items)),
                     **({"lang": meta.language} if meta.language else {})),
        ),
        lang="en",
    )
    html: bytes = lxml.html.tostring(page, doctype="<!DOCTYPE html>", encoding="utf-8",
                                     pretty_print=True)
    return html
