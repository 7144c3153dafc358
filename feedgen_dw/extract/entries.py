"""Entries of the generic profile: what opens an entry (its time, an update line) and
entries that are elements of their own (repeated containers with a header).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from itertools import repeat

from lxml import etree

from feedgen_dw.extract import structured, times
from feedgen_dw.extract.content import HEADINGS, class_tokens, is_container, remove, tag_of
from feedgen_dw.extract.html import normalize_space, quick_text
from feedgen_dw.extract.titles import strip_lead

UPDATE_RE = re.compile(
    r"^\W{0,3}(?:(?:letztes\s+|neues\s+)?update|aktualisierung|nachtrag|erstmeldung|"
    r"erste meldung|ursprüngliche meldung|original(?:meldung| report| story)?|updated)\b"
    r"(?:\s*\d{1,2}\b)?", re.I)
ORIGINAL_RE = re.compile(r"^\W{0,3}(?:erstmeldung|erste meldung|ursprüngliche meldung|"
                         r"original(?:meldung| report| story)?)\b", re.I)
DIGIT_RE = re.compile(r"\d")
RULE_RE = re.compile(r"^[\s_*\-=~+•·#]{3,}$")
CLOCK_ONLY_RE = re.compile(r"^\d{1,2}[.:]\d\d\s*(?:[ap]\.?m\.?|Uhr|\(?[A-Z]{2,4}\)?)?$")
AUTHOR_TOKENS = frozenset({"author", "byline", "autor", "contributor", "autorin"})
TITLE_TOKENS = frozenset({"title", "headline", "heading", "ueberschrift", "titel"})
# an entry's id when it has no `id`
KEY_ATTRS = ("id", "data-post-id", "data-entry-id", "data-id", "data-uuid")
# "By Jo Miller", "Von Anna Berg": the word before a byline's names
BYLINE_RE = re.compile(r"^(?:by|von|par|por|di|door|av|przez)\s+", re.I)
ID_NUMBER_RE = re.compile(r"[\d_-]+$")




@dataclass
class Entry:
    """One entry as split from the page, before its time is placed."""

    head: str  # its own headline, "" when it has none
    elements: list[etree._Element]
    stamp: times.Stamp
    key: str | None = None  # an id the page gives it
    authors: tuple[str, ...] = ()
    lead: bool = False  # the text before the first section, or the whole page: the page title


def entry_stamp(text: str, near: date | None, loose: bool) -> tuple[times.Stamp, int]:
    """The time an entry's opening text gives, and where that prefix ends (0: none)."""
    if not DIGIT_RE.search(text, 0, 80):
        return times.Stamp(), 0  # most blocks: no number near the start, no time
    prefix = UPDATE_RE.match(text)
    start = prefix.end() if prefix else 0
    head = text[start:start + 60]
    clock = times.parse_clock(head.lstrip(" ,:–—-"), at_start=True, loose=loose) or (
        times.parse_clock(head, at_start=False, loose=loose) if prefix else None)
    day = times.parse_day(head, near) if prefix else None
    if clock is None and not prefix:
        # a date before the time: "12.03.2025, 18:03 Uhr", "March 12, 2025, 1:23 p.m."
        lead = head.lstrip(" +*•|[(–—-")
        day, after = times.date_lead(lead, near)
        clock = times.parse_clock(lead[after:], at_start=True, loose=True) if day else None
        if clock is None:
            return times.Stamp(), 0
        return times.Stamp(clock=clock, day=day), len(head) - len(lead) + after + clock.end
    if clock is None and day is None:
        return times.Stamp(), 0
    end = start
    if clock is not None:
        end = head.find(head.lstrip(" ,:–—-")) + start + clock.end if not prefix else (
            start + _clock_end(head, clock))
    return times.Stamp(clock=clock, day=day), end


LIST_ITEMS = {"ul": ("li",), "ol": ("li",), "dl": ("dt", "dd"), "table": ("tr",)}


def timed_items(stream: list[etree._Element]) -> tuple[list[etree._Element], set[etree._Element]]:
    """The stream with each list, definition list or table whose items open with a clock
    time ("<li><span>18:03</span> Text", "<tr><td>18:03</td><td>Text", "<dt>18:03</dt>
    <dd>Text") replaced by its items, and those items (their bare clock times count).
    Nothing changes in the tree: as_blocks() does, for the items that become entries."""
    out: list[etree._Element] = []
    items: set[etree._Element] = set()
    for el in stream:
        kinds = LIST_ITEMS.get(tag_of(el))
        if kinds is None:
            out.append(el)
            continue
        rows = [r for r in (el.iter("tr") if kinds == ("tr",) else el) if tag_of(r) in kinds]
        timed = [r for r in rows if times.parse_clock(opening_text(r, 30), loose=True)]
        if len(timed) < 2 or len(timed) * 2 < len([r for r in rows if tag_of(r) != "dd"]):
            out.append(el)
            continue
        out.extend(rows)
        items.update(timed)
    return out, items


