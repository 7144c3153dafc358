"""DW live blogs: a replayed day of our own in the state shape, and the DOM fallback."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedgen_dw.config import FeedConfig
from feedgen_dw.extract import extract_page
from feedgen_dw.fetch import Fetcher
from feedgen_dw.poll import Output, feed_paths, fixed_clock, poll_feed
from feedgen_dw.replay import ReplayServer
from feedgen_dw.replay_live import DemoLiveBlog, DemoPost, render_live_page
from feedgen_dw.store import SQLiteStore
from tests.conftest import parse_feed

P1 = DemoPost(1001, "Kiew meldet Drohnenangriffe", ("Über Nacht wurden 40 Drohnen abgefangen.",),
              "2026-11-24T06:05:00+01:00", image=(70000201, "Trümmer in Kiew"))
P2 = DemoPost(1002, "", ("Die Lage im Osten bleibt angespannt. Mehr folgt in Kürze.",),
              "2026-11-24T07:10:00+01:00", author="Anna Beispiel")
P3 = DemoPost(1003, "EU-Gipfel berät Hilfen", ("Die Staats- und Regierungschefs treffen sich.",),
              "2026-11-24T09:00:00+01:00")
P4 = DemoPost(1004, "Selenskyj spricht im Parlament", ("Eine Rede vor den Abgeordneten.",),
              "2026-11-24T11:30:00+01:00")
P1_EDITED = replace(P1, title="Kiew meldet Drohnenangriffe auf Energieanlagen",
                    paragraphs=(*P1.paragraphs, "Zwei Umspannwerke wurden getroffen."))
BLOG = DemoLiveBlog("72100001", "ukraine-aktuell-live", "Ukraine aktuell: Der Live-Ticker",
                    (P2, P1))
DAY = [
    (BLOG, ["Die Lage im Osten bleibt angespannt.", "Kiew meldet Drohnenangriffe"]),
    (replace(BLOG, posts=(P3, P2, P1)),  # a post added
     ["EU-Gipfel berät Hilfen", "Die Lage im Osten bleibt angespannt.",
      "Kiew meldet Drohnenangriffe"]),
    (replace(BLOG, posts=(P3, P2, P1_EDITED)),  # one edited: same item, title follows
     ["EU-Gipfel berät Hilfen", "Die Lage im Osten bleibt angespannt.",
      "Kiew meldet Drohnenangriffe auf Energieanlagen"]),
    (replace(BLOG, posts=(P4, P3, P1_EDITED)),  # one deleted (stays), one added
     ["Selenskyj spricht im Parlament", "EU-Gipfel berät Hilfen",
      "Die Lage im Osten bleibt angespannt.", "Kiew meldet Drohnenangriffe auf Energieanlagen"]),
]
T0 = datetime(2026, 11, 24, 6, 30, tzinfo=UTC)


def _serve(server: ReplayServer, blog: DemoLiveBlog, noise: int, state: bool = True) -> str:
    body = render_live_page(blog, server.base_url, noise, state).encode()
    server.set(blog.path, 200, body, {"Content-Type": "text/html; charset=utf-8"})
    return server.base_url + blog.path


@pytest.mark.parametrize("state", [True, False], ids=["state", "rendered-posts"])
def test_replayed_live_blog_day(server: ReplayServer, tmp_path: Path, state: bool) -> None:
    store, fetcher = SQLiteStore(tmp_path / "s.sqlite3"), Fetcher()
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/")
    feed = FeedConfig(name="live", url=server.base_url + BLOG.path, site="auto")
    ids: dict[int, str] = {}
    for step, (blog, titles) in enumerate(DAY):
        _serve(server, blog, noise=step, state=state)
        result = poll_feed(feed, store, fetcher, output, fixed_clock(T0 + timedelta(hours=step)))
        assert result.ok, result.error
        entries = parse_feed(feed_paths(output, "live")["atom"]).entries
        assert [e.title for e in entries] == titles
        for entry in entries:
            post = int(entry.id.rsplit("post-", 1)[1])
            assert ids.setdefault(post, entry.id) == entry.id  # stable through edits
        assert len({e.id for e in entries}) == len(entries)
    by_post = {int(e.id.rsplit("post-", 1)[1]): e for e in entries}
    assert by_post[1001].published == "2026-11-24T05:05:00+00:00"  # the post's contentDate
    assert by_post[1001].updated == "2026-11-24T08:30:00+00:00"  # edited at the third poll
    assert "Umspannwerke" in by_post[1001].content[0].value
    assert "70000201_605.jpg" in by_post[1001].content[0].value
    assert by_post[1002].author == "Anna Beispiel"
    assert all(e.id.startswith("tag:127.0.0.1,2026-11-24:live-72100001/post-") for e in entries)
    store.close()
    fetcher.close()


def test_missing_fields_degrade_instead_of_failing() -> None:
    import json

    state = {"/graph-api/de/content/liveblog/5": {"data": {"content": {"posts": [
        {"id": 1, "text": "<p>Nur Text, kein Titel, keine Zeit.</p>"},
        {"id": 2, "title": "Nur ein Titel"},
        {"title": "ohne id wird übergangen", "text": "<p>x</p>"},
        "kein Objekt",
    ]}}}}
    page = ('<html><head><link rel="canonical" href="https://www.dw.com/de/t/live-5"></head>'
            f"<body><script>window.__APP_STATE__={json.dumps(state)};</script></body></html>")
    article = extract_page(page, "https://www.dw.com/de/t/live-5", "auto")
    assert [(s.headline, s.published, s.source_key) for s in article.sections] == [
        ("Nur Text, kein Titel, keine Zeit.", None, "post-1"), ("Nur ein Titel", None, "post-2")]
    assert article.article_id == "live-5" and article.source == "app-state"


def test_article_of_the_newer_frontend_from_app_state() -> None:
    import json

    text = ("<p>Die Spitzenmeldung des Tages.</p><h2>Zweiter Abschnitt</h2>"
            "<p>Mehr dazu hier.</p><p>se/mak (afp, rtr)</p>")
    state = {"/graph-api/de/content/article/70000009": {"data": {"content": {
        "id": 70000009, "title": "Ukraine aktuell: Neue Oberfläche", "text": text,
        "canonicalUrl": "https://www.dw.com/de/neu/a-70000009",
        "firstPublicationDate": "2026-11-24T05:00:00.000Z"}}}}
    page = (f"<html lang=\"de\"><body><main></main><script>window.__APP_STATE__="
            f"{json.dumps(state)};</script></body></html>")
    article = extract_page(page, "https://www.dw.com/de/neu/a-70000009", "auto")
    assert (article.source, article.article_id) == ("app-state", "a-70000009")
    assert [(s.headline, s.text) for s in article.sections] == [
        ("Neue Oberfläche", "Die Spitzenmeldung des Tages."),
        ("Zweiter Abschnitt", "Mehr dazu hier.")]


@pytest.mark.parametrize("state", [True, False], ids=["state", "rendered-posts"])
def test_a_poll_sanitizes_only_new_and_edited_posts_and_writes_what_a_fresh_one_would(
    server: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, state: bool,
    sanitized: list[str],
) -> None:
    from tests.test_kept_work import _without_kept_work

    def day(folder: Path) -> tuple[list[int], list[bytes]]:
        store, fetcher = SQLiteStore(folder / "s.sqlite3"), Fetcher()
        output = Output(folder / "public", "http://127.0.0.1:8080/")
        feed = FeedConfig(name="live", url=server.base_url + BLOG.path, site="auto")
        counts, files = [], []
        for step, (blog, _) in enumerate(DAY):
            _serve(server, blog, noise=step, state=state)
            sanitized.clear()
            assert poll_feed(feed, store, fetcher, output,
                             fixed_clock(T0 + timedelta(hours=step))).ok
            counts.append(len(sanitized))
            files.append(feed_paths(output, "live")["atom"].read_bytes())
        store.close()
        fetcher.close()
        return counts, files

    counts, kept_files = day(tmp_path / "kept")
    # 2 posts first; then the added one; then the edited one; then the added one
    assert counts == [2, 1, 1, 1]
    with monkeypatch.context() as patch:
        _without_kept_work(patch)
        fresh_counts, fresh_files = day(tmp_path / "fresh")
    assert fresh_counts == [2, 3, 3, 3]
    assert kept_files == fresh_files
