"""Which due poll the workers take first: the earliest deadline of those that can still be
on time, then the newest, and none past its bound."""

from __future__ import annotations

import itertools
import random
import threading
from typing import Any

import pytest

from feedgen_dw.workers import DuePool, DueQueue


def test_behind_the_newest_due_goes_first_unless_one_is_past_its_bound() -> None:
    queue = DueQueue()  # slack 0: at 111, every waiting poll is already late
    queue.push("a", due=100.0, bound=120.0)
    queue.push("b", due=110.0, bound=120.0)
    queue.push("c", due=105.0, bound=120.0)
    assert [queue.pop(now=111.0) for _ in range(2)] == ["b", "c"]
    queue.push("d", due=112.0, bound=120.0)
    queue.push("e", due=50.0, bound=60.0)  # overdue since 110: first, before newer ones
    assert queue.pop(now=115.0) == "e"
    assert queue.pop(now=115.0) == "d"
    assert queue.pop(now=221.0) == "a"  # past its bound too, and the only one left
    assert len(queue) == 0
    with pytest.raises(IndexError):
        queue.pop(now=0.0)


def test_past_their_bounds_the_longest_overdue_goes_first() -> None:
    queue = DueQueue()
    for name, due in (("x", 10.0), ("y", 0.0), ("z", 20.0)):
        queue.push(name, due=due, bound=5.0)
    assert [queue.pop(now=100.0) for _ in range(3)] == ["y", "x", "z"]


def _simulated(take_newest: bool, feeds: int = 300, cost: float = 0.3,
               burst: float = 60.0, slack: float = 6.0) -> tuple[int, float]:
    """`feeds` feeds on a 60 s interval (+ up to 6 s of jitter), first due within `burst`
    seconds, one worker taking `cost` seconds a poll: how many feeds keep interval +
    jitter (+ 1 s) over the last 90 simulated seconds, as bench/scale.py judges a window,
    and the longest gap of the last ten minutes. take_newest=False: bound 0, oldest
    first (a plain pool's order)."""
    rng = random.Random(7)
    interval, jitter, bound = 60.0, 6.0, 120.0
    queue, now = DueQueue(), 0.0
    due = sorted((rng.uniform(0, burst), n) for n in range(feeds))
    starts: dict[int, list[float]] = {n: [] for n in range(feeds)}
    while now < 3600:
        while due and due[0][0] <= now:
            when, feed = due.pop(0)
            queue.push(feed, due=when, bound=bound if take_newest else 0.0, slack=slack)
        if not len(queue):
            now = due[0][0]
            continue
        feed = int(queue.pop(now))  # type: ignore[call-overload]
        starts[feed].append(now)
        now += cost
        due.append((now + interval + rng.uniform(0, jitter), feed))
        due.sort()
    kept, longest = 0, 0.0
    for times in starts.values():
        gaps = [b - a for a, b in itertools.pairwise(times) if b >= 3000]
        window = [b - a for a, b in itertools.pairwise(times) if b >= 3510]
        kept += bool(window) and max(window) <= interval + jitter + 1.0
        longest = max(longest, *gaps)
    return kept, longest


def test_a_saturated_queue_keeps_a_subset_on_time_and_starves_none() -> None:
    fifo_kept, fifo_longest = _simulated(take_newest=False)  # bound 0: oldest first
    kept, longest = _simulated(take_newest=True)
    assert fifo_kept == 0 and fifo_longest > 90  # every feed equally late: 300 / 200
    assert kept >= 100  # of 300, where 200 polls a minute fit
    assert longest <= 60 + 6 + 120 + 10 * 0.3  # interval + jitter + bound + a few polls


def test_a_queue_that_keeps_up_with_bursts_takes_the_oldest_first() -> None:
    """180 feeds first due within 5 s, 0.3 s a poll: 54 s of work a minute, so bursts but
    no backlog. Newest first (slack 0: every waiting poll counts as late at once) makes
    the first of a burst wait behind the rest, past its jitter; the queue's order does
    what a plain pool does here."""
    fifo = _simulated(take_newest=False, feeds=180, burst=5.0)
    kept, longest = _simulated(take_newest=True, feeds=180, burst=5.0)
    newest_kept, newest_longest = _simulated(take_newest=True, feeds=180, burst=5.0, slack=0.0)
    assert (kept, longest) == fifo
    assert newest_kept < kept and newest_longest > longest


def test_the_pool_runs_work_in_queue_order_and_refuses_work_after_shutdown() -> None:
    order: list[str] = []
    gate, running = threading.Event(), threading.Event()
    plans = {"block": (0.0, 0.0, 1e12), "old": (1.0, 0.0, 1e12), "new": (2.0, 0.0, 1e12),
             "over": (0.0, 0.0, 0.0)}  # all late (due in 1970): newest first, "over" first
    pool = DuePool(1, lambda args: plans[args[0]])

    def work(name: str) -> str:
        order.append(name)
        if name == "block":
            running.set()
            gate.wait()
        return name

    first = pool.submit(work, "block")
    assert running.wait(30)  # the one worker is busy: the rest wait in the queue
    futures = [pool.submit(work, name) for name in ("old", "new", "over")]
    gate.set()
    assert [f.result(timeout=30) for f in futures] == ["old", "new", "over"]
    assert first.result(timeout=30) == "block"
    assert order == ["block", "over", "new", "old"]
    pool.shutdown(wait=True)
    with pytest.raises(RuntimeError):
        pool.submit(work, "old")


def test_the_pool_hands_exceptions_to_the_future() -> None:
    pool = DuePool(2, lambda args: (0.0, 0.0, 0.0))

    def boom(*_: Any) -> None:
        raise KeyError("k")

    with pytest.raises(KeyError):
        pool.submit(boom).result(timeout=30)
    pool.shutdown()


def test_work_waiting_at_shutdown_is_dropped_and_work_in_flight_finishes() -> None:
    ran: list[str] = []
    gate, running = threading.Event(), threading.Event()
    pool = DuePool(1, lambda args: (0.0, 0.0, 1e12))

    def work(name: str) -> None:
        running.set()
        gate.wait()
        ran.append(name)

    in_flight = pool.submit(work, "in flight")
    assert running.wait(30)
    waiting = pool.submit(work, "waiting")
    pool.shutdown(wait=False)
    gate.set()
    in_flight.result(timeout=30)
    pool.shutdown(wait=True)
    assert ran == ["in flight"] and not waiting.done()


def test_while_all_can_be_on_time_the_earliest_deadline_goes_first() -> None:
    queue = DueQueue()
    queue.push("a", due=100.0, bound=120.0, slack=6.0)
    queue.push("b", due=103.0, bound=120.0, slack=6.0)
    queue.push("c", due=101.0, bound=120.0, slack=6.0)
    assert queue.pop(now=104.0) == "a"  # all within their slack: the oldest
    assert queue.pop(now=108.0) == "b"  # c missed 107: behind now, so the newest
    assert queue.pop(now=108.0) == "c"
