"""feedgen-dw `run` against urlwatch 2.29, side by side, as cron would run them.

Four steps over the same 50 URLs (live DW-markup articles of ~300 KB on 127.0.0.1):
first sight, a real change (one new section), a noise-only change (new hashed classes
and ad slots, same sections), unchanged (the server answers If-None-Match with 304).
Before each step the pages are published once; then every tool runs on them, each on
its own state: feedgen-dw with 50 feeds and with 1 feed (start-up and the marginal per
feed), urlwatch as a user configures it for an article (`css: div.rich-text`, then
`html2text`, its documented default method) and urlwatch without a filter (diffing the
whole raw page). CPU and peak RSS are each child's own (`os.wait4`).
"""

from __future__ import annotations

import compileall
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
STEPS = ("first sight", "changed", "noise-only", "unchanged")
TIME_BINARY = Path("/usr/bin/time").exists()
URLWATCH_FILTER = "filter:\n  - css: div.rich-text\n  - html2text\n"


def child(command: list[str], expect: int = 0) -> tuple[float, float]:
    """CPU seconds (user + system) and peak RSS (MB) of one child process.

    The CPU comes from wait4 (microseconds). The peak RSS comes from GNU time around the
    command: a child forked from this process would report this process's RSS as its
    own peak (Linux counts the memory of the fork until the exec)."""
    timed = Path(os.environ.get("TMPDIR", "/tmp")) / f"feedgen-dw-bench-time-{os.getpid()}"
    wrapper = ["/usr/bin/time", "-o", str(timed), "-f", "%M"] if TIME_BINARY else []
    proc = subprocess.Popen(wrapper + command, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    errors = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != expect:
        raise RuntimeError(f"{command[:4]} exited {proc.returncode}: {errors[-500:]}")
    peak = float(timed.read_text().split()[-1]) / 1024 if TIME_BINARY else 0.0
    return usage.ru_utime + usage.ru_stime, peak


def urlwatch_binary() -> str | None:
    binary = HERE / ".urlwatch" / "bin" / "urlwatch"
    if binary.exists():
        return str(binary)
    return shutil.which("urlwatch")


def compiled() -> None:
    """Byte-compile feedgen_dw as an installed copy is: pip compiles a package when it
    installs it, and urlwatch's is. An editable install run with PYTHONDONTWRITEBYTECODE
    (as this workplace sets it) never writes its .pyc files, and every child would compile
    the whole package again (about 0.1 CPU-s a process here), which no user pays."""
    compileall.compile_dir(HERE.parent / "feedgen_dw", quiet=1)


def feedgen_command(folder: Path, urls: list[str]) -> list[str]:
    folder.mkdir(parents=True)
    config = folder / "config.yaml"
    config.write_text("feeds:\n" + "".join(
        f"  f{n}:\n    url: {url}\n" for n, url in enumerate(urls)), encoding="utf-8")
    return [sys.executable, "-m", "feedgen_dw", "run", "-q", "--config", str(config)]


def urlwatch_command(binary: str, folder: Path, urls: list[str], filtered: bool,
                     css: str = "div.rich-text") -> list[str]:
    folder.mkdir(parents=True)
    how = URLWATCH_FILTER.replace("div.rich-text", css) if filtered else ""
    jobs = [f'url: "{url}"\n' + how for url in urls]
    (folder / "urls.yaml").write_text("---\n".join(jobs), encoding="utf-8")
    # no reporter prints anything: the bench measures the check, not a terminal
    (folder / "cfg.yaml").write_text(
        "report:\n  stdout:\n    enabled: false\n  text:\n    details: true\n",
        encoding="utf-8")
    return [binary, "--urls", str(folder / "urls.yaml"), "--config", str(folder / "cfg.yaml"),
            "--cache", str(folder / "cache.db"), "--hooks", str(folder / "hooks.py")]


def versus(bench: Any, count: int = 50, rounds: int = 2,
           publish: Callable[[str, int, int], str] | None = None, css: str = "div.rich-text",
           label: str = "") -> dict[str, Any]:
    """Runs the four steps `rounds` times (fresh articles and state each time); the
    medians per step go into bench.rows, the raw numbers into the returned dict.
    `publish(id, sections, noise)` serves another kind of page (default: DW's markup),
    `css` is what urlwatch's filter selects on it, `label` names its rows."""
    binary = urlwatch_binary()
    compiled()
    publish = publish or (lambda i, sections, noise: bench.publish(i, sections, noise=noise))
    runs: dict[str, dict[str, list[float]]] = {}
    rss: dict[str, float] = {}
    for round_ in range(rounds):
        ids = [f"7{round_}{n:03d}" for n in range(count)]  # digits: a DW /a-<id> path
        urls = [publish(i, 30, 0) for i in ids]
        base = bench.tmp / f"versus{label}{round_}"
        tools = {"feedgen-dw, 50 feeds": feedgen_command(base / "f50", urls),
                 "feedgen-dw, 1 feed": feedgen_command(base / "f1", urls[:1])}
        if binary:
            tools["urlwatch, css + html2text"] = urlwatch_command(binary, base / "uf", urls,
                                                                  True, css)
            tools["urlwatch, no filter"] = urlwatch_command(binary, base / "ur", urls, False)
        for step in STEPS:
            for i in ids:
                if step == "changed":
                    publish(i, 31, 0)
                elif step == "noise-only":
                    publish(i, 31, round_ + 1)
            for tool, command in tools.items():
                cpu, peak = child(command)
                runs.setdefault(f"{tool}|{step}", []).append(cpu)
                rss[tool] = max(rss.get(tool, 0.0), peak)
            bench.sample_floor(2)
    med = {key: statistics.median(values) for key, values in runs.items()}

    def total(tool: str) -> float:
        return sum(med[f"{tool}|{step}"] for step in STEPS)

    for tool in ("feedgen-dw, 50 feeds", "urlwatch, css + html2text", "urlwatch, no filter",
                 "feedgen-dw, 1 feed"):
        if f"{tool}|changed" not in med:
            bench.row(f"{tool}: not measured", None, "urlwatch not installed", per_poll=False)
            continue
        steps = " / ".join(f"{med[f'{tool}|{s}'] * 1000:.0f}" for s in STEPS)
        bench.row(f"{label}run 4 steps, {tool} (whole processes)", total(tool),
                  f"steps ms: {steps}; peak RSS {rss[tool]:.0f} MB", per_poll=False,
                  steps_ms=[round(med[f"{tool}|{s}"] * 1000, 1) for s in STEPS],
                  peak_child_rss_mb=round(rss[tool], 1))
    if binary:
        ours = total("feedgen-dw, 50 feeds")
        for tool in ("urlwatch, css + html2text", "urlwatch, no filter"):
            bench.row(f"{label}feedgen-dw / {tool}: CPU of the 4 steps", None,
                      f"{ours / total(tool):.2f}x (goal <= 0.5x against css + html2text)",
                      ratio=round(ours / total(tool), 3))
    for step in ("changed", "noise-only", "unchanged"):
        marginal = (med[f"feedgen-dw, 50 feeds|{step}"]
                    - med[f"feedgen-dw, 1 feed|{step}"]) / (count - 1)
        bench.row(f"{label}run: marginal CPU per additional feed, {step}", marginal,
                  f"({count} vs 1 feed, median of {rounds} rounds)")
    return {"raw_cpu_s": runs, "peak_rss_mb": rss}


def startup(bench: Any, rounds: int = 5) -> None:
    """Whole short processes: the start-up floor (Python, lxml, one parse of the page)
    and the commands that should cost no more than it."""
    compiled()
    folder = bench.tmp / "startup"
    folder.mkdir()
    page = folder / "page.html"
    page.write_bytes(bench.floor_bytes)
    bad = folder / "bad.yaml"
    bad.write_text("feeds: []\n", encoding="utf-8")
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "python, import lxml.html, parse the page's bytes (start-up floor)": [
            sys.executable, "-c", "import lxml.html, sys; "
            "lxml.html.fromstring(open(sys.argv[1], 'rb').read())", str(page)],
        "feedgen-dw --help": [sys.executable, "-m", "feedgen_dw", "--help"],
        "feedgen-dw run, config error": [sys.executable, "-m", "feedgen_dw", "run", "--config",
                                         str(bad)],
    }
    for name, command in commands.items():
        expect = 2 if "error" in name else 0
        samples = [child(command, expect) for _ in range(rounds)]
        cpu = statistics.median(c for c, _ in samples)
        peak = max(r for _, r in samples)
        bench.row(f"start-up: {name}", cpu, f"median of {rounds}; peak RSS {peak:.1f} MB",
                  per_poll=False, peak_child_rss_mb=round(peak, 1))
    from bench.startup import https_row  # real feeds are https: a row of its own

    https_row(bench, folder / "https", rounds)


if __name__ == "__main__":  # the four steps alone: python -m bench.versus [rounds]
    from bench.run import Bench

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    alone = Bench(quick=True)
    try:
        versus(alone, rounds=rounds)
    finally:
        alone.server.stop()
        shutil.rmtree(alone.tmp, ignore_errors=True)
    for row in alone.rows:
        print(f"{row['scenario']:<66} {row['cpu_ms'] or '-':>9}  {row['note']}")
