"""SIGKILL at random points of a poll, over many trials (`make crash-test` runs 200).

After every kill: the database passes integrity_check, the feed files that exist are
complete and valid, and a rerun neither loses nor duplicates an item.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser

from feedgen_dw.demo import FOURTH
from feedgen_dw.replay import DemoSection, ReplayServer

TRIALS = int(os.environ.get("FEEDGEN_DW_CRASH_TRIALS", "20"))
T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)


def _page(trial: int):  # type: ignore[no-untyped-def]
    """Every trial's page has one more section, so every poll has something to write."""
    extra = tuple(
        DemoSection(headline=f"Meldung Nummer {n}",
                    paragraphs=(f"Eigener Text der Meldung {n} mit Worten {n * 3} {n * 7}.",))
        for n in range(trial, -1, -1)
    )
    return FOURTH.__class__(**{**FOURTH.__dict__, "sections": (*FOURTH.sections[:1], *extra,
                                                               *FOURTH.sections[1:])})


def _entries(path: Path) -> dict[str, str]:
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    ids = [e.id for e in parsed.entries]
    assert len(ids) == len(set(ids)), "duplicated id"
    return {e.id: e.published for e in parsed.entries}


def test_sigkill_at_random_points_loses_and_duplicates_nothing(
    server: ReplayServer, tmp_path: Path
) -> None:
    rng = random.Random(int(os.environ.get("FEEDGEN_DW_CRASH_SEED", "1")))
    config = tmp_path / "config.yaml"
    config.write_text(
        f"feeds:\n  live:\n    url: {server.base_url}{FOURTH.path}\n    max_items: 100000\n",
        encoding="utf-8")
    command = [sys.executable, "-m", "feedgen_dw", "run", "-q", "--config", str(config)]
    database = tmp_path / "state" / "feeds.sqlite3"
    atom = tmp_path / "public" / "live.atom"
    known: dict[str, str] = {}
    outcomes: Counter[str] = Counter()
    for trial in range(TRIALS):
        server.publish(_page(trial), noise=trial)
        now = (T0 + timedelta(minutes=10 * trial)).isoformat()
        seen = server.request_count()
        proc = subprocess.Popen([*command, "--now", now],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if trial % 2:
            time.sleep(rng.uniform(0.0, 0.6))  # anywhere from start-up on
        else:
            deadline = time.monotonic() + 10
            while server.request_count() == seen and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.15))  # during parsing, the transaction, the writes
        proc.kill()
        code = proc.wait()
        outcomes["killed" if code == -9 else "finished first"] += 1
        if database.exists():
            db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            db.close()
        if atom.exists():
            _entries(atom)  # complete and valid, never half written
        rerun = subprocess.run([*command, "--now", now], capture_output=True, text=True,
                               timeout=60)
        assert rerun.returncode == 0, rerun.stderr
        entries = _entries(atom)
        for item_id, published in known.items():
            assert entries.get(item_id) == published, f"trial {trial}: lost or moved {item_id}"
        known.update(entries)
        assert len(entries) == len(FOURTH.sections) + trial + 1
    print(f"\ncrash test: {TRIALS} trials, {outcomes['killed']} killed mid-run, "
          f"{outcomes['finished first']} finished before the kill; "
          f"all {TRIALS} reruns consistent, {len(known)} items, none lost or duplicated")
    assert outcomes["killed"] >= TRIALS // 4  # the kills really land inside runs
