"""Where a poll reads a DW article: DW's JSON API, with the page as the fallback.

A DW article or live blog is read from `/graph-api/<lang>/content/article|liveblog/<id>`
(dw_api.py): the same content as the page, a tenth of its bytes and of its parsing. When
the API fails (no answer, an HTTP error, no JSON, no content, or fewer sections than the
page has) the page is fetched in the same poll, and the API is left alone for
API_RETRY: a failing API costs one request per API_RETRY, not one per poll. Both paths
give the same Article, so a feed switches between them without a change its readers see.

`source: page` in a feed's config never asks the API; `source: api` never the page (a
failure of the API fails the poll). Feeds on other hosts read pages as before, unless
their config says `site: dw` and a `source:` (a copy of DW's paths on another host: a
mirror, a test server), and so do profiles of selectors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from feedgen_dw.dwurl import ARTICLE_ID_RE, LANG_RE, LIVE_ID_RE
from feedgen_dw.dwurl import HOSTS as DW_HOSTS
from feedgen_dw.errors import ExtractError, FeedgenDwError, FetchError
from feedgen_dw.fetch import Fetcher, FetchResult, FetchSettings, Validators, same_site
from feedgen_dw.model import ArticleState, DiffResult, HttpState
from feedgen_dw.records import record, replace
from feedgen_dw.safetext import error_line

if TYPE_CHECKING:
    from feedgen_dw.config import FeedConfig

log = logging.getLogger(__name__)

# How long a failed API is not asked again. Long enough that a broken or withdrawn API
# costs next to nothing on a feed polled every minute; short enough that a passing
# outage (a deploy, a 503 for an hour) does not keep a feed on 250 KB pages for a day.
API_RETRY = timedelta(hours=6)
API_BASE = "https://www.dw.com/graph-api"

Decided = tuple[ArticleState | None, DiffResult, bool]
# (answer, the page URL when the answer is the API's, else None) -> the diff of it
Decide = Callable[[FetchResult, str | None], Decided]
# (conditional GET allowed) -> the page and the URL asked for it
GetPage = Callable[[bool], tuple[FetchResult, str]]


@record(frozen=True)
class Read:
    """One article as a poll read it."""

    answer: FetchResult  # the API's or the page's; 304 when unchanged
    asked: str  # the URL asked for it (the validators' URL)
    api: bool  # True when `answer` is the API's
    decided: Decided | None  # None for a 304
    api_off_until: datetime | None  # the API is not asked before then (None: it is)


def api_url(page_url: str, any_host: bool = False) -> str | None:
    """The API URL of a dw.com article or live blog page, or None for any other URL.
    `any_host`: a page with DW's paths on another host (a feed configured `site: dw`, a
    mirror, a local test server) has its API on its own scheme and host."""
    parts = urlsplit(page_url)
    host = (parts.hostname or "").lower()
    base = API_BASE
    if not any(host == h or host.endswith("." + h) for h in DW_HOSTS):
        if not any_host or parts.scheme not in ("http", "https") or not host:
            return None
        base = f"{parts.scheme}://{parts.netloc}/graph-api"
    lang = LANG_RE.match(parts.path)
    live, article = LIVE_ID_RE.search(parts.path), ARTICLE_ID_RE.search(parts.path)
    if not lang or not (live or article):
        return None
    kind, found = ("liveblog", live) if live else ("article", article)
    assert found is not None
    return f"{base}/{lang.group(1).lower()}/content/{kind}/{found.group(1)}"


def api_target(feed: FeedConfig, page_url: str) -> str | None:
    """The API URL a poll of `page_url` may ask, or None when the feed reads pages."""
    if feed.source == "page" or feed.profile is not None or feed.site not in ("dw", "auto"):
        return None
    # only dw.com's pages, unless the config says both `site: dw` and a `source:` (a
    # mirror, a local test server): where a feed points elsewhere nothing changes
    return api_url(page_url, any_host=feed.site == "dw" and feed.source is not None)


def _failed(feed: FeedConfig, url: str, exc: Exception, now: datetime) -> datetime:
    """Log the API's failure; until when it is not asked. Raises for `source: api`."""
    if feed.source == "api":
        raise exc
    why = str(exc) if isinstance(exc, FeedgenDwError) else f"unexpected {type(exc).__name__}: {exc}"
    until = now + API_RETRY
    log.warning("poll feed=%s url=%s status=api-failed error=%s; reading the page until %s",
                feed.name, error_line(url), error_line(why), until.isoformat())
    log.debug("poll feed=%s api failed", feed.name, exc_info=True)
    return until


