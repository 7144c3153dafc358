"""A total deadline for one fetch: connect, every read, redirects and retries together.

A read `timeout` bounds each socket operation, not the whole: a server trickling a
byte a second holds a fetch for ever, and no timeout a client can set stops that. So each
fetch runs under a `Watch`: the connections it uses register with it, and when its time
is up (or the daemon is stopping, `abort_all()`) a timer shuts their sockets down, which
ends any blocked read at once. Retries and their sleeps check it too.

One watchdog thread checks every watch each WATCHDOG_TICK: no thread per fetch, and no
timed wait on a lock (which never returns under libfaketime; a sleep does).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from urllib3.connectionpool import HTTPConnectionPool


class _Connection(Protocol):
    sock: Any  # what expire() shuts down: urllib3's and http.client's connections


class DeadlinePassed(Exception):
    """Raised inside urllib3 (not one of its own exceptions, so it is never retried)."""


class Watch:
    """The deadline of one fetch and the connections it is using."""

    def __init__(self, seconds: float) -> None:
        self.started = time.monotonic()
        self.until = self.started + max(0.0, seconds)
        self.expired = False
        self.aborted = False  # by abort_all(): the process is stopping
        self._conns: list[_Connection] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        return self.until - time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def add(self, conn: _Connection) -> None:
        with self._lock:
            if self.expired:
                raise DeadlinePassed()
            self._conns.append(conn)

    def check(self) -> None:
        if self.expired:
            raise DeadlinePassed()

    def expire(self, aborted: bool = False) -> None:
        """Time is up: every read of this fetch ends now."""
        with self._lock:
            if self.expired:
                return
            self.expired, self.aborted = True, aborted
            conns, self._conns = self._conns, []
        for conn in conns:
            sock = getattr(conn, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def done(self) -> None:
        with self._lock:
            self._conns = []


WATCHDOG_TICK = 0.1  # seconds: how late past its deadline a fetch may end
_current = threading.local()
_active: set[Watch] = set()
_active_lock = threading.Lock()
_watchdog: threading.Thread | None = None


def _watch_all() -> None:
    while True:
        time.sleep(WATCHDOG_TICK)
        with _active_lock:
            late = [watch for watch in _active if watch.remaining() <= 0]
        for watch in late:
            watch.expire()


def _ensure_watchdog() -> None:
    global _watchdog
    with _active_lock:
        if _watchdog is None or not _watchdog.is_alive():
            _watchdog = threading.Thread(target=_watch_all, name="fetch-deadlines",
                                         daemon=True)
            _watchdog.start()


def current() -> Watch | None:
    """The watch of the fetch running in this thread, if any."""
    watch: Watch | None = getattr(_current, "watch", None)
    return watch


@contextlib.contextmanager
def watching(seconds: float) -> Iterator[Watch]:
    """Run a fetch in this thread under a deadline of `seconds`."""
    _ensure_watchdog()
    watch = Watch(seconds)
    _current.watch = watch
    with _active_lock:
        _active.add(watch)
    try:
        yield watch
    finally:
        watch.done()
        _current.watch = None
        with _active_lock:
            _active.discard(watch)


def abort_all() -> int:
    """End every fetch in flight now (a stopping daemon); how many there were."""
    with _active_lock:
        watches = list(_active)
    for watch in watches:
        watch.expire(aborted=True)
    return len(watches)


def register(conn: _Connection) -> None:
    """Let the deadline of this thread's fetch, if any, end `conn`'s reads."""
    watch = current()
    if watch is not None:
        watch.add(conn)


def check() -> None:
    """DeadlinePassed when this thread's fetch is past its deadline."""
    watch = current()
    if watch is not None:
        watch.check()


_pools: dict[str, type[HTTPConnectionPool]] = {}


def pool_classes() -> dict[str, type[HTTPConnectionPool]]:
    """The pool classes of a urllib3 PoolManager whose connections register with the
    watch of the fetch in their thread (made on first use: a cron run of feeds that
    answer 304 never imports urllib3)."""
    if not _pools:
        from urllib3.connection import HTTPConnection, HTTPSConnection
        from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

        class WatchedHTTPConnection(HTTPConnection):
            def request(self, *args: Any, **kwargs: Any) -> None:
                register(self)
                super().request(*args, **kwargs)

            def getresponse(self) -> Any:
                check()  # a connect that finished late must not start waiting for headers
                return super().getresponse()

        class WatchedHTTPSConnection(WatchedHTTPConnection, HTTPSConnection):
            pass

        class HTTPPool(HTTPConnectionPool):
            ConnectionCls = WatchedHTTPConnection

        class HTTPSPool(HTTPSConnectionPool):
            ConnectionCls = WatchedHTTPSConnection

        _pools.update(http=HTTPPool, https=HTTPSPool)
    return _pools


if TYPE_CHECKING:
    from requests.adapters import HTTPAdapter

    class WatchedAdapter(HTTPAdapter):
        """requests' adapter whose connections register with the watch of their fetch."""


def __getattr__(name: str) -> Any:
    # WatchedAdapter (for push.py, which uses requests) is built on first use: importing
    # requests for every fetch would cost what fetch.py saves by using urllib3 alone
    if name == "WatchedAdapter":
        return _watched_adapter()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_adapter: list[type] = []


def _watched_adapter() -> type:
    if not _adapter:
        from requests.adapters import HTTPAdapter

        class WatchedAdapter(HTTPAdapter):
            """requests' adapter whose connections (direct or through a proxy) register
            with the watch of the fetch in their thread."""

            def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
                super().init_poolmanager(*args, **kwargs)
                self.poolmanager.pool_classes_by_scheme = pool_classes()

            def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
                manager = super().proxy_manager_for(proxy, **proxy_kwargs)
                if hasattr(manager, "pool_classes_by_scheme"):
                    manager.pool_classes_by_scheme = pool_classes()
                return manager

        _adapter.append(WatchedAdapter)
    return _adapter[0]
