"""Extraction of a noise-only poll, this checkout against an earlier commit, in one process
and alternating (this shared machine's speed drifts within minutes: two runs one after the
other do not compare). The earlier commit's package is taken out of git into a temporary
folder under another name, so that both can be imported side by side.

    .venv/bin/python bench/extract_ab.py COMMIT [ROUNDS] [REALPAGE ...]

REALPAGE names a file under ../shared/realpages/liveblogs (FEEDGEN_REALPAGES elsewhere);
without any, the two ticker pages and the real pages the generic profile reads.
Each row: the median and the fastest of ROUNDS (thread CPU), and the page's parse alone.
"""

from __future__ import annotations

import importlib
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REAL = Path(os.environ.get("FEEDGEN_REALPAGES", ROOT.parent / "shared" / "realpages"))
GENERIC_PAGES = ("br24_2024-08-27_nahost-ticker.html", "sportowefakty_falubaz.html")


def earlier(commit: str) -> ModuleType:
    """feedgen_dw.extract as it was at `commit`, imported as feedgen_base.extract."""
    folder = Path(tempfile.mkdtemp(prefix="feedgen-ab-"))
    archive = subprocess.run(["git", "archive", commit, "feedgen_dw"], cwd=ROOT,
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    (folder / "feedgen_dw").rename(folder / "feedgen_base")
    for path in (folder / "feedgen_base").rglob("*.py"):
        path.write_text(path.read_text().replace("feedgen_dw", "feedgen_base"))
    sys.path.insert(0, str(folder))
    return importlib.import_module("feedgen_base.extract")


def cases(names: list[str]) -> dict[str, tuple[bytes, list[bytes], str]]:
    """label -> (the poll before's page, this poll's pages, url)."""
    from bench.ticker import ticker_page

    base = "http://127.0.0.1:1"
    out = {}
    for ld in (False, True):
        pages = [ticker_page("t1", 30, base, n, ld, 240_000).encode() for n in range(6)]
        out[f"ticker, {'JSON-LD' if ld else 'no JSON-LD'}"] = (pages[0], pages[1:],
                                                             f"{base}/live/t1")
    for name in names:
        page = (REAL / "liveblogs" / name).read_bytes()
        out[name.split("_")[0]] = (page, [page], "file:///" + name)
    return out


def main(argv: list[str]) -> None:
    commit, rounds = argv[0], int(argv[1]) if len(argv) > 1 else 60
    names = argv[2:] or [n for n in GENERIC_PAGES if (REAL / "liveblogs" / n).exists()]
    sys.path.insert(0, str(ROOT))
    import feedgen_dw.extract as now
    from feedgen_dw.extract.html import page_selector

    old = earlier(commit)
    print(f"load {os.getloadavg()[0]:.2f}; {commit} against the working tree; {rounds} rounds")
    for label, (first, pages, url) in cases(names).items():
        known: dict[str, Any] = {}
        times: dict[str, list[float]] = {"before": [], "after": []}
        for tag, module in (("before", old), ("after", now)):
            article = module.extract_page(first, url, "auto")
            known[tag] = {s.raw_digest: (s.html, s.text) for s in article.sections}
        parse = []
        for n in range(rounds):
            page = pages[n % len(pages)]
            order = ("before", "after") if n % 2 else ("after", "before")
            for tag in order:
                module = old if tag == "before" else now
                start = time.thread_time()
                module.extract_page(page, url, "auto", known=known[tag])
                times[tag].append(time.thread_time() - start)
            start = time.thread_time()
            page_selector(page)
            parse.append(time.thread_time() - start)
        b, a, p = (statistics.median(x) * 1000 for x in (times["before"], times["after"], parse))
        print(f"{label} ({article.profile}, {len(pages[0]) // 1000} KB): before {b:.2f} ms "
              f"({b / p:.1f}x the parse), after {a:.2f} ms ({a / p:.1f}x), after/before "
              f"{a / b:.2f}; fastest {min(times['before']) * 1000:.2f} / "
              f"{min(times['after']) * 1000:.2f} ms; parse {p:.2f} ms")
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
