"""When to poll a feed: a pure plan from its config, its stored status, now and a random
source (tests give them a fixed clock and a seeded Random). The daemon follows it."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from feedgen_dw.config import FeedConfig, is_stopped
from feedgen_dw.model import FeedStatus

MAX_BACKOFF = 3600.0  # failing feeds are retried at least hourly
# After a restart a failing feed is tried once within this many seconds (then it backs
# off again): the network may be back, and a restart is often how people say so.
RESTART_RETRY_WINDOW = 60.0
# First polls due at once (new feeds, or feeds overdue after a stop) go out this many
# seconds apart, or closer when that does not fit in one interval: a start or reload with
# 10,000 feeds spreads their first sights over a minute instead of queueing them all at
# once (a herd on the publisher, and a backlog that makes every later poll late)
FIRST_SPACING = 0.1


@dataclass(frozen=True)
class Plan:
    """The next poll of a feed: in `delay` seconds, or never (stopped)."""

    delay: float | None
    reason: str  # interval | backoff | quiet | stopped | first | retry-after-restart


def plan_next(
    feed: FeedConfig, status: FeedStatus, now: datetime, rng: random.Random,
    retry_after: float | None = None,
) -> Plan:
    """How long to wait before polling `feed` again, after a poll that left `status`."""
    if is_stopped(feed, status, now):
        return Plan(None, "stopped")
    settings = feed.settings
    # how long the page has been unchanged says nothing about a url the config names anew
    last_change = status.last_change if status.http.config_url == feed.url else None
    if status.failures:
        base = min(feed.interval * 2 ** min(status.failures, 20), max(MAX_BACKOFF, feed.interval))
        base, reason = max(base, retry_after or 0.0), "backoff"
    elif last_change and (now - last_change).total_seconds() >= settings.quiet_after:
        base, reason = max(feed.interval, settings.quiet_interval), "quiet"
    else:
        base, reason = feed.interval, "interval"
    return Plan(base + rng.uniform(0, feed.jitter), reason)


def plan_first(feed: FeedConfig, status: FeedStatus, now: datetime, rng: random.Random) -> Plan:
    """When to poll first after the daemon starts: what the stored status says was due,
    except that a failing feed is tried once soon (within RESTART_RETRY_WINDOW)."""
    plan = plan_next(feed, status, now, rng)
    if plan.delay is None or status.last_poll is None:
        return plan if plan.delay is None else Plan(rng.uniform(0, feed.jitter), "first")
    # a poll stored with a clock that was ahead must not push the next one into the future
    last_poll = min(status.last_poll, now)
    due = last_poll + timedelta(seconds=plan.delay)
    delay = max(0.0, (due - now).total_seconds())
    if status.failures and delay > RESTART_RETRY_WINDOW:
        return Plan(rng.uniform(0, RESTART_RETRY_WINDOW), "retry-after-restart")
    return Plan(delay, plan.reason)


def plan_all_first(
    feeds: Sequence[FeedConfig], statuses: Sequence[FeedStatus], now: datetime,
    rng: random.Random,
) -> list[Plan]:
    """plan_first for the feeds a start or a reload adds, without a herd: of the n feeds
    whose first poll would be due at once (never polled, or overdue), the k-th (in the
    config's order) waits k * min(FIRST_SPACING, its interval / n) more. One new feed is
    polled as soon as alone; 10,000 on a 1-minute interval fill that minute evenly."""
    plans = [plan_first(feed, status, now, rng) for feed, status in zip(feeds, statuses,
                                                                         strict=True)]
    herd = [i for i, plan in enumerate(plans) if plan.reason == "first" or plan.delay == 0]
    for k, i in enumerate(herd):
        delay = plans[i].delay or 0.0
        spacing = min(FIRST_SPACING, feeds[i].interval / len(herd))
        plans[i] = Plan(delay + k * spacing, plans[i].reason)
    return plans
