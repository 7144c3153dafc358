"""Claims and leases: how several daemons on one PostgreSQL share the feeds of a config.

The schedule is the table `claims`: a feed's next poll (`due`), whether it is stopped,
and, while a node polls it, that node and the end of its lease. A node claims due feeds
with `FOR UPDATE SKIP LOCKED` (rows another node is claiming are skipped, never waited
for), so a feed is never claimed twice; a node renews the leases of the polls it runs,
and releases a feed with its next due time when the poll is done. A node that dies stops
renewing: its claims end with their lease and the others take the feeds over. Claiming
holds a transaction-level advisory lock, so the count of running polls per host that
`per_host` limits is exact across nodes. Times are UTC ISO text, as in the rest of the
state; the nodes' clocks are assumed to agree (NTP) to well within a lease.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from feedgen_dw.errors import FeedgenDwError, StoreError
from feedgen_dw.model import FeedStatus, PollResult
from feedgen_dw.store.sql import SqlStore, _req_dt, _ts

if TYPE_CHECKING:
    from feedgen_dw.config import Config, FeedConfig, Settings

log = logging.getLogger("feedgen_dw.schedule")

CLAIM_LOCK = 0x46475745  # advisory lock key of the claim step
# Due feeds looked at per feed a claim may take: the claim reads these few in due order
# from the index instead of ranking every due feed (a backlog of thousands on a busy day)
# by host. Hosts at their `per_host` are left out before the cut, so a host with a long
# backlog takes its free slots and no more, and the feeds behind it come next round.
CANDIDATES = 8
WAKE_STEP = 0.05  # seconds between looks for a finished poll in the claim loop
ON_TIME = 2.0  # seconds a poll may start after its due time and keep the feed's rhythm
FORGET_LEASES = 10  # a node not seen for this many leases is gone: dropped at register


def register(store: SqlStore, feeds: Sequence[tuple[str, str, str, datetime, bool]]) -> None:
    """Add (name, url, host, first due, stopped) to the shared schedule; a feed already
    there keeps its due time, unless the config names a new url for it."""
    with store._writing("registering feeds") as w:
        w.executemany(
            "INSERT INTO claims (feed, url, host, due, stopped) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (feed) DO UPDATE SET url=excluded.url, host=excluded.host, "
            "due=CASE WHEN claims.url = excluded.url THEN claims.due ELSE excluded.due END, "
            "stopped=CASE WHEN claims.url = excluded.url THEN claims.stopped "
            "ELSE excluded.stopped END",
            [(name, url, host, _ts(due), int(stopped)) for name, url, host, due, stopped
             in sorted(feeds)],
        )


def claim(store: SqlStore, node: str, names: Sequence[str] | None, now: datetime,
          lease_until: datetime, limit: int, per_host: int,
          dues: dict[str, datetime] | None = None, due_by: datetime | None = None,
          ) -> list[str]:
    """Claim up to `limit` of the feeds `names` (None: any on the schedule) that are due
    (by `due_by`, default now) and free, at most `per_host` polls running per host
    (counting every node's); the claimed names, most overdue first (and in `dues`, when
    given, when each was due)."""
    if limit <= 0 or (names is not None and not names):
        return []
    only = None if names is None else list(names)
    with store._writing("claiming feeds") as w:
        w.execute("SELECT pg_advisory_xact_lock(?)", (CLAIM_LOCK,))
        # planned for its values every time: once psycopg prepares the statement (its
        # fifth run), PostgreSQL's generic plan of it took 50-60 ms instead of 4-8
        w.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        rows = w.rows(
            "WITH busy AS (SELECT host, count(*) AS n FROM claims WHERE lease_until > ? "
            "  GROUP BY host), "
            "cand AS (SELECT c.feed, c.host, c.due FROM claims c WHERE c.due <= ? "
            "  AND c.stopped = 0 AND (c.lease_until IS NULL OR c.lease_until <= ?) "
            "  AND (?::text[] IS NULL OR c.feed = ANY(?)) "
            "  AND c.host NOT IN (SELECT host FROM busy WHERE n >= ?) "
            "  ORDER BY c.due, c.feed LIMIT ?), "
            "ranked AS (SELECT c.feed, c.due, coalesce(b.n, 0) + row_number() OVER "
            "  (PARTITION BY c.host ORDER BY c.due, c.feed) AS slot "
            "  FROM cand c LEFT JOIN busy b ON b.host = c.host), "
            "pick AS (SELECT feed FROM ranked WHERE slot <= ? ORDER BY due, feed LIMIT ?) "
            "UPDATE claims SET node = ?, lease_until = ? FROM pick "
            "WHERE claims.feed = pick.feed AND claims.stopped = 0 "
            "AND (claims.lease_until IS NULL OR claims.lease_until <= ?) "
            "RETURNING claims.feed, claims.due",
            (_ts(now), _ts(due_by or now), _ts(now), only, only, per_host, CANDIDATES * limit,
             per_host, limit, node, _ts(lease_until), _ts(now)),
        )
    if dues is not None:
        dues.update((r["feed"], _req_dt(r["due"])) for r in rows)
    return [r["feed"] for r in sorted(rows, key=lambda r: (r["due"], r["feed"]))]


def unclaim(store: SqlStore, node: str, feeds: Sequence[str]) -> None:
    """Give back claims of `feeds` without a poll: due as they were."""
    with store._writing("giving back claims") as w:
        w.execute("UPDATE claims SET node = NULL, lease_until = NULL "
                  "WHERE node = ? AND feed = ANY(?)", (node, list(feeds)))


def forget(store: SqlStore, feeds: Sequence[str], seen_before: datetime) -> None:
    """Drop the claims of feeds no longer in the config, and the nodes not seen since
    `seen_before` (gone for good: the index lists them no more)."""
    with store._writing("forgetting old feeds and nodes") as w:
        w.execute("DELETE FROM claims WHERE NOT (feed = ANY(?))", (list(feeds),))
        w.execute("DELETE FROM nodes WHERE seen < ?", (_ts(seen_before),))


class LeaseLost(StoreError):
    """The node's claim on a feed ended and another node claimed it: the poll that
    noticed rolls back."""


def release(store: SqlStore, node: str, feed: str, now: datetime,
            due: datetime | None) -> None:
    """The poll of `feed` is done: free it, due again at `due` (None: stopped), and
    count it as the node's. Raises LeaseLost when `node` no longer holds the feed: in a
    poll's transaction, nothing of that poll is committed (the fence of a node that
    stalled past its lease). The claim row stays locked until the poll commits, so no
    node claims it in between."""
    with store._writing(f"releasing feed {feed!r}") as w:
        done = w.rows(
            "WITH done AS (UPDATE claims SET node = NULL, lease_until = NULL, "
            "  due = coalesce(?, due), stopped = ?, last_node = ?, last_polled = ? "
            "  WHERE feed = ? AND node = ? RETURNING feed), "
            "counted AS (UPDATE nodes SET polls = polls + 1 WHERE node = ? "
            "  AND EXISTS (SELECT 1 FROM done) RETURNING node) "
            "SELECT count(*) AS n FROM done",
            (_ts(due), int(due is None), node, _ts(now), feed, node, node),
        )[0]["n"]
    if not done:
        raise LeaseLost(f"{store.name}: feed {feed!r} is no longer claimed by {node}")


def claim_now(store: SqlStore, node: str, feed: str, now: datetime,
              lease_until: datetime) -> bool:
    """Claim `feed` whether due or not (a cron `run`), unless another node holds it."""
    with store._writing(f"claiming feed {feed!r}") as w:
        return bool(w.rows(
            "UPDATE claims SET node = ?, lease_until = ? WHERE feed = (SELECT feed FROM "
            "claims WHERE feed = ? AND (lease_until IS NULL OR lease_until <= ?) "
            "FOR UPDATE SKIP LOCKED) RETURNING feed",
            (node, _ts(lease_until), feed, _ts(now))))


def holder(store: SqlStore, feed: str) -> str | None:
    """The node that holds `feed` now, if any."""
    row = store._one("SELECT node FROM claims WHERE feed = ?", (feed,))
    return row["node"] if row else None


def renew(store: SqlStore, node: str, feeds: Sequence[str], now: datetime,
          lease_until: datetime) -> None:
    """Extend the leases of the polls `node` runs, and note that it is alive."""
    with store._writing("renewing leases") as w:
        if feeds:
            w.execute("UPDATE claims SET lease_until = ? WHERE node = ? AND feed = ANY(?)",
                      (_ts(lease_until), node, list(feeds)))
        w.execute("INSERT INTO nodes (node, seen) VALUES (?, ?) "
                  "ON CONFLICT (node) DO UPDATE SET seen = excluded.seen", (node, _ts(now)))


class Node:
    """This daemon's part in a shared schedule: claims due feeds for its free workers
    (`tick`, every second), runs their polls (`poll(name)` plans and releases each),
    renews its leases (`renew`, every third of a lease) and logs a database outage once.
    `feeds` and `settings` are read anew each time: a reload changes them."""

    def __init__(self, database: str, feeds: Callable[[], list[str]],
                 settings: Callable[[], Settings], poll: Callable[[str], None],
                 clock: Callable[[], datetime]) -> None:
        self.name = f"{socket.gethostname()}/{os.getpid()}"
        self._database, self._feeds, self._settings = database, feeds, settings
        self._poll, self._clock = poll, clock
        self._lock = threading.Lock()
        self._claimed: set[str] = set()
        self._due: dict[str, datetime] = {}  # when each claimed feed was due
        self._pool = ThreadPoolExecutor(settings().workers)
        self._store: SqlStore | None = None
        self._down = False
        self._outages = 0  # outages noted so far: a round that began before one ends is no news
        self._stopping = False
        self._wake = threading.Event()  # set when a poll ends: claim again at once
        self._ahead = 0.0  # seconds: feeds due this soon are claimed and wait for it

    def store(self) -> SqlStore:
        """The node's store: one pool for all its threads, opened on first use."""
        with self._lock:
            if self._store is None:
                from feedgen_dw.store import open_store

                # a connection per worker from a poll's first write to its commit, and
                # one each for the claim loop and the site
                self._store = open_store(self._database, self._settings().workers + 2)
            return self._store

    def register(self, feeds: Sequence[FeedConfig],
                 first_delay: Callable[[FeedConfig, FeedStatus], float | None]) -> None:
        """Put `feeds` on the shared schedule, due after `first_delay` (None: stopped)
        unless already there."""
        store, now = self.store(), self._clock()
        statuses = store.statuses()
        rows = []
        for feed in feeds:
            delay = first_delay(feed, statuses.get(feed.name, FeedStatus(feed.name)))
            rows.append((feed.name, feed.url, urlsplit(feed.url).hostname or "",
                         now + timedelta(seconds=delay or 0), delay is None))
        register(store, rows)
        forget(store, self._feeds(), now - timedelta(seconds=FORGET_LEASES
                                                     * self._settings().lease))
        log.info("schedule node=%s feeds=%d (shared)", self.name, len(rows))

    def tick(self) -> None:
        """Claim due feeds for the free workers and start their polls."""
        if self._stopping:
            return
        now, settings = self._clock(), self._settings()
        try:
            with self._lock:
                free = settings.workers - len(self._claimed)
                outages = self._outages
            # the schedule holds this config's feeds (register forgets the others), so
            # the claim sends no list of names: 20,000 of them cost 30 ms a claim round
            names = claim(self.store(), self.name, None, now,
                          now + timedelta(seconds=settings.lease), free, settings.per_host,
                          self._due, now + timedelta(seconds=self._ahead))
            known = set(self._feeds())
            if foreign := [name for name in names if name not in known]:
                # another node's newer config added them (a rolling update): theirs
                unclaim(self.store(), self.name, foreign)
                for name in foreign:
                    self._due.pop(name, None)
                names = [name for name in names if name in known]
        except FeedgenDwError as exc:
            self._database_down(exc)
            return
        with self._lock:
            # back only when this round began after the outage was noted: a round that
            # was answered just before the database went away says nothing of it
            back = self._down and self._outages == outages
            if back:
                self._down = False
        if back:
            log.info("database status=back node=%s", self.name)
        for name in names:
            with self._lock:
                self._claimed.add(name)
            self._pool.submit(self._run, name)

    def _run(self, name: str) -> None:
        with self._lock:
            due = self._due.get(name)
        if due is not None and (wait := (due - self._clock()).total_seconds()) > 0:
            time.sleep(min(wait, self._ahead))  # claimed a round ahead: start on time
        try:
            with self.store().poll_transaction():  # the poll and its release, or nothing
                self._poll(name)
        except LeaseLost:
            log.warning("poll feed=%s status=lease-lost node=%s (stalled past its lease; "
                        "another node holds the feed: nothing committed)", name, self.name)
        except FeedgenDwError as exc:  # not released: the lease ends by itself
            log.debug("schedule feed=%s status=unreleased error=%s", name, exc)
            self._database_down(exc)  # the one line of an outage
        finally:
            with self._lock:
                self._claimed.discard(name)
            self._wake.set()

    def release(self, feed: str, now: datetime, delay: float | None,
                started: datetime) -> None:
        """The poll of `feed`, started at `started`, is done; due again `delay` seconds
        after it was due (None: stopped). A poll that started within ON_TIME of its due
        time keeps the feed's rhythm: the wait for a claim round and the poll's own time
        do not add up, poll after poll. A later one counts from its start."""
        due = None
        with self._lock:
            was_due = self._due.pop(feed, None)
        if delay is not None:
            late = was_due is None or (started - was_due).total_seconds() > ON_TIME
            due = (started if late or was_due is None else was_due) + timedelta(
                seconds=delay)
        release(self.store(), self.name, feed, now, due)

    def renew(self) -> None:
        """Extend the leases of this node's running polls; note it is alive."""
        now = self._clock()
        with self._lock:
            running = sorted(self._claimed)
        try:
            renew(self.store(), self.name, running, now,
                  now + timedelta(seconds=self._settings().lease))
        except FeedgenDwError as exc:
            self._database_down(exc)

    def _database_down(self, exc: FeedgenDwError) -> None:
        # one line per outage, not one per tick; the claim loop, the renewal and the
        # polls in flight all find it, in threads of their own
        with self._lock:
            first, self._down = not self._down, True
            self._outages += first
        if first:
            log.error("database status=unreachable node=%s error=%s (polls wait)",
                      self.name, exc)

    def start(self, tick: float = 1.0) -> None:
        """Claim every `tick` seconds and renew every third of a lease, in a thread of
        its own (not a scheduler job: a round that waits for the database must not be
        reported as a missed run every second). A round claims the feeds due before the
        next round too, and their polls wait for their due time: a feed is polled on time,
        not up to a round late (which pushed gaps past interval + jitter)."""
        self._ahead = tick
        def loop() -> None:
            since_renewal = 0.0
            while not self._stopping:
                self.tick()
                # short sleeps, not a timed wait (right under a faked clock); a finished
                # poll ends them early, so a free worker claims again at once
                for _ in range(int(tick / WAKE_STEP)):
                    if self._wake.is_set():
                        break
                    time.sleep(WAKE_STEP)
                    since_renewal += WAKE_STEP
                self._wake.clear()
                if since_renewal >= self._settings().lease / 3:
                    since_renewal = 0.0
                    self.renew()

        self.renew()  # seen at once, on the index of every node
        threading.Thread(target=loop, name="claims", daemon=True).start()

    def stop(self) -> None:
        """Claim nothing more; polls in flight finish and release their feeds."""
        self._stopping = True
        self._pool.shutdown(wait=False)


