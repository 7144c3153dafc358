"""The generic profile (`site: auto` with no profile fitting): our own pages in every kind
of live-page markup, the saved real pages, the profile choice and `inspect`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedgen_dw.cli import main
from feedgen_dw.diff import section_link
from feedgen_dw.errors import ExtractError
from feedgen_dw.extract import extract_page, extract_with_notes, pick_profile
from feedgen_dw.extract.html import page_selector
from tests.conftest import REALPAGES

FIXTURES = Path(__file__).parent / "fixtures" / "generic"
# the saved pages sit next to the main checkout; a worktree may point at them
REAL = REALPAGES


def fixture(name: str, edit: bool = False) -> str:
    """A fixture page as first published (`edit`: with its one edited entry)."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return text.replace("<!--edit-->", " Später ergänzt: weitere Angaben." if edit else "")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


# fixture -> (marker, [(title, UTC time or None)]) as read by hand from the fixture
FIXTURE_EXPECTED: dict[str, tuple[str, list[tuple[str, datetime | None]]]] = {
    # newest first under day headings without a year, across midnight (CEST)
    "heading_times_de.html": ("headings with a clock time", [
        ("Nacht bleibt ruhig", utc(2024, 5, 3, 22, 20)),
        ("Waffenruhe tritt in Kraft", utc(2024, 5, 3, 21, 40)),
        ("Kabinett stimmt zu", utc(2024, 5, 3, 19, 5)),
        ("Gespräche in Kairo dauern an", utc(2024, 5, 3, 12, 30)),
    ]),
    # oldest first, "GMT" after the times, across midnight
    "heading_times_en.html": ("headings with a clock time", [
        ("Amber warning issued for the south-west", utc(2024, 3, 2, 21, 30)),
        ("Trains cancelled on coastal routes", utc(2024, 3, 2, 22, 45)),
        ("Thousands without power", utc(2024, 3, 2, 23, 50)),
        ("Gust of 92mph recorded at Needles", utc(2024, 3, 3, 0, 10)),
    ]),
    # bold clock times without headings on the night clocks go forward (CET -> CEST)
    "bold_paragraphs_de.html": ("paragraphs that open with a clock time", [
        ("Die Uhren sind umgestellt, der Regen lässt nach.", utc(2024, 3, 31, 1, 15)),
        ("Feuerwehr im Dauereinsatz.", utc(2024, 3, 31, 0, 50)),
        ("Blitzeinschlag in Ulm.", utc(2024, 3, 30, 23, 20)),
        ("Hagel in Stuttgart.", utc(2024, 3, 30, 22, 40)),
    ]),
    # 12-hour clocks in ET on the night the US clocks go forward (EST -> EDT)
    "bold_paragraphs_en.html": ("paragraphs that open with a clock time", [
        ("All precincts in Kent County have now reported.", utc(2024, 3, 10, 7, 10)),
        ("The secretary of state says counting will resume in the morning.",
         utc(2024, 3, 10, 6, 45)),
        ("The Associated Press calls the race for the incumbent.", utc(2024, 3, 10, 4, 30)),
        ("Polls have closed across the state.", utc(2024, 3, 10, 2, 5)),
    ]),
    # "The Latest": rules between entries that open with a dateline and have no time
    "rules_the_latest.html": ("rules between entries (<hr>, ___, ***)", [
        ("Officials in St. Louis County ordered the evacuation of two more neighborhoods on "
         "Wednesday as the …", None),
        ("Volunteers filled sandbags through the night to protect the water treatment plant.",
         None),
        ("The floodgates in Hannibal's historic district were closed for the first time since "
         "2019.", None),
        ("The river dropped slightly overnight, but officials warned that more rain is on the "
         "way.", None),
    ]),
    # updates on top of the original report, whose subheadings are no entries
    "updates_on_top_de.html": ("'Update …:' paragraphs over the original report", [
        ("Die Feuerwehr hat den Brand vollständig gelöscht.", utc(2024, 3, 12, 16, 40)),
        ("Die Nachlöscharbeiten dauern an.", utc(2024, 3, 12, 8, 5)),
        ("Brand in Lagerhalle: Anwohner sollen Fenster schließen", utc(2024, 3, 11, 17, 30)),
    ]),
    # an ordinary article in h2 sections, re-published all day
    "sections_aktuell.html": ("<h2> sections", [
        ("Ukraine aktuell: Neue Angriffe auf Energieanlagen", None),
        ("Selenskyj fordert mehr Flugabwehr", None),
        ("EU berät über Sanktionen", None),
        ("Getreideexporte über Odessa", None),
    ]),
    # a notice without sections: one item
    "notice.html": ("none: the whole page is one item", [
        ("Straßensperrung wegen Bauarbeiten", None),
    ]),
    # "+++ 18:03 Headline +++" in bold, the text after a line break
    "plus_lines_de.html": ("paragraphs that open with a clock time", [
        ("Kiew meldet Angriffe auf Charkiw", utc(2024, 9, 17, 16, 3)),
        ("Scholz telefoniert mit Selenskyj", utc(2024, 9, 17, 15, 41)),
        ("Ölpreis steigt deutlich", utc(2024, 9, 17, 14, 55)),
    ]),
    # custom elements per entry with epoch milliseconds, no zone anywhere (times are UTC)
    "custom_elements_en.html": ("repeated <bsp-liveblog-post.LiveBlogPost> elements", [
        ("Fed cuts rates by half a point", utc(2024, 9, 17, 16, 20)),
        ("Markets wait for the decision", utc(2024, 9, 17, 15, 20)),
        ("Good morning.", utc(2024, 9, 17, 14, 20)),
    ]),
    # each entry dated in its own line, across midnight, no page date at all
    "dated_entries_de.html": ("repeated <div.liveblog--anchor> elements", [
        ("Luftalarm in Kiew", utc(2024, 9, 16, 22, 15)),
        ("Ruhige Nacht im Osten", utc(2024, 9, 16, 21, 55)),
        ("Scholz telefoniert mit Selenskyj", utc(2024, 9, 16, 15, 41)),
    ]),
    # entries as elements of their own, with machine times and bylines
    "repeated_entries.html": ("repeated <div.post> elements", [
        ("Winner crosses the line", utc(2024, 4, 21, 10, 32)),
        ("The leading group is down to three at 35km.", utc(2024, 4, 21, 10, 5)),
        ("Halfway", utc(2024, 4, 21, 9, 31)),
        ("They're off", utc(2024, 4, 21, 8, 0)),
    ]),
}


