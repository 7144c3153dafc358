"""Live pages in markups of outlets not in the saved corpus, our own text: each read
with `site: auto` into the updates a reader sees (count, titles, UTC times), with no page
noise in the entries, and the same entries when the page's noise is left out."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from feedgen_dw.extract import extract_page, extract_with_notes
from tests.test_generic import utc

FIXTURES = Path(__file__).parent / "fixtures" / "unseen"
NOISE_RE = re.compile(r"<!--n-->.*?<!--/n-->", re.S)
# what a reader never sees in an update's text
JUNK = ("Anzeige", "Teilen", "Share", "Mehr zum Thema", "Kommentare", "comments", "mins ago",
        "hours ago", "vor 12 Min", "Cookie", "Lesen Sie auch", "Lire aussi", "Lees ook", "Related",
        "Pinned", "Auch interessant", "interessieren", "Drucken", "Partager", "Condividi",
        "Advertisement", "Sdílet", "+++", "il y a", "hace 5", "minuti fa", "geleden")


def page(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def url_of(text: str) -> str:
    found = re.search(r'rel="canonical" href="([^"]+)"', text)
    assert found
    return found.group(1)


EXPECTED: dict[str, tuple[str, list[tuple[str, datetime | None]]]] = {
    # custom elements with epoch ms, a pinned post, 'Key updates' links, 'By' bylines
    "bsp_posts_en.html": ("repeated <bsp-liveblog-post.LiveBlogPost> elements", [
        ('What to know about the shutdown fight', utc(2025, 3, 14, 12, 6)),
        ('Senate passes the bill 62-38', utc(2025, 3, 14, 22, 2)),
        ('Democrats split over the vote', utc(2025, 3, 14, 21, 0)),
        ('Senate leaders scheduled the first procedural vote for early afternoon.',
         utc(2025, 3, 14, 16, 0)),
    ]),
    # Spanish: '21:15 CEST' in a span of its own before the heading, a day line
    "directo_es.html": ("repeated <div.b-lv> elements", [
        ('El Gobierno pide prudencia en el consumo', utc(2025, 4, 28, 19, 15)),
        ('Madrid recupera el metro', utc(2025, 4, 28, 16, 40)),
        ('Portugal también sufre cortes generalizados, según su operador eléctrico.',
         utc(2025, 4, 28, 14, 30)),
        ('Gran apagón en toda España', utc(2025, 4, 28, 12, 40)),
    ]),
    # French clock times '21 h 10' in span.date, no date but the URL's
    "en_direct_fr.html": ("repeated <section.post> elements", [
        ('Le Sénat adopte le texte', utc(2025, 3, 21, 20, 10)),
        ('Le ministre du travail défend une réforme « juste et nécessaire » devant les sénateurs.',
         utc(2025, 3, 21, 17, 45)),
        ('Manifestations dans plusieurs villes', utc(2025, 3, 21, 14, 30)),
        ('Bonjour et bienvenue dans ce direct consacré au '
         'vote de la réforme des retraites au Sénat.',
         utc(2025, 3, 21, 8, 5)),
    ]),
    # li > article entries, 'posted at 14:31 GMT', one 'Posted at 9:02' without zone
    "list_items_gmt_en.html": ("repeated <li.ssrcss-8aj2ch-StyledListItem> elements", [
        ("Opposition: 'A budget of broken promises'", utc(2025, 3, 26, 14, 31)),
        ('Growth forecast halved', utc(2025, 3, 26, 13, 58)),
        ('The Chancellor is on her feet in the Commons.', utc(2025, 3, 26, 12, 45)),
        ('Good morning', utc(2025, 3, 26, 9, 2)),
    ]),
    # div.liveblog--anchor[id] + '12.03.2025 • 19:44 Uhr' + h2 + p.textabsatz
    "liveblog_anchor_de.html": ("repeated <div.liveblog--anchor> elements", [
        ('Pegel in Frankfurt sinkt unter sechs Meter', utc(2025, 3, 12, 18, 44)),
        ('Bundeswehr schickt weitere Soldaten', utc(2025, 3, 12, 16, 5)),
        ('Ministerpräsident besucht Deichbaustelle', utc(2025, 3, 12, 10, 30)),
        ('Nacht ohne neue Deichbrüche', utc(2025, 3, 11, 22, 50)),
    ]),
    # oldest first, 12-hour clocks in h3 crossing midnight (EST)
    "oldest_first_12h_en.html": ("headings with a clock time", [
        ('The first early-vote returns from Franklin County show the tax levy passing comfortably.',
         utc(2025, 11, 5, 0, 45)),
        ('Turnout in Cuyahoga County appears higher than four years ago, the elections board says.',
         utc(2025, 11, 5, 2, 12)),
        ('With 80% of precincts reporting, the school bond in Dayton is trailing by 600 votes.',
         utc(2025, 11, 5, 4, 48)),
        ('The Associated Press has called the Columbus mayoral race for the incumbent.',
         utc(2025, 11, 5, 5, 20)),
        ('That is all from us tonight.', utc(2025, 11, 5, 6, 35)),
    ]),
    # Italian 'ore 19:10', bold-only first paragraphs as headlines
    "ore_ticker_it.html": ("repeated <div.live-item> elements", [
        ('Fumata nera dal comignolo', utc(2025, 5, 8, 17, 10)),
        ('In piazza San Pietro si contano oltre '
         'quarantamila fedeli in attesa della fumata del pomeriggio.',
         utc(2025, 5, 8, 14, 45)),
        ('Fumata nera al mattino', utc(2025, 5, 8, 10, 2)),
        ('I cardinali sono entrati nella Cappella Sistina per la seconda giornata di voto.',
         utc(2025, 5, 8, 7, 15)),
    ]),
    # '+++ 18:03 Headline +++' in bold, the text after a line break
    "plus_ticker_de.html": ("paragraphs that open with a clock time", [
        ('Delegation landet in Doha', utc(2025, 3, 12, 17, 3)),
        ('Hilfskonvoi erreicht Norden des Gazastreifens', utc(2025, 3, 12, 15, 41)),
        ('Außenminister telefonieren', utc(2025, 3, 12, 11, 15)),
        ('Nacht verläuft weitgehend ruhig', utc(2025, 3, 12, 7, 30)),
    ]),
    # article[data-post-id], '11:55 p.m. ET, March 14, 2025', no JSON-LD
    "post_articles_12h_en.html": ("repeated <article.live-story-post> elements", [
        ('Snowfall totals top 20 inches in parts of Vermont', utc(2025, 3, 15, 3, 55)),
        ('More than 300,000 customers without power', utc(2025, 3, 15, 2, 10)),
        ('The governor of New York declared a state of emergency for 14 counties.',
         utc(2025, 3, 14, 20, 23)),
    ]),
    # 'vor 12 Min.' only, the absolute time in data-published
    "relative_times_de.html": ("repeated <div.relative> elements", [
        ('Bahn kündigt Ersatzfahrplan für Freitag an', utc(2025, 3, 20, 16, 48)),
        ('Der Verkehrsminister hat beide Seiten zu neuen Gesprächen aufgefordert.',
         utc(2025, 3, 20, 14, 2)),
        ('Gewerkschaft droht mit längeren Streiks', utc(2025, 3, 20, 8, 15)),
        ('Streik hat begonnen', utc(2025, 3, 20, 4, 30)),
    ]),
    # 'The Latest': '___' rules, bold 12-hour times, datelines
    "the_latest_dateline_en.html": ("paragraphs that open with a clock time", [
        ('Fire officials say the blaze has grown to 2,300 acres and is 5% contained.',
         utc(2025, 3, 22, 17, 45)),
        ('Gov. Mark Sisson has declared a disaster emergency '
         'for Boulder County, freeing state money for the …',
         utc(2025, 3, 22, 15, 20)),
        ("The sheriff's office has ordered about 8,000 "
         "residents to evacuate neighborhoods along the western …",
         utc(2025, 3, 22, 13, 5)),
        ('A wildfire that started Saturday morning in the '
         'foothills is spreading quickly in strong winds, …',
         utc(2025, 3, 22, 11, 30)),
    ]),
    # Tickaroo: tik4-event, time[datetime], tik4-author__name
    "tickaroo_de.html": ("repeated <div.tik4-event> elements", [
        ('Zweidrittelmehrheit erreicht', utc(2025, 3, 18, 15, 12)),
        ('Die Opposition kritisiert das Verfahren scharf.', utc(2025, 3, 18, 13, 47)),
        ('Sitzung eröffnet', utc(2025, 3, 18, 8, 5)),
    ]),
    # 'Update vom 12. März, 9.05 Uhr:' over an 'Erstmeldung'
    "update_vom_de.html": ("'Update …:' paragraphs over the original report", [
        ('Das Feuer ist gelöscht.', utc(2025, 3, 12, 8, 5)),
        ('Die Polizei hat die Sperrung der Bundesstraße aufgehoben.', utc(2025, 3, 11, 20, 40)),
        ('Großbrand in Recyclinghof: Rauchwolke über der Stadt', utc(2025, 3, 11, 17, 30)),
    ]),
    # Dutch '16.02 uur:' in bold
    "uur_ticker_nl.html": ("paragraphs that open with a clock time", [
        ('Bij Schiphol zijn middag ruim 200 vluchten geschrapt.', utc(2025, 1, 24, 15, 2)),
        ('In Rotterdam is een boom op een tram gevallen.', utc(2025, 1, 24, 13, 35)),
        ('De NS laat vanaf 13.00 uur minder treinen rijden op het hele spoornet.',
         utc(2025, 1, 24, 10, 50)),
        ('Het KNMI verhoogt de waarschuwing naar '
         'code oranje voor Zeeland, Zuid-Holland, Noord-Holland, …',
         utc(2025, 1, 24, 8, 15)),
    ]),
    # WordPress liveblog plugin: abbr.published[title=ISO], '9:42 PM' shown
    "wp_liveblog_en.html": ("repeated <div.liveblog-entry> elements", [
        ('The council voted 5-2 to approve the budget with the library amendment.',
         utc(2025, 3, 20, 1, 42)),
        ('Council member Ruiz proposes moving $250,000 from the '
         'parking fund to keep branch libraries open on …',
         utc(2025, 3, 20, 0, 15)),
        ('Public comment is under way.', utc(2025, 3, 19, 22, 31)),
    ]),
    # a utility's notice without sections: one item, the page's title
    "notice_noisy_de.html": ("none: the whole page is one item", [
        ("Wasserrohrbruch: Trinkwasser im Westend abkochen", None),
    ]),
    # an article of h2 sections (no times) with 'Lesen Sie auch:' lines and related links
    "sections_noisy_de.html": ("<h2> sections", [
        ("Nahost aktuell: Waffenruhe hält vorerst", None),
        ("Drei Geiseln zurück in Israel", None),
        ("Hilfslieferungen rollen an", None),
        ("Kritik aus der Regierungskoalition", None),
    ]),
    # a table of timed rows, "kl. 17.40" in a cell of its own (Swedish)
    "table_rows_sv.html": ("paragraphs that open with a clock time", [
        ("Trafikverket stänger E4 norr om Uppsala i båda riktningarna.", utc(2025, 1, 8, 16, 40)),
        ("Flera hundra bilister sitter fast i köer.", utc(2025, 1, 8, 14, 15)),
        ("SL ställer in all busstrafik i norra länet under eftermiddagen.",
         utc(2025, 1, 8, 11, 2)),
        ("SMHI höjer varningen till röd för snöfall i Uppland och Stockholms län.",
         utc(2025, 1, 8, 8, 30)),
    ]),
    # a headline above a time line ("6.20 Uhr" on its own), under day headings
    "heading_above_time_de.html": ("paragraphs that open with a clock time", [
        ("Erste Busse rollen wieder", utc(2025, 3, 13, 5, 20)),
        ("Streik endet um Mitternacht", utc(2025, 3, 12, 23, 5)),
        ("Kundgebung vor dem Rathaus", utc(2025, 3, 12, 10, 30)),
        ("Kein Bus, keine Bahn", utc(2025, 3, 12, 3, 0)),
    ]),
    # "+++ 12. 3. 2025 08:15 +++" in bold: a date before each time, across midnight (Czech)
    "dated_lines_cs.html": ("paragraphs that open with a clock time", [
        ("Hasiči evakuovali 200 obyvatel Krnova.", utc(2025, 3, 12, 7, 15)),
        ("Na Bruntálsku platí třetí stupeň povodňové aktivity.", utc(2025, 3, 12, 5, 40)),
        ("Meteorologové varují před dalším deštěm.", utc(2025, 3, 11, 22, 50)),
        ("Krajský hejtman svolal krizový štáb.", utc(2025, 3, 11, 20, 5)),
    ]),
    # a pinned copy of an entry, a 'Key events' list of links with times
    "key_events_pinned_en.html": ("repeated <article.block> elements", [
        ("Gust of 96mph at Aberdaron", utc(2024, 12, 7, 11, 20)),
        ("Network Rail says all services between Cardiff and Swansea are suspended until "
         "further notice …", utc(2024, 12, 7, 10, 2)),
        ("Red warning in force", utc(2024, 12, 7, 9, 5)),
    ]),
    # "Posted at 0:40" under day headings, newest first across midnight, no zone anywhere
    "posted_at_days_en.html": ("repeated <div.lx-post> elements", [
        ("Trophy lifted", utc(2023, 10, 29, 0, 40)),
        ("Full-time: 12-11", utc(2023, 10, 29, 0, 5)),
        ("Red card!", utc(2023, 10, 28, 23, 10)),
        ("Kick-off", utc(2023, 10, 28, 22, 2)),
    ]),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_unseen_markup(name: str) -> None:
    marker, expected = EXPECTED[name]
    text = page(name)
    article, notes = extract_with_notes(text, url_of(text), "auto")
    assert article.profile == "generic"
    assert notes.marker == marker
    assert [(s.headline, s.published) for s in article.sections] == expected
    for section in article.sections:
        assert not [j for j in JUNK if j in section.text], section.text
        # a headline of its own is not repeated in the text (a derived one is its opening)
        assert not section.text.startswith(section.headline[:30]) or section.is_lead or (
            section.headline.endswith((".", "!", "?", "…")))


def _entries(text: str) -> list[tuple[object, ...]]:
    article = extract_page(text, url_of(text), "auto")
    return [(s.headline, s.text, s.published, s.source_key) for s in article.sections]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_unseen_markup_without_its_noise_gives_the_same_entries(name: str) -> None:
    text = page(name)
    assert NOISE_RE.search(text)
    assert _entries(NOISE_RE.sub("", text)) == _entries(text)


def test_shown_times_read_like_machine_times() -> None:
    """Without `data-last-updated`, "11:55 p.m. ET, March 14, 2025" gives the same times."""
    text = page("post_articles_12h_en.html")
    bare = re.sub(r' data-last-updated="[^"]*"', "", text)
    assert bare != text
    assert _entries(bare) == _entries(text)


def test_a_pinned_copy_and_key_events_in_the_stream_are_no_entries() -> None:
    """The pinned copy right among the entries, and the 'Key events' links inside the
    stream, change nothing: each update once, in its place."""
    text = page("key_events_pinned_en.html")
    key_events = re.search(r'<div class="dcr-keyevents">.*?</div>', text, re.S)
    assert key_events
    pinned_in_stream = text.replace('<div data-gu-marker="pinned-post" class="dcr-pinned">',
                                    "").replace("</article></div>", "</article>", 1)
    events_in_stream = text.replace(key_events.group(0), "").replace(
        '<div class="js-liveblog-body">', '<div class="js-liveblog-body">' + key_events.group(0))
    for variant in (pinned_in_stream, events_in_stream):
        assert variant != text
        assert _entries(variant) == _entries(text)


def test_an_entry_with_another_first_class_is_one_of_its_kind() -> None:
    """A highlighted entry ("liveblog--highlight liveblog--anchor") is still an entry."""
    text = page("liveblog_anchor_de.html")
    highlighted = text.replace('<div class="liveblog--anchor" id="lb-entry-9008">',
                               '<div class="liveblog--highlight liveblog--anchor" '
                               'id="lb-entry-9008">')
    assert highlighted != text
    assert _entries(highlighted) == _entries(text)


def test_a_list_of_timed_items_reads_like_the_table() -> None:
    """The same ticker as a list ("<li><span>kl. 17.40</span> …") or a definition list
    ("<dt>kl. 17.40</dt><dd>…") gives the table's entries."""
    text = page("table_rows_sv.html")
    as_list = text.replace('<table class="ticker-table">\n<tbody>', '<ul class="ticker">').replace(
        '<tr class="ticker-row"><td class="ticker-time">', "<li><span>").replace(
        '</td><td class="ticker-text">', "</span> ").replace("</td></tr>", "</li>").replace(
        "</tbody>\n</table>", "</ul>")
    as_terms = as_list.replace('<ul class="ticker">', "<dl>").replace("</ul>", "</dl>").replace(
        "<li><span>", "<dt>").replace("</span> ", "</dt><dd>").replace("</li>", "</dd>")
    expected = [(h, p) for h, _, p, _ in _entries(text)]
    assert [(h, p) for h, _, p, _ in _entries(as_list)] == expected
    assert [(h, p) for h, _, p, _ in _entries(as_terms)] == expected
    assert [t for _, t, _, _ in _entries(as_list)] == [t for _, t, _, _ in _entries(text)]


