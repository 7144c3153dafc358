"""Text from outside (upstream answers, pages, the config) made safe to store, log and
render: one helper for every place such text ends up, so that none of them can raise.

XML 1.0 (and so lxml, feedgen and the index page) refuses C0 control characters other
than tab, newline and carriage return, lone surrogates and U+FFFE/U+FFFF: one of them in
a reason phrase or a config title used to make every later rendering of index.html fail.
"""

from __future__ import annotations

import re

# what XML 1.0 does not allow in a document
_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# user:password@ (or just user@) in http(s) URLs: never shown in the index or the logs
_USERINFO_RE = re.compile(r"(?i)\b(https?://)[^/?#@\s]*@")
MAX_ERROR_CHARS = 500


def xml_safe(text: str) -> str:
    """`text` with every character XML cannot carry replaced by U+FFFD (visible, so a
    reader sees that something was there)."""
    # the search is the cheap common case: almost all text is clean
    return _NOT_XML_RE.sub("\ufffd", text) if _NOT_XML_RE.search(text) else text


def xml_safe_opt(text: str | None) -> str | None:
    """xml_safe() for optional values."""
    return None if text is None else xml_safe(text)


def redact(text: str) -> str:
    """`text` with the credentials of any http(s) URL in it replaced by `***`."""
    return _USERINFO_RE.sub(r"\1***@", text) if "@" in text else text


def error_line(text: str) -> str:
    """An error message as it is recorded and logged: credentials redacted, XML-safe,
    one line, bounded in length."""
    line = " ".join(xml_safe(redact(text)).split())
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 1] + "…"
