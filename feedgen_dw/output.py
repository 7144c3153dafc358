"""Writing feed files: atomically (temp file + rename) and only when the bytes changed."""

from __future__ import annotations

import contextlib
import os
import threading
import time
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
# Per folder: when it was last looked through (monotonic), and the stale temp files found
# then, by the file they were for. One look per folder every STALE_TMP_AGE: a glob per
# write read the whole folder each time (8,000 files for 2,000 feeds, three quarters of
# the daemon's CPU at that scale).
_stale: dict[Path, tuple[float, dict[str, list[str]]]] = {}
_stale_lock = threading.Lock()


def _stale_tmps(folder: Path, ours: str, now: float) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            if not (name.startswith(".") and name.endswith(".tmp")) or entry.path == ours:
                continue
            with contextlib.suppress(OSError):
                if now - entry.stat(follow_symlinks=False).st_mtime > STALE_TMP_AGE:
                    # mkstemp's names: ".<file>.<random>.tmp"
                    found.setdefault(name[1:-4].rsplit(".", 1)[0], []).append(entry.path)
    return found


def _remove_stale_tmp(path: Path, ours: str, now: float) -> None:
    # `now` is our own new temp file's mtime: the file system's clock, which is what the
    # others' mtimes are on (the process clock may be faked or off)
    with _stale_lock:
        looked = _stale.get(path.parent)
        if looked is None or time.monotonic() - looked[0] > STALE_TMP_AGE:
            looked = _stale[path.parent] = (time.monotonic(),
                                           _stale_tmps(path.parent, ours, now))
        doomed = looked[1].pop(path.name, [])
    for tmp in doomed:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _new_tmp(path: Path) -> tuple[int, str]:
    """A new temp file beside `path` as tempfile.mkstemp makes one (O_EXCL, mode 0600,
    ".<file>.<random>.tmp"), without importing tempfile (with shutil, bz2 and lzma) into
    every `run`."""
    while True:
        name = os.path.join(path.parent, f".{path.name}.{os.urandom(6).hex()}.tmp")
        with contextlib.suppress(FileExistsError):  # 48 random bits: never, but then again
            flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
            return os.open(name, flags, 0o600), name


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
        fd, tmp_name = _new_tmp(path)
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
