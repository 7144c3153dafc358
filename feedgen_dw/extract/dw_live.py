"""DW live blogs (`/<lang>/<slug>/live-<id>`) and the newer frontend's embedded state.

The page embeds `window.__APP_STATE__`, keyed by GraphQL path:
`/graph-api/<lang>/content/liveblog/<id>` -> `.data.content` with `posts` (id, title, text
as HTML, contentDate, persons[].fullName) and the blog's title and URLs;
`/graph-api/<lang>/content/article/<id>` -> `.data.content.text` for articles. Every field
is optional: a missing one degrades the item, never the poll. Without the state, the
rendered posts are read instead (an element with a `post-<id>` id holding a heading, a
`time[datetime]` and the text).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector

from feedgen_dw import code_digest
from feedgen_dw.dwurl import LIVE_ID_RE
from feedgen_dw.errors import ExtractError
from feedgen_dw.extract.html import (
    Known,
    clean_url,
    normalize_space,
    sanitize_fragment_known,
    to_uri,
)
from feedgen_dw.extract.structured import parse_time
from feedgen_dw.extract.titles import first_words
from feedgen_dw.model import Article, Section

APP_STATE_RE = re.compile(r"window\.__APP_STATE__\s*=\s*")
POST_ID_RE = re.compile(r"^(?:live-?blog-?)?post-?(\d+)$", re.I)
IMAGE_FORMAT_ID = "605"
# "… – DW – 24.11.2026" / "… | DW | 24.11.2026": the site's suffix on page titles
TITLE_SUFFIX_RE = re.compile(r"\s*[|–-]\s*DW\s*[|–-]\s*[\d./]+\s*$")
LANG_IN_URL_RE = re.compile(r"dw\.com/([a-z]{2})/")

# part of the posts' raw digests: this module's image handling shapes their html
PROFILE_CODE = "dw-live" + code_digest(__file__)


def page_language(sel: Selector, canonical: str, fallback: str | None = None) -> str | None:
    """The page's language: <html lang>, else `fallback`, else the /<lang>/ of the URL."""
    found = LANG_IN_URL_RE.search(canonical)
    return sel.xpath("/html/@lang").get() or fallback or (found.group(1) if found else None)


def app_state(sel: Selector) -> dict[str, Any] | None:
    """The page's `window.__APP_STATE__`, or None."""
    for script in sel.xpath("//script[contains(., '__APP_STATE__')]/text()").getall():
        match = APP_STATE_RE.search(script)
        if not match:
            continue
        try:
            state, _ = json.JSONDecoder().raw_decode(script, match.end())
        except ValueError:
            continue
        if isinstance(state, dict):
            return state
    return None


def state_content(state: dict[str, Any], kind: str, content_id: str) -> dict[str, Any] | None:
    """`.data.content` of the state entry for this liveblog/article id, in any language."""
    suffix = f"/content/{kind}/{content_id}"
    for key, value in state.items():
        if isinstance(key, str) and key.startswith("/graph-api/") and key.endswith(suffix):
            data = value.get("data") if isinstance(value, dict) else None
            content = data.get("content") if isinstance(data, dict) else None
            if isinstance(content, dict):
                return content
    return None


def _image_src(img: Any) -> str | None:
    url = img.get("data-url")
    return url.replace("${formatId}", IMAGE_FORMAT_ID) if url else None


def _names(persons: object) -> tuple[str, ...]:
    if not isinstance(persons, list):
        return ()
    names = [normalize_space(p["fullName"]) for p in persons
             if isinstance(p, dict) and isinstance(p.get("fullName"), str)]
    return tuple(dict.fromkeys(n for n in names if n))


def _post_section(post_id: str, title: str, body_html: str, published: object,
                  authors: tuple[str, ...], base: str, known: Known | None) -> Section:
    html, text, digest = sanitize_fragment_known(body_html, base, _image_src, known,
                                                 PROFILE_CODE)
    headline = normalize_space(title) or first_words(text) or "…"
    return Section(headline=headline, html=html, text=text, published=parse_time(published),
                   source_key=f"post-{post_id}", authors=authors, raw_digest=digest)


def posts_from_state(content: dict[str, Any], base: str,
                     known: Known | None = None) -> list[Section]:
    """One section per post of the state, in the page's order (newest first)."""
    sections = []
    for post in content.get("posts") or []:
        if not isinstance(post, dict) or post.get("id") in (None, ""):
            continue
        text = post.get("text") if isinstance(post.get("text"), str) else ""
        title = post.get("title") if isinstance(post.get("title"), str) else ""
        if not (text or title):
            continue
        sections.append(_post_section(str(post["id"]), str(title), str(text),
                                      post.get("contentDate"), _names(post.get("persons")),
                                      base, known))
    return sections


def posts_from_dom(sel: Selector, base: str, known: Known | None = None) -> list[Section]:
    """The rendered posts, when the page carries no state."""
    sections = []
    for node in sel.xpath("//*[@id]"):
        match = POST_ID_RE.match(node.attrib.get("id", ""))
        if not match or not node.css("time[datetime]"):
            continue
        heading = node.css("h2, h3")
        title = heading[0].xpath("string()").get() if heading else ""
        body = node.css("div.rich-text, .post-content, .content")
        body_html = body[0].get() if body else ""
        authors = tuple(normalize_space(a) for a in node.css(".author::text").getall() if a.strip())
        sections.append(_post_section(match.group(1), title or "", body_html,
                                      node.css("time::attr(datetime)").get(), authors, base,
                                      known))
    return sections


def blog_url(content: dict[str, Any], fallback: str) -> str:
    """The blog's canonical URL from the state, made absolute."""
    for key in ("canonicalUrl", "namedUrl"):
        value = content.get(key)
        if isinstance(value, str) and value:
            return clean_url(value, fallback) or fallback
    return fallback


def live_blog_id(url: str, sel: Selector) -> str | None:
    """The id of a DW live blog, from the URL or the page's canonical URL."""
    for candidate in (url, sel.css('link[rel="canonical"]::attr(href)').get() or ""):
        found = LIVE_ID_RE.search(candidate)
        if found:
            return found.group(1)
    return None


def extract_live(url: str, sel: Selector, live_id: str,
                 state: dict[str, Any] | None, known: Known | None = None) -> Article:
    """A DW live blog: one section per post, from the state or else the rendered posts;
    posts whose body is `known` from an earlier poll are not sanitized again."""
    content = state_content(state, "liveblog", live_id) if state else None
    canonical_raw = (blog_url(content, "") if content else "") or sel.css(
        'link[rel="canonical"]::attr(href)').get() or url
    canonical = clean_url(canonical_raw, url) or to_uri(url)
    if content:
        sections, source = posts_from_state(content, canonical, known), "app-state"
    else:
        sections, source = posts_from_dom(sel, canonical, known), "dom"
    if not sections:
        raise ExtractError(f"{url}: extraction found nothing: no live blog posts (layout change?)")
    state_title = (content or {}).get("title")
    title = normalize_space(state_title if isinstance(state_title, str) else "") or normalize_space(
        sel.css("h1").xpath("string()").get() or sel.css("title::text").get() or "")
    title = TITLE_SUFFIX_RE.sub("", title)
    return Article(
        article_id=f"live-{live_id}", host=urlsplit(canonical).hostname or "www.dw.com",
        url=canonical, title=title, feed_title=title,
        language=page_language(sel, canonical),
        sections=tuple(sections), profile="dw", source=source,
        published=parse_time((content or {}).get("firstPublicationDate")),
        modified=parse_time((content or {}).get("lastModifiedDate")),
    )
