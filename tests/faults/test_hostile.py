"""Hostile section content: the feeds stay valid and carry nothing active."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest
from lxml import etree

from feedgen_dw.demo import FIRST
from feedgen_dw.replay import DemoPage, DemoSection, render_page
from tests.faults.conftest import Env

HOSTILE = (
    '<p>Steuerzeichen \x01\x02\x0b\x1f und ]]&gt; und ]]> Ende'
    '<script>alert("x")</script><iframe src="https://evil.example/"></iframe>'
    '<img src="x.jpg" onerror="alert(1)" style="width:1px">'
    '<a href="javascript:alert(1)">klick</a> <a href="JaVaScRiPt:alert(2)">zwei</a>'
    '<a href="data:text/html,hi">daten</a> <a href="/de/ok/a-1" onclick="x()">gut</a>'
    '<style>body{display:none}</style><span style="color:red">rot</span>'
    '<svg onload="alert(1)"><script>1</script></svg><object data="x.swf"></object>'
    '<form action="https://evil.example/"><input name="q"></form>'
    '<math><mi>x</mi></math></p>'
)
TOKEN = "HOSTILE-CONTENT-HERE"


def _page(raw: str, apollo: bool) -> DemoPage:
    sections = (*FIRST.sections, DemoSection(headline="Feindlich", paragraphs=(TOKEN,)))
    return FIRST.__class__(**{**FIRST.__dict__, "sections": sections})


def _serve(env: Env, raw: str, apollo: bool, surrogate: bool = False) -> None:
    page = render_page(_page(raw, apollo), "https://www.dw.com", apollo=apollo)
    html_part = raw
    json_part = json.dumps(raw)[1:-1].replace("/", "\\/")
    if surrogate:
        json_part += "\\ud800 einsam"  # a lone surrogate, as only JSON can carry it
    # the token appears once in the DOM and once inside the JSON state
    dom_at = page.index(TOKEN)
    page = page[:dom_at] + html_part + page[dom_at + len(TOKEN):]
    if apollo:
        page = page.replace(TOKEN, json_part)

    def body() -> tuple[bytes, str]:
        return page.encode("utf-8", "surrogatepass"), "text/html; charset=utf-8"

    env.server.good_body = body  # type: ignore[method-assign]


def _check_feeds(public: Path) -> list[str]:
    contents = []
    for fmt in ("atom", "rss"):
        data = (public / f"live.{fmt}").read_bytes()
        etree.fromstring(data)  # well-formed XML
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0
        for entry in parsed.entries:
            value = entry.content[0].value if "content" in entry else entry.description
            contents.append(value)
    json.loads((public / "live.json").read_text(encoding="utf-8"))
    return contents


@pytest.mark.parametrize("apollo", [True, False], ids=["structured", "dom"])
def test_hostile_markup_is_neutralised(env: Env, apollo: bool) -> None:
    _serve(env, HOSTILE, apollo, surrogate=apollo)
    code, out, err = env.run()
    assert code == 0, err
    assert "1 new" in out
    contents = _check_feeds(env.public)
    hostile = [c for c in contents if "Steuerzeichen" in c]
    assert len(hostile) == 2  # atom and rss
    for content in hostile:
        lowered = content.lower()
        for bad in ("<script", "<iframe", "onerror", "onclick", "onload", "javascript:",
                    "<style", "style=", "<svg", "<object", "<form", "<input", "data:text",
                    "\x01", "\x0b", "\ud800"):
            assert bad not in lowered, bad
        assert "]]&gt;" in content or "]]>" in content
        assert 'href="https://www.dw.com/de/ok/a-1"' in content
        assert "rot" in content and "klick" in content


def test_a_megabyte_of_text(env: Env) -> None:
    words = ("Wort " * 200_000).strip()  # about 1 MB
    _serve(env, f"<p>{words}</p>", apollo=True)
    code, _, err = env.run()
    assert code == 0, err
    contents = _check_feeds(env.public)
    assert max(len(c) for c in contents) >= 1_000_000
