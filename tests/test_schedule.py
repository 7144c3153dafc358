"""The schedule: a pure plan tested with an injected clock, and the daemon's scheduler."""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedgen_dw.config import FeedConfig, Settings
from feedgen_dw.demo import FIRST
from feedgen_dw.model import FeedStatus, HttpState
from feedgen_dw.plan import plan_first, plan_next
from feedgen_dw.replay import ReplayServer
from feedgen_dw.schedule import Daemon
from feedgen_dw.store import SQLiteStore
from tests.conftest import write_config

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
URL = "https://www.dw.com/de/x/a-1"
FEED = FeedConfig(name="f", url=URL, interval=300)


def status(**kw: object) -> FeedStatus:
    kw.setdefault("http", HttpState(config_url=URL))
    return FeedStatus(name="f", **kw)  # type: ignore[arg-type]


def test_jitter_defaults_to_a_tenth_of_the_interval_and_stays_in_bounds() -> None:
    rng = random.Random(1)
    delays = [plan_next(FEED, status(last_change=NOW), NOW, rng).delay for _ in range(500)]
    assert all(d is not None and 300 <= d <= 330 for d in delays)
    assert max(d for d in delays if d) - min(d for d in delays if d) > 20  # really random
    fixed = FeedConfig(name="f", url=URL, interval=300, settings=Settings(jitter=0))
    assert plan_next(fixed, status(), NOW, rng).delay == 300


def test_backoff_doubles_per_failure_capped_at_an_hour_and_resets() -> None:
    feed = FeedConfig(name="f", url=URL, interval=300, settings=Settings(jitter=0))
    rng = random.Random(0)
    delays = [plan_next(feed, status(failures=n), NOW, rng) for n in range(6)]
    assert [p.delay for p in delays] == [300, 600, 1200, 2400, 3600, 3600]
    assert [p.reason for p in delays] == ["interval"] + ["backoff"] * 5
    assert plan_next(feed, status(failures=1), NOW, rng, retry_after=2000).delay == 2000


def test_quiet_and_stop() -> None:
    feed = FeedConfig(name="f", url=URL, interval=300, settings=Settings(jitter=0))
    rng = random.Random(0)
    quiet = plan_next(feed, status(last_change=NOW - timedelta(hours=6)), NOW, rng)
    assert (quiet.delay, quiet.reason) == (3600, "quiet")
    busy = plan_next(feed, status(last_change=NOW - timedelta(hours=5)), NOW, rng)
    assert (busy.delay, busy.reason) == (300, "interval")
    stopped = plan_next(feed, status(last_change=NOW - timedelta(hours=48)), NOW, rng)
    assert (stopped.delay, stopped.reason) == (None, "stopped")
    # a new url in the config names the feed again
    renamed = status(last_change=NOW - timedelta(hours=48), http=HttpState(config_url="x"))
    assert plan_next(feed, renamed, NOW, rng).delay == 300
    custom = FeedConfig(name="f", url=URL, interval=60, settings=Settings(
        jitter=0, quiet_after=600, quiet_interval=900, stop_after=3600))
    assert plan_next(custom, status(last_change=NOW - timedelta(minutes=11)), NOW, rng).delay == 900
    assert plan_next(custom, status(last_change=NOW - timedelta(hours=1)), NOW, rng).delay is None


def test_first_poll_after_a_restart_follows_the_stored_state(tmp_path: Path) -> None:
    feed = FeedConfig(name="f", url=URL, interval=300, settings=Settings(jitter=0))
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.save_poll("f", [], NOW - timedelta(hours=7), http=HttpState(config_url=URL),
                    changed=True)
    store.save_poll("f", [], NOW - timedelta(minutes=10))
    store.record_failure("f", "HTTP 503", NOW - timedelta(minutes=1))
    store.record_failure("f", "HTTP 503", NOW)
    store.close()
    restored = SQLiteStore(tmp_path / "s.sqlite3").status("f")  # a new process, same file
    assert restored.failures == 2 and restored.last_change == NOW - timedelta(hours=7)
    # the backoff (300 * 2^2) is kept, but a restart tries once within a minute first
    assert plan_next(feed, restored, NOW, random.Random(0)).delay == 1200
    plan = plan_first(feed, restored, NOW, random.Random(0))
    assert plan.delay is not None and plan.delay <= 60 and plan.reason == "retry-after-restart"
    never = plan_first(feed, FeedStatus(name="f"), NOW, random.Random(0))
    assert (never.delay, never.reason) == (0, "first")


