"""One whole poll of one feed: fetch -> extract -> diff -> store -> render -> write.

`run`, the daemon and the tests all call poll_feed(); nothing else does a poll.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from feedgen_dw.errors import ExtractError, FeedgenDwError, FetchError
from feedgen_dw.fetch import Fetcher, FetchResult, FetchSettings, Validators
from feedgen_dw.model import ArticleState, DiffResult, FeedMeta, FeedStatus, HttpState, PollResult
from feedgen_dw.output import FORMATS, STYLESHEET, view_file, write_if_changed

if TYPE_CHECKING:
    from feedgen_dw.config import FeedConfig
    from feedgen_dw.store import Store

# Extraction (parsel, lxml), diffing and rendering (feedgen) are imported by the polls
# that need them, not by a 304: a cron `run` of unchanged feeds is mostly start-up.

log = logging.getLogger(__name__)

STYLESHEET_BYTES = (Path(__file__).parent / "static" / STYLESHEET).read_bytes()

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def fixed_clock(when: datetime) -> Clock:
    """A clock that always says `when` (replays, tests)."""
    return lambda: when


@dataclass(frozen=True)
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
    from feedgen_dw.push import ping_hub
    from feedgen_dw.render import feed_url, render_feed
    from feedgen_dw.view import render_view

    meta = _meta(feed, store, output)
    if meta is None:
        store.mark_rendered(feed.name)
        return []
    items = store.items(feed.name, feed.max_items)
    documents, fresh = render_feed(meta, items)
    written = []
    for fmt, path in feed_paths(output, feed.name).items():
        if write_if_changed(path, documents[fmt]):
            written.append(str(path))
    # the page a browser is shown for the feed's URLs; not a feed: no hub ping for it
    write_if_changed(output.directory / view_file(feed.name), render_view(meta, items))
    store.mark_rendered(feed.name, fresh)
    if written and output.hub:
        ping_hub(output.hub, [feed_url(meta, fmt) for fmt in FORMATS])
    return written


def write_site(feeds: Sequence[FeedConfig], store: Store, output: Output) -> None:
    """Write index.html and feeds.opml for all feeds."""
    from feedgen_dw.pages import FeedSummary, render_index, render_opml

    overview, statuses = store.overview(), store.statuses()
    summaries = []
    for feed in feeds:
        feed_title, link, count = overview.get(feed.name, (None, None, 0))
        summaries.append(FeedSummary(
            name=feed.name,
            title=feed.title or feed_title or feed.name,
            link=link,
            status=statuses.get(feed.name, FeedStatus(name=feed.name)),
            items=min(count, feed.max_items),
            newest=tuple((i.title, i.published) for i in store.items(feed.name, 3)),
        ))
    write_if_changed(output.directory / "index.html", render_index(summaries, output.base_url))
    write_if_changed(output.directory / STYLESHEET, STYLESHEET_BYTES)
    write_if_changed(output.directory / "feeds.opml", render_opml(summaries, output.base_url))


def _fetch(feed: FeedConfig, fetcher: Fetcher, http: HttpState, known: bool) -> FetchResult:
    settings = _fetch_settings(feed)
    # validators only help when there is a state to fall back on
    validators = Validators(http.etag, http.last_modified) if known else None
    url = http.fetch_url or feed.url
    try:
        return fetcher.get(url, settings, validators)
    except FetchError as exc:
        if url == feed.url or exc.status not in (404, 410):
            raise
        # the remembered redirect target is gone: ask the configured URL again
        return fetcher.get(feed.url, settings, validators)


def _fetch_settings(feed: FeedConfig) -> FetchSettings:
    return FetchSettings(timeout=feed.settings.timeout, user_agent=feed.settings.user_agent,
                         max_bytes=feed.settings.max_bytes)


def _diff(feed: FeedConfig, store: Store, page: FetchResult, now: datetime,
          guess: ArticleState | None = None,
          ) -> tuple[ArticleState | None, DiffResult, bool]:
    """Extract and decide one fetched article: (stored state, diff, state changed).
    `guess` is the stored state the page probably updates: its sections are not
    sanitized again."""
    from feedgen_dw.diff import diff_article
    from feedgen_dw.extract import extract_page

    known = {s.raw_digest: (s.html, s.seen_text) for s in guess.sections
             if s.raw_digest} if guess else None
    article = extract_page(page.body, page.url, feed.site, feed.profile, page.encoding, known)
    if guess is not None and guess.article_id == article.article_id:
        prev: ArticleState | None = guess
    else:
        prev = store.load_article(feed.name, article.article_id)
    try:
        diff = diff_article(prev, article, now, feed.on_edit, feed.on_remove)
    except ExtractError as exc:
        raise ExtractError(f"{page.url}: {exc}") from None
    return prev, diff, diff.state != prev or prev is None


def _poll_one(feed: FeedConfig, store: Store, fetcher: Fetcher, status: FeedStatus,
              now: datetime, result: PollResult) -> bool:
    """A feed of one article; True when its state changed."""
    # state of an earlier url in the config does not apply to this one
    http = status.http if status.http.config_url == feed.url else HttpState()
    page = _fetch(feed, fetcher, http, store.has_articles(feed.name))
    result.url = page.url
    if page.not_modified:
        result.not_modified = True
        store.save_poll(feed.name, [], now)
        return False
    # a feed of one article: the stored article is almost always this page's
    prev, diff, changed = _diff(feed, store, page, now,
                                store.latest_article(feed.name, sections=True))
    new_http = HttpState(config_url=feed.url, fetch_url=page.permanent_url,
                         etag=page.validators.etag, last_modified=page.validators.last_modified)
    store.save_poll(feed.name, [diff.state] if changed else [], now, http=new_http,
                    changed=diff.feed_changed or bool(diff.new), previous=[prev] if prev else [])
    result.new, result.changed, result.removed = len(diff.new), len(diff.changed), len(
        diff.removed)
    return changed


def _poll_followed(feed: FeedConfig, store: Store, fetcher: Fetcher, now: datetime,
                   result: PollResult) -> bool:
    """A followed index: the newest matching article, and every earlier one that changed
    within stop_after, into one feed; True when any state changed."""
    from feedgen_dw.follow import content_id, index_links

    index = fetcher.get(feed.url, _fetch_settings(feed), feeds_too=True)
    links = index_links(index.text, index.url, feed.match)
    since = now - timedelta(seconds=feed.settings.stop_after)
    # the index's article is usually among the recent ones too: fetch it once
    urls = {content_id(links[0].url): links[0].url}
    stored_ids = {}
    for article_id, url in store.recent_articles(feed.name, since):
        urls.setdefault(content_id(url), url)
        stored_ids[content_id(url)] = article_id
    states, previous, changed_any, polled = [], [], False, set()
    for key, url in urls.items():
        page = fetcher.get(url, _fetch_settings(feed))
        # a stored article's sections are known: they need not be sanitized again
        guess = store.load_article(feed.name, stored_ids[key]) if key in stored_ids else None
        prev, diff, changed = _diff(feed, store, page, now, guess)
        if diff.state.article_id in polled:
            continue  # two URLs of one article (e.g. neither with an /a-<id> path)
        polled.add(diff.state.article_id)
        if changed:
            states.append(diff.state)
            previous += [prev] if prev else []
            changed_any = True
        result.new += len(diff.new)
        result.changed += len(diff.changed)
        result.removed += len(diff.removed)
    # one transaction for all of them: a failure above leaves every article as it was
    store.save_poll(feed.name, states, now, changed=result.new + result.changed > 0,
                    previous=previous)
    result.url = links[0].url
    return changed_any


def poll_feed(
    feed: FeedConfig, store: Store, fetcher: Fetcher, output: Output, clock: Clock = utc_now
) -> PollResult:
    """Poll `feed` once. Never raises for expected failures: they come back in the result,
    are recorded in the store, and leave items and feed files as they were."""
    now = clock().replace(microsecond=0)
    result = PollResult(feed=feed.name, ok=False, url=feed.url)
    try:
        status = store.status(feed.name)
        if feed.follow:
            state_changed = _poll_followed(feed, store, fetcher, now, result)
        else:
            state_changed = _poll_one(feed, store, fetcher, status, now, result)
        files_missing = any(not p.exists() for p in (
            *feed_paths(output, feed.name).values(), output.directory / view_file(feed.name)))
        if state_changed or files_missing or status.failures or status.render_pending:
            result.written = write_feed_files(feed, store, output)
        result.ok = True
        log.info(
            "poll feed=%s url=%s status=%s new=%d changed=%d removed=%d written=%d",
            feed.name, result.url, "not-modified" if result.not_modified else "ok",
            result.new, result.changed, result.removed, len(result.written),
        )
    except FeedgenDwError as exc:
        result.error = str(exc)
        result.retry_after = exc.retry_after if isinstance(exc, FetchError) else None
        log.error("poll feed=%s url=%s status=failed error=%s", feed.name, feed.url, exc)
        try:
            store.record_failure(feed.name, str(exc), now)
        except FeedgenDwError as store_exc:
            log.error("poll feed=%s status=unrecorded error=%s", feed.name, store_exc)
    return result
