"""Replaying a live article through a local HTTP server, in DW's current markup.

Used by `make demo` and by the tests: pages are built from plain data (`DemoPage`), with a
`noise` number that changes everything a real re-publication changes without changing the
news (hashed class names, relative times, ad slots, &nbsp;, sharing parameters, the agency
line's initials), and the server answers an outdated slug with a 301, as DW does.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote


@dataclass(frozen=True)
class DemoSection:
    """A section: no headline for the lead; an optional figure (image id, caption, credit)."""

    paragraphs: tuple[str, ...]
    headline: str | None = None
    figure: tuple[str, str, str] | None = None
    video: str | None = None  # an embedded video's headline (no section of its own)


@dataclass(frozen=True)
class DemoPage:
    """One published state of a live article."""

    article_id: str
    slug: str
    title: str
    teaser: str
    sections: tuple[DemoSection, ...]
    summary: tuple[str, ...] = ()
    agency: str = "se/mak (afp, rtr, dpa)"
    modified: str = "2026-11-24T08:00:00.000Z"

    @property
    def path(self) -> str:
        """The article's path on the site."""
        return f"/de/{self.slug}/a-{self.article_id}"


def _hashed(seed: str, noise: int) -> str:
    digest = hashlib.sha1(f"{seed}:{noise}".encode()).hexdigest()
    return f"sc-{digest[:5]} {digest[5:11]}"


def _para(text: str, noise: int) -> str:
    # DW's editor leaves &nbsp; in changing places; it must never count as a change
    body = html.escape(text)
    if noise % 2:
        body = body.replace(" ", "&nbsp;", 2)
    return f"<p>{body}</p>"


def body_html(page: DemoPage, noise: int = 0, ads: bool = True) -> str:
    """The `div.rich-text` content (DOM) or, without ads, the Apollo `text` field."""
    parts = []
    if page.summary:
        items = "".join(f"<li>{html.escape(s)}</li>" for s in page.summary)
        parts.append("<p><strong>Das Wichtigste in Kürze:</strong></p>")
        parts.append(f"<ul>{items}</ul><p>&nbsp;</p>")
    for index, section in enumerate(page.sections):
        if section.headline is not None:
            parts.append(f"<h2>{html.escape(section.headline)}</h2>")
        for n, text in enumerate(section.paragraphs):
            parts.append(_para(text, noise))
            if n == 0 and section.figure:
                image_id, caption, credit = section.figure
                parts.append(
                    f'<figure class="placeholder-image master_landscape big">'
                    f'<img data-format="MASTER_LANDSCAPE" data-id="{image_id}" '
                    f'data-url="https://static.dw.com/image/{image_id}_${{formatId}}.jpg" '
                    f'alt="{html.escape(caption)}" style="padding-bottom: 56.25%">'
                    f'<figcaption class="img-caption">{html.escape(caption)}'
                    f'<small class="copyright">Bild: {html.escape(credit)}</small>'
                    f"</figcaption></figure>"
                )
            if n == 0 and section.video:
                parts.append(
                    f'<div class="vjs-wrapper embed big"><h2 class="headline" aria-label='
                    f'"Eingebettetes Video — {html.escape(section.video)}">'
                    f"{html.escape(section.video)}</h2><video id=\"video-1\" controls "
                    f'preload="none"></video></div>'
                )
        if ads and (index + noise) % 3 == 0:
            parts.append(f'<span class="rich-text-ad {_hashed("ad", noise)}"></span>')
    # the agency line gains initials during the day; the standing note never changes
    initials = ["se", "mak", "AR", "djo", "kle", "jj"][: 2 + noise % 4]
    agency = page.agency
    if "(" in agency:
        agency = "/".join(initials) + " (" + agency.split("(", 1)[1]
    parts.append(f"<p>{html.escape(agency)}</p>")
    parts.append(
        "<p><em>Dieser Artikel wird am Tag seines Erscheinens fortlaufend aktualisiert. "
        "Meldungen aus den Kampfgebieten lassen sich nicht unabhängig überprüfen.</em></p>"
    )
    return "".join(parts)


