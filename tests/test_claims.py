"""The claim step of several daemons on one PostgreSQL, query by query: per-host limits
across nodes, a host's backlog that must not hold the others back, and feeds of another
node's config given back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedgen_dw.config import parse_config
from feedgen_dw.store import SqlStore, claims, open_store
from tests.pg import PgServer, pg_server_fixture, pg_url_fixture  # noqa: F401  # fixtures

T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)
LEASE = T0 + timedelta(minutes=2)


def _schedule(store: SqlStore, feeds: dict[str, str], late: int = 0) -> None:
    """feed -> host, all due at T0 (the first `late` seconds apart, in name order)."""
    claims.register(store, [(name, f"https://{host}/{name}", host,
                             T0 - timedelta(seconds=late - n) if n < late else T0, False)
                            for n, (name, host) in enumerate(sorted(feeds.items()))])


def _holders(store: SqlStore) -> dict[str, str | None]:
    return {r["feed"]: r["node"] for r in store._rows("SELECT feed, node FROM claims")}


def test_per_host_counts_every_nodes_polls(pg_url: str) -> None:
    store = open_store(pg_url)
    try:
        _schedule(store, {**{f"a{n}": "a.example" for n in range(10)}, "b0": "b.example"})
        first = claims.claim(store, "n1", None, T0, LEASE, 8, 2)
        assert sorted(first) == ["a0", "a1", "b0"]  # two of a's, b's one
        assert claims.claim(store, "n2", None, T0, LEASE, 8, 2) == []  # a is at its limit
        claims.release(store, "n1", "a0", T0, T0 + timedelta(minutes=1))
        assert claims.claim(store, "n2", None, T0, LEASE, 8, 2) == ["a2"]
        # a list of names limits the claim to them
        claims.release(store, "n2", "a2", T0, T0 + timedelta(minutes=1))
        assert claims.claim(store, "n3", ["a9"], T0, LEASE, 8, 2) == ["a9"]
    finally:
        store.close()


def test_a_hosts_backlog_does_not_hold_back_the_feeds_due_after_it(pg_url: str) -> None:
    """A claim reads only a few due feeds in due order: a host at its limit with a long
    backlog is left out before that cut, so a feed of another host due later comes next."""
    store = open_store(pg_url)
    try:
        backlog = {f"a{n:03}": "a.example" for n in range(200)}  # due long before b0
        _schedule(store, {**backlog, "zz": "b.example"}, late=200)
        taken = [claims.claim(store, "n1", None, T0, LEASE, 1, 2) for _ in range(3)]
        assert taken == [["a000"], ["a001"], ["zz"]]
        assert claims.claim(store, "n1", None, T0, LEASE, 1, 2) == []
    finally:
        store.close()


def test_a_node_gives_back_feeds_its_config_does_not_have(pg_url: str,
                                                          tmp_path: Path) -> None:
    """In a rolling update another node's newer config may have put a feed on the
    schedule that this node cannot poll: it claims it, sees it is not its own, and frees
    it at once for the node that knows it."""
    config = parse_config({"database": pg_url, "feeds": {
        "a": {"url": "https://a.example/a-1"}}}, tmp_path / "config.yaml")
    store = open_store(pg_url)
    polled: list[str] = []
    node = claims.Node(pg_url, lambda: ["a"], lambda: config.settings, polled.append,
                       lambda: T0)
    try:
        _schedule(store, {"a": "a.example", "new": "b.example"})
        node.tick()
        node.stop()
        node._pool.shutdown(wait=True)
        assert polled == ["a"]
        assert _holders(store)["new"] is None  # free for the node that knows it
    finally:
        store.close()
