"""Following DW's daily article through a topic page or a feed: one continuous feed."""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedgen_dw.config import FeedConfig, Settings
from feedgen_dw.demo import FIRST, SECOND, THIRD
from feedgen_dw.fetch import Fetcher
from feedgen_dw.model import EditPolicy
from feedgen_dw.poll import Output, feed_paths, fixed_clock, poll_feed
from feedgen_dw.replay import DemoPage, DemoSection, ReplayServer
from feedgen_dw.store import SQLiteStore
from tests.conftest import parse_feed

DAY2 = DemoPage(
    article_id="70000002", slug="ukraine-aktuell-neuer-tag", title="Ukraine aktuell: Neuer Tag",
    teaser="t", sections=(
        DemoSection(paragraphs=("Am zweiten Tag beginnt der Ticker mit einer neuen Meldung.",)),
        DemoSection(headline="Gespräche in Genf", paragraphs=("Delegationen treffen sich.",)),
    ))
TOPIC = "/de/krieg-in-der-ukraine/t-60978725"


def _topic(server: ReplayServer, pages: list[DemoPage]) -> None:
    teasers = "".join(
        f'<div class="teaser"><a href="{html.escape(p.path)}"><h3>{html.escape(p.title)}</h3>'
        f"</a></div>" for p in pages)
    other = '<a href="/de/kommentar/a-1"><h3>Kommentar: Was der Krieg kostet</h3></a>'
    body = f"<html><body><main>{other}{teasers}</main></body></html>".encode()
    server.set(TOPIC, 200, body, {"Content-Type": "text/html; charset=utf-8"})


def _requests_for(server: ReplayServer, article_id: str) -> int:
    return sum(f"a-{article_id}" in path for path in server.site.requests)


def test_two_days_into_one_feed(server: ReplayServer, tmp_path: Path,
                                sanitized: list[str]) -> None:
    store, fetcher = SQLiteStore(tmp_path / "s.sqlite3"), Fetcher()
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/")
    feed = FeedConfig(name="ukraine", url=server.base_url + TOPIC, follow=True,
                      match="^Ukraine aktuell", settings=Settings(stop_after=24 * 3600),
                      on_edit=EditPolicy.UPDATE)
    day1 = datetime(2026, 11, 24, 8, tzinfo=UTC)

    def poll(when: datetime) -> list[str]:
        result = poll_feed(feed, store, fetcher, output, fixed_clock(when))
        assert result.ok, result.error
        entries = parse_feed(feed_paths(output, "ukraine")["atom"]).entries
        assert len({e.id for e in entries}) == len(entries)
        return [e.id for e in entries]

    server.publish(FIRST)
    _topic(server, [FIRST])
    first = poll(day1)
    assert len(first) == 3
    server.publish(SECOND)  # the day goes on: a new lead, the slug changes
    _topic(server, [SECOND])
    before = _requests_for(server, "70000001")
    assert len(poll(day1 + timedelta(hours=4))) == 4
    # listed by the index and stored from the last poll (old slug): fetched once, not twice
    assert _requests_for(server, "70000001") == before + 1
    server.publish(DAY2)  # the next morning: a new article heads the topic page
    _topic(server, [DAY2, SECOND])
    server.publish(THIRD)  # ... and yesterday's still changes for a while
    both = poll(day1 + timedelta(hours=23))
    assert len(both) == 4 + 2 + 1
    assert set(first) <= set(both)
    assert any("a-70000002/" in i for i in both) and any("a-70000001/" in i for i in both)
    # a day after its last change, yesterday's article is no longer polled
    before = _requests_for(server, "70000001")
    sanitized.clear()
    poll(day1 + timedelta(hours=30))
    assert _requests_for(server, "70000001") == before + 1  # still within 24 h of 07:00
    assert sanitized == []  # both articles polled, neither changed: nothing sanitized
    poll(day1 + timedelta(hours=23 + 25))
    assert _requests_for(server, "70000001") == before + 1  # dropped after stop_after
    last = poll(day1 + timedelta(hours=23 + 26))
    assert set(both) <= set(last) and len(last) == 7
    store.close()
    fetcher.close()


def test_an_index_that_matches_nothing_or_fails_changes_nothing(
    server: ReplayServer, tmp_path: Path
) -> None:
    store, fetcher = SQLiteStore(tmp_path / "s.sqlite3"), Fetcher(retries=0)
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/")
    feed = FeedConfig(name="ukraine", url=server.base_url + TOPIC, follow=True,
                      match="^Ukraine aktuell")
    server.publish(FIRST)
    _topic(server, [FIRST])
    now = datetime(2026, 11, 24, 8, tzinfo=UTC)
    assert poll_feed(feed, store, fetcher, output, fixed_clock(now)).ok
    files = {p: p.read_bytes() for p in feed_paths(output, "ukraine").values()}
    _topic(server, [replace(FIRST, title="Kommentar: nichts Passendes")])
    result = poll_feed(feed, store, fetcher, output, fixed_clock(now + timedelta(hours=1)))
    assert not result.ok and "lists no article matching '^Ukraine aktuell'" in (result.error or "")
    server.set(TOPIC, 503, b"down", {"Content-Type": "text/html"})
    result = poll_feed(feed, store, fetcher, output, fixed_clock(now + timedelta(hours=2)))
    assert not result.ok and "HTTP 503" in (result.error or "")
    assert {p: p.read_bytes() for p in files} == files


@pytest.mark.parametrize("kind", ["rss", "rdf"])
def test_following_a_feed(server: ReplayServer, tmp_path: Path, kind: str) -> None:
    url = server.publish(FIRST)
    if kind == "rss":
        body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>DW</title>'
                f"<item><title>Kommentar: anderes</title><link>{server.base_url}/de/k/a-5</link>"
                f"</item><item><title>{FIRST.title}</title><link>{url}</link></item>"
                f"</channel></rss>")
    else:
        body = ('<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
                'syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel><title>DW</title>'
                f"</channel><item><title>{FIRST.title}</title><link>{url}</link></item>"
                "</rdf:RDF>")
    server.set("/rdf/ukraine", 200, body.encode(), {"Content-Type": "application/rss+xml"})
    store, fetcher = SQLiteStore(tmp_path / "s.sqlite3"), Fetcher()
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/")
    feed = FeedConfig(name="f", url=server.base_url + "/rdf/ukraine", follow=True,
                      match="Ukraine aktuell")
    result = poll_feed(feed, store, fetcher, output,
                       fixed_clock(datetime(2026, 11, 24, 8, tzinfo=UTC)))
    assert result.ok and result.new == 3, result.error
