"""Load config.yaml into typed objects; every error names its key path."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import yaml

from feedgen_dw import DEFAULT_USER_AGENT
from feedgen_dw.errors import ConfigError
from feedgen_dw.extract.custom import Profile
from feedgen_dw.model import EditPolicy, RemovePolicy

FEED_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)$")
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SITES = ("dw", "liveblog", "auto")

SIZE_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?$", re.I)
SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
# Keys allowed at the top and, to override them, in a feed.
SETTING_KEYS = {
    "timeout", "user_agent", "max_bytes", "jitter", "quiet_after", "quiet_interval",
    "stop_after", "lock_timeout", "workers", "author",
}
TOP_KEYS = {"database", "output_dir", "base_url", "feeds", "websub_hub", "profiles"} | SETTING_KEYS
PROFILE_KEYS = {"entries", "split", "title", "title_strip", "time", "time_format", "day",
                "timezone", "drop"}
BUILTIN_PROFILES = Path(__file__).parent / "profiles"
FEED_KEYS = {
    "url", "follow", "match", "site", "title", "interval", "max_items", "on_edit", "on_remove",
} | SETTING_KEYS

T = TypeVar("T")


@dataclass(frozen=True)
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
    author: str | None = None  # the feeds' author; None: the outlet's host


@dataclass(frozen=True)
class FeedConfig:
    """One feed of the config."""

    name: str
    url: str
    site: str = "dw"
    title: str | None = None
    interval: float = 300.0  # seconds
    max_items: int = 100
    on_edit: EditPolicy = EditPolicy.ANNOUNCE
    on_remove: RemovePolicy = RemovePolicy.KEEP
    settings: Settings = field(default_factory=Settings)
    follow: bool = False  # `url` is an index (topic page or feed) of the articles to poll
    match: str | None = None  # regex on the index's titles
    profile: Profile | None = None  # when `site` names a user profile

    @property
    def jitter(self) -> float:
        """Random delay added to each scheduled poll, in seconds."""
        if self.settings.jitter is None:
            return self.interval * 0.1
        return self.settings.jitter


@dataclass(frozen=True)
class Config:
    """The whole config, paths resolved against the config file's folder."""

    path: Path
    database: Path
    output_dir: Path
    base_url: str
    feeds: tuple[FeedConfig, ...]
    settings: Settings = field(default_factory=Settings)
    websub_hub: str | None = None

    def feed(self, name: str) -> FeedConfig:
        """The feed called `name`, or a ConfigError naming it."""
        for feed in self.feeds:
            if feed.name == name:
                return feed
        known = ", ".join(f.name for f in self.feeds) or "none"
        raise ConfigError(f"{self.path}: no feed named {name!r} (known: {known})")


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; a duplicate feed name must be an error."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            line = key_node.start_mark.line + 1
            raise ConfigError(f"duplicate key {key!r} (line {line})")
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def parse_duration(value: object, where: str, allow_zero: bool = False) -> float:
    """'90s', '5m', '6h', '1d' (or a bare number of seconds) -> seconds."""
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a duration like 90s, 5m or 6h, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = DURATION_RE.match(str(value).strip())
        if not match:
            raise ConfigError(f"{where}: expected a duration like 90s, 5m or 6h, got {value!r}")
        seconds = float(match.group(1)) * DURATION_UNITS[match.group(2)]
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise ConfigError(f"{where}: must be more than 0, got {value!r}")
    return seconds


def parse_size(value: object, where: str) -> int:
    """10485760, '10MB', '500KB' -> bytes."""
    match = None if isinstance(value, bool) else SIZE_RE.match(str(value).strip())
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"{where}: expected a size like 10MB or 500KB, got {value!r}")
    return int(float(match.group(1)) * SIZE_UNITS[(match.group(2) or "B").upper()])


