"""Dates, clock times and time zones as pages write them, for every profile.

Pages give an update's time as a clock time ("12.31 Uhr", "10:45 GMT", "1.23pm") under a
day heading ("Freitag, 3. 5.", "Sunday 3 March") or none, next to a page date somewhere in
the head (JSON-LD, `article:modified_time`, `DC.date.*`, a `<time datetime>`, the URL).
This module reads all of those and places clock times in the page's zone, so a local time
is never labelled UTC and a page without any date never gets "now" for all its entries.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any, cast
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from lxml import etree
from parsel import Selector

from feedgen_dw.extract.names import (
    COUNTRY_ZONES,
    LANGUAGE_ZONES,
    MONTH_ALTERNATIVES,
    MONTHS,
    ZONE_ALTERNATIVES,
    ZONE_NAMES,
)
from feedgen_dw.extract.structured import epoch as epoch
from feedgen_dw.extract.structured import json_ld_objects
from feedgen_dw.extract.structured import parse_iso as parse_iso

# A clock time: "12.31", "9:05", "21h47", "1.23pm", "1 p.m.", with "Uhr" or a zone after it.
# Not a race time, a score or an amount ("65.06 sek.", "2.50 Euro").
CLOCK_RE = re.compile(
    r"(?<![\d.,:/])(?P<hour>[01]?\d|2[0-3])(?:(?P<sep>[.:h]| h )(?P<minute>[0-5]\d))?"
    r"(?!\d|[.,]\d|:\d)\s*(?P<ampm>[ap]\.?\s?m\b\.?)?"
    r"(?P<uhr>\s*(?:Uhr|uur|h(?![\w.]))(?!\w))?"
    # a zone is written in capitals: "15:30 et les …" is French, "9 h 30 cet …" too
    r"(?:\s*\(?(?P<zone>(?-i:" + ZONE_ALTERNATIVES + r"))\b\)?)?"
    r"(?!\s*(?:sek|sec|s\b|min|km|m\b|%|prozent|percent|euro|€|\$|mio|mrd|punkte|pkt))",
    re.I,
)
# what may stand before a clock time that opens a line: "ore 10:45", "um 9.05", "à 15 h 30"
CLOCK_LEAD_RE = re.compile(
    r"^(?:(?:posted )?at|ore|alle|um|gegen|à|a las|om|kl\.?|klo|kello)$", re.I)
# leads that say the number after them is a clock time ("ore 10.45", "kl. 9.30")
CLOCK_WORD_RE = re.compile(r"^(?:posted at|ore|kl\.?|klo|kello)$", re.I)
DAY_DM_RE = re.compile(r"(?<![\d.])(?P<day>[0-3]?\d)\.\s*(?P<month>[01]?\d)\."
                       r"(?:\s*(?P<year>\d{4}))?(?![\d.]|\s*Uhr)")
DAY_NAME_RE = re.compile(
    r"(?<!\d)(?P<day>[0-3]?\d)(?:\.|st|nd|rd|th|er)?\s+(?:de\s+)?(?P<month>"
    + MONTH_ALTERNATIVES + r")\b\.?(?:,?\s+(?:de\s+)?(?P<year>\d{4}))?", re.I)
DAY_US_RE = re.compile(
    r"\b(?P<month>" + MONTH_ALTERNATIVES + r")\.?\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\b(?!:|\.\d)"
    r"(?:,?\s+(?P<year>\d{4}))?", re.I)
DAY_ISO_RE = re.compile(r"\b(?P<year>\d{4})-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b")
# a visible line with the page's own time ("Stand: 12.03.2025 19:44 Uhr")
STAND_RE = re.compile(
    r"(?:stand|aktualisiert|zuletzt aktualisiert|last updated|updated|mis à jour|"
    r"actualizado|aggiornato|bijgewerkt)\b(?:\s+(?:am|on|le|el|il|op|at))?\s*:?\s*", re.I)
URL_DATE_RE = re.compile(
    r"/(?P<year>20\d\d)[/-](?P<month>[01]?\d|" + MONTH_ALTERNATIVES
    + r")[/-](?P<day>[0-3]?\d)(?:[/-]|$)", re.I)
# how long after the page's own time an entry may claim to be (clock skew, slow caches)
SLACK = timedelta(minutes=30)


@dataclass(frozen=True)
class Clock:
    """A clock time as written: hour 0-23 after am/pm, a zone name if one follows."""

    hour: int
    minute: int
    zone: str | None
    end: int  # where the time ends in the text


@dataclass(frozen=True)
class PageTime:
    """The page's own date: the time (local to its zone, or aware) and where it came from."""

    value: datetime  # naive when the page gave no zone
    source: str


