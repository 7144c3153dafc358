"""Following a redirect as requests did (fetch.py follows them itself, one hop at a time):
the URL quoted and normalised the same way, credentials only to the same origin, and
cookies only within one redirect chain."""

from __future__ import annotations

import re
from urllib.parse import quote, urljoin, urlsplit

# requests' quoting of a URL: reserved, unreserved and '%' are left as they are
_SAFE_URL = "!#$%&'()*+,/:;=?@[]~"
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE_RE = re.compile(r"%([0-9A-Fa-f]{2})")


class NotHttp(ValueError):
    """A URL (the configured one or a redirect's) that is not http:// or https://."""


def requote(url: str) -> str:
    """requests' requote_uri: unreserved escapes decoded, what is illegal escaped."""
    def unreserved(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else match.group(0)
    return quote(_ESCAPE_RE.sub(unreserved, url), safe=_SAFE_URL)


def prepared(url: str) -> str:
    """The URL as it is asked for and reported (requests' prepare_url: lower-case scheme
    and host, IDNA, a path of at least "/", quoted); ValueError when it is not http(s)."""
    from urllib3.util import parse_url  # not for fetch.py's plain requests

    parts = parse_url(url)
    if parts.scheme not in ("http", "https") or not parts.host:
        raise NotHttp(url)
    return requote(parts._replace(path=parts.path or "/").url)


def redirect_target(location: str, previous: str) -> str:
    """Where a Location header points, resolved as requests resolves it."""
    location = location.encode("latin-1").decode("utf-8")  # UnicodeError: a bad answer
    if location.startswith("//"):
        location = f"{urlsplit(previous).scheme}:{location}"
    parts, fragment = urlsplit(location), urlsplit(previous).fragment
    if not parts.fragment and fragment:
        location = parts._replace(fragment=fragment).geturl()
    if not parts.netloc:
        return urljoin(previous, requote(location))
    return requote(location)


def same_origin(old: str, new: str) -> bool:
    """Whether credentials may follow a redirect (requests' should_strip_auth, negated)."""
    a, b = urlsplit(old), urlsplit(new)
    if a.hostname != b.hostname:
        return False
    if a.scheme == "http" and a.port in (80, None) and b.scheme == "https" and b.port in (
            443, None):
        return True
    return a.scheme == b.scheme and a.port == b.port


def keep_cookies(jar: dict[str, dict[str, str]], host: str, headers: list[str]) -> None:
    """Cookies a redirect sets, for the rest of its chain on the same host (name=value
    only: the chain lasts seconds, so expiry and paths do not matter)."""
    for header in headers:
        name, sep, value = header.split(";", 1)[0].partition("=")
        if sep and name.strip():
            jar.setdefault(host, {})[name.strip()] = value.strip()
