"""The generic live-blog profile: schema.org LiveBlogPosting in JSON-LD or microdata."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from feedgen_dw.diff import diff_article
from feedgen_dw.extract import extract_page
from tests.conftest import realpage

# (file, source, updates, first headline, first time UTC) as read from the saved pages
REAL = [
    ("corkbeo_2020_level3-live.html", "JSON-LD", 26, "Goodnight", "2020-10-06 20:22"),
    ("express_2024-07-18_harry-meghan-live.html", "JSON-LD", 9,
     "The only person Prince Harry and Meghan Markle trust to look after Archie and Lilibet",
     "2024-07-18 10:48"),
    # the Guardian's updates are degraded (one date, bodies cut): read from its own entries
    ("guardian_2023-05-15_russia-ukraine-war-live.html",
     "DOM entries (JSON-LD updates are degraded: one date for every update, bodies cut at "
     "1000 characters, the blog's authors on every update)", 10,
     "Jennifer Rankin reports from Brussels", "2023-05-15 11:50"),
    # the Independent titles every update "Women’s World Cup": the first words say more
    ("independent_2023-08-14_womens-world-cup-live.html", "JSON-LD", 10,
     "The Lionesses will be ready to face Australia in front of the home fans after playing "
     "against …",
     "2023-08-14 04:20"),
    ("mirror_2024-08-05_uk-riots-live.html", "JSON-LD", 428, "Loud bang heard at Plymouth scene",
     "2024-08-05 20:00"),
    ("ndtv_2023_cricket-world-cup-live.html", "microdata", 40, "India vs Sri Lanka: It's a wrap!",
     "2023-11-02 15:36"),
    ("repubblica_2023_israele-hamas-live.html", "JSON-LD", 79,
     "Oms: “A Gaza fermi 14 ospedali su 36, gli altri in sovraccarico”", "2023-11-02 15:56"),
    ("timesofindia_2020_ipl-liveblog.html", "JSON-LD", 8,
     "TOSS: Sunrisers Hyderabad win toss, opt to bat against Chennai Super Kings in Dubai",
     "2020-10-02 13:32"),
]


# the last (oldest) update of each page: (headline, time UTC)
LAST = {
    "corkbeo": ("'Circuit breaker' plan - NPHET vs Government", "2020-10-06 07:44"),
    "express": ("Meghan Markle shows true colours with tragic blog post about dad Thomas Markle",
                "2024-07-18 06:06"),
    "guardian": ("Zelenskiy discussed 'coalition of jets' with Sunak on UK visit",
                 "2023-05-15 10:42"),
    "independent": ("England are preparing to face Australia in the Women’s World Cup "
                    "semi-finals, with the hosts …", "2023-08-14 04:15"),
    "mirror": ("UK police braced for 'at least 15' protests over the weekend", "2024-08-02 17:42"),
    "ndtv": ("IND vs SL Live Score: Expensive over!", "2023-11-02 10:30"),
    "repubblica": ("Israele: “Colpite due cellule terroristiche in Libano”", "2023-11-01 23:30"),
    # the outlet cuts its headlines mid-word at 90 characters: cut back to a whole word
    "timesofindia": ("Ambati Rayudu's much-awaited comeback will be a shot in the arm for an "
                     "under-pressure Chennai …", "2020-10-02 12:46"),
}


@pytest.mark.parametrize(("name", "source", "count", "headline", "when"), REAL,
                         ids=[r[0].split("_")[0] for r in REAL])
def test_real_live_blogs(name: str, source: str, count: int, headline: str, when: str) -> None:
    article = extract_page(realpage(f"liveblogs/{name}"), f"https://example.org/{name}", "auto")
    assert (article.profile, article.source) == ("liveblog", source)
    assert "LiveBlogPosting" in article.reason
    assert len(article.sections) == count
    first = article.sections[0]
    assert first.headline == headline
    assert first.published is not None and f"{first.published:%Y-%m-%d %H:%M}" == when
    last = article.sections[-1]
    assert last.published is not None
    assert (last.headline, f"{last.published:%Y-%m-%d %H:%M}") == LAST[name.split("_")[0]]
    keys = [s.source_key for s in article.sections]
    assert len(set(keys)) == len(keys)
    assert all(s.headline.strip() for s in article.sections)
    assert sum(bool(s.text) for s in article.sections) > count // 2


def test_pages_without_live_blog_markup_are_not_taken() -> None:
    # not by this profile: the generic one reads them (tests/test_generic.py)
    for name in ("br24_2024-08-27_nahost-ticker.html", "sportowefakty_falubaz.html"):
        page = realpage(f"liveblogs/{name}")
        assert extract_page(page, "https://example.org/x", "auto").profile == "generic"


def _page(updates: list[dict[str, str]]) -> str:
    ld = {"@context": "https://schema.org", "@type": "LiveBlogPosting",
          "headline": "Ticker: Der Tag", "url": "https://news.example/ticker",
          "liveBlogUpdate": [{"@type": "BlogPosting", **u} for u in updates]}
    return (f'<html lang="de"><head><link rel="canonical" href="https://news.example/ticker">'
            f'<script type="application/ld+json">{json.dumps(ld)}</script></head>'
            f"<body><p>x</p></body></html>")


def test_update_identity_follows_its_id_through_edits() -> None:
    t0 = datetime(2026, 11, 24, 8, tzinfo=UTC)
    one = {"@id": "post-1", "headline": "Erste Meldung", "articleBody": "Text eins.",
           "datePublished": "2026-11-24T09:00:00+01:00"}
    two = {"@id": "post-2", "headline": "", "articleBody": "Zweite ohne Titel. Mehr Text.",
           "datePublished": "2026-11-24T09:30:00+01:00"}
    first = diff_article(None, extract_page(_page([two, one]), "https://news.example/ticker",
                                            "liveblog"), t0)
    titles = {s.key: s.title for s in first.state.sections}
    assert titles == {"p-post-2": "Zweite ohne Titel.", "p-post-1": "Erste Meldung"}
    published = {s.key: s.published for s in first.state.sections}
    assert published["p-post-1"] == datetime(2026, 11, 24, 8, tzinfo=UTC)  # the page's time
    edited = {**one, "headline": "Erste Meldung (aktualisiert)", "articleBody": "Ganz anders."}
    three = {"@id": "post-3", "headline": "Dritte", "articleBody": "Neu.",
             "datePublished": "2026-11-24T10:00:00+01:00"}
    second = diff_article(first.state, extract_page(
        _page([three, edited]), "https://news.example/ticker", "liveblog"),
        t0 + timedelta(hours=2))
    assert second.new == ("p-post-3",)
    assert second.changed == ("p-post-1",)
    assert second.removed == ("p-post-2",)
    after = {s.key: s for s in second.state.sections}
    assert after["p-post-1"].published == published["p-post-1"]
    assert after["p-post-1"].title == "Erste Meldung (aktualisiert)"


def test_auto_reads_a_pages_json_ld_once_and_each_page_its_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.ticker import ticker_page
    from feedgen_dw.extract import liveblog

    calls = []
    real = liveblog._ld_updates

    def counting(sel: object) -> object:
        calls.append(sel)
        return real(sel)  # type: ignore[arg-type]

    monkeypatch.setattr(liveblog, "_ld_updates", counting)
    base = "http://127.0.0.1:1"
    one = extract_page(ticker_page("t1", 5, base, ld=True).encode(), base + "/live/t1", "auto")
    two = extract_page(ticker_page("t2", 7, base, ld=True).encode(), base + "/live/t2", "auto")
    assert (one.profile, two.profile) == ("liveblog", "liveblog")
    assert (len(one.sections), len(two.sections)) == (5, 7)  # not the page before's answer
    assert len(calls) == 2  # matches() and extract() of a page: one reading
