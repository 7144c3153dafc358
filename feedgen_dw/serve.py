"""Serving output_dir over HTTP: feeds with the right types, validators and gzip, nothing else.

Only flat file names of the kind the tool writes are served; anything with a path
separator, an encoded slash, `..`, or a symlink leading out of output_dir is a 404.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import unquote, urlsplit

from feedgen_dw.config import FeedConfig
from feedgen_dw.errors import UsageError
from feedgen_dw.httpd import ConnectionServer, listen

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
Root = Path | Callable[[], Path]  # the folder, or where to find it now (after a reload)
Documents = Callable[[str], tuple[bytes, int] | None]  # name -> (bytes, mtime), or None
# the index links only to files of its own folder and styles itself inline
HTML_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
               "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
QVALUE_RE = re.compile(r"^q=(0(\.\d{0,3})?|1(\.0{0,3})?)$", re.I)  # RFC 9110 12.4.2


def feed_max_age(feeds: Sequence[FeedConfig], file_name: str) -> int:
    """Seconds a client may cache a served file: its feed's interval; for the index and
    other shared files, the shortest interval."""
    intervals = {feed.name: feed.interval for feed in feeds}
    stem = file_name.rsplit(".", 1)[0]
    return int(intervals.get(stem, min(intervals.values(), default=300)))


def request_name(raw_path: str) -> str | None:
    """The flat file name `raw_path` asks for, or None for anything else."""
    path = urlsplit(raw_path).path
    if ENCODED_SEPARATOR_RE.search(path) or "\\" in path:
        return None
    name = unquote(path)
    if name == "/":
        name = "/index.html"
    if not name.startswith("/") or "/" in name[1:]:
        return None
    name = name[1:]
    if not NAME_RE.match(name) or ".." in name or Path(name).suffix not in CONTENT_TYPES:
        return None
    return name


def resolve_request_path(root: Path, raw_path: str) -> Path | None:
    """The file under `root` that `raw_path` names, or None for anything else."""
    name = request_name(raw_path)
    if name is None:
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
    """Whether Accept-Encoding allows gzip; a malformed q-value counts as a refusal."""
    for part in (header or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().replace(" ", "")
            if not q:
                return True
            match = QVALUE_RE.match(q)
            return match is not None and float(q[2:]) > 0
    return False


def _http_date(header: str) -> float | None:
    """An HTTP date as a POSIX time, or None when it is not one."""
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    try:
        return when.timestamp()
    except (OverflowError, ValueError, OSError):
        return None


class _Handler(BaseHTTPRequestHandler):
    """One request, from a head the connection server has read in full."""

    server: FeedHTTPServer  # type: ignore[assignment]
    raw_requestline: bytes  # set by handle_one_request(); typeshed does not declare it
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # errors get a status line, never an HTTP/0.9 body

    def __init__(self, sock: socket.socket, head: bytes, address: tuple[str, int],
                 server: FeedHTTPServer) -> None:
        # not BaseHTTPRequestHandler.__init__: the head is already read; answer it once
        self.request, self.client_address, self.server = sock, address, server
        self.rfile = io.BytesIO(head)
        self.wfile = sock.makefile("wb")
        self.close_connection = True

    def answer(self) -> bool:
        """Answer the request; whether the connection may stay open."""
        try:
            self.handle_one_request()
            self.wfile.flush()
        finally:
            self.wfile.close()
        return not self.close_connection

    def parse_request(self) -> bool:
        if len(self.raw_requestline.split()) != 3:  # HTTP/0.9 or garbage
            self.command, self.request_version = "", self.default_request_version
            self.requestline = self.raw_requestline.decode("latin-1").rstrip("\r\n")
            self.close_connection = True
            self._plain(400, "bad request")
            return False
        return super().parse_request()

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        self.close_connection = True
        self._plain(code, message or self.responses.get(code, ("error",))[0])

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def version_string(self) -> str:
        return "feedgen-dw"

    def do_GET(self) -> None:
        self._serve(body=True)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def _refuse(self) -> None:
        self.close_connection = True  # a body may follow that we do not read
        self._plain(405, "method not allowed", {"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_CONNECT = _refuse

    def _plain(self, status: int, text: str, headers: dict[str, str] | None = None,
               body: bool = True) -> None:
        data = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if self.close_connection:
            self.send_header("Connection", "close")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(data)

    def _load(self) -> tuple[Path, bytes, int] | None:
        """(the file's name as a path, its bytes, its mtime), from output_dir or from the
        database (PostgreSQL: what any node rendered)."""
        documents, accept = self.server.documents, self.headers.get("Accept")
        if documents is not None:
            name = request_name(self.path)
            if name is None:
                return None
            path = Path(name)
            page = (Path(f"{path.stem}.html") if path.suffix in FEED_SUFFIXES
                    and wants_page(accept) else None)
            for candidate in (page, path) if page else (path,):
                found = documents(str(candidate))
                if found is not None:
                    data, mtime = found
                    return candidate, data, mtime
            return None
        resolved = resolve_request_path(self.server.root, self.path)
        if resolved is None:
            return None
        resolved = feed_page(self.server.root, resolved, accept) or resolved
        try:
            return resolved, resolved.read_bytes(), int(resolved.stat().st_mtime)
        except OSError:
            return None

    def _serve(self, body: bool) -> None:
        loaded = self._load()
        if loaded is None:
            self._plain(404, "not found", body=body)
            return
        path, data, mtime = loaded
        gz = _wants_gzip(self.headers.get("Accept-Encoding"))
        digest = hashlib.sha256(data).hexdigest()[:32]
        etag = f'"{digest}-gz"' if gz else f'"{digest}"'
        headers = {
            "ETag": etag,
            "Cache-Control": f"public, max-age={self.server.max_age(path.name)}",
            "Vary": "Accept-Encoding, Accept",
        }
        if path.suffix == ".html":
            headers["Content-Security-Policy"] = HTML_POLICY
        now = self.server.clock()
        if mtime < int(now):
            # a file changed in this very second may change again within it: a
            # Last-Modified of one-second resolution would then answer 304 wrongly
            headers["Last-Modified"] = formatdate(mtime, usegmt=True)
        if self._not_modified(etag, mtime, now):
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

    def _not_modified(self, etag: str, mtime: int, now: float) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return _etag_matches(inm, etag)  # RFC 9110: If-Modified-Since is then ignored
        since = _http_date(self.headers.get("If-Modified-Since") or "")
        # a date in the future says nothing about the file (RFC 9110 13.1.3): no 304
        return since is not None and since <= now and mtime <= since

    def log_message(self, format: str, *args: object) -> None:
        log.debug("serve client=%s %s", self.client_address[0], format % args)


class FeedHTTPServer(ConnectionServer):
    """The server for one folder. `root` may be a callable, read on every request, so a
    reload that moves output_dir moves the server with it; `clock` says what "now" is."""

    def __init__(self, root: Root, host: str, port: int, max_age: MaxAge,
                 clock: Callable[[], float] = time.time,
                 documents: Documents | None = None) -> None:
        self._root = root
        self.documents = documents  # serve these (from the database), not root's files
        self.max_age = max_age
        self.clock = clock
        try:
            sock = listen(host, port)
        except OverflowError:
            raise UsageError(f"invalid port {port} (0 to 65535)") from None
        except socket.gaierror as exc:
            raise UsageError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
        except OSError as exc:
            raise UsageError(
                f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
        super().__init__(sock, self._answer)
        self._thread: threading.Thread | None = None

    @property
    def root(self) -> Path:
        """The folder served now."""
        return self._root() if callable(self._root) else self._root

    @root.setter
    def root(self, value: Root) -> None:
        self._root = value

    def _answer(self, sock: socket.socket, head: bytes, address: tuple[str, int]) -> bool:
        return _Handler(sock, head, address, self).answer()

    @property
    def url(self) -> str:
        """Base URL of the server."""
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
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
