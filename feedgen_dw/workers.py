"""The daemon's worker threads, and which due poll they take first when they cannot keep up.

APScheduler hands every due job to its executor at once; concurrent.futures' pool runs
them first-in first-out, so a daemon with more due polls than CPU polls every feed
equally late (at 10,000 feeds that all change every minute: none on time, a median of
111 s between polls of a 1-minute feed). Newest first keeps a subset on time then, but
where a daemon keeps up with bursts it makes a poll due early in a burst wait behind
every newer one (polls ran up to 11 s past their jitter at 10,000 feeds with 10%
changing). So: while every waiting poll can still be on time (due time plus its
`slack`, its jitter), the earliest deadline goes first (a plain pool's order); once one
cannot, the workers are behind and the newest due goes first; and none waits longer
than its `bound` (two intervals for a feed: the daemon's choice) past its due time:
those go first of all, the longest overdue first, so no feed starves. With spare
workers nothing waits and the order does not matter.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

from apscheduler.executors.pool import BasePoolExecutor


class DueQueue:
    """Waiting work, each with its due time, its slack and its bound (seconds past due);
    pure: the caller says what time it is."""

    def __init__(self) -> None:
        self._on_time: list[tuple[float, int, list[Any]]] = []  # due + slack
        self._newest: list[tuple[float, int, list[Any]]] = []  # -due
        self._deadline: list[tuple[float, int, list[Any]]] = []  # due + bound
        self._count = itertools.count()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def push(self, work: object, due: float, bound: float, slack: float = 0.0) -> None:
        entry = [work, False]  # the same entry in every heap; True once taken from one
        number = next(self._count)
        heapq.heappush(self._on_time, (due + slack, number, entry))
        heapq.heappush(self._newest, (-due, number, entry))
        heapq.heappush(self._deadline, (due + bound, number, entry))
        self._size += 1

    def pop(self, now: float) -> object:
        """The work past its bound that is the most overdue; else, while all waiting work
        can still be on time, the earliest deadline; once some cannot (the workers are
        behind), the newest due."""
        for heap in (self._deadline, self._on_time, self._newest):
            while heap and heap[0][2][1]:
                heapq.heappop(heap)  # taken through another heap
        if not self._size:
            raise IndexError("pop from an empty DueQueue")
        if self._deadline[0][0] < now:
            heap = self._deadline
        else:
            heap = self._newest if self._on_time[0][0] < now else self._on_time
        entry = heapq.heappop(heap)[2]
        entry[1] = True
        self._size -= 1
        return entry[0]


Task = tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]


class DuePool(Executor):
    """A thread pool taking its work in DueQueue's order; `order(args)` gives a submitted
    call's (due, slack, bound), the due time in time.time() seconds."""

    def __init__(self, workers: int,
                 order: Callable[[tuple[Any, ...]], tuple[float, float, float]]) -> None:
        self._order = order
        self._queue = DueQueue()
        self._ready = threading.Condition()
        self._stopped = False
        self._threads = [threading.Thread(target=self._work, name=f"poll-{n}", daemon=True)
                         for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if kwargs:
            raise TypeError("DuePool.submit takes positional arguments only")
        due, slack, bound = self._order(args)
        future: Future[Any] = Future()
        with self._ready:
            if self._stopped:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._queue.push((future, fn, args), due, bound, slack)
            self._ready.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._stopped:
                    self._ready.wait()  # untimed: a timed wait stalls under libfaketime
                if self._stopped:
                    return
                task: Task = self._queue.pop(time.time())  # type: ignore[assignment]
            future, fn, args = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the future, as concurrent.futures does
                future.set_exception(exc)
            else:
                future.set_result(result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking work: what waits is dropped (never started); with `wait`, the
        calls in flight are waited for."""
        with self._ready:
            self._stopped = True
            self._ready.notify_all()
        if wait:
            for thread in self._threads:
                if thread is not threading.current_thread():
                    thread.join()


class PollExecutor(BasePoolExecutor):  # type: ignore[misc]  # APScheduler has no type hints
    """APScheduler's executor over a DuePool: a job's due time is its scheduled run time,
    its (slack, bound) what `limits(job_id)` says."""

    def __init__(self, workers: int, limits: Callable[[str], tuple[float, float]]) -> None:
        def order(args: tuple[Any, ...]) -> tuple[float, float, float]:
            job, _store, run_times, _logger = args  # apscheduler.executors.base.run_job's
            return (run_times[-1].timestamp(), *limits(job.id))

        super().__init__(DuePool(workers, order))
