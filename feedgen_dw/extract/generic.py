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
    spaced_text,
    strip_noise,
    tag_of,
)
from feedgen_dw.extract.entries import (
    ORIGINAL_RE,
    RULE_RE,
    UPDATE_RE,
    Entry,
    as_blocks,
    bold_title,
    entry_stamp,
    from_containers,
    repeated,
    timed_items,
)
from feedgen_dw.extract.html import (
    Known,
    clean_url,
    has_text,
    normalize_space,
    page_selector,
    quick_text,
    sanitize_known,
    to_uri,
)
from feedgen_dw.extract.links import strip_link_blocks
from feedgen_dw.extract.names import ZONE_ALTERNATIVES
from feedgen_dw.extract.titles import derived_title, strip_lead
from feedgen_dw.model import Article, Section

NAME = "generic"
ZONE_WRITTEN_RE = re.compile(
    # not \b: lxml's text of "<span>12.50 BST</span><span>Jane Doe" runs the two together
    r"\d[.:][0-5]\d\s*(?:[ap]\.?m\.?\s*)?\(?(" + ZONE_ALTERNATIVES + r")(?![a-z])")


@dataclass
class Notes:
    """What `inspect` says beyond the Article: how the page was read."""

    main: str = ""
    marker: str = ""
    dates: str = ""
    zone: str = "UTC"
    zone_source: str = ""
    noise: Counter[str] = field(default_factory=Counter)


def _is_bold_lead(el: etree._Element) -> bool:
    first = next((c for c in el if isinstance(c.tag, str)), None)
    return first is not None and tag_of(first) in ("strong", "b") and not (el.text or "").strip()


def _bold_headline(el: etree._Element) -> str:
    """The headline a bold run opens a paragraph with ("+++ 18:03 Headline +++"), or ""."""
    if not _is_bold_lead(el):
        return ""
    bold = next(c for c in el if isinstance(c.tag, str))
    head = strip_lead(quick_text(bold)).strip(" +*|:–—-")
    return head if len(head) >= 12 and len(head.split()) >= 2 else ""


def _bold_time(el: etree._Element) -> bool:
    """A bold run that opens `el` with nothing but its time ("+++ 12. 3. 2025 08:15 +++"),
    and text after it."""
    if not _is_bold_lead(el):
        return False
    bold = next(c for c in el if isinstance(c.tag, str))
    return not strip_lead(quick_text(bold)).strip(" +*|:–—-()") and bool(
        (bold.tail or "").strip() or len(el) > 1)


def _drop_lead(el: etree._Element) -> None:
    """Take the bold run that opens `el` out, with a line break after it."""
    bold = next(c for c in el if isinstance(c.tag, str))
    after = bold.getnext()
    if after is not None and tag_of(after) == "br" and not (bold.tail or "").strip():
        remove(after)
    remove(bold)
    if el.text:
        el.text = el.text.lstrip()


Mark = tuple[times.Stamp, int] | None  # a block that opens an entry: its time, prefix end


def _split(stream: list[etree._Element], texts: list[str], marks: list[Mark],
           near: date | None, keep_intro: bool, noise: Noise) -> list[Entry]:
    """Entries of a block stream that start at each marked block; day headings in
    between set the day of the entries below them."""
    entries: list[Entry] = []
    intro: list[etree._Element] = []
    day, group = None, 0
    heading: etree._Element | None = None  # the block just placed, when it is a heading
    for el, text, marked in zip(stream, texts, marks, strict=True):
        tag = tag_of(el)
        short_line = tag in HEADINGS or (tag == "p" and len(text) < 48 and _is_bold_lead(el))
        if not marked and short_line and times.is_day_heading(text):
            day, group, heading = times.parse_day(text, near), group + 1, None
            continue
        if marked:
            stamp, end = marked
            if stamp.day is not None:
                group += 1  # a date of its own: crossings count from here
            stamp.day, stamp.group = stamp.day or day, group
            if tag in HEADINGS:
                # "12:31" alone: the headline is the heading that follows, if any
                entries.append(Entry(strip_lead(text[end:]), [], stamp))
            else:
                head = _bold_headline(el)
                if head or _bold_time(el):
                    _drop_lead(el)  # the headline is the item's title, the time its time
                # a line with nothing but the time is the item's time, not its text
                bare = not strip_lead(text[end:]).strip(" +*|:–—-()")
                entry = Entry(head, [] if bare else [el], stamp)
                if heading is not None:
                    # a heading right above a time line opens that entry, never ends one
                    (entries[-1].elements if entries else intro).remove(heading)
                    entry.elements.insert(0, heading)
                entries.append(entry)
            heading = None
            continue
        heading = None
        if RULE_RE.match(text) or tag == "hr":
            continue
        (entries[-1].elements if entries else intro).append(el)
        heading = el if tag in HEADINGS else None
    if intro and (keep_intro or not entries):
        entries.insert(0, Entry("", intro, times.Stamp(group=-1), lead=True))
    elif intro:
        noise.add("text before the first entry (intro, summary)")
    return entries


