"""Month and zone names as pages write them, and the zones of countries and languages
(tables for extract/times.py)."""

from __future__ import annotations

MONTHS = {m: n for n, names in enumerate([
    ("januar", "jänner", "january", "jan", "janvier", "gennaio", "enero", "stycznia",
     "januari", "janeiro"),
    ("februar", "february", "feb", "février", "febbraio", "febrero", "lutego", "februari",
     "fevereiro"),
    ("märz", "march", "mar", "mars", "marzo", "marca", "maart", "março"),
    ("april", "apr", "avril", "aprile", "abril", "kwietnia"),
    ("mai", "may", "maggio", "mayo", "maja", "mei", "maio"),
    ("juni", "june", "jun", "juin", "giugno", "junio", "czerwca", "junho"),
    ("juli", "july", "jul", "juillet", "luglio", "julio", "lipca", "julho"),
    ("august", "aug", "août", "agosto", "sierpnia", "augustus"),
    ("september", "sep", "sept", "septembre", "settembre", "septiembre", "września",
     "setembro"),
    ("oktober", "october", "okt", "oct", "octobre", "ottobre", "octubre", "października",
     "outubro"),
    ("november", "nov", "novembre", "noviembre", "listopada"),
    ("dezember", "december", "dez", "dec", "décembre", "dicembre", "diciembre", "grudnia",
     "dezembro"),
], start=1) for m in names}
MONTH_ALTERNATIVES = "|".join(sorted(MONTHS, key=len, reverse=True))
# named zones written after clock times; IST is India's (Ireland writes GMT/IST rarely)
ZONE_NAMES = {
    "UTC": "UTC", "GMT": "Europe/London", "BST": "Europe/London", "WET": "Europe/Lisbon",
    "MEZ": "Europe/Berlin", "MESZ": "Europe/Berlin", "CET": "Europe/Berlin",
    "CEST": "Europe/Berlin", "EET": "Europe/Kyiv", "EEST": "Europe/Kyiv",
    "ET": "America/New_York", "EST": "America/New_York", "EDT": "America/New_York",
    "CT": "America/Chicago", "CST": "America/Chicago", "CDT": "America/Chicago",
    "PT": "America/Los_Angeles", "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles",
    "MT": "America/Denver", "MST": "America/Denver", "MDT": "America/Denver",
    "AKST": "America/Anchorage", "AKDT": "America/Anchorage", "HST": "Pacific/Honolulu",
    "IST": "Asia/Kolkata", "JST": "Asia/Tokyo", "KST": "Asia/Seoul", "HKT": "Asia/Hong_Kong",
    "SGT": "Asia/Singapore", "PKT": "Asia/Karachi", "AWST": "Australia/Perth",
    "NZST": "Pacific/Auckland", "NZDT": "Pacific/Auckland", "SAST": "Africa/Johannesburg",
    "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney", "MSK": "Europe/Moscow",
}
ZONE_ALTERNATIVES = "|".join(sorted(ZONE_NAMES, key=len, reverse=True))
# an outlet's country, from its TLD or its page language, when the page names no zone
COUNTRY_ZONES = {
    "de": "Europe/Berlin", "at": "Europe/Vienna", "ch": "Europe/Zurich",
    "uk": "Europe/London", "gb": "Europe/London", "ie": "Europe/Dublin",
    "fr": "Europe/Paris", "it": "Europe/Rome", "es": "Europe/Madrid", "pl": "Europe/Warsaw",
    "nl": "Europe/Amsterdam", "be": "Europe/Brussels", "lu": "Europe/Luxembourg",
    "dk": "Europe/Copenhagen", "se": "Europe/Stockholm", "no": "Europe/Oslo",
    "fi": "Europe/Helsinki", "cz": "Europe/Prague", "sk": "Europe/Bratislava",
    "hu": "Europe/Budapest", "pt": "Europe/Lisbon", "gr": "Europe/Athens",
    "ua": "Europe/Kyiv", "ro": "Europe/Bucharest", "in": "Asia/Kolkata",
    "jp": "Asia/Tokyo", "nz": "Pacific/Auckland",
}
# languages spoken in (nearly) one zone; "en", "es", "pt" and "fr" alone say nothing
LANGUAGE_ZONES = {
    "de": "Europe/Berlin", "it": "Europe/Rome", "pl": "Europe/Warsaw",
    "nl": "Europe/Amsterdam", "cs": "Europe/Prague", "da": "Europe/Copenhagen",
    "sv": "Europe/Stockholm", "nb": "Europe/Oslo", "fi": "Europe/Helsinki",
    "hu": "Europe/Budapest", "el": "Europe/Athens", "uk": "Europe/Kyiv",
    "ro": "Europe/Bucharest", "ja": "Asia/Tokyo", "hi": "Asia/Kolkata",
}
