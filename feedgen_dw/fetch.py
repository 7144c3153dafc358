"""Fetching pages politely: one requests.Session with timeouts, urllib3 retries with
backoff (honouring Retry-After), conditional GET, a streamed size cap and an HTML check.

Every fetch also has a total deadline (deadline.py), by default 3 x `timeout`: a server
that trickles, or one that accepts and never answers, cannot hold a poll longer.
No cookies are kept between fetches: a cookie lives only within one redirect chain (a
consent redirect that sets one and sends us back still works), so one answer setting
huge cookies cannot make every later request to its host fail with 431."""

from __future__ import annotations

import codecs
import http.cookiejar
import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property
from typing import Any, Self
from urllib.parse import urlsplit

import requests
from urllib3.util.retry import Retry

from feedgen_dw import DEFAULT_USER_AGENT
from feedgen_dw.deadline import DeadlinePassed, Watch, WatchedAdapter, current, watching
from feedgen_dw.errors import FetchError

log = logging.getLogger(__name__)

META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.I)
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/rdf+xml", "application/atom+xml",
              "application/xml", "text/xml")
JSON_TYPES = ("application/json",)  # an API answer (source.py), asked for with json=True
# A Retry-After longer than this is not waited out inside a poll: the poll fails and the
# daemon schedules the next one after it instead.
MAX_RETRY_AFTER = 60.0
# The total deadline of a fetch when none is given: connect, reads, redirects, retries.
TOTAL_PER_TIMEOUT = 3.0


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


class _Retry(Retry):
    """urllib3's Retry that will not sleep through a long Retry-After inside a poll."""

    def sleep_for_retry(self, response: Any) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after is not None and retry_after > MAX_RETRY_AFTER:
            raise _RetryAfterTooLong(retry_after)
        watch = current()
        if retry_after is not None and watch is not None and retry_after > watch.remaining():
            raise _RetryAfterTooLong(retry_after)  # not waited out past the deadline
        return bool(super().sleep_for_retry(response))

    def sleep(self, response: Any = None) -> None:
        watch = current()
        if watch is not None:
            watch.check()
            if self.get_backoff_time() >= watch.remaining():
                raise DeadlinePassed()  # sleeping would only end past the deadline
        super().sleep(response)

    def increment(self, *args: Any, **kwargs: Any) -> Self:
        # an error caused by the deadline closing the socket is not retried
        watch = current()
        if watch is not None:
            watch.check()
        return super().increment(*args, **kwargs)


