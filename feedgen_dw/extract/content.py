"""The main content of any page: page furniture and noise out, the text-holding element found.

Scoring is our own, over the lxml tree the page was parsed into once: every element
weighs the length of its visible text, link text counting against it (navigation, teaser
lists and share bars are mostly links). From <body> down, the walk enters the child
holding most of its parent's weight while that child holds at least 60 % of it, so it
stops at the element whose children share the text: an article body, or a live blog's
list of entries. readability-lxml 0.9 picks the best single block instead, which on a live
blog is often one entry: on the 10 saved live pages and our 12 fixtures its summary held
146 of 256 entry openings that ours holds 212 of (it lost all of Express, sportowefakty,
corkbeo, Mirror and Times of India), at 8 to 10 times our time (40-330 ms a page against
5-35 ms), so it is not a dependency.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import cast

from lxml import etree

from feedgen_dw.extract import structured, times

# never content: removed with everything inside
FURNITURE = frozenset(
    "script style noscript template nav aside form button select textarea iframe svg "
    "canvas video audio object embed dialog menu".split())
FURNITURE_ROLES = frozenset({"navigation", "complementary", "banner", "contentinfo", "search",
                             "dialog", "menu", "toolbar"})
AD_TOKENS = frozenset({"ad", "ads", "advert", "advertisement", "anzeige", "werbung", "sponsor",
                       "sponsored", "outbrain", "taboola", "dfp", "adslot", "adunit", "banner",
                       "commercial", "paywall", "newsletter", "promo"})
SHARE_TOKENS = frozenset({"share", "sharing", "social", "sharebar", "socials", "teilen"})
SHARE_HOSTS = re.compile(
    r"^(?:mailto:|whatsapp:|https?://(?:[\w-]+\.)*(?:facebook\.com|twitter\.com|x\.com|"
    r"wa\.me|whatsapp\.com|t\.me|telegram\.me|linkedin\.com|pinterest\.\w+|reddit\.com|"
    r"xing\.com|flipboard\.com|bsky\.app)/(?:sharer|share|intent|submit|send|pin|"
    r"shareArticle|\?|sharing|dialog))", re.I)
RELATIVE_TIME = re.compile(
    r"^(?:(?:aktualisiert|updated|zuletzt aktualisiert|mis à jour|actualizado|aggiornato)"
    r"\s*:?\s*)?(?:vor\s+(?:\d+|einer?|wenigen)"
    r"\s+(?:sekunden?|minuten?|stunden?|tag(?:en)?|min\.?|std\.?)|\d+\s*(?:s|sec|secs|seconds?|m|"
    r"mins?|minutes?|h|hrs?|hours?|d|days?)\s+ago|an?\s+(?:minute|hour|day)\s+ago|gerade eben|"
    r"just now|soeben|"
    # il y a 5 min, hace 5 minutos, 5 minuti fa, 5 minuten geleden, 5 min temu, för 5 min sedan
    r"il y a\s+\d+\s*(?:s|sec|min|minutes?|h|heures?|jours?)|hace\s+\d+\s*(?:s|min|minutos?|h|"
    r"horas?|días?)|\d+\s*(?:min|minut[io]|or[ae]|giorni?)\s+fa|\d+\s*(?:min|minuten?|uur|"
    r"dagen?)\s+geleden|\d+\s*(?:min|minut[ay]?|godz\.?|godzin[ay]?)\s+temu|för\s+\d+\s*"
    r"(?:min|minuter|timmar?)\s+sedan|à l'instant|ahora mismo|adesso|zojuist)$", re.I)
MACHINE_TIME = re.compile(r"^\d{9,13}$")  # an epoch shown as text before a script formats it
COUNTER = re.compile(
    r"^\d[\d.,]*\s*[kKm]?\s*(?:comments?|kommentare?|shares?|likes?|views?|reactions?|"
    r"aufrufe|mal geteilt)$", re.I)
# a post's labels, not its text
LABEL = re.compile(r"^(?:pinned(?: post)?|angeheftet|angepinnt|oben angeheftet|épinglé|"
                   r"fijado|fissato|key (?:event|update)|highlight)$", re.I)
# reader comments: never the content (a long thread outweighs a short blog)
COMMENT_TOKENS = frozenset({"comments", "commentlist", "kommentare", "leserkommentare",
                            "disqus"})
COUNTER_TOKENS = frozenset({"count", "counter", "comments", "shares", "likes", "views"})
CONTAINERS = frozenset("div section article main span header footer center body".split())
HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
BLOCKS = frozenset("p h1 h2 h3 h4 h5 h6 ul ol dl figure blockquote table pre hr".split())


@dataclass
class Noise:
    """What was taken out of the page as noise, counted by reason (for `inspect`)."""

    counts: Counter[str] = field(default_factory=Counter)

    def add(self, reason: str) -> None:
        self.counts[reason] += 1


def tag_of(el: etree._Element) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


# where relative times and counters are written: small inline elements
SHORT_TEXT_TAGS = frozenset("span time div a small b strong em i p li abbr".split())


@lru_cache(maxsize=4096)
def class_tokens(classes: str | None, ident: str | None = None) -> frozenset[str]:
    """The words of a class and id, lower case, split at spaces, '_' and '-'."""
    # a page repeats its classes on every entry, ad slot and link: split each once
    raw = f"{classes or ''} {ident or ''}".lower()
    return frozenset(raw.replace("_", " ").replace("-", " ").split())


@lru_cache(maxsize=4096)
def _token_reason(tokens: frozenset[str]) -> str | None:
    # asked of every element with a class or id, and a page repeats its classes
    if not tokens.isdisjoint(COMMENT_TOKENS):
        return "reader comments"
    if not tokens.isdisjoint(AD_TOKENS):
        return "ad slots and promotions"
    return "sharing links" if not tokens.isdisjoint(SHARE_TOKENS) else None


def _noise_reason(el: etree._Element, tag: str) -> str | None:
    if tag in FURNITURE:
        return "page furniture (navigation, scripts, forms, embeds)"
    tokens: frozenset[str] = frozenset()
    if el.attrib:  # most elements have no attribute: none of these can say anything
        # one copy of the few attributes: five lookups through lxml cost twice as much
        attrib = cast(dict[str, str], dict(el.items()))
        if (attrib.get("role") or "").lower() in FURNITURE_ROLES:
            return "page furniture (navigation, scripts, forms, embeds)"
        if "hidden" in attrib or attrib.get("aria-hidden") == "true":
            return "hidden elements"
        tokens = class_tokens(attrib.get("class"), attrib.get("id"))
        reason = _token_reason(tokens) if tokens else None
        if reason:
            return reason
        if tag == "a" and SHARE_HOSTS.match(attrib.get("href") or ""):
            return "sharing links"
    if tag not in SHORT_TEXT_TAGS:
        return None
    children = len(el)
    if children > 2:
        return None
    own = el.text  # lxml makes a new string each time it is asked
    if not (children or (own and not own.isspace())):
        return None
    if not children and len(own or "") > 120:
        return None  # a paragraph, not a label
    if children:
        raw = etree.tostring(el, method="text", encoding="unicode", with_tail=False)
        # a label is short: folding the first 200 characters already tells an entry's
        # body from one (folding more text never makes it shorter), and costs a tenth
        if len(" ".join(raw[:200].split())) >= 40:
            return None
        text = " ".join(raw.split())
    else:
        text = " ".join((own or "").split())
    if not text or len(text) >= 40:
        return None
    if RELATIVE_TIME.match(text) or MACHINE_TIME.match(text):
        return "relative times ('vor 3 Stunden', '5 mins ago')"
    if LABEL.match(text):
        return "labels ('Pinned', 'Key event')"
    counter = COUNTER.match(text) or (text.isdigit() and tokens & COUNTER_TOKENS)
    if counter and tag in ("span", "div", "a", "small", "b", "strong"):
        return "counters (comments, shares, views)"
    return None


def remove(el: etree._Element) -> None:
    """Take `el` out of the tree, keeping its tail text in place."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def strip_noise(root: etree._Element, noise: Noise) -> None:
    """Remove page furniture, ad slots, sharing links, relative times and counters under
    `root` (in place), counting them in `noise`."""
    doomed = []
    for el in root.iter():
        tag = el.tag
        if not isinstance(tag, str):
            doomed.append((el, ""))  # comments and processing instructions
            continue
        if el is root:
            continue
        reason = _noise_reason(el, tag.lower())
        if reason:
            doomed.append((el, reason))
    gone: set[int] = set()
    for el, reason in doomed:
        if any(id(a) in gone for a in el.iterancestors()):
            continue
        gone.add(id(el))
        if reason:
            noise.add(reason)
        held = next((n for n in el.iter() if isinstance(n.tag, str)
                     and structured.attribute_time(n) is not None), None)
        if held is not None:
            # the machine time stays readable (in the element that holds it, emptied);
            # only the "4m ago" shown for it goes
            for child in list(held):
                held.remove(child)
            held.text = None
            if held is not el:
                for child in list(el):
                    el.remove(child)
                el.text, held.tail = None, None
                el.append(held)
            continue
        remove(el)