def parse_clock(text: str, at_start: bool = True, loose: bool = False) -> Clock | None:
    """The clock time at the start of `text` (or anywhere, `at_start=False`). A bare
    "12.31" only counts when `loose` (a heading, a bold run): elsewhere it needs "Uhr",
    am/pm, a zone or a colon/dash after it."""
    for found in CLOCK_RE.finditer(text[:400] if at_start else text):
        lead = text[:found.start()].strip(" ([–—-+*•") if at_start else ""
        if lead and not CLOCK_LEAD_RE.match(lead):
            return None
        hour, minute = int(found["hour"]), int(found["minute"] or 0)
        ampm = (found["ampm"] or "").lower()
        if not found["minute"] and not ampm:
            if at_start:
                return None
            continue
        rest = text[found.end():found.end() + 3].lstrip()
        marked = bool(ampm or found["uhr"] or found["zone"] or CLOCK_WORD_RE.match(lead)
                      ) or "h" in (found["sep"] or "") or rest[:1] in (":", "–", "—", "-", "|")
        if not (loose or marked):
            if at_start:
                return None
            continue
        if ampm:
            if hour > 12 or hour == 0:
                continue
            hour = hour % 12 + (12 if ampm.startswith("p") else 0)
        zone = found["zone"].upper() if found["zone"] else None
        return Clock(hour, minute, zone, found.end())
    return None


def _make_date(year: int | None, month: str, day: str, near: date | None) -> date | None:
    number = int(month) if month.isdigit() else MONTHS.get(month.lower())
    if not number or (year is not None and not 1900 <= year <= 2999):
        return None
    try:
        if year is not None:
            return date(year, number, int(day))
        if near is None:
            return None
        # no year: the one that puts the day closest before (or just after) the page's date
        guesses = [date(near.year + d, number, int(day)) for d in (-1, 0, 1)
                   if _valid(near.year + d, number, int(day))]
    except ValueError:
        return None
    # a later date than the page's own by more than a day is last year's
    return min(guesses, default=None, key=lambda g: abs((g - near).days) + (
        0 if g <= near + timedelta(1) else 400))


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def parse_day(text: str, near: date | None = None) -> date | None:
    """A calendar day written in `text` ("Freitag, 3. 5.", "3. März 2024", "Sunday 3
    March", "March 3, 2024", "2024-03-03"); a day without a year is placed near `near`."""
    for pattern in (DAY_ISO_RE, DAY_NAME_RE, DAY_US_RE, DAY_DM_RE):
        found = pattern.search(text)
        if found:
            year = int(found["year"]) if found["year"] else None
            return _make_date(year, found["month"], found["day"], near)
    return None


WEEKDAY_LEAD_RE = re.compile(r"[^\W\d_]{2,12}\.?,?\s+")  # "Mittwoch, ", "Wed. "
DATE_START_RE = re.compile(r"(?:[^\W\d_]{2,12}\.?,?\s+){0,2}\d")
DATE_END_RE = re.compile(r"[\s,•|·–—-]*(?:(?:um|at|à|a las|alle|ore|kl\.?)\s+)?")


def date_lead(text: str, near: date | None) -> tuple[date | None, int]:
    """The date `text` opens with ("12.03.2025, ", "Mittwoch, 12. März ", "March 12,
    2025, ", "2025-03-12 ") and where what follows it starts; (None, 0) when none."""
    if not DATE_START_RE.match(text):
        return None, 0  # most lines: no number, or no month name before one, at the start
    weekday = WEEKDAY_LEAD_RE.match(text)
    for start in (0, weekday.end()) if weekday else (0,):
        for pattern in (DAY_ISO_RE, DAY_NAME_RE, DAY_US_RE, DAY_DM_RE):
            found = pattern.match(text, start)
            if found:
                year = int(found["year"]) if found["year"] else None
                day = _make_date(year, found["month"], found["day"], near)
                if day is not None:
                    rest = DATE_END_RE.match(text, found.end())
                    return day, rest.end() if rest else found.end()
    return None, 0


def is_day_heading(text: str) -> bool:
    """A short line that is a date and nothing else worth a feed item."""
    return 4 <= len(text) <= 48 and parse_clock(text, at_start=False, loose=False) is None and any(
        p.search(text) for p in (DAY_ISO_RE, DAY_NAME_RE, DAY_US_RE, DAY_DM_RE))


