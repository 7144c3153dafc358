"""A site described by CSS selectors (`profiles:` in the config, or shipped): the data
only, so that loading a config imports no HTML library."""

from __future__ import annotations

from feedgen_dw.records import field, record

DEFAULT_TIME = r"(?P<hour>\d{1,2})[.:](?P<minute>\d{2})"


@record(frozen=True)
class Profile:
    """A site described by selectors; validated when the config is loaded."""

    name: str
    entries: str
    split: str = "element"  # element | heading
    title: str | None = None  # CSS inside an entry; headings are their own title
    title_strip: str | None = None  # regex removed from titles (e.g. a time prefix)
    time: str | None = None  # CSS inside an entry whose text (or datetime) holds the time
    time_format: str = DEFAULT_TIME  # regex: hour, minute (day, month, year optional)
    day: str | None = None  # regex on headings that separate days (not entries)
    timezone: str = "Europe/Berlin"
    drop: tuple[str, ...] = field(default_factory=tuple)
