"""Item titles for every profile: an entry's own headline, else its first sentence.

A derived title leaves out what opens an entry without saying anything (a clock time,
"Update, 17.40 Uhr:", a dateline "KYIV, Ukraine (AP) —") and is cut at a word boundary;
the item's link takes the title as its `#:~:text=` fragment, which must match the page,
so the `…` that marks a cut is never part of it (diff.section_link drops it).
"""

from __future__ import annotations

import re
from datetime import date
from html import unescape

from feedgen_dw.extract.html import normalize_space
from feedgen_dw.extract.names import MONTH_ALTERNATIVES
from feedgen_dw.extract.times import CLOCK_RE, date_lead

SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s")
# "St. Louis", "Ill.", "Nr. 5", "am 3. Mai", "U.S.", "J. Smith": a period that ends no
# sentence
ABBREVIATION_RE = re.compile(
    r"(?:^|[\s(])(?:[A-ZÄÖÜ]|\d{1,2}|\w\.\w+|St|Dr|Mr|Mrs|Ms|Nr|Jr|Sr|Prof|Gen|Gov|Sen|Rep|"
    r"Lt|Col|Sgt|Capt|Mt|Ft|No|Inc|Co|Ltd|vs|ca|bzw|etc|usw|Abs|Art|Str|Ill|Mo|Fla|Calif|Mass|"
    r"Wash|Ga|Va|Pa|Tenn|Tex|Ariz|Okla|Ky|La|Md|Mich|Minn|Miss|Neb|Nev|Ore|Wis|Conn|Kan|Colo|"
    r"Ala|Ark|Jan|Feb|Mar|Apr|Aug|Sept?|Oct|Nov|Dec|Okt|Dez)\.$")


def first_sentence(text: str) -> str:
    """`text` up to the end of its first sentence (not at an abbreviation's period)."""
    for found in SENTENCE_END_RE.finditer(text):
        if not ABBREVIATION_RE.search(text[:found.start()]):
            return text[:found.start()]
    return text


def first_words(text: str, limit: int = 80) -> str:
    """The first sentence of `text`, or its first words up to `limit` characters."""
    sentence = first_sentence(text)
    if len(sentence) <= limit:
        return sentence
    cut = sentence[:limit].rsplit(" ", 1)[0]
    return cut + " …"


LEAD_SEPARATORS = " ,:;|–—-+*•"
UPDATE_PREFIX_RE = re.compile(
    r"^\W{0,3}(?:(?:letztes\s+|neues\s+)?update|aktualisierung|nachtrag|erstmeldung|"
    r"erste meldung|updated)\b[^:–—]{0,40}?(?:[:–—]|\bUhr\b)", re.I)
DATELINE_RE = re.compile(
    r"^[A-ZÄÖÜ][A-ZÄÖÜ.'\- ]{2,30}(?:,\s*[A-Z][\w.' ]{1,25})?\s*"
    r"(?:\([A-Za-z/ ]{1,20}\))?\s*[—–-]\s+")
LEAD_DAY_RE = re.compile(
    r"^(?:(?:" + MONTH_ALTERNATIVES + r")\.?\s+[0-3]?\d\b(?:,?\s+\d{4}\b)?|[0-3]?\d\.?\s+(?:"
    + MONTH_ALTERNATIVES + r")\b\.?"
    r"(?:\s+\d{4})?)[,:\s–—-]*", re.I)
TITLE_LIMIT = 100
ANY_DAY = date(2000, 1, 1)
# "ore 10:45", "kl. 9.30", "Posted at 10:45": a word before an opening clock time
CLOCK_LEAD_WORD_RE = re.compile(r"^(?:posted at|ore|alle|um|kl\.?|klo|kello)\s+(?=\d)", re.I)


def strip_lead(text: str) -> str:
    """`text` without an opening update prefix, clock time, dateline or separators."""
    text = normalize_space(text)
    for _ in range(3):
        before = text
        found = UPDATE_PREFIX_RE.match(text)
        if found:
            text = text[found.end():]
        text = text.lstrip(LEAD_SEPARATORS)
        text = CLOCK_LEAD_WORD_RE.sub("", text, count=1)
        clock = CLOCK_RE.match(text)
        if clock and (clock["minute"] or clock["ampm"]):
            text = text[clock.end():].lstrip(LEAD_SEPARATORS)
        text = DATELINE_RE.sub("", text, count=1)
        text = LEAD_DAY_RE.sub("", text, count=1)
        # a numeric date before a time ("12. 3. 2025 08:15"): which day does not matter here
        day, after = date_lead(text, ANY_DAY)
        if day is not None and CLOCK_RE.match(text, after):
            text = text[after:]
        if text == before:
            break
    return text.strip()


FIRST_BLOCK_RE = re.compile(r"<(p|h[2-6]|li|blockquote)\b[^>]*>(.*?)</\1>", re.S)
TAG_RE = re.compile(r"<[^>]+>")


def derived_title(text: str, html: str = "") -> str:
    """The first sentence of an entry's first paragraph (its `html`, else its `text`),
    without an opening time or dateline, cut at a word boundary; "" when there is none."""
    block = FIRST_BLOCK_RE.search(html)
    if block:
        first = normalize_space(unescape(TAG_RE.sub(" ", block.group(2))))
        text = first if len(strip_lead(first)) >= 12 else text
    body = strip_lead(text) or normalize_space(text)
    return first_words(body, TITLE_LIMIT) if body.strip() else ""


def usable(title: object) -> str:
    """A title from structured data, or "" when it is not text or only white space."""
    return normalize_space(title) if isinstance(title, str) else ""