def _by_rules(stream: list[etree._Element], noise: Noise) -> list[Entry]:
    entries: list[Entry] = [Entry("", [], times.Stamp())]
    for el in stream:
        if tag_of(el) == "hr" or RULE_RE.match(quick_text(el) or "x"):
            entries.append(Entry("", [], times.Stamp()))
        else:
            entries[-1].elements.append(el)
    if entries and len(" ".join(quick_text(e) for e in entries[0].elements)) < 120 and len(
            entries) > 2:
        noise.add("text before the first entry (intro, summary)")
        entries.pop(0)
    return [e for e in entries if e.elements]


def _by_updates(stream: list[etree._Element], texts: list[str], near: date | None
                ) -> list[Entry]:
    """Update paragraphs each make an entry; everything else is the original report.
    When a line says where the original report starts ("Erstmeldung …:"), the paragraphs
    after an update line up to the next are that update's."""
    entries: list[Entry] = []
    original = Entry("", [], times.Stamp(), lead=True)
    group = 0
    marked_original = any(ORIGINAL_RE.match(t) for t in texts)
    current: Entry | None = None
    for el, text in zip(stream, texts, strict=True):
        if tag_of(el) not in HEADINGS and UPDATE_RE.match(text):
            stamp = entry_stamp(text, near, loose=True)[0]
            if stamp.day is not None:
                group += 1  # a date of its own: crossings count from here
            stamp.group = group
            if not ORIGINAL_RE.match(text):
                current = Entry("", [el], stamp)
                entries.append(current)
                continue
            original.stamp, current = stamp, None
        elif current is not None and marked_original:
            current.elements.append(el)
            continue
        original.elements.append(el)
        if not any(e is original for e in entries):
            entries.append(original)
    return entries


def _timed(found: tuple[times.Stamp, int]) -> Mark:
    return found if found[0].clock is not None else None


def _paragraph_marks(stream: list[etree._Element], texts: list[str], near: date | None,
                     items: set[etree._Element]) -> list[Mark]:
    # a bold run, or a list item or table row (the time in a cell of its own), is loose
    return [_timed(entry_stamp(t, near, el in items or _is_bold_lead(el)))
            if tag_of(el) not in HEADINGS else None
            for el, t in zip(stream, texts, strict=True)]


def _marker(stream: list[etree._Element], texts: list[str], main: etree._Element,
            weight: dict[etree._Element, int], near: date | None, noise: Noise,
            ) -> tuple[list[Entry], str]:
    tags = [tag_of(el) for el in stream]

    headings = [_timed(entry_stamp(t, near, True)) if tag in HEADINGS and tag != "h1" else None
                for tag, t in zip(tags, texts, strict=True)]
    if sum(1 for m in headings if m) >= 2:
        return (_split(stream, texts, headings, near, False, noise),
                "headings with a clock time")
    found = repeated(main, weight)
    if found:
        parent, members, signature = found
        return (from_containers(parent, members, near),
                f"repeated <{signature}> elements")
    paragraphs = _paragraph_marks(stream, texts, near, set())
    updates = [tag not in HEADINGS and bool(UPDATE_RE.match(t))
               for tag, t in zip(tags, texts, strict=True)]
    # timed "Update …" lines over a report: the report is one entry, not the last update's
    if any(updates) and all(u for u, m in zip(updates, paragraphs, strict=True) if m):
        return (_by_updates(stream, texts, near),
                "'Update …:' paragraphs over the original report")
    # lists and tables of timed items are paragraphs too, one an item
    lines, items = timed_items(stream)
    line_texts, marks = texts, paragraphs
    if items:
        text_of = dict(zip(stream, texts, strict=True))
        line_texts = [text_of[el] if el in text_of else spaced_text(el) for el in lines]
        marks = _paragraph_marks(lines, line_texts, near, items)
    if sum(1 for m in marks if m) >= 2:
        as_blocks(lines)
        return (_split(lines, line_texts, marks, near, False, noise),
                "paragraphs that open with a clock time")
    if sum(1 for el, t in zip(stream, texts, strict=True)
           if tag_of(el) == "hr" or (t and RULE_RE.match(t))) >= 2:
        return _by_rules(stream, noise), "rules between entries (<hr>, ___, ***)"
    for level in ("h2", "h3"):
        if tags.count(level) >= 2:
            marks = [(times.Stamp(), 0) if tag == level else None for tag in tags]
            return _split(stream, texts, marks, near, True, noise), f"<{level}> sections"
    return [Entry("", stream, times.Stamp(), lead=True)], "none: the whole page is one item"


