"""The daemon caps glibc's malloc arenas, unless the environment already says how many."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

PROBE = "from feedgen_dw.memory import limit_arenas; print(limit_arenas())"


def _probe(**env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    return subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          env={**environment, **env}, timeout=60, check=True).stdout.strip()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only")
def test_arenas_are_capped_on_glibc() -> None:
    assert _probe() == "True"


def test_the_environment_wins() -> None:
    assert _probe(MALLOC_ARENA_MAX="8") == "False"


def test_trimming_the_heap_never_raises() -> None:
    from feedgen_dw.memory import trim

    assert trim() in (True, False)  # False off glibc, or with nothing to give back
