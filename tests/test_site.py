"""index.html, feeds.opml and JSON Feed, checked by parsing them."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree, html

from feedgen_dw.cli import main
from feedgen_dw.demo import FIRST
from feedgen_dw.replay import ReplayServer


def _config(tmp_path: Path, server: ReplayServer) -> Path:
    good = server.publish(FIRST)
    config = tmp_path / "config.yaml"
    config.write_text(
        "base_url: http://feeds.example/live/\n"
        f"feeds:\n  good:\n    url: {good}\n    title: Guter Feed\n"
        f"  bad:\n    url: {server.base_url}/de/missing/a-9\n",
        encoding="utf-8",
    )
    return config


def test_index_html_lists_every_feed_with_links_times_errors_counts(
    server: ReplayServer, tmp_path: Path
) -> None:
    assert main(["run", "--config", str(_config(tmp_path, server))]) == 1
    doc = html.fromstring((tmp_path / "public" / "index.html").read_bytes())
    assert doc.findtext(".//title") == "feedgen-dw feeds"
    assert not doc.xpath("//script")  # readable without JavaScript
    rows = doc.xpath("//tbody/tr")
    assert len(rows) == 2
    good, bad = rows
    assert good.xpath("string(td[1]/strong)") == "Guter Feed"
    assert good.xpath("td[2]/a/@href") == [
        "http://feeds.example/live/good.atom", "http://feeds.example/live/good.rss",
        "http://feeds.example/live/good.json"]
    assert good.xpath("string(td[3])").endswith("UTC")
    assert good.xpath("string(td[4])") == "–" and good.xpath("string(td[5])") == "3"
    assert bad.xpath("string(td[3])") == "never"
    assert "HTTP 404" in bad.xpath("string(td[4])") and bad.xpath("string(td[5])") == "0"


def test_opml_lists_all_feeds(server: ReplayServer, tmp_path: Path) -> None:
    main(["run", "--config", str(_config(tmp_path, server))])
    root = etree.fromstring((tmp_path / "public" / "feeds.opml").read_bytes())
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "feedgen-dw feeds"
    outlines = root.findall("body/outline")
    assert [(o.get("type"), o.get("text"), o.get("xmlUrl")) for o in outlines] == [
        ("rss", "Guter Feed", "http://feeds.example/live/good.atom"),
        ("rss", "bad", "http://feeds.example/live/bad.atom"),
    ]
    assert outlines[0].get("htmlUrl", "").endswith("/a-70000001")


def test_json_feed_has_the_required_fields_of_1_1(server: ReplayServer, tmp_path: Path) -> None:
    main(["run", "--config", str(_config(tmp_path, server))])
    doc = json.loads((tmp_path / "public" / "good.json").read_text(encoding="utf-8"))
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["title"] == "Guter Feed"
    assert doc["feed_url"] == "http://feeds.example/live/good.json"
    assert doc["home_page_url"].endswith("/a-70000001") and doc["language"] == "de"
    assert len(doc["items"]) == 3
    atom_ids = [e.findtext("{http://www.w3.org/2005/Atom}id") for e in etree.fromstring(
        (tmp_path / "public" / "good.atom").read_bytes()).iter("{http://www.w3.org/2005/Atom}entry")]
    assert [item["id"] for item in doc["items"]] == atom_ids
    for item in doc["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert item["content_html"].startswith("<p>")
        assert item["date_published"].endswith("Z") and item["url"].startswith("http")
