"""Acceptance: a replayed live day in DW's markup, through poll_feed() and through the CLI."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from feedgen_dw.config import FeedConfig
from feedgen_dw.demo import LIVE_DAY
from feedgen_dw.fetch import Fetcher
from feedgen_dw.model import EditPolicy
from feedgen_dw.poll import Output, feed_paths, fixed_clock, poll_feed
from feedgen_dw.replay import ReplayServer
from feedgen_dw.store import SQLiteStore
from tests.conftest import parse_feed, write_config

AIR = "Selenskyj bittet um mehr Flugabwehr"
AIR_H2 = "Selenskyj wirbt in Brüssel um Flugabwehrsysteme"
FRONT = "Kiew meldet Geländegewinne bei Saporischschja"
ODESSA = "Nächtliche Drohnenangriffe auf Odessa"
EU = "EU berät über neues Sanktionspaket"
EU_REWORDED = "EU-Außenminister ringen um Sanktionspaket"
ENERGY = "Energieversorger warnt vor Engpässen im Winter"

# After each poll of LIVE_DAY: the feed's titles, newest first, and which files changed.
EXPECTED = [
    ([AIR, ODESSA, EU], True),
    ([FRONT, AIR_H2, ODESSA, EU], True),  # new lead; the old lead got a reworded <h2>
    ([FRONT, AIR_H2, ODESSA, EU], False),  # noise only
    ([ENERGY, FRONT, AIR_H2, ODESSA, EU_REWORDED], True),  # new, grown, reworded
    ([ENERGY, FRONT, AIR_H2, ODESSA, EU_REWORDED], False),  # Odessa removed: stays
    ([ENERGY, FRONT, AIR_H2, ODESSA, EU_REWORDED], False),  # noise only
]


def _iso(parsed: time.struct_time | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", parsed) if parsed else ""


def _entries(path: Path) -> list[dict[str, str]]:
    """id, title, times and HTML of each entry; RSS has no `updated`, so it is left empty."""
    return [
        {"id": e.id, "title": e.title, "published": _iso(e.get("published_parsed")),
         "updated": _iso(e.get("updated_parsed")) if path.suffix == ".atom" else "",
         "content": e.content[0].value if "content" in e else e.description}
        for e in parse_feed(path).entries
    ]


def _snapshot(paths: dict[str, Path]) -> dict[str, bytes]:
    return {fmt: p.read_bytes() for fmt, p in paths.items()}


def _check_day(server: ReplayServer, poll: object, paths: dict[str, Path]) -> None:
    """Publish each step, poll via `poll(when)`, and check the exact items after each."""
    ids_by_title: dict[str, str] = {}
    before: dict[str, bytes] = {}
    history: list[list[dict[str, str]]] = []
    for (when, page, noise), (titles, files_change) in zip(LIVE_DAY, EXPECTED, strict=True):
        server.publish(page, noise)
        poll(when)  # type: ignore[operator]
        after = _snapshot(paths)
        assert (after != before) is files_change, (when, titles)
        before = after
        atom, rss = _entries(paths["atom"]), _entries(paths["rss"])
        assert [e["title"] for e in atom] == titles
        assert [(e["id"], e["title"], e["published"], e["content"]) for e in rss] == [
            (e["id"], e["title"], e["published"], e["content"]) for e in atom]
        assert len({e["id"] for e in atom}) == len(atom)
        history.append(atom)
        for entry in atom:
            ids_by_title.setdefault(entry["title"], entry["id"])
    first, second, _, fourth, fifth, _ = history
    by_id = {poll: {e["id"]: e for e in entries} for poll, entries in enumerate(history)}
    # lead -> h2 with a reworded headline: the same item, its title follows the page
    air_id = ids_by_title[AIR]
    assert ids_by_title[AIR_H2] == air_id
    assert by_id[1][air_id]["published"] == by_id[0][air_id]["published"]
    # reworded h2 and grown section: same ids, updated moved, published did not
    eu_id, odessa_id = ids_by_title[EU], ids_by_title[ODESSA]
    assert ids_by_title[EU_REWORDED] == eu_id
    # edited in the 10:00 poll with the new energy section on top: distinct times in feed
    # order (the W3C validator flags entries sharing one updated)
    assert by_id[3][odessa_id]["updated"] == "2026-11-24T09:59:59Z"
    assert by_id[3][eu_id]["updated"] == "2026-11-24T09:59:58Z"
    assert by_id[3][odessa_id]["published"] == by_id[0][odessa_id]["published"]
    assert "Getreideumschlag" in by_id[3][odessa_id]["content"]
    assert "Getreideumschlag" not in by_id[2][odessa_id]["content"]
    # the removed section stays, unchanged, and is not emitted again
    assert fifth == fourth
    # first poll: page order kept by distinct times
    assert [e["published"] for e in first] == [
        "2026-11-24T05:00:00Z", "2026-11-24T04:59:59Z", "2026-11-24T04:59:58Z"]
    assert second[0]["published"] == "2026-11-24T07:00:00Z"
    # never an item for the summary, the video, the agency line or the standing note
    for entry in fifth:
        for noise in ("Das Wichtigste", "Was Sanktionen bewirken", "afp", "fortlaufend"):
            assert noise not in entry["content"], (entry["title"], noise)


def test_live_day_through_poll_feed(server: ReplayServer, tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "state.sqlite3")
    fetcher = Fetcher()
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/")
    feed = FeedConfig(name="live", url=server.base_url + LIVE_DAY[0][1].path,
                      on_edit=EditPolicy.UPDATE)

    def poll(when: object) -> None:
        result = poll_feed(feed, store, fetcher, output, clock=fixed_clock(when))  # type: ignore[arg-type]
        assert result.ok, result.error

    try:
        _check_day(server, poll, feed_paths(output, "live"))
    finally:
        store.close()
        fetcher.close()
    # the slug changed at 07:00: the old URL was answered with a redirect and followed
    assert any("selenskyj" in path for path in server.site.requests)
    assert server.site.pages[LIVE_DAY[0][1].path][0] == 301


def test_live_day_through_the_cli(server: ReplayServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, server.base_url + LIVE_DAY[0][1].path, title="Live",
                          on_edit="update")
    paths = {fmt: tmp_path / "public" / f"live.{fmt}" for fmt in ("atom", "rss")}

    def poll(when: object) -> None:
        proc = subprocess.run(
            [sys.executable, "-m", "feedgen_dw", "run", "--config", str(config),
             "--now", when.isoformat()],  # type: ignore[attr-defined]
            capture_output=True, text=True, timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert "live: " in proc.stdout

    _check_day(server, poll, paths)


@pytest.mark.parametrize("policy", ["ignore", "republish"])
def test_edit_policies(server: ReplayServer, tmp_path: Path, policy: str) -> None:

    store = SQLiteStore(tmp_path / "s.sqlite3")
    fetcher = Fetcher()
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/")
    feed = FeedConfig(name="live", url=server.base_url + LIVE_DAY[0][1].path,
                      on_edit=EditPolicy(policy))
    try:
        for when, page, noise in LIVE_DAY:
            server.publish(page, noise)
            assert poll_feed(feed, store, fetcher, output, clock=fixed_clock(when)).ok
    finally:
        store.close()
        fetcher.close()
    entries = _entries(output.directory / "live.atom")
    titles = [e["title"] for e in entries]
    if policy == "ignore":
        # edits never show: first headlines and first text stay
        assert titles == [ENERGY, FRONT, AIR, ODESSA, EU]
        assert all(e["updated"] == e["published"] for e in entries)
    else:
        # an edited section comes back as a new item (new id), in page order with new ones
        assert titles == [ENERGY, ODESSA, EU_REWORDED, FRONT, AIR_H2]
        assert len({e["id"] for e in entries}) == 5
        revised = {e["title"]: e["id"] for e in entries if e["id"].endswith("/r1")}
        assert set(revised) == {ODESSA, EU_REWORDED, AIR_H2}
