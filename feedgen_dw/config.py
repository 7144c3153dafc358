"""Load config.yaml into typed objects; every error names its key path."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar

from feedgen_dw import DEFAULT_USER_AGENT
from feedgen_dw.configcheck import (
    DAY,
    MINUTE,
    check_database_url,
    check_keys,
    check_url,
    css,
    int_between,
    is_loopback,
    parse_duration,
    parse_size,
    regex,
    show,
    typed,
)
from feedgen_dw.errors import ConfigError
from feedgen_dw.model import EditPolicy, RemovePolicy
from feedgen_dw.profile import Profile
from feedgen_dw.records import field, record, replace
from feedgen_dw.yamlfile import load_yaml_file, parse_yaml, read_text

if TYPE_CHECKING:
    from datetime import datetime

    from feedgen_dw.model import FeedStatus

FEED_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")  # fullmatch: no trailing newline
SITES = ("auto", "dw", "liveblog")
DEFAULT_SITE = "auto"  # DW pages are recognised as DW; other pages by their markup
# Bounds of the numbers (seconds unless said). A real site is never polled more often
# than every 10 s; a page on this machine (tests, local replays) down to every second.
MIN_INTERVAL, MIN_LOCAL_INTERVAL, MAX_INTERVAL = 10.0, 1.0, 7 * DAY
# the files the tool writes into output_dir besides <name>.atom/.rss/.json
SITE_FILES = ("index.html", "feed.xsl", "feeds.opml")
# Keys allowed at the top and, to override them, in a feed.
SETTING_KEYS = {
    "timeout", "user_agent", "max_bytes", "jitter", "quiet_after", "quiet_interval",
    "stop_after", "lock_timeout", "workers", "per_host", "lease", "author",
}
TOP_KEYS = {"database", "output_dir", "base_url", "feeds", "websub_hub", "profiles"} | SETTING_KEYS
PROFILE_KEYS = {"entries", "split", "title", "title_strip", "time", "time_format", "day",
                "timezone", "drop"}
BUILTIN_PROFILES = Path(__file__).parent / "profiles"
FEED_KEYS = {
    "url", "follow", "match", "site", "title", "interval", "max_items", "on_edit", "on_remove",
    "source",
} | SETTING_KEYS
SOURCES = ("auto", "api", "page")  # where a DW feed reads an article (source.py)

T = TypeVar("T")

# (key, least, most, 0 allowed) of the duration settings
DURATION_BOUNDS = (
    ("timeout", 1.0, 10 * MINUTE, False),
    ("quiet_after", MINUTE, 365 * DAY, False),
    ("quiet_interval", MIN_LOCAL_INTERVAL, MAX_INTERVAL, False),
    ("stop_after", MINUTE, 365 * DAY, False),
    ("jitter", 0.0, DAY, True),
    ("lock_timeout", 0.0, DAY, True),
    ("lease", 1.0, DAY, False),
)


@record(frozen=True)
class Settings:
    """How politely to poll; set at the top of the config, overridable per feed."""

    timeout: float = 20.0  # seconds, connect and read
    user_agent: str = DEFAULT_USER_AGENT
    max_bytes: int = 10 * 1024 * 1024
    jitter: float | None = None  # seconds; None: 10% of the feed's interval
    quiet_after: float = 6 * 3600  # unchanged this long: poll at quiet_interval
    quiet_interval: float = 3600
    stop_after: float = 48 * 3600  # unchanged this long: stop polling
    lock_timeout: float = 0  # how long `run` waits for another run's lock
    workers: int = 4  # concurrent polls in the daemon
    per_host: int = 4  # concurrent polls of one host across the nodes of one PostgreSQL
    lease: float = 120.0  # seconds a node's claim on a feed lasts unless renewed
    author: str | None = None  # the feeds' author; None: the outlet's host


@record(frozen=True)
class FeedConfig:
    """One feed of the config."""

    name: str
    url: str
    site: str = DEFAULT_SITE
    title: str | None = None
    interval: float = 300.0  # seconds
    max_items: int = 100
    on_edit: EditPolicy = EditPolicy.ANNOUNCE
    on_remove: RemovePolicy = RemovePolicy.KEEP
    settings: Settings = field(default_factory=Settings)
    follow: bool = False  # `url` is an index (topic page or feed) of the articles to poll
    match: str | None = None  # regex on the index's titles
    profile: Profile | None = None  # when `site` names a user profile
    # DW: auto, its JSON API with the page as the fallback; api or page, only that one;
    # None (not given): auto on dw.com, the page on other hosts (source.py)
    source: str | None = None

    @property
    def jitter(self) -> float:
        """Random delay added to each scheduled poll, in seconds."""
        if self.settings.jitter is None:
            return self.interval * 0.1
        return self.settings.jitter



def is_stopped(feed: FeedConfig, status: FeedStatus, now: datetime) -> bool:
    """Unchanged for stop_after, and the config still names the same URL. Here, not in
    schedule.py, so that `run` asks it without importing the daemon's modules."""
    if status.last_change is None or status.http.config_url != feed.url:
        return False
    return (now - status.last_change).total_seconds() >= feed.settings.stop_after


