from __future__ import annotations

import re
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
    assert feed.on_edit is EditPolicy.ANNOUNCE
    assert feed.follow and feed.match == "^Ukraine aktuell"
    assert feed.url == "https://www.dw.com/de/krieg-in-der-ukraine/t-60978725"


def test_defaults_and_relative_paths(tmp_path: Path) -> None:
    path = _write(tmp_path, "database: db.sqlite3\nfeeds:\n  x:\n    url: http://a.example/a-1\n")
    config = load_config(path)
    assert config.database == tmp_path / "db.sqlite3"
    assert config.output_dir == tmp_path / "public"
    feed = config.feed("x")
    # no site: auto, which recognises DW pages as DW and any other by its markup
    assert (feed.site, feed.title, feed.max_items, feed.on_edit) == (
        "auto", None, 100, EditPolicy.ANNOUNCE)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("feeds:\n  x:\n    url: http://a/a-1\n    colour: red\n", "feeds.x.colour: unknown key"),
        ("extra: 1\nfeeds:\n  x:\n    url: http://a/a-1\n", "extra: unknown key"),
        ("feeds:\n  x:\n    url: ftp://a/a-1\n", "feeds.x.url: expected an http(s) URL"),
        ("feeds:\n  x:\n    site: dw\n", "feeds.x.url: missing"),
        ("feeds:\n  x:\n    url: http://a/a-1\n    interval: 5x\n", "feeds.x.interval: expected"),
        ("feeds:\n  x:\n    url: http://a/a-1\n    max_items: 0\n", "x.max_items: expected 1 to"),
        ("feeds:\n  x:\n    url: http://a/a-1\n    max_items: yes\n", "x.max_items: expected"),
        ("feeds:\n  x:\n    url: http://a/a-1\n    on_edit: nuke\n", "feeds.x.on_edit: expected"),
        ("feeds:\n  x:\n    url: http://a/a-1\n    site: zdf\n", "(known: auto, dw, liveblog"),
        ("feeds:\n  x:\n    url: http://a/a-1\n    follow: http://a/t-1\n", "either url"),
        ("feeds:\n  x:\n    url: http://a/a-1\n    match: x\n", "x.match: only goes with"),
        ("feeds:\n  x:\n    follow: http://a/t-1\n    match: '('\n", "not a regular"),
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


def test_settings_at_the_top_and_overridden_per_feed(tmp_path: Path) -> None:
    path = _write(tmp_path, """
timeout: 30s
user_agent: my-reader/2 (+https://example.org)
max_bytes: 2MB
jitter: 0
quiet_after: 2h
quiet_interval: 30m
stop_after: 1d
lock_timeout: 90s
workers: 8
websub_hub: https://hub.example/
feeds:
  a:
    url: http://a.example/a-1
  b:
    url: http://b.example/a-2
    interval: 10m
    timeout: 5s
    max_bytes: 500KB
    stop_after: 12h
""")
    config = load_config(path)
    assert config.websub_hub == "https://hub.example/"
    assert config.settings.workers == 8 and config.settings.lock_timeout == 90
    a, b = config.feeds
    assert a.settings == config.settings
    assert (a.settings.timeout, a.settings.max_bytes, a.jitter) == (30, 2 * 1024**2, 0)
    assert a.settings.user_agent == "my-reader/2 (+https://example.org)"
    assert (a.settings.quiet_after, a.settings.quiet_interval, a.settings.stop_after) == (
        7200, 1800, 86400)
    assert (b.settings.timeout, b.settings.max_bytes, b.settings.stop_after) == (
        5, 500 * 1024, 43200)
    assert b.settings.quiet_after == 7200  # inherited
    assert b.jitter == 0


def test_jitter_defaults_to_ten_percent(tmp_path: Path) -> None:
    path = _write(tmp_path, "feeds:\n  x:\n    url: http://a/a-1\n    interval: 10m\n")
    assert load_config(path).feed("x").jitter == 60


@pytest.mark.parametrize(("text", "message"), [
    ("workers: 0\n", "workers: expected 1 to 64"),
    ("max_bytes: lots\n", "max_bytes: expected a size"),
    ("timeout: 0\n", "timeout: must be more than 0"),
    ("jitter: -1s\n", "jitter: expected a duration"),
    ("websub_hub: hub\n", "websub_hub: expected an http(s) URL"),
    ("user_agent: 5\n", "user_agent: expected text"),
])
def test_bad_settings(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(_write(tmp_path, text + "feeds:\n  x:\n    url: http://a/a-1\n"))
    feed_level = "feeds:\n  x:\n    url: http://a/a-1\n    " + text
    if not text.startswith("websub_hub"):
        with pytest.raises(ConfigError, match=re.escape("feeds.x." + message)):
            load_config(_write(tmp_path, feed_level))


def test_a_postgresql_database_without_psycopg_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "psycopg" else real(name, *a))
    path = tmp_path / "config.yaml"
    path.write_text("database: postgresql://feeds@db.example/feeds\n"
                    "feeds:\n  x:\n    url: https://example.org/a\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"database: .*feedgen-dw\[postgres\]"):
        load_config(path)


def test_a_parsed_config_is_kept_beside_it_and_used_while_its_bytes_are_the_same(
    tmp_path: Path,
) -> None:
    path = _write(tmp_path, "feeds:\n  a:\n    url: https://www.dw.com/de/x/a-1\n")
    assert load_config(path).feeds[0].name == "a"
    kept = tmp_path / ".config.yaml.parsed.json"
    assert kept.exists()
    # the JSON is what is read: a planted one with the right digest would be believed
    kept.write_text(kept.read_text(encoding="utf-8").replace('"a"', '"b"'), encoding="utf-8")
    assert load_config(path).feeds[0].name == "b"
    path.write_text("feeds:\n  c:\n    url: https://www.dw.com/de/x/a-1\n", encoding="utf-8")
    assert load_config(path).feeds[0].name == "c"  # new bytes: parsed again


def test_a_document_json_would_change_is_not_kept(tmp_path: Path) -> None:
    path = _write(tmp_path, "feeds:\n  1:\n    url: https://www.dw.com/de/x/a-1\n")
    with pytest.raises(ConfigError):  # a number as a feed name; JSON would make it text
        load_config(path)
    assert not (tmp_path / ".config.yaml.parsed.json").exists()


@pytest.mark.parametrize("kept_text", ["[" * 100_000, "{not json", '{"source": 1}',
                                       '{"sha256": "0", "data": {}}'])
def test_a_broken_kept_config_is_parsed_again(tmp_path: Path, kept_text: str) -> None:
    """Whatever lies in the JSON beside the config (cut short, nested past the parser's
    depth, another shape), the config is read from its YAML again."""
    path = _write(tmp_path, "feeds:\n  a:\n    url: https://www.dw.com/de/x/a-1\n")
    (tmp_path / ".config.yaml.parsed.json").write_text(kept_text, encoding="utf-8")
    assert load_config(path).feeds[0].name == "a"