def spaced_text(el: etree._Element) -> str:
    """`el`'s text with its pieces kept apart ("Related" in an <h3> above a list)."""
    return " ".join(" ".join(p for p in el.itertext() if isinstance(p, str)).split())


def weights(root: etree._Element) -> dict[etree._Element, int]:
    """Visible text length under each element; links count nothing, and a block that is
    mostly links (navigation, teaser lists) counts nothing either."""
    weight: dict[etree._Element, int] = {}
    length: dict[etree._Element, int] = {}
    # the one walk of the whole body a poll makes, so every lxml read counts: each text
    # read once (lxml makes a new string each time), attributes only where there are any
    weight_of, length_of = weight.get, length.get
    for el in reversed(list(root.iter(etree.Element))):
        tag = el.tag
        if tag in FURNITURE:
            continue  # scripts hold much text that nobody reads
        if el.attrib:  # reader comments (`div#comments`, `ol.commentlist`): no content
            classes, ident = el.get("class"), el.get("id")
            if (classes is not None or ident is not None) and not COMMENT_TOKENS.isdisjoint(
                    class_tokens(classes, ident)):
                continue
        text = el.text
        total = kept = len(text.strip()) if text else 0
        if len(el):
            for child in el:
                tail = child.tail
                tail_length = len(tail.strip()) if tail else 0
                total += length_of(child, 0) + tail_length
                kept += weight_of(child, 0) + tail_length
        length[el] = total
        # a link's text, and a block whose text is more than half links, weigh nothing
        weight[el] = 0 if tag == "a" or kept * 2 < total else kept
    return weight


