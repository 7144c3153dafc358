from __future__ import annotations

import re

import pytest

from feedgen_dw.errors import ExtractError
from feedgen_dw.extract import extract_page
from feedgen_dw.extract.html import parse_fragment, sanitize
from feedgen_dw.replay import DemoPage, DemoSection, render_page
from tests.conftest import realpage

BASE = "https://www.dw.com/de/x/a-1"


def clean(html: str) -> str:
    return sanitize(parse_fragment(html), BASE)


class TestSanitize:
    def test_drops_scripts_styles_svg_iframes_and_event_attributes(self) -> None:
        out = clean('<p onclick="x()" class="sc-a b">Hi<script>alert(1)</script>'
                    '<style>p{}</style><svg><path/></svg><iframe src="//e"></iframe></p>')
        assert out == "<p>Hi</p>"

    def test_links_absolute_http_only_and_without_tracking(self) -> None:
        out = clean('<p><a href="/de/t-1?maca=de-Facebook&amp;x=1">a</a> '
                    '<a href="javascript:alert(1)">b</a> <a href="mailto:x@y">c</a></p>')
        assert out == '<p><a href="https://www.dw.com/de/t-1?x=1">a</a> b c</p>'

    def test_nbsp_and_whitespace_runs_fold_to_one_space(self) -> None:
        assert clean("<p>a&nbsp;&nbsp;b \n\t c</p>") == clean("<p>a b c</p>") == "<p>a b c</p>"

    def test_control_characters_removed(self) -> None:
        assert clean("<p>a\x01b\x0bc</p>") == "<p>abc</p>"

    def test_empty_blocks_and_unknown_wrappers(self) -> None:
        out = clean('<div class="x"><span class="rich-text-ad"></span><p> </p><p>t</p></div>')
        assert out == "<p>t</p>"

    def test_loose_text_becomes_a_paragraph(self) -> None:
        assert clean("loose <b>bold</b>") == "<p>loose <b>bold</b></p>"

    def test_images_need_an_http_source(self) -> None:
        assert clean('<p><img src="data:image/png;base64,xx" alt="a">t</p>') == "<p>t</p>"
        assert clean('<img src="/i.jpg" onerror="x">') == '<p><img src="https://www.dw.com/i.jpg"></p>'


LEAD = DemoSection(paragraphs=("Erster Absatz der Spitzenmeldung.", "Zweiter Absatz."))
PAGE = DemoPage(
    article_id="123", slug="ukraine-aktuell-spitze", title="Ukraine aktuell: Die Spitze",
    teaser="Teaser", summary=("Punkt eins", "Punkt zwei"),
    sections=(
        LEAD,
        DemoSection(headline="Zweite Meldung", paragraphs=("Text zwei.",),
                    figure=("555", "Eine Bildunterschrift", "Agentur/Fotograf"),
                    video="Videotitel ist kein Abschnitt"),
        DemoSection(headline="Dritte Meldung", paragraphs=("Text drei.", "Mehr drei.")),
    ),
)


class TestDwProfile:
    @pytest.mark.parametrize("apollo", [True, False], ids=["apollo", "dom"])
    def test_sections_from_structured_data_and_from_dom(self, apollo: bool) -> None:
        page = render_page(PAGE, "https://www.dw.com", noise=1, apollo=apollo)
        art = extract_page(page, "https://www.dw.com" + PAGE.path, "dw")
        assert art.source == ("apollo" if apollo else "dom")
        assert art.article_id == "a-123"
        assert art.url == "https://www.dw.com/de/ukraine-aktuell-spitze/a-123"
        assert art.language == "de"
        assert art.feed_title == "Ukraine aktuell"
        assert [(s.headline, s.is_lead) for s in art.sections] == [
            ("Die Spitze", True), ("Zweite Meldung", False), ("Dritte Meldung", False)]
        lead, second, third = art.sections
        assert lead.text == "Erster Absatz der Spitzenmeldung. Zweiter Absatz."
        assert "Punkt eins" not in lead.text and "Wichtigste" not in lead.text
        assert "Videotitel" not in second.text
        assert 'src="https://static.dw.com/image/555_605.jpg"' in second.html
        assert "<figcaption>Eine Bildunterschrift <small>Bild: Agentur/Fotograf</small>" in (
            second.html)
        assert third.text == "Text drei. Mehr drei."  # no agency line, no standing note

    def test_both_paths_agree_and_noise_changes_nothing(self) -> None:
        results = {
            (apollo, noise): extract_page(
                render_page(PAGE, "https://www.dw.com", noise, apollo),
                "https://www.dw.com" + PAGE.path, "dw").sections
            for apollo in (True, False) for noise in range(4)
        }
        assert len(set(results.values())) == 1

    def test_page_without_body_is_an_extract_error(self) -> None:
        with pytest.raises(ExtractError, match="extraction found nothing"):
            extract_page("<html><body><p>consent</p></body></html>", BASE, "dw")

    def test_auto_without_a_known_profile(self) -> None:
        with pytest.raises(ExtractError, match="no site profile"):
            extract_page("<html><body></body></html>", "https://example.org/x", "auto")


