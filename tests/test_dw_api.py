"""DW's JSON API gives the same Article as the page: on our fixtures of both (an article
with Apollo state, a live blog with App state), on the saved real pages that carry a
state, and with images that the API gives only as `img[data-id]`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from feedgen_dw.demo import FIRST, SECOND
from feedgen_dw.errors import ExtractError
from feedgen_dw.extract import extract_page
from feedgen_dw.extract.dw import _apollo_article
from feedgen_dw.extract.dw_api import api_url, embedded_content, extract_api, with_image_urls
from feedgen_dw.extract.dw_live import app_state, state_content
from feedgen_dw.extract.html import page_selector
from feedgen_dw.model import Article
from feedgen_dw.replay import DemoPage, render_page
from feedgen_dw.replay_live import DemoLiveBlog, DemoPost, render_live_page

from .conftest import REALPAGES

BASE = "https://www.dw.com"
BLOG = DemoLiveBlog("72100001", "ukraine-aktuell-live", "Ukraine aktuell: Der Live-Ticker", (
    DemoPost(9002, "Selenskyj in Brüssel", ("Der Präsident wirbt um Hilfe.", "Mehr dazu."),
             "2026-11-24T09:30:00+00:00", image=(71234567, "Selenskyj am Rednerpult")),
    DemoPost(9001, "", ("Luftalarm in Kiew am Morgen.",), "2026-11-24T06:10:00+00:00"),
))


def _api_answer(content: dict[str, object]) -> bytes:
    return json.dumps({"data": {"content": content}}, ensure_ascii=False).encode()


def _same(api: Article, page: Article) -> None:
    assert [(s.headline, s.html, s.text, s.is_lead) for s in api.sections] == [
        (s.headline, s.html, s.text, s.is_lead) for s in page.sections]
    assert (api.article_id, api.url, api.title, api.feed_title, api.language, api.host) == (
        page.article_id, page.url, page.title, page.feed_title, page.language, page.host)
    assert (api.published, api.modified) == (page.published, page.modified)


def test_api_url_of_dw_articles_and_live_blogs_only() -> None:
    assert api_url(f"{BASE}/de/ukraine-aktuell/a-70000001") == (
        f"{BASE}/graph-api/de/content/article/70000001")
    assert api_url(f"{BASE}/en/live-updates/live-72100001?maca=x") == (
        f"{BASE}/graph-api/en/content/liveblog/72100001")
    assert api_url("https://dw.com/de/x/a-1") == f"{BASE}/graph-api/de/content/article/1"
    for other in ("https://example.org/de/x/a-1", f"{BASE}/a-1", f"{BASE}/de/x/t-123",
                  "https://notdw.com/de/x/a-1"):
        assert api_url(other) is None
    # a page with DW's paths on another host (site: dw): its API on its scheme and host
    local = "http://127.0.0.1:8080/de/x/a-123"
    assert api_url(local, any_host=True) == "http://127.0.0.1:8080/graph-api/de/content/article/123"
    assert api_url(local) is None and api_url("ftp://h/de/x/a-1", any_host=True) is None


@pytest.mark.parametrize("demo", [FIRST, SECOND], ids=["first", "second"])
def test_article_through_the_api_equals_the_page(demo: DemoPage) -> None:
    html = render_page(demo, BASE)
    url = BASE + demo.path
    page = extract_page(html.encode(), url, "dw")
    entry = _apollo_article(page_selector(html), demo.article_id)
    assert entry is not None
    _same(extract_api(_api_answer(entry), url), page)


def test_live_blog_through_the_api_equals_the_page() -> None:
    html = render_live_page(BLOG, BASE)
    url = BASE + BLOG.path
    page = extract_page(html.encode(), url, "dw")
    state = app_state(page_selector(html))
    assert state is not None
    content = state_content(state, "liveblog", BLOG.blog_id)
    assert content is not None
    api = extract_api(_api_answer(content), url)
    _same(api, page)
    assert "https://static.dw.com/image/71234567_605.jpg" in api.sections[0].html


def test_images_given_only_by_data_id_resolve_through_content_links() -> None:
    text = ('<p>Erster Absatz des Artikels mit genug Text.</p><figure class="placeholder-image">'
            '<img data-id="111" alt="Mit Link"><figcaption>Eins</figcaption></figure>'
            '<p>Zweiter Absatz.</p><figure class="placeholder-image"><img data-id="222" '
            'alt="Ohne Link"/></figure>')
    content = {"id": 70000001, "title": "Ukraine aktuell: Bilder", "text": text,
               "canonicalUrl": f"{BASE}/de/bilder/a-70000001",
               "contentLinks": [{"targetId": 111, "target": {
                   "staticUrl": "https://static.dw.com/image/111_${formatId}.webp"}}]}
    article = extract_api(_api_answer(content), f"{BASE}/de/bilder/a-70000001")
    body = article.sections[0].html
    assert "https://static.dw.com/image/111_605.webp" in body  # from contentLinks
    assert "https://static.dw.com/image/222_605.jpg" in body  # DW's pattern
    kept = '<img data-id="3" data-url="https://x.test/3.jpg">'
    assert with_image_urls(kept, {"3": "https://other.test/3.jpg"}) == kept


@pytest.mark.parametrize("answer", [b"<html>not json</html>", b'{"data": null}',
                                    b'{"data": {"content": {"title": "no text"}}}', b"[]"])
def test_an_answer_without_content_is_an_extract_error(answer: bytes) -> None:
    with pytest.raises(ExtractError):
        extract_api(answer, f"{BASE}/de/x/a-70000001")


def _saved_dw_pages() -> list[Path]:
    folder = REALPAGES / "dw"
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.glob("*.html"))
            if b"__APOLLO_STATE__" in p.read_bytes() or b"__APP_STATE__" in p.read_bytes()]


@pytest.mark.skipif(not _saved_dw_pages(), reason=f"real pages not available: {REALPAGES}")
@pytest.mark.parametrize("path", _saved_dw_pages(), ids=lambda p: p.name)
def test_saved_dw_pages_with_state_extract_alike_through_the_api(path: Path) -> None:
    raw = path.read_bytes()
    found = re.search(rb'<link[^>]*rel="canonical"[^>]*href="([^"]+)"', raw)
    assert found
    url = found.group(1).decode()
    page = extract_page(raw, url, "dw")
    sel = page_selector(raw)
    article_id = page.article_id.split("-", 1)[1]
    content = embedded_content(sel, article_id)
    assert content is not None
    _same(extract_api(_api_answer(content), url), page)


def test_the_source_choice_reads_dw_urls_as_the_extractors_do() -> None:
    from feedgen_dw import source
    from feedgen_dw.extract import dw, dw_live

    assert source.ARTICLE_ID_RE.pattern == dw.ARTICLE_ID_RE.pattern
    assert source.LIVE_ID_RE.pattern == dw_live.LIVE_ID_RE.pattern
    assert source.DW_HOSTS == dw.HOSTS