def test_daemon_never_overlaps_a_slow_poll(server: ReplayServer, tmp_path: Path) -> None:
    server.publish(FIRST)
    server.site.delay = 1.2  # each answer takes longer than the 1 s interval
    config = write_config(tmp_path, server.base_url + FIRST.path, interval="1s", jitter=0)
    daemon = Daemon(config)
    daemon.schedule_all()
    thread = threading.Thread(target=daemon.scheduler.start, daemon=True)
    thread.start()
    time.sleep(4.5)
    daemon.stop()
    thread.join(10)
    assert daemon.wait_idle(10)
    assert server.request_count() >= 2
    assert server.site.max_in_flight == 1
    gaps = [b - a for a, b in zip(server.site.times, server.site.times[1:], strict=False)]
    assert all(gap >= 1.2 for gap in gaps)  # the next poll starts after the last one ended


def test_a_last_poll_from_a_clock_that_was_ahead_counts_as_now() -> None:
    feed = FeedConfig(name="f", url=URL, interval=300, settings=Settings(jitter=0))
    ahead = status(last_poll=NOW + timedelta(days=182), last_change=NOW)
    plan = plan_first(feed, ahead, NOW, random.Random(0))
    assert plan.delay is not None and plan.delay <= 300


def test_a_restart_tries_a_failing_feed_once_within_a_minute() -> None:
    feed = FeedConfig(name="f", url=URL, interval=300, settings=Settings(jitter=0))
    failing = status(last_poll=NOW - timedelta(seconds=10), failures=6)
    delays = [plan_first(feed, failing, NOW, random.Random(n)) for n in range(50)]
    assert all(p.delay is not None and 0 <= p.delay <= 60 for p in delays)
    assert {p.reason for p in delays} == {"retry-after-restart"}
    # after that try fails, the backoff goes on from the stored count
    assert plan_next(feed, failing, NOW, random.Random(0)).delay == 3600


def test_reload_keeps_the_running_config_whatever_goes_wrong(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import feedgen_dw.schedule as schedule

    daemon = Daemon(write_config(tmp_path, URL))
    running = daemon.config

    def broken(path: Path) -> None:
        raise TypeError("'int' object is not iterable")

    monkeypatch.setattr(schedule, "load_config", broken)
    with caplog.at_level(logging.INFO, logger="feedgen_dw"):
        assert daemon.reload() is False
    assert daemon.config is running
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert lines == ["reload status=failed error=TypeError: 'int' object is not iterable "
                     "(keeping the running config)"]


def test_a_second_signal_while_stopping_is_quiet(tmp_path: Path) -> None:
    daemon = Daemon(write_config(tmp_path, URL))
    daemon._on_signal(signal.SIGINT, None)  # before the scheduler ever ran
    daemon._on_signal(signal.SIGINT, None)
    daemon._on_signal(signal.SIGTERM, None)


def test_schedule_decisions_that_delay_a_feed_are_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from feedgen_dw.plan import Plan

    daemon = Daemon(write_config(tmp_path, URL))
    daemon.schedule_all()
    with caplog.at_level(logging.INFO, logger="feedgen_dw"):
        daemon._apply("live", Plan(600.0, "backoff"), NOW)
        daemon._apply("live", Plan(300.0, "interval"), NOW)
        daemon._apply("live", Plan(None, "stopped"), NOW)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert lines == ["schedule feed=live status=backoff next=600s",
                     "schedule feed=live status=stopped reason=unchanged for stop_after"]


def test_a_poll_job_whose_database_fails_logs_one_line_and_raises_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from feedgen_dw.errors import StoreError

    daemon = Daemon(write_config(tmp_path, URL))

    def broken() -> None:
        raise StoreError("state/feeds.sqlite3: cannot open database (Permission denied)")

    monkeypatch.setattr(daemon, "_resources", broken)
    with caplog.at_level(logging.INFO, logger="feedgen_dw"):
        daemon.poll("live")  # APScheduler would print a traceback for an exception
    assert [r.getMessage() for r in caplog.records] == [
        "poll feed=live status=failed error=state/feeds.sqlite3: cannot open database "
        "(Permission denied)"]


def test_the_site_job_waits_out_its_last_write_and_feeds_follow_a_reload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, URL)
    daemon = Daemon(config)
    writes: list[int] = []
    monkeypatch.setattr(daemon, "_write_site", lambda: writes.append(1))
    daemon._site_dirty = True
    daemon._site_next = float("inf")  # as after a write that cost a very long time
    daemon._site_job()
    assert writes == []
    daemon._site_next = 0.0
    daemon._site_job()
    assert writes == [1]
    assert daemon.config.by_name.get("live") == daemon.config.feed("live")
    daemon.schedule_all()
    config.write_text(config.read_text().replace("  live:", "  other:"), encoding="utf-8")
    assert daemon.reload()
    assert daemon.config.by_name.get("live") is None
    assert daemon.config.by_name.get("other") == daemon.config.feed("other")