META_DATES = (
    ("article:modified_time", "modified"), ("og:updated_time", "modified"),
    ("dc.date.modified", "modified"), ("dcterms.modified", "modified"),
    ("last-modified", "modified"), ("article:published_time", "published"),
    ("dc.date.issued", "published"), ("dc.date.created", "published"), ("dc.date", "published"),
    ("dcterms.created", "published"), ("date", "published"), ("pubdate", "published"),
)


def page_times(sel: Selector, url: str) -> dict[str, PageTime]:
    """The page's own modified and published times ({'modified': …, 'published': …}),
    each from the first source that has it; a date in the URL as 'url'."""
    found: dict[str, PageTime] = {}
    for obj in json_ld_objects(sel):
        for key, kind in (("dateModified", "modified"), ("datePublished", "published")):
            when = parse_iso(obj.get(key))
            if when and kind not in found:
                found[kind] = PageTime(when, f"JSON-LD {key}")
    metas: dict[str, str] = {}
    # lxml's elements, not parsel's: a Selector made for each <meta> costs more than reading it
    for meta in sel.root.xpath("//meta[@content]") if sel.root is not None else ():
        name = (meta.attrib.get("property") or meta.attrib.get("name")
                or meta.attrib.get("itemprop") or "").lower()
        metas.setdefault(name, meta.attrib["content"])
    for name, kind in (*META_DATES, ("datemodified", "modified"), ("datepublished", "published")):
        when = parse_iso(metas.get(name))
        if when and kind not in found:
            found[kind] = PageTime(when, f"<meta {name}>")
    if "published" not in found:
        for value in sel.css("time::attr(datetime)").getall()[:20]:
            when = parse_iso(value)
            if when and when.hour + when.minute:  # a bare date says little
                found["published"] = PageTime(when, "<time datetime>")
                break
    if not found and sel.root is not None:
        stand = _stand_line(sel.root)
        if stand is not None:
            found["modified"] = PageTime(stand, "the page's 'Stand:'/'Updated:' line")
    match = URL_DATE_RE.search(urlsplit(url).path)
    if match:
        day = _make_date(int(match["year"]), match["month"], match["day"], None)
        if day:
            found["url"] = PageTime(datetime(day.year, day.month, day.day), "the URL")
    return found


def _stand_line(root: etree._Element) -> datetime | None:
    """The time a visible "Stand: 12.03.2025 19:44 Uhr" / "Updated: March 12, 2025,
    7:44 p.m." line gives (local to the page's zone), for pages without a date in
    their head."""
    # each element's own text, gathered by libxml2 (in document order): only the elements
    # whose text opens with "Stand" or "Updated" are asked further in Python
    for text in cast(list[Any], root.xpath(
            "//*[not(self::script or self::style)]/node()[1][self::text()]")):
        if STAND_RE.match(text.lstrip()):
            el = text.getparent()
            line = " ".join(" ".join(t for t in el.itertext() if isinstance(t, str)).split())
            lead = STAND_RE.match(line)
            rest = line[lead.end():][:60] if lead else ""
            day, clock = parse_day(rest), parse_clock(rest, at_start=False, loose=True)
            if day is not None and clock is not None:
                return datetime(day.year, day.month, day.day, clock.hour, clock.minute)
    return None


@dataclass(frozen=True)
class Zone:
    """The zone the page's local times are in, and why."""

    tz: tzinfo
    name: str
    source: str


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        return None


def page_zone(url: str, language: str | None, times: dict[str, PageTime],
              zone_counts: dict[str, int]) -> Zone:
    """The page's zone: a named zone written in its text, its country (TLD or language)
    checked against an offset in the page, that offset alone, else UTC (said so)."""
    candidates: list[tuple[str, str]] = []
    if zone_counts:
        named = max(sorted(zone_counts), key=lambda z: zone_counts[z])
        candidates.append((ZONE_NAMES[named], f"'{named}' written after the clock times"))
    host = (urlsplit(url).hostname or "").rsplit(".", 1)[-1].lower()
    if host in COUNTRY_ZONES:
        candidates.append((COUNTRY_ZONES[host], f"the outlet's country (.{host})"))
    lang = (language or "").lower().replace("_", "-")
    region = lang.split("-")[1] if "-" in lang else ""
    if region in COUNTRY_ZONES:
        candidates.append((COUNTRY_ZONES[region], f"the page language ({language})"))
    if lang.split("-")[0] in LANGUAGE_ZONES:
        candidates.append((LANGUAGE_ZONES[lang.split("-")[0]],
                           f"the page language ({language})"))
    offsets = [t.value for t in times.values() if t.value.tzinfo is not None
               and t.value.utcoffset() != timedelta(0)]
    for name, why in candidates:
        tz = _zone(name)
        if tz is None:
            continue
        if not offsets or any(o.astimezone(tz).utcoffset() == o.utcoffset() for o in offsets):
            return Zone(tz, name, why)
    if offsets:
        offset = offsets[0].utcoffset() or timedelta(0)
        return Zone(timezone(offset), f"UTC{_fmt_offset(offset)}",
                    "the offset of the page's own times")
    return Zone(UTC, "UTC", "nothing in the page names a zone: assumed UTC")


