"""Whole processes in tests: started, and never left behind when a test fails."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO


@contextmanager
def running(*args: str, out: IO[str] | None = None) -> Iterator[subprocess.Popen[str]]:
    """`python ARGS` started, its output piped (or written to `out`); killed and reaped
    if still running when the block ends, so a failing assertion leaves no process."""
    proc = subprocess.Popen([sys.executable, *args],
                            stdout=out if out is not None else subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        if proc.stdout is None or not proc.stdout.closed:  # not read to the end already
            proc.communicate()


def stopped(proc: subprocess.Popen[str], timeout: float = 30) -> str:
    """SIGTERM to `proc`; its output once it has exited (empty when written to a file)."""
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=timeout)
    return output or ""
