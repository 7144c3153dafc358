"""The pages next to the feeds: `index.html` (for people) and `feeds.opml` (for readers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import lxml.html
from lxml import etree
from lxml.html import builder as E

from feedgen_dw.model import FeedStatus
from feedgen_dw.safetext import error_line, xml_safe

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1d1d1f}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .6rem;
border-bottom:1px solid #ddd;vertical-align:top}.error{color:#b00020}small{color:#666}
ul.newest{margin:.3rem 0 0;padding-left:1rem;font-size:14px}ul.newest time{color:#666}
"""


@dataclass(frozen=True)
class FeedSummary:
    """One feed as the index and the OPML list show it."""

    name: str
    title: str
    link: str | None  # the article
    status: FeedStatus
    items: int
    newest: tuple[tuple[str, datetime], ...] = ()  # (title, published), newest first
    polled_by: str | None = None  # the node that polled it last (several on PostgreSQL)


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def render_index(feeds: Sequence[FeedSummary], base_url: str,
                 nodes: Mapping[str, tuple[datetime, int]] | None = None) -> bytes:
    """A plain HTML page listing every feed, readable without JavaScript; with several
    nodes on one PostgreSQL, which node polled each feed last, and when each node was
    last seen and how many polls it committed."""
    rows = []
    for feed in feeds:
        links = []
        for fmt, label in (("atom", "Atom"), ("rss", "RSS"), ("json", "JSON Feed")):
            links += [E.A(label, href=f"{base_url}{feed.name}.{fmt}"), " "]
        # everything shown here came from outside (config, pages, answers): xml_safe, so
        # that one control character cannot stop the index from being written again
        title_cell = E.TD(E.STRONG(xml_safe(feed.title)), E.BR(), E.SMALL(feed.name))
        if feed.link:  # an article was read, so the feed's files and its page exist
            title_cell.extend([E.BR(), E.A("read in the browser",
                                           href=f"{base_url}{feed.name}.html"),
                               E.SMALL(" · "), E.A("article", href=xml_safe(feed.link))])
        if feed.newest:
            title_cell.append(E.UL(*(
                E.LI(E.TIME(_time(when), datetime=when.isoformat()), " ",
                     xml_safe(title) or "…")
                for title, when in feed.newest), E.CLASS("newest")))
        error = error_line(feed.status.last_error) if feed.status.last_error else None
        rows.append(E.TR(
            title_cell,
            E.TD(*links),
            E.TD(_time(feed.status.last_success), *(
                (E.BR(), E.SMALL("by ", xml_safe(feed.polled_by))) if feed.polled_by else ())),
            E.TD(E.SPAN(error, E.CLASS("error")) if error else "–"),
            E.TD(str(feed.items)),
        ))
    page = E.HTML(
        E.HEAD(
            E.META(charset="utf-8"),
            E.META(name="viewport", content="width=device-width, initial-scale=1"),
            E.TITLE("feedgen-dw feeds"),
            E.LINK(rel="alternate", type="text/x-opml", href=f"{base_url}feeds.opml"),
            E.STYLE(STYLE),
        ),
        E.BODY(
            E.H1("feedgen-dw feeds"),
            E.P("One item per new section of a live article. ",
                E.A("All feeds as OPML", href=f"{base_url}feeds.opml"), "."),
            E.TABLE(
                E.THEAD(E.TR(*(E.TH(h) for h in (
                    "Feed", "Subscribe", "Last successful poll", "Last error", "Items")))),
                E.TBODY(*rows),
            ),
            *((E.H2("Nodes"), E.TABLE(
                E.THEAD(E.TR(E.TH("Node"), E.TH("Last seen"), E.TH("Polls"))),
                E.TBODY(*(E.TR(E.TD(xml_safe(node)), E.TD(_time(seen)), E.TD(str(polls)))
                          for node, (seen, polls) in sorted(nodes.items()))))) if nodes
              else ()),
        ),
        lang="en",
    )
    html: bytes = lxml.html.tostring(page, doctype="<!DOCTYPE html>", encoding="utf-8",
                                     pretty_print=True)
    return html


def render_opml(feeds: Sequence[FeedSummary], base_url: str) -> bytes:
    """OPML 2.0 with one outline per feed (its Atom file), for one-click import."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = "feedgen-dw feeds"
    body = etree.SubElement(root, "body")
    for feed in feeds:
        title = xml_safe(feed.title)
        outline = etree.SubElement(body, "outline", type="rss", text=title,
                                   title=title, xmlUrl=f"{base_url}{feed.name}.atom")
        if feed.link:
            outline.set("htmlUrl", xml_safe(feed.link))
    xml: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return xml