def _unrepeated(sections: list[Section], noise: Noise) -> list[Section]:
    """Sections without the earlier copies of an entry the page shows twice (a pinned
    post on top of the stream that holds it too): same headline, time and text."""
    last = {(s.headline, s.published, s.text): n for n, s in enumerate(sections)
            if len(s.text) >= 60}
    kept = [s for n, s in enumerate(sections)
            if last.get((s.headline, s.published, s.text), n) == n]
    for _ in range(len(sections) - len(kept)):
        noise.add("entries shown twice (pinned posts)")
    return kept


def matches(url: str, selector: Selector) -> str | None:
    """The generic profile reads any page with a body."""
    body = selector.root.find(".//body") if selector.root is not None else None
    if body is None or not has_text(body):
        return None
    return "no site profile and no LiveBlogPosting: read as a generic live page"


def extract(page: str | bytes, url: str, selector: Selector | None = None,
            known: Known | None = None) -> Article:
    """Read any page into entries (see the module's doc)."""
    return extract_notes(page, url, selector, known)[0]


def _page_title(sel: Selector) -> str:
    for query in ("h1", 'meta[property="og:title"]::attr(content)', "title::text"):
        found = sel.css(query)
        text = found.xpath("string()").get() if query == "h1" else found.get()
        if text and normalize_space(text):
            return normalize_space(text)
    return ""


def extract_notes(page: str | bytes, url: str, selector: Selector | None = None,
                  known: Known | None = None) -> tuple[Article, Notes]:
    """extract(), and how the page was read (for `inspect`)."""
    sel = selector if selector is not None else page_selector(page)
    canonical = clean_url(sel.css('link[rel="canonical"]::attr(href)').get()
                          or sel.css('meta[property="og:url"]::attr(content)').get()
                          or url, url) or to_uri(url)
    title = _page_title(sel)
    language = sel.xpath("/html/@lang").get()
    page_times = times.page_times(sel, canonical)
    notes = Notes()
    noise = Noise(notes.noise)
    root = sel.root
    if root is None or root.find(".//body") is None:
        raise ExtractError(f"{url}: extraction found nothing: the page has no body")
    # noise is looked for in the content only: the rest of the page is left out anyway
    main, weight, notes.main = main_content(root)
    strip_noise(main, noise)
    strip_link_blocks(main, noise)
    anchor = page_times.get("modified") or page_times.get("published") or page_times.get("url")
    near = anchor.value.date() if anchor else None
    # the page's headline is the feed's title, not an entry's text
    stream = [el for el in blocks(main) if tag_of(el) != "h1"]
    texts = [quick_text(el) for el in stream]
    entries, notes.marker = _marker(stream, texts, main, weight, near, noise)
    # a zone is written right after a time, and times open their blocks
    zones = Counter(ZONE_WRITTEN_RE.findall(" ".join(t[:60] for t in texts)))
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
        if not entry.head and entry.elements and (tag_of(entry.elements[0]) in HEADINGS or (
                not entry.lead and len(entry.elements) > 1 and bold_title(entry.elements[0]))):
            # an entry that opens with a heading (below a clock on a line of its own), or
            # with a paragraph of nothing but bold text
            entry.head = bold_title(entry.elements[0]) or quick_text(entry.elements[0])
            entry.elements = entry.elements[1:]
        html, text, digest = sanitize_known(entry.elements, canonical, None, known, NAME)
        if not (text or entry.head):
            noise.add("empty entries")
            continue
        if ORIGINAL_RE.match(text):
            entry.lead = True  # the original report under its updates: the article's title
        headline = entry.head or (title if entry.lead else "") or derived_title(
            text, html) or "…"
        key = ("p-" + re.sub(r"[^A-Za-z0-9._-]", "", entry.key)) if entry.key else None
        sections.append(Section(headline=headline, html=html, text=text, published=when,
                                source_key=key, authors=entry.authors, raw_digest=digest,
                                is_lead=entry.lead))
    sections = _unrepeated(sections, noise)
    if not sections:
        raise ExtractError(f"{url}: extraction found nothing: no text in the page's body")
    parts = urlsplit(canonical)
    digest = hashlib.sha256(f"{parts.netloc}{parts.path}".encode()).hexdigest()[:12]
    article = Article(
        article_id=f"u-{digest}", host=parts.hostname or "localhost", url=canonical,
        title=title or canonical, feed_title=title or canonical, language=language,
        sections=tuple(sections),
        profile=NAME, source=f"dom: {notes.marker}",
        published=times.to_utc(page_times["published"].value, zone.tz)
        if "published" in page_times else None,
        modified=times.to_utc(page_times["modified"].value, zone.tz)
        if "modified" in page_times else None)
    return article, notes
