"""Structured data embedded in pages: JSON-LD objects, ISO and epoch times, and the
attributes that hold them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from lxml import etree
from parsel import Selector


def json_ld_objects(sel: Selector) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object of the page, with @graph lists flattened; bad JSON is skipped."""
    for raw in sel.css('script[type="application/ld+json"]::text').getall():
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        for obj in stack:
            if not isinstance(obj, dict):
                continue
            graph = obj.get("@graph")
            if isinstance(graph, list):
                yield from (g for g in graph if isinstance(g, dict))
            else:
                yield obj


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time as an aware UTC datetime (whole seconds), or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None  # a local time without a zone cannot be placed; never guess UTC
    try:
        return parsed.astimezone(UTC).replace(microsecond=0)
    except OverflowError:  # "0001-01-01T00:00:00+05:00" is before year 1 in UTC
        return None


def text_value(value: object) -> str | None:
    """Text from structured data, or None when it is not text (a number, list or object,
    as hostile or broken pages give) or only white space."""
    return value if isinstance(value, str) and value.strip() else None


def parse_iso(value: object) -> datetime | None:
    """An ISO 8601 time, aware when it carries a zone, naive when not ("2024-08-05
    20:59:59.0"); fractions are dropped."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if not 1900 <= parsed.year <= 2999:
        return None  # no live page's; year 1 or 9999 would overflow in zone arithmetic
    return parsed.replace(microsecond=0)


def epoch(value: object) -> datetime | None:
    """Epoch seconds or milliseconds (`data-post-time="1722888018000"`) as UTC."""
    if not isinstance(value, str) or not value.strip().isdigit():
        return None
    number = int(value.strip())
    if number > 10**11:
        number //= 1000
    if not 10**9 <= number < 4 * 10**9:
        return None
    return datetime.fromtimestamp(number, UTC)


# attributes that may hold an entry's time ("data-published-at", "data-sort-time")
TIME_ATTR_RE = re.compile(r"time|date|publish|posted|created|updated|epoch|stamp|-ts$")
TIME_ATTRS = ("data-post-time", "data-posted-date-timestamp", "data-update-time",
              "data-timestamp", "data-time", "data-date", "data-published")


def time_attribute(name: str) -> bool:
    """An attribute name that may hold a time (ISO or epoch)."""
    return name in TIME_ATTRS or (name.startswith("data-") and bool(TIME_ATTR_RE.search(name)))


def attribute_time(node: etree._Element) -> datetime | None:
    """A machine time in one of `node`'s attributes: an ISO `datetime` or `title` (the
    microformat `<abbr title>`, a relative time's tooltip), a microdata date, an ISO or
    epoch data attribute."""
    for raw, value in node.attrib.items():
        name = str(raw)
        timed = time_attribute(name)
        if timed or name in ("datetime", "title") or (
                name == "content" and node.get("itemprop") in ("datePublished", "dateCreated")):
            when = parse_iso(value) or (epoch(value) if timed else None)
            if when is not None:
                return when
    return None
