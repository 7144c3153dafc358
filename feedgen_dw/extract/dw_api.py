"""DW articles and live blogs from DW's JSON API instead of the page.

DW's frontend (and RSSHub's DW routes) read `https://www.dw.com/graph-api/<lang>/content/
article/<id>` and `.../content/liveblog/<id>`: `data.content` is the object the page
embeds in `__APOLLO_STATE__`/`__APP_STATE__`, without the 250 KB of page around it.
`extract_api()` builds the same Article from it as `dw.extract()` builds from the page
(the same block classifier, section builder and sanitizer), so that a feed can switch
between the two without a change its readers would see. Images in `text` that carry
only `data-id` get their URL from `contentLinks[]` (`target.staticUrl`), else from the
pattern the page uses (`https://static.dw.com/image/<id>_<formatId>.jpg`).

Which of the two a poll reads, and the fallback to the page, is source.py's.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from feedgen_dw.dwurl import ARTICLE_ID_RE, LANG_RE, LIVE_ID_RE
from feedgen_dw.errors import ExtractError
from feedgen_dw.extract import _titled
from feedgen_dw.extract.dw import _classify, _sections, _split_title
from feedgen_dw.extract.dw_live import TITLE_SUFFIX_RE, blog_url, posts_from_state
from feedgen_dw.extract.html import Known, clean_url, normalize_space, parse_fragment, to_uri
from feedgen_dw.extract.structured import parse_time, text_value
from feedgen_dw.model import Article
from feedgen_dw.source import API_BASE, api_url

__all__ = ["API_BASE", "api_content", "api_url", "embedded_content", "extract_api",
           "with_image_urls"]

IMAGE_URL = "https://static.dw.com/image/{id}_${{formatId}}.jpg"
IMG_RE = re.compile(r"<img\b[^>]*>", re.I)
DATA_ID_RE = re.compile(r"""\bdata-id\s*=\s*["']?(\d+)""", re.I)


def _image_urls(content: dict[str, Any]) -> dict[str, str]:
    """data-id -> the image's URL (with `${formatId}`), from contentLinks[]."""
    urls = {}
    for link in content.get("contentLinks") or []:
        if not isinstance(link, dict):
            continue
        target = link.get("target")
        static = target.get("staticUrl") if isinstance(target, dict) else None
        if link.get("targetId") is not None and isinstance(static, str) and static:
            urls[str(link["targetId"])] = static
    return urls


def with_image_urls(html: str, links: dict[str, str]) -> str:
    """`html` whose `img[data-id]` without a `data-url` got one: the page's markup."""
    def fix(match: re.Match[str]) -> str:
        tag = match.group(0)
        found = DATA_ID_RE.search(tag)
        if "data-url" in tag.lower() or not found:
            return tag
        url = links.get(found.group(1)) or IMAGE_URL.format(id=found.group(1))
        end = -2 if tag.endswith("/>") else -1
        return f'{tag[:end]} data-url="{url}"{tag[end:]}'

    return IMG_RE.sub(fix, html) if "<img" in html.lower() else html


def api_content(body: bytes | str, url: str) -> dict[str, Any]:
    """`data.content` of an API answer; ExtractError when there is none."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ExtractError(f"{url}: not JSON ({exc})") from None
    inner = data.get("data") if isinstance(data, dict) else None
    content = inner.get("content") if isinstance(inner, dict) else None
    if not isinstance(content, dict):
        raise ExtractError(f"{url}: no data.content in the answer")
    return content


def embedded_content(sel: Any, article_id: str) -> dict[str, Any] | None:
    """The article's `data.content` as the page embeds it (__APP_STATE__, else the Apollo
    cache): what the API answers for the same article, for tests and the bench."""
    from feedgen_dw.extract.dw import _apollo_article
    from feedgen_dw.extract.dw_live import app_state, state_content

    state = app_state(sel)
    found = (state_content(state, "article", article_id) if state else None) or (
        _apollo_article(sel, article_id))
    return found if isinstance(found, dict) else None


def extract_api(body: bytes | str, page_url: str, known: Known | None = None) -> Article:
    """The Article of the API answer `body` for the page at `page_url`."""
    content = api_content(body, page_url)
    links = _image_urls(content)
    canonical = clean_url(blog_url(content, ""), page_url) or to_uri(page_url)
    lang = LANG_RE.match(urlsplit(canonical).path) or LANG_RE.match(urlsplit(page_url).path)
    language = lang.group(1) if lang else text_value(content.get("language"))
    host = urlsplit(canonical).hostname or "www.dw.com"
    published = parse_time(content.get("firstPublicationDate"))
    modified = parse_time(content.get("lastModifiedDate"))
    live = LIVE_ID_RE.search(page_url) or LIVE_ID_RE.search(canonical)
    if live:
        posts = [{**p, "text": with_image_urls(p["text"], links)}
                 if isinstance(p, dict) and isinstance(p.get("text"), str) else p
                 for p in content.get("posts") or []]
        sections = posts_from_state({**content, "posts": posts}, canonical, known)
        if not sections:
            raise ExtractError(f"{page_url}: the API answer has no live blog posts")
        title = TITLE_SUFFIX_RE.sub("", normalize_space(text_value(content.get("title")) or ""))
        return _titled(Article(article_id=f"live-{live.group(1)}", host=host, url=canonical,
                       title=title, feed_title=title, language=language,
                       sections=tuple(sections), profile="dw", source="api",
                       published=published, modified=modified))
    found = ARTICLE_ID_RE.search(page_url) or ARTICLE_ID_RE.search(canonical)
    text = content.get("text")
    if not found or not isinstance(text, str) or not text.strip():
        raise ExtractError(f"{page_url}: the API answer has no article text")
    title = normalize_space(text_value(content.get("title")) or text_value(
        content.get("name")) or "")
    feed_title, lead_headline = _split_title(title)
    blocks = parse_fragment(with_image_urls(text, links))
    sections = _sections(list(_classify(blocks, False)), lead_headline, canonical, known)
    if not sections:
        raise ExtractError(f"{page_url}: the API answer has no sections")
    # the titles extract_page() gives a page's untitled sections and blank title
    return _titled(Article(article_id=f"a-{found.group(1)}", host=host, url=canonical,
                           title=title, feed_title=feed_title, language=language,
                           sections=tuple(sections), profile="dw", source="api",
                           published=published, modified=modified))
