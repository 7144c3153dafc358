"""One whole poll of one feed: fetch -> extract -> diff -> store -> render -> write.

`run`, the daemon and the tests all call poll_feed(); nothing else does a poll.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from feedgen_dw.config import FeedConfig
from feedgen_dw.diff import diff_article
from feedgen_dw.errors import FeedgenDwError
from feedgen_dw.extract import extract_page
from feedgen_dw.fetch import Fetcher
from feedgen_dw.model import FeedMeta, PollResult
from feedgen_dw.output import write_if_changed
from feedgen_dw.render import FORMATS, render
from feedgen_dw.store import Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, UTC, whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def fixed_clock(when: datetime) -> Clock:
    """A clock that always says `when` (replays, tests)."""
    return lambda: when


@dataclass(frozen=True)
class Output:
    """Where feed files go and where they are served from."""

    directory: Path
    base_url: str


def feed_paths(output: Output, name: str) -> dict[str, Path]:
    """The files of feed `name`, by format."""
    return {fmt: output.directory / f"{name}.{fmt}" for fmt in FORMATS}


def write_feed_files(feed: FeedConfig, store: Store, output: Output) -> list[str]:
    """Render the stored items of `feed` and write the files whose bytes changed."""
    latest = store.latest_article(feed.name)
    if latest is None:
        return []
    meta = FeedMeta(
        name=feed.name,
        title=feed.title or latest.feed_title or latest.title,
        link=latest.url,
        self_base=output.base_url,
        language=latest.language,
    )
    documents = render(meta, store.items(feed.name, feed.max_items))
    written = []
    for fmt, path in feed_paths(output, feed.name).items():
        if write_if_changed(path, documents[fmt]):
            written.append(str(path))
    return written


def poll_feed(
    feed: FeedConfig, store: Store, fetcher: Fetcher, output: Output, clock: Clock = utc_now
) -> PollResult:
    """Poll `feed` once. Never raises for expected failures: they come back in the result,
    are recorded in the store, and leave items and feed files as they were."""
    now = clock().replace(microsecond=0)
    result = PollResult(feed=feed.name, ok=False, url=feed.url)
    try:
        page = fetcher.get(feed.url)
        result.url = page.url
        article = extract_page(page.text, page.url, feed.site)
        prev = store.load_article(feed.name, article.article_id)
        diff = diff_article(prev, article, now, feed.on_edit)
        state_changed = diff.state != prev
        store.save_poll(feed.name, [diff.state] if state_changed else [], now)
        files_missing = any(not p.exists() for p in feed_paths(output, feed.name).values())
        if state_changed or files_missing or store.status(feed.name).failures:
            result.written = write_feed_files(feed, store, output)
        result.new, result.changed = len(diff.new), len(diff.changed)
        result.removed = len(diff.removed)
        result.ok = True
        log.info(
            "poll feed=%s url=%s status=ok new=%d changed=%d removed=%d written=%d",
            feed.name, result.url, result.new, result.changed, result.removed,
            len(result.written),
        )
    except FeedgenDwError as exc:
        result.error = str(exc)
        log.error("poll feed=%s url=%s status=failed error=%s", feed.name, feed.url, exc)
        try:
            store.record_failure(feed.name, str(exc), now)
        except FeedgenDwError as store_exc:
            log.error("poll feed=%s status=unrecorded error=%s", feed.name, store_exc)
    return result
