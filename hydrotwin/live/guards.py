"""Bounds a hostile network cannot talk its way past (DESIGN.md "Trust at the edges").

Small, clock-driven counters the SL 651 receiver shares between its connections: password
guessing per station address, quarantine rows and log lines per peer, bytes held for
unfinished multi-packet messages. Each bound, once hit, is logged once per episode, never once
per byte. ``now`` is ``time.monotonic()`` seconds, passed in so that tests can drive the clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass
class _Suspect:
    failures: int = 0
    episodes: int = 0
    refused_until: float = 0.0
    last_failure: float = 0.0


class AuthGuard:
    """Wrong passwords per station address, answered by an exponential back-off.

    After ``max_failures`` wrong passwords the address is refused (even with the right
    password, or guessing would go on) for ``backoff_s`` × 2^(episode − 1), at most
    ``max_backoff_s``. A right password does not reset the count (a guesser could interleave
    with the real station); ``max_backoff_s`` of quiet after the last back-off ends does. Only
    addresses the registry knows are tracked, so the table is bounded by the station list.
    """

    def __init__(self, max_failures: int, backoff_s: float, max_backoff_s: float) -> None:
        self.max_failures = max_failures
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._by_address: dict[str, _Suspect] = {}

    def refused_for(self, address: str, now: float) -> float:
        """Seconds the address is still refused (0 when it may be served)."""
        s = self._by_address.get(address)
        return max(0.0, s.refused_until - now) if s else 0.0

    def failure(self, address: str, now: float) -> float:
        """Count one wrong password; the back-off started by it in seconds (0 if none)."""
        s = self._by_address.setdefault(address, _Suspect())
        if now - max(s.last_failure, s.refused_until) > self.max_backoff_s:
            s.failures = s.episodes = 0  # quiet for a whole back-off since the last episode
        s.last_failure = now
        s.failures += 1
        if s.failures < self.max_failures:
            return 0.0
        s.failures = 0
        s.episodes += 1
        wait = min(self.max_backoff_s, self.backoff_s * 2 ** (s.episodes - 1))
        s.refused_until = now + wait
        log.warning(
            "SL 651 address %s refused for %.0f s: %d wrong passwords (episode %d)",
            address,
            wait,
            self.max_failures,
            s.episodes,
        )
        return wait


class HourlyQuota:
    """At most ``limit`` events per key in each ``window_s`` (quarantine rows per peer host).

    The table keeps at most ``max_keys`` keys (the oldest windows go first), so rotating
    source addresses cannot grow it without bound.
    """

    def __init__(self, limit: int, window_s: float = 3600.0, max_keys: int = 4096) -> None:
        self.limit = limit
        self.window_s = window_s
        self.max_keys = max_keys
        self._windows: dict[str, list[float]] = {}  # key -> [window start, count]

    def take(self, key: str, now: float) -> bool:
        """True if one more event fits; the first refusal of a window is logged."""
        w = self._windows.get(key)
        if w is None or now - w[0] >= self.window_s:
            if w is None and len(self._windows) >= self.max_keys:
                del self._windows[min(self._windows, key=lambda k: self._windows[k][0])]
            w = self._windows[key] = [now, 0]
        w[1] += 1
        if w[1] == self.limit + 1:
            log.warning(
                "quarantine quota for %s reached (%d rows per %.0f s): further rejected input "
                "is counted, not kept",
                key,
                self.limit,
                self.window_s,
            )
        return w[1] <= self.limit


class LogLimiter:
    """``burst`` log lines per key and interval; the rest are counted and summarised."""

    def __init__(self, burst: int = 5, interval_s: float = 60.0, max_keys: int = 4096) -> None:
        self.burst = burst
        self.interval_s = interval_s
        self.max_keys = max_keys
        self._state: dict[str, list[float]] = {}  # key -> [interval start, lines, suppressed]

    def allow(self, key: str, now: float) -> bool:
        st = self._state.get(key)
        if st is None or now - st[0] >= self.interval_s:
            if st is not None and st[2]:
                log.warning(
                    "%d more rejections from %s in the last %.0f s (not logged one by one)",
                    int(st[2]),
                    key,
                    now - st[0],
                )
            if st is None and len(self._state) >= self.max_keys:
                del self._state[min(self._state, key=lambda k: self._state[k][0])]
            st = self._state[key] = [now, 0, 0]
        if st[1] < self.burst:
            st[1] += 1
            return True
        st[2] += 1
        return False


class ByteBudget:
    """Bytes held across all connections (unfinished multi-packet messages): one shared cap."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._full_logged = False

    def fits(self, n: int) -> bool:
        if self.used + n <= self.limit:
            self._full_logged = False
            return True
        if not self._full_logged:
            self._full_logged = True
            log.warning(
                "reassembly budget full (%d of %d bytes held): new packets are refused",
                self.used,
                self.limit,
            )
        return False


class WorkShare:
    """A share of the event loop's time for connections that have not authenticated.

    A token bucket of CPU seconds refilled at ``share`` seconds per second (at most
    ``burst_s`` banked): however many sockets send crafted input, together they get at most
    that share, and stations that proved themselves keep the rest.
    """

    def __init__(self, share: float, burst_s: float, now: float) -> None:
        self.share = share
        self.burst_s = burst_s
        self._level = burst_s
        self._t = now

    def spend(self, seconds: float, now: float) -> float:
        """Charge work done; the pause in seconds before the spender may work again."""
        self._level = min(self.burst_s, self._level + (now - self._t) * self.share)
        self._t = now
        # the debt is capped at one burst: a single slow step must not stall every newcomer
        self._level = max(-self.burst_s, self._level - seconds)
        return 0.0 if self._level >= 0 else -self._level / self.share
