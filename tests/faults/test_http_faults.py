"""Every fault: the poll fails cleanly, nothing is lost, and the next good poll continues."""

from __future__ import annotations

import json
import os

import pytest

from tests.faults.conftest import Env, Fault

CONSENT = (b"<!DOCTYPE html><html><body><h1>Ihre Privatsph\xc3\xa4re</h1>"
           b"<p>Zustimmen</p></body></html>")


def _half_page(env: Env) -> bytes:
    body, _ = env.server.good_body()
    return body[: len(body) // 2]


FAULTS = {
    "404": (Fault("status", 404, b"not found"), "HTTP 404"),
    "410": (Fault("status", 410, b"gone"), "HTTP 410"),
    "500": (Fault("status", 500, b"oops"), "HTTP 500"),
    "502": (Fault("status", 502, b"bad gateway"), "HTTP 502"),
    "503": (Fault("status", 503, b"busy"), "HTTP 503"),
    "503-retry-after": (Fault("status", 503, b"", {"Retry-After": "1"}), "HTTP 503"),
    "503-retry-after-long": (Fault("status", 503, b"", {"Retry-After": "7200"}),
                             "Retry-After 7200s"),
    "429": (Fault("status", 429, b"", {"Retry-After": "1"}), "HTTP 429"),
    "reset-mid-body": (Fault("reset"), "connection broken mid-body"),
    "headers-then-stall": (Fault("stall"), "timed out after 1s"),
    "redirect-loop": (Fault("loop"), "too many redirects"),
    "redirect-to-ftp": (Fault("scheme"), "redirect to a non-HTTP URL"),
    "empty-200": (Fault("body", 200, b""), "extraction found nothing"),
    "random-bytes": (Fault("body", 200, os.urandom(4096)), "extraction found nothing"),
    "json-error": (Fault("body", 200, b'{"error": "internal"}',
                         {"Content-Type": "application/json"}), "not an HTML page"),
    "json-as-html": (Fault("body", 200, json.dumps({"error": 1}).encode()),
                     "extraction found nothing"),
    "consent-page": (Fault("body", 200, CONSENT), "extraction found nothing"),
    "50-MB-body": (Fault("huge"), "over max_bytes"),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_fault(env: Env, name: str) -> None:
    fault, cause = FAULTS[name]
    before = env.snapshot()
    env.server.fault = fault
    code, _, err = env.run()
    env.assert_failed_cleanly(before, code, err, cause)
    env.assert_continues(before)


def test_truncated_html(env: Env) -> None:
    before = env.snapshot()
    env.server.fault = Fault("body", 200, _half_page(env))
    code, _, err = env.run()
    env.assert_failed_cleanly(before, code, err, "truncated")
    env.assert_continues(before)


def test_connection_refused(env: Env) -> None:
    before = env.snapshot()
    env.server.refuse()
    try:
        code, _, err = env.run()
    finally:
        env.server.accept()
    env.assert_failed_cleanly(before, code, err, "connection refused")
    env.assert_continues(before)


def test_layout_change_finding_too_little(env: Env) -> None:
    from feedgen_dw.demo import FIRST, THIRD

    env.server.page = THIRD  # five sections known
    assert env.run()[0] == 0
    before = env.snapshot()
    # the page loads but only one known section is found: not "four removed"
    env.server.page = FIRST.__class__(**{**THIRD.__dict__, "sections": THIRD.sections[-1:]})
    code, _, err = env.run()
    env.assert_failed_cleanly(before, code, err, "too little")
    assert "layout change?" in err


@pytest.mark.parametrize("where", ["header", "meta"])
def test_other_charsets_are_read_right_and_change_nothing(env: Env, where: str) -> None:
    before = env.snapshot()
    env.server.encoding, env.server.charset_in = "iso-8859-1", where
    code, out, err = env.run()
    assert code == 0, err
    assert "0 new, 0 changed, 0 removed" in out
    assert env.snapshot().files == before.files
