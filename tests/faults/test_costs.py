"""Cost blow-ups a page can cause: matching thousands of reworded sections, one huge
section, caches that grow with text size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feedgen_dw import diff
from feedgen_dw.config import FeedConfig
from feedgen_dw.demo import FIRST
from feedgen_dw.errors import ExtractError
from feedgen_dw.fetch import Fetcher
from feedgen_dw.model import Article, Section
from feedgen_dw.poll import Output, feed_paths, fixed_clock, poll_feed
from feedgen_dw.replay import DemoSection, ReplayServer
from feedgen_dw.store import SQLiteStore

T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)


def _article(n: int, reworded: bool) -> Article:
    sections = []
    for i in range(n):
        words = [f"w{(i * 7919 + k * 104729) % 20000}" for k in range(60)]
        if reworded:
            words[5], words[30] = "geändert", "neu"
        text = " ".join(words)
        sections.append(Section(headline=f"Meldung {i}" + (" (aktualisiert)" if reworded else ""),
                                html=f"<p>{text}</p>", text=text))
    return Article(article_id="a-1", host="www.dw.com", url="https://www.dw.com/de/x/a-1",
                   title="t", feed_title="t", language="de", sections=tuple(sections),
                   profile="dw", source="dom")


def test_two_thousand_reworded_sections_are_matched_near_linearly(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every section reworded (headline and body): each is still recognised, with a
    number of text comparisons linear in the sections (all pairs: 4,000,000)."""
    n = 2000
    prev = diff.diff_article(None, _article(n, False), T0).state
    calls = 0
    real = diff.similarity

    def counting(a: str, b: str) -> float:
        nonlocal calls
        calls += 1
        return real(a, b)

    monkeypatch.setattr(diff, "similarity", counting)
    result = diff.diff_article(prev, _article(n, True), T0 + timedelta(hours=1))
    assert not result.new and not result.removed and len(result.changed) == n
    assert calls <= (diff.CANDIDATES_PER_SECTION * 2 + 1) * n, calls


def test_a_page_of_ordinary_size_still_compares_all_pairs(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 40
    prev = diff.diff_article(None, _article(n, False), T0).state
    seen: list[Any] = []
    monkeypatch.setattr(diff, "_score", lambda *args: seen.append(args) or 0.0)
    with pytest.raises(ExtractError):  # nothing matched: the layout guard speaks
        diff.diff_article(prev, _article(n, True), T0 + timedelta(hours=1))
    assert len(seen) == n * n


def test_one_huge_section_is_matched_on_a_bounded_part_and_the_cache_stays_bounded() -> None:
    huge = " ".join(f"wort{k}" for k in range(1_500_000))  # about 14 MB of text
    assert len(diff._shingles(huge)) < diff.MATCH_TEXT_CHARS
    assert diff.similarity(huge, huge + " mehr") == 1.0
    cache = diff._ShingleCache(1024 * 1024)
    for k in range(200):
        cache.get(f"{k} " + "abc def ghi " * 300)
    assert cache.used <= cache.budget


def test_a_section_of_megabytes_is_shortened_in_the_state_and_the_feeds(
    server: ReplayServer, tmp_path: Path
) -> None:
    words = " ".join(f"wort{k}" for k in range(300_000))  # about 2.9 MB
    page = FIRST.__class__(**{**FIRST.__dict__, "sections": (
        *FIRST.sections, DemoSection(headline="Riesig", paragraphs=(words,)))})
    url = server.publish(page)
    store, fetcher = SQLiteStore(tmp_path / "s.sqlite3"), Fetcher()
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/")
    try:
        for hour in range(2):  # the second poll sees the same page: nothing changes
            result = poll_feed(FeedConfig(name="f", url=url), store, fetcher, output,
                               fixed_clock(T0 + timedelta(hours=hour)))
            assert result.ok, result.error
        assert (result.new, result.changed) == (0, 0)
    finally:
        fetcher.close()
        store.close()
    atom = feed_paths(output, "f")["atom"].read_bytes()
    assert len(atom) < 100_000 and b"shortened by feedgen-dw" in atom
