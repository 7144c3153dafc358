"""Serving output_dir over HTTP: feeds with the right types, validators and gzip, nothing else.

Only flat file names of the kind the tool writes are served; anything with a path
separator, an encoded slash, `..`, or a symlink leading out of output_dir is a 404.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from feedgen_dw.config import FeedConfig

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    ".atom": "application/atom+xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".json": "application/feed+json",
    ".html": "text/html; charset=utf-8",
    ".opml": "text/x-opml; charset=utf-8",
    ".xsl": "text/xsl; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
ENCODED_SEPARATOR_RE = re.compile(r"%(2f|5c|00)", re.I)

MaxAge = Callable[[str], int]  # file name -> seconds a client may cache it


def feed_max_age(feeds: Sequence[FeedConfig], file_name: str) -> int:
    """Seconds a client may cache a served file: its feed's interval; for the index and
    other shared files, the shortest interval."""
    intervals = {feed.name: feed.interval for feed in feeds}
    stem = file_name.rsplit(".", 1)[0]
    return int(intervals.get(stem, min(intervals.values(), default=300)))


def resolve_request_path(root: Path, raw_path: str) -> Path | None:
    """The file under `root` that `raw_path` names, or None for anything else."""
    path = urlsplit(raw_path).path
    if ENCODED_SEPARATOR_RE.search(path) or "\\" in path:
        return None
    name = unquote(path)
    if name == "/":
        name = "/index.html"
    if not name.startswith("/") or "/" in name[1:]:
        return None
    name = name[1:]
    if not NAME_RE.match(name) or ".." in name:
        return None
    candidate = root / name
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if resolved.parent != root.resolve() or not resolved.is_file():
        return None  # a symlink pointing out of output_dir, or a directory
    if resolved.suffix not in CONTENT_TYPES:
        return None
    return resolved


FEED_SUFFIXES = (".atom", ".rss", ".json")
FEED_MEDIA = ("atom+xml", "rss+xml", "feed+json", "application/json")


def wants_page(accept: str | None) -> bool:
    """True for a browser opening a feed's URL: it accepts text/html and names no feed
    type (readers send those, or */*, or nothing)."""
    html = False
    for part in (accept or "").lower().split(","):
        media, _, params = part.strip().partition(";")
        if any(kind in media for kind in FEED_MEDIA):
            return False
        if media.strip() == "text/html" and not _q_zero(params):
            html = True
    return html


def _q_zero(params: str) -> bool:
    """True when media-type parameters say q=0 (not acceptable)."""
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip() == "q":
            try:
                return float(value) == 0
            except ValueError:
                return False
    return False


def feed_page(root: Path, path: Path, accept: str | None) -> Path | None:
    """The page (view.py) a browser asking for the feed at `path` is shown instead, when
    one is written beside it."""
    if path.suffix not in FEED_SUFFIXES or not wants_page(accept):
        return None
    return resolve_request_path(root, f"/{path.stem}.html")


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    tags = [t.strip() for t in header.split(",")]
    return any(t.removeprefix("W/") == etag for t in tags)


def _wants_gzip(header: str | None) -> bool:
    for part in (header or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip()
            return not (q.startswith("q=") and float(q[2:] or 0) == 0)
    return False


class _Handler(BaseHTTPRequestHandler):
    server: FeedHTTPServer
    protocol_version = "HTTP/1.1"

    def version_string(self) -> str:
        return "feedgen-dw"

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _refuse(self) -> None:
        self._plain(405, "method not allowed", {"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse

    def _plain(self, status: int, text: str, headers: dict[str, str] | None = None,
               body: bool = True) -> None:
        data = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(data)

    def _serve(self, body: bool) -> None:
        path = resolve_request_path(self.server.root, self.path)
        if path is None:
            self._plain(404, "not found", body=body)
            return
        path = feed_page(self.server.root, path, self.headers.get("Accept")) or path
        try:
            data = path.read_bytes()
            mtime = path.stat().st_mtime
        except OSError:
            self._plain(404, "not found", body=body)
            return
        gz = _wants_gzip(self.headers.get("Accept-Encoding"))
        digest = hashlib.sha256(data).hexdigest()[:32]
        etag = f'"{digest}-gz"' if gz else f'"{digest}"'
        headers = {
            "ETag": etag,
            "Cache-Control": f"public, max-age={self.server.max_age(path.name)}",
            "Vary": "Accept-Encoding, Accept",
        }
        if int(mtime) < int(time.time()):
            # a file changed in this very second may change again within it: a
            # Last-Modified of one-second resolution would then answer 304 wrongly
            headers["Last-Modified"] = formatdate(int(mtime), usegmt=True)
        if self._not_modified(etag, int(mtime)):
            self.send_response(304)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            return
        if gz:
            data = gzip.compress(data, mtime=0)
            headers["Content-Encoding"] = "gzip"
        self.send_response(200)
        self.send_header("Content-Type", self._content_type(path.suffix))
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _content_type(self, suffix: str) -> str:
        """Feeds as feeds, except to a browser: it shows application/atom+xml as text but
        applies the feed's XSL stylesheet to application/xml."""
        accept = self.headers.get("Accept", "")
        if (suffix in (".atom", ".rss") and "text/html" in accept
                and "atom+xml" not in accept and "rss+xml" not in accept):
            return "application/xml; charset=utf-8"
        return CONTENT_TYPES[suffix]

    def _not_modified(self, etag: str, mtime: int) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return _etag_matches(inm, etag)  # RFC 9110: If-Modified-Since is then ignored
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                return mtime <= parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError):
                return False
        return False

    def log_message(self, format: str, *args: object) -> None:
        log.debug("serve client=%s %s", self.client_address[0], format % args)


class FeedHTTPServer(ThreadingHTTPServer):
    """A threaded server for one folder; one slow client does not block the others."""

    daemon_threads = True

    def __init__(self, root: Path, host: str, port: int, max_age: MaxAge) -> None:
        self.root = root
        self.max_age = max_age
        super().__init__((host, port), _Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL of the server."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/"

    def start(self) -> FeedHTTPServer:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.serve_forever, args=(0.2,), name="serve",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.shutdown()
        self.server_close()
