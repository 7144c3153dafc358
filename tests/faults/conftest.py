"""A local server that misbehaves on command, and the invariants every fault must keep."""

from __future__ import annotations

import io
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import feedparser
import pytest

from feedgen_dw.cli import main
from feedgen_dw.demo import FIRST, SECOND
from feedgen_dw.replay import DemoPage, render_page, send_response_body
from feedgen_dw.store import SQLiteStore

T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)


@dataclass
class Fault:
    """What the server does instead of answering well."""

    kind: str  # status | body | reset | stall | loop | scheme | huge | refused
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class FaultServer:
    """Serves one article at `path`; `fault` makes every answer go wrong until cleared."""

    def __init__(self) -> None:
        self.fault: Fault | None = None
        self.page: DemoPage = FIRST
        self.encoding = "utf-8"
        self.charset_in: str = "header"  # header | meta
        self._port = 0
        self._start()

    def _start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                try:
                    outer._answer(self)
                except OSError:
                    self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda *args: None  # type: ignore[method-assign]
        self._port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, args=(0.1,), daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def refuse(self) -> None:
        """Close the port (connection refused) until `accept()`."""
        self.stop()

    def accept(self) -> None:
        self._start()  # same port again

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def url(self) -> str:
        return self.base_url + "/de/live/a-70000001"

    def good_body(self) -> tuple[bytes, str]:
        text = render_page(self.page, "https://www.dw.com", noise=0)
        if self.encoding != "utf-8":
            text = text.replace('<meta charset="utf-8">', (
                f'<meta charset="{self.encoding}">' if self.charset_in == "meta" else ""))
        ctype = "text/html" + (f"; charset={self.encoding}" if self.charset_in == "header"
                               else "")
        return text.encode(self.encoding, "xmlcharrefreplace"), ctype

    def _answer(self, req: BaseHTTPRequestHandler) -> None:
        fault = self.fault
        if fault is None or fault.kind in ("reset", "stall"):
            body, ctype = self.good_body()
            if fault is not None:
                return self._broken(req, fault, body, ctype)
            # an ETag (never answered with 304 here): every poll after the first is a
            # conditional GET, as against a real server
            return send_response_body(req, 200, body, {"Content-Type": ctype, "ETag": '"1"'})
        if fault.kind == "loop":
            return send_response_body(req, 302, b"", {"Location": req.path})
        if fault.kind == "scheme":
            return send_response_body(req, 301, b"", {"Location": "ftp://127.0.0.1/feed"})
        if fault.kind == "huge":
            req.send_response(200)
            req.send_header("Content-Type", "text/html")
            req.end_headers()
            for _ in range(50 * 16):  # 50 MB in 64 KB chunks, unless the client hangs up
                req.wfile.write(b"<p>" + b"x" * 65530 + b"</p>")
            return None
        headers = {"Content-Type": "text/html; charset=utf-8", **fault.headers}
        return send_response_body(req, fault.status, fault.body, headers)

    @staticmethod
    def _broken(req: BaseHTTPRequestHandler, fault: Fault, body: bytes, ctype: str) -> None:
        req.send_response(200)
        req.send_header("Content-Type", ctype)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body[: len(body) // 2])
        req.wfile.flush()
        if fault.kind == "stall":
            time.sleep(3)  # longer than the feed's 1 s timeout
        # RST instead of FIN: the connection is reset mid-body
        req.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        req.close_connection = True


@dataclass
class Snapshot:
    files: dict[str, bytes]
    entries: list[tuple[str, str, str, str]]  # id, title, published, updated (Atom)


class Env:
    """A config on a FaultServer, polled through the CLI with a fixed clock."""

    def __init__(self, tmp_path: Path, server: FaultServer) -> None:
        self.server = server
        self.dir = tmp_path
        self.config = tmp_path / "config.yaml"
        self.config.write_text(
            # site: dw, whose messages the faults expect (auto became the default)
            f"timeout: 1s\nfeeds:\n  live:\n    url: {server.url}\n    site: dw\n",
            encoding="utf-8")
        self.public = tmp_path / "public"
        self.polls = 0

    def next_now(self) -> str:
        """The fixed clock of the next poll, an hour after the last: every poll, in this
        process or a child, runs on it (never on the wall clock)."""
        now = T0 + timedelta(hours=self.polls)
        self.polls += 1
        return now.isoformat()

    def run(self) -> tuple[int, str, str]:
        """One `feedgen-dw run`, an hour after the last."""
        out, err = io.StringIO(), io.StringIO()
        now = self.next_now()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["run", "--config", str(self.config), "--now", now])
        return code, out.getvalue(), err.getvalue()

    def snapshot(self) -> Snapshot:
        files = {p.name: p.read_bytes() for p in sorted(self.public.glob("live.*"))}
        parsed = feedparser.parse(files["live.atom"])
        assert parsed.bozo == 0
        entries = [(e.id, e.title, e.published, e.updated) for e in parsed.entries]
        assert len({e[0] for e in entries}) == len(entries)
        return Snapshot(files, entries)

    def failures(self) -> int:
        store = SQLiteStore(self.dir / "state" / "feeds.sqlite3")
        try:
            return store.status("live").failures
        finally:
            store.close()

    def assert_failed_cleanly(self, before: Snapshot, code: int, err: str, cause: str) -> None:
        """The invariants of a failed poll."""
        assert code == 1
        line = err.strip()
        assert "\n" not in line and line.startswith("feedgen-dw: live: ")
        assert self.server.base_url in line and cause in line, line
        after = self.snapshot()
        assert after.files == before.files  # the last good files, untouched
        assert after.entries == before.entries
        assert self.failures() >= 1
        index = (self.public / "index.html").read_text(encoding="utf-8")
        assert cause.split(" ")[0] in index  # the error is shown to people too

    def assert_continues(self, before: Snapshot) -> None:
        """A good poll after the fault: everything kept, the new section added once."""
        self.server.fault = None
        self.server.page = SECOND
        code, out, err = self.run()
        assert code == 0, err
        assert "1 new, 1 changed" in out
        after = self.snapshot()
        old = {e[0]: e for e in before.entries}
        new = {e[0]: e for e in after.entries}
        assert set(old) <= set(new) and len(new) == len(old) + 1
        for item_id, (_, _, published, _) in old.items():
            assert new[item_id][2] == published
        assert self.failures() == 0


@pytest.fixture
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer()
    yield server
    server.fault = None
    with suppress(OSError):
        server.stop()


@pytest.fixture
def env(tmp_path: Path, fault_server: FaultServer) -> Env:
    environment = Env(tmp_path, fault_server)
    code, _, err = environment.run()
    assert code == 0, err
    return environment