@pytest.mark.parametrize("where", ["title", "data-ts", "microdata"])
def test_a_machine_time_on_any_part_of_an_entry(where: str) -> None:
    """The entry's absolute time in its relative time's `title`, in an epoch on one of its
    parts, or in a microdata <meta>: the same times as on the entry itself."""
    text = page("relative_times_de.html")

    def move(found: re.Match[str]) -> str:
        iso = found.group(1)
        epoch = int(datetime.fromisoformat(iso).timestamp())
        shown = {"title": f'<time class="text-shade-dark" title="{iso}">',
                 "data-ts": f'<time class="text-shade-dark" data-ts="{epoch}">',
                 "microdata": f'<meta itemprop="datePublished" content="{iso}">'
                              '<time class="text-shade-dark">'}[where]
        return found.group(0).replace(f' data-published="{iso}"', "").replace(
            '<time class="text-shade-dark">', shown)

    moved = re.sub(r'<div data-area="liveblog_item" data-published="([^"]+)".*?</time>', move,
                   text, flags=re.S)
    assert "data-published" not in moved
    assert _entries(moved) == _entries(text)


def test_a_long_comment_thread_is_never_the_content() -> None:
    """Forty reader comments outweigh the live blog's text: still the blog's entries."""
    text = page("wp_liveblog_en.html")
    comment = ('<li class="comment"><div class="comment-author">reader{n}</div><div '
               'class="comment-content"><p>I have lived here for thirty years and never seen '
               "the council this divided over the library budget; a sign of how badly things "
               "are run, says comment number {n}.</p></div></li>")
    thread = "".join(comment.format(n=n) for n in range(40))
    long_thread = text.replace('<ol class="comment-list">', '<ol class="comment-list">' + thread)
    assert _entries(long_thread) == _entries(text)


