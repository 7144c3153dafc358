"""One whole poll of one feed: fetch -> extract -> diff -> store -> render -> write.

`run`, the daemon and the tests all call poll_feed(); nothing else does a poll.
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from feedgen_dw.errors import ExtractError, FeedgenDwError, FetchError, OutputError
from feedgen_dw.fetch import Fetcher, FetchResult, FetchSettings, same_site
from feedgen_dw.model import (
    Article,
    ArticleState,
    DiffResult,
    FeedMeta,
    FeedStatus,
    HttpState,
    PollResult,
    Section,
)
from feedgen_dw.output import FORMATS, STYLESHEET, view_file, write_if_changed
from feedgen_dw.records import record, replace
from feedgen_dw.safetext import error_line, xml_safe, xml_safe_opt

if TYPE_CHECKING:
    from feedgen_dw.config import FeedConfig
    from feedgen_dw.source import Decide, Decided
    from feedgen_dw.store import Store

# Extraction (parsel, lxml), diffing and rendering (feedgen) are imported by the polls
# that need them, not by a 304: a cron `run` of unchanged feeds is mostly start-up.

log = logging.getLogger(__name__)

STYLESHEET_BYTES = (Path(__file__).parent / "static" / STYLESHEET).read_bytes()

Clock = Callable[[], datetime]

# A whole poll (a followed feed fetches its index and several articles) may take this many
# times the feed's `timeout`; each fetch at most 3 x `timeout` (fetch.TOTAL_PER_TIMEOUT).
# With the default 20 s: 60 s per fetch, 2 min per poll, so a cron run's lock and a
# daemon's worker are never held by one stuck upstream for longer.
POLL_PER_TIMEOUT = 6.0
# A section's markup over this size is stored and rendered as its text's start and a note:
# a hostile page must not put megabytes into every feed file (three formats, each poll).
MAX_SECTION_HTML = 2 * 1024 * 1024  # a megabyte of text still goes through whole
SHORTENED_TEXT_CHARS = 2000


def utc_now() -> datetime:
    """The current time, UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def fixed_clock(when: datetime) -> Clock:
    """A clock that always says `when` (replays, tests)."""
    return lambda: when


@record(frozen=True)
class Output:
    """Where feed files go, where they are served from, and which hub hears of changes."""

    directory: Path
    base_url: str
    hub: str | None = None


def feed_paths(output: Output, name: str) -> dict[str, Path]:
    """The files of feed `name`, by format."""
    return {fmt: output.directory / f"{name}.{fmt}" for fmt in FORMATS}


def _meta(feed: FeedConfig, store: Store, output: Output) -> FeedMeta | None:
    latest = store.latest_article(feed.name)
    if latest is None:
        return None
    return FeedMeta(
        name=feed.name,
        title=feed.title or latest.feed_title or latest.title,
        link=latest.url,
        self_base=output.base_url,
        language=latest.language,
        hub=output.hub,
        # the outlet: the config's, else the host (the page's publisher is not kept yet)
        author=feed.settings.author or latest.host,
    )


def write_feed_files(feed: FeedConfig, store: Store, output: Output) -> list[str]:
    """Render the stored items of `feed`, write the files whose bytes changed and tell
    the store that the files show its state."""
    from feedgen_dw.render import feed_url, render_feed
    from feedgen_dw.view import render_view

    meta = _meta(feed, store, output)
    if meta is None:
        store.mark_rendered(feed.name)
        return []
    items = store.items(feed.name, feed.max_items)
    documents, fresh = render_feed(meta, items)
    # the page a browser is shown for the feed's URLs; not a feed: no hub ping for it
    view = output.directory / view_file(feed.name)
    files = {**{path: documents[fmt] for fmt, path in feed_paths(output, feed.name).items()},
             view: render_view(meta, items)}
    if store.keeps_documents:
        # PostgreSQL keeps the documents, for every node to serve, in the poll's
        # transaction, and says which changed: only the node that changed one pings the
        # hub. The files follow the commit: a poll rolled back (its lease lost) leaves
        # them as they were.
        kept = store.mark_rendered(feed.name, fresh,
                                   {path.name: body for path, body in files.items()})
        store.after_commit(lambda: _write_committed(feed.name, store, files))
        written = [name for name in sorted(kept or ()) if name != view.name]
    else:  # the files first: render_pending is cleared only once they show the state
        written = [str(path) for path, body in files.items()
                   if write_if_changed(path, body) and path != view]
        store.mark_rendered(feed.name, fresh)
    if written and output.hub:
        from feedgen_dw.push import ping_hub  # requests: only where a hub hears of changes

        hub, urls = output.hub, [feed_url(meta, fmt) for fmt in FORMATS]
        # on PostgreSQL the poll commits later: the hub hears of it once it has
        store.after_commit(lambda: ping_hub(hub, urls, timeout=feed.settings.timeout))
    return written


