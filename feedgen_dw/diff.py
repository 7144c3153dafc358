"""The decision step: previous state + extracted article + now -> new state and changes.

Pure: no I/O, no clock. Sections have no ids on the page, so identity is recognised:
an exact content hash, then the same headline, then body-text overlap (word 3-gram
containment), assigned greedily one-to-one. That keeps one item through a lead that gets
an <h2>, a reworded headline, a section that grows, and typo fixes, while markup noise
never reaches this step (extraction normalizes it away).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import quote

from feedgen_dw.announce import ANNOUNCE_HASH, REMOVED_NOTE, added_html
from feedgen_dw.errors import ExtractError
from feedgen_dw.extract.html import content_hash
from feedgen_dw.model import (
    Article,
    ArticleState,
    DiffResult,
    EditPolicy,
    RemovePolicy,
    Section,
    SectionState,
)

MATCH_THRESHOLD = 0.5  # share of the shorter body's 3-grams found in the other body
LAYOUT_GUARD_MIN = 4  # below this many known sections, a shrinking page is believable
WORD_RE = re.compile(r"\w+")
FRAGMENT_CHARS = 300  # of a headline, in an item's link


# Matching reads at most this much of a section's text: a hostile 10 MB section would
# otherwise make a shingle set of hundreds of megabytes.
MATCH_TEXT_CHARS = 64 * 1024
# Shingle sets are kept between polls (most sections do not change), up to about this
# many bytes in all: bounded by size, not by count, since one set can be huge.
SHINGLE_CACHE_BYTES = 32 * 1024 * 1024
_SHINGLE_BYTES_PER_CHAR = 24  # a 3-gram tuple and its set slot, per character of text


class _ShingleCache:
    """An LRU of shingle sets bounded by their estimated size; shared by the daemon's
    worker threads."""

    def __init__(self, budget: int) -> None:
        self.budget, self.used = budget, 0
        self._sets: OrderedDict[str, frozenset[tuple[str, ...]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> frozenset[tuple[str, ...]]:
        with self._lock:
            found = self._sets.get(text)
            if found is not None:
                self._sets.move_to_end(text)
                return found
        made = _make_shingles(text)
        cost = _SHINGLE_BYTES_PER_CHAR * len(text) + 200
        if cost <= self.budget // 8:  # one entry never takes most of the room
            with self._lock:
                if text not in self._sets:
                    self._sets[text] = made
                    self.used += cost
                while self.used > self.budget:
                    gone, _ = self._sets.popitem(last=False)
                    self.used -= _SHINGLE_BYTES_PER_CHAR * len(gone) + 200
        return made


def _make_shingles(text: str) -> frozenset[tuple[str, ...]]:
    words = WORD_RE.findall(text.casefold())
    if len(words) < 3:
        return frozenset([tuple(words)]) if words else frozenset()
    return frozenset(tuple(words[i : i + 3]) for i in range(len(words) - 2))


_SHINGLES = _ShingleCache(SHINGLE_CACHE_BYTES)


def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    return _SHINGLES.get(text[:MATCH_TEXT_CHARS])


def similarity(a: str, b: str) -> float:
    """How much of the shorter text's word 3-grams the longer one contains (0..1)."""
    if a == b:
        return 1.0 if a else 0.0
    sa, sb = _shingles(a), _shingles(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / min(len(sa), len(sb))


def _same_headline(a: str, b: str) -> bool:
    return bool(a) and a.casefold() == b.casefold()


def section_hash(section: Section) -> str:
    """Identity of what a section shows: its headline and its body."""
    return content_hash(section.headline, section.html)


def section_link(url: str, section: Section) -> str:
    """The article URL with a text fragment pointing at the section."""
    words = section.headline if not section.is_lead else " ".join(section.text[:400].split()[:8])
    words = words.rstrip(" …")  # a title cut short says so with "…", which the page lacks
    # a text fragment matches any part of the page: a long headline's start finds it too,
    # and keeps the memoized links small
    return _text_fragment_link(url, words[:FRAGMENT_CHARS])


@lru_cache(maxsize=4096)
def _text_fragment_link(url: str, words: str) -> str:
    # pure and asked again for every section of every poll; quote() is slow Python
    if not words:
        return url
    # text fragments reserve '-', '&' and ','; quote() keeps '-' and must be helped
    fragment = quote(words, safe="").replace("-", "%2D")
    return f"{url.split('#')[0]}#:~:text={fragment}"


@dataclass(frozen=True)
class _Candidate:
    score: float
    removed: bool
    new_index: int
    old_index: int


def _score(section: Section, digest: str, old: SectionState) -> float:
    if section.source_key is not None:
        return 3.0 if section.source_key == old.key else 0.0
    if digest == old.content_hash:
        return 3.0
    sim = similarity(section.text, old.seen_text)
    if _same_headline(section.headline, old.seen_headline):
        return 1.0 + sim
    return sim if sim >= MATCH_THRESHOLD else 0.0


# Up to this many (new, old) pairs are all compared, as always; beyond (a page of
# thousands of reworded sections), each new section is compared only with the old ones
# of the same headline and the few that share the most rare word 3-grams with it.
ALL_PAIRS_MAX = 10_000
RARE_SHINGLE_MAX = 32  # a 3-gram in more old sections than this is no evidence of identity
CANDIDATES_PER_SECTION = 8


def _candidates(sections: tuple[Section, ...], new: list[int], old: tuple[SectionState, ...],
                rest_old: list[int]) -> dict[int, list[int]]:
    """new index -> the old indices worth scoring: all of them for a page of ordinary
    size, else a near-linear choice (see ALL_PAIRS_MAX)."""
    if len(new) * len(rest_old) <= ALL_PAIRS_MAX:
        return {i: rest_old for i in new}
    by_headline: dict[str, list[int]] = {}
    postings: dict[tuple[str, ...], list[int]] = {}
    for j in rest_old:
        if old[j].seen_headline:
            by_headline.setdefault(old[j].seen_headline.casefold(), []).append(j)
        for shingle in _shingles(old[j].seen_text):
            postings.setdefault(shingle, []).append(j)
    chosen = {}
    for i in new:
        shared: dict[int, int] = {}
        for shingle in _shingles(sections[i].text):
            posting = postings.get(shingle, ())
            if len(posting) <= RARE_SHINGLE_MAX:
                for j in posting:
                    shared[j] = shared.get(j, 0) + 1
        best = sorted(shared, key=lambda j: (-shared[j], j))[:CANDIDATES_PER_SECTION]
        same = by_headline.get(sections[i].headline.casefold(), []) if sections[i].headline \
            else []
        chosen[i] = list(dict.fromkeys([*same[:CANDIDATES_PER_SECTION], *best]))
    return chosen


def match_sections(
    sections: tuple[Section, ...], old: tuple[SectionState, ...],
    digests: list[str] | None = None,
) -> dict[int, int]:
    """new section index -> old section index, best evidence first, one to one.
    `digests`: the sections' section_hash, when the caller has them already."""
    digests = digests if digests is not None else [section_hash(s) for s in sections]
    # unchanged sections (the usual case) pair off by hash without any text comparison,
    # and sections with an id of their own (live-blog posts) by that id
    by_hash: dict[str, list[int]] = {}
    by_key: dict[str, int] = {}
    for j, prev in enumerate(old):
        by_hash.setdefault(prev.content_hash, []).append(j)
        by_key.setdefault(prev.key, j)
    exact: dict[int, int] = {}
    taken: set[int] = set()
    for i, digest in enumerate(digests):
        key = sections[i].source_key
        found = by_key.get(key) if key is not None else next(
            (j for j in by_hash.get(digest, ()) if j not in taken), None)
        if found is not None and found not in taken:
            exact[i] = found
            taken.add(found)
    rest_old = [j for j in range(len(old)) if j not in taken]
    rest_new = [i for i in range(len(sections))
                if i not in exact and sections[i].source_key is None]
    candidates = []
    for i, olds in _candidates(sections, rest_new, old, rest_old).items():
        for j in olds:
            score = _score(sections[i], digests[i], old[j])
            if score > 0:
                candidates.append(_Candidate(score, old[j].removed_at is not None, i, j))
    # live sections win over removed ones at the same score; then page order, then age
    candidates.sort(key=lambda c: (-c.score, c.removed, c.new_index, c.old_index))
    pairs: dict[int, int] = dict(exact)
    for cand in candidates:
        if cand.new_index in pairs or cand.old_index in taken:
            continue
        pairs[cand.new_index] = cand.old_index
        taken.add(cand.old_index)
    return pairs


def first_key(section: Section) -> str:
    """The key a section gets when first seen: the page's own id, or a hash of its text."""
    if section.source_key is not None:
        return section.source_key
    return "s" + content_hash(section.headline, section.text)[:10]


def _new_key(section: Section, used: set[str]) -> str:
    base = first_key(section)
    key, n = base, 2
    while key in used:
        key, n = f"{base}-{n}", n + 1
    used.add(key)
    return key


def _item_id(state_host: str, tag_date: str, article_id: str, key: str, revision: int) -> str:
    base = f"tag:{state_host},{tag_date}:{article_id}/{key}"
    return base if revision == 0 else f"{base}/r{revision}"


def _edited(
    old: SectionState, section: Section, digest: str, link: str, now: datetime,
    policy: EditPolicy, ids: tuple[str, str, str],
) -> SectionState:
    """The state after an edit; under republish, `now` becomes the new published time."""
    seen = replace(
        old, seen_headline=section.headline, seen_text=section.text, content_hash=digest,
        authors=section.authors or old.authors, raw_digest=section.raw_digest,
    )
    if policy is EditPolicy.IGNORE:
        # the item keeps its old html, which the new markup's digest does not describe
        return replace(seen, raw_digest="")
    if policy is EditPolicy.REPUBLISH:
        revision = old.revision + 1
        return replace(
            seen, title=section.headline, html=section.html, link=link, published=now,
            updated=now, revision=revision, item_id=_item_id(*ids, old.key, revision),
        )
    return replace(seen, title=section.headline, html=section.html, link=link, updated=now)


def _note(parent: SectionState, notes: list[SectionState], ids: tuple[str, str, str],
          title: str, html: str, when: datetime) -> SectionState:
    """A short item about `parent` (what an edit added, or its removal): the parent's id
    with /u1, /u2, ... in the order they were emitted. Kept with the sections, but marked
    (ANNOUNCE_HASH) so it is never matched against the page."""
    n = 1 + sum(1 for s in notes if s.key.startswith(f"{parent.key}/u"))
    key = f"{parent.key}/u{n}"
    return SectionState(
        key=key, item_id=f"{_item_id(*ids, parent.key, 0)}/u{n}", title=title, html=html,
        link=parent.link, published=when, updated=when, seen_headline="", seen_text="",
        content_hash=ANNOUNCE_HASH, position=-1, authors=parent.authors,
    )


def diff_article(
    prev: ArticleState | None, article: Article, now: datetime,
    policy: EditPolicy = EditPolicy.UPDATE, on_remove: RemovePolicy = RemovePolicy.KEEP,
) -> DiffResult:
    """Decide what is new, changed, removed and revived; return the state to store."""
    now = now.replace(microsecond=0)
    tag_date = prev.tag_date if prev else now.date().isoformat()
    host = prev.host if prev else article.host
    ids = (host, tag_date, article.article_id)
    kept = prev.sections if prev else ()
    # items emitted for edits and removals are not sections of the page
    notes = [s for s in kept if s.content_hash == ANNOUNCE_HASH]
    old = tuple(s for s in kept if s.content_hash != ANNOUNCE_HASH)
    announced: list[str] = []
    digests = [section_hash(s) for s in article.sections]
    pairs = match_sections(article.sections, old, digests)
    live_before = [s for s in old if s.removed_at is None]
    found = sum(1 for j in pairs.values() if old[j].removed_at is None)
    if len(live_before) >= LAYOUT_GUARD_MIN and found * 2 < len(live_before):
        raise ExtractError(
            f"extraction found too little: {found} of {len(live_before)} known sections "
            "(layout change?)"
        )

    used = {s.key for s in kept}
    result: list[SectionState] = []
    new_keys, changed, revived = [], [], []
    matched_old: set[int] = set(pairs.values())
    fresh_rank = 0
    for i, section in enumerate(article.sections):
        digest = digests[i]
        link = section_link(article.url, section)
        if i in pairs:
            state = old[pairs[i]]
            if state.removed_at is not None:
                revived.append(state.key)
                state = replace(state, removed_at=None)
            if digest != state.content_hash:
                when = now
                if policy is EditPolicy.REPUBLISH:
                    # re-emitted items are ordered like new ones: page order, distinct times
                    when, fresh_rank = now - timedelta(seconds=fresh_rank), fresh_rank + 1
                edited = _edited(state, section, digest, link, when, policy, ids)
                if (edited.title, edited.html) != (state.title, state.html):
                    changed.append(state.key)
                added = added_html(state.html, edited.html) if (
                    policy is EditPolicy.ANNOUNCE) else ""
                if added:
                    # on top of this poll's new items, in page order, at distinct times
                    notes.append(_note(edited, notes, ids, f"Update: {edited.title}", added,
                                       now - timedelta(seconds=fresh_rank)))
                    fresh_rank += 1
                    announced.append(notes[-1].key)
                state = edited
            else:
                if policy is not EditPolicy.IGNORE and state.link != link:
                    state = replace(state, link=link)  # the slug moved; the content did not
                if state.raw_digest != section.raw_digest and (state.html, state.seen_text) == (
                        section.html, section.text):
                    # the same item from markup under another digest (new sanitizer or
                    # profile code, an upgrade): kept, or every later poll sanitizes it again
                    state = replace(state, raw_digest=section.raw_digest)
            if state.position != i:
                state = replace(state, position=i)
            result.append(state)
            continue
        key = _new_key(section, used)
        # first sight: distinct times in page order, so readers keep the editorial order
        published = section.published or now - timedelta(seconds=fresh_rank)
        fresh_rank += 1
        new_keys.append(key)
        result.append(SectionState(
            key=key, item_id=_item_id(*ids, key, 0), title=section.headline,
            html=section.html, link=link, published=published, updated=published,
            seen_headline=section.headline, seen_text=section.text, content_hash=digest,
            position=i, authors=section.authors, raw_digest=section.raw_digest,
        ))
    removed = []
    for j, state in enumerate(old):
        if j in matched_old:
            continue
        if state.removed_at is None:
            removed.append(state.key)
            state = replace(state, removed_at=now, position=-1)
            if on_remove is RemovePolicy.NOTE:
                notes.append(_note(state, notes, ids, f"Removed: {state.title}", REMOVED_NOTE,
                                   now - timedelta(seconds=fresh_rank)))
                fresh_rank += 1
                announced.append(notes[-1].key)
        result.append(state)
    result += notes

    touched = bool(new_keys or changed or removed or revived or announced)
    next_state = ArticleState(
        article_id=article.article_id, host=host, url=article.url, title=article.title,
        feed_title=article.feed_title, language=article.language, tag_date=tag_date,
        first_seen=prev.first_seen if prev else now,
        last_changed=now if touched or prev is None else prev.last_changed,
        sections=tuple(result), fetch_url=prev.fetch_url if prev else None,
    )
    return DiffResult(
        state=next_state, new=tuple(new_keys), changed=tuple(changed),
        removed=tuple(removed), revived=tuple(revived), announced=tuple(announced),
    )
