"""Real clients: newsboat reading the served feed through a live day (under update and
announce) and every kind of feed, and headless Chromium showing a feed's URL (the page
view.py writes, served to browsers instead of the feed: no XSLT) and the index page."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests

from feedgen_dw.config import FeedConfig
from feedgen_dw.demo import ENERGY, FOURTH, LIVE_DAY
from feedgen_dw.fetch import Fetcher
from feedgen_dw.model import EditPolicy
from feedgen_dw.poll import Output, fixed_clock, poll_feed, write_site
from feedgen_dw.replay import DemoPage, ReplayServer
from feedgen_dw.serve import FeedHTTPServer
from feedgen_dw.store import SQLiteStore
from tests.feed_kinds import KINDS, build_kinds
from tests.fsclock import file_system_clock

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
# titles of the new sections of each poll of LIVE_DAY, and how the feed's titles look after
NEW_TITLES = [
    {"Selenskyj bittet um mehr Flugabwehr", "Nächtliche Drohnenangriffe auf Odessa",
     "EU berät über neues Sanktionspaket"},
    {"Kiew meldet Geländegewinne bei Saporischschja"}, set(),
    {"Energieversorger warnt vor Engpässen im Winter"}, set(), set(),
]
FINAL_TITLES = {"Energieversorger warnt vor Engpässen im Winter",
                "Kiew meldet Geländegewinne bei Saporischschja",
                "Selenskyj wirbt in Brüssel um Flugabwehrsysteme",
                "Nächtliche Drohnenangriffe auf Odessa",
                "EU-Außenminister ringen um Sanktionspaket"}


# LIVE_DAY with a typo slipping into the energy section at 12:00 and fixed at 13:00
TYPO = replace(FOURTH, sections=tuple(
    replace(s, paragraphs=(s.paragraphs[0].replace("Abschaltungen", "Abschaltungn"),
                           *s.paragraphs[1:])) if s is ENERGY else s
    for s in FOURTH.sections))
ANNOUNCE_DAY: tuple[tuple[datetime, DemoPage, int], ...] = (
    *LIVE_DAY[:4], (LIVE_DAY[4][0], TYPO, 4), (LIVE_DAY[5][0], FOURTH, 5),
    (LIVE_DAY[5][0] + timedelta(hours=1), FOURTH, 6))
# new items per poll under announce: the new sections, and one per grown section
ANNOUNCED = [
    {"Selenskyj bittet um mehr Flugabwehr", "Nächtliche Drohnenangriffe auf Odessa",
     "EU berät über neues Sanktionspaket"},
    {"Kiew meldet Geländegewinne bei Saporischschja"}, set(),
    {"Energieversorger warnt vor Engpässen im Winter",
     "Update: Nächtliche Drohnenangriffe auf Odessa"},
    set(), set(), set(),
]


class Day:
    """A live day polled step by step into a served output folder."""

    def __init__(self, folder: Path, policy: EditPolicy = EditPolicy.UPDATE,
                 day: tuple[tuple[datetime, DemoPage, int], ...] = LIVE_DAY) -> None:
        self.day = day
        self.public = folder / "public"
        self.public.mkdir(parents=True)
        self.server = FeedHTTPServer(self.public, "127.0.0.1", 0, lambda name: 300,
                                     clock=file_system_clock(folder)).start()
        self.replay = ReplayServer().start()
        self.store, self.fetcher = SQLiteStore(folder / "s.sqlite3"), Fetcher()
        self.output = Output(self.public, self.server.url)
        self.feed = FeedConfig(name="live", url=self.replay.base_url + LIVE_DAY[0][1].path,
                               title="DW – Ukraine aktuell (Test)", on_edit=policy)

    def poll(self, step: int) -> None:
        when, page, noise = self.day[step]
        self.replay.publish(page, noise)
        assert poll_feed(self.feed, self.store, self.fetcher, self.output, fixed_clock(when)).ok
        write_site([self.feed], self.store, self.output)
        # files dated by the poll's clock, as when polls are minutes apart: polls a few ms
        # apart give one Last-Modified second to two versions, and curl (newsboat) drops
        # a 200 whose Last-Modified is not newer than its If-Modified-Since
        for path in self.public.iterdir():
            os.utime(path, (when.timestamp(), when.timestamp()))

    def close(self) -> None:
        self.store.close()
        self.fetcher.close()
        self.replay.stop()
        self.server.stop()


@pytest.fixture
def day(tmp_path: Path) -> Iterator[Day]:
    d = Day(tmp_path)
    yield d
    d.close()


class Newsboat:
    """newsboat reloading a list of URLs into its cache, in a home of its own."""

    def __init__(self, folder: Path, urls: list[str]) -> None:
        binary = shutil.which("newsboat")
        if binary is None:
            pytest.skip("newsboat is not installed (.ci/run installs it with apt-get)")
        self.binary = binary
        self.urls, self.cache = folder / "urls", folder / "cache.db"
        self.conf = folder / "config"
        self.urls.write_text("".join(u + "\n" for u in urls), encoding="utf-8")
        self.conf.write_text("", encoding="utf-8")
        self.env = {**os.environ, "HOME": str(folder), "XDG_CONFIG_HOME": str(folder / "xdg"),
                    "XDG_DATA_HOME": str(folder / "xdg")}

    def reload(self) -> list[tuple[str, str, str, int, str]]:
        """(guid, title, content, unread, feed url) of every item after a reload."""
        subprocess.run([self.binary, "-x", "reload", "-u", str(self.urls), "-c",
                        str(self.cache), "-C", str(self.conf)], check=True, env=self.env,
                       timeout=60, capture_output=True)
        db = sqlite3.connect(self.cache)
        rows = db.execute("SELECT guid, title, content, unread, feedurl FROM rss_item "
                          "WHERE deleted = 0").fetchall()
        db.close()
        return rows


def test_newsboat_reads_the_live_day(day: Day, tmp_path: Path) -> None:
    reader = Newsboat(tmp_path, [day.server.url + "live.atom"])
    unread_before = 0
    for step, new in enumerate(NEW_TITLES):
        day.poll(step)
        rows = reader.reload()
        guids = [r[0] for r in rows]
        assert len(guids) == len(set(guids))  # no duplicates after edits and rewordings
        assert {r[1] for r in rows} >= new
        unread = sum(r[3] for r in rows)
        assert unread - unread_before == len(new), (step, unread, unread_before)
        unread_before = unread
    assert {r[1] for r in rows} == FINAL_TITLES  # one article per section, titles right
    odessa = next(r for r in rows if r[1] == "Nächtliche Drohnenangriffe auf Odessa")
    assert "Getreideumschlag" in odessa[2]  # the grown section's content was updated


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("Chromium is not installed (.ci/run installs it with apt-get)")


def _browser(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("page", ["live.atom", "live.rss", "live.json", "index.html"])
def test_chromium_shows_a_feed_url_as_a_page_without_xslt(day: Day, tmp_path: Path,
                                                          page: str) -> None:
    binary = _chromium()
    for step in range(len(LIVE_DAY)):
        day.poll(step)
    url = day.server.url + page
    dom = _browser(binary, tmp_path / "profile", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-500:]
    text = dom.stdout
    if page == "index.html":
        assert "DW – Ukraine aktuell (Test)" in text and "live.atom" in text
        assert "Energieversorger warnt vor Engpässen im Winter" in text  # the newest titles
        assert 'href="' + day.server.url + 'live.html"' in text
    else:
        # the page written for browsers, not the feed through the XSL stylesheet: no
        # XSLT ran, so no banner about its removal; header and subscribe hint are there
        assert '<ul class="subscribe">' in text and "xml-stylesheet" not in text
        assert "<h1>DW – Ukraine aktuell (Test)</h1>" in text
        assert "copy one of these addresses into your feed reader" in text
        for title in FINAL_TITLES:
            assert title in text, title
        assert "<article>" in text and "Getreideumschlag" in text
        assert "&lt;p&gt;" not in text  # the HTML content is shown as HTML, not as code
        assert "<script" not in text
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"browser-{page.replace('.', '-')}.png"
    result = _browser(binary, tmp_path / "profile2", f"--screenshot={shot}",
                      "--window-size=1000,1400", "--hide-scrollbars", url)
    assert result.returncode == 0 and shot.stat().st_size > 10_000


@pytest.mark.parametrize("kind", KINDS)
def test_chromium_renders_every_title_of_every_kind(kinds: FeedHTTPServer, tmp_path: Path,
                                                    kind: str) -> None:
    binary = _chromium()
    dom = _browser(binary, tmp_path / "profile", "--dump-dom", f"{kinds.url}{kind}.atom")
    assert dom.returncode == 0, dom.stderr[-500:]
    titles = _titles(kinds, kind)
    assert titles
    for title in titles:
        assert json.dumps(title, ensure_ascii=False)[1:-1] in dom.stdout.replace("&amp;", "&")
    assert '<ul class="subscribe">' in dom.stdout


def test_newsboat_under_announce_counts_one_per_new_and_per_grown_section(
    tmp_path: Path
) -> None:
    """Rises by one per new section and one per grown section; never for markup noise, a
    lead moving under a heading, a reworded headline, a removal or a typo fix."""
    day = Day(tmp_path, EditPolicy.ANNOUNCE, ANNOUNCE_DAY)
    try:
        # one cache each: newsboat keeps one item per guid across its feeds
        readers = {}
        for fmt in ("atom", "rss"):
            (tmp_path / fmt).mkdir()
            readers[fmt] = Newsboat(tmp_path / fmt, [f"{day.server.url}live.{fmt}"])
        unread_before = {"atom": 0, "rss": 0}
        for step, new in enumerate(ANNOUNCED):
            day.poll(step)
            for fmt, reader in readers.items():
                mine = rows = reader.reload()
                assert len({r[0] for r in mine}) == len(mine)  # no duplicate guid
                assert {r[1] for r in mine} >= new
                unread = sum(r[3] for r in mine)
                assert unread - unread_before[fmt] == len(new), (fmt, step, unread)
                unread_before[fmt] = unread
        note = next(r for r in rows if r[1].startswith("Update: Nächtliche"))
        assert "Getreideumschlag" in note[2] and "Lagerhallen" not in note[2]  # only the news
    finally:
        day.close()


@pytest.fixture(scope="module")
def kinds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FeedHTTPServer]:
    folder = tmp_path_factory.mktemp("kinds")
    public = folder / "public"
    public.mkdir()
    server = FeedHTTPServer(public, "127.0.0.1", 0, lambda name: 300).start()
    build_kinds(folder, server.url, EditPolicy.ANNOUNCE)
    yield server
    server.stop()


def _titles(server: FeedHTTPServer, kind: str) -> list[str]:
    doc = requests.get(f"{server.url}{kind}.json", timeout=10,
                       headers={"Accept": "application/feed+json"}).json()
    return [item["title"] for item in doc["items"]]


def test_newsboat_reads_every_kind(kinds: FeedHTTPServer, tmp_path: Path) -> None:
    for kind in KINDS:
        for fmt in ("atom", "rss"):
            # a cache each: newsboat keeps one item per guid, and feeds share articles
            home = tmp_path / f"{kind}-{fmt}"
            home.mkdir()
            rows = Newsboat(home, [f"{kinds.url}{kind}.{fmt}"]).reload()
            assert sorted(r[1] for r in rows) == sorted(_titles(kinds, kind)), (kind, fmt)
            assert len({r[0] for r in rows}) == len(rows)