def _write_committed(name: str, store: Store, files: dict[Path, bytes]) -> None:
    """The files of a committed poll (PostgreSQL). A failure is one line, and the next
    poll renders the feed again: the documents in the database are served meanwhile."""
    try:
        for path, body in files.items():
            write_if_changed(path, body)
    except FeedgenDwError as exc:
        log.error("poll feed=%s status=files-failed error=%s (written by the next poll)",
                  name, error_line(str(exc)))
        try:
            store.render_again(name)
        except FeedgenDwError as again:
            log.error("poll feed=%s status=unrecorded error=%s", name, error_line(str(again)))


def write_site(feeds: Sequence[FeedConfig], store: Store, output: Output) -> None:
    """Write index.html and feeds.opml for all feeds."""
    from feedgen_dw.pages import FeedSummary, render_index, render_opml

    overview, statuses = store.overview(), store.statuses()
    polled_by, nodes = store.nodes()  # several nodes on PostgreSQL
    newest = store.newest([feed.name for feed in feeds], 3)
    summaries = []
    for feed in feeds:
        feed_title, link, count = overview.get(feed.name, (None, None, 0))
        summaries.append(FeedSummary(
            name=feed.name,
            title=feed.title or feed_title or feed.name,
            link=link,
            status=statuses.get(feed.name, FeedStatus(name=feed.name)),
            items=min(count, feed.max_items),
            newest=tuple(newest.get(feed.name, ())),
            polled_by=polled_by.get(feed.name),
        ))
    try:
        index = render_index(summaries, output.base_url, nodes)
        opml = render_opml(summaries, output.base_url)
    except Exception as exc:  # the stored text is made safe; a bug must still not kill us
        log.debug("site status=failed", exc_info=True)
        raise OutputError(f"index.html: cannot render ({type(exc).__name__}: "
                          f"{error_line(str(exc))})") from None
    write_if_changed(output.directory / "index.html", index)
    write_if_changed(output.directory / STYLESHEET, STYLESHEET_BYTES)
    write_if_changed(output.directory / "feeds.opml", opml)
    store.put_documents({"index.html": index, STYLESHEET: STYLESHEET_BYTES,
                         "feeds.opml": opml})  # for every node to serve (PostgreSQL)


def _fetch_settings(feed: FeedConfig, until: float) -> FetchSettings:
    """Settings of one fetch that ends by the poll's deadline `until` (monotonic)."""
    timeout = feed.settings.timeout
    left = until - time.monotonic()
    if left <= 0:
        raise FetchError(f"{feed.url}: the poll's deadline "
                         f"({POLL_PER_TIMEOUT * timeout:g}s) has passed", url=feed.url)
    defaults = FetchSettings(timeout=timeout)
    return FetchSettings(timeout=timeout, user_agent=feed.settings.user_agent,
                         max_bytes=feed.settings.max_bytes, total=min(defaults.deadline, left))


def _shortened(section: Section) -> Section:
    """A section whose markup is over MAX_SECTION_HTML: its text's start, escaped, and a
    note. Deterministic, so a poll of the same page stores and renders the same bytes."""
    if len(section.html) <= MAX_SECTION_HTML:
        return section
    start = html.escape(section.text[:SHORTENED_TEXT_CHARS])
    note = f"(section of {len(section.html):,} characters, shortened by feedgen-dw)"
    return replace(section, html=f"<p>{start} …</p><p><em>{note}</em></p>")


def _safe_article(article: Article) -> Article:
    """The page's metadata as it is stored and shown: XML-safe (sections are sanitized by
    extraction already), and no section larger than MAX_SECTION_HTML."""
    return replace(article, title=xml_safe(article.title), url=xml_safe(article.url),
                   feed_title=xml_safe(article.feed_title),
                   language=xml_safe_opt(article.language),
                   sections=tuple(_shortened(s) for s in article.sections))


