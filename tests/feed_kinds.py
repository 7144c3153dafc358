"""One feed of every kind the tool writes, polled through replayed days into one folder:
for the validity rules and the readers, which must hold for all of them alike."""

from __future__ import annotations

import html
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedgen_dw.config import FeedConfig, Settings
from feedgen_dw.demo import FIRST, LIVE_DAY, SECOND
from feedgen_dw.extract.custom import Profile
from feedgen_dw.fetch import Fetcher
from feedgen_dw.model import EditPolicy
from feedgen_dw.poll import Output, fixed_clock, poll_feed, write_site
from feedgen_dw.replay import DemoPage, ReplayServer
from feedgen_dw.replay_live import DemoLiveBlog, DemoPost, render_live_page
from feedgen_dw.store import SQLiteStore
from tests.test_follow import DAY2, TOPIC
from tests.test_generic import fixture
from tests.test_generic_live import noisy, without_newest

T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)
KINDS = ("live", "dw-live", "followed", "liveblog", "profile", "generic")
HTML = {"Content-Type": "text/html; charset=utf-8"}

P1 = DemoPost(1001, "Kiew meldet Drohnenangriffe", ("Über Nacht wurden 40 Drohnen abgefangen.",),
              "2026-11-24T06:05:00+01:00")
P2 = DemoPost(1002, "", ("Die Lage im Osten bleibt angespannt. Mehr folgt in Kürze.",),
              "2026-11-24T07:10:00+01:00", author="Anna Beispiel")
P3 = DemoPost(1003, "EU-Gipfel berät Hilfen", ("Die Staats- und Regierungschefs treffen sich.",),
              "2026-11-24T07:10:00+01:00")  # the same minute as P2
BLOG = DemoLiveBlog("72100001", "ukraine-aktuell-live", "Ukraine aktuell: Der Live-Ticker",
                    (P2, P1))
TICKER = """<html lang="de"><head><link rel="canonical" href="{base}/ticker">
<script type="application/ld+json">{{"@type": "NewsArticle",
 "dateModified": "2026-11-24T10:40:00+01:00"}}</script></head><body><div class="live">
{entries}</div></body></html>"""
PROFILE = Profile(name="ticker", entries="div.entry", title="h3", time="span.t")


def _ld_page(base: str, updates: list[dict[str, str]]) -> bytes:
    ld = {"@context": "https://schema.org", "@type": "LiveBlogPosting",
          "headline": "Ticker: Der Tag", "url": f"{base}/lb",
          "publisher": {"@type": "Organization", "name": "Beispiel-Nachrichten"},
          "liveBlogUpdate": [{"@type": "BlogPosting", **u} for u in updates]}
    return (f'<html lang="de"><head><link rel="canonical" href="{base}/lb">'
            f'<script type="application/ld+json">{json.dumps(ld)}</script></head>'
            f"<body><p>x</p></body></html>").encode()


def _update(n: int, when: str, author: str = "") -> dict[str, str]:
    extra = {"author": author} if author else {}
    return {"@id": f"u-{n}", "headline": f"Meldung {n}",
            "articleBody": f"Text der Meldung {n}, mit genug Wörtern für einen Absatz.",
            "datePublished": when, **extra}


def _ticker(base: str, entries: list[tuple[str, str]]) -> bytes:
    body = "".join(f'<div class="entry"><span class="t">{t}</span><h3>{html.escape(h)}</h3>'
                   f"<p>{html.escape(h)}: die Einzelheiten.</p></div>" for t, h in entries)
    return TICKER.format(base=base, entries=body).encode()


def _topic(pages: list[DemoPage]) -> bytes:
    teasers = "".join(
        f'<div class="teaser"><a href="{html.escape(p.path)}"><h3>{html.escape(p.title)}</h3>'
        f"</a></div>" for p in pages)
    return f"<html><body><main>{teasers}</main></body></html>".encode()


