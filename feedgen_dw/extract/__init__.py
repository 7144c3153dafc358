"""Extraction: one module per site profile; `extract_page()` picks the profile."""

from __future__ import annotations

from dataclasses import replace

from parsel import Selector

from feedgen_dw.errors import ExtractError
from feedgen_dw.extract import dw, generic, liveblog
from feedgen_dw.extract.custom import extract_custom
from feedgen_dw.extract.generic import Notes
from feedgen_dw.extract.html import Known, page_selector
from feedgen_dw.extract.shipped import SHIPPED_HOSTS, profiles_for
from feedgen_dw.extract.titles import derived_title
from feedgen_dw.model import Article
from feedgen_dw.profile import Profile

# 'auto' asks them in this order: the specific DW profile, any schema.org live blog, and
# the generic reader of any page last
PROFILES = {dw.NAME: dw, liveblog.NAME: liveblog, generic.NAME: generic}
# what `inspect` says a profile splits on, for those that do not say it themselves
MARKERS = {dw.NAME: "DW's <h2> sections or live-blog posts",
           liveblog.NAME: "schema.org liveBlogUpdate items"}


def pick_profile(site: str, url: str, selector: Selector) -> tuple[str, str]:
    """The profile for `site` and why ('auto' looks at the host and the page)."""
    if site != "auto":
        if site not in PROFILES:
            names = ", ".join(["auto", *PROFILES, *SHIPPED_HOSTS])
            raise ExtractError(f"unknown site profile {site!r} (valid: {names})")
        return site, f"site: {site} in the config"
    for name, module in PROFILES.items():
        reason = module.matches(url, selector)
        if reason:
            return name, f"auto: {reason}"
    hint = "".join(f"; try site: {name}" for name in profiles_for(url))
    raise ExtractError(f"{url}: no site profile recognises this page (no DW article, no "
                       f"schema.org LiveBlogPosting, no text in its body){hint}")


def extract_with_notes(page: str | bytes, url: str, site: str = "dw",
                       profile: Profile | None = None, encoding: str = "utf-8",
                       known: Known | None = None) -> tuple[Article, Notes]:
    """extract_page(), and how the page was read (main content, marker, dates, zone,
    noise) for `inspect`."""
    selector = page_selector(page, encoding)
    if profile is not None:
        custom = extract_custom(url, selector, profile)
        notes = Notes(marker=f"the profile's entries ({profile.entries})",
                      zone=profile.timezone, zone_source=f"profile {profile.name}")
        return _titled(replace(custom, reason=f"site: {profile.name}, a profile of selectors")
                       ), notes
    name, reason = pick_profile(site, url, selector)
    if name == generic.NAME:
        article, notes = generic.extract_notes(page, url, selector, known)
    else:
        article = PROFILES[name].extract(page, url, selector, known)
        marker = MARKERS.get(name, "")
        if article.source.startswith("DOM entries"):
            marker = "the page's own entry elements, not its degraded liveBlogUpdate items"
        notes = Notes(marker=marker, dates="the entries' own times",
                      zone="UTC", zone_source="times in the page carry their zone")
    return _titled(replace(article, reason=reason)), notes


def _titled(article: Article) -> Article:
    """Every item and the feed get a title with text: a page may give one that is only
    white space (feedgen refuses those)."""
    sections = tuple(
        s if s.headline.strip() else replace(s, headline=derived_title(s.text) or "…")
        for s in article.sections)
    title = article.title if article.title.strip() else article.url
    feed_title = article.feed_title if article.feed_title.strip() else title
    if (sections, title, feed_title) == (article.sections, article.title, article.feed_title):
        return article
    return replace(article, sections=sections, title=title, feed_title=feed_title)


def extract_page(page: str | bytes, url: str, site: str = "dw",
                 profile: Profile | None = None, encoding: str = "utf-8",
                 known: Known | None = None) -> Article:
    """Parse `page` (fetched from `url`; bytes in `encoding`, or text) once and extract it
    with the right profile; `known` holds sections sanitized in earlier polls."""
    return extract_with_notes(page, url, site, profile, encoding, known)[0]
