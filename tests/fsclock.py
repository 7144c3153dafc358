""""Now" as the kernel stamps files, for tests that compare a file's time with now.

Under libfaketime (`faketime -f +400d make test`) the process clock is shifted but the
kernel stamps written files with the real time: a server comparing the two would see
every file as changed 400 days ago. Writing a byte and reading the file's mtime back
gives the clock the files are stamped with, whatever the process is told.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def file_system_clock(folder: Path) -> Callable[[], float]:
    """A clock reading the time the kernel stamps on a file written in `folder` now."""
    probe = folder / ".clock"

    def now() -> float:
        probe.write_bytes(b"x")  # a write, not utime(): libfaketime fakes utime's "now"
        return probe.stat().st_mtime

    return now