def test_a_visible_stand_line_dates_clock_times_when_the_head_has_no_date() -> None:
    """No date in the head, "19:44 Uhr" alone on each entry: the page's "Stand: 12.03.2025
    19:44 Uhr" line dates them, across midnight too."""
    text = page("liveblog_anchor_de.html")
    bare = re.sub(r'<meta name="(date|last-modified)"[^>]*>', "", text)
    bare = re.sub(r"\d\d\.03\.2025 • ", "", bare)
    assert "2025-03" not in bare and "liveblog__datetime\">19:44 Uhr" in bare
    assert [p for _, _, p, _ in _entries(bare)] == [p for _, _, p, _ in _entries(text)]


LONG = "".join(f"<p>Absatz {n}: the situation stays tense and crews work around the clock "
               "watching every weak spot, officials said in a long statement.</p>"
               for n in range(15))


@pytest.mark.parametrize("name", sorted(n for n, (m, _) in EXPECTED.items()
                                        if m.startswith("repeated")))
def test_one_long_entry_does_not_swallow_the_others(name: str) -> None:
    """The first entry made longer than all the others together: still every entry (the
    main content is their list, not the long one)."""
    text = page(name)
    first = text.rindex(EXPECTED[name][1][0][0][:20])  # after a key-events list
    cut = text.index("</p>", first) + len("</p>")
    longer = text[:cut] + LONG + text[cut:]
    assert [(h, p) for h, _, p, _ in _entries(longer)] == [
        (h, p) for h, _, p, _ in _entries(text)]


