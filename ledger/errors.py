"""The ledger's exception tree.

Every error a caller can cause derives from `LedgerError`. Each class carries a stable
`code` (used as the tail of the API's problem `type`) and a one-line message fit for a
person. Programmer errors are assertions, never these.

    LedgerError
    ├── InvalidInput            malformed or out-of-bounds input
    ├── NotFound                an id that names nothing
    ├── RuleViolation           a ledger rule would be broken
    │   ├── Overdraft           BRIEF rule 4: cash or available would go below zero
    │   ├── RefundExceedsDonation
    │   ├── DonationAlreadyVoided / DonationPartlyRefunded
    │   ├── GrantLimitExceeded  disbursement, reduction or return beyond what the grant allows
    │   ├── UnknownDesignation / DuplicateDesignation
    │   ├── DateOutOfOrder      an effective date before the thing it refers to
    │   └── BooksClosed         an effective date in a period whose books are closed
    ├── IdempotencyKeyReused    the same key with different content
    ├── ConcurrencyConflict     still conflicting after the bounded retries
    ├── ConfigurationError      settings that cannot work
    ├── StorageError            the database failed or refused
    └── UnreadableEvent         a stored event that cannot be decoded (see ledger.store.mapper)
"""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose."""

    code = "ledger-error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(LedgerError):
    code = "invalid-input"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class NotFound(LedgerError):
    code = "not-found"


class RuleViolation(LedgerError):
    code = "rule-violation"


class Overdraft(RuleViolation):
    code = "overdraft"


class RefundExceedsDonation(RuleViolation):
    code = "refund-exceeds-donation"


class DonationAlreadyVoided(RuleViolation):
    code = "donation-voided"


class DonationPartlyRefunded(RuleViolation):
    code = "donation-refunded"


class GrantLimitExceeded(RuleViolation):
    code = "grant-limit-exceeded"


class UnknownDesignation(RuleViolation):
    code = "unknown-designation"


class DuplicateDesignation(RuleViolation):
    code = "duplicate-designation"


class DateOutOfOrder(RuleViolation):
    code = "date-out-of-order"


class BooksClosed(RuleViolation):
    """BRIEF rule 7: a late entry or correction posts in an open period, never a closed one."""

    code = "books-closed"


class IdempotencyKeyReused(LedgerError):
    code = "idempotency-key-reused"


class ConcurrencyConflict(LedgerError):
    code = "concurrency-conflict"


class BatchRejected(LedgerError):
    """One command of a batch was refused, so the whole batch recorded nothing."""

    def __init__(self, index: int, cause: LedgerError) -> None:
        super().__init__(f"command {index + 1}: {cause.message}")
        self.index = index
        self.cause = cause
        self.code = cause.code


class BatchTooLarge(LedgerError):
    code = "batch-too-large"


class ConfigurationError(LedgerError):
    code = "configuration-error"


class StorageError(LedgerError):
    code = "storage-error"


class UnreadableEvent(LedgerError):
    """A stored event that cannot be decoded: an unknown type, a malformed id or state.

    The ledger never writes one, so it was written or changed behind the application's
    back (or by a version of this code that knew types this one does not). `position` is
    its place in the log, None when it was read as one of an aggregate's events."""

    code = "unreadable-event"

    def __init__(self, message: str, position: int | None) -> None:
        super().__init__(message)
        self.position = position


class ImportRejected(LedgerError):
    """A file of donations to import has problems: nothing was recorded.

    `problems` holds `(line, code, message)` per problem, by line (line 1 is the header)."""

    code = "import-rejected"

    def __init__(self, message: str, problems: tuple[tuple[int, str, str], ...]) -> None:
        super().__init__(message)
        self.problems = problems


class ImportTooLarge(LedgerError):
    """A file to import exceeds its size or row bound."""

    code = "import-too-large"


class ReceiptAlreadyIssued(RuleViolation):
    """The donation (or the donor's year) is covered by a valid receipt: reprint that one."""

    code = "receipt-already-issued"


class ReceiptVoided(RuleViolation):
    code = "receipt-voided"


class NothingToReceipt(RuleViolation):
    """A voided or fully refunded donation, or a year without donations: no receipt."""

    code = "nothing-to-receipt"