class _RetryAfterTooLong(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def _encoding(body: bytes, header_charset: str | None) -> str:
    charset = header_charset
    if not charset:
        found = META_CHARSET_RE.search(body[:4096])
        charset = found.group(1).decode("ascii") if found else "utf-8"
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return "utf-8"  # an unknown charset name: UTF-8 is the likeliest


def _reason(exc: Exception) -> str:
    """The root cause of a connection error, short: urllib3 nests it two levels deep."""
    reason: object = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", reason)  # MaxRetryError -> the last underlying error
    text = str(reason)
    if "Failed to resolve" in text or "Name or service not known" in text:
        host = getattr(getattr(reason, "conn", None), "host", None)
        return f"cannot resolve host {host}" if host else "cannot resolve host"
    for known in ("Connection refused", "Connection reset", "timed out", "Network is unreachable"):
        if known in text:
            return known.lower()
    if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
        return "TLS handshake failed (is this an http:// server?)"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "TLS certificate not accepted (" + text.rsplit("certificate verify failed", 1)[
            -1].strip(" :()")[:80] + ")"
    return text.split(": ", 1)[-1][:160]


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


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


class Fetcher:
    """Fetches pages over one session (keep-alive, shared retry policy)."""

    def __init__(self, retries: int = 2, backoff: float = 0.5) -> None:
        retry = _Retry(
            total=retries,
            backoff_factor=backoff,
            backoff_max=30,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self.session = requests.Session()
        # no cookie jar across fetches (see the module docstring)
        self.session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        adapter = WatchedAdapter(max_retries=retry, pool_maxsize=16)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["Accept"] = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"
        # With trust_env, requests re-reads proxy variables (and ~/.netrc) on every request,
        # about 1 ms of CPU per poll: the environment is read once per host here instead.
        self.session.trust_env = False
        self.session.verify = (os.environ.get("REQUESTS_CA_BUNDLE")
                               or os.environ.get("CURL_CA_BUNDLE") or True)
        self._proxies: dict[tuple[str, str], dict[str, str]] = {}

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()

    def _proxies_for(self, url: str) -> dict[str, str]:
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            self._proxies[key] = requests.utils.get_environ_proxies(url)
        return self._proxies[key]

    def get(
        self, url: str, settings: FetchSettings | None = None,
        validators: Validators | None = None, feeds_too: bool = False, json: bool = False,
    ) -> FetchResult:
        """GET `url`, following redirects; FetchError names the URL and the status or cause.
        `json`: the answer must be JSON instead of HTML."""
        settings = settings or FetchSettings()
        headers = {"User-Agent": settings.user_agent}
        if json:
            headers["Accept"] = "application/json"
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        with watching(settings.deadline) as watch:
            try:
                result = self._get(url, headers, settings, JSON_TYPES if json else (
                    HTML_TYPES + FEED_TYPES if feeds_too else HTML_TYPES))
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
             allowed: tuple[str, ...]) -> FetchResult:
        timeout = settings.timeout
        started = time.monotonic()
        try:
            with self.session.get(
                url, headers=headers, timeout=(timeout, timeout), stream=True,
                proxies=self._proxies_for(url),
            ) as response:
                return self._result(url, response, settings, allowed)
        except _RetryAfterTooLong as exc:
            raise FetchError(f"{url}: HTTP 429/503 with Retry-After {exc.seconds:g}s",
                             url=url, retry_after=exc.seconds) from None
        except requests.exceptions.RetryError as exc:
            raise FetchError(f"{url}: gave up after retries ({_reason(exc)})", url=url) from None
        except requests.exceptions.Timeout:
            raise _timed_out(url, timeout, started) from None
        except requests.exceptions.TooManyRedirects:
            raise FetchError(f"{url}: too many redirects", url=url) from None
        except requests.exceptions.InvalidSchema as exc:
            raise FetchError(f"{url}: redirect to a non-HTTP URL ({exc})", url=url) from None
        except requests.exceptions.ConnectionError as exc:
            reason = _reason(exc)
            if reason == "timed out":  # a read timeout, after retries, arrives as this
                raise _timed_out(url, timeout, started) from None
            if reason.startswith("TLS"):
                raise FetchError(f"{url}: {reason}", url=url) from None
            raise FetchError(f"{url}: connection failed ({reason})", url=url) from None
        except requests.exceptions.ChunkedEncodingError:
            raise FetchError(f"{url}: connection broken mid-body", url=url) from None
        except requests.exceptions.RequestException as exc:
            raise FetchError(f"{url}: request failed ({exc})", url=url) from None
        except (UnicodeError, ValueError) as exc:
            # e.g. a Location header that is not UTF-8, or a malformed URL from a redirect
            raise FetchError(f"{url}: bad response ({exc})", url=url) from None

    def _result(
        self, url: str, response: requests.Response, settings: FetchSettings,
        allowed: tuple[str, ...] = HTML_TYPES,
    ) -> FetchResult:
        permanent = None
        if response.history and all(r.status_code in (301, 308) for r in response.history):
            permanent = response.url
        if response.status_code == 304:
            # reading the (empty) body lets the connection go back to the pool; closing
            # an unread streamed response would drop it
            _ = response.content
            return FetchResult(url=response.url, status=304, permanent_url=permanent)
        if response.status_code >= 400:
            raise FetchError(
                f"{url}: HTTP {response.status_code} {response.reason or ''}".rstrip(),
                url=url, status=response.status_code, retry_after=_retry_after(response),
            )
        ctype = response.headers.get("Content-Type", "text/html")
        if ctype.split(";")[0].strip().lower() not in allowed:
            what = "a JSON answer" if allowed == JSON_TYPES else "an HTML page"
            raise FetchError(f"{url}: not {what} (Content-Type: {ctype})",
                             url=url, status=response.status_code)
        body = self._read_capped(response, url, settings.max_bytes)
        charset = requests.utils.get_encoding_from_headers(response.headers)
        if charset and "charset" not in ctype.lower():
            charset = None  # requests' ISO-8859-1 default for text/* is a guess
        return FetchResult(
            url=response.url, status=response.status_code, body=body,
            encoding=_encoding(body, charset),
            validators=Validators(
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            ),
            permanent_url=permanent,
        )

    @staticmethod
    def _read_capped(response: requests.Response, url: str, cap: int) -> bytes:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise FetchError(f"{url}: response of {declared} bytes is over max_bytes ({cap})",
                             url=url, status=response.status_code)
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=64 * 1024):
            size += len(chunk)
            if size > cap:
                raise FetchError(f"{url}: response is over max_bytes ({cap}); not read further",
                                 url=url, status=response.status_code)
            chunks.append(chunk)
        return b"".join(chunks)
