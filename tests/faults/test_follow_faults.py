"""A followed index whose earlier articles go wrong: today's article still enters the feed,
and a page cannot point the poller at another host."""

from __future__ import annotations

import html
from datetime import timedelta
from pathlib import Path

from feedgen_dw.config import FeedConfig, Settings
from feedgen_dw.demo import FIRST
from feedgen_dw.fetch import Fetcher
from feedgen_dw.poll import Output, fixed_clock, poll_feed
from feedgen_dw.replay import DemoPage, DemoSection, ReplayServer, render_page
from feedgen_dw.store import SQLiteStore
from tests.faults.test_hostile_world import T0

TOPIC = "/de/krieg-in-der-ukraine/t-60978725"
DAY2 = FIRST.__class__(**{**FIRST.__dict__, "article_id": "70000002",
                          "slug": "ukraine-aktuell-neuer-tag",
                          "title": "Ukraine aktuell: Neuer Tag"})


def _topic(server: ReplayServer, pages: list[DemoPage]) -> None:
    teasers = "".join(f'<a href="{html.escape(p.path)}"><h3>{html.escape(p.title)}</h3></a>'
                      for p in pages)
    server.set(TOPIC, 200, f"<html><body><main>{teasers}</main></body></html>".encode(),
               {"Content-Type": "text/html; charset=utf-8"})


def _serve_with_canonical_elsewhere(server: ReplayServer, page: DemoPage, elsewhere: str) -> None:
    """`page` at its local path, declaring its canonical URL on another host."""
    body = render_page(page, elsewhere, noise=0).encode("utf-8")
    server.set(page.path, 200, body, {"Content-Type": "text/html; charset=utf-8"})


def test_an_earlier_article_that_fails_does_not_keep_todays_out(
    server: ReplayServer, tmp_path: Path
) -> None:
    other = ReplayServer().start()  # "another host": every request to it is a failure here
    try:
        elsewhere = other.base_url.replace("127.0.0.1", "localhost")
        store, fetcher = SQLiteStore(tmp_path / "s.sqlite3"), Fetcher()
        output = Output(tmp_path / "public", "http://127.0.0.1:8080/")
        feed = FeedConfig(name="ukraine", url=server.base_url + TOPIC, follow=True,
                          match="^Ukraine aktuell", settings=Settings(stop_after=48 * 3600))
        try:
            _serve_with_canonical_elsewhere(server, FIRST, elsewhere)
            _topic(server, [FIRST])
            first = poll_feed(feed, store, fetcher, output, fixed_clock(T0))
            assert first.ok and first.new == 3, first.error
            # the next day: the index lists only today's article; yesterday's is still
            # polled (it changed within stop_after), at the URL it was fetched at
            _serve_with_canonical_elsewhere(server, DAY2, elsewhere)
            _topic(server, [DAY2])
            second = poll_feed(feed, store, fetcher, output,
                               fixed_clock(T0 + timedelta(hours=20)))
            assert second.ok and second.new == 3, second.error
            assert sum(FIRST.path in p for p in server.site.requests) == 2
            # yesterday's article is gone now: today's still polls, the failure is logged
            server.set(FIRST.path, 404, b"gone", {"Content-Type": "text/plain"})
            evening = DemoSection(headline="Neu am Abend",
                                  paragraphs=("Am Abend meldet Kiew eine neue Entwicklung.",))
            later = DAY2.__class__(**{**DAY2.__dict__, "sections": (
                *DAY2.sections[:1], evening, *DAY2.sections[1:])})
            _serve_with_canonical_elsewhere(server, later, elsewhere)
            third = poll_feed(feed, store, fetcher, output,
                              fixed_clock(T0 + timedelta(hours=21)))
            assert third.ok, third.error
            assert third.new == 1
        finally:
            fetcher.close()
            store.close()
        assert other.request_count() == 0  # the page-declared canonical: never fetched
    finally:
        other.stop()
