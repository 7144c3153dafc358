"""Pages for the benchmarks: a live article in DW's markup at a chosen size and day."""

from __future__ import annotations

from feedgen_dw.replay import DemoPage, DemoSection

SENTENCE = ("Die Regierung in Kiew meldet neue Angriffe auf die Energieversorgung im Süden "
            "des Landes, unabhängig überprüfen lassen sich die Angaben zunächst nicht. ")


def live_page(article_id: str, sections: int, words: int = 120) -> DemoPage:
    """An article whose newest `sections` sections are on the page, newest first."""
    body = []
    for n in range(sections, 0, -1):
        text = (f"Meldung {n} beginnt hier. " + SENTENCE * (words // 20)).strip()
        body.append(DemoSection(headline=f"Meldung Nummer {n} des Tages aus {article_id}",
                                paragraphs=(text, f"Ergänzung {n}: " + SENTENCE)))
    lead = DemoSection(paragraphs=(f"Die Spitzenmeldung von {article_id}. " + SENTENCE * 4,))
    return DemoPage(article_id=article_id, slug=f"ukraine-aktuell-{article_id}",
                    title=f"Ukraine aktuell: Lage am Tag {article_id}", teaser="Überblick",
                    sections=(lead, *body), summary=("Eins", "Zwei", "Drei"))


def padding_for(target_bytes: int, page: DemoPage) -> int:
    """How much padding brings `page` to about `target_bytes`."""
    from feedgen_dw.replay import render_page

    bare = len(render_page(page, "http://127.0.0.1:1").encode())
    return max(0, int((target_bytes - bare) / 1.1))
