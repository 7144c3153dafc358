"""Start-up: what each command imports (a behaviour, not a timing). A cron `run` of
feeds answered 304, `--help` and a config error must not import the HTML libraries, the
feed writer or the scheduler: they are most of a short process's CPU."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from feedgen_dw.demo import FIRST
from feedgen_dw.replay import ReplayServer

HEAVY = ("parsel", "w3lib", "feedgen", "apscheduler", "feedgen_dw.extract", "feedgen_dw.render",
         "feedgen_dw.diff")
PROBE = """
import json, sys
from feedgen_dw.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps([code, sorted(sys.modules)]))
"""


def _modules(*args: str) -> tuple[int, set[str]]:
    out = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                         check=True).stdout
    code, modules = json.loads(out.splitlines()[-1])
    return code, set(modules)


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_help_and_config_errors_import_no_poll_machinery(tmp_path: Path) -> None:
    code, modules = _modules("--help")
    assert code == 0 and not _heavy(modules) and "requests" not in modules
    (tmp_path / "config.yaml").write_text("feeds: []\n", encoding="utf-8")
    code, modules = _modules("run", "--config", str(tmp_path / "config.yaml"))
    assert code == 2 and not _heavy(modules) and "requests" not in modules


def test_a_run_answered_304_parses_nothing_and_imports_no_extractor(
    server: ReplayServer, tmp_path: Path,
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"feeds:\n  f:\n    url: {server.publish(FIRST)}\n", encoding="utf-8")
    first, modules = _modules("run", "-q", "--config", str(config))
    assert first == 0 and "feedgen" in modules  # the first sight renders the feed
    code, modules = _modules("run", "-q", "--config", str(config))
    assert code == 0 and server.site.headers[-1].get("If-None-Match")
    assert _heavy(modules) == []
    # the config parsed by the first run is kept as JSON; a 304 needs http.client alone
    assert "yaml" not in modules and "requests" not in modules and "urllib3" not in modules
    # index.html is written as text; no daemon modules, no tempfile/shutil, no hashlib
    assert not {"lxml", "feedgen_dw.schedule", "tempfile", "shutil", "hashlib"} & modules
