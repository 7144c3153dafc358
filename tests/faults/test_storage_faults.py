"""Disk and state faults, with real OS limits in a child process (no mocks)."""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from feedgen_dw.demo import SECOND
from tests.faults.conftest import Env


def _run(env: Env, preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feedgen_dw", "run", "--config", str(env.config),
         "--now", env.next_now()],
        capture_output=True, text=True, timeout=60, preexec_fn=preexec,
    )


def _small_disk() -> None:
    # writes past 64 KB fail with EFBIG, as on a full disk (SIGXFSZ would kill instead)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_full_disk_fails_cleanly_and_keeps_the_old_files(env: Env) -> None:
    before = env.snapshot()
    env.server.page = SECOND
    # make the next render bigger than the limit: a long section in the new page
    env.server.page = SECOND.__class__(**{**SECOND.__dict__, "teaser": "x"})
    big = SECOND.sections[0].__class__(paragraphs=("Langer Text. " * 8000,))
    env.server.page = SECOND.__class__(**{**SECOND.__dict__,
                                          "sections": (big, *SECOND.sections[1:])})
    result = _run(env, _small_disk)
    assert result.returncode == 1, result.stderr
    assert any(cause in result.stderr for cause in (
        "File too large", "No space", "disk I/O error", "database or disk is full"))
    assert result.stderr.count("\n") == 1
    after = env.snapshot()
    assert after.files == before.files
    db = sqlite3.connect(env.dir / "state" / "feeds.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    env.server.page = SECOND
    result = _run(env)
    assert result.returncode == 0, result.stderr
    ids = [e[0] for e in env.snapshot().entries]
    assert len(ids) == len(set(ids)) and set(e[0] for e in before.entries) <= set(ids)


def _read_only_mount_works(folder: Path) -> bool:
    probe = subprocess.run(
        ["unshare", "-m", "sh", "-c", f'mount --bind "{folder}" "{folder}" && '
         f'mount -o remount,ro,bind "{folder}" && ! touch "{folder}/.probe"'],
        capture_output=True, timeout=30,
    )
    return probe.returncode == 0


def test_read_only_output_dir_fails_cleanly(env: Env) -> None:
    # a read-only mount of output_dir in a mount namespace of the child alone: the real
    # EROFS, which chmod cannot give when the tests run as root
    if not _read_only_mount_works(env.public):
        pytest.skip("cannot make a read-only mount here (unshare/mount not permitted)")
    before = env.snapshot()
    env.server.page = SECOND
    pub = env.public
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c",
         f'mount --bind "{pub}" "{pub}" && mount -o remount,ro,bind "{pub}" && exec "$@"',
         "sh", sys.executable, "-m", "feedgen_dw", "run", "--config", str(env.config),
         "--now", env.next_now()],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert "Read-only file system" in result.stderr and "live.atom" in result.stderr
    assert result.stderr.count("\n") == 1
    assert env.snapshot().files == before.files
    result = _run(env)  # writable again: the next poll writes what the failed one could not
    assert result.returncode == 0, result.stderr
    assert len(env.snapshot().entries) == len(before.entries) + 1


@pytest.mark.parametrize("kind", ["corrupt", "foreign"])
def test_corrupt_or_foreign_database_is_refused_untouched(
    env: Env, tmp_path: Path, kind: str
) -> None:
    database = env.dir / "state" / "feeds.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(str(database) + suffix).unlink(missing_ok=True)
    if kind == "corrupt":
        database.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    else:
        other = sqlite3.connect(database)
        other.execute("CREATE TABLE contacts (name TEXT)")
        other.commit()
        other.close()
    before = database.read_bytes()
    files = env.snapshot().files
    result = _run(env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and str(database) in result.stderr
    assert database.read_bytes() == before
    assert env.snapshot().files == files
