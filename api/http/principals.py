"""Who a bearer token belongs to, remembered for a moment so most requests skip the lookup.

Every request names its token, and looking it up costs a database round trip and, worse, a
hand-off to the thread pool (the lookup blocks) before the route's own hand-off: on a
two-core machine that was about a quarter of a balance read's time (`bench.api`). A token
found valid is remembered for `ttl_s` (`FUND_LEDGER_TOKEN_CACHE_S`, one second by default),
so a revoked token is refused at most that long after `fund-ledger token revoke`; 0 looks
every token up on every request.

Only valid tokens are remembered: an unknown or revoked one is looked up every time, so a
token created a moment ago works at once, and guessing cannot fill the cache. Entries are
keyed by the token's SHA-256 (`api.tokens.token_digest`, as the table stores it), never the
token itself, and there are at most `size_max` of them. The cache is touched only on the
event loop's thread (the route dependency that uses it is `async`), so it needs no lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from api.tokens import Principal, token_digest

SIZE_MAX = 1_024


class PrincipalCache:
    def __init__(
        self,
        ttl_s: float,
        *,
        size_max: int = SIZE_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self._size_max = size_max
        self._clock = clock
        self._entries: dict[str, tuple[float, Principal]] = {}  # digest → (expiry, principal)

    def get(self, token: str) -> Principal | None:
        """The principal remembered for `token`, if it was found valid less than `ttl_s` ago."""
        if self.ttl_s <= 0:
            return None
        digest = token_digest(token)
        entry = self._entries.get(digest)
        if entry is None:
            return None
        expires_at, principal = entry
        if self._clock() >= expires_at:
            del self._entries[digest]
            return None
        return principal

    def put(self, token: str, principal: Principal) -> None:
        """Remember that `token` was just found valid, as `principal`."""
        if self.ttl_s <= 0:
            return
        now = self._clock()
        if len(self._entries) >= self._size_max:
            self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
            while len(self._entries) >= self._size_max:  # all fresh: drop the oldest
                del self._entries[next(iter(self._entries))]
        self._entries[token_digest(token)] = (now + self.ttl_s, principal)
