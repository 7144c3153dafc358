"""Issue 12: no page, answer or config can stop the service. Each test is a world that
misbehaves, and what must still hold."""

from __future__ import annotations

import io
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from feedgen_dw import extract as extract_module
from feedgen_dw.cli import main
from feedgen_dw.config import FeedConfig, Settings
from feedgen_dw.demo import FIRST
from feedgen_dw.fetch import Fetcher
from feedgen_dw.model import HttpState, PollResult
from feedgen_dw.poll import Output, fixed_clock, poll_feed, write_site
from feedgen_dw.replay import ReplayServer, render_page
from feedgen_dw.store import SQLiteStore
from tests.faults.rawserver import raw_server, response, wait_until
from tests.procs import running, stopped

T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)


def _run(config: Path, now: datetime | None, *extra: str) -> tuple[int, str, str]:
    """`run` on the fixed clock `now`, or on the process clock (None) where a daemon
    started by the test runs on the same state: every process then keeps one clock."""
    out, err = io.StringIO(), io.StringIO()
    clock = ["--now", now.isoformat()] if now else []
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["run", "--config", str(config), *clock, *extra])
    return code, out.getvalue(), err.getvalue()


def _page(lang: str = "de") -> bytes:
    text = render_page(FIRST, "https://www.dw.com", noise=0)
    return text.replace('<html lang="de">', f'<html lang="{lang}">').encode("utf-8")


def _index(public: Path) -> etree._Element:
    return etree.fromstring((public / "index.html").read_bytes(), etree.HTMLParser())


def test_control_characters_from_outside_never_stop_the_index(tmp_path: Path) -> None:
    """A control character in a reason phrase, a page's lang and the config's title: the
    run writes index and OPML, and a daemon restarted on that state keeps polling."""
    answers = [response(b"503 Service\x01Unavailable", b"busy", b"Content-Type: text/html")]

    def answer(conn: socket.socket, head: bytes) -> None:
        conn.sendall(answers[0] if len(answers) == 1 else answers.pop(0))

    with raw_server(answer) as server:
        config = tmp_path / "config.yaml"
        config.write_text(
            f'feeds:\n  live:\n    url: {server.base_url}/de/live/a-70000001\n'
            f'    title: "Titel \\x01 mit Steuerzeichen"\n    interval: 1s\n    jitter: 0s\n'
            "timeout: 2s\n", encoding="utf-8")
        # the daemon below runs on the process clock: so do these runs
        code, _, err = _run(config, None)
        assert code == 1 and err.count("\n") == 1 and "HTTP 503" in err, err
        public = tmp_path / "public"
        assert "HTTP 503 Service" in etree.tostring(_index(public), encoding="unicode")
        etree.fromstring((public / "feeds.opml").read_bytes())  # well-formed
        # the page comes back, with a control character in its lang
        answers[0] = response(b"200 OK", _page("de&#1;"), b"Content-Type: text/html")
        code, _, err = _run(config, None)
        assert code == 0, err
        for fmt in ("atom", "rss"):
            etree.fromstring((public / f"live.{fmt}").read_bytes())
        # the failure is stored again; a daemon restarted on this state must keep polling
        answers[0] = response(b"503 Service\x01Unavailable", b"busy", b"Content-Type: text/html")
        assert _run(config, None)[0] == 1
        (public / "index.html").unlink()
        with running("-m", "feedgen_dw", "daemon", "--config", str(config)) as proc:
            before = len(server.requests)
            wait_until(lambda: (public / "index.html").exists(), "the index")
            wait_until(lambda: len(server.requests) >= before + 2 or proc.poll() is not None,
                       "two polls by the daemon")
            assert proc.poll() is None, proc.communicate()[0]  # still running
            output = stopped(proc, timeout=20)
        assert proc.returncode == 0, output
        assert "Traceback" not in output, output
        etree.fromstring((public / "feeds.opml").read_bytes())


