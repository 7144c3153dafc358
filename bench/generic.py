"""The generic profile's cost (issue 13): extracting the 300 KB bench page with `site:
generic` against one lxml parse of it, cold (every entry sanitized) and as a poll does it
(entries sanitized in an earlier poll are known and not sanitized again)."""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from feedgen_dw.extract import extract_page

if TYPE_CHECKING:
    from bench.run import Bench


def generic(bench: Bench) -> None:
    """Add the generic extraction rows to the bench's table."""
    from bench.run import thread_cpu

    page, url = bench.floor_bytes, "https://www.example.de/ticker"
    first = extract_page(page, url, "generic")
    known = {s.raw_digest: (s.html, s.text) for s in first.sections}
    rounds = 10 if bench.quick else 40
    for label, kept in (("cold, every entry sanitized", None), ("a poll, entries known", known)):
        def once(known: dict[str, tuple[str, str]] | None = kept) -> object:
            return extract_page(page, url, "generic", known=known)

        times = []
        for n in range(rounds):
            times.append(thread_cpu(once))
            if n % 10 == 0:
                bench.sample_floor(1)
        bench.row(f"generic extraction of the 300 KB page ({label})", statistics.median(times),
                  f"{len(first.sections)} entries; goal: within 10x the parse")
    ticker(bench, rounds)


def ticker(bench: Bench, rounds: int) -> None:
    """`site: auto` on the ticker page of another outlet (bench/ticker.py), without and
    with JSON-LD, as a noise-only poll extracts it: a new deployment (other hashed classes
    and ad slots), every entry known from the poll before."""
    from bench.run import thread_cpu
    from bench.ticker import ticker_page

    base, url = "http://127.0.0.1:1", "http://127.0.0.1:1/live/t1"
    for ld in (False, True):
        pages = [ticker_page("t1", 30, base, noise, ld, 240_000).encode() for noise in range(6)]
        first = extract_page(pages[0], url, "auto")
        known = {s.raw_digest: (s.html, s.text) for s in first.sections if s.raw_digest}
        times = []
        for n in range(rounds):
            times.append(thread_cpu(lambda p=pages[1 + n % 5], k=known: extract_page(
                p, url, "auto", known=k)))
            if n % 10 == 0:
                bench.sample_floor(1)
        bench.row(f"site: auto, ticker page {'with' if ld else 'without'} JSON-LD, noise-only "
                  "(entries known)", statistics.median(times),
                  f"{len(pages[1]) // 1000} KB; read as {first.profile}")
