"""Several nodes on one PostgreSQL: polls per second of 1, 2 and 3 daemon processes on this
box against one database, and claims per second of the claim query alone.

Starts its own PostgreSQL (tests/pg.py) and a local server of changing pages
(tests/test_postgres_nodes.py); `--seconds` per node count, `--pages`. Prints a table and
prints the numbers. No PostgreSQL binaries: says so and exits 0.
"""

from __future__ import annotations

import argparse
import signal
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args()
    bindir = _bindir()
    if bindir is None:
        print("pg bench: no PostgreSQL binaries (apt-get install postgresql); skipped")
        return 0
    server, pages = PgServer(bindir), None
    try:
        import tests.test_postgres_nodes as nodes_module

        nodes_module.PAGES = args.pages
        pages = PagesServer()
        results = {f"polls/s, {n} node{'s' * (n > 1)}": polls_per_second(
            server, pages, n, args.seconds, args.pages) for n in (1, 2, 3)}
        results["claims/s (claim 4 + release, 2000 feeds)"] = claims_per_second(
            server, 2000, 200)
    finally:
        if pages is not None:
            pages.httpd.shutdown()
        server.remove()
    for what, value in results.items():
        print(f"| {what} | {value:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
