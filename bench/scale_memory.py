"""Where a daemon's memory goes at N feeds: the daemon in this process under tracemalloc.

    python bench/scale_memory.py FEEDS [SECONDS]

Starts bench/scale_server.py (10% of the pages change each minute), runs a Daemon on a
SQLite state in a temporary folder for SECONDS (default: until every feed was polled
once, then 70 s), then prints the RSS, /proc/self/smaps_rollup's split, the Python
allocations still held grouped by file and line (tracemalloc, 1 frame), and the size of
the memo caches. tracemalloc sees only Python's allocator (not libxml2's malloc).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.procs import proc_rss_mb
from bench.scale_server import page_path

HERE = Path(__file__).resolve().parent


def smaps() -> dict[str, int]:
    rows = Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]
    return {k.rstrip(":"): int(v) for k, v, *_ in (r.split() for r in rows)}  # kB


def caches() -> dict[str, object]:
    """Each of feedgen_dw's memo caches: its entries, and (under tracemalloc) the MB that
    clearing it freed."""
    from functools import _lru_cache_wrapper

    found: dict[str, object] = {}
    seen: set[int] = set()
    for name, module in list(sys.modules.items()):
        if not name.startswith("feedgen_dw"):
            continue
        for value in vars(module).values():
            if isinstance(value, _lru_cache_wrapper) and id(value) not in seen:
                seen.add(id(value))
                before = tracemalloc.get_traced_memory()[0]
                entries = value.cache_info().currsize
                value.cache_clear()
                freed = (before - tracemalloc.get_traced_memory()[0]) / 2**20
                found[f"{value.__module__}.{value.__qualname__}"] = [entries, round(freed, 2)]
    return found


def main() -> None:
    feeds = int(sys.argv[1])
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else None
    if os.environ.get("FRAMES", "1") != "0":
        tracemalloc.start(int(os.environ.get("FRAMES", "1")))
    server = subprocess.Popen([sys.executable, str(HERE / "scale_server.py"), str(feeds)],
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
    folder = Path(tempfile.mkdtemp(prefix="feedgen-dw-mem-"))
    config = folder / "config.yaml"
    config.write_text("workers: 4\nfeeds:\n" + "".join(
        f"  s{n}:\n    url: {base}{page_path(n)}\n    interval: 1m\n" for n in range(feeds)),
        encoding="utf-8")
    from feedgen_dw.memory import limit_arenas
    from feedgen_dw.schedule import Daemon

    limit_arenas()
    daemon = Daemon(config)
    baseline = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None

    def stats() -> int:
        with urllib.request.urlopen(base + "/_stats", timeout=60) as answer:
            return int(json.load(answer)["distinct"])

    def watch() -> None:
        start = time.monotonic()
        if seconds is None:
            while stats() < feeds:
                time.sleep(2)
            print(f"first round: {time.monotonic() - start:.0f} s", flush=True)
            time.sleep(70)
        else:
            time.sleep(seconds)
        snapshot = tracemalloc.take_snapshot() if baseline else None
        rss, split = proc_rss_mb(os.getpid()), smaps()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        print(json.dumps({"feeds": feeds, "rss_mb": rss,
                          "rss_after_malloc_trim_mb": proc_rss_mb(os.getpid()),
                          "traced_mb": round(tracemalloc.get_traced_memory()[0] / 2**20, 1),
                          "traced_peak_mb": round(tracemalloc.get_traced_memory()[1] / 2**20, 1),
                          "smaps_mb": {k: v // 1024 for k, v in split.items() if v >= 1024},
                          "caches": caches()}, indent=1))
        if snapshot is not None and baseline is not None:
            top = int(os.environ.get("TOP", "30"))
            for stat in snapshot.compare_to(baseline, "lineno")[:top]:
                print(f"{stat.size_diff / 2**20:7.2f} MB {stat.count_diff:8d}  {stat.traceback}")
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True).start()
    try:
        daemon.run()
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
