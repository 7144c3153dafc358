"""Sections whose raw markup was sanitized in an earlier poll are not sanitized again."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedgen_dw.config import FeedConfig
from feedgen_dw.demo import FIRST
from feedgen_dw.extract import extract_page
from feedgen_dw.extract.html import parse_fragment, raw_digest, sanitize_known, sanitize_with_text
from feedgen_dw.fetch import Fetcher
from feedgen_dw.poll import Output, feed_paths, fixed_clock, poll_feed
from feedgen_dw.replay import DemoSection, ReplayServer
from feedgen_dw.store import SQLiteStore
from tests.conftest import parse_feed
from tests.test_extract import REAL_DW

BASE = "https://www.dw.com/de/x/a-1"
T0 = datetime(2026, 11, 24, 5, tzinfo=UTC)

WORD = st.sampled_from(["Kiew", "Grüße", "a&b", "<x>", "Drohnen", "1.000", "—"])
SPACE = st.sampled_from([" ", "  ", "\u00a0", "\n", " \t", "&nbsp;", " &#160; "])
TAG = st.sampled_from(["", "b", "em", "a"])


def _markup(draw: st.DrawFn, words: list[str], spaced: bool) -> str:
    """`words` as paragraphs with inline tags; `spaced` draws the white space afresh."""
    out = []
    for n, word in enumerate(words):
        gap = draw(SPACE) if spaced else " "
        tag = ["", "b", "em", "a"][n % 4]
        text = word.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if tag == "a":
            text = f'<a href="/p?utm_source=x&amp;id={n}">{text}</a>'
        elif tag:
            text = f"<{tag}>{text}</{tag}>"
        out.append(text + gap)
        if n % 3 == 2:
            out.append("</p><p>")
    return "<p>" + "".join(out) + "</p>"


@st.composite
def _pair(draw: st.DrawFn) -> tuple[str, str]:
    """Two bodies with the same words and fresh white space, or with one word changed."""
    words = draw(st.lists(WORD, min_size=1, max_size=9))
    other = list(words)
    if draw(st.booleans()):
        other[draw(st.integers(0, len(words) - 1))] = draw(WORD)
    return _markup(draw, words, spaced=True), _markup(draw, other, spaced=True)


@settings(max_examples=200, deadline=None)
@given(pair=_pair())
def test_equal_digests_mean_equal_sanitized_html_and_text(pair: tuple[str, str]) -> None:
    one, two = (parse_fragment(markup) for markup in pair)
    same_output = sanitize_with_text(one, BASE) == sanitize_with_text(two, BASE)
    if raw_digest(one, BASE) == raw_digest(two, BASE):
        assert same_output
    else:
        # white space alone never makes a digest differ where the output is the same
        assert not same_output or re.sub(r"\s|&nbsp;|&#160;|\u00a0", "", pair[0]) != re.sub(
            r"\s|&nbsp;|&#160;|\u00a0", "", pair[1])


def test_digest_ignores_white_space_runs_but_not_words_base_or_profile() -> None:
    plain = parse_fragment("<p>Neue Angriffe auf Kiew</p>")
    spaced = parse_fragment("<p>Neue\u00a0 Angriffe\n auf&nbsp;Kiew</p>")
    other = parse_fragment("<p>Neue Angriffe auf Lwiw</p>")
    assert raw_digest(plain, BASE) == raw_digest(spaced, BASE)
    assert raw_digest(plain, BASE) != raw_digest(other, BASE)
    assert raw_digest(plain, BASE) != raw_digest(plain, BASE + "x")
    assert raw_digest(plain, BASE, "dw") != raw_digest(plain, BASE, "custom")


def test_known_markup_is_taken_from_the_earlier_poll() -> None:
    blocks = parse_fragment("<p>Neue Angriffe auf Kiew</p>")
    html_now, text_now, digest = sanitize_known(blocks, BASE)
    assert (html_now, text_now) == ("<p>Neue Angriffe auf Kiew</p>", "Neue Angriffe auf Kiew")
    # what the earlier poll stored comes back as it is, without sanitizing
    assert sanitize_known(blocks, BASE, known={digest: ("<p>kept</p>", "kept")}) == (
        "<p>kept</p>", "kept", digest)


@pytest.mark.parametrize("name", [r[0] for r in REAL_DW], ids=[r[0][:13] for r in REAL_DW])
def test_real_pages_extract_the_same_from_known_sections(name: str) -> None:
    from tests.conftest import realpage

    page = realpage(f"dw/{name}")
    url = "https://www.dw.com/de/x/a-" + re.search(r"_a-(\d+)_", name).group(1)  # type: ignore[union-attr]
    fresh = extract_page(page, url, "auto")
    known = {s.raw_digest: (s.html, s.text) for s in fresh.sections}
    assert all(known)
    assert extract_page(page, url, "auto", known=known) == fresh


def test_a_poll_sanitizes_only_the_sections_it_has_not_seen(
    server: ReplayServer, tmp_path: Path, sanitized: list[str],
) -> None:
    calls = sanitized
    store, fetcher = SQLiteStore(tmp_path / "s.sqlite3"), Fetcher(retries=0)
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/")
    feed = FeedConfig(name="f", url=server.publish(FIRST))
    assert poll_feed(feed, store, fetcher, output, fixed_clock(T0)).ok
    first = len(calls)
    assert first == len([s for s in FIRST.sections if s.paragraphs])
    # one new section on top and one edited below: only those two are sanitized
    edited = replace(FIRST.sections[-1], paragraphs=(FIRST.sections[-1].paragraphs[0] + " Neu.",))
    added = DemoSection(headline="Eine neue Meldung", paragraphs=("Frischer Text dazu.",))
    page = replace(FIRST, sections=(FIRST.sections[0], added, *FIRST.sections[1:-1], edited))
    server.publish(page, noise=3)
    calls.clear()
    result = poll_feed(feed, store, fetcher, output, fixed_clock(T0 + timedelta(minutes=5)))
    assert (result.new, result.changed) == (1, 1)
    assert len(calls) == 2
    assert calls[0] == "Frischer Text dazu." and "Neu." in calls[1]
    entries = {e.title: e for e in parse_feed(feed_paths(output, "f")["atom"]).entries}
    assert "Eine neue Meldung" in entries
    assert "Neu." in entries[edited.headline].content[0].value
    store.close()
    fetcher.close()


def test_kept_work_is_keyed_by_the_code_that_made_it(tmp_path: Path) -> None:
    from feedgen_dw import code_digest

    source = tmp_path / "sanitizer.py"
    source.write_text("FOLD = 1\n")
    before = code_digest(str(source))
    assert code_digest(str(source)) == before
    assert code_digest(str(source), extra="feedgen 1.0.1") != before
    source.write_text("FOLD = 2\n")  # an edit to the code: everything it kept is redone
    assert code_digest(str(source)) != before


@settings(max_examples=200, deadline=None)
@given(pair=_pair())
def test_post_bodies_with_equal_digests_sanitize_alike(pair: tuple[str, str]) -> None:
    from feedgen_dw.extract.html import sanitize_fragment_known

    one, two = (sanitize_fragment_known(markup, BASE) for markup in pair)
    if one[2] == two[2]:
        assert one[:2] == two[:2]
    # a body seen before comes back without being parsed
    assert sanitize_fragment_known(pair[0], BASE, known={one[2]: ("<p>k</p>", "k")}) == (
        "<p>k</p>", "k", one[2])


ATTRS = st.sampled_from([
    ' class="sc-a1b2 x"', ' id="post-7"', ' style="color:red"', ' data-slot="mid-3"',
    ' aria-hidden="false"', ' href="/p?id=1"', ' href="/p?id=2"', ' title="T &quot;q&quot;"',
    ' data-url="https://static.dw.com/image/1_${formatId}.jpg"', ' src="/i.jpg"',
    ' src="/j.jpg"', ' alt="Bild"', ' srcset="/k.jpg 2x"', ""])


@st.composite
def _attributed(draw: st.DrawFn) -> tuple[str, str]:
    """Two bodies of the same words and tags, each tag with attributes drawn afresh."""
    words = draw(st.lists(WORD, min_size=1, max_size=6))
    out: list[list[str]] = [[], []]
    for n, word in enumerate(words):
        text = word.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        tag = ["span", "a", "img", "em"][n % 4]
        for side in out:
            attrs = "".join(draw(st.lists(ATTRS, max_size=3)))
            side.append(f"<{tag}{attrs}>" if tag == "img" else f"<{tag}{attrs}>{text}</{tag}>")
    return tuple(f'<div class="c{n}"><p>{"".join(side)}</p></div>'  # type: ignore[return-value]
                 for n, side in enumerate(out))


@settings(max_examples=300, deadline=None)
@given(pair=_attributed())
def test_attributes_sanitizing_does_not_read_are_left_out_of_the_digest(
        pair: tuple[str, str]) -> None:
    from feedgen_dw.extract.dw import _image_src

    one, two = (parse_fragment(markup) for markup in pair)
    for image_src in (None, _image_src):
        same_output = (sanitize_with_text(one, BASE, image_src)
                       == sanitize_with_text(two, BASE, image_src))
        if raw_digest(one, BASE) == raw_digest(two, BASE):
            assert same_output
    unread = re.compile(r' (?:class|id|style|data-slot|aria-hidden|srcset)="[^"]*"')
    if unread.sub("", pair[0]) == unread.sub("", pair[1]):
        assert raw_digest(one, BASE) == raw_digest(two, BASE)


def test_a_new_deployment_of_a_site_leaves_its_entries_known() -> None:
    """Hashed classes, ids of ad slots and tracking data change with every deployment of
    a site: entries read by the generic profile stay known (are not sanitized again)."""
    from bench.ticker import ticker_page

    base, url = "http://127.0.0.1:1", "http://127.0.0.1:1/live/t1"
    first = extract_page(ticker_page("t1", 12, base, 0).encode(), url, "auto")
    assert first.profile == "generic" and len(first.sections) == 12
    known = {s.raw_digest: ("<p>kept</p>", s.text) for s in first.sections}
    again = extract_page(ticker_page("t1", 12, base, 5).encode(), url, "auto", known=known)
    assert [s.html for s in again.sections] == ["<p>kept</p>"] * 12
    # a post edited is not known
    edited = ticker_page("t1", 12, base, 5).replace("Post 7 from t1.", "Post 7 from t1 (edited).")
    changed = extract_page(edited.encode(), url, "auto", known=known)
    assert [s.html == "<p>kept</p>" for s in changed.sections].count(False) == 1


@pytest.mark.parametrize("markup", [
    "<body></body>", "<body> \u00a0 <script>var x = 1;</script></body>",
    "<body><!-- only a comment --><style>p{}</style></body>",
    "<body><div><span></span></div>tail</body>", "<body><p>\u200b</p></body>",
    "<body><script>x</script>after</body>", "<body><div><p><b>deep</b></p></div></body>",
])
def test_has_text_is_element_text_not_empty(markup: str) -> None:
    import lxml.html

    from feedgen_dw.extract.html import element_text, has_text

    body = lxml.html.document_fromstring(f"<html>{markup}</html>").find(".//body")
    assert has_text(body) == bool(element_text(body))


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(
    ["a", "ü", "\x00", "\x08", "\t", "\n", "\x0b", "\x1f", "\x7f", "\x80", "\ud800", "\udfff",
     "\ufffe", "\uffff", "\ufffd", "\U0001f600", " ", "\u00a0"]), max_size=12))
def test_xml_valid_drops_what_the_pattern_drops(text: str) -> None:
    from feedgen_dw.extract.html import XML_INVALID, xml_valid

    assert xml_valid(text) == XML_INVALID.sub("", text)


def test_a_fragment_with_leading_text_keeps_it() -> None:
    blocks = parse_fragment("Vorab <b>fett</b><p>Absatz</p>")
    assert sanitize_with_text(blocks, BASE) == ("<p>Vorab <b>fett</b></p><p>Absatz</p>",
                                                "Vorab fett Absatz")
    assert parse_fragment(" \n ") == [] and [b.tag for b in parse_fragment(" <p>x</p>")] == ["p"]


def test_after_an_upgrade_of_the_sanitizer_each_section_is_sanitized_once(
    server: ReplayServer, tmp_path: Path, sanitized: list[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Sections kept under another code's digests are sanitized on the next poll and kept
    under the new digests: not sanitized again on every later poll."""
    from feedgen_dw.extract import html

    store, fetcher = SQLiteStore(tmp_path / "s.sqlite3"), Fetcher(retries=0)
    output = Output(tmp_path / "public", "http://127.0.0.1:8080/")
    feed = FeedConfig(name="f", url=server.publish(FIRST))
    monkeypatch.setattr(html, "SANITIZER_VERSION", "the version before")
    assert poll_feed(feed, store, fetcher, output, fixed_clock(T0)).ok
    monkeypatch.setattr(html, "SANITIZER_VERSION", "this version")
    counts = []
    for n in range(1, 4):
        server.publish(FIRST, noise=n)
        sanitized.clear()
        result = poll_feed(feed, store, fetcher, output, fixed_clock(T0 + timedelta(minutes=n)))
        assert result.ok and (result.new, result.changed, result.removed) == (0, 0, 0)
        counts.append(len(sanitized))
    assert counts == [len([s for s in FIRST.sections if s.paragraphs]), 0, 0]
    store.close()
    fetcher.close()
