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

from collections.abc import Sequence
from datetime import datetime

from feedgen_dw.store.sql import SqlStore, _ts

CLAIM_LOCK = 0x46475745  # advisory lock key of the claim step


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


def claim(store: SqlStore, node: str, names: Sequence[str], now: datetime,
          lease_until: datetime, limit: int, per_host: int) -> list[str]:
    """Claim up to `limit` of the feeds `names` that are due and free, at most `per_host`
    polls running per host (counting every node's); the claimed names, most overdue
    first."""
    if limit <= 0 or not names:
        return []
    with store._writing("claiming feeds") as w:
        w.execute("SELECT pg_advisory_xact_lock(?)", (CLAIM_LOCK,))
        rows = w.rows(
            "WITH busy AS (SELECT host, count(*) AS n FROM claims WHERE lease_until > ? "
            "  GROUP BY host), "
            "free AS (SELECT feed, host, due FROM claims WHERE feed = ANY(?) "
            "  AND stopped = 0 AND due <= ? AND (lease_until IS NULL OR lease_until <= ?) "
            "  FOR UPDATE SKIP LOCKED), "
            "ranked AS (SELECT f.feed, f.due, coalesce(b.n, 0) + row_number() OVER "
            "  (PARTITION BY f.host ORDER BY f.due, f.feed) AS slot "
            "  FROM free f LEFT JOIN busy b ON b.host = f.host), "
            "pick AS (SELECT feed FROM ranked WHERE slot <= ? ORDER BY due, feed LIMIT ?) "
            "UPDATE claims SET node = ?, lease_until = ? FROM pick "
            "WHERE claims.feed = pick.feed RETURNING claims.feed, claims.due",
            (_ts(now), list(names), _ts(now), _ts(now), per_host, limit, node,
             _ts(lease_until)),
        )
    return [r["feed"] for r in sorted(rows, key=lambda r: (r["due"], r["feed"]))]


def release(store: SqlStore, node: str, feed: str, now: datetime,
            due: datetime | None) -> None:
    """The poll of `feed` is done: free it, due again at `due` (None: stopped)."""
    with store._writing(f"releasing feed {feed!r}") as w:
        w.execute(
            "UPDATE claims SET node = NULL, lease_until = NULL, due = coalesce(?, due), "
            "stopped = ?, last_node = ?, last_polled = ? WHERE feed = ? AND node = ?",
            (_ts(due), int(due is None), node, _ts(now), feed, node),
        )


def renew(store: SqlStore, node: str, feeds: Sequence[str], now: datetime,
          lease_until: datetime) -> None:
    """Extend the leases of the polls `node` runs, and note that it is alive."""
    with store._writing("renewing leases") as w:
        if feeds:
            w.execute("UPDATE claims SET lease_until = ? WHERE node = ? AND feed = ANY(?)",
                      (_ts(lease_until), node, list(feeds)))
        w.execute("INSERT INTO nodes (node, seen) VALUES (?, ?) "
                  "ON CONFLICT (node) DO UPDATE SET seen = excluded.seen", (node, _ts(now)))


def polled_by(store: SqlStore) -> dict[str, tuple[str | None, str | None]]:
    """feed -> (node that polled it last, when), for the index page."""
    return {r["feed"]: (r["last_node"], r["last_polled"])
            for r in store._rows("SELECT feed, last_node, last_polled FROM claims")}


def nodes_seen(store: SqlStore) -> dict[str, str]:
    """node -> when it was last seen (UTC ISO), for the index page."""
    return {r["node"]: r["seen"] for r in store._rows("SELECT node, seen FROM nodes")}
