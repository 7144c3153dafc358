"""Fetching pages: one requests.Session with timeouts, retries (urllib3) and a size cap."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from feedgen_dw import PROJECT_URL, __version__
from feedgen_dw.errors import FetchError

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"feedgen-dw/{__version__} (+{PROJECT_URL})"
META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]+)""", re.I)
HTML_TYPES = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class FetchSettings:
    """How politely and how patiently to fetch."""

    timeout: float = 20.0  # seconds, for connecting and for each read
    user_agent: str = DEFAULT_USER_AGENT
    retries: int = 2  # for connection errors, 429 and 5xx, with exponential backoff
    backoff: float = 0.5
    max_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class FetchResult:
    """A fetched page."""

    url: str  # after redirects
    status: int
    text: str


def _decode(body: bytes, header_charset: str | None) -> str:
    charset = header_charset
    if not charset:
        found = META_CHARSET_RE.search(body[:4096])
        charset = found.group(1).decode("ascii") if found else "utf-8"
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


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
    return text.split(": ", 1)[-1][:160]


class Fetcher:
    """Fetches pages over one session (keep-alive, shared retry policy)."""

    def __init__(self, settings: FetchSettings | None = None) -> None:
        self.settings = settings or FetchSettings()
        retry = Retry(
            total=self.settings.retries,
            backoff_factor=self.settings.backoff,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = self.settings.user_agent
        self.session.headers["Accept"] = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()

    def get(self, url: str) -> FetchResult:
        """GET `url`, following redirects; FetchError names the URL and the status or cause."""
        timeout = self.settings.timeout
        try:
            with self.session.get(url, timeout=(timeout, timeout), stream=True) as response:
                if response.status_code >= 400:
                    raise FetchError(
                        f"{url}: HTTP {response.status_code} {response.reason or ''}".rstrip(),
                        url=url, status=response.status_code,
                    )
                ctype = response.headers.get("Content-Type", "text/html")
                if ctype.split(";")[0].strip().lower() not in HTML_TYPES:
                    raise FetchError(
                        f"{url}: not an HTML page (Content-Type: {ctype})",
                        url=url, status=response.status_code,
                    )
                body = self._read_capped(response, url)
                charset = requests.utils.get_encoding_from_headers(response.headers)
                if charset and "charset" not in ctype.lower():
                    charset = None  # requests' ISO-8859-1 default for text/* is a guess
                return FetchResult(
                    url=response.url, status=response.status_code, text=_decode(body, charset)
                )
        except requests.exceptions.RetryError as exc:
            raise FetchError(f"{url}: gave up after retries ({exc})", url=url) from None
        except requests.exceptions.Timeout:
            raise FetchError(f"{url}: timed out after {timeout:g}s", url=url) from None
        except requests.exceptions.TooManyRedirects:
            raise FetchError(f"{url}: too many redirects", url=url) from None
        except requests.exceptions.InvalidSchema as exc:
            raise FetchError(f"{url}: redirect to a non-HTTP URL ({exc})", url=url) from None
        except requests.exceptions.ConnectionError as exc:
            raise FetchError(f"{url}: connection failed ({_reason(exc)})", url=url) from None
        except requests.exceptions.RequestException as exc:
            raise FetchError(f"{url}: request failed ({exc})", url=url) from None
        except (UnicodeError, ValueError) as exc:
            # e.g. a Location header that is not UTF-8, or a malformed URL from a redirect
            raise FetchError(f"{url}: bad response ({exc})", url=url) from None

    def _read_capped(self, response: requests.Response, url: str) -> bytes:
        cap = self.settings.max_bytes
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
