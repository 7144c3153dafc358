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


def test_a_folder_is_looked_through_for_stale_temp_files_once_not_per_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a look per write read the whole folder each time: quadratic in the number of feeds
    from feedgen_dw import output

    looks = []
    real = output.os.scandir

    def counting(path: object) -> object:
        looks.append(path)
        return real(path)  # type: ignore[call-overload]

    monkeypatch.setattr(output.os, "scandir", counting)
    for n in range(50):
        assert write_if_changed(tmp_path / f"f{n}.atom", b"<feed/>")
    assert len(looks) == 1
