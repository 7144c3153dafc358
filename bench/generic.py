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
