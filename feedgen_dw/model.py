"""Typed data passed between the stages: extract -> diff -> store -> render."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from feedgen_dw.records import field, record


class EditPolicy(StrEnum):
    """What an edited section does to its feed item."""

    UPDATE = "update"  # same id; title, content and `updated` follow the page
    IGNORE = "ignore"  # the item keeps what it first showed
    REPUBLISH = "republish"  # a new id, so readers show the edited section again
    # as update, and an edit that adds text also emits a short new item of what it added
    ANNOUNCE = "announce"


class RemovePolicy(StrEnum):
    """What a section that disappears from the page does."""

    KEEP = "keep"  # its item stays as it was; nothing new is emitted
    NOTE = "note"  # also a short new item saying that it was removed


@record(frozen=True)
class Section:
    """One piece of a live article as extracted from one fetch of the page."""

    headline: str
    html: str  # sanitized, normalized HTML of the body (without the headline)
    text: str  # normalized plain text of the body, used to recognise the section later
    is_lead: bool = False
    published: datetime | None = None  # the page's own time for the section, if it has one
    source_key: str | None = None  # a stable id the page itself gives (live-blog post id)
    authors: tuple[str, ...] = ()
    raw_digest: str = ""  # of the page markup the html came from (extract.html.raw_digest)


@record(frozen=True)
class Article:
    """What an extractor found in a page."""

    article_id: str  # stable id from the URL/page, e.g. "a-66714234"
    host: str  # authority for tag: URIs, e.g. "www.dw.com"
    url: str  # canonical URL now
    title: str  # the page title now
    feed_title: str  # title suggested for the feed (stable over the day)
    language: str | None
    sections: tuple[Section, ...]
    profile: str  # which extractor produced this
    source: str  # which data inside the page: "apollo", "dom", ...
    published: datetime | None = None
    modified: datetime | None = None
    reason: str = ""  # why this profile was used (for `inspect`)


@record(frozen=True)
class SectionState:
    """A section as remembered between polls; one feed item."""

    key: str  # fixed when first seen; never derived from position or current text
    item_id: str  # permanent tag: URI (changes only under on_edit=republish)
    title: str  # what the item shows
    html: str
    link: str
    published: datetime
    updated: datetime
    seen_headline: str  # latest headline on the page (may differ from title under "ignore")
    seen_text: str  # latest body text on the page, for matching
    content_hash: str  # hash of the latest headline + html on the page
    position: int  # latest page order (0 = top); -1 once removed
    removed_at: datetime | None = None
    revision: int = 0
    authors: tuple[str, ...] = ()
    raw_digest: str = ""  # of the markup `html` was sanitized from; "" when unknown


@record(frozen=True)
class ArticleState:
    """Everything remembered about one article of a feed."""

    article_id: str
    host: str
    url: str
    title: str
    feed_title: str
    language: str | None
    tag_date: str  # the date part of the tag: URIs, fixed at first sight
    first_seen: datetime
    last_changed: datetime
    sections: tuple[SectionState, ...] = ()
    # where a followed feed fetched it last (an URL its index listed), never the page's
    # own canonical URL, which may name any host
    fetch_url: str | None = None


@record(frozen=True)
class DiffResult:
    """What one poll changed, and the state to store."""

    state: ArticleState
    new: tuple[str, ...] = ()  # section keys
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    revived: tuple[str, ...] = ()
    announced: tuple[str, ...] = ()  # keys of the items emitted for edits and removals

    @property
    def feed_changed(self) -> bool:
        """True when anything that the feed files show may differ."""
        return bool(self.new or self.changed or self.revived or self.announced)


@record(frozen=True)
class EntryXml:
    """An item's Atom entry and RSS item as rendered once, kept to build later feeds from.

    `key` is a digest of everything the markup was made from: a stored entry whose key
    no longer matches its item is stale and rendered again."""

    key: str
    atom: bytes
    rss: bytes


@record(frozen=True)
class FeedItem:
    """One entry as the renderer needs it."""

    item_id: str
    title: str
    html: str
    link: str
    published: datetime
    updated: datetime
    authors: tuple[str, ...] = ()
    stored_xml: EntryXml | None = field(default=None, compare=False, repr=False)


@record(frozen=True)
class FeedMeta:
    """Channel-level data for the renderer."""

    name: str
    title: str
    link: str  # the article (alternate)
    self_base: str  # base_url where output_dir is served
    language: str | None
    subtitle: str = ""
    hub: str | None = None  # WebSub hub, announced with rel="hub"
    # who the feed is by (config `author:`, else the outlet's host): RFC 4287 wants an
    # author on the feed or on every entry, and most sections name none
    author: str = ""


@record
class PollResult:
    """Outcome of one poll_feed() call."""

    feed: str
    ok: bool
    url: str
    new: int = 0
    changed: int = 0
    removed: int = 0
    written: list[str] = field(default_factory=list)
    error: str | None = None
    not_modified: bool = False
    retry_after: float | None = None  # the server asked us to wait this long (seconds)


@record(frozen=True)
class HttpState:
    """What the next fetch of a feed should send and where to: kept per feed."""

    config_url: str | None = None  # the url in the config when this was stored
    fetch_url: str | None = None  # where permanent redirects from config_url ended
    etag: str | None = None
    last_modified: str | None = None
    # the API URL etag/last_modified came from (valid only there); None: they are the
    # page's (sent to the page, also where its permanent redirect pointed)
    validators_from: str | None = None
    # until when the API of a DW feed is not asked after it failed (source.py)
    api_off_until: datetime | None = None


@record(frozen=True)
class FeedStatus:
    """Bookkeeping of a feed's polls."""

    name: str
    last_poll: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    failures: int = 0
    last_change: datetime | None = None  # when a poll last changed the feed's items
    http: HttpState = HttpState()
    render_pending: bool = False  # the state changed and the files may not show it yet
