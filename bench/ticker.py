"""A live page that is not DW's, in markup of our own, for the `site: auto` rows of the bench.

The shape is what other outlets' live pages have in common (see ../shared/realpages's
live blogs; nothing is copied from them): a news ticker whose posts are repeated
`<article id="post-N">` elements with a `<time>`, a heading and paragraphs, ad slots between
them, a page header and footer, some hundred KB of the outlet's own state in a script, and
(`ld=True`) a schema.org LiveBlogPosting in JSON-LD that lists the same posts. `noise`
changes what a re-publication changes without changing any post: hashed classes, the ad
slots' ids and places, a relative "updated N minutes ago", tracking parameters of the
share links, the state's build id.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Callable
from typing import Any

SENTENCE = ("Emergency crews in the northern districts report that the river has risen again "
            "overnight, and the authorities have not yet said when the roads will reopen. ")
CSS_FILTER = "div.live-feed"  # what a urlwatch user points the css filter at


def _hashed(seed: str, noise: int) -> str:
    digest = hashlib.sha1(f"{seed}:{noise}".encode()).hexdigest()
    return f"css-{digest[:6]} e{digest[6:12]}"


def _post(n: int, page_id: str, noise: int) -> str:
    minute = 5 + n  # post n was published n minutes after 06:05 UTC
    stamp = f"2026-11-24T{6 + minute // 60:02d}:{minute % 60:02d}:00Z"
    shown = f"{7 + minute // 60:02d}:{minute % 60:02d}"  # shown in the outlet's zone (CET)
    paragraphs = "".join(
        f"<p>{html.escape(text)}</p>" for text in (
            f"Post {n} from {page_id}. " + SENTENCE * (2 + n % 4),
            f"Update to post {n}: " + SENTENCE[:60 + n * 3]))
    share = f"https://news.example.org/live/{page_id}#post-{n}?utm_source=share&amp;v={noise}"
    return (f'<article class="live-post {_hashed("post", noise)}" id="post-{n}">'
            f'<header class="post-header"><time datetime="{stamp}">{shown}</time>'
            f"<h2>Post number {n} of the day on {html.escape(page_id)}</h2></header>"
            f'<div class="post-body">{paragraphs}</div>'
            f'<footer class="post-share"><a href="{share}">Share this post</a></footer>'
            f"</article>")


def _ld(page_id: str, posts: int, url: str) -> str:
    updates = []
    for n in range(posts, 0, -1):
        minute = 5 + n
        updates.append({
            "@type": "BlogPosting", "@id": f"{url}#post-{n}",
            "headline": f"Post number {n} of the day on {page_id}",
            "datePublished": f"2026-11-24T{6 + minute // 60:02d}:{minute % 60:02d}:00Z",
            "articleBody": f"Post {n} from {page_id}. " + SENTENCE * (2 + n % 4) + "\n\n"
                           f"Update to post {n}: " + SENTENCE[:60 + n * 3],
        })
    posting = {"@context": "https://schema.org", "@type": "LiveBlogPosting", "url": url,
               "headline": f"Floods in the north: live updates ({page_id})",
               "datePublished": "2026-11-24T06:00:00Z", "liveBlogUpdate": updates}
    return ('<script type="application/ld+json">'
            + json.dumps(posting, ensure_ascii=False).replace("</", "<\\/") + "</script>")


def ticker_page(page_id: str, posts: int, base_url: str, noise: int = 0, ld: bool = False,
                padding: int = 0) -> str:
    """The whole page: `posts` posts, newest first; `padding` bytes of the outlet's state."""
    url = f"{base_url.rstrip('/')}/live/{page_id}"
    cls = _hashed("page", noise)
    body = []
    for index, n in enumerate(range(posts, 0, -1)):
        body.append(_post(n, page_id, noise))
        if (index + noise) % 4 == 0:
            body.append(f'<div class="ad-slot {cls}" id="ad-{noise}-{index}" '
                        f'data-slot="mid-{index}"></div>')
    state = {"build": f"b{noise}", "strings": {f"ui_{n}": f"Interface text number {n}"
                                               for n in range(padding // 40)}}
    nav = "".join(f'<li><a href="/section/{n}">Section {n}</a></li>' for n in range(12))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Floods in the north: live updates ({html.escape(page_id)}) | The Example Courier</title>
<link rel="canonical" href="{html.escape(url)}">
<meta property="og:site_name" content="The Example Courier">
{_ld(page_id, posts, url) if ld else ""}
<script>window.__COURIER__={json.dumps(state)}</script>
</head><body class="{cls}"><header class="site-header {cls}"><nav><ul>{nav}</ul></nav></header>
<main><article class="live-blog {cls}"><h1>Floods in the north: live updates</h1>
<p class="standfirst">Rivers are rising across the region; follow the latest here.</p>
<p class="live-status {cls}">Updated {noise + 1} minutes ago</p>
<div class="live-feed">{"".join(body)}</div></article>
<aside class="related {cls}"><h2>More on this story</h2><ul><li><a href="/a/1">Earlier</a></li>
</ul></aside></main>
<footer class="site-footer {cls}"><p>© The Example Courier</p></footer></body></html>"""


def publisher(server: Any, ld: bool, target: int = 300_000) -> Callable[[str, int, int], str]:
    """publish(page id, posts, noise) -> URL, serving ticker pages of about `target`
    bytes (with an ETag, answering If-None-Match with 304) on the bench's server."""
    def publish(page_id: str, posts: int, noise: int = 0) -> str:
        bare = len(ticker_page(page_id, posts, server.base_url, noise, ld).encode())
        padding = max(0, int((target - bare) / 1.1))
        body = ticker_page(page_id, posts, server.base_url, noise, ld, padding).encode()
        server.set(f"/live/{page_id}", 200, body,
                   {"Content-Type": "text/html; charset=utf-8",
                    "ETag": '"' + hashlib.sha1(body).hexdigest()[:16] + '"'})
        return f"{server.base_url}/live/{page_id}"

    return publish


def ticker_rows(bench: Any, rounds: int = 1) -> None:
    """The four cron steps over 50 ticker pages of another outlet, feedgen-dw on `site:
    auto` (the default) against urlwatch with a css filter for the ticker and html2text:
    the page without structured data (read by the generic profile), and with JSON-LD."""
    from bench.versus import versus

    for ld, label in ((False, "ticker page, generic: "), (True, "ticker page, JSON-LD: ")):
        versus(bench, rounds=rounds, publish=publisher(bench.server, ld), css=CSS_FILTER,
               label=label)


def main() -> None:
    """`python bench/ticker.py [generic|ld|both|all]`: only these rows (all: DW's too),
    printed."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.run import Bench
    from bench.versus import versus

    which = sys.argv[1] if len(sys.argv) > 1 else "both"
    bench = Bench(quick=True)
    try:
        if which == "all":  # DW's own row too, for a comparison in one run
            versus(bench, rounds=1, label="DW: ")
        for ld, label in ((False, "generic: "), (True, "JSON-LD: ")):
            if which in ("both", "all", "ld" if ld else "generic"):
                versus(bench, rounds=1, publish=publisher(bench.server, ld), css=CSS_FILTER,
                       label=label)
        bench.sample_floor(5)
    finally:
        bench.server.stop()
    print(f"parse of the DW bench page's bytes: {bench.floor() * 1000:.2f} ms")
    for row in bench.rows:
        print(f"{row['scenario']:<75} {row['cpu_ms'] or '':>9}  {row['note']}")


if __name__ == "__main__":
    main()
