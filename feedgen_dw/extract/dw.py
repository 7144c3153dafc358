"""The `dw` profile: Deutsche Welle articles (`/a-<id>`), current and older markup.

Structured data first: the article body held as HTML in `window.__APOLLO_STATE__`
(`Article:<id>.text`), title, canonical URL and dates from the same entry or JSON-LD;
the rendered DOM (`div.rich-text`, older `div.longText`) is the fallback. Class names
like `sc-gicCDI czqpjL` are hashed per deployment, so only semantic classes are used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from parsel import Selector

from feedgen_dw import code_digest
from feedgen_dw.dwurl import ARTICLE_ID_RE, HOSTS, LIVE_ID_RE
from feedgen_dw.errors import ExtractError
from feedgen_dw.extract.dw_live import (
    TITLE_SUFFIX_RE,
    app_state,
    blog_url,
    extract_live,
    live_blog_id,
    page_language,
    state_content,
)
from feedgen_dw.extract.html import (
    Known,
    clean_url,
    element_text,
    has_class,
    normalize_space,
    page_selector,
    parse_fragment,
    quick_text,
    sanitize_known,
    to_uri,
)
from feedgen_dw.extract.structured import json_ld_objects, parse_time, text_value
from feedgen_dw.extract.titles import first_words
from feedgen_dw.model import Article, Section

NAME = "dw"
# DW's image service sizes: 605 is the 16:9 rendition 940 px wide used in article bodies.
IMAGE_FORMAT_ID = "605"
# part of the sections' raw digests: this profile's figures and images shape their html
PROFILE_CODE = NAME + code_digest(__file__)
APOLLO_RE = re.compile(r"window\.__APOLLO_STATE__\s*=\s*")
# "se/mak/AR/djo (afp, rtr, dpa, ap)", "cwo/fab (dpa, afp)": the editors' and agencies' line.
AGENCY_LINE_RE = re.compile(
    r"^(?:[A-Za-zÄÖÜäöü]{1,5}\s*/\s*)*[A-Za-zÄÖÜäöü]{1,5}\s*"
    r"\(\s*[A-Za-z][A-Za-z.\- ]{0,15}(?:\s*,\s*[A-Za-z][A-Za-z.\- ]{0,15})*\s*\)\s*\.?$"
)
SUMMARY_RE = re.compile(
    r"^(das wichtigste (in kürze|im überblick)|the most important (news )?in brief"
    r"|key points|highlights|l'essentiel|lo más importante)\s*:?$",
    re.I,
)
STANDING_NOTE_RE = re.compile(
    r"(fortlaufend|laufend|regelmäßig) aktualisiert|(continuously|regularly) updated"
    r"|lassen sich nicht unabhängig überprüfen|cannot be independently verified",
    re.I,
)
RELATED_RE = re.compile(
    r"^(read more|mehr zum thema|lesen sie auch|lesen sie mehr|auch interessant|watch video)\s*:",
    re.I,
)
# Credit lines of older pages: "Autor: ...", "Auteur : ...", "Redaktion: ...".
CREDIT_RE = re.compile(
    r"^(autor(in)?(/autor)?|author|auteur|redaktion|editor|édition|edition|rédaction)\s*:", re.I
)
TRUNCATION_END_RE = re.compile(r"</html\s*>", re.I)
TITLE_PREFIX_RE = re.compile(r"^\s*([^:]{2,40}?)\s*:\s+(\S.*)$")
# an ad slot, an embedded video (its h2.headline is no section)
DROPPED_CLASSES = frozenset({"rich-text-ad", "vjs-wrapper"})


def _is_dw_article(url: str | None) -> bool:
    host = urlsplit(url or "").hostname or ""
    on_dw = any(host == h or host.endswith("." + h) for h in HOSTS)
    return on_dw and bool(ARTICLE_ID_RE.search(url or "") or LIVE_ID_RE.search(url or ""))


def matches(url: str, selector: Selector) -> str | None:
    """Why this is a DW article page (by its URL or its canonical URL), or None."""
    if _is_dw_article(url):
        return "a dw.com article or live blog URL (/a-<id>, /live-<id>)"
    canonical = selector.css('link[rel="canonical"]::attr(href)').get()
    if _is_dw_article(canonical):
        return "the page's canonical URL is a dw.com article or live blog"
    path_ok = any(p.search(u) for p in (ARTICLE_ID_RE, LIVE_ID_RE) for u in (url, canonical or ""))
    if not path_ok:
        return None  # most other pages: no query of the whole tree for og:site_name
    site_name = (selector.css('meta[property="og:site_name"]::attr(content)').get() or "")
    if site_name.strip().lower() in ("dw.com", "dw"):
        return "og:site_name dw.com and an /a-<id> or /live-<id> path (a copy of a DW page)"
    return None


@dataclass
class _Meta:
    article_id: str | None = None
    url: str | None = None
    title: str | None = None
    language: str | None = None
    published: datetime | None = None
    modified: datetime | None = None
    body_html: str | None = None
    sources: list[str] = field(default_factory=list)


def _apollo_script(sel: Selector) -> tuple[str, int] | None:
    for script in sel.xpath("//script[contains(., '__APOLLO_STATE__')]/text()").getall():
        match = APOLLO_RE.search(script)
        if match:
            return script, match.end()
    return None


def _apollo_article(sel: Selector, article_id: str | None) -> dict[str, Any] | None:
    found = _apollo_script(sel)
    if found is None:
        return None
    script, start = found
    decoder = json.JSONDecoder()
    if article_id:
        # decode just the article's entry: the whole state (translations, navigation,
        # teasers) is most of a 300 KB page
        entry_at = re.compile(rf'"Article:{re.escape(article_id)}"\s*:\s*').search(script, start)
        if entry_at:
            try:
                entry, _ = decoder.raw_decode(script, entry_at.end())
            except ValueError:
                entry = None
            if isinstance(entry, dict) and entry.get("text"):
                return entry
    try:
        state, _ = decoder.raw_decode(script, start)
    except ValueError:
        return None
    if not isinstance(state, dict):
        return None
    # Without an id from the URL, the page's own article is the one with a body.
    for key_name, value in state.items():
        if key_name.startswith("Article:") and isinstance(value, dict) and value.get("text"):
            return value
    return None


def _from_apollo(sel: Selector, meta: _Meta) -> None:
    entry = _apollo_article(sel, meta.article_id)
    if not entry:
        return
    meta.sources.append("apollo")
    if isinstance(entry.get("text"), str) and entry["text"].strip():
        meta.body_html = entry["text"]
    # page content: any field may hold a number, list or object instead of text
    entry_id = entry.get("id")
    meta.article_id = meta.article_id or text_value(
        str(entry_id) if isinstance(entry_id, int) else entry_id)
    meta.url = meta.url or text_value(entry.get("canonicalUrl")) or text_value(
        entry.get("classicUrl"))
    meta.title = meta.title or text_value(entry.get("title")) or text_value(
        entry.get("name"))
    meta.published = meta.published or parse_time(entry.get("firstPublicationDate"))
    meta.modified = meta.modified or parse_time(entry.get("lastModifiedDate"))


def _from_app_state(state: dict[str, Any] | None, meta: _Meta) -> None:
    """The newer frontend keeps the article under /graph-api/<lang>/content/article/<id>."""
    content = state_content(state, "article", meta.article_id) if (
        state and meta.article_id) else None
    if not content:
        return
    meta.sources.append("app-state")
    if isinstance(content.get("text"), str) and content["text"].strip():
        meta.body_html = meta.body_html or content["text"]
    meta.url = meta.url or blog_url(content, "") or None
    meta.title = meta.title or text_value(content.get("title"))
    meta.published = meta.published or parse_time(content.get("firstPublicationDate"))
    meta.modified = meta.modified or parse_time(content.get("lastModifiedDate"))


def _from_json_ld(sel: Selector, meta: _Meta) -> None:
    for obj in json_ld_objects(sel):
        if obj.get("@type") not in ("NewsArticle", "Article", "ReportageNewsArticle"):
            continue
        meta.sources.append("json-ld")
        page = obj.get("mainEntityOfPage")
        page_id = page.get("@id") if isinstance(page, dict) else page
        meta.url = meta.url or (page_id if isinstance(page_id, str) else None)
        meta.title = meta.title or text_value(obj.get("headline"))
        meta.published = meta.published or parse_time(obj.get("datePublished"))
        meta.modified = meta.modified or parse_time(obj.get("dateModified"))
        lang = obj.get("inLanguage")
        meta.language = meta.language or (lang if isinstance(lang, str) else None)
        return


def _body_blocks(sel: Selector, meta: _Meta) -> tuple[list[etree._Element], str]:
    """The body's top-level blocks, and which data they came from."""
    if meta.body_html:
        blocks = parse_fragment(meta.body_html)
        if blocks:
            return blocks, "apollo" if "apollo" in meta.sources else "app-state"
    rich = sel.css("article div.rich-text, div.rich-text")
    if rich:
        return list(rich[0].root), "dom"
    legacy = sel.css("div.longText")
    if legacy:
        return list(legacy[0].root), "dom-legacy"
    return [], "none"


