"""What an edit added to a section, for `on_edit: announce`; the short items it emits.

Most readers (Miniflux, NetNewsWire, Thunderbird, FreshRSS by default) never show an
updated item as unread again, so a section that grows by a paragraph reaches nobody
when it is only updated in place. Under `announce` such an edit also emits a new item
holding just the added blocks. Pure: text in, text out, no clock.

What counts as added: the section's words before and after are aligned (difflib); words
inserted, and the surplus of a replaced run over what it replaced, are added. A typo fix
or a reworded phrase replaces words with about as many (adds 0 to 3); a new sentence in a
news text has 10 to 25 words. ANNOUNCE_MIN_WORDS sits between the two.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from html import escape

import lxml.html
from lxml import etree

ANNOUNCE_MIN_WORDS = 8
# content_hash of an announce item's state: never a real hash (those are hex), so the
# diff tells these items from sections and never matches a section against them
ANNOUNCE_HASH = "announce"
WORD_RE = re.compile(r"\w+")
REMOVED_NOTE = "<p>This section is no longer in the article.</p>"


def _blocks(fragment: str) -> list[tuple[str, list[str]]]:
    """The top-level blocks of an HTML fragment: (their HTML, their words)."""
    if not fragment.strip():
        return []
    blocks: list[tuple[str, str]] = []
    for part in lxml.html.fragments_fromstring(fragment):
        if isinstance(part, str):
            blocks.append((f"<p>{escape(part)}</p>", part))
        elif isinstance(part.tag, str):  # not a comment
            blocks.append((
                etree.tostring(part, encoding="unicode", method="html", with_tail=False),
                etree.tostring(part, encoding="unicode", method="text", with_tail=False)))
            if part.tail and part.tail.strip():  # loose text after a block
                blocks.append((f"<p>{escape(part.tail)}</p>", part.tail))
    return [(markup, WORD_RE.findall(text.casefold())) for markup, text in blocks]


def added_html(old_html: str, new_html: str) -> str:
    """The blocks of `new_html` that hold text added since `old_html`, as HTML; "" when
    fewer than ANNOUNCE_MIN_WORDS words were added (a typo fix, a rewording, a removal)."""
    old_words = [w for _, words in _blocks(old_html) for w in words]
    blocks = _blocks(new_html)
    new_words = [w for _, words in blocks for w in words]
    matcher = SequenceMatcher(None, old_words, new_words, autojunk=False)
    added, marked = 0, set[int]()
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        grew = (j2 - j1) - (i2 - i1) if tag == "replace" else j2 - j1 if tag == "insert" else 0
        if grew > 0:
            added += grew
            marked.update(range(j1, j2))
    if added < ANNOUNCE_MIN_WORDS:
        return ""
    out, start = [], 0
    for markup, words in blocks:
        if marked.intersection(range(start, start + len(words))):
            out.append(markup)
        start += len(words)
    return "".join(out)
