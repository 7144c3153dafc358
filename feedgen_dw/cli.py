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
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from feedgen_dw import __version__
from feedgen_dw.errors import ConfigError, FeedgenDwError, UsageError

if TYPE_CHECKING:
    from feedgen_dw.config import Config, FeedConfig

# Each command imports what it uses when it runs: `--help` and a config error import
# no HTTP client, no HTML library and no feed writer.

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


EPILOG = """exit status: 0 done (or another run holds the state), 1 a poll failed,
2 a bad config or option (one line on stderr says which), 130 interrupted.

To see it work offline first: `make demo`. Everything else: README.md."""


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size() finds it (shutil, with the
    compression modules it imports, cost a run several ms for this alone)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter (descriptions kept as written), sized without shutil."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         _columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (and exit 2), like every other error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {port} (0 to 65535)")
    return port


def _listen_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--host", default="127.0.0.1",
                     help="address to listen on (default: %(default)s, this machine only)")
    sub.add_argument("--port", type=port_number, default=8080, help="(default: %(default)s)")


CONFIG_HELP = "the config file (default: ./config.yaml)"


def _run_options(run: argparse.ArgumentParser) -> None:
    run.add_argument("--config", type=Path, default=Path("config.yaml"), help=CONFIG_HELP)
    run.add_argument("--feed", action="append", help="only this feed (repeatable)")
    run.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    run.add_argument("--now", type=_aware_time, help=argparse.SUPPRESS)  # replays and tests


def _daemon_options(daemon: argparse.ArgumentParser) -> None:
    daemon.add_argument("--config", type=Path, default=Path("config.yaml"), help=CONFIG_HELP)
    daemon.add_argument("--serve", action="store_true",
                        help="also serve output_dir over HTTP (--host, --port)")
    _listen_options(daemon)


def _serve_options(serve: argparse.ArgumentParser) -> None:
    source = serve.add_mutually_exclusive_group()
    source.add_argument("--config", type=Path, default=None,
                        help="serve this config's output_dir (default: ./config.yaml)")
    source.add_argument("--dir", type=Path, help="serve this folder instead, no config needed "
                        "(e.g. demo/public after `make demo`)")
    _listen_options(serve)


def _migrate_options(migrate: argparse.ArgumentParser) -> None:
    migrate.add_argument("--config", type=Path, default=Path("config.yaml"), help=CONFIG_HELP)
    migrate.add_argument("--to", required=True, metavar="postgresql://user@host/db",
                         help="the database the nodes will share (run it again: same result)")


def _inspect_options(inspect: argparse.ArgumentParser) -> None:
    inspect.add_argument("source", help="a URL or a saved HTML file")
    inspect.add_argument("--site", default="auto",
                         help="dw, liveblog, a shipped profile such as br24, or auto (default)")
    inspect.add_argument("--url", help="the page's URL, when SOURCE is a file")
    inspect.add_argument("--full", action="store_true", help="each entry's whole text")


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "run": ("poll each feed once and write its files (what cron runs)", _run_options),
    "daemon": ("poll every feed on its interval until stopped (SIGHUP re-reads the config)",
               _daemon_options),
    "serve": ("serve output_dir (or --dir) over HTTP until Ctrl-C", _serve_options),
    "migrate": ("copy the config's SQLite state into PostgreSQL", _migrate_options),
    "inspect": ("show what a page extracts to (no state touched)", _inspect_options),
}


def _parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser of the command line `argv`: only the command named in it gets its
    options (the others are names and help lines), a few ms less for every cron run."""
    # the top level's own options take no value, so the first command name is the command
    named = next((arg for arg in argv if arg in COMMANDS), None)
    parser = _Parser(prog="feedgen-dw", epilog=EPILOG,
                     description="One feed item per new section of a live article.")
    parser.add_argument("--version", action="version", version=f"feedgen-dw {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="debug logs and tracebacks; -vv adds the scheduler's own")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (text, options) in COMMANDS.items():
        if name != named:
            sub.add_parser(name, help=text)
            continue
        command = sub.add_parser(name, help=text, description=text, epilog=EPILOG)
        # SUPPRESS: `-v` before or after the command, and the second must not reset the first
        command.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                             help="debug logs and tracebacks; -vv adds the scheduler's own")
        options(command)
    return parser


def _say(line: str) -> None:
    """A line on stdout; a reader that went away (`run | head`) must not stop the polls."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _cmd_run(args: argparse.Namespace) -> int:
    from feedgen_dw.config import is_stopped, load_config

    config: Config = load_config(args.config)
    from feedgen_dw.fetch import Fetcher
    from feedgen_dw.lock import StateLock
    from feedgen_dw.poll import Output, feed_paths, fixed_clock, poll_feed, utc_now, write_site
    from feedgen_dw.store import open_store

    feeds = [config.feed(name) for name in args.feed] if args.feed else list(config.feeds)
    output = Output(config.output_dir, config.base_url, config.websub_hub)
    # a file's lock; PostgreSQL's nodes share the state
    lock = StateLock(config.database) if isinstance(config.database, Path) else None
    if lock is not None and not lock.acquire(config.settings.lock_timeout):
        print(f"feedgen-dw: another run or a daemon holds {lock.path}; nothing done",
              file=sys.stderr)
        return EXIT_OK
    store = open_store(config.database)
    fetcher = Fetcher()
    clock = fixed_clock(args.now) if args.now else utc_now
    failed = 0
    try:
        shared = None
        if lock is None:  # PostgreSQL: each poll claimed as a daemon's, none polls beside it
            from feedgen_dw.store.claims import CronClaims

            shared = CronClaims(config, store, clock)
        for feed in feeds:
            if not args.feed and is_stopped(feed, store.status(feed.name), clock()):
                if not args.quiet:
                    _say(f"{feed.name}: unchanged for stop_after; skipped "
                         f"(name it with --feed, or give it a new url, to poll it again)")
                continue
            polled = partial(poll_feed, feed, store, fetcher, output, clock)
            result = polled() if shared is None else shared.poll(feed, polled)
            if result is None:
                if not args.quiet:
                    _say(f"{feed.name}: a daemon is polling it; skipped")
                continue
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
        if lock is not None:
            lock.release()
    return EXIT_FAILED if failed else EXIT_OK


