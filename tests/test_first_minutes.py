"""Issue 11: the first ten minutes. Every mistake a newcomer makes is one line and exit 2;
the daemon says what its polls do; `make demo` leaves something to look at."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from feedgen_dw.config import load_config
from feedgen_dw.demo import FIRST
from feedgen_dw.replay import ReplayServer
from tests.procs import running

REPO = Path(__file__).resolve().parents[1]


def _feedgen(*args: str, cwd: Path | None = None, timeout: float = 30,
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "feedgen_dw", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def _one_line(result: subprocess.CompletedProcess[str], status: int, *words: str) -> None:
    assert result.returncode == status, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text("feeds:\n  x:\n    url: http://127.0.0.1:9/a-1\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [["serve"], ["daemon", "--serve"]])
def test_a_port_in_use_is_one_line(config: Path, taken_port: int, command: list[str]) -> None:
    result = _feedgen(*command, "--config", str(config), "--port", str(taken_port))
    _one_line(result, 2, f"cannot listen on 127.0.0.1:{taken_port}", "in use")


@pytest.mark.parametrize(("port", "words"), [
    ("80000", "invalid port 80000 (0 to 65535)"), ("-1", "invalid port -1"),
    ("http", "not a port number: 'http'"),
])
@pytest.mark.parametrize("command", [["serve"], ["daemon", "--serve"]])
def test_an_invalid_port_is_one_line(config: Path, command: list[str], port: str,
                                     words: str) -> None:
    _one_line(_feedgen(*command, "--config", str(config), "--port", port), 2, words, "--help")


def test_an_unknown_host_is_one_line(config: Path) -> None:
    _one_line(_feedgen("serve", "--config", str(config), "--host", "nowhere.invalid"), 2,
              "cannot listen on nowhere.invalid:8080")


@pytest.mark.parametrize(("text", "words"), [
    ("", ["config.yaml: the file is empty", "needs at least feeds:"]),
    ("feeds:\n  x:\n  url: http://a.example/a-1\n",
     ["feeds.x: nothing under it", "indented"]),
    ("feeds:\n  x:\n    url: http://a.example/a-1\n    site: br42\n",
     ["feeds.x.site: unknown profile 'br42'", "auto, dw, liveblog, br24"]),
    ("feeds:\n", ["feeds: expected a mapping", "got nothing"]),
    ("- a\n", ["at least feeds:", "got a list"]),
])
@pytest.mark.parametrize("command", ["run", "daemon", "serve"])
def test_config_mistakes_are_one_line_without_none(tmp_path: Path, text: str,
                                                   words: list[str], command: str) -> None:
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    result = _feedgen(command, "--config", "config.yaml", cwd=tmp_path)
    _one_line(result, 2, "feedgen-dw: config error:", *words)
    assert "None" not in result.stderr


def test_a_missing_config_names_the_folder_and_the_option(tmp_path: Path) -> None:
    result = _feedgen("run", cwd=tmp_path)
    _one_line(result, 2, f"config.yaml: no such file in {tmp_path}", "--config")


def test_a_feed_without_site_is_auto_and_dw_pages_are_still_dw(
    server: ReplayServer, tmp_path: Path
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"feeds:\n  x:\n    url: {server.publish(FIRST)}\n", encoding="utf-8")
    assert load_config(path).feed("x").site == "auto"
    result = _feedgen("run", "--config", str(path))
    assert result.returncode == 0 and "x: 3 new" in result.stdout, result.stderr


@pytest.mark.parametrize("command", ["run", "daemon", "serve", "inspect"])
def test_help_shows_defaults_exit_codes_and_where_to_start(command: str) -> None:
    result = _feedgen(command, "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "exit status: 0" in text and "2 a bad config or option" in text
    assert "make demo" in text and "README.md" in text
    if command != "inspect":
        assert "default: ./config.yaml" in text
    if command in ("daemon", "serve"):
        assert "default: 8080" in text and "default: 127.0.0.1" in text


def test_the_daemon_says_what_its_polls_do_without_scheduler_noise(
    server: ReplayServer, tmp_path: Path
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(f"feeds:\n  x:\n    url: {server.publish(FIRST)}\n    interval: 1s\n"
                    "    jitter: 0\n", encoding="utf-8")
    with running("-m", "feedgen_dw", "daemon", "--config", str(path)) as proc:
        deadline = time.monotonic() + 30
        while server.request_count() < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert re.search(r"INFO feedgen_dw.poll: poll feed=x .*status=ok new=3", output), output
    assert "status=not-modified" in output
    assert "apscheduler" not in output and "DEBUG" not in output


def test_serve_a_folder_without_a_config(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<!DOCTYPE html><title>x</title>", encoding="utf-8")
    with running("-m", "feedgen_dw", "serve", "--dir", str(tmp_path), "--port", "0") as proc:
        assert proc.stdout is not None
        url = proc.stdout.readline().split(" at ")[1].split()[0]
        response = requests.get(url, timeout=5)
        assert response.status_code == 200 and "<title>x</title>" in response.text
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    _one_line(_feedgen("serve", "--dir", str(tmp_path / "nope")), 2, "nope: no such folder")


def test_make_demo_serves_the_index_the_feeds_and_the_articles(tmp_path: Path) -> None:
    with running("-m", "feedgen_dw.demo", str(tmp_path / "demo"), "--port", "0") as proc:
        assert proc.stdout is not None
        line = ""
        while "is served at" not in line:
            line = proc.stdout.readline()
            assert line, "the demo ended before serving"
        base = re.search(r"served at (\S+)", line).group(1)  # type: ignore[union-attr]
        index = requests.get(base, timeout=5)
        assert index.status_code == 200 and "dw-ukraine-demo.atom" in index.text
        for suffix in (".atom", ".rss", ".json"):
            assert requests.get(f"{base}dw-ukraine-demo{suffix}", timeout=5).status_code == 200
        feed = requests.get(f"{base}dw-ukraine-demo.atom", timeout=5).text
        links = set(re.findall(r'<link href="([^"#]+)[^"]*" rel="alternate"', feed))
        assert links, feed[:500]
        for link in links:  # the items' links: the replayed article, still served
            assert requests.get(link, timeout=5).status_code == 200, link
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_make_checks_the_python_version_before_making_a_venv(tmp_path: Path) -> None:
    old = tmp_path / "python3.10"
    old.write_text("#!/bin/sh\n[ \"$1\" = -V ] && echo 'Python 3.10.12' && exit 0\nexit 1\n",
                   encoding="utf-8")
    old.chmod(0o755)
    venv = tmp_path / "venv"
    result = subprocess.run(["make", "-s", "-C", str(REPO), "run", f"PYTHON={old}",
                             f"VENV={venv}"], capture_output=True, text=True, timeout=30,
                            env={**os.environ, "MAKEFLAGS": ""})
    assert result.returncode != 0 and not venv.exists()
    lines = [x for x in result.stderr.splitlines() if not x.startswith("make")]
    assert lines == [f"feedgen-dw needs Python 3.11 or newer; '{old}' is Python 3.10.12 "
                     f"(try: make run PYTHON=python3.11)"]
