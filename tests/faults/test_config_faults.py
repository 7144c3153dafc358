"""Issue 12: hostile configs. Whatever the file holds, loading it is one ConfigError line
(exit 2 for `run`), quickly; a daemon reloading it on SIGHUP keeps its running config
and its server."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from feedgen_dw.config import load_config
from feedgen_dw.demo import FIRST
from feedgen_dw.errors import ConfigError
from feedgen_dw.replay import ReplayServer
from tests.procs import running, stopped
from tests.test_processes import _free_port, _wait_for

FEED = "feeds:\n  x:\n    url: http://a.example/a-1\n"
LAUGHS = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
          + "".join(f"{b}: &{b} [{','.join(['*' + a] * 9)}]\n"
                    for a, b in zip("abcdefgh", "bcdefghi", strict=True))
          + "feeds: *i\n")
# (what, bytes of the file, words the one line must hold)
HOSTILE: list[tuple[str, bytes, str]] = [
    ("latin-1", "feeds:\n  x:\n    url: http://a.example/a-1\n    title: Größe\n".encode(
        "latin-1"), "not UTF-8 (byte 0xf6 on line 4)"),
    ("list key", b"feeds:\n  [a, b]:\n    url: http://a.example/a-1\n",
     "line 2: a key must be a name, not a list"),
    ("open bracket", b"feeds:\n  x:\n    url: http://[::1/x\n",
     "feeds.x.url: expected an http(s) URL"),
    ("huge repeat", b"feeds:\n  x:\n    follow: http://a.example/t-1\n"
     b"    match: a{4294967296}\n", "feeds.x.match: repeats more than 1000 times"),
    ("deep nesting", b"feeds: " + b"[" * 100_000, "nested deeper than 32 levels"),
    ("deep mapping", b"feeds:\n" + b"".join(b" " * n + b"k:\n" for n in range(1, 200)),
     "nested deeper than 32 levels"),
    ("billion laughs", LAUGHS.encode(), "once its aliases are expanded"),
    ("nan interval", FEED.encode() + b"    interval: .nan\n", "x.interval: expected a duration"),
    ("inf interval", FEED.encode() + b"    interval: .inf\n", "x.interval: expected a duration"),
    ("huge interval", FEED.encode() + b"    interval: 99999999999999d\n",
     "x.interval: must be at most 7d"),
    ("tiny interval", FEED.encode() + b"    interval: 0.001s\n",
     "x.interval: must be at least 10s"),
    ("inf jitter", FEED.encode() + b"    jitter: .inf\n", "x.jitter: expected a duration"),
    ("inf timeout", b"timeout: .inf\n" + FEED.encode(), "timeout: expected a duration"),
    ("huge max_items", FEED.encode() + b"    max_items: 99999999999999999999\n",
     "x.max_items: expected 1 to 100000"),
    ("name with a newline", b'feeds:\n  "x\\n":\n    url: http://a.example/a-1\n',
     "a feed name must match"),
    ("name with ..", b"feeds:\n  a..b:\n    url: http://a.example/a-1\n",
     "without '..'"),
    ("database is a feed", b"database: public/x.atom\n" + FEED.encode(),
     "is inside output_dir"),
    ("database is the index", b"database: public/index.html\n" + FEED.encode(),
     "is inside output_dir"),
    ("database is output_dir", b"database: out\noutput_dir: out\n" + FEED.encode(),
     "is inside output_dir"),
    ("NUL byte", FEED.encode() + b"    title: a\x00b\n", "not valid YAML"),
    ("a bare number as url", b"feeds:\n  x:\n    url: 5\n", "expected an http(s) URL, got 5"),
    ("recursive merge", b"a: &a\n  <<: *a\n" + FEED.encode(), "config"),
    ("two megabytes", b"# " + b"x" * 2_000_000 + b"\n" + FEED.encode(), "larger than 1024 KB"),
]


@pytest.mark.parametrize(("what", "data", "words"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_config_is_one_config_error_quickly(tmp_path: Path, what: str, data: bytes,
                                                     words: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(data)
    started = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert time.perf_counter() - started < 5
    message = str(info.value)
    assert words in message and "\n" not in message and len(message) < 400, message


@pytest.mark.parametrize("what", ["latin-1", "billion laughs", "nan interval", "list key"])
def test_run_says_so_in_one_line_and_exits_2(tmp_path: Path, what: str) -> None:
    data = next(d for w, d, _ in HOSTILE if w == what)
    (tmp_path / "config.yaml").write_bytes(data)
    result = subprocess.run([sys.executable, "-m", "feedgen_dw", "run", "--config",
                             str(tmp_path / "config.yaml")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "config error" in result.stderr and "Traceback" not in result.stderr


def test_sighup_with_each_hostile_config_keeps_the_daemon_and_its_server(
    server: ReplayServer, tmp_path: Path
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}/"
    config = tmp_path / "config.yaml"
    # polled every second: after output_dir moves, the next poll writes the files there
    good = (f"base_url: {base}\nfeeds:\n  a:\n    url: {server.publish(FIRST)}\n"
            "    interval: 1s\n    jitter: 0s\n")
    config.write_text(good, encoding="utf-8")
    log = tmp_path / "daemon.log"
    with log.open("w") as out, running("-m", "feedgen_dw", "daemon", "--config", str(config),
                                       "--serve", "--port", str(port), out=out) as proc:
        _wait_for(lambda: requests.get(base + "a.atom", timeout=5).status_code == 200,
              "the first poll")
        for n, (_, data, _) in enumerate(HOSTILE, start=1):
            config.write_bytes(data)
            proc.send_signal(signal.SIGHUP)
            _wait_for(lambda n=n: log.read_text().count("reload status=failed") == n,  # type: ignore[misc]
                  f"reload {n} to fail")
            assert proc.poll() is None, log.read_text()[-2000:]
            assert requests.get(base + "a.atom", timeout=5).status_code == 200
        # a good reload that moves output_dir: the server serves the new folder
        config.write_text(good + "output_dir: elsewhere\n", encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        _wait_for(lambda: requests.get(base + "a.atom", timeout=5).status_code == 200
              and (tmp_path / "elsewhere" / "a.atom").exists()
              and "reload status=ok" in log.read_text(), "the moved output_dir")
        (tmp_path / "public" / "a.atom").unlink()
        assert requests.get(base + "a.atom", timeout=5).status_code == 200
        stopped(proc)
    assert proc.returncode == 0
    assert "Traceback" not in log.read_text()


def test_a_second_daemon_waiting_for_the_lock_does_not_take_the_port(
    server: ReplayServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"feeds:\n  a:\n    url: {server.publish(FIRST)}\n", encoding="utf-8")
    first_port, second_port = _free_port(), _free_port()
    command = [sys.executable, "-m", "feedgen_dw", "daemon", "--config", str(config), "--serve",
               "--port"]
    first = subprocess.Popen([*command, str(first_port)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    second = None
    try:
        _wait_for(lambda: requests.get(f"http://127.0.0.1:{first_port}/", timeout=5).ok,
              "the first daemon")
        second = subprocess.Popen([*command, str(second_port)], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        _wait_for(lambda: (tmp_path / "state").exists() and second.poll() is None, "the second")
        time.sleep(2)  # it is waiting for the lock by now
        with socket.socket() as probe:  # the port is still free: nothing listens on it
            assert probe.connect_ex(("127.0.0.1", second_port)) != 0
    finally:
        for proc in (first, second):
            if proc is not None:
                proc.kill()
                proc.communicate()
