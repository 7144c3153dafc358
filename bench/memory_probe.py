"""Run in its own process by bench/run.py: RSS over many polls of one feed."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedgen_dw.config import FeedConfig
from feedgen_dw.fetch import Fetcher
from feedgen_dw.poll import Output, fixed_clock, poll_feed, write_site
from feedgen_dw.store import SQLiteStore


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    url, folder, polls = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    feed = FeedConfig(name="mem", url=url)
    store, fetcher = SQLiteStore(folder / "s.sqlite3"), Fetcher()
    output = Output(folder / "public", "http://127.0.0.1:8080/")
    t0 = datetime(2026, 11, 24, tzinfo=UTC)
    start = 0.0
    for n in range(polls):
        if n == 1000:
            start = rss_mb()
        poll_feed(feed, store, fetcher, output, fixed_clock(t0 + timedelta(seconds=n)))
        write_site([feed], store, output)  # as the daemon does after each poll
    end = rss_mb()
    print(json.dumps({"polls": polls, "start_mb": round(start, 1), "end_mb": round(end, 1),
                      "growth_mb": round(end - start, 1)}))


if __name__ == "__main__":
    main()
