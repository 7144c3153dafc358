"""When to poll: a pure plan from a feed's stored status, and the daemon that follows it.

The plan is a function of (feed config, stored status, now, random source): tests give it
a clock and a seeded Random. The daemon is APScheduler (blocking scheduler, one job per
feed, max_instances=1, coalescing) calling the same poll_feed() as `run`.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import socket
import threading
from concurrent.futures import ThreadPoolExecutor as PollPool
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from feedgen_dw.config import Config, FeedConfig, load_config
from feedgen_dw.errors import FeedgenDwError
from feedgen_dw.fetch import Fetcher
from feedgen_dw.lock import StateLock
from feedgen_dw.model import FeedStatus
from feedgen_dw.poll import Clock, Output, poll_feed, utc_now, write_site
from feedgen_dw.store import Store, claims, open_store
from feedgen_dw.store.sql import SqlStore

if TYPE_CHECKING:
    from feedgen_dw.serve import FeedHTTPServer

log = logging.getLogger(__name__)

MAX_BACKOFF = 3600.0  # failing feeds are retried at least hourly
SITE_EVERY = 5  # seconds between rewrites of index.html and feeds.opml in the daemon
# several daemons on one PostgreSQL (store/claims.py)
# a claim lasts `lease` (config; 120 s) unless renewed, renewed every third of it: a dead
# node's feeds wait at most one lease
TICK = 1.0  # seconds between a node's claim rounds


@dataclass(frozen=True)
class Plan:
    """The next poll of a feed: in `delay` seconds, or never (stopped)."""

    delay: float | None
    reason: str  # interval | backoff | quiet | stopped | first


def is_stopped(feed: FeedConfig, status: FeedStatus, now: datetime) -> bool:
    """Unchanged for stop_after, and the config still names the same URL."""
    if status.last_change is None or status.http.config_url != feed.url:
        return False
    return (now - status.last_change).total_seconds() >= feed.settings.stop_after


def plan_next(
    feed: FeedConfig, status: FeedStatus, now: datetime, rng: random.Random,
    retry_after: float | None = None,
) -> Plan:
    """How long to wait before polling `feed` again, after a poll that left `status`."""
    if is_stopped(feed, status, now):
        return Plan(None, "stopped")
    settings = feed.settings
    # how long the page has been unchanged says nothing about a url the config names anew
    last_change = status.last_change if status.http.config_url == feed.url else None
    if status.failures:
        base = min(feed.interval * 2 ** min(status.failures, 20), max(MAX_BACKOFF, feed.interval))
        base, reason = max(base, retry_after or 0.0), "backoff"
    elif last_change and (now - last_change).total_seconds() >= settings.quiet_after:
        base, reason = max(feed.interval, settings.quiet_interval), "quiet"
    else:
        base, reason = feed.interval, "interval"
    return Plan(base + rng.uniform(0, feed.jitter), reason)


def plan_first(feed: FeedConfig, status: FeedStatus, now: datetime, rng: random.Random) -> Plan:
    """When to poll first after the daemon starts: what the stored status says was due."""
    plan = plan_next(feed, status, now, rng)
    if plan.delay is None or status.last_poll is None:
        return plan if plan.delay is None else Plan(rng.uniform(0, feed.jitter), "first")
    due = status.last_poll + timedelta(seconds=plan.delay)
    return Plan(max(0.0, (due - now).total_seconds()), plan.reason)


class Daemon:
    """Polls every feed on its schedule until SIGTERM/SIGINT; SIGHUP reloads the config."""

    def __init__(self, config_path: Path, serve: tuple[str, int] | None = None,
                 clock: Clock = utc_now, rng: random.Random | None = None) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor

        from feedgen_dw.waits import Scheduler  # waits survive a faked clock

        self.config_path = config_path
        self.config: Config = load_config(config_path)
        self.clock = clock
        self.rng = rng or random.Random()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._stopping = False
        self._site_dirty = False
        self._busy = 0
        self._idle = threading.Condition()
        self.scheduler = Scheduler(
            executors={"default": ThreadPoolExecutor(self.config.settings.workers)},
            timezone="UTC",
        )
        self._serve = serve  # bound in run(), once the state's lock is ours
        self.server: FeedHTTPServer | None = None
        # PostgreSQL: the nodes share the schedule; this node polls what it claims
        self.shared = not isinstance(self.config.database, Path)
        self.node = f"{socket.gethostname()}/{os.getpid()}"
        self._claimed: set[str] = set()
        self._claim_lock = threading.Lock()
        self._polls = PollPool(self.config.settings.workers) if self.shared else None
        self._shared_store: SqlStore | None = None
        self._db_down = False

    def max_age(self, file_name: str) -> int:
        """Seconds a client may cache a served file: its feed's interval."""
        from feedgen_dw.serve import feed_max_age

        return feed_max_age(self.config.feeds, file_name)  # the config as reloaded

    def _resources(self) -> tuple[Store, Fetcher]:
        # one connection and one session per worker thread: sqlite3 connections are not
        # shared across threads, and WAL lets their readers and the writer overlap;
        # PostgreSQL's store is one pool for all threads
        local = self._local
        if getattr(local, "database", None) != self.config.database:
            local.store = self._store() if self.shared else open_store(self.config.database)
            local.fetcher = Fetcher()
            local.database = self.config.database
        return local.store, local.fetcher

    def _store(self) -> SqlStore:
        """The shared PostgreSQL store of this node (thread-safe: a pool)."""
        with self._claim_lock:
            if self._shared_store is None:
                self._shared_store = open_store(self.config.database)
            return self._shared_store

    def _output(self) -> Output:
        return Output(self.config.output_dir, self.config.base_url, self.config.websub_hub)

    def poll(self, name: str) -> None:
        """One scheduled poll of feed `name`, then its next run is planned."""
        with self._idle:
            self._busy += 1
        try:
            self._poll(name)
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def _poll(self, name: str) -> None:
        try:
            feed = self.config.feed(name)
        except FeedgenDwError:
            return  # removed by a reload while queued
        try:
            store, fetcher = self._resources()
            result = poll_feed(feed, store, fetcher, self._output(), self.clock)
            self._site_dirty = True  # written by the site job, not after every poll
            if self._stopping and not self.shared:
                return  # the scheduler is shutting down; nothing left to plan
            now = self.clock()
            plan = plan_next(feed, store.status(name), now, self.rng, result.retry_after)
            if self.shared:  # the next poll is the schedule's, for whichever node claims it
                due = None if plan.delay is None else now + timedelta(seconds=plan.delay)
                claims.release(self._store(), self.node, name, now, due)
                return
        except FeedgenDwError as exc:  # the database is away: the interval tries again
            log.error("poll feed=%s status=failed error=%s", name, exc)
            return
        self._apply(name, plan, now)

    def _apply(self, name: str, plan: Plan, now: datetime) -> None:
        from apscheduler.jobstores.base import JobLookupError
        from apscheduler.schedulers import SchedulerNotRunningError

        try:
            if plan.delay is None:
                self.scheduler.pause_job(name)
                log.info("schedule feed=%s status=stopped (unchanged for stop_after)", name)
            else:
                self.scheduler.modify_job(
                    name, next_run_time=now + timedelta(seconds=plan.delay))
                log.debug("schedule feed=%s next=%.0fs reason=%s", name, plan.delay, plan.reason)
        except (JobLookupError, SchedulerNotRunningError):
            pass  # the feed was removed, or the daemon stopped, while it was being polled

    def _add_jobs(self, feeds: list[FeedConfig]) -> None:
        if self.shared:
            self._register(feeds)
            return
        store = open_store(self.config.database)  # one connection for thousands of feeds
        try:
            for feed in feeds:
                self._add_job(feed, store)
        finally:
            store.close()

    def _register(self, feeds: list[FeedConfig]) -> None:
        """Put feeds on the shared schedule (a feed already there keeps its due time)."""
        store, now = self._store(), self.clock()
        statuses = store.statuses()
        rows = []
        for feed in feeds:
            plan = plan_first(feed, statuses.get(feed.name, FeedStatus(feed.name)), now,
                              self.rng)
            rows.append((feed.name, feed.url, urlsplit(feed.url).hostname or "",
                         now + timedelta(seconds=plan.delay or 0), plan.delay is None))
        claims.register(store, rows)
        log.info("schedule node=%s feeds=%d (shared)", self.node, len(rows))

    def _tick(self) -> None:
        """Claim due feeds for the free workers of this node and start their polls."""
        if self._stopping or self._polls is None:
            return
        now = self.clock()
        try:
            with self._claim_lock:
                free = self.config.settings.workers - len(self._claimed)
            names = claims.claim(self._store(), self.node, [f.name for f in self.config.feeds],
                                 now, now + timedelta(seconds=self.config.settings.lease), free,
                                 self.config.settings.per_host)
        except FeedgenDwError as exc:
            self._database_down(exc)
            return
        self._database_back()
        for name in names:
            with self._claim_lock:
                self._claimed.add(name)
            self._polls.submit(self._poll_claimed, name)

    def _poll_claimed(self, name: str) -> None:
        try:
            self.poll(name)
        finally:
            with self._claim_lock:
                self._claimed.discard(name)

    def _renew(self) -> None:
        now = self.clock()
        with self._claim_lock:
            running = sorted(self._claimed)
        try:
            claims.renew(self._store(), self.node, running, now,
                         now + timedelta(seconds=self.config.settings.lease))
        except FeedgenDwError as exc:
            self._database_down(exc)

    def _database_down(self, exc: FeedgenDwError) -> None:
        if not self._db_down:  # one line per outage, not one per tick
            self._db_down = True
            log.error("database status=unreachable node=%s error=%s (polls wait)",
                      self.node, exc)

    def _database_back(self) -> None:
        if self._db_down:
            self._db_down = False
            log.info("database status=back node=%s", self.node)

    def _add_job(self, feed: FeedConfig, store: Store) -> None:
        from apscheduler.triggers.interval import IntervalTrigger

        now = self.clock()
        plan = plan_first(feed, store.status(feed.name), now, self.rng)
        self.scheduler.add_job(
            self.poll, IntervalTrigger(seconds=feed.interval, jitter=feed.jitter or None),
            args=[feed.name], id=feed.name, name=feed.name, max_instances=1, coalesce=True,
            misfire_grace_time=None, replace_existing=True,
            next_run_time=None if plan.delay is None else now + timedelta(seconds=plan.delay),
        )
        log.info("schedule feed=%s first=%s reason=%s", feed.name,
                 "never" if plan.delay is None else f"{plan.delay:.0f}s", plan.reason)

    def reload(self) -> bool:
        """Apply the config file again: feeds added, removed, changed. A broken file keeps
        the running config (the error is logged)."""
        try:
            new = load_config(self.config_path)
        except FeedgenDwError as exc:
            log.error("reload status=failed error=%s (keeping the running config)", exc)
            return False
        if new.database != self.config.database:
            log.error("reload: database changes need a restart; keeping %s", self.config.database)
            new = replace(new, database=self.config.database)
        old = {f.name: f for f in self.config.feeds}
        self.config = new
        self._add_jobs([feed for feed in new.feeds if old.get(feed.name) != feed])
        for name in set(old) - {f.name for f in new.feeds}:
            if not self.shared:  # shared: only the config's feeds are claimed
                self.scheduler.remove_job(name)
            log.info("schedule feed=%s status=removed", name)
        log.info("reload status=ok feeds=%d", len(new.feeds))
        return True

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self.reload()
            return
        log.info("daemon status=stopping signal=%s (finishing polls in flight)", signum)
        self.stop()

    def stop(self) -> None:
        """Stop scheduling; polls in flight finish (see wait_idle)."""
        # shutdown(wait=True) would hold the scheduler's locks while a finishing poll needs
        # them to plan its next run: stop without waiting, then wait outside the locks
        self._stopping = True
        self.scheduler.shutdown(wait=False)
        if self._polls is not None:
            self._polls.shutdown(wait=False)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no poll is running; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def schedule_all(self) -> None:
        """Add a job for every feed of the config."""
        self._add_jobs(list(self.config.feeds))

    def run(self) -> int:
        """Block until stopped by a signal; returns the exit status."""
        # the daemon owns the state while it lives: a cron `run` on the same database
        # then stops at once instead of polling the same feeds beside it
        if not isinstance(self.config.database, Path):
            return self._run()  # PostgreSQL: nodes share the state (claims keep them apart)
        lock = StateLock(self.config.database)
        if not lock.acquire(0):
            log.warning("daemon status=waiting lock=%s (another run holds it)", lock.path)
            while not lock.acquire(3600):
                pass
        try:
            return self._run()
        finally:
            lock.release()

    def write_site(self) -> None:
        """index.html and feeds.opml; with thousands of feeds, not after every poll."""
        self._site_dirty = False
        try:
            store = self._store() if self.shared else open_store(self.config.database)
        except FeedgenDwError as exc:
            log.error("site status=failed error=%s", exc)
            return
        try:
            with self._lock:
                write_site(self.config.feeds, store, self._output())
        except FeedgenDwError as exc:
            log.error("site status=failed error=%s", exc)
        finally:
            if not self.shared:
                store.close()

    def _site_job(self) -> None:
        if self._site_dirty:
            self.write_site()

    def _run(self) -> int:
        if self._serve is not None:
            from feedgen_dw.serve import FeedHTTPServer

            # the root is read per request: a reload that moves output_dir moves it too
            self.server = FeedHTTPServer(lambda: self.config.output_dir, *self._serve,
                                         self.max_age).start()
            log.info("serve url=%s dir=%s", self.server.url, self.config.output_dir)
        self.write_site()  # the index exists at once
        self.scheduler.add_job(self._site_job, "interval", seconds=SITE_EVERY, id="site",
                               max_instances=1, coalesce=True)
        self.schedule_all()
        if self.shared:
            self._renew()  # seen at once, on the index of every node
            self.scheduler.add_job(self._tick, "interval", seconds=TICK, id="claim",
                                   max_instances=1, coalesce=True)
            self.scheduler.add_job(self._renew, "interval", id="renew", max_instances=1,
                                   seconds=self.config.settings.lease / 3, coalesce=True)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        try:
            self.scheduler.start()
            self.wait_idle()
            if self._site_dirty:
                self.write_site()
        finally:
            if self.server is not None:
                self.server.stop()
        log.info("daemon status=stopped")
        return 0
