"""DW's JSON API against the page: bytes to transfer and CPU to extract, per poll.

For the bench page (345 KB, Apollo state) and each saved real DW page that carries a
state (../shared/realpages/dw): the page's bytes against the API answer's (`data.content`
of the same state, which is what /graph-api/... answers), and the CPU of extract_page()
on the page against extract_api() on the answer, both with every section known (a poll
of a page seen before) and cold. Fetching is not in it: the API path is not wired into
polls yet.
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from feedgen_dw.extract import extract_page
from feedgen_dw.extract.dw_api import embedded_content, extract_api
from feedgen_dw.extract.html import page_selector
from feedgen_dw.fetch import Fetcher, FetchResult
from feedgen_dw.poll import fixed_clock, poll_feed
from feedgen_dw.replay import render_page

HERE = Path(__file__).resolve().parent
CANONICAL_RE = re.compile(rb'<link[^>]*rel="canonical"[^>]*href="([^"]+)"')


def _cpu(call: Any, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.thread_time()
        call()
        samples.append(time.thread_time() - start)
    return statistics.median(samples)


def _pages(bench: Any) -> list[tuple[str, bytes, str]]:
    pages = [("bench page", bench.floor_bytes, "https://www.dw.com/de/ukraine-aktuell-1/a-1")]
    for root in (HERE.parents[1] / "shared", HERE.parents[2] / "shared"):
        folder = root / "realpages" / "dw"
        if folder.is_dir():
            for path in sorted(folder.glob("*.html")):
                raw = path.read_bytes()
                found = CANONICAL_RE.search(raw)
                if found and (b"__APOLLO_STATE__" in raw or b"__APP_STATE__" in raw):
                    pages.append((path.name, raw, found.group(1).decode()))
            break
    return pages


def _measure(bench: Any, name: str, raw: bytes, url: str, rounds: int) -> None:
    page = extract_page(raw, url, "dw")
    sel = page_selector(raw)
    article_id = page.article_id.split("-", 1)[1]
    content = embedded_content(sel, article_id)
    if content is None:
        return
    answer = json.dumps({"data": {"content": content}}, ensure_ascii=False).encode()
    known = {s.raw_digest: (s.html, s.text) for s in page.sections if s.raw_digest}
    page_cpu = _cpu(lambda: extract_page(raw, url, "dw", None, "utf-8", known), rounds)
    api_cpu = _cpu(lambda: extract_api(answer, url, known), rounds)
    cold_page = _cpu(lambda: extract_page(raw, url, "dw"), rounds // 4 or 1)
    cold_api = _cpu(lambda: extract_api(answer, url), rounds // 4 or 1)
    bench.sample_floor(2)
    kb = f"{len(raw) // 1000} KB page, {len(answer) // 1000} KB API answer"
    bench.row(f"DW page path, extract (sections known): {name}", page_cpu,
              f"{kb}; cold {cold_page * 1000:.2f} ms", page_bytes=len(raw))
    bench.row(f"DW API path, extract (sections known): {name}", api_cpu,
              f"{kb}; cold {cold_api * 1000:.2f} ms", api_bytes=len(answer))


def api_rows(bench: Any, rounds: int = 20) -> None:
    for name, raw, url in _pages(bench):
        _measure(bench, name, raw, url, rounds)
    poll_rows(bench)


T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)


class _Counting(Fetcher):
    """A Fetcher that adds up the body bytes it received."""

    received = 0

    def get(self, *args: Any, **kwargs: Any) -> FetchResult:
        result = super().get(*args, **kwargs)
        self.received += len(result.body)
        return result


def _serve(bench: Any, sections: int) -> str:
    """The bench page with `sections` sections, as page and as API answer; its URL."""
    from bench.pages import live_page, padding_for

    page = live_page("4", sections)
    page = replace(page, slug="ukraine-aktuell-api")
    url = bench.server.publish(page, padding=padding_for(300_000, page))
    html = render_page(page, bench.server.base_url, padding=padding_for(300_000, page))
    content = embedded_content(page_selector(html), page.article_id)
    assert content is not None
    answer = json.dumps({"data": {"content": content}}, ensure_ascii=False).encode()
    bench.server.set(f"/graph-api/de/content/article/{page.article_id}", 200, answer, {
        "Content-Type": "application/json",
        "ETag": '"' + hashlib.sha1(answer).hexdigest()[:16] + '"'})
    return str(url)


def poll_rows(bench: Any) -> None:
    """Whole polls through the page and through the API: changed, and answered 304."""
    url = _serve(bench, 30)
    feeds = {}
    for source in ("page", "api"):
        feed, store, _, output = bench.feed_env(f"api-{source}", url)
        fetcher = _Counting()
        feed = replace(feed, site="dw", source=source)
        poll_feed(feed, store, fetcher, output, fixed_clock(T0))
        feeds[source] = (feed, store, fetcher, output)
    rounds = 6 if bench.quick else 20
    cpu: dict[tuple[str, str], list[float]] = {}
    got: dict[tuple[str, str], list[int]] = {}
    for n in range(1, 2 * rounds + 1):
        changed = n <= rounds
        if changed:
            _serve(bench, 30 + n)
        for source, (feed, store, fetcher, output) in feeds.items():
            before = fetcher.received
            when = fixed_clock(T0 + timedelta(minutes=n))
            start = time.thread_time()
            result = poll_feed(feed, store, fetcher, output, when)
            key = (source, "changed" if changed else "unchanged")
            cpu.setdefault(key, []).append(time.thread_time() - start)
            got.setdefault(key, []).append(fetcher.received - before)
            assert result.ok and result.not_modified != changed, result
        bench.sample_floor(1)
    for (source, kind), times in cpu.items():
        received = statistics.median(got[(source, kind)])
        what = "one new section" if kind == "changed" else "answered 304"
        bench.row(f"DW {source} path, whole poll, {kind} ({what})", statistics.median(times),
                  f"{received / 1000:.1f} KB body received per poll",
                  received_bytes=received)
    for _, store, fetcher, _ in feeds.values():
        store.close()
        fetcher.close()


def main() -> int:
    """Only these rows, without the rest of `make bench`: python -m bench.api [--quick]."""
    import sys

    from bench.run import Bench

    bench = Bench(quick="--quick" in sys.argv)
    try:
        bench.parse_floor()
        api_rows(bench)
    finally:
        bench.server.stop()
    bench.floor_rows()
    bench.finish_ratios()
    for row in bench.rows:
        print(f"{row['scenario']:<72} {row['cpu_ms']:>8} ms  x{row.get('ratio_to_parse', 1.0)} "
              f"bytes parse  {row['note']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
