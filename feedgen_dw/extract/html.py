"""HTML helpers shared by the site profiles: allow-list sanitizing and text normalization.

Every profile turns page fragments into HTML through `sanitize()`, so item content never
carries scripts, event attributes, tracking parameters or markup noise, and the same
visible content always yields the same bytes (the diff relies on that).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html
from lxml import etree
from parsel import Selector
from parsel.selector import create_root_node

from feedgen_dw import code_digest

# Tags kept as they are; anything else is unwrapped (its children are kept).
ALLOWED_TAGS = frozenset(
    "p br a strong b em i u s ul ol li blockquote q cite h2 h3 h4 h5 h6 figure figcaption "
    "img small sub sup code pre table thead tbody tfoot tr th td hr abbr".split()
)
# Tags dropped with everything inside them.
DROPPED_TAGS = frozenset(
    "script style svg math iframe frame frameset object embed applet noscript template form "
    "input button select textarea option video audio source track canvas head title meta "
    "link base picture map area dialog".split()
)
ALLOWED_ATTRS = {
    "a": ("href", "title"),
    "img": ("src", "alt"),
    "td": ("colspan", "rowspan"),
    "th": ("colspan", "rowspan", "scope"),
    "abbr": ("title",),
    "ol": ("start",),
}
BLOCK_TAGS = frozenset("p li figcaption blockquote h2 h3 h4 h5 h6 td th pre figure".split())
# Elements that may stand at the top of an item's content; anything else gets a <p>.
TOP_LEVEL_BLOCKS = frozenset(
    "p ul ol figure blockquote h2 h3 h4 h5 h6 table pre hr".split()
)
# Elements whose text never runs into the text around it.
TEXT_BREAKS = BLOCK_TAGS | frozenset(
    "div section article header footer ul ol br tr small caption dd dt".split()
)
# Elements that mean something even without text inside.
KEEP_EMPTY = frozenset({"img", "br", "hr", "td", "th"})
TRACKING_PARAMS = re.compile(r"^(utm_\w+|maca|fbclid|gclid|mc_\w+|ref|wt_\w+)$", re.I)
# Characters XML 1.0 cannot carry (control characters, lone surrogates, non-characters).
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
# XML_INVALID's ASCII part, as UTF-8 bytes (no byte of a longer character is below 0x80)
ASCII_INVALID = bytes([*range(0x09), 0x0b, 0x0c, *range(0x0e, 0x20), 0x7f])

ImageSource = Callable[[etree._Element], str | None]


@lru_cache(maxsize=16384)
def _fold(text: str | None) -> str:
    """NFC, XML-safe, every run of (non-breaking) white space folded to one space; a space
    at either end is kept as one space (it separates inline elements)."""
    if not text:
        return ""
    if "\u200b" in text or "\ufeff" in text:  # not white space to str.split()
        text = text.replace("\u200b", " ").replace("\ufeff", " ")
    # str.split() is several times faster than a regex over every space of the page
    core = " ".join(unicodedata.normalize("NFC", text).split())
    if not core.isprintable():  # rare: control characters, lone surrogates, non-characters
        core = XML_INVALID.sub("", core)
    if not core:
        return " " if text[:1].isspace() else ""
    return (" " if text[0].isspace() else "") + core + (" " if text[-1].isspace() else "")


def normalize_space(text: str) -> str:
    """Unicode NFC, XML-safe, every run of (non-breaking) white space folded to one space."""
    return _fold(text).strip()


def element_text(el: etree._Element) -> str:
    """The normalized visible text of an element (scripts and styles left out)."""
    parts: list[str] = []
    _collect_text(el, parts)
    return normalize_space("".join(parts))


def has_text(root: etree._Element) -> bool:
    """element_text(root) != "", decided at the first piece of text: most pages have some
    in their first few elements, and element_text() walks all of them."""
    stack = [root]
    while stack:
        el = stack.pop()
        if el is not root and _fold(el.tail).strip():
            return True
        if not isinstance(el.tag, str) or el.tag.lower() in DROPPED_TAGS:
            continue
        if _fold(el.text).strip():
            return True
        stack.extend(reversed(el))
    return False


def quick_text(el: etree._Element) -> str:
    """The element's text, normalized, from lxml's C text walk: no space is put between
    nested blocks, which is fine for recognising a one-paragraph block."""
    text: str = etree.tostring(el, method="text", encoding="unicode", with_tail=False)
    return normalize_space(text)


def _collect_text(root: etree._Element, parts: list[str]) -> None:
    # a loop, not recursion: hostile pages nest thousands of unclosed tags
    stack: list[tuple[etree._Element, bool]] = [(root, False)]
    while stack:
        el, closing = stack.pop()
        tag = el.tag.lower() if isinstance(el.tag, str) else None
        separate = tag in TEXT_BREAKS
        if closing:
            if separate:
                parts.append(" ")
            if el is not root and el.tail:
                parts.append(el.tail)
            continue
        if tag is None or tag in DROPPED_TAGS:
            if el is not root and el.tail:
                parts.append(el.tail)
            continue
        if separate:
            parts.append(" ")
        if el.text:
            parts.append(el.text)
        stack.append((el, True))
        stack.extend((child, False) for child in reversed(el))


def to_uri(url: str) -> str:
    """Percent-encode an IRI (DW slugs carry umlauts) so feeds hold plain URIs."""
    return quote(url, safe=":/?#[]@!$&'()*+,;=%~")


@lru_cache(maxsize=8192)
def clean_url(url: str | None, base: str) -> str | None:
    """Absolute http(s) URL without tracking parameters, or None when not http(s)."""
    if not url:
        return None
    url = normalize_space(url)
    if not url:
        return None
    try:
        parts = urlsplit(urljoin(base, url))
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not TRACKING_PARAMS.match(k)]
    cleaned = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
    return to_uri(cleaned)


def _append_text(parent: etree._Element, text: str) -> None:
    if not text:
        return
    if len(parent):
        last = parent[-1]
        last.tail = (last.tail or "") + text
    else:
        parent.text = (parent.text or "") + text


def _open(
    el: etree._Element, out: etree._Element, base: str, image_src: ImageSource | None
) -> etree._Element | None:
    """Copy `el` itself (not its children) under `out`: the element its children go into,
    or None when it is dropped with everything inside."""
    tag = el.tag.lower() if isinstance(el.tag, str) else None
    if tag is None or tag in DROPPED_TAGS:
        return None  # comments, processing instructions and dropped subtrees
    target = out
    if tag == "a" and clean_url(el.get("href"), base) is None:
        tag = "span"  # a link to nowhere safe: keep its text only
    if tag == "small" and out.tag == "figcaption":
        _append_text(out, " ")  # DW writes the credit right after the caption, no space
    if tag in ALLOWED_TAGS:
        target = etree.SubElement(out, tag)
        for name in ALLOWED_ATTRS.get(tag, ()):
            value = el.get(name)
            if value is None:
                continue
            if name == "href":
                value = clean_url(value, base)
            if value is not None:
                target.set(name, _fold(value).strip())
        if tag == "img":
            src = (image_src(el) if image_src else None) or el.get("src") or el.get("data-src")
            src = clean_url(src, base)
            if src is None:
                out.remove(target)
                return None
            target.set("src", src)
    _append_text(target, _fold(el.text))
    return target


def _copy(
    el: etree._Element, out: etree._Element, base: str, image_src: ImageSource | None
) -> None:
    """Allow-list copy of `el` and its subtree under `out` (its tail is the caller's).
    A loop, not recursion: hostile pages nest thousands of unclosed tags."""
    inner = _open(el, out, base, image_src)
    if inner is None:
        return
    stack = [(iter(el), inner)]
    tails: list[tuple[etree._Element, str]] = []  # one per stack frame but the first
    while stack:
        children, target = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if tails:
                parent, tail = tails.pop()
                _append_text(parent, tail)
            continue
        inner = _open(child, target, base, image_src)
        if inner is None:
            _append_text(target, _fold(child.tail))
            continue
        stack.append((iter(child), inner))
        tails.append((target, _fold(child.tail)))


def _prune(root: etree._Element) -> None:
    """Drop elements left empty (ads, stripped embeds) and trim space at block edges."""
    for el in reversed(list(root.iter())):
        if el is root:
            continue
        tag = el.tag
        if tag not in KEEP_EMPTY and not len(el) and not (el.text or "").strip():
            parent = el.getparent()
            if parent is not None:
                _append_text_before(el, el.tail or "")
                parent.remove(el)
    for el in root.iter():
        if el.tag in BLOCK_TAGS or el is root:
            if el.text:
                el.text = el.text.lstrip()
            last = el[-1] if len(el) else None
            if last is None:
                el.text = (el.text or "").rstrip() or None
            elif last.tail:
                last.tail = last.tail.rstrip() or None


def _append_text_before(el: etree._Element, text: str) -> None:
    """Keep the tail of an element that is about to be removed."""
    if not text:
        return
    prev = el.getprevious()
    if prev is not None:
        prev.tail = (prev.tail or "") + text
    else:
        parent = el.getparent()
        if parent is not None:
            parent.text = (parent.text or "") + text


def _wrap_loose_text(root: etree._Element) -> None:
    """Runs of text and inline elements between blocks become paragraphs."""
    nodes: list[etree._Element | str] = []
    if root.text and root.text.strip():
        nodes.append(root.text)
    for child in root:
        nodes.append(child)
        if child.tail and child.tail.strip():
            nodes.append(child.tail)
        child.tail = None
    root.text = None
    for child in list(root):
        root.remove(child)
    para: etree._Element | None = None
    for node in nodes:
        if isinstance(node, str) or node.tag not in TOP_LEVEL_BLOCKS:
            if para is None:
                para = etree.SubElement(root, "p")
            if isinstance(node, str):
                _append_text(para, node)
            else:
                para.append(node)
        else:
            para = None
            root.append(node)


def sanitize(
    elements: Iterable[etree._Element], base: str, image_src: ImageSource | None = None
) -> str:
    """Allow-list copy of `elements` to HTML: safe tags and attributes, absolute http(s) URLs."""
    return sanitize_with_text(elements, base, image_src)[0]


def sanitize_with_text(
    elements: Iterable[etree._Element], base: str, image_src: ImageSource | None = None
) -> tuple[str, str]:
    """sanitize() and the plain text of its result, without parsing the result again."""
    root = etree.Element("div")
    for el in elements:
        _copy(el, root, base, image_src)
        _append_text(root, _fold(el.tail))
    _wrap_loose_text(root)
    _prune(root)
    html = "".join(lxml.html.tostring(child, encoding="unicode") for child in root)
    return html, element_text(root)


def page_selector(page: str | bytes, encoding: str = "utf-8") -> Selector:
    """The parsed page: bytes go to lxml as they are (it decodes while parsing, no decoded
    copy of the page is made); text is parsed as text. The tree is parsel's, parsed as
    parsel parses it, but of plain lxml elements: lxml.html's classes cost a Python lookup
    each time an element is touched from Python, and the generic profile's walks touch
    every element several times."""
    if isinstance(page, bytes):
        # parsel refuses an empty body (an empty text it reads as <html/>)
        root = create_root_node("", etree.HTMLParser, body=page or b"<html/>",
                                encoding=encoding)
        return Selector(root=root, type="html")
    try:
        return Selector(root=create_root_node(page, etree.HTMLParser), type="html")
    except UnicodeEncodeError:
        # lone surrogates (from bad input) stop lxml
        return Selector(root=create_root_node(XML_INVALID.sub("", page), etree.HTMLParser),
                        type="html")


# Part of every raw digest: sections kept from another version of the sanitizer are redone.
SANITIZER_VERSION = code_digest(__file__)
NBSP_ENTITY_RE = re.compile(r"&(?:nbsp|#160|#x0*a0);", re.I)
# raw digest -> (html, text) of sections sanitized in an earlier poll of the feed
Known = Mapping[str, tuple[str, str]]


# The attributes sanitizing reads (ALLOWED_ATTRS, an image's sources, the profiles' image
# sources): the others (classes, ids, styles, data-*) are left out of a raw digest, so a
# site's hashed classes, new with every deployment, do not make a known section unknown.
READ_ATTRS = frozenset({*(a for names in ALLOWED_ATTRS.values() for a in names),
                        "src", "data-src", "data-url"})
# a start tag with attributes, as lxml serializes it: every attribute `name="value"`, a `"`
# or `>` inside a value escaped; text has `<` escaped, so each `<` opens a tag (or a
# comment, which sanitizing drops anyway)
TAG_WITH_ATTRS_RE = re.compile(r"<[A-Za-z][^\s/>]*\s[^>]*>")
UNREAD_ATTR_RE = re.compile(
    r'\s(?!(?:' + "|".join(sorted(map(re.escape, READ_ATTRS))) + r""")=")[^\s="'>]+="[^"]*\"""")


