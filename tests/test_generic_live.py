"""Our own live pages of every kind replayed as a live day through poll_feed() with
`site: auto`: new updates become new items, an edit updates its item in place, and noise
(relative times, ad slots, counters, sharing links, classes, white space) changes nothing,
byte for byte. And a property: shuffling a page's noise never changes its entries."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedgen_dw.config import FeedConfig
from feedgen_dw.extract import extract_page
from feedgen_dw.fetch import Fetcher
from feedgen_dw.poll import Output, feed_paths, fixed_clock, poll_feed
from feedgen_dw.replay import ReplayServer
from feedgen_dw.store import SQLiteStore
from tests.conftest import parse_feed
from tests.test_generic import FIXTURE_EXPECTED, fixture

ENTRY_RE = re.compile(r"<!--e:(\d)-->.*?<!--/e-->", re.S)
NOISE = [
    '<span class="ago">vor 3 Minuten</span>',
    '<span class="time-ago">12 mins ago</span><a class="share-link" '
    'href="https://twitter.com/intent/tweet?url=x&amp;s={k}">Teilen</a>',
    '<div class="ad-slot-{k}"><span>Anzeige</span></div><span class="comment-count">{k} '
    "Kommentare</span>",
    '<a href="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fx&amp;n={k}">'
    "Share</a><span>vor {k} Stunden</span>",
]


def noisy(page: str, variant: list[int], salt: str = "", spaces: int = 0) -> str:
    """`page` with its noise slots filled (slot i gets NOISE[variant[i % len]]), hashed
    class suffixes, ad slots between entries and more white space."""
    slots = iter(range(10_000))

    def slot(_m: re.Match[str]) -> str:
        n = next(slots)
        return NOISE[variant[n % len(variant)] % len(NOISE)].replace("{k}", str(n + 1))

    page = re.sub(r"<!--noise-->", slot, page)
    if salt:
        digest = hashlib.sha1(salt.encode()).hexdigest()[:6]
        page = re.sub(r'class="([^"]*)"', rf'class="\1 sc-{digest}"', page)
        page = page.replace("<!--/e-->", f'<!--/e--><div class="ad-container sc-{digest}">'
                                         '<div class="ad"></div></div>')
    if spaces:
        page = page.replace("\n", "\n" + " " * spaces)
    return page


def without_newest(page: str) -> str:
    """The page before its newest entry (e:1) was published."""
    if len(ENTRY_RE.findall(page)) < 2:
        return page
    return re.sub(r"<!--e:1-->.*?<!--/e-->", "", page, flags=re.S)


def _day(name: str) -> list[tuple[str, int, int, bool]]:
    """(page, new items, changed items, files change) per poll of a live day."""
    single = len(ENTRY_RE.findall(fixture(name))) < 2
    return [
        (noisy(without_newest(fixture(name)), [0]), 1 if single else len(
            FIXTURE_EXPECTED[name][1]) - 1, 0, True),
        (noisy(fixture(name), [0]), 0 if single else 1, 0, not single),
        (noisy(fixture(name), [1, 2], salt="b", spaces=2), 0, 0, False),  # noise only
        (noisy(fixture(name, edit=True), [3], salt="c"), 0, 1, True),  # one entry edited
        (noisy(fixture(name, edit=True), [2, 0, 1], salt="d", spaces=1), 0, 0, False),
    ]


@pytest.mark.parametrize("name", sorted(FIXTURE_EXPECTED))
def test_live_day_through_poll_feed(name: str, server: ReplayServer, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.sqlite3")
    fetcher = Fetcher()
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/")
    feed = FeedConfig(name="live", url=server.base_url + "/live", site="auto")
    paths = feed_paths(output, "live")
    start = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
    before: dict[str, bytes] = {}
    ids: list[set[str]] = []
    try:
        for n, (page, new, changed, files_change) in enumerate(_day(name)):
            server.set("/live", 200, page.encode(), {"Content-Type": "text/html; charset=utf-8"})
            result = poll_feed(feed, store, fetcher, output,
                               clock=fixed_clock(start + timedelta(minutes=10 * n)))
            assert result.ok, result.error
            assert (result.new, result.changed) == (new, changed), (name, n)
            after = {fmt: p.read_bytes() for fmt, p in paths.items()}
            assert (after != before) is files_change, (name, n)
            before = after
            atom = after["atom"].decode()
            ids.append(set(re.findall(r"<id>(tag:[^<]+)</id>", atom)))
    finally:
        store.close()
        fetcher.close()
    expected_titles = [title for title, _ in FIXTURE_EXPECTED[name][1]]
    titles = [e.title for e in parse_feed(paths["atom"]).entries]
    assert sorted(titles) == sorted(expected_titles)
    assert ids[1] == ids[2] == ids[3] == ids[4]  # the edit kept its item's id
    assert len(ids[4]) == len(expected_titles)


def test_an_entry_without_a_time_gets_its_first_seen_time(server: ReplayServer,
                                                         tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.sqlite3")
    fetcher = Fetcher()
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/")
    feed = FeedConfig(name="live", url=server.base_url + "/latest", site="auto")
    first, later = datetime(2024, 6, 12, 15, 0, tzinfo=UTC), datetime(2024, 6, 12, 16, 0,
                                                                      tzinfo=UTC)
    try:
        for when, page in ((first, without_newest(fixture("rules_the_latest.html"))),
                           (later, fixture("rules_the_latest.html"))):
            server.set("/latest", 200, noisy(page, [0]).encode(),
                       {"Content-Type": "text/html"})
            assert poll_feed(feed, store, fetcher, output, clock=fixed_clock(when)).ok
        atom = feed_paths(output, "live")["atom"].read_text(encoding="utf-8")
    finally:
        store.close()
        fetcher.close()
    published = re.findall(r"<published>([^<]+)</published>", atom)
    # the new entry: when it was first seen; the three before: the first poll, in page order
    assert published == ["2024-06-12T16:00:00+00:00", "2024-06-12T15:00:00+00:00",
                         "2024-06-12T14:59:59+00:00", "2024-06-12T14:59:58+00:00"]


def _entries(page: str) -> list[tuple[object, ...]]:
    article = extract_page(page, "https://news.example/live", "auto")
    return [(s.headline, s.html, s.text, s.published, s.source_key, s.authors, s.is_lead)
            for s in article.sections]


BASELINE = {name: _entries(noisy(fixture(name), [0])) for name in FIXTURE_EXPECTED}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(FIXTURE_EXPECTED)),
       variant=st.lists(st.integers(0, len(NOISE) - 1), min_size=1, max_size=6),
       salt=st.text("abcdef0123456789", max_size=6), spaces=st.integers(0, 4))
def test_noise_never_changes_the_entries(name: str, variant: list[int], salt: str,
                                        spaces: int) -> None:
    assert _entries(noisy(fixture(name), variant, salt, spaces)) == BASELINE[name]
