"""Fetching pages politely: timeouts, retries with backoff (honouring Retry-After),
redirects, conditional GET, a streamed size cap and an HTML check.

Every fetch has a total deadline (deadline.py), by default 3 x `timeout`: a server that
trickles, or one that accepts and never answers, cannot hold a poll longer. No cookies
are kept between fetches: a cookie lives only within one redirect chain (a consent
redirect that sets one and sends us back still works), so one answer setting huge
cookies cannot make every later request to its host fail with 431.

Two clients, for CPU (most polls of a live page are answered 304, and a cron `run` of
unchanged feeds is mostly start-up): every GET is first sent with http.client alone, over
a kept-alive connection of its own; a 304, and a 200 in identity or gzip, end the fetch
there, without importing urllib3 (about 50 ms of a cron run's CPU) and at about half its
CPU per poll. Every other answer (a redirect, an error status, another encoding), every
failure of that first request, and every fetch through a proxy or of a URL the full
path would rewrite goes to pooled.py (urllib3, as requests did it but without requests'
import and session costs): an answer already received is handed to it as the first hop,
so no page is asked for twice."""

from __future__ import annotations

import codecs
import logging
import os
import re
import time
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from feedgen_dw import DEFAULT_USER_AGENT
from feedgen_dw.deadline import DeadlinePassed, Watch, check, register, watching
from feedgen_dw.errors import FetchError
from feedgen_dw.records import record
from feedgen_dw.redirects import requote

if TYPE_CHECKING:
    import http.client
    import ssl

    from feedgen_dw.pooled import PooledFetcher

log = logging.getLogger(__name__)

META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.I)
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/rdf+xml", "application/atom+xml",
              "application/xml", "text/xml")
JSON_TYPES = ("application/json",)  # an API answer (source.py), asked for with json=True
# The total deadline of a fetch when none is given: connect, reads, redirects, retries.
TOTAL_PER_TIMEOUT = 3.0
# The same on every request, so that a server's ETag (which may differ per encoding)
# matches when it is sent back
ACCEPT_ENCODING = "gzip,deflate"
ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
READ_BYTES = 256 * 1024  # a body is read in reads this large: a few Python calls each


@record(frozen=True)
class FetchSettings:
    """How politely and how patiently to fetch one page."""

    timeout: float = 20.0  # seconds, for connecting and for each read
    user_agent: str = DEFAULT_USER_AGENT
    max_bytes: int = 10 * 1024 * 1024
    total: float | None = None  # seconds for the whole fetch; None: 3 x timeout

    @property
    def deadline(self) -> float:
        """The total deadline of one fetch, in seconds."""
        return self.total if self.total is not None else TOTAL_PER_TIMEOUT * self.timeout


@record(frozen=True)
class Validators:
    """What the last 200 said, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@record(frozen=True)
class FetchResult:
    """A fetched page; `status` 304 means unchanged (no body)."""

    url: str  # after redirects
    status: int
    body: bytes = b""
    encoding: str = "utf-8"  # from the Content-Type header or the page's <meta charset>
    validators: Validators = Validators()
    permanent_url: str | None = None  # where a 301/308 chain ended, to ask there next time

    @cached_property
    def text(self) -> str:
        """The body decoded (extraction parses `body` itself and never needs this)."""
        try:
            return self.body.decode(self.encoding, errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")

    @property
    def not_modified(self) -> bool:
        """True when the server answered 304 to a conditional GET."""
        return self.status == 304


def timed_out(url: str, timeout: float, started: float) -> FetchError:
    """A read or connect that waited `timeout` for an answer, as a poll's error line."""
    waited = time.monotonic() - started
    return FetchError(f"{url}: timed out after {timeout:g}s without an answer "
                      f"({waited:.0f}s in total, with retries)", url=url)


def header_charset(ctype: str) -> str | None:
    """The charset parameter of a Content-Type header, if any."""
    for param in ctype.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip(" \t'\"") or None
    return None


def page_encoding(body: bytes, charset: str | None) -> str:
    """The encoding of a page: the header's charset, else its <meta charset>, else UTF-8."""
    if not charset:
        found = META_CHARSET_RE.search(body[:4096])
        charset = found.group(1).decode("ascii") if found else "utf-8"
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return "utf-8"  # an unknown charset name: UTF-8 is the likeliest


