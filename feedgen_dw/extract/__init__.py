"""Extraction: one module per site profile; `extract_page()` picks the profile."""

from __future__ import annotations

from dataclasses import replace

from parsel import Selector

from feedgen_dw.errors import ExtractError
from feedgen_dw.extract import dw, liveblog
from feedgen_dw.extract.custom import Profile, extract_custom
from feedgen_dw.extract.html import Known, page_selector
from feedgen_dw.model import Article

# 'auto' asks them in this order: the specific DW profile before the generic live blog
PROFILES = {dw.NAME: dw, liveblog.NAME: liveblog}


def pick_profile(site: str, url: str, selector: Selector) -> tuple[str, str]:
    """The profile for `site` and why ('auto' looks at the host and the page)."""
    if site != "auto":
        if site not in PROFILES:
            raise ExtractError(f"unknown site profile {site!r}")
        return site, f"site: {site} in the config"
    for name, module in PROFILES.items():
        reason = module.matches(url, selector)
        if reason:
            return name, f"auto: {reason}"
    raise ExtractError(f"{url}: no site profile recognises this page "
                       "(no DW article, no schema.org LiveBlogPosting)")


def extract_page(page: str | bytes, url: str, site: str = "dw",
                 profile: Profile | None = None, encoding: str = "utf-8",
                 known: Known | None = None) -> Article:
    """Parse `page` (fetched from `url`; bytes in `encoding`, or text) once and extract it
    with the right profile; `known` holds sections sanitized in earlier polls."""
    selector = page_selector(page, encoding)
    if profile is not None:
        custom = extract_custom(url, selector, profile)
        return replace(custom, reason=f"site: {profile.name}, a profile of selectors")
    name, reason = pick_profile(site, url, selector)
    article: Article = PROFILES[name].extract(page, url, selector, known)
    return replace(article, reason=reason)