class CronClaims:
    """A cron `run` beside daemons on one PostgreSQL: each feed is claimed as a node's
    poll is (a feed a daemon holds is skipped), polled, and released with its next due
    time in the poll's own transaction, so no daemon polls it beside the run."""

    def __init__(self, config: Config, store: SqlStore,
                 clock: Callable[[], datetime]) -> None:
        self.name = f"{socket.gethostname()}/{os.getpid()}/run"
        self._store, self._clock, self._rng = store, clock, random.Random()
        now = clock()
        # due now where new (a daemon plans it on its first poll); known feeds keep theirs
        register(store, [(f.name, f.url, urlsplit(f.url).hostname or "", now, False)
                                for f in config.feeds])
        renew(store, self.name, [], now, now)  # on the index, its polls counted

    def poll(self, feed: FeedConfig, poll: Callable[[], PollResult]) -> PollResult | None:
        """`poll()` under a claim on `feed`; None when a daemon holds the feed."""
        from feedgen_dw.plan import plan_next
        now = self._clock()
        lease = timedelta(seconds=feed.settings.lease)
        if not claim_now(self._store, self.name, feed.name, now, now + lease):
            log.info("poll feed=%s status=skipped node=%s (a daemon holds it: %s)",
                     feed.name, self.name, holder(self._store, feed.name))
            return None
        try:
            with self._store.poll_transaction():
                result = poll()
                done = self._clock()
                plan = plan_next(feed, self._store.status(feed.name), done, self._rng,
                                 result.retry_after)
                release(self._store, self.name, feed.name, done, None
                               if plan.delay is None else done + timedelta(seconds=plan.delay))
        except LeaseLost:
            log.warning("poll feed=%s status=lease-lost node=%s (nothing committed)",
                        feed.name, self.name)
            return replace(result, ok=False, error="lease lost: nothing committed")
        return result
