from __future__ import annotations

from pathlib import Path

import pytest

from feedgen_dw.cli import main
from feedgen_dw.config import load_config, parse_duration
from feedgen_dw.errors import ConfigError
from feedgen_dw.model import EditPolicy

REPO = Path(__file__).resolve().parents[1]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_loads_into_typed_objects() -> None:
    config = load_config(REPO / "config.yaml")
    assert config.database == REPO / "state" / "feeds.sqlite3"
    assert config.output_dir == REPO / "public"
    assert config.base_url == "http://127.0.0.1:8080/"
    (feed,) = config.feeds
    assert feed.name == "dw-ukraine"
    assert feed.site == "dw"
    assert feed.interval == 300.0
    assert feed.max_items == 100
    assert feed.on_edit is EditPolicy.UPDATE
    assert "/a-" in feed.url


def test_defaults_and_relative_paths(tmp_path: Path) -> None:
    path = _write(tmp_path, "database: db.sqlite3\nfeeds:\n  x:\n    url: http://a.example/a-1\n")
    config = load_config(path)
    assert config.database == tmp_path / "db.sqlite3"
    assert config.output_dir == tmp_path / "public"
    feed = config.feed("x")
    assert (feed.site, feed.title, feed.max_items, feed.on_edit) == (
        "dw", None, 100, EditPolicy.UPDATE)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("feeds:\n  x:\n    url: http://a/a-1\n    colour: red\n", "feeds.x.colour: unknown key"),
        ("extra: 1\nfeeds:\n  x:\n    url: http://a/a-1\n", "extra: unknown key"),
        ("feeds:\n  x:\n    url: ftp://a/a-1\n", "feeds.x.url: expected an http(s) URL"),
        ("feeds:\n  x:\n    site: dw\n", "feeds.x.url: missing"),
        ("feeds:\n  x:\n    url: http://a/a-1\n    interval: 5x\n", "feeds.x.interval: expected"),
        ("feeds:\n  x:\n    url: http://a/a-1\n    max_items: 0\n", "feeds.x.max_items: must be"),
        ("feeds:\n  x:\n    url: http://a/a-1\n    max_items: yes\n", "x.max_items: expected"),
        ("feeds:\n  x:\n    url: http://a/a-1\n    on_edit: nuke\n", "feeds.x.on_edit: expected"),
        ("feeds:\n  x:\n    url: http://a/a-1\n    site: zdf\n", "feeds.x.site: expected"),
        ("feeds:\n  ../x:\n    url: http://a/a-1\n", "feeds.../x: a feed name must match"),
        ("feeds:\n  x:\n    url: http://a/a-1\n  x:\n    url: http://b/a-2\n", "duplicate key 'x'"),
        ("base_url: nope\nfeeds:\n  x:\n    url: http://a/a-1\n", "base_url: expected an http"),
        ("feeds: []\n", "feeds: expected a mapping"),
        ("feeds:\n  x: [1\n", "not valid YAML (line"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_cli_exits_2_on_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "feeds:\n  x:\n    url: http://a/a-1\n    bogus: 1\n")
    assert main(["run", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "feeds.x.bogus: unknown key" in err
    assert not (tmp_path / "state").exists()  # nothing started


def test_missing_config_file_is_a_config_error(tmp_path: Path) -> None:
    assert main(["run", "--config", str(tmp_path / "nope.yaml")]) == 2


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("5m", 300), ("6h", 21600), (30, 30)])
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text, "k") == seconds