# What the saved pages hold, read from the pages by hand: (file, source, lead, h2 headlines)
REAL_DW = [
    ("dw_2023-06-13_a-65897191_post-vac.html", "apollo", "Was wissen wir?", [
        "Was ist das Post-Vac-Syndrom und wie viele Menschen leiden darunter?",
        "Wie diagnostizieren Mediziner das Post-Vac-Syndrom?",
        "Was passiert im Körper eines Post-Vac-Patienten?"]),
    ("dw_2024-01-30_a-68117411_nadeschdin.html", "apollo",
     "Nadeschdin setzt auf ein Ende der Putin-Ära", [
         "Wer ist Boris Nadeschdin?", "Vor allem junge Menschen unterstützen Nadeschdin",
         "Unterstützung durch die Opposition", "Wie realistisch ist ein Sieg Nadeschdins?"]),
    ("dw_2023-04-28_a-65464327_gegenoffensive.html", "dom-legacy", "Ziele, Chancen, Risiken", [
        "Kämpfe um Bachmut, um Zeit zu gewinnen", "Darum wartet Kiew ab",
        "Krim als strategische Stoßrichtung", "Gegenoffensive dürfte den Krieg nicht beenden"]),
    ("dw_2023-03-14_a-64976342_habeck-regenwald.html", "dom-legacy",
     "Habeck will besseren Schutz für Brasiliens Regenwald", [
         "Freihandelsabkommen im Blick", "Besuch bei indigenem Volk im Amazonas",
         "Abholzung geht weiter"]),
    ("dw_2023-03-25_a-65106525_libanon-krise.html", "dom-legacy", "(Wirtschafts-)Krise ohne Ende", [
        '"Eine der weltweit schlimmsten Krisen seit Mitte des 19. Jahrhunderts"',
        "US-Dollar sind überall erwünscht",
        "Korruption und Misswirtschaft der libanesischen Politiker",
        "Verschiedene Wechselkurse im Umlauf", "Sorge um den sozialen Frieden",
        "Kurzfristige Hilfen aus dem Ausland reichen nicht"]),
    ("dw_2020-01-19_a-52060881_en_colonial-past.html", "dom-legacy",
     "Berlin confronts Germany's colonial past with new initiative", [
         "Freedom fighters replace colonial leaders", "Right-wing resistance"]),
    ("dw_2013-06-10_a-16863843_en_fruehburgunder.html", "dom-legacy",
     "Uncork the mystery of Germany's Frühburgunder", [
         "Heard it through the grape vine", "Reaping the harvest"]),
    ("dw_2011-05-23_a-6533123_fr_elephants.html", "dom-legacy",
     "La perte des terres fertiles et les éléphants en Guinée-Conakry", []),
]


@pytest.mark.parametrize(("name", "source", "lead", "headlines"), REAL_DW,
                         ids=[r[0][:13] for r in REAL_DW])
def test_real_dw_pages(name: str, source: str, lead: str, headlines: list[str]) -> None:
    page = realpage(f"dw/{name}")
    article_id = re.search(r"_a-(\d+)_", name).group(1)  # type: ignore[union-attr]
    art = extract_page(page, f"https://www.dw.com/de/x/a-{article_id}", "auto")
    assert art.profile == "dw" and art.source == source
    assert art.article_id == f"a-{article_id}"
    assert len(art.sections) == 1 + len(headlines)
    assert art.sections[0].is_lead and art.sections[0].headline == lead
    assert [s.headline for s in art.sections[1:]] == headlines
    for section in art.sections:
        assert section.text, section.headline
        assert "<script" not in section.html and " class=" not in section.html


def test_real_page_dom_fallback_matches_structured_data() -> None:
    page = realpage("dw/dw_2024-01-30_a-68117411_nadeschdin.html")
    url = "https://www.dw.com/de/x/a-68117411"
    without_state = re.sub(r"window\.__APOLLO_STATE__\s*=", "window.__GONE__=", page)
    structured, dom = extract_page(page, url, "dw"), extract_page(without_state, url, "dw")
    assert (structured.source, dom.source) == ("apollo", "dom")
    assert [s.headline for s in dom.sections] == [s.headline for s in structured.sections]
    assert [s.text for s in dom.sections] == [s.text for s in structured.sections]
    figures = [s.html.count("_605.jpg") for s in structured.sections]
    assert figures == [1, 0, 0, 1, 1]
    assert "Bild: Shamil Zhumatov/REUTERS" in structured.sections[0].text


def test_real_page_agency_line_and_videos_dropped() -> None:
    habeck = extract_page(realpage("dw/dw_2023-03-14_a-64976342_habeck-regenwald.html"),
                          "https://www.dw.com/de/x/a-64976342", "dw")
    assert "cwo/fab" not in habeck.sections[-1].text
    postvac = extract_page(realpage("dw/dw_2023-06-13_a-65897191_post-vac.html"),
                           "https://www.dw.com/de/x/a-65897191", "dw")
    assert not any("Wie häufig sind Impfschäden" in s.text for s in postvac.sections)


@pytest.mark.parametrize("gap", ["", " ", "\n  "])
def test_only_the_articles_entry_of_the_apollo_state_is_decoded(gap: str) -> None:
    from parsel import Selector

    from feedgen_dw.extract.dw import _apollo_article

    # the rest of the state is cut off: decoding all of it would fail
    page = ('<script>window.__APOLLO_STATE__={"ROOT_QUERY":{},' f'"Article:7":{gap}'
            '{"id": "7", "text": "<p>Eins</p>"}, "Navigation:1": {"items": [</script>')
    assert _apollo_article(Selector(text=page), "7") == {"id": "7", "text": "<p>Eins</p>"}
