"""Request rate limits per API key and route, with heavier costs for member enumeration.

Every authenticated request counts against its key's limit for the route it calls
(`GET /v1/members` and `POST /v1/orders` are separate budgets). A front-desk lookup
that matches nobody also counts against a much smaller budget of misses, so a key that
walks through phone numbers is stopped after a few dozen guesses, while a desk serving
real guests (who are found) never notices. Requests with a missing or
wrong key count per client address. Past a limit the answer is 429 with `Retry-After`.

Counters live in this process by default; with `MEMBEROPS_REDIS_URL` set they live in
Redis and every worker shares them. If Redis stops answering, the limiter falls back to
its in-process counters (logged) rather than refuse or fail every request. The windows
are moving windows (`limits.strategies.MovingWindowRateLimiter`): no burst at a window
edge. Defaults and how to change them: docs/api.md.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from memberops.errors import RateLimited

__all__ = [
    "DEFAULT_LIMITS",
    "LOOKUP_ROUTE",
    "RateLimits",
    "RequestLimiter",
]

logger = logging.getLogger("memberops.api")

LOOKUP_ROUTE = "GET /v1/members"


@dataclass(frozen=True)
class RateLimits:
    """Limits in `limits` notation ("10/second;120/minute"): all must hold."""

    default: str = "20/second;600/minute"  # per key, per route
    routes: dict[str, str] = field(
        default_factory=lambda: {
            LOOKUP_ROUTE: "5/second;120/minute",
            "POST /v1/orders": "10/second;300/minute",
            # Each runs the segment's query over every member: a few a second is plenty
            # for a live count, and keeps one key from saturating the database.
            "POST /v1/segments/preview": "3/second;120/minute",
            "POST /v1/segments/{segment_id}/materialise": "1/second;20/minute",
        }
    )
    # Lookups that match nobody, per key: a twelfth of the lookup budget, so a miss
    # weighs twelve found guests (OWASP API6, member enumeration).
    lookup_misses: str = "10/minute;60/hour"
    unauthenticated: str = "20/minute"  # per client address, for failed keys


DEFAULT_LIMITS = RateLimits()


class RequestLimiter:
    """Counts requests per (key, route) and refuses those beyond the limits."""

    def __init__(
        self,
        limits: RateLimits = DEFAULT_LIMITS,
        *,
        storage_url: str | None = None,
        key_prefix: str = "memberops",
    ) -> None:
        self.limits = limits
        self._local = MovingWindowRateLimiter(MemoryStorage())
        self._shared: MovingWindowRateLimiter | None = None
        if storage_url:
            storage = storage_from_string(storage_url, key_prefix=key_prefix)
            self._shared = MovingWindowRateLimiter(storage)
        self._default = parse_many(limits.default)
        self._routes = {route: parse_many(text) for route, text in limits.routes.items()}
        self._unauthenticated = parse_many(limits.unauthenticated)
        self._misses = parse_many(limits.lookup_misses)

    def _items(self, route: str) -> list[RateLimitItem]:
        return self._routes.get(route, self._default)

    def _run(self, items: list[RateLimitItem], identity: str, *, count: bool) -> float | None:
        """Count (or only test) one request against every item; the seconds to wait
        when one is exhausted, else None."""
        limiter = self._shared or self._local
        try:
            return self._run_with(limiter, items, identity, count=count)
        except Exception as exc:  # Redis down or slow: keep limiting, in this process
            if limiter is self._local:
                raise
            logger.warning("shared rate-limit store unavailable (%s)", type(exc).__name__)
            return self._run_with(self._local, items, identity, count=count)

    @staticmethod
    def _run_with(
        limiter: MovingWindowRateLimiter,
        items: list[RateLimitItem],
        identity: str,
        *,
        count: bool,
    ) -> float | None:
        for item in items:
            allowed = limiter.hit(item, identity) if count else limiter.test(item, identity)
            if not allowed:
                reset_at, _remaining = limiter.get_window_stats(item, identity)
                return max(1.0, reset_at - time.time())
        return None

    def check(self, key_id: str, route: str) -> None:
        """Count one request of `key_id` on `route`; RateLimited when over a limit.

        On the lookup route a key whose misses are used up is refused too.
        """
        wait = self._run(self._items(route), f"key:{key_id}:{route}", count=True)
        if wait is None and route == LOOKUP_ROUTE:
            wait = self._run(self._misses, f"miss:{key_id}", count=False)
        if wait is not None:
            raise RateLimited(
                "too many requests for this key on this route", retry_after_s=math.ceil(wait)
            )

    def record_miss(self, key_id: str) -> None:
        """A lookup by `key_id` matched nobody: count it against the miss budget."""
        self._run(self._misses, f"miss:{key_id}", count=True)

    def check_unauthenticated(self, client: str) -> None:
        """Count a request without a valid key from `client` (an address)."""
        wait = self._run(self._unauthenticated, f"anon:{client}", count=True)
        if wait is not None:
            raise RateLimited(
                "too many requests without a valid key", retry_after_s=math.ceil(wait)
            )
