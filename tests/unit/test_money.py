"""BRIEF rules 2 and 5: money is bounded integer yen; the host fee is floored and given back
pro rata, cumulatively, so partial refunds never drift from the whole fee."""

from __future__ import annotations

import itertools
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import InvalidInput
from ledger.money import (
    amount_yen,
    fee_rate_bp,
    fee_returned_yen,
    format_yen,
    host_fee_yen,
    target_yen,
)

AMOUNT_MAX = 10_000_000_000  # 100億円, the documented bound
NOT_WHOLE_YEN = [True, False, 1.0, 1.5, Decimal("1"), "1", None, Fraction(1)]


@pytest.mark.parametrize("value", NOT_WHOLE_YEN, ids=repr)
def test_amount_that_is_not_an_int_is_rejected(value: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        amount_yen(value)
    assert raised.value.field == "amount_yen"


@pytest.mark.parametrize("value", [0, -1, -AMOUNT_MAX, AMOUNT_MAX + 1])
def test_amount_outside_one_yen_to_the_maximum_is_rejected(value: int) -> None:
    with pytest.raises(InvalidInput):
        amount_yen(value)


@pytest.mark.parametrize("value", [1, 33, 9_999_999, AMOUNT_MAX])
def test_amount_from_one_yen_up_to_exactly_the_maximum_is_accepted(value: int) -> None:
    assert amount_yen(value) == value


def test_amount_error_names_the_field_it_was_given() -> None:
    with pytest.raises(InvalidInput) as raised:
        amount_yen(0, "refund_yen")
    assert raised.value.field == "refund_yen"


@pytest.mark.parametrize("value", [0, 1, 333, 350, 5000])
def test_fee_rate_from_zero_to_fifty_percent_is_accepted(value: int) -> None:
    assert fee_rate_bp(value) == value


@pytest.mark.parametrize("value", [-1, 5001, True, 350.0, Decimal("350"), "350", None], ids=repr)
def test_fee_rate_outside_bounds_or_not_an_int_is_rejected(value: object) -> None:
    with pytest.raises(InvalidInput):
        fee_rate_bp(value)


@pytest.mark.parametrize("value", [0, -1, 1_000_000_000_001, True, 1.0])
def test_target_outside_bounds_or_not_an_int_is_rejected(value: object) -> None:
    with pytest.raises(InvalidInput):
        target_yen(value)


@pytest.mark.parametrize("value", [1, 1_000_000_000_000])
def test_target_at_its_bounds_is_accepted(value: int) -> None:
    assert target_yen(value) == value


# Worked by hand: floor(amount × rate / 10000).
FEE_TABLE = [
    (1, 0, 0),
    (1, 1, 0),
    (1, 333, 0),
    (1, 350, 0),
    (1, 5000, 0),
    (33, 0, 0),
    (33, 1, 0),
    (33, 333, 1),  # 1.0989
    (33, 350, 1),  # 1.155
    (33, 5000, 16),  # 16.5
    (9_999_999, 0, 0),
    (9_999_999, 1, 999),  # 999.9999
    (9_999_999, 333, 332_999),  # 332,999.9667
    (9_999_999, 350, 349_999),  # 349,999.965
    (9_999_999, 5000, 4_999_999),  # 4,999,999.5
    (10_000, 350, 350),
    (AMOUNT_MAX, 5000, 5_000_000_000),
]


@pytest.mark.parametrize(("amount", "rate", "fee"), FEE_TABLE)
def test_host_fee_is_floored(amount: int, rate: int, fee: int) -> None:
    assert host_fee_yen(amount, rate) == fee


def test_full_refund_in_one_go_returns_the_whole_fee() -> None:
    assert (
        fee_returned_yen(
            fee=349_999, amount=9_999_999, refunded_total=9_999_999, fee_returned_before=0
        )
        == 349_999
    )


def test_partial_refund_returns_the_floored_share_of_the_fee() -> None:
    # fee 16 of 33 yen; refunding 1 yen gives back floor(16 × 1 / 33) = 0, 2 → 0, 3 → 1
    assert fee_returned_yen(fee=16, amount=33, refunded_total=1, fee_returned_before=0) == 0
    assert fee_returned_yen(fee=16, amount=33, refunded_total=3, fee_returned_before=0) == 1


@st.composite
def refund_sequences(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    """An amount, a fee rate, and partial refunds that add up to exactly the amount."""
    amount = draw(st.one_of(st.integers(1, 100), st.integers(1, AMOUNT_MAX)))
    rate = draw(st.one_of(st.sampled_from([0, 1, 333, 350, 5000]), st.integers(0, 5000)))
    cut_count = min(amount - 1, 12)
    cuts = (
        draw(st.lists(st.integers(1, amount - 1), unique=True, max_size=cut_count))
        if cut_count
        else []
    )
    points = [0, *sorted(cuts), amount]
    return amount, rate, [b - a for a, b in itertools.pairwise(points)]


@given(refund_sequences())
def test_partial_refunds_adding_up_to_the_whole_return_exactly_the_whole_fee(
    case: tuple[int, int, list[int]],
) -> None:
    amount, rate, parts = case
    fee = amount * rate // 10_000
    returned = 0
    refunded = 0
    for part in parts:
        refunded += part
        back = fee_returned_yen(
            fee=fee, amount=amount, refunded_total=refunded, fee_returned_before=returned
        )
        assert back >= 0
        returned += back
        assert returned == fee * refunded // amount  # never drifts from the cumulative share
    assert returned == fee


@pytest.mark.parametrize(
    ("amount", "text"), [(1, "¥1"), (12_345, "¥12,345"), (AMOUNT_MAX, "¥10,000,000,000")]
)
def test_yen_is_formatted_with_a_comma_every_three_digits(amount: int, text: str) -> None:
    assert format_yen(amount) == text
