"""DW's URLs: its hosts, the ids in article and live-blog paths, the language in front.

Read by the DW extractors and by the choice of source (source.py), which must not import
an extractor: a poll answered 304 parses nothing."""

from __future__ import annotations

import re

HOSTS = ("dw.com",)
ARTICLE_ID_RE = re.compile(r"/a-(\d+)(?:[/?#]|$)")
LIVE_ID_RE = re.compile(r"/live-(\d+)(?:[/?#]|$)")
LANG_RE = re.compile(r"^/([a-z]{2}(?:-[a-z]{2,4})?)/", re.I)