def _diff(feed: FeedConfig, store: Store, page: FetchResult, now: datetime,
          guess: ArticleState | None = None, api_of: str | None = None,
          ) -> tuple[ArticleState | None, DiffResult, bool]:
    """Extract and decide one fetched article: (stored state, diff, state changed).
    `guess` is the stored state the page probably updates: its sections are not
    sanitized again. `api_of`: `page` is DW's API answer for the page at that URL."""
    from feedgen_dw.diff import diff_article

    known = {s.raw_digest: (s.html, s.seen_text) for s in guess.sections
             if s.raw_digest} if guess else None
    if api_of is not None:
        from feedgen_dw.extract.dw_api import extract_api

        extracted = extract_api(page.body, api_of, known)
    else:
        from feedgen_dw.extract import extract_page

        extracted = extract_page(page.body, page.url, feed.site, feed.profile, page.encoding,
                                 known)
    article = _safe_article(extracted)
    if guess is not None and guess.article_id == article.article_id:
        prev: ArticleState | None = guess
    else:
        prev = store.load_article(feed.name, article.article_id)
    try:
        diff = diff_article(prev, article, now, feed.on_edit, feed.on_remove)
    except ExtractError as exc:
        raise ExtractError(f"{page.url}: {exc}") from None
    return prev, diff, diff.state != prev or prev is None


def _decider(feed: FeedConfig, store: Store, now: datetime,
             guess: ArticleState | None = None, latest: bool = False) -> Decide:
    """_diff() of an answer (the page's, or the API's for the page at `api_of`), with the
    stored state it probably updates: `guess`, or with `latest` the feed's latest."""
    once: list[ArticleState | None] = []

    def decide(answer: FetchResult, api_of: str | None) -> Decided:
        once[:] = once or [store.latest_article(feed.name, sections=True) if latest else guess]
        return _diff(feed, store, answer, now, once[0], api_of)
    return decide


def _poll_one(feed: FeedConfig, store: Store, fetcher: Fetcher, status: FeedStatus,
              now: datetime, result: PollResult, until: float) -> bool:
    """A feed of one article; True when its state changed."""
    from feedgen_dw.source import fetch_page, pinned, read_article

    # state of an earlier url in the config does not apply to this one
    http = status.http if status.http.config_url == feed.url else HttpState()
    known = store.has_articles(feed.name)
    settings = partial(_fetch_settings, feed, until)
    read = read_article(
        feed, fetcher, http, feed.url, now, settings, known,
        lambda cond: fetch_page(feed, fetcher, http, known and cond, settings),
        # a feed of one article: the stored article is almost always this page's
        _decider(feed, store, now, latest=True))
    page, result.url = read.answer, read.answer.url
    if read.decided is None:
        result.not_modified = True
        off = replace(http, api_off_until=read.api_off_until)
        store.save_poll(feed.name, [], now, http=off if off != http else None)
        return False
    prev, diff, changed = read.decided
    api = read.asked if read.api else None
    new_http = HttpState(
        config_url=feed.url, etag=page.validators.etag, api_off_until=read.api_off_until,
        last_modified=page.validators.last_modified, validators_from=api,
        # the page's pinned redirect target stays while the API is read
        fetch_url=http.fetch_url if api else pinned(feed, http, read.asked, page))
    store.save_poll(feed.name, [diff.state] if changed else [], now, http=new_http,
                    changed=diff.feed_changed or bool(diff.new), previous=[prev] if prev else [])
    result.new, result.changed, result.removed = len(diff.new), len(diff.changed), len(
        diff.removed)
    return changed


def _article_urls(feed: FeedConfig, store: Store, index_url: str, listed: dict[str, str],
                  newest: str, now: datetime) -> tuple[dict[str, str], dict[str, str]]:
    """content id -> URL to fetch (the newest listed article first), and content id ->
    stored article id. A stored article is fetched where the index lists it, else where it
    was fetched last time; never at a URL a page declared (its canonical) on another site."""
    from feedgen_dw.follow import content_id

    since = now - timedelta(seconds=feed.settings.stop_after)
    urls = {content_id(newest): newest}
    stored_ids = {}
    for article_id, url, fetched in store.recent_articles(feed.name, since):
        key = content_id(url)
        target = listed.get(key) or fetched or (url if same_site(url, index_url) else None)
        if target is None:
            log.warning("poll feed=%s url=%s status=skipped error=not listed and on another "
                        "site than the index; not fetched", feed.name, error_line(url))
            continue
        urls.setdefault(key, target)
        stored_ids[key] = article_id
    return urls, stored_ids


