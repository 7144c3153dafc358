"""A server on 127.0.0.1 that answers each connection with whatever a test writes on the
raw socket: broken status lines, trickles, silence. Stopped by the test, bounded in time."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

Answer = Callable[[socket.socket, bytes], None]


class RawServer:
    """Accepts connections and hands each, with the request head it sent, to `answer`."""

    def __init__(self, answer: Answer, read_head: bool = True) -> None:
        self.answer = answer
        self.read_head = read_head  # False: answer at once (e.g. to a TLS hello)
        self.requests: list[bytes] = []
        self.stopping = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(30)
            head = b""
            while self.read_head and b"\r\n\r\n" not in head:
                data = conn.recv(65536)
                if not data:
                    return
                head += data
            self.requests.append(head)
            self.answer(conn, head)

    def trickle(self, conn: socket.socket, data: bytes, every: float) -> None:
        """Send `data` a byte at a time, one every `every` seconds, until stopped."""
        for byte in data:
            if self.stopping.wait(every):
                return
            conn.sendall(bytes([byte]))

    def stop(self) -> None:
        self.stopping.set()
        self.sock.close()
        self.thread.join(5)


@contextlib.contextmanager
def raw_server(answer: Answer, read_head: bool = True) -> Iterator[RawServer]:
    server = RawServer(answer, read_head)
    try:
        yield server
    finally:
        server.stop()


def response(status: bytes, body: bytes, *headers: bytes) -> bytes:
    """An HTTP/1.1 answer with `status` (e.g. b"200 OK") that closes the connection."""
    lines = [b"HTTP/1.1 " + status, b"Content-Length: " + str(len(body)).encode(),
             b"Connection: close", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
