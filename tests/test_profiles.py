"""User profiles of selectors, the shipped BR24 profile, and clock times."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedgen_dw.cli import main
from feedgen_dw.config import builtin_profiles, load_config
from feedgen_dw.errors import ConfigError
from feedgen_dw.extract import extract_page
from feedgen_dw.extract.custom import Profile
from tests.conftest import REALPAGES, realpage


def test_shipped_br24_profile_on_the_real_ticker() -> None:
    page = realpage("liveblogs/br24_2024-08-27_nahost-ticker.html")
    article = extract_page(page, "https://www.br.de/x", "br24", builtin_profiles()["br24"])
    assert article.profile == "br24" and "profile of selectors" in article.reason
    titles = [s.headline for s in article.sections]
    assert len(titles) == 7
    assert titles[0] == ("Ultraorthodoxe jüdische Zeitung lehnt Tempelberg-Aussagen von "
                         "Sicherheitsminister ab")
    assert titles[-1] == "Risiko eines breiteren Nahost-Krieges offenbar gesunken"
    # "12.31 Uhr" on 27 August 2024 in Berlin (summer time) is 10:31 UTC, never 12:31 UTC
    assert article.sections[0].published == datetime(2024, 8, 27, 10, 31, tzinfo=UTC)
    assert article.sections[-1].published == datetime(2024, 8, 27, 0, 2, tzinfo=UTC)
    assert "Die wichtigsten News" not in " ".join(s.text for s in article.sections)
    assert all(s.text for s in article.sections)


def test_inspect_with_the_shipped_profile(capsys: pytest.CaptureFixture[str]) -> None:
    path = REALPAGES / "liveblogs/br24_2024-08-27_nahost-ticker.html"
    if not path.exists():
        pytest.skip("real page not available")
    assert main(["inspect", str(path), "--site", "br24"]) == 0
    out = capsys.readouterr().out
    assert "profile:  br24" in out and "sections: 7" in out
    assert "time: 2024-08-27 10:31 UTC (12:31 CEST)" in out


TICKER = """<html lang="de"><head><link rel="canonical" href="https://t.example/ticker">
<script type="application/ld+json">{{"@type": "NewsArticle",
 "dateModified": "2026-11-24T00:40:00+01:00"}}</script></head><body><div class="live">
<div class="entry"><span class="t">00:35</span><h3>Nach Mitternacht</h3><p>Eins.</p></div>
<div class="entry"><span class="t">23:50</span><h3>Vor Mitternacht</h3><p>Zwei.</p></div>
<div class="entry"><span class="t">21:00</span><h3>{title}</h3><p>Drei.</p></div>
</div></body></html>"""


def test_clock_times_cross_midnight_in_the_page_timezone() -> None:
    profile = Profile(name="t", entries="div.entry", title="h3", time="span.t")
    article = extract_page(TICKER.format(title="Abend"), "https://t.example/ticker", "t",
                           profile)
    assert [(s.headline, s.published) for s in article.sections] == [
        ("Nach Mitternacht", datetime(2026, 11, 23, 23, 35, tzinfo=UTC)),
        ("Vor Mitternacht", datetime(2026, 11, 23, 22, 50, tzinfo=UTC)),  # the day before
        ("Abend", datetime(2026, 11, 23, 20, 0, tzinfo=UTC)),
    ]
    assert "Nach Mitternacht" not in article.sections[0].text  # the title is not repeated
    again = extract_page(TICKER.format(title="Abend, neu betitelt"), "https://t.example/ticker",
                         "t", profile)
    assert again.sections[2].source_key == article.sections[2].source_key  # keyed by time


def _config(tmp_path: Path, profile: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"profiles:\n  mine:\n{profile}feeds:\n  x:\n    url: http://a/t\n"
                    "    site: mine\n", encoding="utf-8")
    return path


def test_a_config_profile_is_used_by_a_feed(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, '    entries: "div.entry"\n    title: h3\n'))
    assert config.feed("x").profile == Profile(name="mine", entries="div.entry", title="h3")


@pytest.mark.parametrize(("profile", "message"), [
    ('    entries: "div[["\n', "profiles.mine.entries: not a valid CSS selector"),
    ('    entries: div\n    time_format: "(?P<hour"\n', "profiles.mine.time_format: not a reg"),
    ("    entries: div\n    timezone: Mars/Olympus\n", "profiles.mine.timezone: unknown time"),
    ("    entries: div\n    split: paragraph\n", "profiles.mine.split: expected element"),
    ("    entries: div\n    colour: red\n", "profiles.mine.colour: unknown key"),
    ("    title: h3\n", "profiles.mine.entries: missing"),
    ('    entries: div\n    drop: ["p >> b"]\n', "profiles.mine.drop[0]: not a valid CSS"),
])
def test_bad_profiles_are_config_errors(tmp_path: Path, profile: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_config(tmp_path, profile))
    assert message in str(info.value)


def test_shipped_sportowefakty_profile_on_the_real_report() -> None:
    page = realpage("liveblogs/sportowefakty_falubaz.html")
    article = extract_page(page, "https://sportowefakty.wp.pl/x", "sportowefakty",
                           builtin_profiles()["sportowefakty"])
    titles = [s.headline for s in article.sections]
    assert len(titles) == 53 and titles[:4] == [
        "Koniec.", "Bieg 15", "Piotr Protasiewicz pojedzie teraz po raz 2600.", "Bieg 14"]
    # race times ("65.06 sek.") are no clock times, and the page gives no date: no times
    assert all(s.published is None for s in article.sections)
    assert len({s.source_key for s in article.sections}) == 53  # the entries' own ids


SITES = {"br24": "br24", "sportowefakty": "sportowefakty"}


@pytest.mark.parametrize("name", sorted(p.name for p in (REALPAGES / "liveblogs").glob("*.html"))
                         if (REALPAGES / "liveblogs").exists() else [])
def test_inspect_prints_the_entries_of_each_real_live_blog(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    site = SITES.get(name.split("_")[0], "auto")
    assert main(["inspect", str(REALPAGES / "liveblogs" / name), "--site", site]) == 0
    out = capsys.readouterr().out
    count = int(out.split("sections: ")[1].split("\n")[0])
    assert count >= 7 and out.count("\n  ") >= count