@record(frozen=True)
class Config:
    """The whole config, paths resolved against the config file's folder."""

    path: Path
    database: Path | str  # a SQLite file, or a postgresql:// URL
    output_dir: Path
    base_url: str
    feeds: tuple[FeedConfig, ...]
    settings: Settings = field(default_factory=Settings)
    websub_hub: str | None = None

    @cached_property
    def by_name(self) -> dict[str, FeedConfig]:
        """The feeds by name: a daemon looks one up for every poll, and a search of
        10,000 feeds 10,000 times a minute took a fifth of its CPU."""
        return {feed.name: feed for feed in self.feeds}

    def feed(self, name: str) -> FeedConfig:
        """The feed called `name`, or a ConfigError naming it."""
        if (feed := self.by_name.get(name)) is not None:
            return feed
        known = ", ".join(f.name for f in self.feeds) or "none"
        raise ConfigError(f"{self.path}: no feed named {name!r} (known: {known})")


def _settings(data: Mapping[str, Any], base: Settings, where: str) -> Settings:
    """`base` with the setting keys present in `data` applied."""
    changes: dict[str, Any] = {}
    for key, low, high, zero in DURATION_BOUNDS:
        if key in data:
            changes[key] = parse_duration(data[key], f"{where}{key}", zero, low, high)
    if "max_bytes" in data:
        changes["max_bytes"] = parse_size(data["max_bytes"], f"{where}max_bytes")
    if "user_agent" in data:
        agent = typed(data["user_agent"], str, f"{where}user_agent", "text").strip()
        if not agent or not agent.isprintable() or len(agent) > 500:
            raise ConfigError(f"{where}user_agent: expected one line of text, got {show(agent)}")
        changes["user_agent"] = agent
    if "author" in data:
        author = typed(data["author"], str, f"{where}author", "text").strip()
        if not author.isprintable() or len(author) > 500:
            raise ConfigError(f"{where}author: expected one line of text, got {show(author)}")
        changes["author"] = author or None
    if "workers" in data:
        changes["workers"] = int_between(data["workers"], f"{where}workers", 1, 64)
    if "per_host" in data:
        changes["per_host"] = int_between(data["per_host"], f"{where}per_host", 1, 64)
    return replace(base, **changes)


def _optional(data: Mapping[str, Any], key: str, default: T, conv: Callable[[Any], T]) -> T:
    return conv(data[key]) if key in data and data[key] is not None else default


def _good_name(name: object) -> TypeGuard[str]:
    return isinstance(name, str) and bool(FEED_NAME_RE.fullmatch(name)) and ".." not in name


