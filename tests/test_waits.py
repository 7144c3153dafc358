"""Waits that keep time under a clock faker (`faketime -f +400d` shifts the monotonic
clock, and a timed threading wait then sleeps for the 400 days)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from feedgen_dw.waits import PipeEvent

PROBE = """
from feedgen_dw.waits import PipeEvent
import time
start = time.perf_counter()
PipeEvent().wait(0.2)
print(round(time.perf_counter() - start, 1))
"""


def test_pipe_event_waits_and_wakes() -> None:
    event = PipeEvent()
    started = time.monotonic()
    assert event.wait(0.2) is False and time.monotonic() - started >= 0.19
    # not threading.Timer: under faketime it would never fire
    threading.Thread(target=lambda: (time.sleep(0.05), event.set())).start()
    assert event.wait(10) is True
    event.clear()
    assert not event.is_set() and event.wait(0) is False
    event.close()


def test_the_waits_keep_time_in_a_process_of_their_own() -> None:
    # under `faketime -f +400d make test` this process inherits the shifted clock
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            timeout=30, env={**os.environ})
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) < 5



SET_INSIDE_CLEAR = """
import os
from feedgen_dw import waits

event = waits.PipeEvent()
event.set()
read, fired = os.read, []

def read_then_signal(fd, n):  # the daemon's SIGTERM handler runs here, as it may
    if not fired:
        fired.append(True)
        event.set()
    return read(fd, n)

waits.os.read = read_then_signal
event.clear()
assert fired and event.is_set() and event.wait(0)  # set after the flag went down: kept
print("ok")
"""


def test_a_signal_handler_may_set_the_event_while_the_main_thread_clears_it() -> None:
    """The daemon's SIGTERM handler sets a PipeEvent the main thread may be clearing: a
    lock held by clear() and taken again by the handler hung the daemon (seen in a bench)."""
    result = subprocess.run([sys.executable, "-c", SET_INSIDE_CLEAR], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and result.stdout == "ok\n", result.stderr[-2000:]