def _unread_dropped(tag: re.Match[str]) -> str:
    return UNREAD_ATTR_RE.sub("", tag.group(0))


def raw_digest(elements: Sequence[etree._Element], base: str, salt: str = "") -> str:
    """A digest of the raw markup of `elements` (tails included) up to runs of white space,
    which sanitizing folds anyway, and attributes it does not read: equal digests, equal
    sanitized HTML and text."""
    markup = "".join(etree.tostring(el, encoding="unicode") for el in elements)
    if '="' in markup:  # most sections of an article have no attribute at all
        markup = TAG_WITH_ATTRS_RE.sub(_unread_dropped, markup)
    return _markup_digest(markup, base, salt)


def _markup_digest(markup: str, base: str, salt: str) -> str:
    data = "\x00".join((SANITIZER_VERSION, salt, base, " ".join(markup.split())))
    return hashlib.blake2b(data.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def sanitize_known(
    elements: Sequence[etree._Element], base: str, image_src: ImageSource | None = None,
    known: Known | None = None, salt: str = "",
) -> tuple[str, str, str]:
    """sanitize_with_text() and the raw digest, (html, text, digest); markup sanitized in
    an earlier poll (its digest in `known`) is not sanitized again."""
    return _known_or(raw_digest(elements, base, salt), known,
                     lambda: sanitize_with_text(elements, base, image_src))


def sanitize_fragment_known(
    html: str, base: str, image_src: ImageSource | None = None, known: Known | None = None,
    salt: str = "",
) -> tuple[str, str, str]:
    """sanitize_known() for an HTML string (a live-blog post's body): one seen in an
    earlier poll is not even parsed."""
    # as written in the source, a no-break space is mostly an entity: fold it like one
    return _known_or(_markup_digest(NBSP_ENTITY_RE.sub(" ", html), base, salt), known,
                     lambda: sanitize_with_text(parse_fragment(html), base, image_src))


def _known_or(digest: str, known: Known | None, sanitize: Callable[[], tuple[str, str]]
              ) -> tuple[str, str, str]:
    html, text = known[digest] if known and digest in known else sanitize()
    return html, text, digest


def xml_valid(text: str) -> str:
    """`text` without the characters XML cannot carry; a text that has none (nearly all)
    is found so by C loops over its bytes, several times faster than the pattern."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return XML_INVALID.sub("", text)
    if len(data.translate(None, ASCII_INVALID)) != len(data) or (
            "\ufffe" in text or "\uffff" in text):
        return XML_INVALID.sub("", text)
    return text


def parse_fragment(html: str) -> list[etree._Element]:
    """Top-level elements of an HTML fragment (e.g. an article body held as JSON)."""
    html = xml_valid(html)  # lxml stops at a lone surrogate from JSON escapes
    if not html.strip():
        return []
    # plain lxml elements: lxml.html's classes cost a Python lookup for every element
    # touched; a parser per call (a few microseconds), as parsers are not for sharing
    # between the daemon's threads
    parts = lxml.html.fragments_fromstring(html, parser=etree.HTMLParser())
    blocks: list[etree._Element] = [part for part in parts if not isinstance(part, str)]
    if parts and isinstance(parts[0], str):  # text before the first element, not blank
        lead = etree.Element("span")  # inline, so it joins the inline run that follows
        lead.text = parts[0]
        blocks.insert(0, lead)
    return blocks


def content_hash(*parts: str) -> str:
    """A short, stable hash of some strings."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8"))
    return digest.hexdigest()[:16]


def has_class(el: etree._Element, name: str) -> bool:
    """True when `name` is one of the element's classes (not a substring of a hashed class)."""
    return name in (el.get("class") or "").split()