def read_article(feed: FeedConfig, fetcher: Fetcher, http: HttpState, page_url: str,
                 now: datetime, settings: Callable[[], FetchSettings], conditional: bool,
                 get_page: GetPage, decide: Decide) -> Read:
    """Read the article at `page_url` through the API when it may be asked, else (or when
    it fails) through the page; `conditional`: validators may be sent."""
    off = http.api_off_until if http.api_off_until and now < http.api_off_until else None
    api = api_target(feed, page_url) if off is None or feed.source == "api" else None
    if api is None and feed.source == "api":
        raise ExtractError(f"{page_url}: source: api, but this is no DW article or live "
                           "blog URL with an API")
    if api is not None:
        # validators are valid only for the URL that gave them
        validators = Validators(http.etag, http.last_modified) if (
            conditional and http.validators_from == api) else None
        try:
            answer = fetcher.get(api, settings(), validators, json=True)
            decided = None if answer.not_modified else decide(answer, page_url)
        except Exception as exc:  # any failure of the API: the page
            off = _failed(feed, api, exc, now)
        else:
            if decided is None or not decided[1].removed or feed.source == "api":
                return Read(answer, api, True, decided, None)
            return _removed(feed, api, Read(answer, api, True, decided, None), now,
                            get_page, decide)
    page, asked = get_page(conditional)
    return Read(page, asked, False, None if page.not_modified else decide(page, None), off)


def read_unconditional(feed: FeedConfig, fetcher: Fetcher, http: HttpState, url: str,
                       now: datetime, settings: Callable[[], FetchSettings], decide: Decide,
                       ) -> tuple[Decided, HttpState]:
    """read_article() without validators (a followed feed's articles keep none): its
    diff, and the feed's HTTP state after it."""
    read = read_article(feed, fetcher, http, url, now, settings, False,
                        lambda _: (fetcher.get(url, settings()), url), decide)
    assert read.decided is not None  # no validators were sent: no 304
    return read.decided, replace(http, api_off_until=read.api_off_until)


def _removed(feed: FeedConfig, api: str, read: Read, now: datetime, get_page: GetPage,
             decide: Decide) -> Read:
    """The API's answer lacks sections the feed has: when the page still has them, the
    API is lacking (a cut-off list of posts, say) and the page is read instead."""
    assert read.decided is not None
    try:
        page, asked = get_page(False)
        on_page = decide(page, None)
    except Exception:  # the page cannot say otherwise: the API's stands
        log.debug("poll feed=%s page check failed", feed.name, exc_info=True)
        return read
    if len(on_page[1].removed) >= len(read.decided[1].removed):
        return read  # the page lacks them too: they were removed
    lacking = ExtractError(f"{api}: the answer lacks {len(read.decided[1].removed)} "
                           f"section(s) that the page has")
    return Read(page, asked, False, on_page, _failed(feed, api, lacking, now))


def fetch_page(feed: FeedConfig, fetcher: Fetcher, http: HttpState, known: bool,
               settings: Callable[[], FetchSettings]) -> tuple[FetchResult, str]:
    """The page, and the URL that was asked for it."""
    # a target pinned off-site by an older version is not followed any more
    target = http.fetch_url if http.fetch_url and same_site(http.fetch_url, feed.url) else None
    url = target or feed.url
    # validators only help when there is a state to fall back on, and are not the page's
    # when they came from the API
    validators = Validators(http.etag, http.last_modified) if (
        known and http.validators_from is None) else None
    try:
        return fetcher.get(url, settings(), validators), url
    except FetchError as exc:
        if url == feed.url or exc.status not in (404, 410):
            raise
        # the remembered redirect target is gone: ask the configured URL again
        return fetcher.get(feed.url, settings(), validators), feed.url


def pinned(feed: FeedConfig, http: HttpState, asked: str, page: FetchResult) -> str | None:
    """Where the next poll asks: a permanent redirect is remembered (also across later
    200s) but only within the configured URL's site, so one answer cannot move the feed
    to another host for good."""
    if page.permanent_url and same_site(page.permanent_url, feed.url):
        return page.permanent_url
    if asked != feed.url:
        return asked  # the remembered target answered (or redirected off-site): keep it
    return None