def render_page(page: DemoPage, base_url: str, noise: int = 0, apollo: bool = True,
                padding: int = 0) -> str:
    """A whole page in DW's 2023-24 markup, with Apollo state unless `apollo` is False.

    `padding` adds about that many bytes of the state real pages carry besides the
    article (translations, navigation), for benchmarks at realistic page sizes."""
    canonical = base_url.rstrip("/") + page.path
    cls = _hashed("page", noise)
    strings = {f"ui_{n}": f"Übersetzter Text Nummer {n} der Oberfläche"
               for n in range(padding // 48)}
    state = {
        "ROOT_QUERY": {"__typename": "Query", "i18n": json.dumps(strings, ensure_ascii=False)},
        f"Article:{page.article_id}": {
            "__typename": "Article", "id": page.article_id, "title": page.title,
            "name": page.title, "canonicalUrl": canonical,
            "namedUrl": page.path, "permaLinkUrl": "https://p.dw.com/p/4Demo",
            "firstPublicationDate": "2026-11-24T05:00:00.000Z",
            "lastModifiedDate": page.modified, "teaser": page.teaser,
            "text": body_html(page, noise, ads=False),
        },
    }
    ld = {
        "@context": "https://schema.org", "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": canonical},
        "headline": page.title, "datePublished": "2026-11-24T05:00:00.000Z",
        "dateModified": page.modified,
    }
    apollo_script = (
        "<script>window.__APOLLO_STATE__="
        + json.dumps(state, ensure_ascii=False).replace("</", "<\\/")
        + ";</script>"
        if apollo else ""
    )
    share = f"https://p.dw.com/p/4Demo?maca=de-Facebook-sharing-{noise}"
    return f"""<!DOCTYPE html>
<html lang="de"><head><meta charset="utf-8">
<title>{html.escape(page.title)} – DW – 24.11.2026</title>
<link rel="canonical" href="{html.escape(canonical)}">
<meta property="og:site_name" content="dw.com">
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
</head><body><nav class="{cls}"><a href="/de/">Zur Hauptnavigation springen</a></nav>
<main><article class="{cls}"><div class="content-area {cls}">
<header class="{cls}"><div class="{cls} kicker" data-tracking-name="content-detail-kicker">
<span>Konflikte</span><span>Ukraine</span></div><h1 class="{cls}">{html.escape(page.title)}</h1>
<span class="{cls} time-area"><span class="publication"><time aria-hidden="true">vor {noise + 1}
Stunden</time></span></span><p class="{cls} teaser-text">{html.escape(page.teaser)}</p></header>
<section class="{cls} sharing"><a href="{share}">Teilen</a></section>
<figure class="{cls}"><img data-url="https://static.dw.com/image/1_${{formatId}}.jpg" alt="">
</figure><div class="{cls} rich-text">{body_html(page, noise)}</div></div></article>
<aside class="{cls}"><h2>Mehr zum Thema</h2><a href="/de/other/a-1">Anderes</a></aside></main>
{apollo_script}</body></html>"""


def send_response_body(req: BaseHTTPRequestHandler, status: int, body: bytes,
                       headers: dict[str, str]) -> None:
    """Answer a request with exactly `status`, `headers` and `body` (Content-Length set)."""
    req.send_response(status)
    for name, value in headers.items():
        req.send_header(name, value)
    req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    req.wfile.write(body)


@dataclass
class _Site:
    pages: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    streams: dict[str, int] = field(default_factory=dict)  # path -> bytes to send
    queued: dict[str, list[tuple[int, dict[str, str], bytes]]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # monotonic arrival of each request
    sent: dict[str, int] = field(default_factory=dict)  # streamed bytes the client took
    delay: float = 0.0  # seconds before each answer (a slow site)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class ReplayServer:
    """A local web server whose answers the caller sets: `publish()` a page, `set()` a raw one."""

    def __init__(self) -> None:
        self.site = _Site()
        site = self.site

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = unquote(self.path.split("?")[0])
                with site.lock:
                    site.requests.append(self.path)
                    site.headers.append(dict(self.headers.items()))
                    site.times.append(time.monotonic())
                    site.in_flight += 1
                    site.max_in_flight = max(site.max_in_flight, site.in_flight)
                    status, headers, body = site.pages.get(
                        path, (404, {"Content-Type": "text/plain"}, b"not found"))
                    if site.queued.get(path):
                        status, headers, body = site.queued[path].pop(0)
                    stream = site.streams.get(path)
                try:
                    time.sleep(site.delay)
                    if stream is not None:
                        self._stream(path, stream)
                    elif headers.get("ETag") and self.headers.get("If-None-Match") == headers[
                            "ETag"]:
                        self.send_response(304)
                        self.send_header("ETag", headers["ETag"])
                        self.end_headers()
                    else:
                        send_response_body(self, status, body, headers)
                except OSError:
                    self.close_connection = True  # the client gave up (a timeout test)
                finally:
                    with site.lock:
                        site.in_flight -= 1

            def _stream(self, path: str, total: int) -> None:
                # a huge body, sent in chunks; counts what the client accepted before it hung up
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                chunk = b"<p>" + b"x" * 65530 + b"</p>"
                sent = 0
                try:
                    while sent < total:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        sent += len(chunk)
                        with site.lock:
                            site.sent[path] = sent
                except OSError:
                    pass
                self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                pass  # tests and the demo print their own lines

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.1,),
                                        daemon=True)

    def start(self) -> ReplayServer:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def set(
        self, path: str, status: int, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        """Answer GET `path` with exactly this."""
        with self.site.lock:
            self.site.pages[path] = (status, headers or {}, body)

    def queue(self, path: str, status: int, body: bytes, headers: dict[str, str]) -> None:
        """Answer the next GET of `path` with this, once, before its usual answer."""
        with self.site.lock:
            self.site.queued.setdefault(path, []).append((status, headers, body))

    def stream(self, path: str, total: int) -> None:
        """Answer GET `path` with `total` bytes of HTML, without a Content-Length."""
        with self.site.lock:
            self.site.streams[path] = total

    def publish(self, page: DemoPage, noise: int = 0, apollo: bool = True,
                padding: int = 0) -> str:
        """Serve `page` at its path (with an ETag, answering If-None-Match with 304); every
        other path of the article redirects there (301)."""
        body = render_page(page, self.base_url, noise, apollo, padding).encode("utf-8")
        headers = {"Content-Type": "text/html; charset=utf-8",
                   "ETag": '"' + hashlib.sha1(body).hexdigest()[:16] + '"'}
        with self.site.lock:
            for path in list(self.site.pages):
                if path.endswith(f"/a-{page.article_id}") and path != page.path:
                    self.site.pages[path] = (301, {"Location": quote(page.path)}, b"")
            self.site.pages[page.path] = (200, headers, body)
        return self.base_url + page.path

    def request_count(self) -> int:
        """How many requests the server has answered."""
        with self.site.lock:
            return len(self.site.requests)


@contextmanager
def replay_server() -> Iterator[ReplayServer]:
    """A started ReplayServer, stopped on exit."""
    server = ReplayServer().start()
    try:
        yield server
    finally:
        server.stop()