def as_blocks(stream: list[etree._Element]) -> None:
    """List items and table rows of `stream` made blocks of their own (an item apart from
    its list is no <li> any more, a row's cells are text)."""
    for row in stream:
        if tag_of(row) in ("li", "tr", "dt", "dd"):
            row.tag = "div"
            for cell in row:
                if tag_of(cell) in ("td", "th"):
                    cell.tag, cell.tail = "span", " " + (cell.tail or "")


def _clock_end(head: str, clock: times.Clock) -> int:
    found = times.CLOCK_RE.search(head)
    return found.end() if found else 0


def _time_of(el: etree._Element, near: date | None) -> times.Stamp:
    """A container's own time: an ISO `datetime`, an epoch attribute, a time element's
    text or a clock at the start of its text. A time element is taken out of the entry
    (it is shown as the item's time, not in its text)."""
    for node in el.iter("time", "abbr"):
        # <time datetime>, and the microformat <abbr class="published" title="ISO">
        when = times.parse_iso(node.get("datetime") or node.get("title"))
        if when is not None:
            _drop_time(node)
            return times.Stamp(full=when)
    # one walk for two questions: the first time attribute (which wins), and the first
    # time-classed part that shows a clock (taken when no part has a time attribute)
    classed: tuple[etree._Element, str, times.Clock] | None = None
    for node in el.iter(etree.Element):
        # the entry's own time attributes, else the first of its parts': a `title` or
        # `datetime` in ISO ("<span title=ISO>5 min ago</span>"), a microdata date, an
        # epoch in a data attribute
        when = structured.attribute_time(node) if node.attrib else None
        if when is not None:
            if node is not el and (node.get("title") or node.get("datetime")):
                _drop_time(node)
            return times.Stamp(full=when)
        if classed is None and _time_classed(node):
            text = quick_text(node)
            clock = times.parse_clock(text, at_start=False, loose=True)
            if clock is not None and len(text) < 40:
                classed = (node, text, clock)
    if classed is not None:
        node, text, clock = classed
        _drop_time(node)
        return times.Stamp(clock=clock, day=times.parse_day(text, near))
    opening = opening_text(el)
    # a bare "18:03" counts when it stands alone in the element that opens the entry
    first = next((t.strip() for t in el.itertext() if isinstance(t, str) and t.strip()), "")
    stamp = entry_stamp(opening, near, loose=bool(CLOCK_ONLY_RE.match(first)))[0]
    if stamp.clock is not None:
        for node in el.iter():
            if not len(node) and CLOCK_ONLY_RE.match(quick_text(node)):
                _drop_time(node)  # "21:15 CEST" on a line of its own: the item's time
                break
    return stamp


def opening_text(el: etree._Element, limit: int = 80) -> str:
    """The first `limit` characters of `el`'s text, its pieces kept apart ("21:15 CEST"
    in a span before a heading is not "21:15 CESTEl Gobierno")."""
    parts: list[str] = []
    size = 0
    for piece in el.itertext():
        if isinstance(piece, str) and piece.strip():
            parts.append(piece.strip())
            size += len(parts[-1]) + 1
            if size >= limit:
                break
    return " ".join(parts)[:limit]


def _shown_time(node: etree._Element) -> bool:
    """A short element that shows a time: "12.50 BST", or a time-classed
    "4:23 p.m. ET, March 14, 2025". (Asked of elements without children.)"""
    # an element without children: its text is all of it, no serializing needed
    text = normalize_space(node.text or "") if not len(node) else quick_text(node)
    if CLOCK_ONLY_RE.match(text):
        return True
    return len(text) < 40 and _time_classed(node) and times.parse_clock(
        text, at_start=False, loose=True) is not None


def _time_classed(node: etree._Element) -> bool:
    if tag_of(node) == "time":
        return True
    classes = node.get("class")
    if not classes:
        return False  # most elements
    low = classes.lower()
    return "time" in low or "date" in low or "zeit" in low or "datum" in low


def _drop_time(node: etree._Element) -> None:
    if len(quick_text(node)) < 40:
        remove(node)


def _has_time(el: etree._Element) -> bool:
    return any(structured.time_attribute(str(name)) for name in el.attrib) or el.find(
        ".//time") is not None or any(
        "time" in (n.get("class") or "").lower() for n in el.iter())