def build_kinds(folder: Path, base_url: str,
                policy: EditPolicy = EditPolicy.UPDATE) -> list[FeedConfig]:
    """Poll one feed of each kind (named as in KINDS) through a short replayed day into
    `folder`/public, served at `base_url`; write the index. Returns the feeds."""
    public = folder / "public"
    public.mkdir(exist_ok=True)
    replay = ReplayServer().start()
    store, fetcher = SQLiteStore(folder / "kinds.sqlite3"), Fetcher()
    output = Output(public, base_url)
    base = replay.base_url.rstrip("/")
    feeds = {
        "live": FeedConfig(name="live", url=base + LIVE_DAY[0][1].path, on_edit=policy),
        "dw-live": FeedConfig(name="dw-live", url=base + BLOG.path, site="auto",
                              on_edit=policy),
        "followed": FeedConfig(name="followed", url=base + TOPIC, follow=True,
                               match="^Ukraine aktuell", on_edit=policy,
                               settings=Settings(stop_after=48 * 3600)),
        "liveblog": FeedConfig(name="liveblog", url=base + "/lb", site="liveblog",
                               on_edit=policy),
        "profile": FeedConfig(name="profile", url=base + "/ticker", site="ticker",
                              profile=PROFILE, on_edit=policy,
                              settings=Settings(author="Ticker-Redaktion")),
        "generic": FeedConfig(name="generic", url=base + "/generic", site="auto",
                              on_edit=policy),
    }

    def poll(name: str, when: datetime) -> None:
        result = poll_feed(feeds[name], store, fetcher, output, fixed_clock(when))
        assert result.ok, result.error

    try:
        for when, page, noise in LIVE_DAY:
            replay.publish(page, noise)
            poll("live", when)
        for step, posts in enumerate([(P2, P1), (P3, P2, P1),
                                      (P3, P2, replace(P1, paragraphs=(
                                          *P1.paragraphs, "Zwei Umspannwerke wurden getroffen "
                                          "und die Stromversorgung fiel in drei Bezirken aus.")))]):
            body = render_live_page(replace(BLOG, posts=posts), replay.base_url, step, True)
            replay.set(BLOG.path, 200, body.encode(), HTML)
            poll("dw-live", T0 + timedelta(hours=2 + step))
        replay.publish(FIRST)
        replay.set(TOPIC, 200, _topic([FIRST]), HTML)
        poll("followed", T0 + timedelta(hours=1))
        # a new day's article and an edit of yesterday's in one poll: their times tie
        replay.publish(replace(SECOND, slug=FIRST.slug))
        replay.publish(DAY2)
        replay.set(TOPIC, 200, _topic([DAY2, FIRST]), HTML)
        poll("followed", T0 + timedelta(hours=3))
        first = [_update(1, "2026-11-24T09:00:00+01:00", "Jana Muster"),
                 _update(2, "2026-11-24T09:00:00+01:00")]
        replay.set("/lb", 200, _ld_page(base, first[::-1]), HTML)
        poll("liveblog", T0 + timedelta(hours=4))
        replay.set("/lb", 200, _ld_page(base, [_update(3, "2026-11-24T10:00:00+01:00"),
                                               *first[::-1]]), HTML)
        poll("liveblog", T0 + timedelta(hours=5))
        replay.set("/ticker", 200, _ticker(base, [("10:31", "Zweite Meldung"),
                                                  ("10:31", "Erste Meldung")]), HTML)
        poll("profile", T0 + timedelta(hours=6))
        page = fixture("heading_times_de.html")
        for hour, html_page in ((7, without_newest(noisy(page, [0]))), (8, noisy(page, [1]))):
            replay.set("/generic", 200, html_page.encode(), HTML)
            poll("generic", T0 + timedelta(hours=hour))
        write_site(list(feeds.values()), store, output)
    finally:
        store.close()
        fetcher.close()
        replay.stop()
    return list(feeds.values())
