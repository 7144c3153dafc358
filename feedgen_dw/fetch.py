"""Fetching pages politely: urllib3 with timeouts, retries with backoff (honouring
Retry-After), redirects followed here, conditional GET, a streamed size cap and an HTML
check.

urllib3 directly, not requests on top of it: requests' import alone was most of a cron
`run` of unchanged feeds (about 60 ms of CPU of its 240 here), and its session costs
about half of a 304 poll in the daemon. What requests did for us is done below: redirects
(at most MAX_REDIRECTS, the URL quoted as requests quotes it, credentials of the URL sent
only to its own host), cookies within one redirect chain, proxies from the environment,
decoding gzip/deflate, and the CA bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, certifi).

Every fetch also has a total deadline (deadline.py), by default 3 x `timeout`: a server
that trickles, or one that accepts and never answers, cannot hold a poll longer.
No cookies are kept between fetches: a cookie lives only within one redirect chain (a
consent redirect that sets one and sends us back still works), so one answer setting
huge cookies cannot make every later request to its host fail with 431."""

from __future__ import annotations

import codecs
import logging
import os
import re
import time
from base64 import b64encode
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import unquote, urlsplit

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    ResponseError,
    SSLError,
)
from urllib3.util import Timeout, make_headers, parse_url

from feedgen_dw import DEFAULT_USER_AGENT
from feedgen_dw.deadline import POOL_CLASSES, DeadlinePassed, Watch, watching
from feedgen_dw.errors import FetchError
from feedgen_dw.redirects import (
    NotHttp,
    keep_cookies,
    prepared,
    redirect_target,
    same_origin,
)
from feedgen_dw.retries import BoundedRetry, RetryAfterTooLong, failure_reason, retry_after

log = logging.getLogger(__name__)

META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.I)
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/rdf+xml", "application/atom+xml",
              "application/xml", "text/xml")
