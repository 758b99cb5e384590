"""Idempotency claims: the record that an idempotency key was used, and for what.

A command that creates an aggregate (a fund, a donor, a donation, a grant) uses the key's
deterministic id as the new aggregate's id, so the creation itself is the claim. A command on
an existing aggregate (refund, disbursement, …) saves an `IdempotencyClaim` beside its event,
in the same atomic write. Either way a second use of the key collides on the id.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate

_KEY_NAMESPACE = uuid5(NAMESPACE_URL, "urn:fund-ledger:idempotency-key")


# A command's key is turned into its id twice (the new aggregate's id, the position it
# reports), and uuid5 costs about a twentieth of a batched donation: remember recent ones.
@lru_cache(maxsize=1024)
def claim_id(idempotency_key: str) -> UUID:
    return uuid5(_KEY_NAMESPACE, idempotency_key)


class IdempotencyClaim(LedgerAggregate):
    class Claimed(LedgerAggregate.Created):
        idempotency_key: str
        request_fingerprint: str
        outcome: dict[str, Any]

    @event(Claimed)
    def __init__(
        self, id: UUID, idempotency_key: str, request_fingerprint: str, outcome: dict[str, Any]
    ) -> None:
        self.idempotency_key = idempotency_key
        self.request_fingerprint = request_fingerprint
        self.outcome = outcome
