"""Several nodes on one PostgreSQL: polls per second of 1, 2 and 3 daemon processes on this
box against one database, and claims per second of the claim query alone.

Starts its own PostgreSQL (tests/pg.py) and a local server of changing pages
(tests/test_postgres_nodes.py); `--seconds` per node count, `--pages`. Prints a table and
prints the numbers. No PostgreSQL binaries: says so and exits 0.

`--acceptance [--seconds 120]`: the issue's acceptance as a measurement (timing belongs
here, not in tests): three serving nodes, the pages at a 10 s interval with 1 s jitter,
one node killed with SIGKILL halfway; per feed the gaps between its polls against the
interval and jitter, the most requests at once for one URL, the killed node's feeds'
takeover time against the lease, duplicates, and whether both survivors serve exactly
what is stored.
"""

from __future__ import annotations

import argparse
import itertools
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feedgen_dw.store import claims, open_store
from tests.pg import PgServer, _bindir
from tests.test_postgres_nodes import PagesServer


def polls_per_second(server: PgServer, pages: PagesServer, nodes: int, seconds: float,
                     count: int) -> float:
    url = server.new_database()
    folder = Path(tempfile.mkdtemp(prefix="feedgen-bench-"))
    feeds = "".join(f"  p{n}:\n    url: {pages.url}/de/seite-{n}/a-8{n:07d}\n    site: dw\n"
                    f"    interval: 1s\n    jitter: 0\n    on_edit: update\n"
                    for n in range(count))
    (folder / "config.yaml").write_text(
        f"database: {url}\noutput_dir: public\nworkers: 4\nper_host: 64\nfeeds:\n{feeds}")
    procs = [subprocess.Popen([sys.executable, "-m", "feedgen_dw", "daemon", "--config",
                               str(folder / "config.yaml")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(nodes)]
    try:
        time.sleep(3)  # start-up and the first round
        before, start = sum(pages.counts()), time.monotonic()
        time.sleep(seconds)
        done, elapsed = sum(pages.counts()) - before, time.monotonic() - start
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)
    return done / elapsed


def claims_per_second(server: PgServer, feeds: int, rounds: int) -> float:
    store = open_store(server.new_database())
    now = datetime(2026, 1, 1, tzinfo=UTC)
    names = [f"f{n}" for n in range(feeds)]
    claims.register(store, [(name, f"https://h{n % 50}.example/{name}", f"h{n % 50}.example",
                             now, False) for n, name in enumerate(names)])
    start, claimed = time.monotonic(), 0
    for r in range(rounds):
        at = now + timedelta(seconds=r)
        got = claims.claim(store, "bench", names, at, at + timedelta(minutes=2), 4, 4)
        for name in got:
            claims.release(store, "bench", name, at, at)
        claimed += len(got)
    elapsed = time.monotonic() - start
    store.close()
    return claimed / elapsed


def claim_query_per_second(server: PgServer, feeds: int, batch: int) -> float:
    """The claim query alone, as a busy node runs it: `feeds` feeds all due, claimed
    `batch` at a time until none is left (per_host no limit); releases are not timed."""
    store = open_store(server.new_database())
    now = datetime(2026, 1, 1, tzinfo=UTC)
    names = [f"f{n}" for n in range(feeds)]
    claims.register(store, [(name, f"https://h{n % 50}.example/{name}", f"h{n % 50}.example",
                             now, False) for n, name in enumerate(names)])
    claimed, elapsed = 0, 0.0
    while True:
        start = time.monotonic()
        got = claims.claim(store, "bench", None, now, now + timedelta(minutes=2), batch,
                           feeds)
        elapsed += time.monotonic() - start
        if not got:
            break
        claimed += len(got)
    store.close()
    return claimed / elapsed


def _quantile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] if values else 0.0


