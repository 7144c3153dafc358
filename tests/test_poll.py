from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedgen_dw.config import FeedConfig
from feedgen_dw.demo import FIRST, THIRD
from feedgen_dw.fetch import Fetcher
from feedgen_dw.model import EditPolicy
from feedgen_dw.poll import Output, feed_paths, fixed_clock, poll_feed
from feedgen_dw.replay import ReplayServer, render_page
from feedgen_dw.store import SQLiteStore
from tests.conftest import parse_feed

T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)


@pytest.fixture
def env(tmp_path: Path, server: ReplayServer):  # type: ignore[no-untyped-def]
    store = SQLiteStore(tmp_path / "s.sqlite3")
    fetcher = Fetcher(retries=0)
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/")
    yield store, fetcher, output
    store.close()
    fetcher.close()


def _files(output: Output) -> dict[str, bytes]:
    return {fmt: p.read_bytes() for fmt, p in feed_paths(output, "f").items()}


def test_failed_polls_lose_nothing_and_the_next_good_poll_continues(
    server: ReplayServer, env  # type: ignore[no-untyped-def]
) -> None:
    store, fetcher, output = env
    # site: dw, whose messages the faults below expect (auto became the default)
    feed = FeedConfig(name="f", url=server.publish(FIRST), site="dw",
                      on_edit=EditPolicy.UPDATE)
    assert poll_feed(feed, store, fetcher, output, fixed_clock(T0)).ok
    files, state = _files(output), store.load_article("f", "a-70000001")
    faults = [
        (500, b"<html>oops</html>", "HTTP 500"),
        (200, b"<html><body><p>Bitte stimmen Sie zu</p></body></html>", "extraction found nothing"),
        (200, b"", "extraction found nothing"),
    ]
    for n, (status, body, message) in enumerate(faults, 1):
        server.set(FIRST.path, status, body, {"Content-Type": "text/html"})
        result = poll_feed(feed, store, fetcher, output, fixed_clock(T0 + timedelta(minutes=n)))
        assert not result.ok and message in (result.error or "")
        assert _files(output) == files
        assert store.load_article("f", "a-70000001") == state
        assert store.status("f").failures == n
    server.publish(THIRD)
    result = poll_feed(feed, store, fetcher, output, fixed_clock(T0 + timedelta(hours=5)))
    assert result.ok and store.status("f").failures == 0
    ids = [e.id for e in parse_feed(feed_paths(output, "f")["atom"]).entries]
    assert len(ids) == len(set(ids)) == 5
    assert set(ids) >= {s.item_id for s in state.sections}  # type: ignore[union-attr]


def test_output_write_failure_is_repaired_on_the_next_poll(
    server: ReplayServer, env  # type: ignore[no-untyped-def]
) -> None:
    store, fetcher, output = env
    feed = FeedConfig(name="f", url=server.publish(FIRST))
    output.directory.parent.mkdir(parents=True, exist_ok=True)
    output.directory.write_text("a file where the folder should be")  # mkdir will fail
    result = poll_feed(feed, store, fetcher, output, fixed_clock(T0))
    assert not result.ok and "f.atom: cannot" in (result.error or "")
    assert store.status("f").failures == 1
    output.directory.unlink()
    # the page did not change, but the files were never written: the next poll writes them
    result = poll_feed(feed, store, fetcher, output, fixed_clock(T0 + timedelta(minutes=5)))
    assert result.ok and len(result.written) == 3  # atom, rss, json


def test_max_items_keeps_the_newest(server: ReplayServer, env) -> None:  # type: ignore[no-untyped-def]
    store, fetcher, output = env
    feed = FeedConfig(name="f", url=server.publish(FIRST), max_items=2)
    assert poll_feed(feed, store, fetcher, output, fixed_clock(T0)).ok
    titles = [e.title for e in parse_feed(feed_paths(output, "f")["rss"]).entries]
    assert titles == [
        "Selenskyj bittet um mehr Flugabwehr", "Nächtliche Drohnenangriffe auf Odessa"]


@pytest.mark.parametrize(("charset", "header", "apollo"), [
    ("windows-1252", "text/html; charset=windows-1252", True),  # from the header
    ("iso-8859-1", "text/html", False),  # from <meta charset> only, read from the DOM
])
def test_pages_in_other_charsets_are_parsed_from_their_bytes(  # type: ignore[no-untyped-def]
    server: ReplayServer, env, charset: str, header: str, apollo: bool,
) -> None:
    store, fetcher, output = env
    page = render_page(FIRST, server.base_url, apollo=apollo).replace(
        '<meta charset="utf-8">', f'<meta charset="{charset}">')
    url = server.base_url + "/de/legacy/a-1"
    server.set("/de/legacy/a-1", 200, page.encode(charset, "xmlcharrefreplace"),
               {"Content-Type": header})
    feed = FeedConfig(name="f", url=url)
    assert poll_feed(feed, store, fetcher, output, fixed_clock(T0)).ok
    titles = [e.title for e in parse_feed(feed_paths(output, "f")["atom"]).entries]
    expected = [s.headline for s in FIRST.sections if s.headline]
    assert [t for t in titles if t in expected] == expected
    assert "Nächtliche Drohnenangriffe auf Odessa" in titles  # umlauts decoded, not mojibake


def test_one_log_line_per_poll_with_stable_keys(
    server: ReplayServer, env, caplog: pytest.LogCaptureFixture  # type: ignore[no-untyped-def]
) -> None:
    import logging

    store, fetcher, output = env
    feed = FeedConfig(name="f", url=server.publish(FIRST))
    gone = FeedConfig(name="g", url=server.base_url.replace("//", "//u:pw@") + "/de/x/a-9")
    with caplog.at_level(logging.INFO, logger="feedgen_dw.poll"):
        poll_feed(feed, store, fetcher, output, fixed_clock(T0))
        poll_feed(feed, store, fetcher, output, fixed_clock(T0 + timedelta(hours=1)))
        poll_feed(gone, store, fetcher, output, fixed_clock(T0))
    lines = [r.getMessage() for r in caplog.records if r.name == "feedgen_dw.poll"]
    assert len(lines) == 3
    assert lines[0].startswith("poll feed=f status=ok new=3 changed=0 removed=0 ")
    assert lines[1].startswith("poll feed=f status=not-modified new=0 changed=0 removed=0 ")
    assert lines[0].endswith(f"url={feed.url}")
    assert lines[2].startswith("poll feed=g status=failed new=0 changed=0 removed=0 url=http://***@")
    assert " error=" in lines[2] and "HTTP 404" in lines[2] and "pw" not in lines[2]