def test_a_page_that_breaks_extraction_between_two_good_feeds(
    server: ReplayServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected exception from a page (here: extraction raising RecursionError for
    one URL) fails that feed with one line; the feeds after it are polled."""
    urls = {}
    for n, name in enumerate(("a", "bad", "c")):
        page = FIRST.__class__(**{**FIRST.__dict__, "article_id": f"7000000{n}"})
        urls[name] = server.publish(page)
    real = extract_module.extract_page

    def extract(body: bytes, url: str, *args: Any, **kwargs: Any) -> Any:
        if "a-70000001" in url:
            raise RecursionError("maximum recursion depth exceeded")
        return real(body, url, *args, **kwargs)

    monkeypatch.setattr(extract_module, "extract_page", extract)
    config = tmp_path / "config.yaml"
    config.write_text("feeds:\n" + "".join(f"  {n}:\n    url: {u}\n" for n, u in urls.items()),
                      encoding="utf-8")
    code, out, err = _run(config, T0)
    assert code == 1
    assert err.strip() == ("feedgen-dw: bad: unexpected RecursionError: maximum recursion "
                           "depth exceeded")
    assert out.startswith("a: 3 new") and "\nc: 3 new" in out
    store = SQLiteStore(tmp_path / "state" / "feeds.sqlite3")
    try:
        assert store.status("bad").failures == 1
        assert "RecursionError" in (store.status("bad").last_error or "")
    finally:
        store.close()


def test_credentials_in_a_feed_url_are_never_shown(tmp_path: Path) -> None:
    with raw_server(lambda c, h: c.sendall(response(b"500 Oops", b""))) as server:
        url = server.base_url.replace("http://", "http://user:secret@") + "/de/x/a-1"
        config = tmp_path / "config.yaml"
        config.write_text(f"timeout: 2s\nfeeds:\n  live:\n    url: {url}\n", encoding="utf-8")
        code, _, err = _run(config, T0)
    assert code == 1 and "HTTP 500" in err
    shown = err + (tmp_path / "public" / "index.html").read_text(encoding="utf-8")
    assert "secret" not in shown and "user:" not in shown and "***@127.0.0.1" in shown


def test_a_cookie_bomb_does_not_break_later_polls(tmp_path: Path) -> None:
    """One answer sets 20 cookies of 4 KB; the next request must not carry them."""
    bomb = [b"Set-Cookie: c%d=%s; Path=/" % (n, b"x" * 4000) for n in range(20)]

    def answer(conn: socket.socket, head: bytes) -> None:
        if b"Cookie:" in head:
            conn.sendall(response(b"431 Request Header Fields Too Large", b""))
        else:
            conn.sendall(response(b"200 OK", _page(), b"Content-Type: text/html", *bomb))

    with raw_server(answer) as server, _poller(tmp_path) as (poll, _):
        for hour in range(3):
            result = poll(hour, server.base_url + "/de/live/a-70000001")
            assert result.ok, result.error
        assert all(b"Cookie:" not in head for head in server.requests)


@contextmanager
def _poller(tmp_path: Path) -> Iterator[tuple[Callable[[int, str], PollResult], SQLiteStore]]:
    """poll(hour, url): one poll of feed `live` at `url`, `hour` hours after T0."""
    store, fetcher = SQLiteStore(tmp_path / "s.sqlite3"), Fetcher()
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/")

    def poll(hour: int, url: str) -> PollResult:
        feed = FeedConfig(name="live", url=url, settings=Settings(timeout=2))
        return poll_feed(feed, store, fetcher, output, fixed_clock(T0 + timedelta(hours=hour)))

    try:
        yield poll, store
    finally:
        fetcher.close()
        store.close()


def _redirecting(where: dict[str, bytes]) -> Any:
    """Answers by path: a 301 to where[path], or the page."""
    def answer(conn: socket.socket, head: bytes) -> None:
        path = head.split(b" ")[1]
        if path in where:
            conn.sendall(response(b"301 Moved Permanently", b"", b"Location: " + where[path]))
        else:
            conn.sendall(response(b"200 OK", _page(), b"Content-Type: text/html"))
    return answer


def _paths(server: Any) -> list[bytes]:
    return [head.split(b" ")[1] for head in server.requests]


def test_a_permanent_redirect_to_another_host_is_not_pinned(tmp_path: Path) -> None:
    with raw_server(_redirecting({})) as other:
        # "localhost" is another host than "127.0.0.1" (the same machine, for the test)
        elsewhere = other.base_url.replace("127.0.0.1", "localhost").encode() + b"/de/a-2"
        with (raw_server(_redirecting({b"/de/a-1": elsewhere})) as home,
              _poller(tmp_path) as (poll, store)):
            for hour in range(3):
                result = poll(hour, home.base_url + "/de/a-1")
                assert result.ok, result.error
                assert store.status("live").http.fetch_url is None
            assert _paths(home) == [b"/de/a-1"] * 3  # asked at home on every poll


def test_an_off_site_target_pinned_by_an_older_version_is_dropped(tmp_path: Path) -> None:
    with raw_server(_redirecting({})) as other, raw_server(_redirecting({})) as home, \
            _poller(tmp_path) as (poll, store):
        url = home.base_url + "/de/a-1"
        off_site = other.base_url.replace("127.0.0.1", "localhost") + "/de/a-1"
        store.save_poll("live", [], T0, http=HttpState(config_url=url, fetch_url=off_site))
        assert poll(1, url).ok
        assert not other.requests and _paths(home) == [b"/de/a-1"]
        assert store.status("live").http.fetch_url is None


def test_a_same_site_redirect_is_remembered_across_200s_and_forgotten_with_a_new_url(
    tmp_path: Path
) -> None:
    with (raw_server(_redirecting({b"/de/old/a-1": b"/de/new/a-1"})) as home,
          _poller(tmp_path) as (poll, _)):
        for hour in range(3):
            result = poll(hour, home.base_url + "/de/old/a-1")
            assert result.ok, result.error
        # the redirect once, then the new URL directly, also after a plain 200
        assert _paths(home) == [b"/de/old/a-1", b"/de/new/a-1", b"/de/new/a-1",
                                b"/de/new/a-1"]
        assert poll(4, home.base_url + "/de/other/a-1").ok
        assert _paths(home)[-1] == b"/de/other/a-1"  # a new url in the config wins


def test_a_304_to_an_unconditional_request_is_a_failure(tmp_path: Path) -> None:
    with raw_server(lambda c, h: c.sendall(b"HTTP/1.1 304 Not Modified\r\n"
                                           b"Connection: close\r\n\r\n")) as server:
        config = tmp_path / "config.yaml"
        config.write_text(f"timeout: 2s\nfeeds:\n  live:\n    url: {server.base_url}/a-1\n",
                          encoding="utf-8")
        code, _, err = _run(config, T0)
    assert code == 1 and "HTTP 304 to an unconditional request" in err


def test_stale_temp_files_of_a_killed_write_are_cleaned(tmp_path: Path) -> None:
    import os

    from feedgen_dw.output import write_if_changed

    target = tmp_path / "live.atom"
    stale, young = tmp_path / ".live.atom.abc123.tmp", tmp_path / ".live.atom.def456.tmp"
    for tmp in (stale, young):
        tmp.write_bytes(b"half")
    old = stale.stat().st_mtime - 3600
    os.utime(stale, (old, old))
    other = tmp_path / ".other.atom.x.tmp"
    other.write_bytes(b"not ours to judge")
    os.utime(other, (old, old))
    assert write_if_changed(target, b"<feed/>")
    assert not stale.exists() and young.exists() and other.exists()


def test_site_pages_render_whatever_the_state_holds(tmp_path: Path) -> None:
    """Text stored before this was fixed (a control character) renders; a config title
    with one too."""
    store = SQLiteStore(tmp_path / "s.sqlite3")
    try:
        store.record_failure("live", "x", T0)
        store._db.execute("UPDATE feeds SET last_error=?", ("bad \x01 text",))
        feed = FeedConfig(name="live", url="https://www.dw.com/de/x/a-1", title="T\x02")
        write_site([feed], store, Output(tmp_path, "http://127.0.0.1:8080/"))
    finally:
        store.close()
    assert "bad \ufffd text" in etree.tostring(_index(tmp_path), encoding="unicode")
    etree.fromstring((tmp_path / "feeds.opml").read_bytes())


def test_run_into_a_closed_pipe_still_polls_every_feed(server: ReplayServer,
                                                       tmp_path: Path) -> None:
    urls = [server.publish(FIRST.__class__(**{**FIRST.__dict__, "article_id": f"7100000{n}"}))
            for n in range(3)]
    config = tmp_path / "config.yaml"
    config.write_text("feeds:\n" + "".join(f"  f{n}:\n    url: {u}\n"
                                           for n, u in enumerate(urls)), encoding="utf-8")
    command = [sys.executable, "-m", "feedgen_dw", "run", "--config", str(config), "--now",
               T0.isoformat()]
    read, write = socket.socketpair()
    read.close()  # the reader is gone before the first line
    proc = subprocess.run(command, stdout=write.fileno(), stderr=subprocess.PIPE, text=True,
                          timeout=60)
    write.close()
    assert proc.returncode == 0, proc.stderr
    assert all((tmp_path / "public" / f"f{n}.atom").exists() for n in range(3))
