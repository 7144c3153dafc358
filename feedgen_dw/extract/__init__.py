"""Extraction: one module per site profile; `extract_page()` picks the profile."""

from __future__ import annotations

from parsel import Selector

from feedgen_dw.errors import ExtractError
from feedgen_dw.extract import dw
from feedgen_dw.extract.html import XML_INVALID
from feedgen_dw.model import Article

PROFILES = {dw.NAME: dw}


def pick_profile(site: str, url: str, selector: Selector) -> str:
    """The profile name for `site` ('auto' looks at the host and the page)."""
    if site != "auto":
        if site not in PROFILES:
            raise ExtractError(f"unknown site profile {site!r}")
        return site
    for name, module in PROFILES.items():
        if module.matches(url, selector):
            return name
    raise ExtractError(f"{url}: no site profile recognises this page (try site: dw)")


def extract_page(page: str, url: str, site: str = "dw") -> Article:
    """Parse `page` (fetched from `url`) once and extract it with the right profile."""
    try:
        selector = Selector(text=page, type="html")  # parsel would read a JSON body as JSON
    except UnicodeEncodeError:
        page = XML_INVALID.sub("", page)  # lone surrogates (from bad input) stop lxml
        selector = Selector(text=page, type="html")
    name = pick_profile(site, url, selector)
    article: Article = PROFILES[name].extract(page, url, selector)
    return article
