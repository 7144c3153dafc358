"""Polls of DW feeds through DW's JSON API, the page as the fallback (source.py), against a
local server that serves both: the page (our fixtures in DW's markup) and the API answer
(the same content as JSON, its images only as `img[data-id]` with `contentLinks`).

A feed read through the API, one read through the page, and one that switches between
them keep the same items: ids, titles, content, links, times."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from feedgen_dw.config import FeedConfig
from feedgen_dw.demo import FIRST, SECOND, THIRD
from feedgen_dw.extract.dw_api import embedded_content
from feedgen_dw.extract.dw_live import app_state, state_content
from feedgen_dw.extract.html import page_selector
from feedgen_dw.fetch import Fetcher
from feedgen_dw.model import EditPolicy, FeedItem
from feedgen_dw.poll import Output, PollResult, fixed_clock, poll_feed
from feedgen_dw.replay import DemoPage, ReplayServer, render_page
from feedgen_dw.replay_live import DemoLiveBlog, DemoPost, render_live_page
from feedgen_dw.source import API_RETRY
from feedgen_dw.store import SQLiteStore

T0 = datetime(2026, 11, 24, 6, tzinfo=UTC)
TOPIC = "/de/krieg-in-der-ukraine/t-60978725"  # the index a followed feed reads
DATA_URL_RE = re.compile(r'\sdata-url="(https://static\.dw\.com/image/(\d+)_[^"]*)"')
POSTS = (
    DemoPost(9004, "Gespräche in Genf", ("Die Delegationen treffen sich am Mittag.",),
             "2026-11-24T11:00:00+00:00"),
    DemoPost(9003, "", ("Stromausfälle im Osten des Landes gemeldet.", "Reparaturen laufen."),
             "2026-11-24T10:15:00+00:00", author="Anna Beispiel"),
    DemoPost(9002, "Selenskyj in Brüssel", ("Der Präsident wirbt um Hilfe.", "Mehr dazu."),
             "2026-11-24T09:30:00+00:00", image=(71234567, "Selenskyj am Rednerpult")),
    DemoPost(9001, "", ("Luftalarm in Kiew am Morgen.",), "2026-11-24T06:10:00+00:00"),
)


def _blog(posts: int) -> DemoLiveBlog:
    """The live blog with its `posts` oldest posts (it grows during the day)."""
    return DemoLiveBlog("72100001", "ukraine-aktuell-live", "Ukraine aktuell: Der Live-Ticker",
                        POSTS[len(POSTS) - posts:])


def _api_answer(content: dict[str, Any]) -> bytes:
    """What the API answers for `content` as a page embeds it: images only by `data-id`,
    their URLs in `contentLinks[]` (as the API gives them)."""
    links: dict[str, str] = {}

    def data_id(match: re.Match[str]) -> str:
        links[match.group(2)] = match.group(1)
        return f' data-id="{match.group(2)}"'

    def strip(text: object) -> object:
        if not isinstance(text, str):
            return text
        text = re.sub(r'\sdata-id="\d+"', "", text)
        return DATA_URL_RE.sub(data_id, text)

    content = {**content, "text": strip(content.get("text")),
               "posts": [{**p, "text": strip(p.get("text"))} for p in content.get("posts", [])]}
    content["contentLinks"] = [{"targetId": int(i), "target": {"staticUrl": u}}
                               for i, u in links.items()]
    return json.dumps({"data": {"content": content}}, ensure_ascii=False).encode()


@dataclass
class Site:
    """The local server, serving one DW article or live blog as page and as API answer."""

    server: ReplayServer

    def serve(self, what: DemoPage | DemoLiveBlog, api: bool = True) -> str:
        base = self.server.base_url
        if isinstance(what, DemoLiveBlog):
            html = render_live_page(what, base)
            state = app_state(page_selector(html))
            assert state is not None
            content = state_content(state, "liveblog", what.blog_id)
            api_path = f"/graph-api/de/content/liveblog/{what.blog_id}"
        else:
            html = render_page(what, base)
            content = embedded_content(page_selector(html), what.article_id)
            api_path = f"/graph-api/de/content/article/{what.article_id}"
        assert content is not None
        if isinstance(what, DemoLiveBlog):
            self._set(what.path, html.encode(), "text/html; charset=utf-8")
        else:  # the page, and its earlier slugs redirecting to it
            assert self.server.publish(what) == base + what.path
        if api:
            self._set(api_path, _api_answer(content), "application/json")
        self.api_path = api_path
        return base + what.path

    def _set(self, path: str, body: bytes, ctype: str) -> None:
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        self.server.set(path, 200, body, {"Content-Type": ctype, "ETag": etag})

    def fail_api(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.server.set(self.api_path, status, body, {"Content-Type": ctype})

    def asked(self) -> list[str]:
        """The paths asked since the last call: 'api' or 'page' for each."""
        with self.server.site.lock:
            paths = [p.split("?")[0] for p in self.server.site.requests]
            self.server.site.requests.clear()
        kinds = ["api" if p.startswith("/graph-api/") else "index" if p == TOPIC else "page"
                 for p in paths]
        # a page that moved (a new slug) is asked once and redirected: one read
        return [k for n, k in enumerate(kinds) if n == 0 or k == "api" or kinds[n - 1] != k]


@pytest.fixture
def site(server: ReplayServer) -> Site:
    return Site(server)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[SQLiteStore, Fetcher, Output]]:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    fetcher = Fetcher(retries=0)
    yield store, fetcher, Output(tmp_path / "public", "http://127.0.0.1:8080/")
    store.close()
    fetcher.close()


def _poll(env: tuple[SQLiteStore, Fetcher, Output], feed: FeedConfig,
          when: datetime) -> PollResult:
    store, fetcher, output = env
    result = poll_feed(feed, store, fetcher, output, fixed_clock(when))
    assert result.ok, result.error
    return result


def _items(store: SQLiteStore, name: str) -> list[tuple[Any, ...]]:
    def row(i: FeedItem) -> tuple[Any, ...]:
        return (i.item_id, i.title, i.html, i.link, i.published, i.updated, i.authors)
    return [row(i) for i in store.items(name, 100)]


def _feed(name: str, url: str, source: str | None = "auto") -> FeedConfig:
    return FeedConfig(name=name, url=url, site="dw", source=source,
                      on_edit=EditPolicy.UPDATE)


def test_a_live_blog_is_polled_through_the_api_with_conditional_get(
        site: Site, env: Any) -> None:
    url = site.serve(_blog(2))
    feed = _feed("f", url)
    first = _poll(env, feed, T0)
    assert site.asked() == ["api"] and first.new == 2
    again = _poll(env, feed, T0 + timedelta(minutes=1))
    assert site.asked() == ["api"] and again.not_modified  # 304 from the API's ETag
    with site.server.site.lock:
        assert site.server.site.headers[-1].get("If-None-Match")
    body = env[0].items("f", 10)[0].html
    # the image given only by data-id got its URL from contentLinks, as on the page
    assert "https://static.dw.com/image/71234567_605.jpg" in body


@pytest.mark.parametrize("failure", [
    (500, b'{"error": "oops"}', "application/json"),
    (200, b'{"data": {"conte', "application/json"),  # cut off: not JSON
    (200, b'{"data": {"content": null}}', "application/json"),
    (200, b'{"data": {"content": {"__typename": "Liveblog", "posts": []}}}',
     "application/json"),
    (200, b"<html><body>Bitte zustimmen</body></html>", "text/html"),
], ids=["500", "garbage", "no-content", "no-posts", "html"])
def test_a_failing_api_falls_back_to_the_page_and_is_left_alone_for_a_while(
        site: Site, env: Any, failure: tuple[int, bytes, str]) -> None:
    url = site.serve(_blog(2))
    site.fail_api(*failure)
    feed = _feed("f", url)
    first = _poll(env, feed, T0)
    assert site.asked() == ["api", "page"] and first.new == 2
    assert env[0].status("f").http.api_off_until == T0 + API_RETRY
    for minutes in (1, 2, 30, 60 * 6 - 1):
        _poll(env, feed, T0 + timedelta(minutes=minutes))
        assert site.asked() == ["page"]  # no API request while its failure is remembered
    site.serve(_blog(2))  # the API is back
    back = _poll(env, feed, T0 + API_RETRY + timedelta(minutes=1))
    assert site.asked() == ["api"] and back.new == 0 and back.changed == 0
    with site.server.site.lock:  # the page's validators are not the API's
        assert "If-None-Match" not in site.server.site.headers[-1]
    assert env[0].status("f").http.api_off_until is None
    _poll(env, replace(feed, source="page"), T0 + API_RETRY + timedelta(minutes=2))
    with site.server.site.lock:  # ... nor the API's the page's
        assert "If-None-Match" not in site.server.site.headers[-1]


def test_an_api_answer_lacking_posts_the_page_has_is_not_believed(
        site: Site, env: Any) -> None:
    feed = _feed("f", site.serve(_blog(3)))
    _poll(env, feed, T0)
    assert site.asked() == ["api"]
    site.serve(_blog(4))
    # the API answers only the newest two posts (a cut-off list): the page has all four
    api_html = render_live_page(replace(_blog(4), posts=POSTS[:2]), site.server.base_url)
    state = app_state(page_selector(api_html))
    assert state is not None
    content = state_content(state, "liveblog", "72100001")
    assert content is not None
    site.server.set(site.api_path, 200, _api_answer(content),
                    {"Content-Type": "application/json"})
    result = _poll(env, feed, T0 + timedelta(minutes=5))
    assert site.asked() == ["api", "page"]
    assert (result.new, result.removed) == (1, 0)
    assert env[0].status("f").http.api_off_until == T0 + timedelta(minutes=5) + API_RETRY


def test_a_removed_post_is_removed_after_the_page_confirms_it(site: Site, env: Any) -> None:
    feed = _feed("f", site.serve(_blog(3)))
    _poll(env, feed, T0)
    site.serve(replace(_blog(3), posts=POSTS[1:2] + POSTS[3:]))  # one post deleted
    site.asked()
    result = _poll(env, feed, T0 + timedelta(minutes=5))
    assert site.asked() == ["api", "page"] and result.removed == 1
    assert env[0].status("f").http.api_off_until is None  # the API was right


@pytest.mark.parametrize("kind", ["liveblog", "article"])
def test_switching_between_api_and_page_keeps_the_same_items(
        site: Site, env: Any, kind: str) -> None:
    """Feed `a` switches API -> page -> API during the day; feed `p` reads only pages;
    both see the same states at the same times and must end with the same items."""
    states: list[DemoPage | DemoLiveBlog] = (
        [_blog(2), _blog(3), _blog(4)] if kind == "liveblog" else [FIRST, SECOND, THIRD])
    url = site.serve(states[0])
    switching, pages = _feed("a", url), _feed("p", url, "page")
    paths = []
    for n, state in enumerate(states):
        site.serve(state)
        if n == 1:
            site.fail_api(503, b"busy", "text/plain")  # mid-day: the page is used
        when = T0 + n * (API_RETRY + timedelta(minutes=1))
        a = _poll(env, switching, when)
        paths.append(site.asked())
        p = _poll(env, pages, when)
        assert (a.new, a.changed, a.removed) == (p.new, p.changed, p.removed)
        assert _items(env[0], "a") == _items(env[0], "p")
        a2 = _poll(env, switching, when + timedelta(minutes=1))
        assert (a2.new, a2.changed, a2.removed) == (0, 0, 0)  # no re-announcement
        site.asked()
    assert paths == [["api"], ["api", "page"], ["api"]]
    items = _items(env[0], "a")
    assert len(items) == len({i[0] for i in items})
    assert all("data-id" not in i[2] or "static.dw.com/image/" in i[2] for i in items)


def test_source_page_never_asks_the_api_and_source_api_never_the_page(
        site: Site, env: Any) -> None:
    url = site.serve(_blog(2))
    _poll(env, _feed("p", url, "page"), T0)
    assert site.asked() == ["page"]
    site.fail_api(500, b"{}")
    store, fetcher, output = env
    result = poll_feed(_feed("a", url, "api"), store, fetcher, output, fixed_clock(T0))
    assert not result.ok and "HTTP 500" in (result.error or "")
    assert site.asked() == ["api"]


def test_without_a_source_only_dw_com_pages_use_the_api(site: Site, env: Any) -> None:
    # `site: dw` on another host (here the local server) and no `source:`: the page, as ever
    _poll(env, _feed("f", site.serve(_blog(2)), None), T0)
    assert site.asked() == ["page"]


def test_source_in_the_config_is_checked(tmp_path: Path) -> None:
    from feedgen_dw.config import load_config
    from feedgen_dw.errors import ConfigError
    from tests.conftest import write_config

    url = "https://www.dw.com/de/x/live-1"
    assert load_config(write_config(tmp_path, url, source="page")).feeds[0].source == "page"
    assert load_config(write_config(tmp_path, url)).feeds[0].source is None
    with pytest.raises(ConfigError, match=r"feeds\.live\.source: expected one of auto, api, "
                       r"page, got 'json'$"):
        load_config(write_config(tmp_path, url, source="json"))
    with pytest.raises(ConfigError, match=r"feeds\.live\.source: api is DW's"):
        load_config(write_config(tmp_path, url, source="api", site="liveblog"))


def test_a_followed_daily_article_is_read_through_the_api(
        site: Site, env: Any, sanitized: list[str]) -> None:
    site.serve(FIRST)
    teaser = f'<a href="{FIRST.path}"><h3>{FIRST.title}</h3></a>'
    site.server.set(TOPIC, 200, f"<html><body><main>{teaser}</main></body></html>".encode(),
                    {"Content-Type": "text/html; charset=utf-8"})
    base = site.server.base_url + TOPIC
    api = FeedConfig(name="a", url=base, site="dw", source="auto", follow=True)
    pages = replace(api, name="p", source="page")
    first = _poll(env, api, T0)
    assert site.asked() == ["index", "api"] and first.new == 3
    _poll(env, pages, T0)
    assert _items(env[0], "a") == _items(env[0], "p")
    site.asked()
    sanitized.clear()
    again = _poll(env, api, T0 + timedelta(minutes=5))
    assert site.asked() == ["index", "api"] and again.new == again.changed == 0
    assert sanitized == []  # the API's sections are known ones: not sanitized again
    site.fail_api(500, b"{}")
    _poll(env, api, T0 + timedelta(minutes=10))
    assert site.asked() == ["index", "api", "page"]
    _poll(env, api, T0 + timedelta(minutes=15))
    assert site.asked() == ["index", "page"]  # the failure is remembered for the feed
    assert env[0].status("a").http.api_off_until == T0 + timedelta(minutes=10) + API_RETRY


def test_a_run_answered_304_by_the_api_imports_no_extractor(site: Site, tmp_path: Path) -> None:
    from tests.test_imports import _heavy, _modules

    url = site.serve(_blog(2))
    config = tmp_path / "config.yaml"
    config.write_text(f"feeds:\n  f:\n    url: {url}\n    site: dw\n    source: auto\n",
                      encoding="utf-8")
    assert _modules("run", "-q", "--config", str(config))[0] == 0
    assert site.asked() == ["api"]
    code, modules = _modules("run", "-q", "--config", str(config))
    assert code == 0 and site.asked() == ["api"]
    with site.server.site.lock:
        assert site.server.site.headers[-1].get("If-None-Match")
    assert _heavy(modules) == []
