"""The whole fetch, over urllib3's pools: retries with backoff, redirects followed one hop
at a time (redirects.py), proxies, TLS, decoding, the size cap, and every failure turned
into a FetchError naming the URL and the cause. fetch.Fetcher uses it for what its plain
client does not finish itself (see fetch.py): a 304 or a plain 200 never imports urllib3."""

from __future__ import annotations

import os
import time
from base64 import b64encode
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

from feedgen_dw.deadline import pool_classes
from feedgen_dw.errors import FetchError
from feedgen_dw.fetch import (
    FetchResult,
    FetchSettings,
    check_answer,
    page_result,
    timed_out,
)
from feedgen_dw.redirects import NotHttp, keep_cookies, prepared, redirect_target, same_origin
from feedgen_dw.retries import BoundedRetry, RetryAfterTooLong, failure_reason, retry_after
from feedgen_dw.trust import ca_locations

MAX_REDIRECTS = 30  # as requests
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# A redirect's or a 304's body is read this far to keep the connection, else dropped.
DRAIN_BYTES = 64 * 1024


class _TooManyRedirects(Exception):
    pass



class PooledFetcher:
    """Fetches over one pool of keep-alive connections (and one per proxy)."""

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
        cafile, capath = ca_locations()
        self._tls: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED", "ca_certs": cafile,
                                     "ca_cert_dir": capath}
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
        manager.pool_classes_by_scheme = pool_classes()
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

    def get(self, url: str, headers: dict[str, str], settings: FetchSettings,
            allowed: tuple[str, ...], first: Any = None) -> FetchResult:
        """The page at the end of `url`'s redirects; `first` is an answer to `url` that
        another client already has (fetch.py's conditional GET), taken as the first hop."""
        timeout = settings.timeout
        started = time.monotonic()
        try:
            return self._follow(url, headers, settings, allowed, first)
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
                raise timed_out(url, timeout, started) from None
            raise self._connection_failed(url, exc, timeout, started) from None
        except ReadTimeoutError:
            raise timed_out(url, timeout, started) from None
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
            return timed_out(url, timeout, started)
        if reason.startswith("TLS"):
            return FetchError(f"{url}: {reason}", url=url)
        return FetchError(f"{url}: connection failed ({reason})", url=url)

    def _follow(self, url: str, headers: dict[str, str], settings: FetchSettings,
                allowed: tuple[str, ...], given: Any) -> FetchResult:
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
            response, given = (given, None) if given is not None else (None, None)
            retries = self.retry
            if response is not None and retries.is_retry(
                    "GET", response.status, "Retry-After" in response.headers):
                # a 429/5xx to the other client's request: counted and waited for as
                # urllib3 does (Retry-After, else backoff), then asked again here
                try:
                    retries = retries.increment("GET", current_url, response=response)
                except MaxRetryError:
                    pass  # no retries at all: this answer is the last
                else:
                    _release(response)
                    retries.sleep(response)
                    response = None
            if response is None:
                response = self._pool_for(current_url).urlopen(
                    "GET", current_url, headers=sent, retries=retries, redirect=False,
                    preload_content=False, decode_content=True, timeout=timeout)
            try:
                location = response.headers.get("Location")
                if response.status not in REDIRECT_STATUSES or not location:
                    return self._result(url, current_url, response, settings, allowed,
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
                allowed: tuple[str, ...], permanent: bool) -> FetchResult:
        moved = final if permanent else None
        status = response.status
        if status == 304:
            return FetchResult(url=final, status=304, permanent_url=moved)
        if status >= 400:
            raise FetchError(f"{url}: HTTP {status} {response.reason or ''}".rstrip(),
                             url=url, status=status, retry_after=retry_after(response))
        ctype = response.headers.get("Content-Type", "text/html")
        check_answer(url, status, ctype, response.headers.get("Content-Length") or "", allowed,
                     settings.max_bytes)
        body = _read_capped(response, url, settings.max_bytes)
        return page_result(final, status, body, ctype, response.headers.get("ETag"),
                           response.headers.get("Last-Modified"), moved)


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
    chunks, size = [], 0
    try:
        # large reads: each one costs urllib3 and http.client a few calls of Python
        for chunk in response.stream(256 * 1024, decode_content=True):
            size += len(chunk)
            if size > cap:
                raise FetchError(f"{url}: response is over max_bytes ({cap}); not read further",
                                 url=url, status=response.status)
            chunks.append(chunk)
    except ProtocolError as exc:
        exc.mid_body = True  # type: ignore[attr-defined]
        raise
    return b"".join(chunks)
