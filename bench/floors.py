"""The floor under the per-poll goals: what the steps a poll cannot skip cost on their own,
with nothing of feedgen-dw around them (the same page, server and machine as the polls).

A changed poll must at least GET the page, parse it, commit its state to SQLite, write the
three feed files atomically and mark them written; a noise-only poll must GET, parse and
record the poll; a 304 must send the conditional GET and record the poll.
"""

from __future__ import annotations

import http.client
import statistics
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

import lxml.html
import requests
import urllib3

from feedgen_dw.output import write_if_changed
from feedgen_dw.poll import feed_paths, fixed_clock, poll_feed

if TYPE_CHECKING:
    from bench.run import Bench


def floors(bench: Bench) -> None:
    """Add the floor rows to the bench's table."""
    from bench.run import T0, thread_cpu

    url = bench.publish("66", 30)
    feed, store, fetcher, output = bench.feed_env("floors", url)
    poll_feed(feed, store, fetcher, output, fixed_clock(T0))  # real feed files, real state
    rounds = 30 if bench.quick else 100

    def median(call: Callable[[], object]) -> float:
        times = []
        for n in range(rounds):
            times.append(thread_cpu(call))
            if n % 10 == 0:
                bench.sample_floor(1)
        return statistics.median(times)

    session = requests.Session()
    session.trust_env = False  # as feedgen-dw's Fetcher did with requests
    first = session.get(url)
    body, etag = first.content, first.headers["ETag"]
    pool = urllib3.PoolManager()
    host, target = url.split("/")[2], "/" + url.split("/", 3)[3]
    plain = http.client.HTTPConnection(host)

    def plain_get() -> bytes:
        plain.request("GET", target)
        return plain.getresponse().read()

    def plain_304() -> int:
        plain.request("GET", target, headers={"If-None-Match": etag})
        answer = plain.getresponse()
        answer.read()
        return answer.status

    requests_get = median(lambda: session.get(url).content)
    get = median(plain_get)
    get_304 = median(lambda: session.get(url, headers={"If-None-Match": etag}).status_code)
    bare_304 = median(lambda: pool.request("GET", url, headers={"If-None-Match": etag}).status)
    http_client_304 = median(plain_304)
    parse = median(lambda: lxml.html.fromstring(body))
    when = iter(range(10**6))
    commit = median(lambda: store.save_poll(feed.name, [], T0 + timedelta(seconds=next(when))))
    files = [(path, path.read_bytes()) for path in feed_paths(output, feed.name).values()]
    flip = iter(range(10**6))

    def write_three() -> None:
        suffix = b"\n" * (next(flip) % 2)  # other bytes every time: always written
        for path, data in files:
            write_if_changed(path, data + suffix)

    writes = median(write_three)
    sizes = "+".join(f"{len(data) // 1000}" for _, data in files)
    store.close()
    fetcher.close()
    session.close()
    pool.clear()
    plain.close()
    for scenario, cpu, note in (
        ("floor: http.client GET of the page, body read", get, "what fetch.py reads a 200 over"),
        ("floor: requests GET of the page, body read", requests_get, "trust_env off"),
        ("floor: requests conditional GET answered 304", get_304, ""),
        ("floor: urllib3 alone, conditional GET answered 304", bare_304, "no requests"),
        ("floor: http.client alone, conditional GET answered 304", http_client_304,
         "what fetch.py sends a 304 over"),
        ("floor: lxml parse of the fetched bytes", parse, "same page, same moment"),
        ("floor: one SQLite write transaction (a poll's bookkeeping)", commit, "WAL"),
        ("floor: three feed files written atomically (temp, fsync, rename)", writes,
         f"{sizes} KB"),
        ("floor sum, changed poll: GET + parse + 2 transactions + 3 files",
         get + parse + 2 * commit + writes, "goal: <= 6x parse"),
        ("floor sum, noise-only poll: GET + parse + 1 transaction", get + parse + commit,
         "goal: <= 3x parse"),
        ("floor sum, 304: conditional GET (http.client) + 1 transaction",
         http_client_304 + commit, "goal: < 0.5 ms"),
    ):
        bench.row(scenario, cpu, note)
