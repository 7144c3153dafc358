"""The generic profile (`site: auto` when no other fits): any live page, no configuration.

Finds the page's main content (extract/content.py), then the marker its entries repeat,
in this order: headings that carry a clock time; repeated containers (one element per
entry, with its own header); paragraphs that open with a clock time; "Update …:"
paragraphs on top of an original report; rules (`<hr>`, `___`, `***`) between entries;
else `<h2>` sections like DW's; else the whole page is one item. Times: extract/times.py.
Entries without an id of their own carry no key, so the diff recognises them like DW
sections (content, then headline, then text overlap) and an edited entry stays one item.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from lxml import etree
from parsel import Selector

from feedgen_dw.errors import ExtractError
from feedgen_dw.extract import times
from feedgen_dw.extract.content import (
    HEADINGS,
    Noise,
    blocks,
    main_content,
    remove,
    strip_noise,
    tag_of,
)
from feedgen_dw.extract.html import (
    Known,
    clean_url,
    element_text,
    normalize_space,
    page_selector,
    quick_text,
    sanitize_known,
    to_uri,
)
from feedgen_dw.extract.titles import derived_title, strip_lead
from feedgen_dw.model import Article, Section

NAME = "generic"
UPDATE_RE = re.compile(
    r"^\W{0,3}(?:(?:letztes\s+|neues\s+)?update|aktualisierung|nachtrag|erstmeldung|"
    r"erste meldung|ursprüngliche meldung|original(?:meldung| report| story)?|updated)\b"
    r"(?:\s*\d{1,2}\b)?", re.I)
ORIGINAL_RE = re.compile(r"^\W{0,3}(?:erstmeldung|erste meldung|ursprüngliche meldung|"
                         r"original(?:meldung| report| story)?)\b", re.I)
RULE_RE = re.compile(r"^[\s_*\-=~+•·#]{3,}$")
ZONE_WRITTEN_RE = re.compile(r"\d[.:][0-5]\d\s*\(?(" + times.ZONE_ALTERNATIVES + r")\b")
CLOCK_ONLY_RE = re.compile(r"^\d{1,2}[.:]\d\d\s*(?:[ap]\.?m\.?|Uhr|\(?[A-Z]{2,4}\)?)?$")
AUTHOR_TOKENS = frozenset({"author", "byline", "autor", "contributor", "autorin"})
TITLE_TOKENS = frozenset({"title", "headline", "heading", "ueberschrift", "titel"})
TIME_ATTRS = ("data-post-time", "data-posted-date-timestamp", "data-update-time",
              "data-timestamp", "data-time", "data-date", "data-published")


@dataclass
class Notes:
    """What `inspect` says beyond the Article: how the page was read."""

    main: str = ""
    marker: str = ""
    dates: str = ""
    zone: str = "UTC"
    zone_source: str = ""
    noise: Counter[str] = field(default_factory=Counter)


@dataclass
class _Entry:
    head: str  # its own headline, "" when it has none
    elements: list[etree._Element]
    stamp: times.Stamp
    key: str | None = None  # an id the page gives it
    authors: tuple[str, ...] = ()


def _entry_stamp(text: str, near: date | None, loose: bool) -> tuple[times.Stamp, int]:
    """The time an entry's opening text gives, and where that prefix ends (0: none)."""
    prefix = UPDATE_RE.match(text)
    start = prefix.end() if prefix else 0
    head = text[start:start + 60]
    clock = times.parse_clock(head.lstrip(" ,:–—-"), at_start=True, loose=loose) or (
        times.parse_clock(head, at_start=False, loose=loose) if prefix else None)
    day = times.parse_day(head, near) if prefix else None
    if clock is None and day is None:
        return times.Stamp(), 0
    end = start
    if clock is not None:
        end = head.find(head.lstrip(" ,:–—-")) + start + clock.end if not prefix else (
            start + _clock_end(head, clock))
    return times.Stamp(clock=clock, day=day), end


def _clock_end(head: str, clock: times.Clock) -> int:
    found = times.CLOCK_RE.search(head)
    return found.end() if found else 0