def _settings(data: Mapping[str, Any], base: Settings, where: str) -> Settings:
    """`base` with the setting keys present in `data` applied."""
    changes: dict[str, Any] = {}
    for key in ("timeout", "quiet_after", "quiet_interval", "stop_after"):
        if key in data:
            changes[key] = parse_duration(data[key], f"{where}{key}")
    for key in ("jitter", "lock_timeout"):
        if key in data:
            changes[key] = parse_duration(data[key], f"{where}{key}", allow_zero=True)
    if "max_bytes" in data:
        changes["max_bytes"] = parse_size(data["max_bytes"], f"{where}max_bytes")
    if "user_agent" in data:
        agent = _typed(data["user_agent"], str, f"{where}user_agent", "text").strip()
        if not agent or "\n" in agent:
            raise ConfigError(f"{where}user_agent: expected one line of text, got {agent!r}")
        changes["user_agent"] = agent
    if "author" in data:
        changes["author"] = _typed(data["author"], str, f"{where}author", "text").strip() or None
    if "workers" in data:
        workers = _typed(data["workers"], int, f"{where}workers", "an integer")
        if not 1 <= workers <= 64:
            raise ConfigError(f"{where}workers: expected 1 to 64, got {workers}")
        changes["workers"] = workers
    return replace(base, **changes)


def _check_keys(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in data:
        if key not in allowed:
            hint = ", ".join(sorted(allowed))
            raise ConfigError(f"{where}{key}: unknown key (allowed: {hint})")


def _typed(value: object, kind: type[T], where: str, what: str) -> T:
    # bool is an int subclass; 'max_items: yes' must not pass as 1
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: expected {what}, got {value!r}")
    return value


def check_url(value: object, where: str) -> str:
    """An absolute http(s) URL, or a ConfigError naming `where`."""
    url = _typed(value, str, where, "an http(s) URL").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{where}: expected an http(s) URL, got {value!r}")
    return url


def _optional(data: Mapping[str, Any], key: str, default: T, conv: Callable[[Any], T]) -> T:
    return conv(data[key]) if key in data and data[key] is not None else default


def _css(value: object, where: str) -> str:
    from parsel import Selector

    text = _typed(value, str, where, "a CSS selector")
    try:
        Selector(text="<html></html>", type="html").css(text)
    except Exception as exc:  # cssselect raises several types for bad selectors
        raise ConfigError(f"{where}: not a valid CSS selector ({exc})") from None
    return text


def _regex(value: object, where: str) -> str:
    text = _typed(value, str, where, "a regular expression")
    try:
        re.compile(text)
    except re.error as exc:
        raise ConfigError(f"{where}: not a regular expression ({exc})") from None
    return text


def _profile(name: object, data: object, where: str) -> Profile:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(name, str) or not FEED_NAME_RE.match(name):
        raise ConfigError(f"{where}: a profile name must match [a-z0-9][a-z0-9._-]*")
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping with at least 'entries'")
    _check_keys(data, PROFILE_KEYS, f"{where}.")
    if "entries" not in data:
        raise ConfigError(f"{where}.entries: missing (a CSS selector for the entries)")
    split = data.get("split", "element")
    if split not in ("element", "heading"):
        raise ConfigError(f"{where}.split: expected element or heading, got {split!r}")
    zone = _typed(data.get("timezone", "Europe/Berlin"), str, f"{where}.timezone", "a zone")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}.timezone: unknown time zone {zone!r}") from None
    drop = data.get("drop", [])
    if not isinstance(drop, list):
        raise ConfigError(f"{where}.drop: expected a list of CSS selectors")
    opt_css = {k: _css(data[k], f"{where}.{k}") for k in ("title", "time") if k in data}
    opt_re = {k: _regex(data[k], f"{where}.{k}") for k in ("title_strip", "time_format", "day")
              if k in data}
    return Profile(
        name=name, entries=_css(data["entries"], f"{where}.entries"), split=split, timezone=zone,
        drop=tuple(_css(d, f"{where}.drop[{n}]") for n, d in enumerate(drop)),
        **opt_css, **opt_re,
    )


