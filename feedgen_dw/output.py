"""Writing feed files: atomically (temp file + rename) and only when the bytes changed."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from feedgen_dw.errors import OutputError

FORMATS = ("atom", "rss", "json")
STYLESHEET = "feed.xsl"  # written next to the feeds; readers ignore it, browsers apply it


def view_file(name: str) -> str:
    """The file name of feed `name`'s page (the HTML shown to browsers)."""
    return f"{name}.html"


def write_if_changed(path: Path, data: bytes) -> bool:
    """Replace `path` with `data` atomically unless it already holds exactly that.

    Returns True when the file was written. On any failure the old file stays as it was.
    """
    try:
        # a feed that changed mostly changed its size: no need to read it to know
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise OutputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
        tmp_name = None
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
    return True