def _site(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host.removeprefix("www.")


def same_site(a: str, b: str) -> bool:
    """True when two URLs are on one site: the same host up to `www.`, or one a subdomain
    of the other (dw.com, www.dw.com, amp.dw.com). Hosts only; schemes and ports may
    differ (an http -> https redirect stays on the site)."""
    sa, sb = _site(a), _site(b)
    return bool(sa and sb) and (sa == sb or sa.endswith("." + sb) or sb.endswith("." + sa))


@lru_cache(maxsize=4096)
def _plain(url: str) -> tuple[str, str, int | None, str] | None:
    """(scheme, host, port, target) of a URL http.client may ask as it is: one that
    the full path would not rewrite (no credentials, lower-case host, quoted)."""
    if not url.isascii():
        return None
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return None
    if (parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc
            or parts.netloc != parts.netloc.lower() or not parts.path or requote(url) != url):
        return None
    return parts.scheme, parts.hostname, port, parts.path + (
        f"?{parts.query}" if parts.query else "")


class Fetcher:
    """Fetches pages: over kept-alive http.client connections first, the rest over
    urllib3's pools (pooled.py, made on first use)."""

    def __init__(self, retries: int = 2, backoff: float = 0.5) -> None:
        self._retries, self._backoff = retries, backoff
        self._pooled: PooledFetcher | None = None
        self._plain: dict[tuple[str, str, int | None], http.client.HTTPConnection] = {}
        self._tls: ssl.SSLContext | None = None
        # the plain connection whose answer pooled.py is reading, and that answer
        self._handed: tuple[tuple[str, str, int | None], http.client.HTTPResponse] | None = None
        # a proxy is for the full path to use (read once: nearly nobody sets one)
        self._proxied = any(name.lower().endswith("_proxy") for name in os.environ)

    @property
    def pooled(self) -> PooledFetcher:
        if self._pooled is None:
            from feedgen_dw.pooled import PooledFetcher

            self._pooled = PooledFetcher(self._retries, self._backoff)
        return self._pooled

    def close(self) -> None:
        """Close every connection."""
        for conn in self._plain.values():
            conn.close()
        self._plain.clear()
        if self._pooled is not None:
            self._pooled.close()

    def get(
        self, url: str, settings: FetchSettings | None = None,
        validators: Validators | None = None, feeds_too: bool = False, json: bool = False,
    ) -> FetchResult:
        """GET `url`, following redirects; FetchError names the URL and the status or cause.
        `json`: the answer must be JSON instead of HTML."""
        settings = settings or FetchSettings()
        headers = {"Accept": "application/json" if json else ACCEPT,
                   "Accept-Encoding": ACCEPT_ENCODING, "User-Agent": settings.user_agent}
        allowed = JSON_TYPES if json else (HTML_TYPES + FEED_TYPES if feeds_too else HTML_TYPES)
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        started = time.monotonic()
        with watching(settings.deadline) as watch:
            try:
                first = self._ask_plain(url, headers, settings, allowed, started)
                if isinstance(first, FetchResult):
                    result = first
                else:
                    result = self.pooled.get(url, headers, settings, allowed, first)
            except Exception as exc:
                if watch.expired:
                    # whatever the closed socket looked like, the deadline is the cause
                    raise self._late(url, watch, settings) from None
                if isinstance(exc, DeadlinePassed):  # a sleep that would end too late
                    raise self._late(url, watch, settings) from None
                raise
            finally:
                self._done_plain()
            if watch.expired:  # e.g. a body without a length, ended early by the deadline
                raise self._late(url, watch, settings)
        if result.status == 304 and not validators:
            # a 304 to a request that asked for no validators has no page and no meaning
            raise FetchError(f"{url}: HTTP 304 to an unconditional request", url=url,
                             status=304)
        return result

    def _ask_plain(self, url: str, headers: dict[str, str], settings: FetchSettings,
                   allowed: tuple[str, ...], started: float) -> FetchResult | Any:
        """The GET with http.client: a 304 or a plain 200 as a FetchResult, any other
        answer as urllib3's response for pooled.py to go on with, or None when the full
        path must ask itself (a proxy, a URL it would rewrite, a failed connection)."""
        import http.client

        plain = None if self._proxied else _plain(url)
        if plain is None:
            return None
        scheme, host, port, target = plain
        conn = self._plain.get((scheme, host, port))
        if conn is None:
            if scheme == "https":
                conn = http.client.HTTPSConnection(host, port, timeout=settings.timeout,
                                                   context=self._tls_context())
            else:
                conn = http.client.HTTPConnection(host, port, timeout=settings.timeout)
            self._plain[(scheme, host, port)] = conn
        conn.timeout = settings.timeout
        if conn.sock is not None:
            conn.sock.settimeout(settings.timeout)
        try:
            register(conn)  # the deadline shuts its socket down
            conn.request("GET", target, headers=headers)
            check()
            response = conn.getresponse()
        except (OSError, http.client.HTTPException):
            # e.g. a kept-alive connection the server closed meanwhile: the full path
            # asks again, with its retries and its error lines
            conn.close()
            return None
        if response.status == 304:
            response.read()  # no body; the connection stays open for the next poll
            return FetchResult(url=url, status=304)
        self._handed = ((scheme, host, port), response)  # an unread body: not asked again
        coding = (response.getheader("Content-Encoding") or "identity").strip().lower()
        if response.status == 200 and coding in ("identity", "gzip", "x-gzip"):
            return _plain_page(url, response, settings, allowed, started)
        from urllib3 import HTTPHeaderDict, HTTPResponse

        return HTTPResponse(
            body=response, headers=HTTPHeaderDict(response.msg.items()),
            status=response.status, version=response.version, reason=response.reason,
            preload_content=False, decode_content=True, original_response=response,
            enforce_content_length=True, request_method="GET", request_url=url)

    def _done_plain(self) -> None:
        """A plain connection whose answer was not read to its end cannot ask again."""
        if self._handed is not None:
            key, response = self._handed
            self._handed = None
            if not response.isclosed():
                self._plain.pop(key).close()

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            import ssl

            from feedgen_dw.trust import ca_locations

            cafile, capath = ca_locations()
            self._tls = ssl.create_default_context(cafile=cafile, capath=capath)
        return self._tls

    @staticmethod
    def _late(url: str, watch: Watch, settings: FetchSettings) -> FetchError:
        if watch.aborted:
            return FetchError(f"{url}: fetch abandoned (the daemon is stopping)", url=url)
        return FetchError(
            f"{url}: timed out after {watch.elapsed():.0f}s in total (timeout "
            f"{settings.timeout:g}s per read, {settings.deadline:g}s per fetch)", url=url)


def _plain_page(url: str, response: http.client.HTTPResponse, settings: FetchSettings,
                allowed: tuple[str, ...], started: float) -> FetchResult:
    """A 200 read by http.client itself, with pooled.py's checks, limits and error lines
    (gzip inflated at most max_bytes at a time: a small answer cannot blow up in memory)."""
    import http.client
    import zlib

    ctype = response.getheader("Content-Type", "text/html")
    cap, declared = settings.max_bytes, response.getheader("Content-Length") or ""
    check_answer(url, 200, ctype, declared, allowed, cap)
    gzipped = (response.getheader("Content-Encoding") or "identity").strip().lower() in (
        "gzip", "x-gzip")
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    chunks: list[bytes] = []
    size = received = 0
    try:
        while data := response.read(READ_BYTES):
            received += len(data)
            while data:
                if inflate is None:
                    piece, data = data, b""
                else:
                    piece = inflate.decompress(data, cap + 1 - size)
                    data = inflate.unconsumed_tail
                    if inflate.eof and inflate.unused_data:  # another gzip member follows
                        data, inflate = inflate.unused_data, zlib.decompressobj(
                            16 + zlib.MAX_WBITS)
                size += len(piece)
                if size > cap:
                    raise FetchError(f"{url}: response is over max_bytes ({cap}); not read "
                                     "further", url=url, status=200)
                chunks.append(piece)
    except TimeoutError:
        raise timed_out(url, settings.timeout, started) from None
    except (OSError, http.client.HTTPException):
        raise FetchError(f"{url}: connection broken mid-body", url=url) from None
    except zlib.error:
        raise FetchError(f"{url}: request failed (Received response with content-encoding: "
                         "gzip, but failed to decode it.)", url=url) from None
    if declared.isdigit() and received < int(declared):
        raise FetchError(f"{url}: connection broken mid-body", url=url)  # cut short
    return page_result(url, 200, b"".join(chunks), ctype, response.getheader("ETag"),
                       response.getheader("Last-Modified"))


def check_answer(url: str, status: int, ctype: str, declared: str, allowed: tuple[str, ...],
                 cap: int) -> None:
    """What both clients check before they read a body: its type, and a declared length
    within max_bytes (the length read is checked as it comes)."""
    if ctype.split(";")[0].strip().lower() not in allowed:
        what = "a JSON answer" if allowed == JSON_TYPES else "an HTML page"
        raise FetchError(f"{url}: not {what} (Content-Type: {ctype})", url=url, status=status)
    if declared.isdigit() and int(declared) > cap:
        raise FetchError(f"{url}: response of {declared} bytes is over max_bytes ({cap})",
                         url=url, status=status)


def page_result(url: str, status: int, body: bytes, ctype: str, etag: str | None,
                last_modified: str | None, permanent_url: str | None = None) -> FetchResult:
    """A body both clients read, as a FetchResult."""
    return FetchResult(url=url, status=status, body=body,
                       encoding=page_encoding(body, header_charset(ctype)),
                       validators=Validators(etag=etag, last_modified=last_modified),
                       permanent_url=permanent_url)