# The total deadline of a fetch when none is given: connect, reads, redirects, retries.
TOTAL_PER_TIMEOUT = 3.0
MAX_REDIRECTS = 30  # as requests
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# A redirect's or a 304's body is read this far to keep the connection, else dropped.
DRAIN_BYTES = 64 * 1024


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Validators:
    """What the last 200 said, for a conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
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


def _encoding(body: bytes, header_charset: str | None) -> str:
    charset = header_charset
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


def _timed_out(url: str, timeout: float, started: float) -> FetchError:
    waited = time.monotonic() - started
    return FetchError(f"{url}: timed out after {timeout:g}s without an answer "
                      f"({waited:.0f}s in total, with retries)", url=url)


def _header_charset(ctype: str) -> str | None:
    for param in ctype.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip(" \t'\"") or None
    return None


class _TooManyRedirects(Exception):
    pass


class Fetcher:
    """Fetches pages over one pool of keep-alive connections (and one per proxy)."""

    def __init__(self, retries: int = 2, backoff: float = 0.5) -> None:
        self.retry = BoundedRetry(
            total=retries,
            backoff_factor=backoff,
            backoff_max=30,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,
            redirect=False,  # followed in _get, one hop at a time
        )
        self.headers = {
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
            "Accept-Encoding": make_headers(accept_encoding=True)["accept-encoding"],
            "Connection": "keep-alive",
        }
        ca = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if not ca:
            import certifi  # requests' default bundle, kept for the same trust

            ca = certifi.where()
        self._tls: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED",
                                     ("ca_cert_dir" if os.path.isdir(ca) else "ca_certs"): ca}
        self.pool = self._manager(None)
        self._proxy_pools: dict[str, urllib3.PoolManager] = {}
        self._proxies: dict[tuple[str, str], str | None] = {}

    def _manager(self, proxy: str | None) -> urllib3.PoolManager:
        manager: urllib3.PoolManager
        if proxy is None:
            manager = urllib3.PoolManager(num_pools=10, maxsize=16, **self._tls)
        elif proxy.lower().startswith("socks"):
            from urllib3.contrib.socks import SOCKSProxyManager  # needs PySocks

            manager = SOCKSProxyManager(proxy, num_pools=10, maxsize=16, **self._tls)
        else:
            auth = parse_url(proxy).auth
            headers = make_headers(proxy_basic_auth=unquote(auth)) if auth else None
            manager = urllib3.ProxyManager(proxy, num_pools=10, maxsize=16,
                                           proxy_headers=headers, **self._tls)
        # connections register with the deadline of their fetch (deadline.py)
        manager.pool_classes_by_scheme = POOL_CLASSES
        return manager

    def close(self) -> None:
        """Close every connection."""
        self.pool.clear()
        for manager in self._proxy_pools.values():
            manager.clear()

    def _pool_for(self, url: str) -> urllib3.PoolManager:
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            # The environment is read once per host (requests re-read it on every request).
            # Nearly nobody sets a proxy: requests' own rules are imported only then.
            proxy = None
            if any(name.lower().endswith("_proxy") for name in os.environ):
                from requests.utils import get_environ_proxies, select_proxy

                proxy = select_proxy(url, get_environ_proxies(url))
            self._proxies[key] = proxy
        proxy = self._proxies[key]
        if proxy is None:
            return self.pool
        if proxy not in self._proxy_pools:
            self._proxy_pools[proxy] = self._manager(proxy)
        return self._proxy_pools[proxy]

    def get(
        self, url: str, settings: FetchSettings | None = None,
        validators: Validators | None = None, feeds_too: bool = False,
    ) -> FetchResult:
        """GET `url`, following redirects; FetchError names the URL and the status or cause."""
        settings = settings or FetchSettings()
        headers = {**self.headers, "User-Agent": settings.user_agent}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        with watching(settings.deadline) as watch:
            try:
                result = self._get(url, headers, settings, feeds_too)
            except Exception as exc:
                if watch.expired:
                    # whatever the closed socket looked like, the deadline is the cause
                    raise self._late(url, watch, settings) from None
                if isinstance(exc, DeadlinePassed):  # a sleep that would end too late
                    raise self._late(url, watch, settings) from None
                raise
            if watch.expired:  # e.g. a body without a length, ended early by the deadline
                raise self._late(url, watch, settings)
        if result.status == 304 and not validators:
            # a 304 to a request that asked for no validators has no page and no meaning
            raise FetchError(f"{url}: HTTP 304 to an unconditional request", url=url,
                             status=304)
        return result

    @staticmethod
    def _late(url: str, watch: Watch, settings: FetchSettings) -> FetchError:
        if watch.aborted:
            return FetchError(f"{url}: fetch abandoned (the daemon is stopping)", url=url)
        return FetchError(
            f"{url}: timed out after {watch.elapsed():.0f}s in total (timeout "
            f"{settings.timeout:g}s per read, {settings.deadline:g}s per fetch)", url=url)

    def _get(self, url: str, headers: dict[str, str], settings: FetchSettings,
             feeds_too: bool) -> FetchResult:
        timeout = settings.timeout
        started = time.monotonic()
        try:
            return self._follow(url, headers, settings, feeds_too)
        except RetryAfterTooLong as exc:
            raise FetchError(f"{url}: HTTP 429/503 with Retry-After {exc.seconds:g}s",
                             url=url, retry_after=exc.seconds) from None
        except _TooManyRedirects:
            raise FetchError(f"{url}: too many redirects", url=url) from None
        except NotHttp as exc:
            raise FetchError(f"{url}: redirect to a non-HTTP URL ({exc})", url=url) from None
        except MaxRetryError as exc:
            cause = exc.reason
            if isinstance(cause, ResponseError):
                raise FetchError(f"{url}: gave up after retries ({failure_reason(exc)})",
                                 url=url) from None
            if isinstance(cause, ConnectTimeoutError) and not isinstance(
                    cause, NewConnectionError):
                raise _timed_out(url, timeout, started) from None
            raise self._connection_failed(url, exc, timeout, started) from None
        except ReadTimeoutError:
            raise _timed_out(url, timeout, started) from None
        except SSLError as exc:
            raise self._connection_failed(url, exc, timeout, started) from None
        except ProtocolError as exc:
            if getattr(exc, "mid_body", False):
                raise FetchError(f"{url}: connection broken mid-body", url=url) from None
            raise self._connection_failed(url, exc, timeout, started) from None
        except DecodeError as exc:
            raise FetchError(f"{url}: request failed ({exc})", url=url) from None
        except (UnicodeError, ValueError) as exc:
            # e.g. a Location header that is not UTF-8, or a malformed URL from a redirect
            raise FetchError(f"{url}: bad response ({exc})", url=url) from None
        except (HTTPError, OSError) as exc:
            raise self._connection_failed(url, exc, timeout, started) from None

    @staticmethod
    def _connection_failed(url: str, exc: BaseException, timeout: float,
                           started: float) -> FetchError:
        reason = failure_reason(exc)
        if reason == "timed out":  # a read timeout, after retries, arrives as this
            return _timed_out(url, timeout, started)
        if reason.startswith("TLS"):
            return FetchError(f"{url}: {reason}", url=url)
        return FetchError(f"{url}: connection failed ({reason})", url=url)

    def _follow(self, url: str, headers: dict[str, str], settings: FetchSettings,
                feeds_too: bool) -> FetchResult:
        """Ask `url` and follow its redirects; the answer at the end of the chain."""
        first = current_url = prepared(url)
        auth = parse_url(first).auth
        if auth:
            headers["Authorization"] = "Basic " + b64encode(unquote(auth).encode()).decode()
        cookies: dict[str, dict[str, str]] = {}  # host -> name -> value, this chain only
        permanent = True
        timeout = Timeout(connect=settings.timeout, read=settings.timeout)
        for hop in range(MAX_REDIRECTS + 1):
            host = urlsplit(current_url).hostname or ""
            sent = dict(headers)
            if not same_origin(first, current_url):
                sent.pop("Authorization", None)
            if cookies.get(host):
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies[host].items())
            response = self._pool_for(current_url).urlopen(
                "GET", current_url, headers=sent, retries=self.retry, redirect=False,
                preload_content=False, decode_content=True, timeout=timeout)
            try:
                location = response.headers.get("Location")
                if response.status not in REDIRECT_STATUSES or not location:
                    return self._result(url, current_url, response, settings, feeds_too,
                                        permanent and hop > 0)
                if hop == MAX_REDIRECTS:
                    raise _TooManyRedirects()
                keep_cookies(cookies, host, response.headers.getlist("Set-Cookie"))
                permanent = permanent and response.status in (301, 308)
                current_url = prepared(redirect_target(location, current_url))
            finally:
                _release(response)
        raise _TooManyRedirects()  # not reached

    def _result(self, url: str, final: str, response: Any, settings: FetchSettings,
                feeds_too: bool, permanent: bool) -> FetchResult:
        moved = final if permanent else None
        status = response.status
        if status == 304:
            return FetchResult(url=final, status=304, permanent_url=moved)
        if status >= 400:
            raise FetchError(f"{url}: HTTP {status} {response.reason or ''}".rstrip(),
                             url=url, status=status, retry_after=retry_after(response))
        ctype = response.headers.get("Content-Type", "text/html")
        allowed = HTML_TYPES + FEED_TYPES if feeds_too else HTML_TYPES
        if ctype.split(";")[0].strip().lower() not in allowed:
            raise FetchError(f"{url}: not an HTML page (Content-Type: {ctype})",
                             url=url, status=status)
        body = _read_capped(response, url, settings.max_bytes)
        return FetchResult(
            url=final, status=status, body=body,
            encoding=_encoding(body, _header_charset(ctype)),
            validators=Validators(etag=response.headers.get("ETag"),
                                  last_modified=response.headers.get("Last-Modified")),
            permanent_url=moved,
        )


def _release(response: Any) -> None:
    """Give the connection back to the pool when the rest of the body is short (a
    redirect's, a 304's, an error page's); else close it rather than read a large one."""
    try:
        if not response.isclosed():
            left = DRAIN_BYTES
            for chunk in response.stream(DRAIN_BYTES, decode_content=False):
                left -= len(chunk)
                if left < 0:
                    response.close()
                    return
        response.release_conn()
    except (HTTPError, OSError):
        response.close()


def _read_capped(response: Any, url: str, cap: int) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise FetchError(f"{url}: response of {declared} bytes is over max_bytes ({cap})",
                         url=url, status=response.status)
    chunks, size = [], 0
    try:
        for chunk in response.stream(64 * 1024, decode_content=True):
            size += len(chunk)
            if size > cap:
                raise FetchError(f"{url}: response is over max_bytes ({cap}); not read further",
                                 url=url, status=response.status)
            chunks.append(chunk)
    except ProtocolError as exc:
        exc.mid_body = True  # type: ignore[attr-defined]
        raise
    return b"".join(chunks)
