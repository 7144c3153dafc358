"""Real clients: newsboat reading the served feed through a live day, and headless
Chromium showing the feed (through its XSL stylesheet) and the index page."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from feedgen_dw.config import FeedConfig
from feedgen_dw.demo import LIVE_DAY
from feedgen_dw.fetch import Fetcher
from feedgen_dw.poll import Output, fixed_clock, poll_feed, write_site
from feedgen_dw.replay import ReplayServer
from feedgen_dw.serve import FeedHTTPServer
from feedgen_dw.store import SQLiteStore
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


class Day:
    """A live day polled step by step into a served output folder."""

    def __init__(self, folder: Path) -> None:
        self.public = folder / "public"
        self.public.mkdir(parents=True)
        self.server = FeedHTTPServer(self.public, "127.0.0.1", 0, lambda name: 300,
                                     clock=file_system_clock(folder)).start()
        self.replay = ReplayServer().start()
        self.store, self.fetcher = SQLiteStore(folder / "s.sqlite3"), Fetcher()
        self.output = Output(self.public, self.server.url)
        self.feed = FeedConfig(name="live", url=self.replay.base_url + LIVE_DAY[0][1].path,
                               title="DW – Ukraine aktuell (Test)")

    def poll(self, step: int) -> None:
        when, page, noise = LIVE_DAY[step]
        self.replay.publish(page, noise)
        assert poll_feed(self.feed, self.store, self.fetcher, self.output, fixed_clock(when)).ok
        write_site([self.feed], self.store, self.output)

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


def test_newsboat_reads_the_live_day(day: Day, tmp_path: Path) -> None:
    newsboat = shutil.which("newsboat")
    if newsboat is None:
        pytest.skip("newsboat is not installed (.ci/run installs it with apt-get)")
    urls, cache, conf = tmp_path / "urls", tmp_path / "cache.db", tmp_path / "config"
    urls.write_text(day.server.url + "live.atom\n", encoding="utf-8")
    conf.write_text("", encoding="utf-8")
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
           "XDG_DATA_HOME": str(tmp_path / "xdg")}
    unread_before = 0
    for step, new in enumerate(NEW_TITLES):
        day.poll(step)
        subprocess.run([newsboat, "-x", "reload", "-u", str(urls), "-c", str(cache),
                        "-C", str(conf)], check=True, env=env, timeout=60,
                       capture_output=True)
        db = sqlite3.connect(cache)
        rows = db.execute("SELECT guid, title, content, unread FROM rss_item "
                          "WHERE deleted = 0").fetchall()
        db.close()
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


@pytest.mark.parametrize("page", ["live.atom", "live.rss", "index.html"])
def test_chromium_shows_the_feed_and_the_index(day: Day, tmp_path: Path, page: str) -> None:
    binary = _chromium()
    for step in range(len(LIVE_DAY)):
        day.poll(step)
    url = day.server.url + page
    dom = _browser(binary, tmp_path / "profile", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-500:]
    text = dom.stdout
    if page == "index.html":
        assert "DW – Ukraine aktuell (Test)" in text and "live.atom" in text
    else:
        for title in FINAL_TITLES:  # the stylesheet turned the feed into a page
            assert title in text, title
        assert "<article>" in text and "Getreideumschlag" in text
        assert "&lt;p&gt;" not in text  # the HTML content is shown as HTML, not as code
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"browser-{page.replace('.', '-')}.png"
    result = _browser(binary, tmp_path / "profile2", f"--screenshot={shot}",
                      "--window-size=1000,1400", "--hide-scrollbars", url)
    assert result.returncode == 0 and shot.stat().st_size > 10_000