@pytest.mark.parametrize("listed", [1, 2])
def test_structured_data_listing_fewer_updates_than_the_page_gives_way_to_it(
        listed: int) -> None:
    """A LiveBlogPosting whose liveBlogUpdate lists only the newest posts: the page's own
    entries, keyed like the updates."""
    text = page("post_articles_12h_en.html")
    url = url_of(text)
    posts = [{"@type": "BlogPosting", "headline": f"Post {n}", "articleBody": "Text.",
              "datePublished": f"2025-03-15T0{n}:00:00Z", "url": f"{url}#cm8abc00{n}"}
             for n in (1, 2, 3)][:listed]
    blog = {"@context": "https://schema.org", "@type": "LiveBlogPosting",
            "headline": "Winter storm", "liveBlogUpdate": posts}
    with_ld = text.replace("</head>", '<script type="application/ld+json">'
                           f"{json.dumps(blog)}</script></head>")
    article = extract_page(with_ld, url, "auto")
    assert article.profile == "liveblog" and article.source.startswith("DOM entries")
    assert [(s.headline, s.published) for s in article.sections] == EXPECTED[
        "post_articles_12h_en.html"][1]
    assert [s.source_key for s in article.sections] == ["p-cm8abc001", "p-cm8abc002",
                                                         "p-cm8abc003"]


