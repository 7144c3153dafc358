"""Whole processes: the daemon with --serve, and two overlapping runs."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import feedparser
import requests

from feedgen_dw.demo import FIRST, SECOND, THIRD
from feedgen_dw.replay import ReplayServer
from tests.procs import running, stopped


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _titles(url: str) -> list[str]:
    response = requests.get(url, timeout=5)
    if response.status_code != 200:
        return []
    return [e.title for e in feedparser.parse(response.content).entries]


def test_daemon_serves_polls_reloads_and_stops_cleanly(
    server: ReplayServer, tmp_path: Path
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}/"
    config = tmp_path / "config.yaml"
    feed_a = (f"  a:\n    url: {server.publish(FIRST)}\n    interval: 1s\n    jitter: 0\n"
              "    on_edit: update\n")  # the five sections, edits in place
    config.write_text(f"base_url: {base}\nfeeds:\n{feed_a}", encoding="utf-8")
    with running("-m", "feedgen_dw", "daemon", "--config", str(config), "--serve",
                 "--port", str(port)) as proc:
        _wait_for(lambda: len(_titles(base + "a.atom")) == 3, "the first poll")
        # a cron run beside the daemon does nothing and says so
        cron = subprocess.run([sys.executable, "-m", "feedgen_dw", "run", "--config", str(config)],
                              capture_output=True, text=True, timeout=30)
        assert cron.returncode == 0 and "holds" in cron.stderr and not cron.stdout
        server.publish(SECOND)  # a new lead: one more item
        _wait_for(lambda: len(_titles(base + "a.atom")) == 4, "the new section")
        assert _titles(base + "a.atom")[0] == "Kiew meldet Geländegewinne bei Saporischschja"
        # SIGHUP with a second feed added
        other = FIRST.__class__(**{**FIRST.__dict__, "article_id": "70000002"})
        feed_b = f"  b:\n    url: {server.publish(other)}\n    interval: 1s\n    jitter: 0\n"
        config.write_text(f"base_url: {base}\nfeeds:\n{feed_a}{feed_b}", encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        _wait_for(lambda: len(_titles(base + "b.atom")) == 3, "the feed added on SIGHUP")
        # a broken config on reload keeps the running one
        config.write_text("feeds: [broken\n", encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        server.publish(THIRD)
        _wait_for(lambda: len(_titles(base + "a.atom")) == 5, "polls after a bad reload")
        _wait_for(lambda: "b.atom" in requests.get(base, timeout=5).text,
                  "the index to list the added feed (rewritten every few seconds)")
        assert "a.atom" in requests.get(base, timeout=5).text
        output = stopped(proc)
    assert proc.returncode == 0, output
    assert "reload status=failed" in output and "keeping the running config" in output
    assert "daemon status=stopped" in output
    public = tmp_path / "public"
    a = feedparser.parse((public / "a.atom").read_bytes())
    assert a.bozo == 0 and len(a.entries) == 5 and len({e.id for e in a.entries}) == 5
    assert len(feedparser.parse((public / "b.atom").read_bytes()).entries) == 3


def test_two_runs_at_once_poll_each_item_once(server: ReplayServer, tmp_path: Path) -> None:
    url = server.publish(FIRST)
    server.site.delay = 1.0  # long enough for the two runs to overlap
    config = tmp_path / "config.yaml"
    config.write_text(f"lock_timeout: 30s\nfeeds:\n  live:\n    url: {url}\n", encoding="utf-8")
    command = [sys.executable, "-m", "feedgen_dw", "run", "--config", str(config)]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    results = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    firsts = sorted(out.split(" -> ")[0] for out, _ in results)
    # one run saw the article first, the other waited for the lock and found nothing new
    assert firsts == ["live: 3 new, 0 changed, 0 removed", "live: not modified"]
    entries = feedparser.parse((tmp_path / "public" / "live.atom").read_bytes()).entries
    assert len(entries) == len({e.id for e in entries}) == 3


def test_a_second_run_without_lock_timeout_exits_0_at_once(
    server: ReplayServer, tmp_path: Path
) -> None:
    url = server.publish(FIRST)
    server.site.delay = 2.0
    config = tmp_path / "config.yaml"
    config.write_text(f"feeds:\n  live:\n    url: {url}\n", encoding="utf-8")
    command = [sys.executable, "-m", "feedgen_dw", "run", "--config", str(config)]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: server.request_count() >= 1, "the first run to fetch")
    second = subprocess.run(command, capture_output=True, text=True, timeout=30)
    first.communicate(timeout=60)
    assert second.returncode == 0 and first.returncode == 0
    assert "another run or a daemon holds" in second.stderr and second.stderr.count("\n") == 1
    assert server.request_count() == 1
