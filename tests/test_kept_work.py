"""What a poll keeps for the next one (raw digests of sanitized sections, rendered entries)
must never show in the output: with and without it, every poll writes the same bytes."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import feedgen_dw.extract as extract_module
import feedgen_dw.render as render_module
from feedgen_dw.config import FeedConfig
from feedgen_dw.demo import FIRST, FOURTH, LIVE_DAY, SECOND, THIRD
from feedgen_dw.fetch import Fetcher
from feedgen_dw.model import EditPolicy, FeedItem
from feedgen_dw.poll import Output, feed_paths, fixed_clock, poll_feed
from feedgen_dw.replay import DemoPage, ReplayServer
from feedgen_dw.store import SQLiteStore

Day = list[tuple[Any, DemoPage, int]]


def _without_kept_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every section sanitized and every entry rendered afresh, as on a first poll."""
    extract, render = extract_module.extract_page, render_module.render_feed

    def extract_all(*args: Any) -> Any:
        return extract(*args[:5], None)  # no known sections

    def render_all(meta: Any, items: list[FeedItem]) -> Any:
        return render(meta, [replace(item, stored_xml=None) for item in items])

    monkeypatch.setattr(extract_module, "extract_page", extract_all)
    monkeypatch.setattr(render_module, "render_feed", render_all)


def _replay(server: ReplayServer, folder: Path, day: Day, policy: EditPolicy
            ) -> list[dict[str, bytes]]:
    store, fetcher = SQLiteStore(folder / "s.sqlite3"), Fetcher(retries=0)
    output = Output(folder / "public", "http://127.0.0.1:8080/")
    feed = FeedConfig(name="live", url=server.base_url + day[0][1].path, on_edit=policy)
    snapshots = []
    try:
        for when, page, noise in day:
            server.publish(page, noise)
            assert poll_feed(feed, store, fetcher, output, fixed_clock(when)).ok
            snapshots.append({fmt: p.read_bytes()
                              for fmt, p in feed_paths(output, "live").items()})
    finally:
        store.close()
        fetcher.close()
    return snapshots


def _both_ways(server: ReplayServer, day: Day, policy: EditPolicy,
               monkeypatch: pytest.MonkeyPatch) -> None:
    with tempfile.TemporaryDirectory() as kept, tempfile.TemporaryDirectory() as fresh:
        with_kept = _replay(server, Path(kept), day, policy)
        with monkeypatch.context() as patch:
            _without_kept_work(patch)
            without = _replay(server, Path(fresh), day, policy)
    for n, (one, other) in enumerate(zip(with_kept, without, strict=True)):
        assert one == other, f"poll {n} differs"


@pytest.mark.parametrize("policy", list(EditPolicy))
def test_the_live_day_writes_the_same_bytes_with_and_without_kept_work(
    server: ReplayServer, monkeypatch: pytest.MonkeyPatch, policy: EditPolicy,
) -> None:
    _both_ways(server, list(LIVE_DAY), policy, monkeypatch)


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from([FIRST, SECOND, THIRD, FOURTH]),
                                st.integers(0, 7)), min_size=2, max_size=6),
       policy=st.sampled_from(list(EditPolicy)))
def test_any_sequence_of_pages_writes_the_same_bytes_with_and_without_kept_work(
    server: ReplayServer, monkeypatch: pytest.MonkeyPatch,
    steps: list[tuple[DemoPage, int]], policy: EditPolicy,
) -> None:
    start = LIVE_DAY[0][0]
    # one article: every page at the first page's address, as a slug that never changes
    day = [(start + timedelta(minutes=30 * n), replace(page, slug=FIRST.slug), noise)
           for n, (page, noise) in enumerate(steps)]
    _both_ways(server, day, policy, monkeypatch)
