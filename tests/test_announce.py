"""on_edit: announce and on_remove: note: edits that add text, and removals, emit short
items of their own; typo fixes and rewordings emit nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedgen_dw.announce import ANNOUNCE_MIN_WORDS, added_html
from feedgen_dw.config import load_config
from feedgen_dw.diff import diff_article
from feedgen_dw.errors import ConfigError
from feedgen_dw.model import Article, ArticleState, EditPolicy, RemovePolicy, Section
from feedgen_dw.store import SQLiteStore
from tests.conftest import write_config

T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)
ODESSA = ("In der Hafenstadt Odessa sind nach Behördenangaben mehrere Lagerhallen in Brand "
          "geraten. Verletzt wurde nach ersten Berichten niemand.",
          "Die Luftabwehr habe den Großteil der Drohnen abgefangen, erklärte die Verwaltung.")
GROWN = "Update: Am Vormittag meldete der Hafenbetreiber, dass der Getreideumschlag wieder läuft."
SANCTIONS = ("Die Außenminister der EU beraten in Brüssel über ein weiteres Sanktionspaket.",)


def _section(headline: str, *paragraphs: str) -> Section:
    return Section(headline=headline, html="".join(f"<p>{p}</p>" for p in paragraphs),
                   text=" ".join(paragraphs))


def _article(*sections: Section) -> Article:
    return Article(article_id="a-1", host="www.dw.com", url="https://www.dw.com/de/x/a-1",
                   title="Ukraine aktuell", feed_title="Ukraine aktuell", language="de",
                   sections=sections, profile="dw", source="dom")


def _day(*pages: tuple[Section, ...], policy: EditPolicy = EditPolicy.ANNOUNCE,
         on_remove: RemovePolicy = RemovePolicy.KEEP) -> list[tuple[ArticleState, list[str]]]:
    """Each page diffed an hour after the last: (state, ids of the items it emitted)."""
    state, out = None, []
    for hour, sections in enumerate(pages):
        result = diff_article(state, _article(*sections), T0 + timedelta(hours=hour), policy,
                              on_remove)
        state = result.state
        by_key = {s.key: s.item_id for s in state.sections}
        out.append((state, [by_key[k] for k in (*result.new, *result.announced)]))
    return out


def _notes(state: ArticleState) -> dict[str, tuple[str, str]]:
    return {s.item_id: (s.title, s.html) for s in state.sections if "/u" in s.key}


def test_a_grown_section_is_updated_and_announced_once() -> None:
    first = (_section("Drohnen über Odessa", *ODESSA), _section("EU berät", *SANCTIONS))
    grown = (_section("Drohnen über Odessa", *ODESSA, GROWN), first[1])
    days = _day(first, grown, grown, (grown[0], _section("EU berät", *SANCTIONS, GROWN)))
    (s0, new0), (s1, new1), (_, new2), (s3, new3) = days
    odessa = s0.sections[0].item_id
    assert len(new0) == 2
    assert new1 == [f"{odessa}/u1"] and new2 == []  # once, not again on the next poll
    assert _notes(s1) == {f"{odessa}/u1": ("Update: Drohnen über Odessa", f"<p>{GROWN}</p>")}
    parent = next(s for s in s1.sections if s.item_id == odessa)
    assert GROWN in parent.html and parent.updated == T0 + timedelta(hours=1)  # in place
    note = next(s for s in s1.sections if s.item_id == f"{odessa}/u1")
    assert note.link == parent.link and note.published == T0 + timedelta(hours=1)
    assert new3 == [f"{s0.sections[1].item_id}/u1"]  # its own counter per section
    assert len(_notes(s3)) == 2


def test_every_growth_has_its_own_stable_id() -> None:
    more = "Später hieß es, auch ein zweites Terminal nehme den Betrieb wieder auf, sagte er."
    days = _day((_section("Odessa", *ODESSA),), (_section("Odessa", *ODESSA, GROWN),),
                (_section("Odessa", *ODESSA, GROWN, more),))
    base = days[0][0].sections[0].item_id
    assert [d[1] for d in days[1:]] == [[f"{base}/u1"], [f"{base}/u2"]]
    assert _notes(days[2][0])[f"{base}/u2"] == ("Update: Odessa", f"<p>{more}</p>")


@pytest.mark.parametrize("edit", [
    ODESSA[0].replace("Hafenstadt", "Hafenstad"),  # a typo
    ODESSA[0].replace("nach Behördenangaben", "laut Behörden"),  # a rewording
    ODESSA[0] + " Die Polizei ermittelt.",  # a short addition, below the threshold
    "",  # a paragraph removed
])
def test_typo_fixes_rewordings_and_cuts_emit_nothing(edit: str) -> None:
    days = _day((_section("Odessa", *ODESSA),), (_section("Odessa", edit, ODESSA[1]),))
    state, emitted = days[1]
    assert emitted == [] and _notes(state) == {}
    assert state.sections[0].html != days[0][0].sections[0].html  # but updated in place


def test_a_reworded_headline_or_a_lead_under_a_heading_emits_nothing() -> None:
    days = _day((_section("", *ODESSA),), (_section("Drohnen über Odessa", *ODESSA),),
                (_section("Nächtliche Drohnen über Odessa", *ODESSA),))
    assert [d[1] for d in days[1:]] == [[], []]


def test_the_threshold() -> None:
    old = "<p>Ein Satz.</p>"
    words = ["Wort"] * ANNOUNCE_MIN_WORDS
    assert added_html(old, old + f"<p>{' '.join(words[:-1])}</p>") == ""
    assert added_html(old, old + f"<p>{' '.join(words)}</p>") == f"<p>{' '.join(words)}</p>"
    # a paragraph that grew by a sentence is shown whole; figures and lists are kept
    grown = f"<p>Ein Satz. {GROWN}</p><ul><li>Punkt</li></ul>"
    assert added_html(old + "<ul><li>Punkt</li></ul>", grown) == f"<p>Ein Satz. {GROWN}</p>"


def test_update_and_republish_emit_no_notes() -> None:
    for policy in (EditPolicy.UPDATE, EditPolicy.REPUBLISH, EditPolicy.IGNORE):
        days = _day((_section("Odessa", *ODESSA),), (_section("Odessa", *ODESSA, GROWN),),
                    policy=policy)
        assert _notes(days[1][0]) == {}


def test_a_removed_section_emits_a_note_only_when_asked() -> None:
    pages = ((_section("Odessa", *ODESSA), _section("EU", *SANCTIONS)),
             (_section("Odessa", *ODESSA),), (_section("Odessa", *ODESSA),))
    kept = _day(*pages)
    assert kept[1][1] == [] and _notes(kept[1][0]) == {}
    noted = _day(*pages, on_remove=RemovePolicy.NOTE)
    eu = noted[0][0].sections[1].item_id
    assert noted[1][1] == [f"{eu}/u1"] and noted[2][1] == []
    assert _notes(noted[1][0])[f"{eu}/u1"][0] == "Removed: EU"


def test_notes_are_never_taken_for_sections_and_the_diff_stays_pure() -> None:
    pages = ((_section("Odessa", *ODESSA),), (_section("Odessa", *ODESSA, GROWN),),
             # a section whose body is exactly what the note holds
             (_section("Odessa", *ODESSA, GROWN), _section("Update: Odessa", GROWN)))
    days = _day(*pages)
    state, emitted = days[2]
    assert len(emitted) == 1 and "/u" not in emitted[0]  # a new section, not the note
    assert len(_notes(state)) == 1
    again = _day(*pages)
    assert [d[0] for d in again] == [d[0] for d in days]


def test_notes_survive_the_store_and_are_feed_items(tmp_path: Path) -> None:
    days = _day((_section("Odessa", *ODESSA),), (_section("Odessa", *ODESSA, GROWN),))
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.save_poll("f", [days[0][0]], T0)
    store.save_poll("f", [days[1][0]], T0 + timedelta(hours=1), previous=[days[0][0]])
    assert store.load_article("f", "a-1") == days[1][0]
    items = store.items("f", 10)
    assert [i.title for i in items] == ["Update: Odessa", "Odessa"]
    store.close()


def test_config_values(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, "http://a/x", on_edit="announce",
                                      on_remove="note", author="Deutsche Welle"))
    feed = config.feed("live")
    assert (feed.on_edit, feed.on_remove) == (EditPolicy.ANNOUNCE, RemovePolicy.NOTE)
    assert feed.settings.author == "Deutsche Welle"
    with pytest.raises(ConfigError, match="on_remove: expected one of keep, note"):
        load_config(write_config(tmp_path, "http://a/x", on_remove="delete"))