def _fmt_offset(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def to_utc(value: datetime, tz: tzinfo) -> datetime:
    """A page time as UTC (a naive one is local to `tz`), whole seconds."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC).replace(microsecond=0)


def local_time(day: date, clock: Clock, tz: tzinfo) -> datetime:
    """`clock` on `day` in `tz` (or in the zone the clock names) as UTC."""
    zone = (_zone(ZONE_NAMES[clock.zone]) if clock.zone else None) or tz
    return to_utc(datetime(day.year, day.month, day.day, clock.hour, clock.minute), zone)


@dataclass
class Stamp:
    """What an entry says about its time: a full time, or a clock and maybe a day."""

    full: datetime | None = None  # aware, or naive local
    clock: Clock | None = None
    day: date | None = None  # from a day heading above or the entry's own text
    group: int = 0  # entries under the same day heading share a group


def place(stamps: list[Stamp], times: dict[str, PageTime], tz: tzinfo
          ) -> tuple[list[datetime | None], str]:
    """UTC times for entries in page order, and what their dates came from. Clock times
    without a day follow the page's order across midnight: on a newest-first page a
    time later than the one above it by more than six hours is the day before (oldest
    first: earlier, the day after). The page's modified time dates its newest entry, its
    published time (or the URL's date) its oldest."""
    result: list[datetime | None] = [to_utc(s.full, tz) if s.full else None for s in stamps]
    clocks = [(i, s.clock, s) for i, s in enumerate(stamps) if s.full is None and s.clock]
    if not clocks:
        return result, "the entries' own times" if any(result) else ""
    minutes = [c.hour * 60 + c.minute for _, c, _ in clocks]
    ups = sum(1 for a, b in itertools.pairwise(minutes) if b > a)
    downs = sum(1 for a, b in itertools.pairwise(minutes) if b < a)
    newest_first = downs >= ups
    shifts: list[int] = []
    shift, prev_group = 0, None
    for n, (_, _, stamp) in enumerate(clocks):
        if stamp.group != prev_group:
            shift, prev_group = 0, stamp.group
        elif (minutes[n] - minutes[n - 1] if newest_first else minutes[n - 1] - minutes[n]) > 360:
            shift += -1 if newest_first else 1
        shifts.append(shift)
    kind = "modified" if "modified" in times else "published" if "published" in times else (
        "url" if "url" in times else None)
    anchor_day: date | None = None
    ref = 0
    if kind is not None:
        anchor = times[kind]
        local = anchor.value.astimezone(tz).replace(tzinfo=None) if anchor.value.tzinfo else (
            anchor.value)
        newest = 0 if newest_first else len(clocks) - 1
        ref = newest if kind == "modified" else len(clocks) - 1 - newest
        anchor_day = local.date()
        ref_clock = clocks[ref][1]
        ref_local = datetime.combine(anchor_day, datetime.min.time()).replace(
            hour=ref_clock.hour, minute=ref_clock.minute)
        if kind == "modified" and ref_local > local + SLACK:
            anchor_day -= timedelta(days=1)  # the newest entry is from before midnight
        elif kind == "published" and ref_local < local - SLACK:
            anchor_day += timedelta(days=1)
    used_headings = False
    for n, (i, clock, stamp) in enumerate(clocks):
        if stamp.day is not None:
            day = stamp.day + timedelta(days=shifts[n])
            used_headings = True
        elif anchor_day is not None and stamp.group == clocks[ref][2].group:
            day = anchor_day + timedelta(days=shifts[n] - shifts[ref])
        else:
            continue  # no date for this clock time: first seen is its time
        result[i] = local_time(day, clock, tz)
    source = times[kind].source if kind else ""
    if used_headings:
        source = "dates written in the page (day headings, update lines)" + (
            f", else {source}" if source else "")
    return result, source
