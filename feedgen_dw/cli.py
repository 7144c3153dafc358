"""The `feedgen-dw` command: a thin layer that wires config, store, fetcher and output.

Every expected failure becomes one line on stderr (no traceback unless -v).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from feedgen_dw import __version__
from feedgen_dw.config import Config, builtin_profiles, load_config
from feedgen_dw.diff import first_key
from feedgen_dw.errors import ConfigError, FeedgenDwError
from feedgen_dw.extract import extract_page
from feedgen_dw.fetch import Fetcher
from feedgen_dw.lock import StateLock
from feedgen_dw.poll import Output, feed_paths, fixed_clock, poll_feed, utc_now, write_site
from feedgen_dw.schedule import is_stopped
from feedgen_dw.store import SQLiteStore

log = logging.getLogger("feedgen_dw")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _aware_time(text: str) -> datetime:
    """`--now`: pretend it is this time (ISO 8601 with a zone), for replays of saved pages."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"time needs a zone (e.g. +00:00): {text!r}")
    return value.astimezone(UTC)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="feedgen-dw", description="One feed item per new section of a live article."
    )
    parser.add_argument("--version", action="version", version=f"feedgen-dw {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: `-v` before or after the command, and the second one must not reset the first
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="debug logs, tracebacks")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logs, tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", parents=[common], help="poll each feed once and write its files")
    run.add_argument("--config", type=Path, default=Path("config.yaml"))
    run.add_argument("--feed", action="append", help="only this feed (repeatable)")
    run.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    run.add_argument("--now", type=_aware_time, help=argparse.SUPPRESS)  # replays and tests

    daemon = sub.add_parser("daemon", parents=[common],
                            help="poll every feed on its interval until stopped")
    daemon.add_argument("--config", type=Path, default=Path("config.yaml"))
    daemon.add_argument("--serve", action="store_true", help="also serve output_dir over HTTP")
    daemon.add_argument("--host", default="127.0.0.1", help="with --serve (default 127.0.0.1)")
    daemon.add_argument("--port", type=int, default=8080, help="with --serve (default 8080)")

    serve = sub.add_parser("serve", parents=[common], help="serve output_dir over HTTP")
    serve.add_argument("--config", type=Path, default=Path("config.yaml"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)

    inspect = sub.add_parser(
        "inspect", parents=[common], help="show what a page extracts to (no state touched)"
    )
    inspect.add_argument("source", help="a URL or a saved HTML file")
    inspect.add_argument("--site", default="auto",
                         help="dw, liveblog, a shipped profile such as br24, or auto (default)")
    inspect.add_argument("--url", help="the page's URL, when SOURCE is a file")
    return parser


def _say(line: str) -> None:
    """A line on stdout; a reader that went away (`run | head`) must not stop the polls."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _cmd_run(args: argparse.Namespace) -> int:
    config: Config = load_config(args.config)
    feeds = [config.feed(name) for name in args.feed] if args.feed else list(config.feeds)
    output = Output(config.output_dir, config.base_url, config.websub_hub)
    lock = StateLock(config.database)
    if not lock.acquire(config.settings.lock_timeout):
        print(f"feedgen-dw: another run or a daemon holds {lock.path}; nothing done",
              file=sys.stderr)
        return EXIT_OK
    store = SQLiteStore(config.database)
    fetcher = Fetcher()
    clock = fixed_clock(args.now) if args.now else utc_now
    failed = 0
    try:
        for feed in feeds:
            if not args.feed and is_stopped(feed, store.status(feed.name), clock()):
                if not args.quiet:
                    _say(f"{feed.name}: unchanged for stop_after; skipped "
                         f"(name it with --feed, or give it a new url, to poll it again)")
                continue
            result = poll_feed(feed, store, fetcher, output, clock)
            if not result.ok:
                failed += 1
                print(f"feedgen-dw: {feed.name}: {result.error}", file=sys.stderr)
            elif not args.quiet:
                paths = " ".join(str(p) for p in feed_paths(output, feed.name).values())
                what = ("not modified" if result.not_modified else
                        f"{result.new} new, {result.changed} changed, {result.removed} removed")
                _say(f"{feed.name}: {what} -> {paths}")
        try:
            write_site(config.feeds, store, output)
        except FeedgenDwError as exc:
            if not failed:  # after a failed poll, its own line already says what is wrong
                print(f"feedgen-dw: error: {exc}", file=sys.stderr)
            failed += 1
    finally:
        fetcher.close()
        store.close()
        lock.release()
    return EXIT_FAILED if failed else EXIT_OK


def _cmd_daemon(args: argparse.Namespace) -> int:
    from feedgen_dw.schedule import Daemon

    logging.getLogger("feedgen_dw").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    daemon = Daemon(args.config, serve=(args.host, args.port) if args.serve else None)
    return daemon.run()


def _cmd_serve(args: argparse.Namespace) -> int:
    from feedgen_dw.serve import FeedHTTPServer, feed_max_age

    config = load_config(args.config)
    config.output_dir.mkdir(parents=True, exist_ok=True)
    try:
        server = FeedHTTPServer(config.output_dir, args.host, args.port,
                                lambda name: feed_max_age(config.feeds, name))
    except OSError as exc:
        raise FeedgenDwError(f"cannot listen on {args.host}:{args.port} ({exc.strerror})") from None
    print(f"serving {config.output_dir} at {server.url}", flush=True)
    # SIGTERM ends the loop like Ctrl-C, but as a normal stop (exit 0)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return EXIT_OK


def _cmd_inspect(args: argparse.Namespace) -> int:
    source: str = args.source
    if source.startswith(("http://", "https://")):
        fetcher = Fetcher()
        try:
            page = fetcher.get(source)
        finally:
            fetcher.close()
        text, url = page.text, page.url
    else:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise FeedgenDwError(f"{path}: cannot read ({exc.strerror or exc})") from None
        url = args.url or path.resolve().as_uri()
    profiles = builtin_profiles()
    article = extract_page(text, url, args.site, profiles.get(args.site))
    print(f"profile:  {article.profile} (from {article.source}; {article.reason})")
    print(f"article:  {article.article_id}  {article.url}")
    print(f"title:    {article.title}")
    print(f"feed:     {article.feed_title}  language={article.language or '?'}")
    if article.published or article.modified:
        print(f"dates:    published={article.published}  modified={article.modified}")
    print(f"sections: {len(article.sections)}")
    for section in article.sections:
        words = " ".join(section.text.split()[:12])
        lead = " (lead)" if section.is_lead else ""
        when = f"  [{section.published:%Y-%m-%d %H:%M %Z}]" if section.published else ""
        print(f"  {first_key(section)}  {section.headline}{lead}{when}")
        print(f"      {words}{' …' if len(section.text.split()) > 12 else ''}")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # poll failures are printed once as a line of their own; urllib3's retry chatter
        # would repeat them over several lines
        logging.getLogger("feedgen_dw.poll").setLevel(logging.CRITICAL)
        logging.getLogger("urllib3").setLevel(logging.ERROR)
    commands = {"run": _cmd_run, "daemon": _cmd_daemon, "serve": _cmd_serve,
                "inspect": _cmd_inspect}
    try:
        return commands[args.command](args)
    except ConfigError as exc:
        if args.verbose:
            raise
        print(f"feedgen-dw: config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except FeedgenDwError as exc:
        if args.verbose:
            raise
        print(f"feedgen-dw: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `feedgen-dw inspect ... | head`
        return EXIT_OK
