"""The scale scenario: one daemon, many live feeds on a 1-minute interval, a local server
with as many distinct pages that change every minute. Does it keep up?"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.pages import live_page
from bench.procs import proc_cpu, proc_rss_mb
from feedgen_dw.replay import ReplayServer


def scale(server: ReplayServer, tmp: Path, quick: bool) -> dict[str, object]:
    """Run the daemon over the feeds for a few minutes; report how many were polled in
    time in the last minute, the daemon's CPU share and its memory."""
    feeds = 100 if quick else 2000
    warm_up = 70 if quick else 90  # the first round: every page is new, every poll heavy
    pages = [live_page(f"8{n:04d}", 12, words=60) for n in range(feeds)]
    stop = threading.Event()

    def publish_every_minute() -> None:
        round_ = 0
        while not stop.is_set():
            for page in pages:
                server.publish(page, noise=round_)  # new bytes every minute
            round_ += 1
            stop.wait(60)

    publisher = threading.Thread(target=publish_every_minute, daemon=True)
    publisher.start()
    folder = tmp / "scale"
    folder.mkdir()
    config = folder / "config.yaml"
    config.write_text("workers: 4\nfeeds:\n" + "".join(
        f"  s{n}:\n    url: {server.base_url}{page.path}\n    interval: 1m\n"
        for n, page in enumerate(pages)), encoding="utf-8")
    before = len(server.site.requests)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "feedgen_dw", "daemon", "--config",
                             str(config)], stderr=subprocess.DEVNULL)
    window = 66  # one interval plus the default jitter of 10%
    try:
        time.sleep(warm_up)
        window_start = len(server.site.requests)
        cpu0 = proc_cpu(proc.pid)
        time.sleep(window)
        cpu1 = proc_cpu(proc.pid)
        rss = proc_rss_mb(proc.pid)
        seen = server.site.requests[window_start:]
    finally:
        proc.terminate()
        proc.wait(60)
        stop.set()
    polled = set(seen)
    in_time = sum(1 for page in pages if page.path in polled)
    return {
        "scenario": f"scale: one daemon, {feeds} feeds every minute",
        "feeds": feeds, "seconds": round(time.monotonic() - started),
        "polled_in_last_66s": in_time, "share": round(in_time / feeds, 3),
        "requests_total": len(server.site.requests) - before,
        "daemon_cpu_share_last_minute": round((cpu1 - cpu0) / window, 2),
        "daemon_rss_mb": rss,
    }