def _image_src(img: etree._Element) -> str | None:
    url = img.get("data-url")
    return url.replace("${formatId}", IMAGE_FORMAT_ID) if url else None


def _legacy_figure(block: etree._Element) -> etree._Element:
    """Older `div.picBox` (img + caption paragraph) -> the figure markup of the current layout."""
    figure = etree.Element("figure")
    img = block.find(".//img")
    caption = " ".join(element_text(p) for p in block.iter("p"))
    if img is not None:
        new_img = etree.SubElement(figure, "img", src=img.get("src") or "")
        new_img.set("alt", img.get("alt") or "")
        credit = re.search(r"\(([^()]+)\)\s*$", img.get("title") or "")
        if caption or credit:
            figcaption = etree.SubElement(figure, "figcaption")
            figcaption.text = caption
            if credit:
                small = etree.SubElement(figcaption, "small")
                small.text = ("Bild: " if caption else "") + credit.group(1)
                figcaption.text = (caption + " ") if caption else None
    return figure


@dataclass
class _Block:
    kind: str  # "heading" | "content" | "drop"
    element: etree._Element
    text: str


def _is_bold_only(block: etree._Element) -> bool:
    children = [c for c in block if isinstance(c.tag, str)]
    return (
        len(children) == 1
        and children[0].tag in ("strong", "b")
        and not (block.text or "").strip()
        and not (children[0].tail or "").strip()
    )


