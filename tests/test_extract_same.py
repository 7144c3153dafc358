"""Extraction's output stays what it was when the generic profile was made cheaper
(issue 15): a digest of every item extracted from each real page the tests read, our
generic fixtures and the bench's ticker pages, read with `site: auto` and `site: generic`.
The digests were written before the change (`python -m tests.test_extract_same` writes
them anew: only when a change of output is meant). No publisher text is kept, only hashes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from bench.ticker import ticker_page
from feedgen_dw.errors import ExtractError
from feedgen_dw.extract import extract_page, html
from tests.conftest import REALPAGES

HERE = Path(__file__).parent
DIGESTS = HERE / "fixtures" / "extract_digests.json"
OURS = ("generic", "unseen")


def _pages() -> Iterator[tuple[str, bytes, str]]:
    """(name, page, url) of every page checked: real pages only when they are present."""
    for folder in OURS:
        for path in sorted((HERE / "fixtures" / folder).glob("*.html")):
            yield f"{folder}/{path.name}", path.read_bytes(), f"https://x.example/{path.stem}"
    base = "http://127.0.0.1:1"
    for ld in (False, True):
        for noise in range(3):
            yield (f"ticker/ld={ld}/noise={noise}",
                   ticker_page("t1", 30, base, noise, ld, 240_000).encode(), f"{base}/live/t1")
    for path in sorted(REALPAGES.glob("*/*.html")):
        relative = path.relative_to(REALPAGES).as_posix()
        yield f"real/{relative}", path.read_bytes(), "file:///" + relative


def digest(page: bytes, url: str, site: str) -> str:
    """One hash of everything an extraction gives the feed (or of its error). The raw
    digests are taken with one sanitizer version: that version is a digest of html.py's
    code, which any edit of it changes (known sections are sanitized again, once)."""
    version = html.SANITIZER_VERSION
    html.SANITIZER_VERSION = "fixed"
    try:
        article = extract_page(page, url, site)
    except ExtractError as error:
        return "error: " + hashlib.sha256(str(error).encode()).hexdigest()[:16]
    finally:
        html.SANITIZER_VERSION = version
    parts = [article.article_id, article.url, article.title, article.feed_title,
             str(article.language), article.profile, article.source, article.reason,
             str(article.published), str(article.modified)]
    for s in article.sections:
        parts += [s.headline, s.html, s.text, str(s.published), str(s.source_key),
                  "|".join(s.authors), str(s.raw_digest), str(s.is_lead)]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def _expected() -> dict[str, str]:
    data: dict[str, str] = json.loads(DIGESTS.read_text())
    return data


@cache
def _by_name() -> dict[str, tuple[bytes, str]]:
    return {name: (page, url) for name, page, url in _pages()}


CASES = [(name, site) for name in _by_name() for site in ("auto", "generic")]


@pytest.mark.parametrize(("name", "site"), CASES)
def test_items_unchanged(name: str, site: str) -> None:
    page, url = _by_name()[name]
    assert digest(page, url, site) == _expected()[f"{name} {site}"]


def test_every_real_page_checked() -> None:
    if not REALPAGES.exists():
        pytest.skip(f"real pages not available: {REALPAGES}")
    checked = {key.split(" ")[0] for key in _expected()}
    assert {f"real/{p.relative_to(REALPAGES).as_posix()}" for p in REALPAGES.glob("*/*.html")
            } <= checked


if __name__ == "__main__":
    DIGESTS.write_text(json.dumps({f"{name} {site}": digest(page, url, site)
                                   for name, page, url in _pages()
                                   for site in ("auto", "generic")}, indent=1) + "\n")
