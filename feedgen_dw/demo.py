"""`make demo`: a bundled live day of our own, replayed through a local server.

The texts are written for this project (no publisher's text), in the shape of DW's daily
"Ukraine aktuell" article: a lead without heading, "Das Wichtigste in Kürze", h2 sections,
figures, an embedded video, the agency line and the standing note.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import threading
from contextlib import nullcontext
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from feedgen_dw.config import FeedConfig
from feedgen_dw.fetch import Fetcher
from feedgen_dw.poll import Output, feed_paths, fixed_clock, poll_feed, write_site
from feedgen_dw.replay import DemoPage, DemoSection, ReplayServer, replay_server
from feedgen_dw.store import SQLiteStore

ARTICLE_ID = "70000001"

LEAD_AIR = DemoSection(paragraphs=(
    "Der ukrainische Präsident hat die Verbündeten in einer nächtlichen Videoansprache um "
    "zusätzliche Systeme zur Flugabwehr gebeten. Jede Batterie rette Menschenleben, sagte er.",
    "Vor allem die Energieanlagen im Süden des Landes seien schutzlos, hieß es aus Kiew. "
    "Die Regierung rechne mit weiteren Angriffen in den kommenden Wochen.",
))
AIR_AS_H2 = replace(LEAD_AIR, headline="Selenskyj wirbt in Brüssel um Flugabwehrsysteme")
LEAD_FRONT = DemoSection(paragraphs=(
    "Die ukrainische Armee meldet kleinere Geländegewinne im Gebiet Saporischschja. Zwei "
    "Dörfer südlich der Frontlinie seien zurückerobert worden, teilte der Generalstab mit.",
    "Unabhängig überprüfen ließen sich die Angaben zunächst nicht. Russische Militärblogger "
    "räumten jedoch Rückschläge in dem Abschnitt ein.",
))
ODESSA = DemoSection(
    headline="Nächtliche Drohnenangriffe auf Odessa",
    paragraphs=(
        "In der Hafenstadt Odessa sind nach Behördenangaben mehrere Lagerhallen durch "
        "Drohnentrümmer in Brand geraten. Verletzt wurde nach ersten Berichten niemand.",
        "Die Luftabwehr habe den Großteil der Drohnen abgefangen, erklärte die Militärverwaltung.",
    ),
    figure=("70000101", "Feuerwehrleute löschen einen Brand im Hafen", "Demo-Agentur"),
)
ODESSA_GROWN = replace(ODESSA, paragraphs=(
    *ODESSA.paragraphs,
    "Am Vormittag meldete der Hafenbetreiber, dass der Getreideumschlag wieder angelaufen sei.",
))
SANCTIONS = DemoSection(
    headline="EU berät über neues Sanktionspaket",
    paragraphs=(
        "Die Außenminister der Europäischen Union beraten in Brüssel über ein weiteres Paket "
        "von Sanktionen gegen Russland. Im Mittelpunkt stehen Geschäfte über Drittstaaten.",
        "Mehrere Mitgliedsstaaten verlangen Ausnahmen für Düngemittel und Lebensmittel.",
    ),
    video="Was Sanktionen bewirken können",
)
SANCTIONS_REWORDED = replace(SANCTIONS, headline="EU-Außenminister ringen um Sanktionspaket")
ENERGY = DemoSection(
    headline="Energieversorger warnt vor Engpässen im Winter",
    paragraphs=(
        "Der staatliche Energieversorger rechnet nach den jüngsten Angriffen mit geplanten "
        "Abschaltungen in mehreren Regionen. Haushalte sollen sich auf Stromsperren einstellen.",
        "Reparaturtrupps arbeiteten rund um die Uhr an den beschädigten Umspannwerken.",
    ),
)


def _page(slug: str, title: str, sections: tuple[DemoSection, ...], summary: tuple[str, ...],
          modified: str) -> DemoPage:
    return DemoPage(
        article_id=ARTICLE_ID, slug=slug, title=title,
        teaser="Die Ereignisse des Tages im Überblick.", sections=sections,
        summary=summary, modified=modified,
    )


FIRST = _page(
    "ukraine-aktuell-selenskyj-bittet-um-mehr-flugabwehr",
    "Ukraine aktuell: Selenskyj bittet um mehr Flugabwehr",
    (LEAD_AIR, ODESSA, SANCTIONS),
    ("Selenskyj bittet um Flugabwehr", "Drohnen über Odessa", "EU berät Sanktionen"),
    "2026-11-24T05:00:00.000Z",
)
SECOND = _page(
    "ukraine-aktuell-kiew-meldet-geländegewinne",
    "Ukraine aktuell: Kiew meldet Geländegewinne bei Saporischschja",
    (LEAD_FRONT, AIR_AS_H2, ODESSA, SANCTIONS),
    ("Geländegewinne bei Saporischschja", "Selenskyj bittet um Flugabwehr", "EU berät"),
    "2026-11-24T07:00:00.000Z",
)
THIRD = replace(
    SECOND, sections=(LEAD_FRONT, AIR_AS_H2, ENERGY, ODESSA_GROWN, SANCTIONS_REWORDED),
    summary=(*SECOND.summary, "Warnung vor Stromsperren"), modified="2026-11-24T10:00:00.000Z",
)
FOURTH = replace(
    THIRD, sections=(LEAD_FRONT, AIR_AS_H2, ENERGY, SANCTIONS_REWORDED),
    modified="2026-11-24T12:00:00.000Z",
)


def _at(hour: int) -> datetime:
    return datetime(2026, 11, 24, hour, 0, tzinfo=UTC)


# (time of the poll, page, noise): noise-only steps change markup, never the news
LIVE_DAY: tuple[tuple[datetime, DemoPage, int], ...] = (
    (_at(5), FIRST, 0),
    (_at(7), SECOND, 1),
    (_at(8), SECOND, 2),
    (_at(10), THIRD, 3),
    (_at(12), FOURTH, 4),
    (_at(13), FOURTH, 5),
)


def run_demo(target: Path, base_url: str = "http://127.0.0.1:8080/",
             server: ReplayServer | None = None) -> int:
    """Replay LIVE_DAY into `target`/public (its feeds saying they are served at
    `base_url`) and print what each poll did. `server`: a running replay server to use
    (kept running afterwards, so the items' links still work); else one of its own."""
    shutil.rmtree(target, ignore_errors=True)
    output = Output(directory=target / "public", base_url=base_url)
    store = SQLiteStore(target / "state" / "feeds.sqlite3")
    fetcher = Fetcher()
    try:
        with nullcontext(server) if server is not None else replay_server() as replay:
            feed = FeedConfig(name="dw-ukraine-demo", url=replay.base_url + FIRST.path,
                              title="DW – Ukraine aktuell (Demo)")
            for when, page, noise in LIVE_DAY:
                replay.publish(page, noise)
                result = poll_feed(feed, store, fetcher, output, clock=fixed_clock(when))
                if not result.ok:
                    print(f"{when:%H:%M} poll failed: {result.error}", file=sys.stderr)
                    return 1
                print(f"{when:%H:%M} {page.title}: {result.new} new, {result.changed} changed, "
                      f"{result.removed} removed, files written: {len(result.written)}")
            write_site([feed], store, output)
            paths = feed_paths(output, feed.name)
    finally:
        fetcher.close()
        store.close()
    for path in paths.values():
        print(f"feed: {path}")
    print(f"index: {output.directory / 'index.html'}")
    return 0


def serve_demo(target: Path, host: str, port: int) -> int:
    """The demo, then its feeds and the replayed article served until Ctrl-C."""
    from feedgen_dw.serve import FeedHTTPServer

    public = target / "public"
    public.mkdir(parents=True, exist_ok=True)
    # bound first: a port in use fails before anything is replayed
    server = FeedHTTPServer(public.resolve(), host, port, lambda name: 300)
    with replay_server() as replay:
        status = run_demo(target, server.url, replay)
        if status:
            server.server_close()
            return status
        print(f"\nthe demo is served at {server.url} (the index; the feed in a reader: "
              f"{server.url}dw-ukraine-demo.atom), the article at {replay.base_url}"
              f"{quote(FOURTH.path)}; Ctrl-C stops", flush=True)
        # SIGTERM stops like Ctrl-C
        signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m feedgen_dw.demo [FOLDER] [--host H] [--port P] [--no-serve]`"""
    from feedgen_dw.cli import port_number
    from feedgen_dw.errors import FeedgenDwError

    parser = argparse.ArgumentParser(prog="python -m feedgen_dw.demo",
                                     description="replay a live day offline and serve it")
    parser.add_argument("folder", nargs="?", type=Path, default=Path("demo"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=port_number, default=8080)
    parser.add_argument("--no-serve", action="store_true",
                        help="only write the files (then: feedgen-dw serve --dir FOLDER/public)")
    args = parser.parse_args(argv)
    if args.no_serve:
        status = run_demo(args.folder)
        print(f"to look at it: feedgen-dw serve --dir {args.folder / 'public'}")
        return status
    try:
        return serve_demo(args.folder, args.host, args.port)
    except FeedgenDwError as exc:
        print(f"feedgen-dw demo: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
