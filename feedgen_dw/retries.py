"""Retries inside one fetch (urllib3's Retry, bounded by the fetch's deadline) and the
short cause of a failed connection, for the poll's one error line."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self

from urllib3.util.retry import Retry

from feedgen_dw.deadline import DeadlinePassed, current

# A Retry-After longer than this is not waited out inside a poll: the poll fails and the
# daemon schedules the next one after it instead.
MAX_RETRY_AFTER = 60.0

class BoundedRetry(Retry):
    """urllib3's Retry that will not sleep through a long Retry-After inside a poll."""

    def sleep_for_retry(self, response: Any) -> bool:
        retry_after = self.get_retry_after(response)
        if retry_after is not None and retry_after > MAX_RETRY_AFTER:
            raise RetryAfterTooLong(retry_after)
        watch = current()
        if retry_after is not None and watch is not None and retry_after > watch.remaining():
            raise RetryAfterTooLong(retry_after)  # not waited out past the deadline
        return bool(super().sleep_for_retry(response))

    def sleep(self, response: Any = None) -> None:
        watch = current()
        if watch is not None:
            watch.check()
            if self.get_backoff_time() >= watch.remaining():
                raise DeadlinePassed()  # sleeping would only end past the deadline
        super().sleep(response)

    def increment(self, *args: Any, **kwargs: Any) -> Self:
        # an error caused by the deadline closing the socket is not retried
        watch = current()
        if watch is not None:
            watch.check()
        return super().increment(*args, **kwargs)


class RetryAfterTooLong(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def failure_reason(exc: BaseException) -> str:
    """The root cause of a connection error, short: urllib3 nests it in MaxRetryError."""
    reason: object = getattr(exc, "reason", None) or exc  # MaxRetryError -> the last error
    text = str(reason)
    if "Failed to resolve" in text or "Name or service not known" in text:
        host = getattr(getattr(reason, "conn", None), "host", None)
        return f"cannot resolve host {host}" if host else "cannot resolve host"
    for known in ("Connection refused", "Connection reset", "timed out", "Network is unreachable"):
        if known in text:
            return known.lower()
    if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
        return "TLS handshake failed (is this an http:// server?)"
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "TLS certificate not accepted (" + text.rsplit("certificate verify failed", 1)[
            -1].strip(" :()")[:80] + ")"
    return text.split(": ", 1)[-1][:160]


def retry_after(response: Any) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
