"""User profiles: a site described with CSS selectors in the config (`profiles:`).

Entries are either elements (`split: element`: one entry per match) or headings
(`split: heading`: the heading and its following siblings up to the next heading). When
a page gives only clock times ("12.31 Uhr"), they are combined with the page's date (or
the day heading above the entry) in the profile's timezone (Europe/Berlin unless told),
and a time later than the one above it on a newest-first page means the day before.
"""

from __future__ import annotations

import hashlib
import re
from copy import deepcopy
from datetime import date
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from lxml import etree
from parsel import Selector

from feedgen_dw.errors import ExtractError
from feedgen_dw.extract import times
from feedgen_dw.extract.html import (
    clean_url,
    normalize_space,
    quick_text,
    sanitize_with_text,
    to_uri,
)
from feedgen_dw.extract.titles import first_words
from feedgen_dw.model import Article, Section
from feedgen_dw.profile import Profile

DEFAULT_DAY = r"(?P<day>\d{1,2})\.?\s+(?P<month>[A-Za-zäÄ]+)\s+(?P<year>\d{4})"


def _day(text: str, pattern: str, near: date | None) -> date | None:
    found = re.search(pattern, text)
    if not found:
        return None
    parts = found.groupdict()
    if not (parts.get("day") and parts.get("month")):
        return times.parse_day(text, near)
    year = parts.get("year")
    return times.parse_day(f"{parts['day']}. {parts['month']} {year or ''}".strip()
                           if not str(parts["month"]).isdigit()
                           else f"{parts['day']}.{parts['month']}.{year or ''}", near)


def _entries(sel: Selector, profile: Profile) -> list[tuple[etree._Element, list[etree._Element]]]:
    """(title element or None, content elements) per entry, in page order."""
    matched = sel.css(profile.entries)
    if profile.split == "element":
        return [(m.root, [m.root]) for m in matched]
    groups: list[tuple[etree._Element, list[etree._Element]]] = []
    headings = {id(m.root) for m in matched}
    for heading in (m.root for m in matched):
        body = []
        node = heading.getnext()
        while node is not None and id(node) not in headings:
            body.append(node)
            node = node.getnext()
        groups.append((heading, body))
    return groups


def _without(element: etree._Element, profile: Profile) -> etree._Element:
    """A copy of an entry without its title and time elements (they are shown apart)."""
    copy = deepcopy(element)
    for selector in (profile.title, profile.time):
        if not selector:
            continue
        for node in Selector(root=copy).css(selector):
            parent = node.root.getparent()
            if parent is not None and node.root is not copy:
                parent.remove(node.root)
    return copy


def extract_custom(url: str, sel: Selector, profile: Profile) -> Article:
    """Read the page parsed into `sel` with a user profile."""
    zone = ZoneInfo(profile.timezone)
    for selector in profile.drop:
        for node in sel.css(selector):
            parent = node.root.getparent()
            if parent is not None:
                parent.remove(node.root)
    canonical = clean_url(sel.css('link[rel="canonical"]::attr(href)').get() or url, url)
    canonical = canonical or to_uri(url)
    page_times = times.page_times(sel, canonical)
    anchor = page_times.get("modified") or page_times.get("published")
    near = anchor.value.date() if anchor else None
    current_day: date | None = None
    group = 0
    found_entries: list[tuple[etree._Element, list[etree._Element], Selector | None, str,
                              times.Stamp]] = []
    for head, body in _entries(sel, profile):
        head_text = quick_text(head)
        if profile.day and re.search(profile.day, head_text):
            current_day = _day(head_text, profile.day, near) or times.parse_day(head_text, near)
            group += 1
            continue
        entry = Selector(root=head) if profile.split == "element" else None
        title = head_text
        if entry is not None and profile.title:
            found_title = entry.css(profile.title)
            title = normalize_space(found_title[0].xpath("string()").get() or "") if (
                found_title) else ""
        time_text = head_text
        if entry is not None and profile.time:
            found_time = entry.css(profile.time)
            time_text = (found_time[0].attrib.get("datetime") or quick_text(found_time[0].root)
                         ) if found_time else ""
        stamp = times.Stamp(full=times.parse_iso(time_text) if "T" in time_text else None,
                            day=current_day, group=group)
        found = re.search(profile.time_format, time_text) if stamp.full is None else None
        if found:
            groups = found.groupdict()
            stamp.clock = times.Clock(int(groups["hour"]), int(groups["minute"]), None, 0)
            if groups.get("day") and groups.get("month"):
                stamp.day = _day(time_text, profile.time_format, near) or stamp.day
        found_entries.append((head, body, entry, title, stamp))
    placed, _ = times.place([e[4] for e in found_entries], page_times, zone)
    sections = []
    used: set[str] = set()
    for (head, body, entry, title, _stamp), published in zip(found_entries, placed,
                                                               strict=True):
        if profile.title_strip:
            title = normalize_space(re.sub(profile.title_strip, "", title))
        content = body if entry is None else [_without(head, profile)]
        html, text = sanitize_with_text(content, canonical)
        title = title or first_words(text) or "…"
        own_id = head.get("id") if entry is not None else None
        basis = own_id or f"{published}|{title if not published else ''}"
        key = "e-" + hashlib.sha256(basis.encode()).hexdigest()[:12]
        while key in used:
            key += "x"
        used.add(key)
        sections.append(Section(headline=title, html=html, text=text, published=published,
                                source_key=key))
    if not sections:
        raise ExtractError(f"{url}: extraction found nothing: no entries for profile "
                           f"{profile.name!r} ({profile.entries})")
    title = normalize_space(sel.css("h1").xpath("string()").get() or
                            sel.css("title::text").get() or canonical)
    digest = hashlib.sha256(urlsplit(canonical).path.encode()).hexdigest()[:12]
    return Article(
        article_id=f"u-{digest}", host=urlsplit(canonical).hostname or "localhost",
        url=canonical, title=title, feed_title=title, language=sel.xpath("/html/@lang").get(),
        sections=tuple(sections), profile=profile.name, source="selectors",
    )