def _time_of(el: etree._Element, near: date | None) -> times.Stamp:
    """A container's own time: an ISO `datetime`, an epoch attribute, a time element's
    text or a clock at the start of its text. A time element is taken out of the entry
    (it is shown as the item's time, not in its text)."""
    for node in el.iter("time"):
        when = times.parse_iso(node.get("datetime"))
        if when is not None:
            _drop_time(node)
            return times.Stamp(full=when)
    for name in TIME_ATTRS:
        value = el.get(name)
        when = times.epoch(value) or times.parse_iso(value)
        if when is not None:
            return times.Stamp(full=when)
    for node in el.iter():
        if tag_of(node) == "time" or any(t in (node.get("class") or "").lower()
                                         for t in ("time", "date", "zeit", "datum")):
            text = quick_text(node)
            clock = times.parse_clock(text, at_start=False, loose=True)
            if clock is not None and len(text) < 40:
                _drop_time(node)
                return times.Stamp(clock=clock, day=times.parse_day(text, near))
    return _entry_stamp(quick_text(el)[:80], near, loose=False)[0]


def _drop_time(node: etree._Element) -> None:
    if len(quick_text(node)) < 40:
        remove(node)


def _repeated(main: etree._Element, weight: dict[etree._Element, int]
              ) -> tuple[etree._Element, list[etree._Element], str] | None:
    """The largest set of sibling elements of one kind that hold most of the text: one
    entry each (`article.block`, `div.post`, `li.update`)."""
    total = max(weight.get(main, 0), 1)
    best: tuple[float, etree._Element, list[etree._Element], str] | None = None
    for parent in main.iter():
        if not isinstance(parent.tag, str) or len(parent) < 3:
            continue
        groups: dict[str, list[etree._Element]] = {}
        for child in parent:
            tag = tag_of(child)
            if tag not in ("div", "article", "section", "li"):
                continue
            classes = (child.get("class") or "").split()
            prefix = re.sub(r"[\d_-]+$", "", child.get("id") or "")
            groups.setdefault(f"{tag}.{classes[0] if classes else prefix}", []).append(child)
        for signature, members in groups.items():
            if len(members) < 3:
                continue
            composite = sum(1 for m in members if len([c for c in m if isinstance(c.tag, str)])
                            >= 2)
            covered = sum(max(weight.get(m, 0), 0) for m in members) / total
            if composite * 10 < len(members) * 6 or covered < 0.5:
                continue
            if best is None or covered > best[0]:
                best = (covered, parent, members, signature)
    return (best[1], best[2], best[3].rstrip(".")) if best else None


def _title_of(el: etree._Element) -> tuple[str, etree._Element | None]:
    """An entry's own headline: a heading in it, else an element classed as its title."""
    for node in el.iter(*HEADINGS):
        text = quick_text(node)
        if text:
            return text, node
    for node in el.iter():
        tokens = set(re.split(r"[\s_\-]+", (node.get("class") or "").lower()))
        if tokens & TITLE_TOKENS and node is not el:
            text = quick_text(node)
            if 0 < len(text) < 200:
                return text, node
    return "", None


def _from_containers(parent: etree._Element, members: list[etree._Element],
                     near: date | None, noise: Noise) -> list[_Entry]:
    entries: list[_Entry] = []
    day, group, ids = None, 0, set(map(id, members))
    for child in parent:
        if id(child) not in ids:
            text = quick_text(child) if isinstance(child.tag, str) else ""
            if text and times.is_day_heading(text):
                day, group = times.parse_day(text, near), group + 1
            continue
        stamp = _time_of(child, near)
        if stamp.full is not None:
            for shown in list(child.iter()):
                if not len(shown) and CLOCK_ONLY_RE.match(quick_text(shown)):
                    remove(shown)  # "12.50 BST" beside the machine time: the same time
        stamp.day, stamp.group = stamp.day or day, group
        head, node = _title_of(child)
        if node is not None:
            remove(node)
        key = child.get("id")
        entries.append(_Entry(head, [child], stamp, key if key and len(key) <= 64 else None,
                              _authors(child)))
    return entries


def _authors(entry: etree._Element) -> tuple[str, ...]:
    """The entry's byline (an element classed author/byline, else what is left of its
    header), taken out of its text."""
    found = [n for n in entry.iter() if n is not entry and (
        set(re.split(r"[\s_\-]+", (n.get("class") or "").lower())) & AUTHOR_TOKENS
        or n.get("rel") == "author" or n.get("itemprop") == "author")]
    if not found:
        found = [n for n in entry if tag_of(n) == "header"]
    names = []
    for node in found:
        text = quick_text(node)
        if 2 < len(text) < 60 and any(n is node for n in entry.iter()):
            names.append(text)
            remove(node)
    return tuple(dict.fromkeys(names))


