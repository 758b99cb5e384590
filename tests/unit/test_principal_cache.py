"""The API's memory of valid tokens (`api.http.principals`): how long, for which tokens, and
how many."""

from __future__ import annotations

from api.http.principals import PrincipalCache
from api.tokens import Principal, Role

AUDITOR = Principal("tok-1", "監事 佐藤", Role.AUDITOR, None)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_valid_token_is_remembered_until_its_time_is_up() -> None:
    clock = Clock()
    cache = PrincipalCache(1.0, clock=clock)
    cache.put("fl_secret", AUDITOR)

    clock.now += 0.999
    remembered = cache.get("fl_secret")
    clock.now += 0.001
    forgotten = cache.get("fl_secret")

    assert remembered == AUDITOR
    assert forgotten is None


def test_only_the_same_token_finds_the_principal() -> None:
    cache = PrincipalCache(1.0, clock=Clock())
    cache.put("fl_secret", AUDITOR)

    assert cache.get("fl_secreT") is None
    assert cache.get("fl_secret ") is None


def test_a_zero_time_remembers_nothing() -> None:
    cache = PrincipalCache(0.0, clock=Clock())
    cache.put("fl_secret", AUDITOR)

    assert cache.get("fl_secret") is None


def test_the_cache_keeps_digests_not_tokens() -> None:
    cache = PrincipalCache(1.0, clock=Clock())
    cache.put("fl_secret", AUDITOR)

    assert "fl_secret" not in repr(vars(cache))


def test_a_full_cache_drops_expired_entries_then_the_oldest() -> None:
    clock = Clock()
    cache = PrincipalCache(1.0, size_max=3, clock=clock)
    cache.put("fl_a", AUDITOR)
    clock.now += 0.5
    cache.put("fl_b", AUDITOR)
    cache.put("fl_c", AUDITOR)
    clock.now += 0.6  # fl_a has expired, fl_b and fl_c have not

    cache.put("fl_d", AUDITOR)  # room made by dropping the expired fl_a
    cache.put("fl_e", AUDITOR)  # all fresh: the oldest, fl_b, goes

    assert [cache.get(t) is not None for t in ("fl_a", "fl_b", "fl_c", "fl_d", "fl_e")] == [
        False,
        False,
        True,
        True,
        True,
    ]
