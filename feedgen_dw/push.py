"""WebSub: tell a hub that feed files changed, so subscribed readers fetch them at once."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import requests

from feedgen_dw import DEFAULT_USER_AGENT

log = logging.getLogger(__name__)


def ping_hub(hub: str, feed_urls: Sequence[str], timeout: float = 10.0) -> bool:
    """POST hub.mode=publish for each URL; True when the hub accepted all. Never raises:
    a hub that is down must not fail the poll (the files are already written)."""
    ok = True
    for url in feed_urls:
        try:
            response = requests.post(
                hub, data={"hub.mode": "publish", "hub.url": url}, timeout=timeout,
                headers={"User-Agent": DEFAULT_USER_AGENT},
            )
            accepted = response.status_code < 300
        except requests.RequestException as exc:
            log.warning("websub hub=%s url=%s status=failed error=%s", hub, url, exc)
            ok = False
            continue
        if not accepted:
            log.warning("websub hub=%s url=%s status=%d", hub, url, response.status_code)
            ok = False
        else:
            log.info("websub hub=%s url=%s status=%d", hub, url, response.status_code)
    return ok