def _poll_followed(feed: FeedConfig, store: Store, fetcher: Fetcher, now: datetime,
                   result: PollResult, until: float, http: HttpState) -> bool:
    """A followed index: the newest matching article, and every earlier one that changed
    within stop_after, into one feed; True when any state changed."""
    from feedgen_dw.follow import content_id, index_links
    from feedgen_dw.source import read_unconditional

    settings = partial(_fetch_settings, feed, until)

    index = fetcher.get(feed.url, settings(), feeds_too=True)
    links = index_links(index.text, index.url, feed.match)
    newest = links[0].url
    listed = {content_id(link.url): link.url for link in links}
    # the index's article is usually among the recent ones too: fetch it once
    urls, stored_ids = _article_urls(feed, store, feed.url, listed, newest, now)
    states, previous, changed_any, polled = [], [], False, set()
    was = http
    for key, url in urls.items():
        # a stored article's sections are known: they need not be sanitized again
        guess = store.load_article(feed.name, stored_ids[key]) if key in stored_ids else None
        try:
            (prev, diff, changed), http = read_unconditional(
                feed, fetcher, http, url, now, settings,
                _decider(feed, store, now, guess))
        except Exception as exc:
            if url == newest:
                raise  # the article the feed follows now: the poll fails
            # an earlier article that fails (gone, 404) must not keep today's out of the feed
            log.warning("poll feed=%s url=%s status=skipped error=%s", feed.name,
                        error_line(url), error_line(_describe(exc)))
            log.debug("poll feed=%s skipped", feed.name, exc_info=True)
            continue
        if diff.state.article_id in polled:
            continue  # two URLs of one article (e.g. neither with an /a-<id> path)
        polled.add(diff.state.article_id)
        state = replace(diff.state, fetch_url=url)
        if changed or state != diff.state:
            states.append(state)
            previous += [prev] if prev else []
            changed_any = changed_any or changed
        result.new += len(diff.new)
        result.changed += len(diff.changed)
        result.removed += len(diff.removed)
    # one transaction for all of them: a failure above leaves every article as it was
    store.save_poll(feed.name, states, now, changed=result.new + result.changed > 0,
                    previous=previous, http=http if http != was else None)
    result.url = newest
    return changed_any


def _describe(exc: Exception) -> str:
    """One line for any exception: ours say what happened; others also name their type."""
    if isinstance(exc, FeedgenDwError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}"


def poll_feed(
    feed: FeedConfig, store: Store, fetcher: Fetcher, output: Output, clock: Clock = utc_now
) -> PollResult:
    """Poll `feed` once. Never raises: every failure, expected or not, comes back in the
    result (one line), is recorded in the store (so the schedule backs off), and leaves
    items and feed files as they were."""
    now = clock().replace(microsecond=0)
    until = time.monotonic() + POLL_PER_TIMEOUT * feed.settings.timeout
    result = PollResult(feed=feed.name, ok=False, url=feed.url)
    try:
        status = store.status(feed.name)
        if feed.follow:
            state_changed = _poll_followed(feed, store, fetcher, now, result, until,
                                           status.http)
        else:
            state_changed = _poll_one(feed, store, fetcher, status, now, result, until)
        files_missing = any(not p.exists() for p in (
            *feed_paths(output, feed.name).values(), output.directory / view_file(feed.name)))
        if state_changed or files_missing or status.failures or status.render_pending:
            result.written = write_feed_files(feed, store, output)
        result.ok = True
        log.info(
            "poll feed=%s status=%s new=%d changed=%d removed=%d written=%d url=%s",
            feed.name, "not-modified" if result.not_modified else "ok",
            result.new, result.changed, result.removed, len(result.written),
            error_line(result.url),
        )
    except Exception as exc:  # any page, any bug: must not stop `run` or the daemon
        if not isinstance(exc, FeedgenDwError):
            # a bug or a page we cannot handle: the traceback is for -v only
            log.debug("poll feed=%s unexpected error", feed.name, exc_info=True)
        result.error = error_line(_describe(exc))
        result.retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        log.error("poll feed=%s status=failed new=0 changed=0 removed=0 url=%s error=%s",
                  feed.name, error_line(feed.url), result.error)
        try:
            store.record_failure(feed.name, result.error, now)
        except Exception as store_exc:
            log.error("poll feed=%s status=unrecorded error=%s", feed.name,
                      error_line(_describe(store_exc)))
    return result
