"""What `feedgen-dw inspect` prints: how a page was read, entry by entry."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from feedgen_dw.extract import extract_with_notes
from feedgen_dw.extract.generic import Notes
from feedgen_dw.model import Article, Section
from feedgen_dw.profile import Profile

PREVIEW = 200


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        return None


def _when(section: Section, notes: Notes) -> str:
    if section.published is None:
        return "no time of its own: first seen"
    zone = _zone(notes.zone)
    utc = f"{section.published:%Y-%m-%d %H:%M} UTC"
    if zone is None or notes.zone == "UTC":
        return utc
    local = section.published.astimezone(zone)
    return f"{utc} ({local:%H:%M} {local.tzname()})"


def site_line(article: Article, site: str) -> str:
    """The `site:` line that reads this page the same way from the config."""
    name = site if site != "auto" else article.profile
    # the generic profile is what `auto` falls back to: the config says auto
    return f"site: {'auto' if name == 'generic' else name}"


def print_report(article: Article, notes: Notes, site: str, full: bool = False,
                 out: Callable[[str], None] = print) -> None:
    """Print the profile and why, the marker, dates and zone, noise dropped, and each
    entry's title, time and text (200 characters, or all of it with `full`)."""
    out(f"profile:  {article.profile} (from {article.source}; {article.reason})")
    out(f"article:  {article.article_id}  {article.url}")
    out(f"title:    {article.title}")
    out(f"feed:     {article.feed_title}  language={article.language or '?'}")
    if notes.main:
        out(f"content:  {notes.main}")
    if notes.marker:
        out(f"marker:   {notes.marker}")
    if article.published or article.modified:
        out(f"dates:    published={article.published}  modified={article.modified}")
    out(f"times:    dates from {notes.dates or 'nowhere (entries get their first-seen time)'}; "
        f"zone {notes.zone} ({notes.zone_source or 'the times carry their zone'})")
    dropped = sum(notes.noise.values())
    out(f"dropped:  {dropped} noise elements" + (": " + ", ".join(
        f"{n} {why}" for why, n in notes.noise.most_common()) if dropped else ""))
    out(f"sections: {len(article.sections)}")
    for n, section in enumerate(article.sections, 1):
        lead = " (lead)" if section.is_lead else ""
        out(f"  {n}. {section.headline}{lead}")
        out(f"      time: {_when(section, notes)}"
            + (f"  by: {', '.join(section.authors)}" if section.authors else "")
            + (f"  id: {section.source_key}" if section.source_key else ""))
        text = section.text if full or len(section.text) <= PREVIEW else (
            section.text[:PREVIEW].rsplit(" ", 1)[0] + " …")
        out(f"      {text}")
    out(f"config:   {site_line(article, site)}")


def inspect_page(page: str | bytes, url: str, site: str, profile: Profile | None,
                 full: bool = False, encoding: str = "utf-8") -> None:
    """Extract `page` and print the report (the `inspect` command)."""
    article, notes = extract_with_notes(page, url, site, profile, encoding)
    print_report(article, notes, site, full)
