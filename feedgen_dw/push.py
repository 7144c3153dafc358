"""WebSub: tell a hub that feed files changed, so subscribed readers fetch them at once."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import requests

from feedgen_dw import DEFAULT_USER_AGENT
from feedgen_dw.deadline import DeadlinePassed, WatchedAdapter, watching

log = logging.getLogger(__name__)

# All pings of one poll together may take this long (and each at most the feed's
# `timeout`): a hub that never answers must not hold the poll.
PING_TOTAL = 10.0


def ping_hub(hub: str, feed_urls: Sequence[str], timeout: float = 10.0) -> bool:
    """POST hub.mode=publish for each URL; True when the hub accepted all. Never raises:
    a hub that is down must not fail the poll (the files are already written)."""
    total = min(timeout, PING_TOTAL)
    ok = True
    with requests.Session() as session, watching(total) as watch:
        session.mount("http://", WatchedAdapter())
        session.mount("https://", WatchedAdapter())
        for url in feed_urls:
            left = watch.remaining()
            try:
                if left <= 0 or watch.expired:
                    raise requests.Timeout(f"no time left of {total:g}s for all pings")
                response = session.post(
                    hub, data={"hub.mode": "publish", "hub.url": url},
                    timeout=(min(timeout, left), min(timeout, left)),
                    headers={"User-Agent": DEFAULT_USER_AGENT},
                )
                accepted = response.status_code < 300
            except (requests.RequestException, OSError, DeadlinePassed) as exc:
                log.warning("websub hub=%s url=%s status=failed error=%s", hub, url, exc)
                ok = False
                continue
            if not accepted:
                log.warning("websub hub=%s url=%s status=%d", hub, url, response.status_code)
                ok = False
            else:
                log.info("websub hub=%s url=%s status=%d", hub, url, response.status_code)
    return ok
