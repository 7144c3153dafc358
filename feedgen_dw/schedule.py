"""The daemon: polls every feed when its plan (plan.py) says, until stopped.

APScheduler (blocking scheduler, one job per feed, max_instances=1, coalescing) calls the
same poll_feed() as `run`; its worker threads take due polls in workers.py's order.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from feedgen_dw.config import Config, FeedConfig, load_config
from feedgen_dw.deadline import abort_all
from feedgen_dw.errors import FeedgenDwError
from feedgen_dw.fetch import Fetcher
from feedgen_dw.lock import StateLock
from feedgen_dw.memory import trim
from feedgen_dw.model import FeedStatus, HttpState
from feedgen_dw.plan import MAX_BACKOFF, Plan, plan_all_first, plan_first, plan_next
from feedgen_dw.poll import Clock, Output, poll_feed, utc_now, write_site
from feedgen_dw.safetext import error_line
from feedgen_dw.store import Store, claims, open_store, served_documents

if TYPE_CHECKING:
    from feedgen_dw.serve import FeedHTTPServer

log = logging.getLogger(__name__)

SITE_EVERY = 5  # seconds between rewrites of index.html and feeds.opml in the daemon
# ...and at least this many times the CPU the last rewrite took: it reads and renders every
# feed (0.2-0.4 s per 1,000 feeds), so with 5,000 feeds every 5 s it took 40% of a core
SITE_COST_FACTOR = 20
# On SIGTERM/SIGINT, polls in flight get this long to finish; then their fetches are
# abandoned (a poll commits only at its end, so nothing half-done is stored), and after
# ABANDON_GRACE more the process exits whatever they are doing.
STOP_GRACE = 2.0
ABANDON_GRACE = 3.0
# several daemons on one PostgreSQL (store/claims.py): a claim lasts `lease` (config;
# 120 s) unless renewed, renewed every third of it: a dead node's feeds wait one lease
TICK = 0.25  # seconds between a node's claim rounds: a due feed waits half of it
# When due polls outrun the workers, those that can still be on time go first, then the
# newest (workers.py), and a feed behind waits at most this many intervals more: a
# 1-minute feed is polled at least every 3 minutes + jitter. One interval would be too
# tight: with fewer polls than half the feeds per interval, the overdue alone fill the
# workers and every feed is late again.
BEHIND_BOUND = 2.0


class Daemon:
    """Polls every feed on its schedule until SIGTERM/SIGINT; SIGHUP reloads the config."""

    def __init__(self, config_path: Path, serve: tuple[str, int] | None = None,
                 clock: Clock = utc_now, rng: random.Random | None = None) -> None:
        from feedgen_dw.waits import Scheduler  # waits survive a faked clock
        from feedgen_dw.workers import PollExecutor

        self.config_path = config_path
        self.config: Config = load_config(config_path)
        self.clock = clock
        self.rng = rng or random.Random()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._stopping = False
        self._site_dirty = False
        self._site_next = 0.0  # time.monotonic() before which the site job waits
        self._busy = 0
        self._idle = threading.Condition()
        self.scheduler = Scheduler(
            executors={"default": PollExecutor(self.config.settings.workers, self._limits)},
            timezone="UTC",
        )
        self._serve = serve  # bound in run(), once the state's lock is ours
        self.server: FeedHTTPServer | None = None
        # PostgreSQL: the nodes share the schedule; this node polls what it claims
        self.node: claims.Node | None = None
        if isinstance(self.config.database, str):
            self.node = claims.Node(
                self.config.database, lambda: [f.name for f in self.config.feeds],
                lambda: self.config.settings, self.poll, self.clock)
        self.shared = self.node is not None

    def _limits(self, job_id: str) -> tuple[float, float]:
        """(slack, bound) of a due poll when the workers cannot keep up: it is on time
        within its jitter past its due time (at least a second), and waits at most
        BEHIND_BOUND intervals while others go first; the site job neither."""
        feed = self.config.by_name.get(job_id)
        if feed is None:
            return 0.0, 0.0
        return max(feed.jitter, 1.0), BEHIND_BOUND * feed.interval

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
            local.store = self.node.store() if self.node else open_store(self.config.database)
            local.fetcher = Fetcher()
            local.database = self.config.database
        return local.store, local.fetcher

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
        feed = self.config.by_name.get(name)
        if feed is None:
            return  # removed by a reload while queued
        failed = FeedStatus(name=name, failures=1, http=HttpState(config_url=feed.url))
        try:
            store, fetcher = self._resources()
        except Exception as exc:  # e.g. the database cannot be opened: one line (APScheduler
            # would print a traceback), and the feed is planned as after a failure
            log.error("poll feed=%s status=failed error=%s", name, error_line(str(exc)))
            self._apply(name, plan_next(feed, failed, self.clock(), self.rng), self.clock())
            return
        started = self.clock()
        result = poll_feed(feed, store, fetcher, self._output(), self.clock)
        self._site_dirty = True  # written by the site job, not after every poll
        if self._stopping and not self.shared:
            return  # the scheduler is shutting down; nothing left to plan
        now = self.clock()
        try:
            status = store.status(name)
        except Exception as exc:  # a locked or failing database: plan as after a failure
            log.error("schedule feed=%s status=failed error=%s", name, error_line(str(exc)))
            status = failed
        self._apply(name, plan_next(feed, status, now, self.rng, result.retry_after), now,
                    started)

    def _apply(self, name: str, plan: Plan, now: datetime,
               started: datetime | None = None) -> None:
        from apscheduler.jobstores.base import JobLookupError
        from apscheduler.schedulers import SchedulerNotRunningError

        if self.node is not None:  # the next poll is the schedule's, for any node
            self.node.release(name, now, plan.delay, started or now)
            return

        try:
            if plan.delay is None:
                self.scheduler.pause_job(name)
                log.info("schedule feed=%s status=stopped reason=unchanged for stop_after", name)
            else:
                self.scheduler.modify_job(
                    name, next_run_time=now + timedelta(seconds=plan.delay))
                # a delay beyond the interval is said once per decision, at the default level
                level = logging.DEBUG if plan.reason == "interval" else logging.INFO
                log.log(level, "schedule feed=%s status=%s next=%.0fs", name, plan.reason,
                        plan.delay)
        except (JobLookupError, SchedulerNotRunningError):
            pass  # the feed was removed, or the daemon stopped, while it was being polled

    def _add_jobs(self, feeds: list[FeedConfig]) -> None:
        if self.node is not None:  # on the shared schedule; a feed there keeps its due time
            self.node.register(feeds, lambda feed, status: plan_first(
                feed, status, self.clock(), self.rng).delay)
            return
        store = open_store(self.config.database)  # one connection for thousands of feeds
        try:
            statuses = store.statuses()
        finally:
            store.close()
        now = self.clock()
        plans = plan_all_first(
            feeds, [statuses.get(f.name) or FeedStatus(name=f.name) for f in feeds], now, self.rng)
        for feed, plan in zip(feeds, plans, strict=True):
            self._add_job(feed, plan, now)

    def _add_job(self, feed: FeedConfig, plan: Plan, now: datetime) -> None:
        from apscheduler.triggers.interval import IntervalTrigger

        self.scheduler.add_job(
            # every poll plans the next one itself (_apply); the trigger is only a safety net
            # far beyond any plan, so APScheduler never fires a feed whose poll is still
            # running (which it logs as a warning on every tick)
            self.poll, IntervalTrigger(seconds=2 * max(feed.interval, MAX_BACKOFF)),
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
        except Exception as exc:  # whatever a config does, the running one carries on
            log.debug("reload status=failed", exc_info=True)
            what = exc if isinstance(exc, FeedgenDwError) else f"{type(exc).__name__}: {exc}"
            log.error("reload status=failed error=%s (keeping the running config)",
                      error_line(str(what)))
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
            if not self._stopping:
                self.reload()
            return
        if self._stopping:
            # a second Ctrl-C: no more waiting for the polls in flight
            log.info("daemon status=stopping signal=%s (abandoning polls in flight)", signum)
            abort_all()
            return
        log.info("daemon status=stopping signal=%s (finishing polls in flight)", signum)
        self.stop()

    def stop(self) -> None:
        """Stop scheduling; polls in flight finish (see wait_idle)."""
        from apscheduler.schedulers import SchedulerNotRunningError

        # shutdown(wait=True) would hold the scheduler's locks while a finishing poll needs
        # them to plan its next run: stop without waiting, then wait outside the locks
        self._stopping = True
        # stopped already: two signals at once, or before it started
        with contextlib.suppress(SchedulerNotRunningError):
            self.scheduler.shutdown(wait=False)
        if self.node is not None:
            self.node.stop()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no poll is running; False on timeout."""
        # short sleeps, not Condition.wait(timeout): a timed wait on a lock never returns
        # under libfaketime (its deadline is on the faked clock), a sleep does
        until = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._idle:
                if self._busy == 0:
                    return True
            if until is not None and time.monotonic() >= until:
                return False
            time.sleep(0.05)

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
        started = time.thread_time()
        try:
            self._write_site()
            trim()  # the index of thousands of feeds lifts the heap by tens of MB a write
        finally:
            cost = time.thread_time() - started
            self._site_next = time.monotonic() + SITE_COST_FACTOR * cost

    def _write_site(self) -> None:
        try:
            store = self.node.store() if self.node else open_store(self.config.database)
        except FeedgenDwError as exc:
            log.error("site status=failed error=%s", exc)
            return
        try:
            with self._lock:
                write_site(self.config.feeds, store, self._output())
        except Exception as exc:  # the index must never take the daemon down
            log.debug("site status=failed", exc_info=True)
            log.error("site status=failed error=%s", error_line(str(exc)))
        finally:
            if not self.shared:
                store.close()

    def _site_job(self) -> None:
        if self._site_dirty and time.monotonic() >= self._site_next:
            self.write_site()

    def _run(self) -> int:
        if self._serve is not None:
            from feedgen_dw.serve import FeedHTTPServer

            # the root is read per request: a reload that moves output_dir moves it too
            self.server = FeedHTTPServer(
                lambda: self.config.output_dir, *self._serve, self.max_age,
                documents=served_documents(self.config.database)).start()
            log.info("serve url=%s dir=%s", self.server.url, self.config.output_dir)
        self.write_site()  # the index exists at once
        self.scheduler.add_job(self._site_job, "interval", seconds=SITE_EVERY, id="site",
                               max_instances=1, coalesce=True)
        self.schedule_all()
        if self.node is not None:
            self.node.start(TICK)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        try:
            self.scheduler.start()
            self._finish_polls()
            if self._site_dirty:
                self.write_site()
        finally:
            if self.server is not None:
                self.server.stop()
        log.info("daemon status=stopped")
        return 0

    def _finish_polls(self) -> None:
        """Let polls in flight finish for a short grace, then abandon them: SIGTERM ends
        the daemon within seconds whatever the upstream does."""
        if self.wait_idle(STOP_GRACE):
            return
        log.info("daemon status=stopping polls=%d (abandoning their fetches)", self._busy)
        abort_all()
        if self.wait_idle(ABANDON_GRACE):
            return
        # a poll stuck outside any fetch (parsing a huge page, a locked database): the
        # worker threads would keep the interpreter alive; the state is consistent (a poll
        # commits only at its end), so leave now
        log.warning("daemon status=stopped polls=%d (abandoned in flight)", self._busy)
        logging.shutdown()
        os._exit(0)