def _cmd_daemon(args: argparse.Namespace) -> int:
    from feedgen_dw.memory import limit_arenas
    from feedgen_dw.schedule import Daemon

    limit_arenas()  # before any worker thread allocates
    daemon = Daemon(args.config, serve=(args.host, args.port) if args.serve else None)
    return daemon.run()


def _cmd_serve(args: argparse.Namespace) -> int:
    from feedgen_dw.config import load_config
    from feedgen_dw.serve import FeedHTTPServer, feed_max_age
    from feedgen_dw.store import served_documents

    if args.dir is not None:
        root: Path = args.dir.resolve()
        if not root.is_dir():
            raise UsageError(f"{args.dir}: no such folder (in {Path.cwd()})")
        feeds: tuple[FeedConfig, ...] = ()
    else:
        config = load_config(args.config or Path("config.yaml"))
        root, feeds = config.output_dir, config.feeds
        root.mkdir(parents=True, exist_ok=True)
        documents = served_documents(config.database)  # PostgreSQL: any node's documents
    server = FeedHTTPServer(root, args.host, args.port, lambda name: feed_max_age(feeds, name),
                            documents=None if args.dir else documents)
    print(f"serving {root} at {server.url} (Ctrl-C stops)", flush=True)
    # SIGTERM ends the loop like Ctrl-C, but as a normal stop (exit 0)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a foreground server is meant to stop
    finally:
        server.server_close()
    return EXIT_OK


def _cmd_migrate(args: argparse.Namespace) -> int:
    from feedgen_dw.config import load_config
    from feedgen_dw.store import is_postgres_url, open_store
    from feedgen_dw.store.migrate import copy_state

    config = load_config(args.config)
    if not isinstance(config.database, Path):
        raise UsageError(f"{config.path}: database: is not a SQLite file; nothing to migrate")
    if not is_postgres_url(args.to):
        raise UsageError("--to: expected a postgresql:// or postgres:// URL")
    if not config.database.exists():
        raise UsageError(f"{config.database}: no such state file")
    source, target = open_store(config.database), open_store(args.to)
    try:
        counts = copy_state(source, target)
    finally:
        source.close()
        target.close()
    print(f"copied {config.database} to {target.name}: "
          + ", ".join(f"{n} {table}" for table, n in counts.items()))
    return EXIT_OK


def _cmd_inspect(args: argparse.Namespace) -> int:
    from feedgen_dw.config import builtin_profiles
    from feedgen_dw.extract.report import inspect_page
    from feedgen_dw.fetch import Fetcher

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
    inspect_page(text, url, args.site, builtin_profiles().get(args.site), args.full)
    return EXIT_OK


def _logging(command: str, verbosity: int) -> None:
    """Debug with -v; else warnings, and the daemon's INFO lines (a poll, a reload)."""
    logging.basicConfig(
        level=logging.DEBUG if verbosity else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if verbosity < 2:
        # APScheduler logs every job it runs (every few seconds): only with -vv
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if not verbosity:
        logging.getLogger("feedgen_dw").setLevel(logging.INFO)
        # urllib3's retry chatter would repeat a failed poll's line over several
        logging.getLogger("urllib3").setLevel(logging.ERROR)
        if command == "run":  # it prints one line per feed of its own
            logging.getLogger("feedgen_dw.poll").setLevel(logging.CRITICAL)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    args = _parser(argv).parse_args(argv)
    _logging(args.command, args.verbose)
    commands = {"run": _cmd_run, "daemon": _cmd_daemon, "serve": _cmd_serve,
                "inspect": _cmd_inspect, "migrate": _cmd_migrate}
    try:
        return commands[args.command](args)
    except (ConfigError, UsageError) as exc:
        if args.verbose:
            raise
        kind = "config error" if isinstance(exc, ConfigError) else "error"
        print(f"feedgen-dw: {kind}: {exc}", file=sys.stderr)
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
