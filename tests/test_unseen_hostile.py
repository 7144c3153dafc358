"""The markups of tests/test_unseen.py in pieces, shuffled into hostile soups: times in
attributes (ISO, epochs, junk), clocks in other languages, link lists, pinned copies and
update lines in any order never crash extraction, and every item keeps a title."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from feedgen_dw.errors import FeedgenDwError
from feedgen_dw.extract import extract_page

BITS = [
    "<div class='liveblog--anchor' id='e1'>", "<div class='liveblog--anchor' id='e1'>", "</div>",
    "<li class='item'><article>", "</article></li>", "<ol>", "</ol>",
    "<bsp-liveblog-post data-posted-date-timestamp='1741989720000'>", "</bsp-liveblog-post>",
    "<div data-published='2025-03-20T17:48:00+01:00' data-sort-time='-1'>",
    "<div data-published-at='9999-12-31T23:59:59-05:00' data-post-id=''>",
    "<div data-updated='0001-01-01' data-created-date='nan'>", "<section class='post'>",
    "</section>", "<abbr class='published' title='2025-03-20T01:42:00+00:00'>9:42 PM</abbr>",
    "<abbr title='not a time'>", "</abbr>", "<time>vor 12 Min.</time>",
    "<time datetime='2025-13-45T99:99'>x</time>", "<span class='date'>21 h 10</span>",
    "<span class='b-lv_t'>21:15 CEST</span>", "ore 19:10 ", "16.02 uur: ", "Posted at 0:40",
    "1:23 p.m. MT, March 14, 2025 ", "15:30 et les ", "28 de abril de 2025",
    "<p><b>+++ 18:03 Delegation landet +++</b><br>", "<p><strong>Fumata nera</strong></p>",
    "<p><strong>Lesen Sie auch:</strong> <a href='/x'>Mehr</a></p>", "<a href='/y'>Link</a>",
    "<h3>Mehr zum Thema</h3><ul><li><a href='/z'>Z</a></li></ul>", "<p>", "</p>", "<h2>",
    "</h2>", "<h3>", "</h3>", "Update vom 12. März, 9.05 Uhr: ", "Erstmeldung vom 11. März: ",
    "<span class='byline'>By Jo</span>", "<div class='pinned'>Pinned</div>", "___", "<hr>",
    "Der Text eines Eintrags, lang genug für eine Überschrift und etwas mehr. ", "<br>",
    "<table><tr><td>kl. 17.40</td><td>", "</td></tr>", "</table>", "<tr><td>18:03</td>",
    "<dl><dt>9.30</dt><dd>", "</dd>", "</dl>", "<ul><li><span>23:59</span> ", "</li></ul>",
    "<p class='zeit'>6.20 Uhr</p>", "<td>", "<th>0:05</th>",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(BITS), max_size=60),
       st.sampled_from(["https://x.example/live", "https://a.example.fr/2025/03/21/d",
                        "https://b.example.de/"]),
       st.sampled_from(["", '<html lang="es">', '<html lang="nl-NL">']))
def test_unseen_markup_soup_never_crashes(bits: list[str], url: str, html: str) -> None:
    page = f"{html or '<html>'}<body><main>{''.join(bits)}</main></body></html>"
    try:
        article = extract_page(page, url, "auto")
    except FeedgenDwError:
        return
    assert article.title.strip() and article.feed_title.strip()
    assert all(s.headline.strip() for s in article.sections)
    # the same pieces twice over (copies of every entry) never crash either
    try:
        doubled = extract_page(page.replace("<main>", "<main>" + "".join(bits)), url, "auto")
    except FeedgenDwError:
        return
    assert all(s.headline.strip() for s in doubled.sections)
