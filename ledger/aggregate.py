"""The base of the ledger's aggregates: the library's `Aggregate` with a cheap, exact copy.

The application service copies every aggregate it loads from the cache before changing it
(so a failed command never corrupts the cache). The library uses `copy.deepcopy`, which walks
every object generically; our aggregates hold only immutable values (str, int, bool, date,
UUID, None) and dicts or lists of them, so copying just the containers is an exact copy at a
fraction of the cost. `tests/unit/test_aggregate_copy.py` holds every aggregate to that.
"""

from __future__ import annotations

from typing import Any, Self

from eventsourcing.domain import Aggregate


class LedgerAggregate(Aggregate):
    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        copied = object.__new__(type(self))
        copied.__dict__.update({name: _copy(value) for name, value in self.__dict__.items()})
        return copied


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value