def acceptance(server: PgServer, pages: PagesServer, seconds: float, lease: float,
               workers: int) -> dict[str, str]:
    """The issue's acceptance: 3 nodes, the pages at a 10 s interval (jitter 1 s) for
    `seconds`, one node killed with SIGKILL halfway; the numbers it is judged by."""
    from tests.test_postgres_nodes import _free_port, _served

    count = len(pages.counts())
    url = server.new_database()
    folder = Path(tempfile.mkdtemp(prefix="feedgen-accept-"))
    feeds = "".join(f"  p{n}:\n    url: {pages.url}/de/seite-{n}/a-8{n:07d}\n    site: dw\n"
                    f"    interval: 10s\n    on_edit: update\n" for n in range(count))
    (folder / "config.yaml").write_text(
        f"database: {url}\noutput_dir: public\njitter: 1s\nlease: {lease}s\n"
        f"workers: {workers}\nper_host: 64\nfeeds:\n{feeds}")
    ports = [_free_port() for _ in range(3)]
    logs = [open(folder / f"node{i}.log", "w") for i in range(3)]  # noqa: SIM115
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    pages.clock = time.monotonic
    start = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-m", "feedgen_dw", "daemon", "--config",
                               str(folder / "config.yaml"), "--serve", "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
             for log, port in zip(logs, ports, strict=True)]
    store = open_store(url)
    try:
        time.sleep(seconds / 2)
        victim = f"{socket.gethostname()}/{procs[0].pid}"
        held: set[str] = set()
        for _ in range(100):  # killed mid-poll: while it holds some feeds
            held = {r["feed"] for r in store._rows(
                "SELECT feed FROM claims WHERE node = ?", (victim,))}
            if held:
                break
            time.sleep(0.05)
        procs[0].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        procs[0].wait()
        time.sleep(max(0.0, start + seconds - time.monotonic()))
        ended = time.monotonic()
        frozen = pages.freeze()
        for _ in range(600):  # every page polled twice more: its last version committed
            if all(c >= f + 2 for c, f in zip(pages.counts(), frozen, strict=True)):
                break
            time.sleep(0.1)
        served = {port: _served(port) for port in ports[1:]}
        stored = [[i.item_id for i in store.items(f"p{n}", 1000)] for n in range(count)]
        polls = sum(p for _, p in store.nodes()[1].values())
    finally:
        for proc in procs[1:]:
            proc.send_signal(signal.SIGTERM)
        for proc in procs[1:]:
            proc.wait(timeout=60)
        for log in logs:
            log.close()
        store.close()
        pages.clock = None
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    warm = start + 20  # the first round: every feed is due at once
    over, takeover = [], []
    for n, times in enumerate(pages.started):
        runs = [t for t in times if warm <= t <= ended]
        for a, b in itertools.pairwise(runs):
            if f"p{n}" in held and a < killed_at < b:
                takeover.append(b - killed_at)
            else:
                over.append(b - a - 10.0)
    requests = sum(warm <= t <= ended for times in pages.started for t in times)
    served_ok = all(ids == stored[n] for by_port in served.values()
                    for n, ids in enumerate(by_port))
    return {
        "pages, interval, jitter, lease, workers/node": f"{count}, 10 s, 1 s, {lease:.0f} s, "
                                                       f"{workers}",
        "polls/s after the first round (3 nodes, then 2)": f"{requests / (ended - warm):.1f}",
        "gap over interval: median / p95 / max (s)":
            f"{_quantile(over, 0.5):.2f} / {_quantile(over, 0.95):.2f} / {max(over):.2f}",
        "gaps within interval + jitter (1 s)": f"{sum(o <= 1.0 for o in over)}/{len(over)}",
        "gaps within interval + jitter + 0.5 s (a claim tick)":
            f"{sum(o <= 1.5 for o in over)}/{len(over)}",
        "most requests at once for one URL": str(max(pages.most_at_once)),
        "killed node's feeds in flight; taken over after (max s)":
            f"{len(held)}; {max(takeover, default=0.0):.1f} (lease {lease:.0f})",
        "items unique, served = stored on both survivors":
            str(all(len(ids) == len(set(ids)) for ids in stored) and served_ok),
        "requests - committed polls (killed node's in flight)":
            str(sum(pages.counts()) - polls),
        "load average before / after": f"{' '.join(load_before)} / {' '.join(load_after)}",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--acceptance", action="store_true",
                        help="the issue's acceptance run (2 minutes, a node killed)")
    parser.add_argument("--lease", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    bindir = _bindir()
    if bindir is None:
        print("pg bench: no PostgreSQL binaries (apt-get install postgresql); skipped")
        return 0
    if args.acceptance:
        return _acceptance(PgServer(bindir), args)
    server, pages = PgServer(bindir), None
    try:
        import tests.test_postgres_nodes as nodes_module

        nodes_module.PAGES = args.pages
        pages = PagesServer()
        results = {f"polls/s, {n} node{'s' * (n > 1)}": polls_per_second(
            server, pages, n, args.seconds, args.pages) for n in (1, 2, 3)}
        results["claims/s (claim 4 + release, 2000 feeds)"] = claims_per_second(
            server, 2000, 200)
        for batch, due in ((4, 2_000), (100, 20_000)):
            results[f"claims/s, the claim query alone ({batch} a query, {due:,} feeds due)"] = (
                claim_query_per_second(server, due, batch))
    finally:
        if pages is not None:
            pages.httpd.shutdown()
        server.remove()
    for what, value in results.items():
        print(f"| {what} | {value:.1f} |")
    return 0


def _acceptance(server: PgServer, args: argparse.Namespace) -> int:
    import tests.test_postgres_nodes as nodes_module

    nodes_module.PAGES = args.pages
    pages = PagesServer()
    try:
        results = acceptance(server, pages, max(args.seconds, 60.0), args.lease,
                             args.workers)
    finally:
        pages.httpd.shutdown()
        server.remove()
    for what, value in results.items():
        print(f"| {what} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
