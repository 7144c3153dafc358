"""feedgen-dw: one feed item per new section of a live article."""

from pathlib import Path

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/feedgen-dw/feedgen-dw#readme"
DEFAULT_USER_AGENT = f"feedgen-dw/{__version__} (+{PROJECT_URL})"


def code_digest(*sources: str, extra: str = "") -> str:
    """A digest of source files (and `extra`, e.g. a library's version), for the keys of
    work kept between polls: what other code made is made again, without anyone having
    to remember to bump a version number."""
    import hashlib  # not at import: most commands never need it (and it loads OpenSSL)

    digest = hashlib.blake2b(extra.encode(), digest_size=8)
    for source in sources:
        digest.update(Path(source).read_bytes())
    return digest.hexdigest()
