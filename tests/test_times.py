"""Dates, clock times and zones as pages write them (extract/times.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from feedgen_dw.extract import times
from feedgen_dw.extract.entries import entry_stamp
from feedgen_dw.extract.html import page_selector
from feedgen_dw.extract.times import Clock, PageTime, Stamp, parse_clock, parse_day, place


@pytest.mark.parametrize(("text", "loose", "expected"), [
    ("12.31 Uhr: Headline", False, (12, 31, None)),
    ("10:45 GMT – Headline", False, (10, 45, "GMT")),
    ("1.23pm Rain stops", False, (13, 23, None)),
    ("12.10am The count", False, (0, 10, None)),
    ("11.30 p.m. ET The AP calls", False, (23, 30, "ET")),
    ("21.47 Feuer gelöscht", True, (21, 47, None)),
    ("20:51 (IST) Six!", False, (20, 51, "IST")),
    ("21h47 : le président", False, (21, 47, None)),
    ("21 h 10 Le Sénat adopte", False, (21, 10, None)),
    ("16.02 uur: Bij Schiphol", False, (16, 2, None)),
    ("ore 10:45 Fumata nera", False, (10, 45, None)),
    ("Posted at 9:02", False, (9, 2, None)),
    ("kl. 9.30 Regjeringen", False, (9, 30, None)),
    ("1:23 p.m. MT Fire grows", False, (13, 23, "MT")),
    ("21:15 CEST El Gobierno", False, (21, 15, "CEST")),
])
def test_clock_times(text: str, loose: bool, expected: tuple[int, int, str | None]) -> None:
    clock = parse_clock(text, loose=loose)
    assert clock is not None and (clock.hour, clock.minute, clock.zone) == expected


@pytest.mark.parametrize("text", [
    "65.06 sek.", "2.50 Euro", "3.5 Prozent", "Bieg 15", "1 : 5", "21.47 Feuer",
    "Am 3. Mai um 12.30 Uhr", "25.1 - This is a terrific shot", "2:04:12 a course record",
    # a zone is written in capitals: French "et" and "cet" are words
    "15:30 et les manifestants", "Um 14.30 trat er vor die Presse", "pendant 5 h 30 minutes",
])
def test_not_clock_times_at_the_start(text: str) -> None:
    assert parse_clock(text) is None


@pytest.mark.parametrize(("text", "near", "expected"), [
    ("Freitag, 3. 5.", date(2024, 5, 4), date(2024, 5, 3)),
    ("Sunday 3 March", date(2024, 3, 4), date(2024, 3, 3)),
    ("Dienstag, 27. August 2024", None, date(2024, 8, 27)),
    ("28 de abril de 2025", None, date(2025, 4, 28)),
    ("woensdag 12 maart 2025", None, date(2025, 3, 12)),
    ("mercredi 1er octobre 2025", None, date(2025, 10, 1)),
    ("March 3, 2024", None, date(2024, 3, 3)),
    ("2024-03-03", None, date(2024, 3, 3)),
    ("Dienstag, 31. Dezember", date(2025, 1, 1), date(2024, 12, 31)),  # the year before
    ("Freitag, 3. 5.", None, None),  # no year and no page date: cannot be placed
])
def test_days(text: str, near: date | None, expected: date | None) -> None:
    assert parse_day(text, near) == expected


def test_iso_times_without_a_zone_and_with_fractions() -> None:
    assert times.parse_iso("2024-08-05 20:59:59.0") == datetime(2024, 8, 5, 20, 59, 59)
    assert times.parse_iso("2023-05-15T11:50:54.000Z") == datetime(2023, 5, 15, 11, 50, 54,
                                                                   tzinfo=UTC)
    local = times.parse_iso("2024-07-18T11:48")
    assert local is not None and times.to_utc(local, times.ZoneInfo("Europe/London")) == (
        datetime(2024, 7, 18, 10, 48, tzinfo=UTC))
    assert times.epoch("1722888018000") == datetime(2024, 8, 5, 20, 0, 18, tzinfo=UTC)


def test_page_times_from_each_source() -> None:
    sel = page_selector("""<html><head>
        <meta name="DC.date.issued" content="2024-03-11T18:30:00+01:00">
        <meta property="og:updated_time" content="2024-03-12T17:45:00+01:00">
        </head><body></body></html>""")
    found = times.page_times(sel, "https://x.example/2024/mar/10/live")
    assert found["modified"].source == "<meta og:updated_time>"
    assert found["published"].source == "<meta dc.date.issued>"
    assert found["url"].value == datetime(2024, 3, 10)


def _clock(hour: int, minute: int) -> Stamp:
    return Stamp(clock=Clock(hour, minute, None, 0))


BERLIN = times.ZoneInfo("Europe/Berlin")


def test_newest_first_crosses_midnight_backwards() -> None:
    anchor = {"modified": PageTime(datetime(2024, 11, 24, 0, 40, tzinfo=timezone(
        timedelta(hours=1))), "JSON-LD dateModified")}
    placed, source = place([_clock(0, 35), _clock(23, 50), _clock(21, 0)], anchor, BERLIN)
    assert placed == [datetime(2024, 11, 23, 23, 35, tzinfo=UTC),
                      datetime(2024, 11, 23, 22, 50, tzinfo=UTC),
                      datetime(2024, 11, 23, 20, 0, tzinfo=UTC)]
    assert source == "JSON-LD dateModified"


def test_oldest_first_crosses_midnight_forwards_from_the_published_time() -> None:
    anchor = {"published": PageTime(datetime(2024, 3, 2, 21, 0, tzinfo=UTC), "meta")}
    placed, _ = place([_clock(21, 30), _clock(23, 50), _clock(0, 10)], anchor,
                      times.ZoneInfo("Europe/London"))
    assert placed[-1] == datetime(2024, 3, 3, 0, 10, tzinfo=UTC)


def test_the_newest_entry_before_a_modified_time_just_after_midnight() -> None:
    anchor = {"modified": PageTime(datetime(2024, 6, 2, 0, 5), "meta")}  # local, no zone
    placed, _ = place([_clock(23, 55), _clock(22, 0)], anchor, BERLIN)
    assert placed[0] == datetime(2024, 6, 1, 21, 55, tzinfo=UTC)


def test_dst_change_day_in_berlin() -> None:
    anchor = {"modified": PageTime(datetime(2024, 3, 31, 3, 20), "meta")}
    placed, _ = place([_clock(3, 15), _clock(1, 50)], anchor, BERLIN)
    assert placed == [datetime(2024, 3, 31, 1, 15, tzinfo=UTC),
                      datetime(2024, 3, 31, 0, 50, tzinfo=UTC)]


def test_clock_times_without_any_date_stay_unplaced() -> None:
    placed, source = place([_clock(10, 0), _clock(9, 0)], {}, UTC)
    assert placed == [None, None] and source == ""


@pytest.mark.parametrize(("url", "language", "zone", "why"), [
    ("https://www.br.de/x", "de", "Europe/Berlin", ".de"),
    ("https://news.example.com/x", "it", "Europe/Rome", "language"),
    ("https://news.example.com/x", "en-GB", "Europe/London", "language"),
    ("https://news.example.com/x", "en", "UTC", "assumed UTC"),
])
def test_zone_from_the_outlet(url: str, language: str, zone: str, why: str) -> None:
    found = times.page_zone(url, language, {}, {})
    assert found.name == zone and why in found.source


def test_zone_from_text_and_from_an_offset() -> None:
    assert times.page_zone("https://a.example/", "en", {}, {"BST": 3}).name == "Europe/London"
    offset = {"modified": PageTime(datetime(2024, 1, 5, 9, 0, tzinfo=timezone(
        timedelta(hours=5, minutes=30))), "meta")}
    assert times.page_zone("https://a.example/", "en", offset, {}).name == "UTC+05:30"
    # the country's zone when the offset fits it (and its summer time then follows)
    summer = {"modified": PageTime(datetime(2024, 7, 5, 9, 0, tzinfo=timezone(
        timedelta(hours=2))), "meta")}
    assert times.page_zone("https://a.example.de/", "de", summer, {}).name == "Europe/Berlin"


def test_a_visible_stand_line_is_the_page_time_when_the_head_has_none() -> None:
    page = ('<html><body><p class="meta">Stand: <time>12.03.2025 19:44 Uhr</time></p>'
            "<p>Updated 2 hours ago</p></body></html>")
    found = times.page_times(page_selector(page), "https://x.example/")
    assert found["modified"].value == datetime(2025, 3, 12, 19, 44)
    dated = page.replace("<html>", '<html><head><meta name="date" content="2025-03-11T08:00">'
                         "</head>")
    assert "modified" not in times.page_times(page_selector(dated), "https://x.example/")


@pytest.mark.parametrize(("text", "expected", "rest"), [
    ("+++ 12.03.2025, 18:03 Uhr +++ Kabinett", (date(2025, 3, 12), 18, 3), " +++ Kabinett"),
    ("Mittwoch, 12. März 2025, 18:03 Uhr: Text", (date(2025, 3, 12), 18, 3), ": Text"),
    ("March 12, 2025, 1:23 p.m. ET — The Senate", (date(2025, 3, 12), 13, 23), " — The Senate"),
    ("2025-03-12 18:03 Text", (date(2025, 3, 12), 18, 3), "Text"),
    ("12. 3. 2025 08:15 Hasiči", (date(2025, 3, 12), 8, 15), "Hasiči"),
])
def test_a_date_before_the_time_opens_an_entry(text: str, expected: tuple[date, int, int],
                                             rest: str) -> None:
    stamp, end = entry_stamp(text, date(2025, 3, 12), loose=False)
    assert stamp.clock is not None and (stamp.day, stamp.clock.hour, stamp.clock.minute) == (
        expected)
    assert text[end:] == rest


@pytest.mark.parametrize("text", ["Am 12. März um 18 Uhr", "12. März 2025 Die Regierung hat"])
def test_a_date_without_a_time_after_it_opens_no_entry(text: str) -> None:
    assert entry_stamp(text, date(2025, 3, 12), loose=False)[0].clock is None
