"""The pages next to the feeds: `index.html` (for people) and `feeds.opml` (for readers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape

from feedgen_dw.model import FeedStatus
from feedgen_dw.records import record
from feedgen_dw.safetext import error_line, xml_safe

STYLE = """
body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1d1d1f}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .6rem;
border-bottom:1px solid #ddd;vertical-align:top}.error{color:#b00020}small{color:#666}
ul.newest{margin:.3rem 0 0;padding-left:1rem;font-size:14px}ul.newest time{color:#666}
"""


@record(frozen=True)
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


def _text(value: str) -> str:
    """Text from outside as HTML character data: XML-safe (what the index has always
    carried), then escaped, quotes included, so it is safe in an attribute too."""
    return escape(xml_safe(value))


def _feed_row(feed: FeedSummary, base_url: str) -> str:
    name = _text(feed.name)
    # everything shown here came from outside (config, pages, answers): escaped, and
    # xml_safe, so that one control character cannot make the page unreadable
    cell = [f"<td>\n<strong>{_text(feed.title)}</strong><br><small>{name}</small>"]
    if feed.link:  # an article was read, so the feed's files and its page exist
        cell.append(f'<br><a href="{escape(base_url)}{name}.html">read in the browser</a>'
                    f'<small> · </small><a href="{_text(feed.link)}">article</a>')
    if feed.newest:
        cell.append('<ul class="newest">')
        cell += [f'<li><time datetime="{when.isoformat()}">{_time(when)}</time> '
                 f"{_text(title) or '…'}</li>" for title, when in feed.newest]
        cell.append("</ul>")
    links = " ".join(f'<a href="{escape(base_url)}{name}.{fmt}">{label}</a>' for fmt, label in
                     (("atom", "Atom"), ("rss", "RSS"), ("json", "JSON Feed")))
    polled = f"<br><small>by {_text(feed.polled_by)}</small>" if feed.polled_by else ""
    error = error_line(feed.status.last_error) if feed.status.last_error else None
    shown = f'<span class="error">{escape(error)}</span>' if error else "–"
    return (f"<tr>\n{''.join(cell)}\n</td>\n<td>{links}</td>\n"
            f"<td>{_time(feed.status.last_success)}{polled}</td>\n<td>{shown}</td>\n"
            f"<td>{feed.items}</td>\n</tr>\n")


def render_index(feeds: Sequence[FeedSummary], base_url: str,
                 nodes: Mapping[str, tuple[datetime, int]] | None = None) -> bytes:
    """A plain HTML page listing every feed, readable without JavaScript; with several
    nodes on one PostgreSQL, which node polled each feed last, and when each node was
    last seen and how many polls it committed."""
    # built as text, a row at a time: no tree of every feed's elements in memory (the
    # daemon renders this for 10,000 feeds), and no HTML library imported to write it
    base = escape(base_url)
    head = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>feedgen-dw feeds</title>
<link rel="alternate" type="text/x-opml" href="{base}feeds.opml">
<style>{STYLE}</style>
</head>
<body>
<h1>feedgen-dw feeds</h1>
<p>One item per new section of a live article. <a href="{base}feeds.opml">All feeds as \
OPML</a>.</p>
<table>
<thead><tr><th>Feed</th><th>Subscribe</th><th>Last successful poll</th><th>Last error</th>\
<th>Items</th></tr></thead>
<tbody>
"""
    # each row encoded as it is made: one non-Latin-1 character (a dash, a quote) in one
    # row would make the whole page's text two bytes a character before it is encoded
    parts = [_bytes(head), *(_bytes(_feed_row(feed, base_url)) for feed in feeds)]
    tail = ["</tbody>\n</table>\n"]
    if nodes:
        tail.append("<h2>Nodes</h2>\n<table>\n<thead><tr><th>Node</th><th>Last seen</th>"
                    "<th>Polls</th></tr></thead>\n<tbody>\n")
        tail += [f"<tr><td>{_text(node)}</td><td>{_time(seen)}</td><td>{polls}</td></tr>\n"
                 for node, (seen, polls) in sorted(nodes.items())]
        tail.append("</tbody>\n</table>\n")
    tail.append("</body>\n</html>\n")
    parts.append(_bytes("".join(tail)))
    return b"".join(parts)


def _bytes(text: str) -> bytes:
    # "replace": a name or URL is text from the config; nothing in it may stop the page
    return text.encode("utf-8", "replace")


def _xml_attr(value: str) -> str:
    """An XML attribute value as lxml writes it (newlines and tabs kept as references)."""
    return (escape(xml_safe(value), quote=False).replace('"', "&quot;")
            .replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;"))


def render_opml(feeds: Sequence[FeedSummary], base_url: str) -> bytes:
    """OPML 2.0 with one outline per feed (its Atom file), for one-click import."""
    parts = [b"<?xml version='1.0' encoding='UTF-8'?>\n<opml version=\"2.0\">\n  <head>\n"
             b"    <title>feedgen-dw feeds</title>\n  </head>\n  <body>\n"]
    for feed in feeds:
        title = _xml_attr(feed.title)
        html_url = f' htmlUrl="{_xml_attr(feed.link)}"' if feed.link else ""
        parts.append(_bytes(f'    <outline type="rss" text="{title}" title="{title}" '
                            f'xmlUrl="{_xml_attr(f"{base_url}{feed.name}.atom")}"{html_url}/>\n'))
    parts.append(b"  </body>\n</opml>\n")
    return b"".join(parts)