def repeated(main: etree._Element, weight: dict[etree._Element, int]
              ) -> tuple[etree._Element, list[etree._Element], str] | None:
    """The largest set of sibling elements of one kind that hold most of the text: one
    entry each (`article.block`, `div.post`, `li.update`)."""
    total = max(weight.get(main, 0), 1)
    best: tuple[float, etree._Element, list[etree._Element], str] | None = None
    weight_of = weight.get
    for parent in main.iter(etree.Element):
        size = len(parent)
        if size < 2:
            continue
        # members cover at most what all the children weigh: most parents (a header, a
        # paragraph with links) hold too little of the text to be asked further (weights
        # are never negative; summed by map(), not a generator, as it is asked of most)
        if sum(map(weight_of, parent, repeat(0, size))) < 0.5 * total:
            continue
        groups: dict[str, list[etree._Element]] = {}
        kids = [(c, tag_of(c), (c.get("class") or "").split()) for c in parent
                if isinstance(c.tag, str)]
        # an entry's kind is the class it shares with most siblings, not its first one
        # ("liveblog--highlight liveblog--anchor" is one of the "liveblog--anchor" entries)
        shared = Counter((tag, token) for _, tag, classes in kids for token in set(classes))
        for child, tag, classes in kids:
            if tag not in ("article", "section", "li") and not is_container(tag):
                continue
            prefix = ID_NUMBER_RE.sub("", child.get("id") or "")
            kind = max(classes, key=lambda t: shared[(tag, t)]) if classes else prefix
            groups.setdefault(f"{tag}.{kind}", []).append(child)
        for signature, members in groups.items():
            # two entries only when each says it is one: a time of its own (a live page's
            # first hour); three of a kind are entries anyway
            if len(members) < 2 or (len(members) == 2 and not all(map(_has_time, members))):
                continue
            composite = sum(1 for m in members if _parts(m) >= 2)
            covered = sum(max(weight.get(m, 0), 0) for m in members) / total
            if composite * 10 < len(members) * 6 or covered < 0.5:
                continue
            if best is None or covered > best[0]:
                best = (covered, parent, members, signature)
    return (best[1], best[2], best[3].rstrip(".")) if best else None


def _parts(el: etree._Element) -> int:
    """How many elements `el` holds, looking through wrappers of one element each
    (`li > article > header + div`)."""
    for _ in range(4):
        children = [c for c in el if isinstance(c.tag, str)]
        if len(children) != 1:
            return len(children)
        el = children[0]
    return 1


def _title_of(el: etree._Element) -> tuple[str, etree._Element | None]:
    """An entry's own headline: a heading in it, else an element classed as its title."""
    for node in el.iter(*HEADINGS):
        text = quick_text(node)
        if text:
            return text, node
    for node in el.iter():
        if class_tokens(node.get("class")) & TITLE_TOKENS and node is not el:
            text = quick_text(node)
            if 0 < len(text) < 200:
                return text, node
    first = next((n for n in el.iter("p") if quick_text(n)), None)
    text = bold_title(first) if first is not None else ""
    return (text, first) if text else ("", None)


def bold_title(p: etree._Element) -> str:
    """The headline a paragraph of nothing but bold text is ("<p><strong>Headline</strong>
    </p>" opening an entry), or ""."""
    if tag_of(p) != "p" or len(p) != 1 or tag_of(p[0]) not in ("strong", "b") or (
            (p.text or "").strip() or (p[0].tail or "").strip()):
        return ""
    text = strip_lead(quick_text(p)).strip(" +*|:–—-")
    return text if 12 <= len(text) < 120 else ""


def from_containers(parent: etree._Element, members: list[etree._Element],
                     near: date | None) -> list[Entry]:
    entries: list[Entry] = []
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
                if not len(shown) and _shown_time(shown):
                    remove(shown)  # "12.50 BST" beside the machine time: the same time
        if stamp.day is not None:
            group += 1  # a date of its own: crossings count from here
        stamp.day, stamp.group = stamp.day or day, group
        head, node = _title_of(child)
        if node is not None:
            remove(node)
        key = next((child.get(a) for a in KEY_ATTRS if child.get(a)), None)
        entries.append(Entry(head, [child], stamp, key if key and len(key) <= 64 else None,
                              _authors(child)))
    return entries


def _authors(entry: etree._Element) -> tuple[str, ...]:
    """The entry's byline (an element classed author/byline, else what is left of its
    header), taken out of its text."""
    found = [n for n in entry.iter() if n is not entry and n.attrib and (
        class_tokens(n.get("class")) & AUTHOR_TOKENS
        or n.get("rel") == "author" or n.get("itemprop") == "author")]
    if not found:
        found = [n for n in entry if tag_of(n) == "header"]
    names = []
    for node in found:
        text = quick_text(node)
        text = BYLINE_RE.sub("", text)
        # a name has no digits: a header's leftovers with some (race times, scores,
        # counters) are not a byline
        if (2 < len(text) < 60 and not any(c.isdigit() for c in text)
                and any(n is node for n in entry.iter())):
            names.append(text)
            remove(node)
    return tuple(dict.fromkeys(names))
