from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser
import pytest

from feedgen_dw.replay import ReplayServer, replay_server

# ../shared/realpages beside the checkout; FEEDGEN_REALPAGES for a checkout elsewhere
REALPAGES = Path(os.environ.get(
    "FEEDGEN_REALPAGES", Path(__file__).resolve().parents[1].parent / "shared" / "realpages"))


@pytest.fixture(autouse=True)
def _logger_levels() -> Iterator[None]:
    """cli.main() sets logger levels for its command (the poll lines off for `run`): a test
    that calls it in this process must not change what later tests log."""
    names = ("feedgen_dw", "feedgen_dw.poll", "apscheduler", "urllib3")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with replay_server() as srv:
        yield srv


@pytest.fixture
def sanitized(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of every section or post sanitized from now on, in order."""
    from feedgen_dw.extract import html

    calls: list[str] = []
    real = html.sanitize_with_text

    def counting(*args: Any, **kwargs: Any) -> tuple[str, str]:
        result = real(*args, **kwargs)
        calls.append(result[1])
        return result

    monkeypatch.setattr(html, "sanitize_with_text", counting)
    return calls


def parse_feed(path: Path) -> feedparser.FeedParserDict:
    """Parse a written feed file and insist it is well-formed."""
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def realpage(relative: str) -> str:
    """Text of a saved publisher page, or skip when ../shared/realpages is absent."""
    path = REALPAGES / relative
    if not path.exists():
        pytest.skip(f"real page not available: {path}")
    return path.read_text(encoding="utf-8")


def write_config(tmp_path: Path, url: str, **feed: object) -> Path:
    lines = [
        "database: state/feeds.sqlite3",
        "output_dir: public",
        "base_url: http://127.0.0.1:8080/",
        "feeds:",
        "  live:",
        f"    url: {url}",
    ]
    lines += [f"    {key}: {value}" for key, value in feed.items()]
    path = tmp_path / "config.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
