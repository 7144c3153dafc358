from __future__ import annotations

from pathlib import Path

import pytest

from feedgen_dw.cli import main
from feedgen_dw.demo import FIRST, SECOND
from feedgen_dw.replay import ReplayServer, render_page
from tests.conftest import parse_feed, write_config


def test_inspect_a_saved_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "page.html"
    page.write_text(render_page(SECOND, "https://www.dw.com", noise=3), encoding="utf-8")
    assert main(["inspect", str(page)]) == 0
    out = capsys.readouterr().out
    assert "profile:  dw (from apollo; auto: the page's canonical URL is a dw.com" in out
    assert "article:  a-70000001" in out
    assert "sections: 4" in out
    assert "Kiew meldet Geländegewinne bei Saporischschja (lead)" in out
    assert "Selenskyj wirbt in Brüssel um Flugabwehrsysteme" in out
    assert not list(tmp_path.glob("*.sqlite3"))


def test_inspect_a_url(server: ReplayServer, capsys: pytest.CaptureFixture[str]) -> None:
    url = server.publish(FIRST)
    assert main(["inspect", url, "--site", "dw"]) == 0
    assert "sections: 3" in capsys.readouterr().out


def test_run_writes_both_feeds_and_reports(
    server: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, server.publish(FIRST))
    assert main(["run", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "live: 3 new, 0 changed, 0 removed ->" in out
    assert len(parse_feed(tmp_path / "public" / "live.atom").entries) == 3
    assert len(parse_feed(tmp_path / "public" / "live.rss").entries) == 3


def test_failed_poll_exits_1_keeps_old_files_and_other_feeds_run(
    server: ReplayServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = server.publish(FIRST)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"feeds:\n  good:\n    url: {good}\n  bad:\n    url: {server.base_url}/de/x/a-5\n",
        encoding="utf-8",
    )
    assert main(["run", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"feedgen-dw: bad: {server.base_url}/de/x/a-5: HTTP 404 Not Found"
    assert (tmp_path / "public" / "good.atom").exists()
    assert not (tmp_path / "public" / "bad.atom").exists()
    before = (tmp_path / "public" / "good.atom").read_bytes()
    server.set(FIRST.path, 500, b"down", {"Content-Type": "text/html"})
    assert main(["run", "--config", str(config), "--feed", "good"]) == 1
    assert (tmp_path / "public" / "good.atom").read_bytes() == before


def test_unknown_feed_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9/de/x/a-1")
    assert main(["run", "--config", str(config), "--feed", "nope"]) == 2
    assert "no feed named 'nope' (known: live)" in capsys.readouterr().err


def test_verbose_after_the_command_shows_the_traceback(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9/de/x/a-1", colour="red")
    with pytest.raises(Exception, match="colour: unknown key"):
        main(["run", "--config", str(config), "-v"])
    assert main(["run", "--config", str(config)]) == 2