def test_a_bare_clock_alone_at_the_top_of_an_entry_is_its_time() -> None:
    """"21:15" in a span of its own, no zone after it (the page's offset gives it): the
    same times as "21:15 CEST"."""
    text = page("directo_es.html")
    bare = text.replace(" CEST</span>", "</span>")
    assert bare != text
    assert [(h, p) for h, _, p, _ in _entries(bare)] == [(h, p) for h, _, p, _ in _entries(text)]


def test_bold_headlines_between_rules_are_the_titles() -> None:
    """'The Latest' with a bold headline instead of a time over each entry: the headline is
    the title, and not the text's opening too."""
    text = page("the_latest_dateline_en.html")
    heads = iter(["BLAZE GROWS TO 2,300 ACRES", "GOVERNOR DECLARES EMERGENCY",
                  "THOUSANDS TOLD TO LEAVE", "FIRE STARTS IN FOOTHILLS"])
    titled = re.sub(r"<p><strong>\d{1,2}:\d\d [ap]\.m\.</strong></p>",
                    lambda _m: f"<p><strong>{next(heads)}</strong></p>", text)
    article, notes = extract_with_notes(titled, url_of(titled), "auto")
    assert notes.marker == "rules between entries (<hr>, ___, ***)"
    assert [(s.headline, s.published) for s in article.sections] == [
        ("BLAZE GROWS TO 2,300 ACRES", None), ("GOVERNOR DECLARES EMERGENCY", None),
        ("THOUSANDS TOLD TO LEAVE", None), ("FIRE STARTS IN FOOTHILLS", None)]
    assert all(s.text.startswith(("BOULDER", "DENVER")) for s in article.sections)