ENTRY_TEXT = 80  # an entry's own text is longer than its time and byline


def main_content(root: etree._Element) -> tuple[etree._Element, dict[etree._Element, int], str]:
    """The element holding the page's content, the weights, and why (for `inspect`)."""
    body = root.find(".//body")
    node = body if body is not None else root
    weight = weights(node)
    total = max(weight.get(node, 0), 1)
    while True:
        children = [c for c in node if isinstance(c.tag, str)]
        if not children:
            break
        best = max(children, key=lambda c: weight.get(c, 0))
        # a paragraph or list is never the content itself: its container is
        share = weight.get(best, 0)
        if not is_container(tag_of(best)) or share <= 0 or share < 0.6 * weight.get(node, 0):
            break
        if _one_of_entries(best, children, weight):
            break  # one long entry among its timed siblings: the list of them is the content
        node = best
    share = max(0, min(100, 100 * weight.get(node, 0) // total))
    return node, weight, f"<{describe(node)}> with {share}% of the page's text"


def _one_of_entries(el: etree._Element, siblings: list[etree._Element],
                    weight: dict[etree._Element, int]) -> bool:
    """`el` and a sibling of its kind (its tag, a class in common) both show a time, and
    `el` holds no entries itself: they are entries of a live page, `el` just the longest
    (not one of a page's tabs, each a list of entries)."""
    classes = set((el.get("class") or "").split())
    twins = [s for s in siblings if s is not el and s.tag == el.tag and (
        classes & set((s.get("class") or "").split()) if classes else not s.get("class"))]
    return bool(twins) and _timed(el) and any(_timed(t) for t in twins[:4]) and not (
        _holds_entries(el, weight))


def _holds_entries(el: etree._Element, weight: dict[etree._Element, int]) -> bool:
    """Somewhere in `el` two parts with text of their own each show a time."""
    stack = [(el, 0)]
    while stack:
        node, depth = stack.pop()
        timed = 0
        for child in node:
            if not isinstance(child.tag, str) or weight.get(child, 0) < ENTRY_TEXT:
                continue
            if _timed(child):
                timed += 1
                if timed >= 2:
                    return True
            if depth < 4:
                stack.append((child, depth + 1))
    return False


def _timed(el: etree._Element) -> bool:
    """`el` shows a time: a <time>, a time attribute or class, a clock on its own."""
    for n, node in enumerate(el.iter()):
        if n > 2000:
            break
        tag = node.tag
        if not isinstance(tag, str):
            continue
        if tag == "time":
            return True
        attrib = node.attrib  # asked of thousands of elements: most have no attribute
        if attrib and (any(structured.time_attribute(str(a)) for a in attrib) or any(
                t in (attrib.get("class") or "").lower() for t in ("time", "date", "zeit"))):
            return True
        text = node.text
        if text and not len(node) and len(text) < 24 and times.parse_clock(
                text.strip(), loose=True) is not None:
            return True
    return False


def is_container(tag: str) -> bool:
    """A tag that groups blocks: div, section, …, or a custom element (`bsp-liveblog-post`)."""
    return tag in CONTAINERS or "-" in tag


def describe(el: etree._Element) -> str:
    """'div.live-events' / 'section#articlebody': how `inspect` names an element."""
    name = tag_of(el)
    if el.get("id"):
        return f"{name}#{el.get('id')}"
    classes = (el.get("class") or "").split()
    return f"{name}.{classes[0]}" if classes else name


def blocks(root: etree._Element) -> list[etree._Element]:
    """The content blocks under `root` in reading order: containers are entered, blocks
    (paragraphs, headings, lists, figures, rules, text-only divs) are not."""
    out: list[etree._Element] = []
    if not is_container(tag_of(root)):
        return [root]
    stack = [iter(root)]
    while stack:
        el = next(stack[-1], None)
        if el is None:
            stack.pop()
            continue
        tag = tag_of(el)
        if not tag:
            continue
        if is_container(tag) and _holds_blocks(el):
            if (el.text or "").strip():
                out.append(el)  # text straight in a container: keep the whole container
                continue
            stack.append(iter(el))
        else:
            out.append(el)
    return out


def _holds_blocks(el: etree._Element) -> bool:
    """A child of `el` is a block or a container (each child's tag read once)."""
    for child in el:
        tag = child.tag
        if isinstance(tag, str) and ((tag := tag.lower()) in BLOCKS or is_container(tag)):
            return True
    return False
