"""A small HTTP/1.1 connection server: one selector thread, a fixed pool of workers.

Idle and half-sent connections cost a file descriptor and nothing else: the selector
thread reads request heads without blocking and hands only complete ones to a worker, so
2,000 idle sockets (or a slowloris) cannot occupy the threads that serve real clients.
Idle connections are closed after IDLE_TIMEOUT, unfinished request heads after
REQUEST_TIMEOUT, and beyond MAX_CONNECTIONS (or when accept() runs out of descriptors)
the longest idle connection makes room for the new one.

No wait here is a timed lock: select() and socket timeouts take relative times, which
keeps the server working under a clock faker (see waits.py).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

IDLE_TIMEOUT = 15.0  # seconds without a byte before (or between) requests
REQUEST_TIMEOUT = 10.0  # seconds from a request's first byte to the end of its head
WRITE_TIMEOUT = 10.0  # seconds a single send may block on a client that does not read
MAX_HEAD = 16 * 1024  # bytes of request line and headers
MAX_CONNECTIONS = 512  # open client connections (under a 1,024 descriptor limit)
WORKERS = 8
SWEEP_EVERY = 0.25  # seconds between looks for timed-out connections

# (socket, request head, client address) -> keep the connection open
Respond = Callable[[socket.socket, bytes, tuple[str, int]], bool]


@dataclass(eq=False)
class _Conn:
    sock: socket.socket
    address: tuple[str, int]
    since: float  # when it last became idle, or when its current request began
    buffer: bytearray = field(default_factory=bytearray)
    busy: bool = False


def _head_end(buffer: bytearray) -> int:
    """Index just past the blank line that ends a request head, or -1. A first line
    without a version (HTTP/0.9, garbage) is a head of its own, answered at once."""
    line_end = buffer.find(b"\n")
    if line_end >= 0 and len(buffer[:line_end].split()) != 3:
        return line_end + 1
    for terminator in (b"\r\n\r\n", b"\n\n"):
        at = buffer.find(terminator)
        if at >= 0:
            return at + len(terminator)
    return -1


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (IPv4 or IPv6 by the address); OSError otherwise."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except BaseException:
        sock.close()
        raise
    return sock


class ConnectionServer:
    """Accepts on `sock`; `respond` answers one complete request head on a blocking socket."""

    def __init__(self, sock: socket.socket, respond: Respond, workers: int = WORKERS) -> None:
        self.socket = sock
        self.server_address = sock.getsockname()
        self._respond = respond
        self._selector = selectors.DefaultSelector()
        self._conns: set[_Conn] = set()
        self._jobs: queue.SimpleQueue[_Conn | None] = queue.SimpleQueue()
        self._returned: queue.SimpleQueue[_Conn] = queue.SimpleQueue()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._stopping = False
        self._stopped = threading.Event()
        self._stopped.set()
        self._paused_until = 0.0  # accept() ran out of descriptors: retry after this
        self._workers = [threading.Thread(target=self._work, name=f"serve-{n}", daemon=True)
                         for n in range(workers)]

    # the loop

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until shutdown() (from another thread or a signal handler)."""
        self._stopped.clear()
        sock = self.socket
        sock.setblocking(False)
        self._selector.register(sock, selectors.EVENT_READ, "listen")
        self._selector.register(self._wake_read, selectors.EVENT_READ, "wake")
        for worker in self._workers:
            worker.start()
        swept = time.monotonic()
        try:
            while not self._stopping:
                for key, _ in self._selector.select(poll_interval):
                    if key.data == "listen":
                        self._accept()
                    elif key.data == "wake":
                        self._take_back()
                    else:
                        self._read(key.data)
                now = time.monotonic()
                if now - swept >= SWEEP_EVERY:  # not on every event of a busy server
                    self._sweep(now)
                    swept = now
        finally:
            for _ in self._workers:
                self._jobs.put(None)
            for conn in list(self._conns):
                if not conn.busy:
                    self._close(conn)
            self._selector.close()
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop serve_forever() and wait until it has returned."""
        self._stopping = True
        self._wake()
        self._stopped.wait()

    def server_close(self) -> None:
        """Close the listening socket."""
        self.socket.close()
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    # the selector thread

    def _wake(self) -> None:
        # a full pipe is already a wake-up; a closed one means the server stopped
        with contextlib.suppress(OSError):
            os.write(self._wake_write, b"x")

    def _accept(self) -> None:
        if time.monotonic() < self._paused_until:
            return
        try:
            sock, address = self.socket.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE) and self._close_oldest_idle():
                return  # room made: the client is accepted on the next round
            if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                log.warning("serve status=accept-failed error=%s", exc.strerror)
                self._paused_until = time.monotonic() + 0.1
                return
            raise
        if len(self._conns) >= MAX_CONNECTIONS:
            self._close_oldest_idle()
        sock.setblocking(False)
        conn = _Conn(sock, address[:2], time.monotonic())
        self._conns.add(conn)
        self._selector.register(sock, selectors.EVENT_READ, conn)

    def _read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(conn)
            return
        if not conn.buffer:
            conn.since = time.monotonic()  # a request begins: REQUEST_TIMEOUT from here
        conn.buffer += data
        self._dispatch_if_complete(conn)

    def _dispatch_if_complete(self, conn: _Conn) -> None:
        if _head_end(conn.buffer) < 0:
            if len(conn.buffer) > MAX_HEAD:
                self._close(conn)
            return
        self._selector.unregister(conn.sock)
        conn.busy = True
        self._jobs.put(conn)

    def _take_back(self) -> None:
        try:
            while os.read(self._wake_read, 4096):
                pass
        except (BlockingIOError, OSError):
            pass
        while True:
            try:
                conn = self._returned.get_nowait()
            except queue.Empty:
                return
            conn.busy = False
            if conn.sock.fileno() < 0:
                self._conns.discard(conn)
                continue
            conn.since = time.monotonic()
            self._selector.register(conn.sock, selectors.EVENT_READ, conn)
            self._dispatch_if_complete(conn)  # a pipelined request already read

    def _sweep(self, now: float) -> None:
        for conn in [c for c in self._conns if not c.busy]:
            limit = REQUEST_TIMEOUT if conn.buffer else IDLE_TIMEOUT
            if now - conn.since > limit:
                self._close(conn)

    def _close_oldest_idle(self) -> bool:
        idle = [c for c in self._conns if not c.busy]
        if not idle:
            return False
        self._close(min(idle, key=lambda c: c.since))
        return True

    def _close(self, conn: _Conn) -> None:
        self._conns.discard(conn)
        if not conn.busy:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(conn.sock)
        conn.sock.close()

    # the workers

    def _work(self) -> None:
        while True:
            conn = self._jobs.get()  # untimed: see the module's note on faked clocks
            if conn is None:
                return
            end = _head_end(conn.buffer)
            head, conn.buffer = bytes(conn.buffer[:end]), conn.buffer[end:]
            keep = False
            try:
                conn.sock.settimeout(WRITE_TIMEOUT)
                keep = self._respond(conn.sock, head, conn.address)
            except OSError:
                pass  # the client went away or stopped reading
            except Exception:
                log.exception("serve status=error client=%s", conn.address[0])
            if keep and not self._stopping:
                conn.sock.setblocking(False)
                self._returned.put(conn)
                self._wake()
            else:
                conn.sock.close()
                self._returned.put(conn)  # dropped from the table on the selector thread
                self._wake()