def _is_bold_lead(el: etree._Element) -> bool:
    first = next((c for c in el if isinstance(c.tag, str)), None)
    return first is not None and tag_of(first) in ("strong", "b") and not (el.text or "").strip()


def _split(stream: list[etree._Element], is_marker: Callable[[etree._Element, str], bool],
           near: date | None, keep_intro: bool, noise: Noise, heads: bool = True,
           ) -> list[_Entry]:
    """Entries of a block stream that start at each marker; day headings in between set
    the day of the entries below them."""
    entries: list[_Entry] = []
    intro: list[etree._Element] = []
    day, group = None, 0
    for el in stream:
        text = quick_text(el)
        tag = tag_of(el)
        short_line = tag in HEADINGS or (tag == "p" and len(text) < 48 and _is_bold_lead(el))
        if short_line and times.is_day_heading(text):
            day, group = times.parse_day(text, near), group + 1
            continue
        if is_marker(el, text):
            loose = tag in HEADINGS or _is_bold_lead(el)
            stamp, end = _entry_stamp(text, near, loose)
            stamp.day, stamp.group = stamp.day or day, group
            if tag in HEADINGS and heads:
                entries.append(_Entry(strip_lead(text[end:]) or text, [], stamp))
            else:
                entries.append(_Entry("", [el], stamp))
            continue
        if RULE_RE.match(text) or tag == "hr":
            continue
        (entries[-1].elements if entries else intro).append(el)
    if intro and (keep_intro or not entries):
        entries.insert(0, _Entry("", intro, times.Stamp(group=-1)))
    elif intro:
        noise.add("text before the first entry (intro, summary)")
    return entries


def _by_rules(stream: list[etree._Element], noise: Noise) -> list[_Entry]:
    entries: list[_Entry] = [_Entry("", [], times.Stamp())]
    for el in stream:
        if tag_of(el) == "hr" or RULE_RE.match(quick_text(el) or "x"):
            entries.append(_Entry("", [], times.Stamp()))
        else:
            entries[-1].elements.append(el)
    if entries and len(" ".join(quick_text(e) for e in entries[0].elements)) < 120 and len(
            entries) > 2:
        noise.add("text before the first entry (intro, summary)")
        entries.pop(0)
    return [e for e in entries if e.elements]


def _by_updates(stream: list[etree._Element], near: date | None) -> list[_Entry]:
    """Update paragraphs each make an entry; everything else is the original report."""
    entries: list[_Entry] = []
    original = _Entry("", [], times.Stamp())
    for el in stream:
        text = quick_text(el)
        if tag_of(el) not in HEADINGS and UPDATE_RE.match(text):
            stamp = _entry_stamp(text, near, loose=True)[0]
            if ORIGINAL_RE.match(text):
                original.stamp = stamp
                original.elements.append(el)
                if original not in entries:
                    entries.append(original)
            else:
                entries.append(_Entry("", [el], stamp))
            continue
        original.elements.append(el)
        if original not in entries:
            entries.append(original)
    return entries


def _marker(stream: list[etree._Element], main: etree._Element,
            weight: dict[etree._Element, int], near: date | None, noise: Noise,
            ) -> tuple[list[_Entry], str]:
    texts = [quick_text(el) for el in stream]
    tags = [tag_of(el) for el in stream]

    def timed_heading(el: etree._Element, text: str) -> bool:
        return tag_of(el) in HEADINGS and tag_of(el) != "h1" and _entry_stamp(
            text, near, True)[0].clock is not None

    def timed_para(el: etree._Element, text: str) -> bool:
        return tag_of(el) not in HEADINGS and _entry_stamp(
            text, near, _is_bold_lead(el))[0].clock is not None

    if sum(timed_heading(e, t) for e, t in zip(stream, texts, strict=True)) >= 2:
        return _split(stream, timed_heading, near, False, noise), "headings with a clock time"
    repeated = _repeated(main, weight)
    if repeated:
        parent, members, signature = repeated
        return (_from_containers(parent, members, near, noise),
                f"repeated <{signature}> elements")
    if sum(timed_para(e, t) for e, t in zip(stream, texts, strict=True)) >= 3:
        return (_split(stream, timed_para, near, False, noise),
                "paragraphs that open with a clock time")
    if any(tag not in HEADINGS and UPDATE_RE.match(t) for tag, t in zip(tags, texts, strict=True)):
        return _by_updates(stream, near), "'Update …:' paragraphs over the original report"
    if sum(1 for el, t in zip(stream, texts, strict=True)
           if tag_of(el) == "hr" or (t and RULE_RE.match(t))) >= 2:
        return _by_rules(stream, noise), "rules between entries (<hr>, ___, ***)"
    for level in ("h2", "h3"):
        if tags.count(level) >= 2:
            def at_level(el: etree._Element, _text: str, level: str = level) -> bool:
                return tag_of(el) == level
            return _split(stream, at_level, near, True, noise), f"<{level}> sections"
    return [_Entry("", stream, times.Stamp())], "none: the whole page is one item"


