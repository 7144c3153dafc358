"""The decision step as a pure function, including property tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedgen_dw.diff import diff_article, similarity
from feedgen_dw.errors import ExtractError
from feedgen_dw.extract import extract_page
from feedgen_dw.model import Article, ArticleState, EditPolicy, Section
from feedgen_dw.replay import DemoPage, DemoSection, render_page

T0 = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)
URL = "https://www.dw.com/de/slug/a-1"


def sec(headline: str, text: str, lead: bool = False) -> Section:
    return Section(headline=headline, html=f"<p>{text}</p>", text=text, is_lead=lead)


def art(*sections: Section, url: str = URL) -> Article:
    return Article(article_id="a-1", host="www.dw.com", url=url, title="Ukraine aktuell: x",
                   feed_title="Ukraine aktuell", language="de", sections=sections,
                   profile="dw", source="test")


A = sec("Erste Meldung", "Alpha beta gamma delta epsilon zeta eta theta iota kappa.")
B = sec("Zweite Meldung", "Lambda my ny xi omikron pi rho sigma tau ypsilon phi.")
C = sec("Dritte Meldung", "Chi psi omega eins zwei drei vier fünf sechs sieben acht.")
LEAD = sec("Spitze", "Neun zehn elf zwölf dreizehn vierzehn fünfzehn sechzehn.", lead=True)


def keys(state: ArticleState) -> dict[str, str]:
    return {s.title: s.key for s in state.sections}


def test_first_poll_emits_all_in_page_order_with_distinct_times() -> None:
    result = diff_article(None, art(LEAD, A, B), T0)
    assert len(result.new) == 3 and not (result.changed or result.removed)
    times = [s.published for s in result.state.sections]
    assert times == [T0, T0 - timedelta(seconds=1), T0 - timedelta(seconds=2)]
    ids = [s.item_id for s in result.state.sections]
    assert all(i.startswith("tag:www.dw.com,2026-11-24:a-1/s") for i in ids)
    assert len(set(ids)) == 3


def test_lead_moving_under_a_reworded_heading_is_the_same_item() -> None:
    first = diff_article(None, art(LEAD, A), T0).state
    new_lead = sec("Neue Spitze", "Ganz andere Worte stehen in der neuen Spitzenmeldung.", True)
    moved = sec("Umformulierte Überschrift", LEAD.text)
    result = diff_article(first, art(new_lead, moved, A), T0 + timedelta(hours=1))
    assert len(result.new) == 1 and len(result.changed) == 1 and not result.removed
    assert keys(result.state)["Umformulierte Überschrift"] == keys(first)["Spitze"]


def test_grown_and_typo_fixed_sections_keep_their_ids_and_times() -> None:
    first = diff_article(None, art(A, B), T0).state
    grown = sec(A.headline, A.text + " Und noch ein ganzer neuer Satz mit vielen Worten.")
    typo = sec(B.headline, B.text.replace("omikron", "omicron"))
    later = T0 + timedelta(hours=2)
    result = diff_article(first, art(grown, typo), later)
    assert not result.new and set(result.changed) == set(keys(first).values())
    for old, new in zip(first.sections, result.state.sections, strict=True):
        assert (old.key, old.item_id, old.published) == (new.key, new.item_id, new.published)
        assert new.updated == later


def test_reworded_headline_with_same_body() -> None:
    first = diff_article(None, art(A), T0).state
    result = diff_article(first, art(sec("Neu formuliert", A.text)), T0 + timedelta(hours=1))
    assert result.changed == (first.sections[0].key,) and not result.new


def test_removed_section_stays_and_is_revived_not_reemitted() -> None:
    first = diff_article(None, art(A, B, C), T0).state
    second = diff_article(first, art(A, C), T0 + timedelta(hours=1))
    assert second.removed == (keys(first)["Zweite Meldung"],) and not second.feed_changed
    gone = [s for s in second.state.sections if s.removed_at is not None]
    assert [s.title for s in gone] == ["Zweite Meldung"]
    third = diff_article(second.state, art(A, B, C), T0 + timedelta(hours=2))
    assert third.revived == (keys(first)["Zweite Meldung"],) and not third.new


def test_new_section_on_top_leaves_others_alone() -> None:
    first = diff_article(None, art(A, B), T0).state
    result = diff_article(first, art(C, A, B), T0 + timedelta(hours=1))
    assert result.new == (keys(result.state)["Dritte Meldung"],)
    assert not result.changed and not result.removed


def test_identical_sections_get_distinct_keys() -> None:
    result = diff_article(None, art(A, A), T0)
    assert len({s.key for s in result.state.sections}) == 2


def test_layout_change_is_an_error_not_a_mass_removal() -> None:
    many = [sec(f"Meldung {i}", f"Text nummer {i} mit eigenen Worten {i * 7} und mehr {i}.")
            for i in range(6)]
    first = diff_article(None, art(*many), T0).state
    with pytest.raises(ExtractError, match="too little"):
        diff_article(first, art(sec("Cookie", "Bitte stimmen Sie zu")), T0 + timedelta(hours=1))


def test_slug_change_moves_links_but_not_updated() -> None:
    first = diff_article(None, art(A), T0).state
    moved = diff_article(first, art(A, url="https://www.dw.com/de/new-slug/a-1"), T0)
    section = moved.state.sections[0]
    assert section.link.startswith("https://www.dw.com/de/new-slug/a-1#:~:text=")
    assert section.updated == first.sections[0].updated and not moved.feed_changed


def test_ignore_policy_keeps_first_version_but_tracks_the_page() -> None:
    first = diff_article(None, art(A), T0).state
    edited = sec("Ganz neue Überschrift", A.text + " Zusatz mit mehreren neuen Worten.")
    result = diff_article(first, art(edited), T0 + timedelta(hours=1), EditPolicy.IGNORE)
    section = result.state.sections[0]
    assert (section.title, section.updated) == (A.headline, T0)
    assert section.seen_headline == "Ganz neue Überschrift" and not result.changed


def test_similarity() -> None:
    assert similarity("a b c d", "a b c d") == 1.0
    assert similarity("eins zwei drei vier", "eins zwei drei vier fünf sechs") == 1.0
    assert similarity("eins zwei drei", "vier fünf sechs") == 0.0
    assert similarity("", "x y z") == 0.0


# --- properties -------------------------------------------------------------------------

WORDS = st.sampled_from(
    "Kiew Moskau Brüssel Angriff Drohnen Hafen Energie Armee Front Minister Regierung Gespräch "
    "Sanktionen Waffen Hilfe Bericht Nacht Morgen Stadt Region Süden Osten Norden Westen".split()
)
SENTENCE = st.lists(WORDS, min_size=6, max_size=14).map(lambda w: " ".join(w) + ".")
DEMO_SECTION = st.builds(
    DemoSection,
    paragraphs=st.lists(SENTENCE, min_size=1, max_size=3).map(tuple),
    headline=st.lists(WORDS, min_size=2, max_size=5).map(" ".join),
)


@settings(max_examples=40, deadline=None)
@given(
    lead=st.lists(SENTENCE, min_size=1, max_size=2).map(tuple),
    sections=st.lists(DEMO_SECTION, min_size=1, max_size=5),
    noises=st.tuples(st.integers(0, 50), st.integers(0, 50)),
    apollo=st.tuples(st.booleans(), st.booleans()),
)
def test_property_noise_never_changes_the_result(
    lead: tuple[str, ...], sections: list[DemoSection], noises: tuple[int, int],
    apollo: tuple[bool, bool],
) -> None:
    page = DemoPage(article_id="9", slug="s", title="Ukraine aktuell: Lage", teaser="t",
                    sections=(DemoSection(paragraphs=lead), *sections), summary=("a", "b"))
    first, second = (
        extract_page(render_page(page, "https://www.dw.com", n, a), "https://www.dw.com/de/s/a-9")
        for n, a in zip(noises, apollo, strict=True)
    )
    state = diff_article(None, first, T0).state
    result = diff_article(state, second, T0 + timedelta(hours=1))
    assert not (result.new or result.changed or result.removed or result.revived)
    assert result.state == state


POOL = [sec(f"Meldung {i}", f"Satz {i} über Ereignis {i} mit Worten {i} {i + 1} {i + 2} und mehr.")
        for i in range(8)]


def _variant(index: int, edit: int) -> Section:
    base = POOL[index]
    if edit == 1:
        return sec(base.headline + " (aktualisiert)", base.text)
    if edit == 2:
        return sec(base.headline, base.text + " Ergänzt um einen weiteren langen Satz hier.")
    return base


POLL = st.lists(st.tuples(st.integers(0, 7), st.integers(0, 2)), min_size=1, max_size=6,
                unique_by=lambda t: t[0])


@settings(max_examples=150, deadline=None)
@given(polls=st.lists(POLL, min_size=1, max_size=8),
       policy=st.sampled_from(list(EditPolicy)))
def test_property_no_poll_sequence_duplicates_or_loses_ids(
    polls: list[list[tuple[int, int]]], policy: EditPolicy
) -> None:
    state: ArticleState | None = None
    seen: dict[str, datetime] = {}  # key -> published, for keys whose id never changes
    for n, poll in enumerate(polls):
        article = art(*(_variant(i, e) for i, e in poll))
        try:
            result = diff_article(state, article, T0 + timedelta(hours=n), policy)
        except ExtractError:
            continue  # the layout guard refused a poll: state stays as it was
        items = result.state.sections
        assert len({s.item_id for s in items}) == len(items)
        assert len({s.key for s in items}) == len(items)
        assert set(seen) <= {s.key for s in items}  # nothing ever disappears
        if policy is not EditPolicy.REPUBLISH:
            for s in items:
                assert seen.setdefault(s.key, s.published) == s.published
        seen.update({s.key: seen.get(s.key, s.published) for s in items})
        assert sum(s.removed_at is None for s in items) == len(poll)
        state = result.state
