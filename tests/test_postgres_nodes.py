"""Several daemons on one PostgreSQL, as whole processes, against a local server of
changing pages that counts concurrent requests per URL.

`make test` runs a small version (3 nodes, 24 pages at a 2 s interval, one node killed
with SIGKILL mid-run, a 3 s lease); the issue's full size (300 pages at 10 s for two
minutes) is `FEEDGEN_DW_NODES_FULL=1`. No wall clock is read: waits are loops of short
sleeps over what the server counted.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from feedgen_dw.cli import main
from feedgen_dw.replay import DemoPage, DemoSection, render_page
from feedgen_dw.store import open_store
from tests.pg import PgServer, pg_server_fixture, pg_url_fixture  # noqa: F401  # fixtures

FULL = os.environ.get("FEEDGEN_DW_NODES_FULL") == "1"
PAGES, INTERVAL, ROUNDS = (300, 10, 12) if FULL else (24, 2, 4)
CAP = 40  # sections a page grows to


def _page(n: int, version: int) -> DemoPage:
    def section(k: int) -> DemoSection:
        words = " ".join(f"wort{n}x{k}y{j}" for j in range(12))
        return DemoSection(headline=f"Meldung {k} der Seite {n}",
                           paragraphs=(f"Bericht {k}: {words}.",))
    lead = DemoSection(paragraphs=(f"Der Tag auf Seite {n} im Überblick: alles Neue hier.",))
    return DemoPage(article_id=f"8{n:07d}", slug=f"seite-{n}", title=f"Live {n}",
                    teaser="Neues", sections=(lead, *(section(k) for k in range(1, version + 1))))


class PagesServer:
    """Page n grows by a section with every request for it; concurrency is counted."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = [0] * PAGES
        self.inflight = [0] * PAGES
        self.most_at_once = [0] * PAGES
        # the next request for a page in `hold` waits until `go` is set (`held`: it came)
        self.hold: set[int] = set()
        self.frozen: list[int] | None = None  # versions the pages keep from now on
        # the bench's clock: when each request for each page came (tests set none)
        self.clock: Callable[[], float] | None = None
        self.started: list[list[float]] = [[] for _ in range(PAGES)]
        self.held, self.go = threading.Event(), threading.Event()
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                n = int(self.path.split("/")[2].removeprefix("seite-"))
                with pages.lock:
                    pages.count[n] += 1
                    if pages.clock is not None:
                        pages.started[n].append(pages.clock())
                    pages.inflight[n] += 1
                    pages.most_at_once[n] = max(pages.most_at_once[n], pages.inflight[n])
                    version = min(pages.count[n] if pages.frozen is None
                                  else pages.frozen[n], CAP)
                    held = n in pages.hold
                    pages.hold.discard(n)
                if held:
                    pages.held.set()
                    pages.go.wait(60)
                try:
                    time.sleep(0.05)  # a window for a second request to overlap
                    body = render_page(_page(n, version), pages.url).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    with pages.lock:
                        pages.inflight[n] -= 1

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def freeze(self) -> list[int]:
        """From now on every page stays as it is; the counts at this moment."""
        with self.lock:
            self.frozen = list(self.count)
            return list(self.count)

    def counts(self) -> list[int]:
        with self.lock:
            return list(self.count)


@pytest.fixture
def pages() -> Iterator[PagesServer]:
    server = PagesServer()
    yield server
    server.httpd.shutdown()


def _wait(check: Callable[[], bool], what: str, steps: int,
          alive: list[subprocess.Popen[bytes]]) -> None:
    for _ in range(steps):  # steps of 0.2 s
        if check():
            return
        assert all(p.poll() is None for p in alive), "a node exited (see its log)"
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