def matches(url: str, selector: Selector) -> str | None:
    """The generic profile reads any page with a body."""
    body = selector.root.find(".//body") if selector.root is not None else None
    if body is None or not normalize_space(quick_text(body)):
        return None
    return "no site profile and no LiveBlogPosting: read as a generic live page"


def extract(page: str | bytes, url: str, selector: Selector | None = None,
            known: Known | None = None) -> Article:
    """Read any page into entries (see the module's doc)."""
    return extract_notes(page, url, selector, known)[0]


def _page_title(sel: Selector, canonical: str) -> str:
    for query in ("h1", 'meta[property="og:title"]::attr(content)', "title::text"):
        found = sel.css(query)
        text = found.xpath("string()").get() if query == "h1" else found.get()
        if text and normalize_space(text):
            return normalize_space(text)
    return canonical


def extract_notes(page: str | bytes, url: str, selector: Selector | None = None,
                  known: Known | None = None) -> tuple[Article, Notes]:
    """extract(), and how the page was read (for `inspect`)."""
    sel = selector if selector is not None else page_selector(page)
    canonical = clean_url(sel.css('link[rel="canonical"]::attr(href)').get()
                          or sel.css('meta[property="og:url"]::attr(content)').get()
                          or url, url) or to_uri(url)
    title = _page_title(sel, canonical)
    language = sel.xpath("/html/@lang").get()
    page_times = times.page_times(sel, canonical)
    notes = Notes()
    noise = Noise(notes.noise)
    root = sel.root
    if root is None or root.find(".//body") is None:
        raise ExtractError(f"{url}: extraction found nothing: the page has no body")
    strip_noise(root.find(".//body"), noise)
    main, weight, notes.main = main_content(root)
    anchor = page_times.get("modified") or page_times.get("published") or page_times.get("url")
    near = anchor.value.date() if anchor else None
    entries, notes.marker = _marker(blocks(main), main, weight, near, noise)
    zones = Counter(ZONE_WRITTEN_RE.findall(element_text(main)))
    zone = times.page_zone(canonical, language, page_times, dict(zones))
    notes.zone, notes.zone_source = zone.name, zone.source
    heads = Counter(e.head for e in entries if e.head)
    for entry in entries:
        if len(entries) > 2 and heads[entry.head] * 2 > len(entries):
            entry.head = ""  # a label on every entry ("Women's World Cup") is no headline
    stamps = [e.stamp for e in entries]
    published, notes.dates = times.place(stamps, page_times, zone.tz)
    sections: list[Section] = []
    for entry, when in zip(entries, published, strict=True):
        html, text, digest = sanitize_known(entry.elements, canonical, None, known, NAME)
        if not (text or entry.head):
            noise.add("empty entries")
            continue
        headline = entry.head or derived_title(text) or (title if not sections else "")
        headline = headline or "…"
        key = ("p-" + re.sub(r"[^A-Za-z0-9._-]", "", entry.key)) if entry.key else None
        sections.append(Section(headline=headline, html=html, text=text, published=when,
                                source_key=key, authors=entry.authors, raw_digest=digest))
    if not sections:
        raise ExtractError(f"{url}: extraction found nothing: no text in the page's body")
    parts = urlsplit(canonical)
    digest = hashlib.sha256(f"{parts.netloc}{parts.path}".encode()).hexdigest()[:12]
    article = Article(
        article_id=f"u-{digest}", host=parts.hostname or "localhost", url=canonical,
        title=title, feed_title=title, language=language, sections=tuple(sections),
        profile=NAME, source=f"dom: {notes.marker}",
        published=times.to_utc(page_times["published"].value, zone.tz)
        if "published" in page_times else None,
        modified=times.to_utc(page_times["modified"].value, zone.tz)
        if "modified" in page_times else None)
    return article, notes
