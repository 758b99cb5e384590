"""Events are hash-chained over their stored bytes, and idempotency keys are matched by the
request fingerprint's bytes: the faster encoders (orjson) must write exactly what the `json`
module wrote, for anything, or fail as it failed."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Any

from eventsourcing.persistence import JSONTranscoder
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import commands as c
from ledger.service import DateAsISO, FundLedger
from ledger.store.transcoder import FastJSONTranscoder


class Colour(StrEnum):
    RED = "赤"


class Level(IntEnum):
    HIGH = 3


def _library_transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).register_transcodings(transcoder)
    return transcoder


LIBRARY = _library_transcoder()
FAST = FastJSONTranscoder()
for _transcoding in LIBRARY.types.values():
    FAST.register(_transcoding)

texts = st.text(st.characters(exclude_categories=()))  # every code point, lone surrogates too
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.integers(),  # beyond 64 bits too
    st.floats(),  # NaN and infinities too
    texts,
    st.uuids(),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=9)), None])),
    st.decimals(allow_nan=False),
    st.sampled_from([Colour.RED, Level.HIGH, object()]),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(texts, inner, max_size=4),
        st.dictionaries(st.integers(), inner, max_size=2),
    ),
    max_leaves=20,
)


def _outcome(encode: Any, document: object) -> tuple[str, object]:
    try:
        return ("bytes", encode(document))
    except Exception as error:
        return ("error", type(error))


@settings(max_examples=1_000)  # cheap, and the chain depends on every byte
@given(documents)
def test_events_are_encoded_to_the_bytes_the_library_wrote(document: object) -> None:
    assert _outcome(FAST.encode, document) == _outcome(LIBRARY.encode, document)


def test_a_donation_event_is_stored_as_the_library_stored_it() -> None:
    state = {
        "timestamp": datetime(2026, 11, 29, 9, 7, 33, 852271, tzinfo=UTC),
        "originator_topic": "ledger.donation:Donation",
        "fund_id": uuid.UUID(int=1),
        "counterparty": '亀岡 太郎\n"東\\',
        "designation": None,
        "amount_yen": 9_999_999,
        "effective_on": date(2026, 11, 29),
        "amounts": {"fee_yen": 300, "ids": [uuid.UUID(int=2)]},
        "total": Decimal("1.50"),
    }
    assert FAST.encode(state) == LIBRARY.encode(state)
    assert LIBRARY.decode(FAST.encode(state)) == state


def test_the_ledger_encodes_with_the_fast_transcoder() -> None:
    ledger = FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    assert isinstance(ledger.mapper.transcoder, FastJSONTranscoder)
    assert any(isinstance(t, DateAsISO) for t in ledger.mapper.transcoder.types.values())


# The fingerprint: its documents are what `_plain` makes of command fields.
fingerprint_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), texts, st.uuids(), st.dates()),
    lambda inner: st.dictionaries(st.one_of(texts, st.integers()), inner, max_size=3),
    max_leaves=10,
)


def _canonical_as_documented(document: object) -> bytes:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


@settings(max_examples=1_000)
@given(st.dictionaries(texts, fingerprint_values, max_size=5))
def test_request_fingerprints_are_the_documented_canonical_json(fields: dict[str, Any]) -> None:
    content = {name: c._plain(value) for name, value in fields.items()}
    document = ["record_donation", content]
    assert _outcome(c._canonical_json, document) == _outcome(_canonical_as_documented, document)


def test_a_donation_fingerprint_is_unchanged() -> None:
    command = c.RecordDonation(
        idempotency_key="k-1",
        fund_id=uuid.UUID(int=1),
        donor_id=uuid.UUID(int=2),
        amount_yen=10_000,
        method="bank_transfer",
        effective_on=date(2026, 4, 1),
        external_reference="振込 0001",
    )
    content = {
        "fund_id": uuid.UUID(int=1).hex,
        "donor_id": uuid.UUID(int=2).hex,
        "amount_yen": 10_000,
        "effective_on": "2026-04-01",
        "method": "bank_transfer",
        "designation": None,
        "external_reference": "振込 0001",
        "reason": None,
    }
    canonical = _canonical_as_documented(["record_donation", content])
    assert c.request_fingerprint(command) == hashlib.sha256(canonical).hexdigest()
