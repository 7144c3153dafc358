"""Where a poll's CPU goes, stage by stage: `python bench/stages.py changed|noise|first
[polls]`.

Wraps the stage functions poll_feed() calls with a CPU timer (time.thread_time) and
polls a bench page that gains a section per poll (changed) or only changes its markup
(noise), or (first) polls a new feed of a new page each time, in one store, as a cron
`run` of new feeds does. For finding what to work on next; `make bench` is the
measurement of record.
"""

from __future__ import annotations

import collections
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import feedgen_dw.poll as poll_module
from bench.run import T0, Bench
from feedgen_dw.config import FeedConfig
from feedgen_dw.poll import fixed_clock, poll_feed

spent: dict[str, float] = collections.defaultdict(float)


def timed(function: Callable[..., Any], label: str) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.thread_time() - start

    return wrapper


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "changed"
    polls = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    # poll.py imports the stages when a poll needs them: wrap them where they live
    import feedgen_dw.diff
    import feedgen_dw.extract
    import feedgen_dw.render
    import feedgen_dw.view

    for module, name in ((feedgen_dw.extract, "extract_page"), (feedgen_dw.diff, "diff_article"),
                         (feedgen_dw.render, "render_feed"), (feedgen_dw.view, "render_view"),
                         (poll_module, "write_if_changed")):
        setattr(module, name, timed(getattr(module, name), name))
    bench = Bench(quick=True)
    try:
        url = bench.publish("55", 30)
        feed, store, fetcher, output = bench.feed_env("stages", url)
        fetcher.get = timed(fetcher.get, "fetch")  # type: ignore[method-assign]
        for name in ("latest_article", "load_article", "save_poll", "items", "mark_rendered",
                     "status", "has_articles"):
            setattr(store, name, timed(getattr(store, name), f"store.{name}"))
        poll_feed(feed, store, fetcher, output, fixed_clock(T0))
        spent.clear()
        total = 0.0
        for n in range(1, polls + 1):
            if mode == "first":
                feed = FeedConfig(name=f"first{n}", url=bench.publish(f"6{n:03d}", 30))
            elif mode == "changed":
                bench.publish("55", 30 + n)
            else:
                bench.publish("55", 30, noise=n)
            start = time.thread_time()
            poll_feed(feed, store, fetcher, output, fixed_clock(T0 + timedelta(minutes=n)))
            total += time.thread_time() - start
        for _ in range(5):  # the parse of the page's bytes, at this moment
            bench.sample_floor(5)
        parse = bench.floor()
        print(f"{mode}: {total / polls * 1000:.2f} ms CPU per poll ({polls} polls), "
              f"{total / polls / parse:.1f}x the parse of the page's bytes ({parse * 1000:.2f} ms)")
        for label, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
            print(f"  {label:24} {seconds / polls * 1000:6.2f}")
        print(f"  {'(the rest)':24} {(total - sum(spent.values())) / polls * 1000:6.2f}")
    finally:
        bench.server.stop()


if __name__ == "__main__":
    main()
