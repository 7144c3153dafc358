"""index.html and feeds.opml, written as text: whatever a title, link, error or node name
holds, it comes back as the same text when the page is parsed (nothing of it markup)."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree, html

from feedgen_dw.model import FeedStatus
from feedgen_dw.pages import FeedSummary, render_index, render_opml

T0 = datetime(2026, 12, 1, 3, tzinfo=UTC)
HOSTILE = 'a "q" \'s\' <b>&amp; </td></tr><script>x()</script>\n\t– “…”\x01'
SAFE = HOSTILE.replace("\x01", "\ufffd")  # what XML cannot carry is shown as U+FFFD


def _feeds() -> list[FeedSummary]:
    return [FeedSummary(name="live", title=HOSTILE, link=f"https://x.example/?a=1&b={HOSTILE}",
                        status=FeedStatus(name="live", last_success=T0, last_error=HOSTILE),
                        items=3, newest=((HOSTILE, T0),), polled_by=HOSTILE),
            FeedSummary(name="new", title="New", link=None, status=FeedStatus(name="new"),
                        items=0)]


def test_the_index_shows_outside_text_as_text() -> None:
    doc = html.fromstring(render_index(_feeds(), "http://h/", {HOSTILE: (T0, 5)}))
    assert not doc.xpath("//script") and not doc.xpath("//tbody/tr/td/b")
    live, new = doc.xpath("//table[1]/tbody/tr")
    assert live.xpath("string(td[1]/strong)") == SAFE
    assert live.xpath("td[1]//a[text()='article']/@href") == [
        f"https://x.example/?a=1&b={SAFE}"]
    assert live.xpath("string(td[1]/ul/li)") == f"2026-12-01 03:00 UTC {SAFE}"
    assert live.xpath("string(td[3]/small)") == f"by {SAFE}"
    assert live.xpath("string(td[4])") == " ".join(SAFE.split())  # one line, as logged
    assert [c.text_content() for c in new.xpath("td")][2:] == ["never", "–", "0"]
    assert doc.xpath("string(//table[2]/tbody/tr/td[1])") == SAFE


def test_the_opml_carries_titles_and_links_exactly() -> None:
    root = etree.fromstring(render_opml(_feeds(), "http://h/"))
    live, new = root.findall("body/outline")
    assert live.get("title") == live.get("text") == SAFE
    assert live.get("htmlUrl") == f"https://x.example/?a=1&b={SAFE}"
    assert live.get("xmlUrl") == "http://h/live.atom" and new.get("htmlUrl") is None