def test_three_nodes_share_the_feeds_and_a_killed_one_is_taken_over(
    pg_url: str, pages: PagesServer, tmp_path: Path,
) -> None:
    feeds = "".join(f"  p{n}:\n    url: {pages.url}/de/seite-{n}/a-8{n:07d}\n    site: dw\n"
                    f"    interval: {INTERVAL}s\n    on_edit: update\n" for n in range(PAGES))
    config = tmp_path / "config.yaml"
    config.write_text(
        f"database: {pg_url}\noutput_dir: public\njitter: {INTERVAL / 10}s\nlease: 3s\n"
        f"workers: 4\nper_host: 12\nfeeds:\n{feeds}", encoding="utf-8")
    logs = [open(tmp_path / f"node{i}.log", "w") for i in range(3)]  # noqa: SIM115
    ports = [_free_port() for _ in logs]
    nodes = [subprocess.Popen([sys.executable, "-m", "feedgen_dw", "daemon", "--config",
                               str(config), "--serve", "--port", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
             for log, port in zip(logs, ports, strict=True)]
    try:
        _wait(lambda: min(pages.counts()) >= ROUNDS, "every page polled a few times",
              steps=ROUNDS * INTERVAL * 5 * 4, alive=nodes)
        nodes[0].send_signal(signal.SIGKILL)  # mid-poll, most likely: it polls all the time
        nodes[0].wait()
        at_kill = pages.counts()
        # every feed, its feeds too, polled again within a lease and an interval or two
        _wait(lambda: all(c >= k + 2 for c, k in zip(pages.counts(), at_kill, strict=True)),
              "the others to take the killed node's feeds over",
              steps=(3 + 3 * INTERVAL) * 5 * 4, alive=nodes[1:])
        # the pages change no more: once each is polled twice more (its second poll
        # starts after the first committed), every node must serve all of it
        frozen = pages.freeze()
        _wait(lambda: all(c >= f + 2 for c, f in zip(pages.counts(), frozen, strict=True)),
              "two polls of the last version of every page",
              steps=(3 + 3 * INTERVAL) * 5 * 4, alive=nodes[1:])
        served = {port: _served(port) for port in ports[1:]}
    finally:
        for node in nodes[1:]:
            node.send_signal(signal.SIGTERM)
        for node in nodes:
            node.wait(timeout=60)
        for log in logs:
            log.close()
    assert max(pages.most_at_once) == 1, "two requests for one feed at once"
    counts = pages.counts()
    assert min(counts) * 2 >= max(counts), f"polls per feed uneven: {counts}"
    store = open_store(pg_url)
    try:
        polled, seen = store.nodes()
        # every feed was polled since the kill, so last by a node still alive; one alone
        # may have done it all (a node claims whatever is due while it has free workers)
        survivors = {f"{socket.gethostname()}/{node.pid}" for node in nodes[1:]}
        assert set(polled.values()) <= survivors, (set(polled.values()), survivors)
        assert len(seen) == 3
        # every request is a committed poll, counted once by its node, but those the
        # killed node had in flight (at most its workers)
        assert 0 <= sum(counts) - sum(polls for _, polls in seen.values()) <= 4
        index = (tmp_path / "public" / "index.html").read_text()  # on the index too
        assert all(node in index for node in seen) and "Nodes" in index and "Polls" in index
        for n in range(PAGES):
            items = store.items(f"p{n}", 1000)
            ids = [i.item_id for i in items]
            assert len(ids) == len(set(ids)), f"p{n}: an item twice"
            # every section served is in the feed once: the lead and 1 .. the last version
            assert len(items) == 1 + min(frozen[n], CAP), (n, len(items), frozen[n])
            for port, feeds_served in served.items():  # every node serves them all, once
                assert feeds_served[n] == ids, (port, n)
    finally:
        store.close()
    # the same pages read once by one node on SQLite: the same items, nothing lost or
    # doubled by the kill (the sections carry no times: published is when first seen)
    (tmp_path / "single").mkdir()
    (tmp_path / "single" / "config.yaml").write_text(f"feeds:\n{feeds}", encoding="utf-8")
    assert main(["run", "--config", str(tmp_path / "single" / "config.yaml")]) == 0
    single = open_store(tmp_path / "single" / "state" / "feeds.sqlite3")
    try:
        for n in range(PAGES):
            ids = sorted(i.item_id for i in single.items(f"p{n}", 1000))
            assert ids == sorted(served[ports[1]][n]), n
    finally:
        single.close()
    for i in (1, 2):
        text = (tmp_path / f"node{i}.log").read_text()
        assert "Traceback" not in text, text[-3000:]


def test_a_database_outage_is_one_line_per_node_and_polls_resume_by_themselves(
    pg_server: PgServer, pages: PagesServer, tmp_path: Path,
) -> None:
    import requests

    url = pg_server.new_database()
    feeds = "".join(f"  p{n}:\n    url: {pages.url}/de/seite-{n}/a-8{n:07d}\n    site: dw\n"
                    f"    interval: 1s\n    jitter: 0\n    on_edit: update\n" for n in range(4))
    ports = [_free_port(), _free_port()]
    logs, nodes = [], []
    for i, port in enumerate(ports):
        folder = tmp_path / f"node{i}"
        folder.mkdir()
        (folder / "config.yaml").write_text(
            f"database: {url}\nlease: 3s\nfeeds:\n{feeds}", encoding="utf-8")
        logs.append(open(folder / "log", "w"))  # noqa: SIM115
        nodes.append(subprocess.Popen(
            [sys.executable, "-m", "feedgen_dw", "daemon", "--config",
             str(folder / "config.yaml"), "--serve", "--port", str(port)],
            stdout=logs[-1], stderr=subprocess.STDOUT))
    try:
        _wait(lambda: min(pages.counts()[:4]) >= 2, "the first polls", steps=300, alive=nodes)
        # both nodes serve the database's one document; a poll may commit between the two
        # requests, so ask both again (a few times) until a pair is taken between commits
        for _ in range(50):
            served = [requests.get(f"http://127.0.0.1:{p}/p0.atom", timeout=30).content
                      for p in ports]
            if served[0] == served[1]:
                break
            time.sleep(0.05)
        assert served[0] == served[1] and b"<feed" in served[0]
        pg_server.stop()
        for _ in range(40):  # 8 s: several claim rounds find the database gone
            time.sleep(0.2)
        for port in ports:  # the last documents are served on
            answer = requests.get(f"http://127.0.0.1:{port}/p0.atom", timeout=30)
            assert answer.status_code == 200 and b"<feed" in answer.content
        before = pages.counts()
        pg_server.start()
        _wait(lambda: all(c >= b + 2 for c, b in zip(pages.counts()[:4], before[:4],
                                                     strict=True)),
              "polls to resume without a restart", steps=300, alive=nodes)
        for log in logs:
            log.flush()
        _wait(lambda: all("database status=back" in (tmp_path / f"node{i}" / "log").read_text()
                          for i in range(2)), "both nodes to find the database back",
              steps=300, alive=nodes)
    finally:
        if not _accepting(pg_server):
            pg_server.start()
        for node in nodes:
            node.send_signal(signal.SIGTERM)
        for node in nodes:
            node.wait(timeout=60)
        for log in logs:
            log.close()
    for i in range(2):
        text = (tmp_path / f"node{i}" / "log").read_text()
        assert text.count("database status=unreachable") == 1, text[-3000:]
        assert "database status=back" in text and "Traceback" not in text


def _served(port: int) -> list[list[str]]:
    """The Atom feeds p0 .. p{PAGES - 1} a node serves, as their entry ids in order."""
    import requests
    from lxml import etree

    atom = "{http://www.w3.org/2005/Atom}"
    return [[e.text or "" for e in etree.fromstring(requests.get(
        f"http://127.0.0.1:{port}/p{n}.atom", timeout=30).content).iterfind(
        f"{atom}entry/{atom}id")] for n in range(PAGES)]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _accepting(server: PgServer) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", server.port)) == 0


def test_a_node_stalled_past_its_lease_commits_nothing_of_that_poll(
    pg_url: str, pages: PagesServer, tmp_path: Path,
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"database: {pg_url}\nlease: 3s\nworkers: 2\nfeeds:\n  p0:\n"
        f"    url: {pages.url}/de/seite-0/a-80000000\n    site: dw\n    interval: 1s\n"
        "    jitter: 0\n    on_edit: update\n", encoding="utf-8")
    pages.hold.add(0)
    logs = [open(tmp_path / f"node{i}.log", "w") for i in range(2)]  # noqa: SIM115
    nodes = [subprocess.Popen([sys.executable, "-m", "feedgen_dw", "daemon", "--config",
                               str(config)], stdout=logs[0], stderr=subprocess.STDOUT)]
    try:
        _wait(pages.held.is_set, "the first node's first request", steps=300, alive=nodes)
        nodes[0].send_signal(signal.SIGSTOP)  # mid-fetch, as a long GC pause would
        pages.go.set()  # its answer waits in the stopped node's socket
        nodes.append(subprocess.Popen([sys.executable, "-m", "feedgen_dw", "daemon",
                                       "--config", str(config)],
                                      stdout=logs[1], stderr=subprocess.STDOUT))
        # the lease (3 s) ends unrenewed: the second node claims and polls the feed
        _wait(lambda: pages.counts()[0] >= 3, "the second node's polls", steps=300,
              alive=nodes[1:])
        nodes[0].send_signal(signal.SIGCONT)
        _wait(lambda: "status=lease-lost" in (tmp_path / "node0.log").read_text(),
              "the stalled node to find its lease lost", steps=300, alive=nodes)
        resumed = pages.counts()[0]
        _wait(lambda: pages.counts()[0] >= resumed + 2, "polls after it", steps=300,
              alive=nodes)
    finally:
        for node in nodes:
            node.send_signal(signal.SIGCONT)
            node.send_signal(signal.SIGTERM)
        for node in nodes:
            node.wait(timeout=60)
        for log in logs:
            log.close()
    stalled = (tmp_path / "node0.log").read_text()
    assert stalled.count("poll feed=p0 status=lease-lost") == 1, stalled[-3000:]
    assert max(pages.most_at_once) == 1, "two requests for one feed at once"
    count = pages.counts()[0]
    store = open_store(pg_url)
    try:
        ids = [i.item_id for i in store.items("p0", 1000)]
        assert len(ids) == len(set(ids)) == 1 + min(count, CAP), (ids, count)
        # every request but the stalled one is a committed poll, counted once
        assert sum(polls for _, polls in store.nodes()[1].values()) == count - 1
    finally:
        store.close()
    for i in range(2):
        assert "Traceback" not in (tmp_path / f"node{i}.log").read_text()