def test_first_polls_due_at_once_are_spread_one_alone_is_not() -> None:
    from feedgen_dw.plan import FIRST_SPACING, plan_all_first

    def feeds(n: int, interval: float = 60) -> list[FeedConfig]:
        return [FeedConfig(name=f"f{k}", url=f"{URL}{k}", interval=interval,
                           settings=Settings(jitter=0)) for k in range(n)]

    def delays(configs: list[FeedConfig], statuses: list[FeedStatus]) -> list[float]:
        plans = plan_all_first(configs, statuses, NOW, random.Random(0))
        return [p.delay for p in plans if p.delay is not None]

    alone = feeds(1)
    assert delays(alone, [FeedStatus(name="f0")]) == [0]  # a new feed is polled at once
    few = feeds(100)
    spaced = delays(few, [FeedStatus(name=f.name) for f in few])
    assert spaced == pytest.approx([k * FIRST_SPACING for k in range(100)])  # 10 s in all
    many = feeds(10_000)
    spread = delays(many, [FeedStatus(name=f.name) for f in many])
    assert spread == pytest.approx([k * 60 / 10_000 for k in range(10_000)])  # one interval
    # feeds polled before keep their due time; the overdue ones are spread with the new
    polled = [FeedStatus(name="f0", last_poll=NOW - timedelta(seconds=30),
                         http=HttpState(config_url=f"{URL}0")),
              FeedStatus(name="f1", last_poll=NOW - timedelta(hours=1),
                         http=HttpState(config_url=f"{URL}1")),
              FeedStatus(name="f2")]
    mixed = plan_all_first(feeds(3), polled, NOW, random.Random(0))
    assert [p.delay for p in mixed] == pytest.approx([30, 0, FIRST_SPACING])
    assert [p.reason for p in mixed] == ["interval", "interval", "first"]


def test_a_start_with_many_new_feeds_spreads_their_first_polls(tmp_path: Path) -> None:
    config = write_config(tmp_path, URL, interval="1m", jitter=0)
    config.write_text(config.read_text() + "".join(
        f"  f{n}:\n    url: {URL}{n}\n    interval: 1m\n    jitter: 0\n" for n in range(599)),
        encoding="utf-8")
    daemon = Daemon(config, clock=lambda: NOW, rng=random.Random(0))
    daemon.schedule_all()
    due = sorted((job.next_run_time - NOW).total_seconds()
                 for job in daemon.scheduler.get_jobs())
    assert due == pytest.approx([k * 0.1 for k in range(600)])  # 600 in one minute