def _profile(name: object, data: object, where: str) -> Profile:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not _good_name(name):
        raise ConfigError(f"{where}: a profile name must match [a-z0-9][a-z0-9._-]* "
                          "without '..'")
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping with at least 'entries', "
                          f"got {show(data)}")
    check_keys(data, PROFILE_KEYS, f"{where}.")
    if "entries" not in data:
        raise ConfigError(f"{where}.entries: missing (a CSS selector for the entries)")
    split = data.get("split", "element")
    if split not in ("element", "heading"):
        raise ConfigError(f"{where}.split: expected element or heading, got {split!r}")
    zone = typed(data.get("timezone", "Europe/Berlin"), str, f"{where}.timezone", "a zone")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}.timezone: unknown time zone {zone!r}") from None
    drop = data.get("drop", [])
    if not isinstance(drop, list):
        raise ConfigError(f"{where}.drop: expected a list of CSS selectors")
    opt_css = {k: css(data[k], f"{where}.{k}") for k in ("title", "time") if k in data}
    opt_re = {k: regex(data[k], f"{where}.{k}") for k in ("title_strip", "time_format", "day")
              if k in data}
    return Profile(
        name=name, entries=css(data["entries"], f"{where}.entries"), split=split, timezone=zone,
        drop=tuple(css(d, f"{where}.drop[{n}]") for n, d in enumerate(drop)),
        **opt_css, **opt_re,
    )


def builtin_profiles() -> dict[str, Profile]:
    """The profiles shipped in feedgen_dw/profiles/*.yaml."""
    profiles: dict[str, Profile] = {}
    for path in sorted(BUILTIN_PROFILES.glob("*.yaml")):
        data = parse_yaml(path.read_text(encoding="utf-8"))
        for name, spec in (data or {}).items():
            profiles[name] = _profile(name, spec, f"{path.name}: {name}")
    return profiles


def _feed(name: object, data: object, defaults: Settings,
          profiles: Mapping[str, Profile] | None = None) -> FeedConfig:
    where = f"feeds.{show(name).strip(chr(39))}"
    if not _good_name(name):
        raise ConfigError(f"{where}: a feed name must match [a-z0-9][a-z0-9._-]* without "
                          "'..' (it becomes a file name)")
    if data is None:
        raise ConfigError(f"{where}: nothing under it; its keys (at least url:) go on the "
                          "lines below it, indented further than the name")
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping with at least 'url', got {show(data)}")
    check_keys(data, FEED_KEYS, f"{where}.")
    if "url" not in data and "follow" not in data:
        raise ConfigError(f"{where}.url: missing (the article to poll, or follow: an index)")
    if "url" in data and "follow" in data:
        raise ConfigError(f"{where}: give either url (one article) or follow (an index)")
    if "match" in data and "follow" not in data:
        raise ConfigError(f"{where}.match: only goes with follow")
    match = _optional(data, "match", None, lambda v: regex(v, f"{where}.match"))
    site = _optional(data, "site", DEFAULT_SITE,
                     lambda v: typed(v, str, f"{where}.site", "a profile name"))
    profiles = profiles or {}
    if site not in SITES and site not in profiles:
        choices = ", ".join([*SITES, *sorted(profiles)])
        raise ConfigError(f"{where}.site: unknown profile {show(site)} (known: {choices})")
    max_items = _optional(data, "max_items", 100,
                          lambda v: int_between(v, f"{where}.max_items", 1, 100_000))
    url = check_url(data["url"], f"{where}.url") if "url" in data else check_url(
        data["follow"], f"{where}.follow")
    least = MIN_LOCAL_INTERVAL if is_loopback(url) else MIN_INTERVAL
    on_edit = data.get("on_edit", "announce")
    try:
        policy = EditPolicy(on_edit)
    except (ValueError, TypeError):
        choices = ", ".join(p.value for p in EditPolicy)
        raise ConfigError(
            f"{where}.on_edit: expected one of {choices}, got {show(on_edit)}") from None
    on_remove = data.get("on_remove", "keep")
    try:
        removal = RemovePolicy(on_remove)
    except (ValueError, TypeError):
        choices = ", ".join(RemovePolicy)
        raise ConfigError(
            f"{where}.on_remove: expected one of {choices}, got {show(on_remove)}") from None
    source = data.get("source")
    if source is not None and source not in SOURCES:
        raise ConfigError(f"{where}.source: expected one of {', '.join(SOURCES)}, got "
                          f"{show(source)}")
    if source == "api" and site not in ("auto", "dw"):
        raise ConfigError(f"{where}.source: api is DW's; it needs site: dw or auto, not "
                          f"{show(site)}")
    return FeedConfig(
        name=name,
        url=url,
        site=site,
        source=source,
        title=_optional(data, "title", None, lambda v: typed(v, str, f"{where}.title", "text")),
        interval=_optional(data, "interval", 300.0, lambda v: parse_duration(
            v, f"{where}.interval", low=least, high=MAX_INTERVAL)),
        max_items=max_items,
        on_edit=policy,
        on_remove=removal,
        settings=_settings(data, defaults, f"{where}."),
        follow="follow" in data,
        match=match,
        profile=profiles.get(site) if site not in SITES else None,
    )


