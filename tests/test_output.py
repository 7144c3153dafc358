from __future__ import annotations

import os
from pathlib import Path

import pytest

from feedgen_dw.errors import OutputError
from feedgen_dw.output import write_if_changed


def test_writes_only_when_bytes_change(tmp_path: Path) -> None:
    path = tmp_path / "out" / "f.atom"
    assert write_if_changed(path, b"one") is True
    os.utime(path, (1, 1))
    assert write_if_changed(path, b"one") is False
    assert path.stat().st_mtime == 1  # untouched
    assert write_if_changed(path, b"two") is True
    assert path.read_bytes() == b"two"
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in path.parent.iterdir()] == ["f.atom"]  # no temp files left


def test_failure_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "f.atom"
    path.write_bytes(b"old")
    blocker = tmp_path / "dir-is-a-file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot"):
        write_if_changed(blocker / "f.atom", b"new")
    assert path.read_bytes() == b"old"