@pytest.mark.parametrize("name", sorted(FIXTURE_EXPECTED))
def test_each_kind_of_live_page_without_a_profile(name: str) -> None:
    marker, expected = FIXTURE_EXPECTED[name]
    article, notes = extract_with_notes(fixture(name), "https://news.example/live", "auto")
    assert article.profile == "generic"
    assert notes.marker == marker
    assert [(s.headline, s.published) for s in article.sections] == expected
    for section in article.sections:
        assert section.text and "vor 3 Minuten" not in section.text
        assert "…" not in section_link(article.url, section)


def test_repeated_entries_keep_their_ids_and_bylines() -> None:
    article = extract_page(fixture("repeated_entries.html"), "https://x.example/", "auto")
    assert [s.source_key for s in article.sections] == [
        "p-post-1004", "p-post-1003", "p-post-1002", "p-post-1001"]
    assert [s.authors for s in article.sections] == [("Sam Reed",)] * 2 + [("Ana Ruiz",)] * 2
    assert all("11:05" not in s.text and "Sam Reed" not in s.text for s in article.sections)


def test_entries_without_an_id_are_recognised_by_content() -> None:
    article = extract_page(fixture("heading_times_de.html"), "https://x.example/", "auto")
    # no page id: the diff recognises them like DW sections, and the summary is no entry
    assert all(s.source_key is None for s in article.sections)
    assert "Überblick" not in " ".join(s.text for s in article.sections)
    assert "Mit Material von dpa" in article.sections[-1].text


def test_a_page_without_any_zone_is_read_as_utc_and_inspect_says_so(
        capsys: pytest.CaptureFixture[str]) -> None:
    page = ("<html><body><div><h1>Ticker</h1><h3>10:45 – Start</h3><p>Erstes.</p>"
            "<h3>11:15 – Weiter</h3><p>Zweites.</p></div></body></html>")
    article, notes = extract_with_notes(page, "https://ticker.example.com/2024/05/06/live",
                                        "auto")
    assert notes.zone == "UTC" and "assumed UTC" in notes.zone_source
    assert notes.dates == "the URL"
    assert [s.published for s in article.sections] == [utc(2024, 5, 6, 10, 45),
                                                       utc(2024, 5, 6, 11, 15)]


