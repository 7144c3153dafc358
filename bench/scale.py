"""`make bench-scale`: how many live feeds one daemon keeps on a 1-minute interval.

One `feedgen-dw daemon` (SQLite state) polls N articles of a local page server
(bench/scale_server.py, a process of its own). For each N of --sizes, in one daemon that a
SIGHUP grows from one size to the next: a window where 10% of the pages gain a section
every minute (the rest answer 304), then a window where every page changes every minute.
The server records when every request arrived; a poll is late when it comes more than
interval + jitter (+ --slack for the poll's own duration, which the daemon's plan counts
from) after the feed's previous one, and a feed is kept when none of its polls in the
window was late and it is not overdue at the window's end. Writes bench/scale-results.json
and docs/benchmark-feeds.png (feeds kept against the daemon's CPU).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.procs import proc_cpu, proc_rss_mb
from bench.scale_server import page_path

HERE = Path(__file__).resolve().parent
INTERVAL, JITTER = 60.0, 6.0  # the config's 1m and the default jitter (10% of it)


class Throttle(threading.Thread):
    """Lets process `pid` run `share` of each 50 ms (SIGSTOP/SIGCONT): a slower machine,
    to saturate a daemon with fewer feeds than it would take on this one."""

    PERIOD = 0.05

    def __init__(self, pid: int, share: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.share, self.done = pid, share, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGCONT)
                time.sleep(self.PERIOD * self.share)
                os.kill(self.pid, signal.SIGSTOP)
                time.sleep(self.PERIOD * (1 - self.share))
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGCONT)


class Bench:
    def __init__(self, folder: Path, workers: int, cpu_share: float | None = None) -> None:
        self.folder = folder
        self.workers = workers
        self.cpu_share = cpu_share
        self.throttle: Throttle | None = None
        self.server = subprocess.Popen([sys.executable, str(HERE / "scale_server.py"), "10000"],
                                       stdout=subprocess.PIPE, text=True)
        assert self.server.stdout is not None
        self.base = f"http://127.0.0.1:{self.server.stdout.readline().strip()}"
        self.config = folder / "config.yaml"
        self.daemon: subprocess.Popen[bytes] | None = None

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.base + path, timeout=60) as answer:
            return json.load(answer)

    def configure(self, feeds: int) -> None:
        self.config.write_text(f"workers: {self.workers}\nfeeds:\n" + "".join(
            f"  s{n}:\n    url: {self.base}{page_path(n)}\n    interval: 1m\n"
            for n in range(feeds)), encoding="utf-8")
        if self.daemon is None:
            log = (self.folder / "daemon.log").open("ab")
            self.daemon = subprocess.Popen(
                [sys.executable, "-m", "feedgen_dw", "daemon", "--config", str(self.config)],
                stderr=log, stdout=log)
            print(f"daemon pid {self.daemon.pid}, server pid {self.server.pid}", flush=True)
            if self.cpu_share is not None:
                self.throttle = Throttle(self.daemon.pid, self.cpu_share)
                self.throttle.start()
        else:
            self.daemon.send_signal(signal.SIGHUP)

    def sample(self) -> dict[str, Any]:
        assert self.daemon is not None
        return {"at": self.get("/_stats")["now"], "daemon_cpu": proc_cpu(self.daemon.pid),
                "server_cpu": proc_cpu(self.server.pid)}

    def warm_up(self, feeds: int, limit: float) -> float:
        """Wait until every feed was polled once, then one interval + jitter more."""
        start = time.monotonic()
        while self.get("/_stats")["distinct"] < feeds:
            if time.monotonic() - start > limit:
                break
            time.sleep(2)
        first_round = time.monotonic() - start
        time.sleep(INTERVAL + JITTER)
        return round(first_round, 1)

    def window(self, feeds: int, mix: int, seconds: float) -> dict[str, Any]:
        """CPU and memory over one window; its polls are judged at the end (fetching the
        request log here would stall the server, and so the arrivals it records)."""
        assert self.daemon is not None
        before = self.sample()
        time.sleep(seconds)
        after = self.sample()
        span = after["at"] - before["at"]
        row = {"feeds": feeds, "mix_percent": mix, "window_s": round(span),
               "start": before["at"], "end": after["at"],
               "daemon_cpu": round((after["daemon_cpu"] - before["daemon_cpu"]) / span, 3),
               "server_cpu": round((after["server_cpu"] - before["server_cpu"]) / span, 3),
               "daemon_rss_mb": proc_rss_mb(self.daemon.pid),
               "daemon_peak_rss_mb": peak_rss_mb(self.daemon.pid),
               "loadavg": Path("/proc/loadavg").read_text().split()[:3]}
        print(json.dumps(row), flush=True)
        return row

    def set_mix(self, percent: int) -> None:
        self.get(f"/_mix?percent={percent}")

    def until_next_change(self, after: float = 0.0) -> None:
        stats = self.get("/_stats")
        time.sleep(max(0.0, stats["next_tick"] - stats["now"]) + after)

    def stop(self) -> None:
        if self.throttle is not None:
            self.throttle.done.set()
            self.throttle.join()
        for proc in (self.daemon, self.server):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def commit() -> str:
    out = subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True, check=False)
    return out.stdout.strip()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def judge(log: list[list[float]], feeds: int, start: float, end: float,
          slack: float) -> dict[str, Any]:
    """Lateness of the polls of feeds 0..feeds-1 that arrived in [start, end]."""
    times: dict[int, list[float]] = {}
    answers = {200: 0, 304: 0}
    for at, page, status in log:
        if page < feeds and at <= end:
            times.setdefault(int(page), []).append(at)
            if at >= start:
                answers[int(status)] = answers.get(int(status), 0) + 1
    allowed = INTERVAL + JITTER
    late_by: list[float] = []  # seconds past interval + jitter, for every poll in the window
    kept = 0
    for page in range(feeds):
        arrivals = times.get(page, [])
        mine = [b - a - allowed for a, b in itertools.pairwise(arrivals) if b >= start]
        late_by += mine
        # overdue at the window's end counts as late by as much
        worst = max([end - arrivals[-1] - allowed, *mine]) if arrivals else float("inf")
        kept += worst <= slack
    late_by.sort()
    middle = late_by[len(late_by) // 2] + allowed if late_by else None
    return {"kept": kept, "polls": len(late_by), "answers_200": answers[200],
            "gap_p50_s": None if middle is None else round(middle, 1),
            "answers_304": answers[304], "late_polls": sum(x > slack for x in late_by),
            "late_p99_s": round(late_by[int(0.99 * (len(late_by) - 1))], 2) if late_by else None,
            "late_max_s": round(late_by[-1], 2) if late_by else None}


def plot(rows: list[dict[str, Any]], target: Path, note: str,
         before: list[dict[str, Any]] | None = None) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot")
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for mix, colour in ((10, "tab:blue"), (100, "tab:red")):
        earlier = sorted((r for r in before or [] if r["mix_percent"] == mix),
                         key=lambda r: r["feeds"])
        if earlier:
            right.plot([100 * r["daemon_cpu"] for r in earlier], [r["kept"] for r in earlier],
                       "x--", color=colour, alpha=0.4, label=f"{mix}%, --before run")
            left.plot([r["feeds"] for r in earlier], [r["kept"] for r in earlier], "x--",
                      color=colour, alpha=0.4, label=f"{mix}%, --before run")
        mine = sorted((r for r in rows if r["mix_percent"] == mix), key=lambda r: r["feeds"])
        label = f"{mix}% of pages change each minute"
        right.plot([100 * r["daemon_cpu"] for r in mine], [r["kept"] for r in mine], "o-",
                   color=colour, label=label)
        for r in mine:
            right.annotate(f"{r['feeds']:,}", (100 * r["daemon_cpu"], r["kept"]), fontsize=7,
                           textcoords="offset points", xytext=(4, -10))
        left.plot([r["feeds"] for r in mine], [r["kept"] for r in mine], "o-", color=colour,
                  label=label)
    top = max((r["feeds"] for r in rows), default=1)
    left.plot([0, top], [0, top], ":", color="grey", label="all kept")
    left.set(xlabel="feeds configured (1-minute interval)", ylabel="feeds kept",
             title="feeds kept (no poll later than interval + jitter)")
    right.set(xlabel="daemon CPU (% of one core)", ylabel="feeds kept",
              title="feeds kept vs the daemon's CPU")
    for axis in (left, right):
        axis.set_xlim(left=0)
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=7)
    fig.text(0.5, 0.005, note, ha="center", fontsize=7, color="grey")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    target.parent.mkdir(exist_ok=True)
    fig.savefig(target, dpi=90)
    print(f"plot: {target}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,2000,5000,10000",
                        help="feed counts, ascending (default: %(default)s)")
    parser.add_argument("--window", type=float, default=90.0, help="seconds per window")
    parser.add_argument("--slack", type=float, default=1.0,
                        help="seconds a poll may take before it counts as late")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--cpu-share", type=float,
                        help="let the daemon run only this share of the time (0-1): a slower box")
    parser.add_argument("--keep", action="store_true", help="keep the state folder")
    parser.add_argument("--results", type=Path, default=HERE / "scale-results.json")
    parser.add_argument("--before", type=Path, help="an earlier results file, drawn dashed")
    parser.add_argument("--plot", type=Path, default=HERE.parent / "docs" / "benchmark-feeds.png")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="feedgen-dw-scale-"))
    bench = Bench(folder, args.workers, args.cpu_share)
    started, rows, first_rounds = time.monotonic(), [], {}
    try:
        for feeds in (int(size) for size in args.sizes.split(",")):
            bench.set_mix(10)
            bench.configure(feeds)
            first_rounds[feeds] = bench.warm_up(feeds, limit=max(300.0, feeds * 0.1))
            rows.append(bench.window(feeds, 10, args.window))
            bench.set_mix(100)
            bench.until_next_change(after=30)
            rows.append(bench.window(feeds, 100, args.window))
        requests = bench.get("/_log")
        for row in rows:
            row.update(judge(requests, row["feeds"], row.pop("start"), row.pop("end"),
                             args.slack))
            print(json.dumps(row))
    finally:
        bench.stop()
        log = (folder / "daemon.log").read_text(errors="replace") if folder.exists() else ""
        if args.keep:
            print(f"kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    result = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
              "seconds": round(time.monotonic() - started), "interval_s": INTERVAL,
              "jitter_s": JITTER, "slack_s": args.slack, "workers": args.workers,
              "first_round_s": first_rounds, "cpus": os.cpu_count(), "commit": commit(),
              "cpu_share": args.cpu_share,
              "malloc_env": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")},
              "daemon_failed_lines": log.count("status=failed"), "rows": rows}
    args.results.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    loads = [float(row["loadavg"][0]) for row in rows] or [0.0]
    plot(rows, args.plot, f"{result['date']}, commit {result['commit']}, {os.cpu_count()} "
         f"cores, 1-minute load average {min(loads)}-{max(loads)} in the windows",
         json.loads(args.before.read_text())["rows"] if args.before else None)
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