def _is_italic_only(block: etree._Element) -> bool:
    if (block.text or "").strip():
        return False  # most paragraphs: decided without touching their children
    children = [c for c in block if isinstance(c.tag, str)]
    return bool(children) and all(c.tag in ("em", "i") for c in children) and not (
        (block.text or "").strip() or any((c.tail or "").strip() for c in children)
    )


def _classify(blocks: Iterable[etree._Element], legacy: bool) -> Iterator[_Block]:
    after_agency = False
    skip_list = False
    for el in blocks:
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        text = quick_text(el)
        # the lines that are not news (summary label, agency line, notes, teasers) are
        # short; long paragraphs skip those patterns
        short = len(text) < 240
        if skip_list and tag in ("ul", "ol"):
            skip_list = False
            yield _Block("drop", el, text)
            continue
        skip_list = False
        classes = el.get("class")
        if short and SUMMARY_RE.match(text.rstrip(": ") + ":"):
            skip_list = True  # "Das Wichtigste in Kürze" and the list after it
            yield _Block("drop", el, text)
        elif (
            (classes and not DROPPED_CLASSES.isdisjoint(classes.split()))
            or (tag == "div" and el.find(".//video") is not None)
            or (legacy and tag == "div" and not has_class(el, "picBox"))
            or tag in ("script", "style", "noscript", "aside", "nav")
        ):
            yield _Block("drop", el, text)
        elif tag == "h2" or (legacy and tag == "p" and short and _is_bold_only(el)
                             and len(text) < 160):
            yield _Block("heading", el, text)
        elif tag == "p" and short and AGENCY_LINE_RE.match(text):
            after_agency = True
            yield _Block("drop", el, text)
        elif tag == "p" and _is_italic_only(el) and (after_agency or STANDING_NOTE_RE.search(text)):
            yield _Block("drop", el, text)
        elif tag == "p" and short and (RELATED_RE.match(text) or CREDIT_RE.match(text)):
            yield _Block("drop", el, text)
        elif legacy and has_class(el, "picBox"):
            yield _Block("content", _legacy_figure(el), text)
        else:
            yield _Block("content", el, text)


def _split_title(title: str) -> tuple[str, str]:
    """'Ukraine aktuell: Kim will Waffen liefern' -> ('Ukraine aktuell', 'Kim will ...')."""
    title = TITLE_SUFFIX_RE.sub("", normalize_space(title))
    match = TITLE_PREFIX_RE.match(title)
    if match:
        return match.group(1), match.group(2)
    return title, title


