"""Waiting with a timeout without a timed lock.

CPython 3.11 waits on a lock with a timeout through sem_clockwait() and an absolute
CLOCK_MONOTONIC deadline. Under a clock faker such as libfaketime (which shifts the
monotonic clock but does not intercept sem_clockwait) that deadline lies days ahead, so
`Event.wait(1)` sleeps for days. poll() takes a relative timeout and is never shifted:
the scheduler's main loop waits here instead, so the daemon keeps time on any date.
"""

from __future__ import annotations

import contextlib
import os
import select
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler

LONGEST_WAIT = 86400.0  # seconds; APScheduler asks for threading.TIMEOUT_MAX (~292 years)


class PipeEvent:
    """threading.Event's set, clear, is_set and wait, waiting in poll() on a pipe.

    No lock: `set` runs in signal handlers (the daemon's stop), which interrupt the main
    thread anywhere, also inside `clear`; a lock held there would never be released.
    The flag decides and the pipe only wakes a `wait`: `wait` looks at the flag before
    it sleeps, so a byte drained by a `clear` that a `set` interleaved with is not missed.
    """

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._flag = False
        self._poll = select.poll()  # not select(): fds past 1024 are fine
        self._poll.register(self._read, select.POLLIN)

    def set(self) -> None:
        self._flag = True
        with contextlib.suppress(BlockingIOError):  # full: a wake-up is pending anyway
            os.write(self._write, b"x")

    def clear(self) -> None:
        self._flag = False
        with contextlib.suppress(BlockingIOError):
            while os.read(self._read, 4096):
                pass

    def is_set(self) -> bool:
        return self._flag

    def wait(self, timeout: float | None = None) -> bool:
        if not self._flag:
            seconds = LONGEST_WAIT if timeout is None else min(max(timeout, 0.0), LONGEST_WAIT)
            self._poll.poll(int(seconds * 1000) + (0 if seconds == 0 else 1))
        return self._flag

    def close(self) -> None:
        """Release the pipe."""
        fds, (self._read, self._write) = (self._read, self._write), (-1, -1)
        for fd in fds:
            if fd >= 0:  # once: a closed number may already belong to another file
                os.close(fd)

    def __del__(self) -> None:
        self.close()


class Scheduler(BlockingScheduler):  # type: ignore[misc]  # APScheduler has no type hints
    """APScheduler's blocking scheduler, sleeping between jobs on a PipeEvent."""

    def start(self, *args: Any, **kwargs: Any) -> None:
        event = getattr(self, "_event", None)
        if event is None or event.is_set():
            # BlockingScheduler.start() keeps an event that is not set
            self._event = PipeEvent()
        super().start(*args, **kwargs)