def _paths(data: Mapping[str, Any], base: Path) -> tuple[Path | str, Path]:
    """database (a file, resolved, or a PostgreSQL URL) and output_dir, resolved; the
    database may not lie among the feeds."""
    given = typed(data.get("database", "state/feeds.sqlite3"), str, "database",
                  "a path or a postgresql:// URL")
    output_dir = (base / typed(data.get("output_dir", "public"), str, "output_dir",
                               "a path")).resolve()
    if given.startswith(("postgresql://", "postgres://")):
        return check_database_url(given), output_dir
    database = (base / given).resolve()
    if database == output_dir or output_dir in database.parents:
        raise ConfigError(f"database: {database} is inside output_dir {output_dir}; it would "
                          "be published with the feeds or written over by them")
    return database, output_dir


def parse_config(data: object, path: Path) -> Config:
    """Validate an already-loaded YAML document."""
    if data is None:
        raise ConfigError("the file is empty; a config needs at least feeds: "
                          "(see config.yaml and the README)")
    if not isinstance(data, Mapping):
        raise ConfigError(f"expected a mapping with at least feeds: (database, output_dir "
                          f"and base_url have defaults), got {show(data)}")
    check_keys(data, TOP_KEYS, "")
    database, output_dir = _paths(data, path.parent)
    base_url = check_url(data.get("base_url", "http://127.0.0.1:8080/"), "base_url")
    if not base_url.endswith("/"):
        base_url += "/"
    feeds_data = data.get("feeds")
    if not isinstance(feeds_data, Mapping) or not feeds_data:
        raise ConfigError("feeds: expected a mapping of feed names to feeds, with at least "
                          f"one, got {show(feeds_data)}")
    settings = _settings(data, Settings(), "")
    user_profiles = data.get("profiles") or {}
    if not isinstance(user_profiles, Mapping):
        raise ConfigError("profiles: expected a mapping of profile names to profiles")
    # the shipped profiles (YAML files, CSS checked by parsel) only when a feed names a
    # site that is neither built in nor the user's: most configs never pay for them
    sites = [f.get("site", DEFAULT_SITE) if isinstance(f, Mapping) else None
             for f in feeds_data.values()]
    shipped = any(not isinstance(s, str) or (s not in SITES and s not in user_profiles)
                  for s in sites)
    profiles = builtin_profiles() if shipped else {}
    for pname, spec in user_profiles.items():
        if pname in SITES:
            raise ConfigError(f"profiles.{pname}: the name of a built-in site")
        profiles[pname] = _profile(pname, spec, f"profiles.{show(pname).strip(chr(39))}")
    feeds = tuple(_feed(name, feed, settings, profiles) for name, feed in feeds_data.items())
    hub = data.get("websub_hub")
    return Config(
        path=path,
        database=database,
        output_dir=output_dir,
        base_url=base_url,
        feeds=feeds,
        settings=settings,
        websub_hub=check_url(hub, "websub_hub") if hub is not None else None,
    )


def load_config(path: Path) -> Config:
    """Read and validate the YAML file at `path`. Whatever the file holds, the only
    exception is a one-line ConfigError saying what and where: a daemon reloading a
    broken config keeps the running one."""
    text = read_text(path)
    try:
        return parse_config(load_yaml_file(path, text), path)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply") from None
    except Exception as exc:  # a value no check foresaw: still one line, never a traceback
        raise ConfigError(f"{path}: cannot use this config "
                          f"({type(exc).__name__}: {show(str(exc))})") from None