def test_unknown_site_lists_the_valid_names() -> None:
    with pytest.raises(ExtractError, match=r"unknown site profile 'br42' \(valid: auto, dw, "
                       r"liveblog, generic, br24, sportowefakty\)"):
        pick_profile("br42", "https://www.br.de/x", page_selector("<html></html>"))


def test_auto_names_the_shipped_profile_of_the_host_when_it_reads_nothing() -> None:
    with pytest.raises(ExtractError, match="try site: br24"):
        pick_profile("auto", "https://www.br.de/nachrichten/x", page_selector(
            "<html><body><script>1</script></body></html>"))


def test_inspect_prints_how_the_page_was_read(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.html"
    page.write_text(fixture("heading_times_de.html"), encoding="utf-8")
    assert main(["inspect", str(page), "--url", "https://www.beispielzeitung.de/t"]) == 0
    out = capsys.readouterr().out
    assert "profile:  generic" in out and "marker:   headings with a clock time" in out
    assert "zone Europe/Berlin (the outlet's country (.de))" in out
    assert "dates from dates written in the page (day headings" in out
    assert "1. Nacht bleibt ruhig" in out and "time: 2024-05-03 22:20 UTC (00:20 CEST)" in out
    assert "dropped:" in out and "ad slots" in out
    assert "config:   site: auto" in out
    assert main(["inspect", str(page), "--full"]) == 0
    assert "Vermittler aus Ägypten und Katar hatten tagelang verhandelt." in (
        capsys.readouterr().out)


# saved page -> (entries, profile, first (title, UTC), last (title, UTC)), read by hand
REAL_EXPECTED: dict[str, tuple[int, str, tuple[str, datetime | None],
                               tuple[str, datetime | None]]] = {
    "liveblogs/br24_2024-08-27_nahost-ticker.html": (7, "generic", (
        "Ultraorthodoxe jüdische Zeitung lehnt Tempelberg-Aussagen von Sicherheitsminister ab",
        utc(2024, 8, 27, 10, 31)), (
        "Risiko eines breiteren Nahost-Krieges offenbar gesunken", utc(2024, 8, 27, 0, 2))),
    # 50: its two recruitment promos and a link to the preview article are link-only posts
    "liveblogs/sportowefakty_falubaz.html": (50, "generic", ("Koniec.", None), (
        "ZOBACZ WIDEO Bartosz Zmarzlik zostanie ojcem. Wiemy, dlaczego nowiną podzielił się w "
        "Pradze", None)),
    "liveblogs/guardian_2023-05-15_russia-ukraine-war-live.html": (10, "liveblog", (
        "Jennifer Rankin reports from Brussels", utc(2023, 5, 15, 11, 50, 54)), (
        "Zelenskiy discussed 'coalition of jets' with Sunak on UK visit",
        utc(2023, 5, 15, 10, 42, 56))),
    "liveblogs/corkbeo_2020_level3-live.html": (26, "liveblog", (
        "Goodnight", utc(2020, 10, 6, 20, 22, 53)), (
        "'Circuit breaker' plan - NPHET vs Government", utc(2020, 10, 6, 7, 44, 43))),
    "liveblogs/express_2024-07-18_harry-meghan-live.html": (9, "liveblog", (
        "The only person Prince Harry and Meghan Markle trust to look after Archie and Lilibet",
        utc(2024, 7, 18, 10, 48)), (
        "Meghan Markle shows true colours with tragic blog post about dad Thomas Markle",
        utc(2024, 7, 18, 6, 6))),
    "liveblogs/independent_2023-08-14_womens-world-cup-live.html": (10, "liveblog", (
        "The Lionesses will be ready to face Australia in front of the home fans after playing "
        "against …", utc(2023, 8, 14, 4, 20, 6)), (
        "England are preparing to face Australia in the Women’s World Cup semi-finals, with the "
        "hosts …",
        utc(2023, 8, 14, 4, 15, 52))),
    "liveblogs/mirror_2024-08-05_uk-riots-live.html": (428, "liveblog", (
        "Loud bang heard at Plymouth scene", utc(2024, 8, 5, 20, 0, 18)), (
        "UK police braced for 'at least 15' protests over the weekend",
        utc(2024, 8, 2, 17, 42))),
    "liveblogs/ndtv_2023_cricket-world-cup-live.html": (40, "liveblog", (
        "India vs Sri Lanka: It's a wrap!", utc(2023, 11, 2, 15, 36, 52)), (
        "IND vs SL Live Score: Expensive over!", utc(2023, 11, 2, 10, 30, 24))),
    "liveblogs/repubblica_2023_israele-hamas-live.html": (79, "liveblog", (
        "Oms: “A Gaza fermi 14 ospedali su 36, gli altri in sovraccarico”",
        utc(2023, 11, 2, 15, 56, 32)), (
        "Israele: “Colpite due cellule terroristiche in Libano”",
        utc(2023, 11, 1, 23, 30, 20))),
    "liveblogs/timesofindia_2020_ipl-liveblog.html": (8, "liveblog", (
        "TOSS: Sunrisers Hyderabad win toss, opt to bat against Chennai Super Kings in Dubai",
        utc(2020, 10, 2, 13, 32, 32)), (
        # the outlet's headline, cut mid-word at 90 characters, cut back to a whole word
        "Ambati Rayudu's much-awaited comeback will be a shot in the arm for an under-pressure "
        "Chennai …", utc(2020, 10, 2, 12, 46, 25))),
    "dw/dw_2011-05-23_a-6533123_fr_elephants.html": (1, "dw", (
        "La perte des terres fertiles et les éléphants en Guinée-Conakry", None), (
        "La perte des terres fertiles et les éléphants en Guinée-Conakry", None)),
    "dw/dw_2013-06-10_a-16863843_en_fruehburgunder.html": (3, "dw", (
        "Uncork the mystery of Germany's Frühburgunder", None), ("Reaping the harvest", None)),
    "dw/dw_2020-01-19_a-52060881_en_colonial-past.html": (3, "dw", (
        "Berlin confronts Germany's colonial past with new initiative", None), (
        "Right-wing resistance", None)),
    "dw/dw_2023-03-14_a-64976342_habeck-regenwald.html": (4, "dw", (
        "Habeck will besseren Schutz für Brasiliens Regenwald", None), (
        "Abholzung geht weiter", None)),
    "dw/dw_2023-03-25_a-65106525_libanon-krise.html": (7, "dw", (
        "(Wirtschafts-)Krise ohne Ende", None), (
        "Kurzfristige Hilfen aus dem Ausland reichen nicht", None)),
    "dw/dw_2023-04-28_a-65464327_gegenoffensive.html": (5, "dw", (
        "Ziele, Chancen, Risiken", None), ("Gegenoffensive dürfte den Krieg nicht beenden",
                                           None)),
    "dw/dw_2023-06-13_a-65897191_post-vac.html": (4, "dw", ("Was wissen wir?", None), (
        "Was passiert im Körper eines Post-Vac-Patienten?", None)),
    "dw/dw_2024-01-30_a-68117411_nadeschdin.html": (5, "dw", (
        "Nadeschdin setzt auf ein Ende der Putin-Ära", None), (
        "Wie realistisch ist ein Sieg Nadeschdins?", None)),
}


def _real(relative: str) -> bytes:
    path = REAL / relative
    if not path.exists():
        pytest.skip(f"real page not available: {path}")
    return path.read_bytes()


@pytest.mark.parametrize("relative", sorted(REAL_EXPECTED))
def test_every_saved_page_with_site_auto(relative: str) -> None:
    count, profile, first, last = REAL_EXPECTED[relative]
    article = extract_page(_real(relative), "file:///" + relative, "auto")
    assert (len(article.sections), article.profile) == (count, profile)
    sections = article.sections
    assert (sections[0].headline, sections[0].published) == first
    assert (sections[-1].headline, sections[-1].published) == last
    assert all(s.headline.strip() for s in sections)  # some updates are only an embed


def test_br24_without_its_profile_matches_the_profile() -> None:
    from feedgen_dw.config import builtin_profiles

    page = _real("liveblogs/br24_2024-08-27_nahost-ticker.html")
    url = "https://www.br.de/nachrichten/ticker"
    generic = extract_page(page, url, "auto")
    shipped = extract_page(page, url, "br24", builtin_profiles()["br24"])
    assert [(s.headline, s.published) for s in generic.sections] == [
        (s.headline, s.published) for s in shipped.sections]


def test_guardian_degraded_updates_give_way_to_the_page() -> None:
    article = extract_page(_real("liveblogs/guardian_2023-05-15_russia-ukraine-war-live.html"),
                           "https://www.theguardian.com/x", "auto")
    assert article.source.startswith("DOM entries (JSON-LD updates are degraded: one date")
    assert len({s.published for s in article.sections}) == 10  # one time per update
    assert [s.headline for s in article.sections].count(
        "Sunak: 'not a straightforward thing' to supply fighter jets to Ukraine") == 1
    assert article.sections[0].authors == ("Jennifer Rankin",)  # not the blog's six
    # keyed like the structured updates, so either reading is the same item
    assert article.sections[0].source_key == "p-646219928f08e408b758af95"


def test_sportowefakty_race_times_are_no_clock_times() -> None:
    article = extract_page(_real("liveblogs/sportowefakty_falubaz.html"),
                           "https://sportowefakty.wp.pl/x", "auto")
    assert all(s.published is None for s in article.sections)
    assert [s.headline for s in article.sections if s.headline.startswith("Bieg ")][:2] == [
        "Bieg 15", "Bieg 14"]
    # a heat's header holds its race time and score: neither is a byline
    assert not any(s.authors for s in article.sections), [
        s.authors for s in article.sections if s.authors]


def test_structured_update_times_without_a_zone_are_in_the_page_zone() -> None:
    ld = ('{"@type": "LiveBlogPosting", "headline": "Ticker", "liveBlogUpdate": ['
          '{"@id": "a", "headline": "Eins", "articleBody": "Erster Text.", '
          '"datePublished": "2024-08-05 20:59:59.0"}, {"@id": "b", "headline": "Zwei", '
          '"articleBody": "Zweiter Text.", "datePublished": "2024-08-05T19:00:00+02:00"}]}')
    page = (f'<html lang="de"><head><script type="application/ld+json">{ld}</script></head>'
            "<body><p>x</p></body></html>")
    article = extract_page(page, "https://www.ticker.example.de/live", "auto")
    assert [s.published for s in article.sections] == [utc(2024, 8, 5, 18, 59, 59),
                                                       utc(2024, 8, 5, 17, 0)]


def test_a_clock_on_a_line_of_its_own_takes_the_heading_below_as_the_title() -> None:
    page = ("<html lang='en-GB'><head><meta property='article:modified_time' "
            "content='2024-05-06T14:00:00+01:00'></head><body><div><h1>Live</h1>"
            "<h3>13:31</h3><h4>Minister resigns</h4><p>The minister has resigned.</p>"
            "<h3>12:05</h3><p>Morning session ends without a vote.</p>"
            "<h3>10:45</h3><h4>Debate opens</h4><p>The debate opened.</p></div></body></html>")
    article = extract_page(page, "https://news.example.co.uk/live", "auto")
    assert [(s.headline, s.text, s.published) for s in article.sections] == [
        ("Minister resigns", "The minister has resigned.", utc(2024, 5, 6, 12, 31)),
        ("Morning session ends without a vote.", "Morning session ends without a vote.",
         utc(2024, 5, 6, 11, 5)),
        ("Debate opens", "The debate opened.", utc(2024, 5, 6, 9, 45))]


def test_update_lines_over_a_report_without_a_first_report_line() -> None:
    page = ("<html lang='de'><head><meta name='DC.date.modified' "
            "content='2024-03-12T17:45:00+01:00'></head><body><article><h1>Brand in Lagerhalle"
            "</h1><p>Update, 17.40 Uhr: Die Feuerwehr hat den Brand gelöscht.</p>"
            "<p>Update, 9.05 Uhr: Die Nachlöscharbeiten dauern an.</p>"
            "<p>In einer Lagerhalle ist am Montagabend ein Feuer ausgebrochen.</p>"
            "<h2>Großaufgebot</h2><p>Mehr als 100 Einsatzkräfte sind vor Ort.</p>"
            "</article></body></html>")
    article = extract_page(page, "https://www.zeitung.example.de/brand", "auto")
    assert [(s.headline, s.published, s.is_lead) for s in article.sections] == [
        ("Die Feuerwehr hat den Brand gelöscht.", utc(2024, 3, 12, 16, 40), False),
        ("Die Nachlöscharbeiten dauern an.", utc(2024, 3, 12, 8, 5), False),
        ("Brand in Lagerhalle", None, True)]
    assert "Einsatzkräfte" in article.sections[2].text  # the report's subheadings stay in it
