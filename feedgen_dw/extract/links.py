"""Link lists in a page's content: related-article lists, "Read also" lines, tables of
contents, taken out before the content is split into entries (the generic profile)."""

from __future__ import annotations

import re

from lxml import etree

from feedgen_dw.extract.content import HEADINGS, Noise, remove, spaced_text, tag_of

# a block whose text is mostly links ("Mehr zum Thema", "Related", "Lesen Sie auch: …")
LINK_BLOCKS = frozenset("p ul ol dl div section".split())
LINK_SHARE = 0.6
LINK_BLOCK_LIMIT = 800  # longer blocks are content with links in it
# a line that sends the reader elsewhere: "Lesen Sie auch: <a>…</a>"
READ_ALSO = re.compile(
    r"^\W{0,3}(?:lesen sie (?:auch|mehr)|lies auch|mehr zum thema|auch interessant|"
    r"das könnte sie (?:auch )?interessieren|read (?:more|also)|see also|related|more on this|"
    r"(?:à )?lire aussi|lea también|leer también|leggi anche|lees ook|lees meer|"
    r"czytaj (?:też|także)|zobacz (?:też|także)|čtěte také|přečtěte si také|läs också|"
    r"les også|læs også)\b", re.I)


def strip_link_blocks(root: etree._Element, noise: Noise) -> None:
    """Remove blocks under `root` whose text is mostly links: related-article lists,
    "Read also" lines, tables of contents. A link in a heading (an entry's permalink)
    counts as text, and a block with a <time> is an entry's header (a permalink on its
    time), never a link list."""
    if root.find(".//a[@href]") is None:
        return  # no link, no link list (most entries' text, a page of paragraphs)
    length: dict[etree._Element, int] = {}
    linked: dict[etree._Element, int] = {}
    # the elements themselves, not their id(): a proxy's id is reused once it is freed
    timed = {t for el in root.iter("time") for t in (el, *el.iterancestors())}
    # as in weights(): each text read once from lxml, the lookups bound once
    length_of, linked_of = length.get, linked.get
    for el in reversed(list(root.iter(etree.Element))):
        text = el.text
        total = len(text.strip()) if text else 0
        links = 0
        if len(el):
            for child in el:
                tail = child.tail
                total += length_of(child, 0) + (len(tail.strip()) if tail else 0)
                links += linked_of(child, 0)
        tag = el.tag.lower()
        if tag in HEADINGS:
            links = 0
        elif tag == "a" and el.get("href") is not None:
            links = total
        length[el], linked[el] = total, links
    doomed = []
    stack = [iter(root)]
    while stack:
        found = next(stack[-1], None)
        if found is None:
            stack.pop()
            continue
        el, tag = found, tag_of(found)
        total = length.get(el, 0)
        links = linked.get(el, 0)
        candidate = (tag in LINK_BLOCKS or "-" in tag) and 0 < total <= LINK_BLOCK_LIMIT and (
            links > 0 and el not in timed)
        if candidate and (links >= LINK_SHARE * total or (
                total < 300 and READ_ALSO.match(spaced_text(el)))):
            doomed.append(el)
            continue
        stack.append(iter(el))
    for el in doomed:
        noise.add("link lists and 'read also' lines")
        remove(el)