def _sections(blocks: list[_Block], lead_headline: str, base: str,
              known: Known | None = None) -> list[Section]:
    groups: list[tuple[str, bool, list[etree._Element]]] = [(lead_headline, True, [])]
    for block in blocks:
        if block.kind == "heading":
            groups.append((block.text, False, []))
        elif block.kind == "content":
            groups[-1][2].append(block.element)
    sections = []
    for headline, is_lead, elements in groups:
        html, text, digest = sanitize_known(elements, base, _image_src, known, PROFILE_CODE)
        if is_lead and not html:
            continue  # the page starts with a heading: there is no lead
        if not headline and not html:
            continue
        # an item needs a title: an empty heading or article title falls back to the text
        headline = headline or first_words(text) or "…"
        sections.append(Section(headline=headline, html=html, text=text, is_lead=is_lead,
                                raw_digest=digest))
    return sections


def _dom_title(sel: Selector) -> str | None:
    return (sel.css("article h1").xpath("string()").get()
            or sel.css("h1").xpath("string()").get() or sel.css("title::text").get())


def _check_complete(page: str | bytes, url: str) -> None:
    # DW pages always close </html>; one that does not was cut off in transit
    tail = page[-8192:]
    if isinstance(tail, bytes):
        tail = tail.decode("utf-8", errors="replace")  # the tag is ASCII in any charset
    if not TRUNCATION_END_RE.search(tail):
        raise ExtractError(f"{url}: page is truncated (no </html> at the end)")


def extract(page: str | bytes, url: str, selector: Selector | None = None,
            known: Known | None = None) -> Article:
    """Read a DW article or live blog page into an Article; ExtractError when there is
    no body. Sections whose raw digest is `known` are taken from there, not sanitized."""
    # not `selector or ...`: a Selector's truth value serializes the whole document
    sel = selector if selector is not None else page_selector(page)
    has_state = (b"__APP_STATE__" in page) if isinstance(page, bytes) else (
        "__APP_STATE__" in page)
    state = app_state(sel) if has_state else None
    live_id = live_blog_id(url, sel)
    if live_id:
        _check_complete(page, url)
        return extract_live(url, sel, live_id, state, known)
    id_match = ARTICLE_ID_RE.search(url)
    meta = _Meta(article_id=id_match.group(1) if id_match else None)
    _from_apollo(sel, meta)
    _from_app_state(state, meta)
    _from_json_ld(sel, meta)
    blocks, source = _body_blocks(sel, meta)
    if not blocks:
        raise ExtractError(f"{url}: extraction found nothing: no article body (layout change?)")
    _check_complete(page, url)
    meta.url = meta.url or sel.css('link[rel="canonical"]::attr(href)').get()
    meta.url = meta.url or sel.css('meta[property="og:url"]::attr(content)').get() or url
    canonical = clean_url(meta.url, url) or to_uri(url)
    if not meta.article_id:
        found = ARTICLE_ID_RE.search(canonical)
        meta.article_id = found.group(1) if found else None
    if not meta.article_id:
        raise ExtractError(f"{url}: no DW article id (/a-<id>) in the URL or the page")
    # each query walks the whole 300 KB tree: only ask when structured data said nothing
    title = normalize_space(meta.title or _dom_title(sel) or "")
    language = page_language(sel, canonical, meta.language)
    feed_title, lead_headline = _split_title(title)
    sections = _sections(list(_classify(blocks, source == "dom-legacy")), lead_headline,
                         canonical, known)
    intro = sel.css("p.intro") if not sections and source == "dom-legacy" else None
    if intro:
        # short older pages (audio, video) carry their whole text in the intro
        sections = _sections([_Block("content", intro[0].root, "")], lead_headline, canonical)
    if not sections:
        raise ExtractError(f"{url}: extraction found nothing: no sections (layout change?)")
    return Article(
        article_id=f"a-{meta.article_id}",
        host=urlsplit(canonical).hostname or "www.dw.com",
        url=canonical,
        title=title,
        feed_title=feed_title,
        language=language,
        sections=tuple(sections),
        profile=NAME,
        source=source,
        published=meta.published,
        modified=meta.modified,
    )
