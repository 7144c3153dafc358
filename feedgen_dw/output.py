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


# A temp file of ours this old was left by a process killed mid-write (SIGTERM, SIGKILL,
# power): removed on the next write of its file. Younger ones may be another writer's.
STALE_TMP_AGE = 600.0


def _remove_stale_tmp(path: Path, ours: str, now: float) -> None:
    # `now` is our own new temp file's mtime: the file system's clock, which is what the
    # others' mtimes are on (the process clock may be faked or off)
    with contextlib.suppress(OSError):
        for tmp in path.parent.glob(f".{path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                if str(tmp) != ours and now - tmp.lstat().st_mtime > STALE_TMP_AGE:
                    tmp.unlink()


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
        _remove_stale_tmp(path, tmp_name, os.fstat(fd).st_mtime)
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
