"""The scale bench's page server: N live articles, a share of them gaining a section at
every minute, answered from bodies rendered once per version, with ETag and 304.

A process of its own (asyncio, one thread), so its CPU is neither the daemon's nor the
bench's: the bench reads it from /proc. It owns the clock the bench judges lateness by:
every request's arrival (CLOCK_MONOTONIC) is recorded.

    python bench/scale_server.py FEEDS    prints its port, then serves until killed
    GET /_stats         {"now", "requests", "distinct", "mix"}
    GET /_mix?percent=P from the next minute on, P% of the pages change every minute
    GET /_log           every request so far: [[arrival, page, status], ...]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.pages import live_page
from feedgen_dw.replay import render_page

FIRST_SECTIONS = 12  # sections of a page at first sight; every change adds one


def page_path(index: int) -> str:
    return live_page(article_id(index), 1).path


def article_id(index: int) -> str:
    return f"8{index:05d}"


class Pages:
    """Which version each page is at, and its body, rendered when first asked for."""

    def __init__(self, feeds: int) -> None:
        self.feeds = feeds
        self.version = [0] * feeds
        self.cache: dict[int, tuple[int, bytes, bytes]] = {}  # page -> version, etag, body
        self.by_path = {page_path(n): n for n in range(feeds)}
        self.percent = 10
        self.minute = 0
        self.started = time.monotonic()
        self.log: list[tuple[float, int, int]] = []
        self.seen: set[int] = set()

    def tick(self) -> None:
        """A minute passed: the next share of pages gains a section (a rotating share, so
        at 10% every page changes once in ten minutes)."""
        self.minute += 1
        step = max(1, round(100 / self.percent)) if self.percent < 100 else 1
        for n in range(self.minute % step, self.feeds, step):
            self.version[n] += 1

    def answer(self, index: int) -> tuple[bytes, bytes]:
        version = self.version[index]
        cached = self.cache.get(index)
        if cached is None or cached[0] != version:
            page = live_page(article_id(index), FIRST_SECTIONS + version, words=60)
            body = render_page(page, "http://127.0.0.1", noise=version).encode()
            cached = (version, f'"{index}-{version}"'.encode(), body)
            self.cache[index] = cached
        return cached[1], cached[2]


async def handle(pages: Pages, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            arrival = time.monotonic()
            line, *fields = head.decode("latin-1").split("\r\n")
            target = line.split(" ")[1]
            headers = {k.strip().lower(): v.strip() for k, _, v in
                       (f.partition(":") for f in fields if f)}
            writer.write(respond(pages, target, headers.get("if-none-match"), arrival))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, IndexError):
        pass
    finally:
        writer.close()


def respond(pages: Pages, target: str, etag_seen: str | None, arrival: float) -> bytes:
    path, _, query = target.partition("?")
    index = pages.by_path.get(path)
    if index is not None:
        etag, body = pages.answer(index)
        pages.seen.add(index)
        if etag_seen is not None and etag_seen.encode() == etag:
            pages.log.append((arrival, index, 304))
            return b"HTTP/1.1 304 Not Modified\r\nETag: " + etag + b"\r\nContent-Length: 0\r\n\r\n"
        pages.log.append((arrival, index, 200))
        return (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nETag: " + etag
                + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    if path == "/_stats":
        data: object = {"now": time.monotonic(), "requests": len(pages.log),
                        "distinct": len(pages.seen), "mix": pages.percent,
                        "next_tick": pages.started + 60 * (pages.minute + 1)}
    elif path == "/_mix":
        pages.percent = int(query.partition("=")[2])
        data = {"mix": pages.percent}
    elif path == "/_log":
        data = pages.log
    else:
        return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    body = json.dumps(data).encode()
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n" + body)


async def main(feeds: int) -> None:
    pages = Pages(feeds)
    server = await asyncio.start_server(
        lambda r, w: handle(pages, r, w), "127.0.0.1", 0, limit=1 << 16)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()  # its time() is time.monotonic()
    pages.started = loop.time()

    def tick() -> None:
        pages.tick()
        loop.call_at(pages.started + 60 * (pages.minute + 1), tick)

    loop.call_at(pages.started + 60, tick)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
