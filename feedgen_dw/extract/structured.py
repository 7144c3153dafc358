"""Structured data embedded in pages: JSON-LD objects and ISO times."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

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