def builtin_profiles() -> dict[str, Profile]:
    """The profiles shipped in feedgen_dw/profiles/*.yaml."""
    profiles: dict[str, Profile] = {}
    for path in sorted(BUILTIN_PROFILES.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
        for name, spec in (data or {}).items():
            profiles[name] = _profile(name, spec, f"{path.name}: {name}")
    return profiles


def _feed(name: object, data: object, defaults: Settings,
          profiles: Mapping[str, Profile] | None = None) -> FeedConfig:
    where = f"feeds.{name}"
    if not isinstance(name, str) or not FEED_NAME_RE.match(name):
        raise ConfigError(
            f"{where}: a feed name must match [a-z0-9][a-z0-9._-]* (it becomes a file name)"
        )
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping with at least 'url', got {data!r}")
    _check_keys(data, FEED_KEYS, f"{where}.")
    if "url" not in data and "follow" not in data:
        raise ConfigError(f"{where}.url: missing (the article to poll, or follow: an index)")
    if "url" in data and "follow" in data:
        raise ConfigError(f"{where}: give either url (one article) or follow (an index)")
    if "match" in data and "follow" not in data:
        raise ConfigError(f"{where}.match: only goes with follow")
    match = _optional(data, "match", None, lambda v: _typed(v, str, f"{where}.match", "a regex"))
    if match is not None:
        try:
            re.compile(match)
        except re.error as exc:
            raise ConfigError(f"{where}.match: not a regular expression ({exc})") from None
    site = _optional(data, "site", "dw", lambda v: _typed(v, str, f"{where}.site", "a string"))
    profiles = profiles or {}
    if site not in SITES and site not in profiles:
        choices = ", ".join([*SITES, *sorted(profiles)])
        raise ConfigError(f"{where}.site: expected one of {choices}, got {site!r}")
    max_items = _optional(
        data, "max_items", 100, lambda v: _typed(v, int, f"{where}.max_items", "an integer")
    )
    if max_items < 1:
        raise ConfigError(f"{where}.max_items: must be at least 1, got {max_items}")
    on_edit = _optional(data, "on_edit", "announce", str)
    try:
        policy = EditPolicy(on_edit)
    except ValueError:
        choices = ", ".join(p.value for p in EditPolicy)
        raise ConfigError(f"{where}.on_edit: expected one of {choices}, got {on_edit!r}") from None
    on_remove = _optional(data, "on_remove", "keep", str)
    if on_remove not in set(RemovePolicy):
        choices = ", ".join(RemovePolicy)
        raise ConfigError(f"{where}.on_remove: expected one of {choices}, got {on_remove!r}")
    return FeedConfig(
        name=name,
        url=check_url(data["url"], f"{where}.url") if "url" in data else check_url(
            data["follow"], f"{where}.follow"),
        site=site,
        title=_optional(data, "title", None, lambda v: _typed(v, str, f"{where}.title", "text")),
        interval=_optional(
            data, "interval", 300.0, lambda v: parse_duration(v, f"{where}.interval")
        ),
        max_items=max_items,
        on_edit=policy,
        on_remove=RemovePolicy(on_remove),
        settings=_settings(data, defaults, f"{where}."),
        follow="follow" in data,
        match=match,
        profile=profiles.get(site) if site not in SITES else None,
    )


def parse_config(data: object, path: Path) -> Config:
    """Validate an already-loaded YAML document."""
    if not isinstance(data, Mapping):
        raise ConfigError("expected a mapping with database, output_dir, base_url and feeds")
    _check_keys(data, TOP_KEYS, "")
    base = path.parent
    database = _typed(data.get("database", "state/feeds.sqlite3"), str, "database", "a path")
    output_dir = _typed(data.get("output_dir", "public"), str, "output_dir", "a path")
    base_url = check_url(data.get("base_url", "http://127.0.0.1:8080/"), "base_url")
    if not base_url.endswith("/"):
        base_url += "/"
    feeds_data = data.get("feeds")
    if not isinstance(feeds_data, Mapping) or not feeds_data:
        raise ConfigError("feeds: expected a mapping of feed names to feeds, with at least one")
    settings = _settings(data, Settings(), "")
    profiles = builtin_profiles()
    user_profiles = data.get("profiles") or {}
    if not isinstance(user_profiles, Mapping):
        raise ConfigError("profiles: expected a mapping of profile names to profiles")
    for pname, spec in user_profiles.items():
        if pname in SITES:
            raise ConfigError(f"profiles.{pname}: the name of a built-in site")
        profiles[pname] = _profile(pname, spec, f"profiles.{pname}")
    feeds = tuple(_feed(name, feed, settings, profiles) for name, feed in feeds_data.items())
    hub = data.get("websub_hub")
    return Config(
        path=path,
        database=(base / database).resolve(),
        output_dir=(base / output_dir).resolve(),
        base_url=base_url,
        feeds=feeds,
        settings=settings,
        websub_hub=check_url(hub, "websub_hub") if hub is not None else None,
    )


def load_config(path: Path) -> Config:
    """Read and validate the YAML file at `path`; ConfigError says what and where."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror or exc})") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
        return parse_config(data, path)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
