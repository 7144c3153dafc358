"""Checks of single config values: types, numbers with bounds, URLs, regexes, selectors.

Every check raises ConfigError naming the key path; none echoes more than a short,
truncated rendering of a value (a config's value may be a huge or deeply shared object).
"""

from __future__ import annotations

import importlib.util
import math
import re
import reprlib
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from feedgen_dw.errors import ConfigError

T = TypeVar("T")

DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d)")
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SIZE_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?", re.I)
SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
MAX_PATTERN = 500  # characters of a regex or a CSS selector
MAX_REPEAT = 1000  # the largest {n} a regex may repeat
REPEAT_RE = re.compile(r"\{(\d+)(?:,(\d*))?\}")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60
_short.maxlist = _short.maxdict = _short.maxlevel = 3


def show(value: object) -> str:
    """A value for a message: words for nothing and empty, a short rendering otherwise."""
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping" if value else "an empty mapping"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if value == "":
        return "empty text"
    return _short.repr(value)


def typed(value: object, kind: type[T], where: str, what: str) -> T:
    """`value` if it is a `kind`, else a ConfigError saying `what` was expected."""
    # bool is an int subclass; 'max_items: yes' must not pass as 1
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: expected {what}, got {show(value)}")
    return value


def check_keys(data: Mapping[Any, Any], allowed: set[str], where: str) -> None:
    """Every key of `data` is one of `allowed`."""
    for key in data:
        if key not in allowed:
            hint = ", ".join(sorted(allowed))
            raise ConfigError(f"{where}{show(key).strip(chr(39))}: unknown key (allowed: {hint})")


def _words(seconds: float) -> str:
    for unit, size in (("d", DAY), ("h", HOUR), ("m", MINUTE)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def parse_duration(value: object, where: str, allow_zero: bool = False,
                   low: float | None = None, high: float = 365 * DAY) -> float:
    """'90s', '5m', '6h', '1d' (or a bare number of seconds) -> seconds, finite and
    within [low, high] (low: above 0, or 0 with allow_zero)."""
    if isinstance(value, bool) or value is None:
        seconds = math.nan
    elif isinstance(value, int | float):
        seconds = float(value)
    else:
        match = DURATION_RE.fullmatch(str(value).strip())
        seconds = (float(match.group(1)) * DURATION_UNITS[match.group(2)] if match
                   else math.nan)
    if not math.isfinite(seconds):
        raise ConfigError(f"{where}: expected a duration like 90s, 5m or 6h, got {show(value)}")
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise ConfigError(f"{where}: must be more than 0, got {show(value)}")
    if low is not None and seconds < low and not (seconds == 0 and allow_zero):
        raise ConfigError(f"{where}: must be at least {_words(low)}, got {show(value)}")
    if seconds > high:
        raise ConfigError(f"{where}: must be at most {_words(high)}, got {show(value)}")
    return seconds


def parse_size(value: object, where: str, low: int = 1024, high: int = 1024**3) -> int:
    """10485760, '10MB', '500KB' -> bytes, within [low, high]."""
    match = None if isinstance(value, bool) else SIZE_RE.fullmatch(str(value).strip())
    size = float(match.group(1)) * SIZE_UNITS[(match.group(2) or "B").upper()] if match else 0
    if not match or not math.isfinite(size) or size <= 0:
        raise ConfigError(f"{where}: expected a size like 10MB or 500KB, got {show(value)}")
    if not low <= size <= high:
        raise ConfigError(f"{where}: expected {low // 1024}KB to {high // 1024**3}GB, "
                          f"got {show(value)}")
    return int(size)


def int_between(value: object, where: str, low: int, high: int) -> int:
    """An integer within [low, high]."""
    number = typed(value, int, where, "an integer")
    if not low <= number <= high:
        raise ConfigError(f"{where}: expected {low} to {high}, got {number}")
    return number


def check_url(value: object, where: str) -> str:
    """An absolute http(s) URL, or a ConfigError naming `where`."""
    url = typed(value, str, where, "an http(s) URL").strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises ValueError for a port out of range
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # 'http://[::1/x': a bracket left open
        ok = False
    if not ok or any(c.isspace() or ord(c) < 32 for c in url):
        raise ConfigError(f"{where}: expected an http(s) URL, got {show(value)}")
    return url


def check_database_url(url: str) -> str:
    """A postgresql:// URL that names a database; the message never shows the URL (it
    may hold a password)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises ValueError for a port out of range
        ok = bool(parts.path.strip("/")) and not any(c.isspace() or ord(c) < 32 for c in url)
    except ValueError:
        ok = False
    if not ok:
        raise ConfigError("database: expected postgresql://user@host[:port]/database "
                          "(this URL is malformed or names no database)")
    # psycopg is an extra: one machine on SQLite does not install it
    if importlib.util.find_spec("psycopg") is None or importlib.util.find_spec(
            "psycopg_pool") is None:
        raise ConfigError("database: a postgresql:// URL needs psycopg; install it with "
                          "pip install 'feedgen-dw[postgres]' (or .venv/bin/pip install -e "
                          "'.[postgres]' in a checkout)")
    return url


def is_loopback(url: str) -> bool:
    """The URL names this machine (a test or a local replay, not a real site)."""
    host = urlsplit(url).hostname or ""
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def regex(value: object, where: str) -> str:
    """A regular expression that compiles, of bounded length and repetition."""
    text = typed(value, str, where, "a regular expression")
    if len(text) > MAX_PATTERN:
        raise ConfigError(f"{where}: longer than {MAX_PATTERN} characters")
    for low, high in REPEAT_RE.findall(text):
        if max(int(low), int(high or 0)) > MAX_REPEAT:
            raise ConfigError(f"{where}: repeats more than {MAX_REPEAT} times")
    try:
        re.compile(text)
    except (re.error, OverflowError, RecursionError, ValueError, MemoryError) as exc:
        raise ConfigError(f"{where}: not a regular expression ({exc})") from None
    return text


def css(value: object, where: str) -> str:
    """A CSS selector parsel accepts, of bounded length."""
    from parsel import Selector

    text = typed(value, str, where, "a CSS selector")
    if len(text) > MAX_PATTERN:
        raise ConfigError(f"{where}: longer than {MAX_PATTERN} characters")
    try:
        Selector(text="<html></html>", type="html").css(text)
    except Exception as exc:  # cssselect raises several types for bad selectors
        raise ConfigError(f"{where}: not a valid CSS selector ({exc})") from None
    return text
