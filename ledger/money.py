"""Money is integer yen: one constructor, bounds, and the host-fee arithmetic (BRIEF rules 2 and 5).

The yen has no minor unit, so amounts are plain `int`. `amount_yen()` is the only way an
amount enters the domain: it refuses `bool`, `float`, `Decimal`, strings, zero, negatives
and anything above `AMOUNT_YEN_MAX`.
"""

from __future__ import annotations

from ledger.errors import InvalidInput

AMOUNT_YEN_MAX = (
    10_000_000_000  # 100億円: far above any single donation or grant of a community fund
)
TARGET_YEN_MAX = 1_000_000_000_000  # 1兆円
FEE_RATE_BP_MAX = 5_000  # 50%; community foundations take 3–25%
BASIS_POINTS_PER_UNIT = 10_000


def _whole_number(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, f"must be a whole number of yen, not {type(value).__name__}")
    return value


def amount_yen(value: object, field: str = "amount_yen") -> int:
    """Return `value` as a positive, bounded amount of yen, or raise `InvalidInput`."""
    amount = _whole_number(value, field)
    if amount < 1:
        raise InvalidInput(field, f"must be at least 1 yen, got {amount}")
    if amount > AMOUNT_YEN_MAX:
        raise InvalidInput(field, f"must be at most {AMOUNT_YEN_MAX:,} yen, got {amount:,}")
    return amount


def target_yen(value: object, field: str = "target_yen") -> int:
    amount = _whole_number(value, field)
    if not 1 <= amount <= TARGET_YEN_MAX:
        raise InvalidInput(field, f"must be between 1 and {TARGET_YEN_MAX:,} yen, got {amount:,}")
    return amount


def fee_rate_bp(value: object, field: str = "fee_rate_bp") -> int:
    """Return a host-fee rate in basis points (1 bp = 0.01%), 0 to `FEE_RATE_BP_MAX`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(
            field, f"must be a whole number of basis points, not {type(value).__name__}"
        )
    if not 0 <= value <= FEE_RATE_BP_MAX:
        raise InvalidInput(
            field, f"must be between 0 and {FEE_RATE_BP_MAX} basis points, got {value}"
        )
    return value


def host_fee_yen(amount: int, rate_bp: int) -> int:
    """BRIEF rule 5: `floor(amount × rate_bp / 10000)`."""
    return amount * rate_bp // BASIS_POINTS_PER_UNIT


def fee_returned_yen(
    *, fee: int, amount: int, refunded_total: int, fee_returned_before: int
) -> int:
    """The fee given back by a refund that brings the donation's refunded total to `refunded_total`.

    Computed cumulatively (`floor(fee × refunded_total / amount)` minus what was already given
    back), so partial refunds never drift and a full refund returns exactly the whole fee.
    """
    assert 0 < refunded_total <= amount, "refund bounds are checked by the donation"
    return fee * refunded_total // amount - fee_returned_before


def format_yen(amount: int) -> str:
    """`12345` → `¥12,345` (for messages; receipts add their own trailing `-`)."""
    return f"¥{amount:,}"
