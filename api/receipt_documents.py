"""The issued receipts' PDF bytes, kept by their sha256 (content-addressed).

`Receipt.Issued` and `Receipt.Reprinted` record the sha256 of the document they issued; the
bytes live here, in `receipt_documents` (sha256 → bytes), beside the events. A printer keeps
the bytes *before* the event is saved (see `ledger.receipt`), so:
- every recorded digest has its document; a re-download returns those exact bytes, whatever
  the templates have become since;
- a crash, a refused write or a retried conflict between the two leaves only a document that
  no event names: harmless, and listed by `unreferenced` for anyone who wants to prune;
- a document altered behind the application's back no longer hashes to its key: `fetch`
  refuses to return it (`StorageError`), so a changed receipt is never handed out.

This table is not a read model: it cannot be rebuilt from the log, and `rebuild` never
touches it. It is created where missing by `ensure_table` (idempotent).
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.utils import get_topic
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from ledger.errors import NotFound, StorageError
from ledger.receipt import Receipt
from ledger.service import FundLedger
from projections.database import WRITE_OPTIONS, is_postgres

DOCUMENT_BYTES_MAX = 20 * 1024 * 1024
PAGE_SIZE = 1_000

documents_metadata = sa.MetaData()
receipt_documents = sa.Table(
    "receipt_documents",
    documents_metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("pdf", sa.LargeBinary, nullable=False),
)
_ENSURED: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines whose table is known to exist


def sha256_of(document: bytes) -> str:
    return hashlib.sha256(document).hexdigest()


def ensure_table(engine: Engine) -> None:
    """Create `receipt_documents` where missing (checked once per engine)."""
    if engine in _ENSURED:
        return
    try:
        documents_metadata.create_all(engine, checkfirst=True)
    except sa.exc.DatabaseError:
        # Another process created it at the same moment: fine if it is there now.
        if not sa.inspect(engine).has_table(receipt_documents.name):
            raise
    _ENSURED.add(engine)


def keep(engine: Engine, documents: Iterable[bytes]) -> list[str]:
    """Store the documents (those already kept are left as they are); their sha256s."""
    rows: list[dict[str, Any]] = []
    for document in documents:
        if len(document) > DOCUMENT_BYTES_MAX:
            raise StorageError(f"a receipt of {len(document):,} bytes is too large to keep")
        rows.append({"sha256": sha256_of(document), "size_bytes": len(document), "pdf": document})
    if rows:
        ensure_table(engine)
        insert = postgresql.insert if is_postgres(engine) else sqlite.insert
        statement = insert(receipt_documents).on_conflict_do_nothing(
            index_elements=[receipt_documents.c.sha256]
        )
        with engine.connect() as connection:
            connection.execution_options(**WRITE_OPTIONS)
            with connection.begin():
                connection.execute(statement, rows)
    return [row["sha256"] for row in rows]


def fetch(engine: Engine, sha256: str) -> bytes:
    """The document with this sha256, checked against it."""
    ensure_table(engine)
    document = _stored(engine, sha256)
    if document is None:
        raise NotFound(f"no kept document with sha256 {sha256}")
    if sha256_of(document) != sha256:
        raise StorageError(f"the kept document {sha256[:12]}… was altered: it is not handed out")
    return document


def unreferenced(engine: Engine, referenced: Sequence[str]) -> list[str]:
    """The kept documents no receipt event names (left by a crash or a retried write)."""
    ensure_table(engine)
    with engine.connect() as connection:
        kept: set[str] = set(connection.scalars(sa.select(receipt_documents.c.sha256)))
    return sorted(kept - set(referenced))


def issued_documents(ledger: FundLedger, engine: Engine) -> Iterator[tuple[str, str, bytes]]:
    """For `verify --all` (`api.audit.receipts.ReceiptSource`): every document a receipt event
    recorded — `(number, sha256 from the event, the stored bytes as they are)`, empty bytes
    when none are stored — in log order, unchecked (the caller hashes them)."""
    ensure_table(engine)
    topics = [get_topic(Receipt.Issued), get_topic(Receipt.Reprinted)]
    numbers: dict[UUID, str] = {}
    start = 1
    while True:
        page = ledger.recorder.select_notifications(start, PAGE_SIZE, topics=topics)
        for notification in page:
            event = ledger.mapper.to_domain_event(notification)
            assert isinstance(event, Receipt.Issued | Receipt.Reprinted), type(event)
            if isinstance(event, Receipt.Issued):
                numbers[event.originator_id] = event.number
            number = numbers.get(event.originator_id, str(event.originator_id))
            yield number, event.sha256, _stored(engine, event.sha256) or b""
        if len(page) < PAGE_SIZE:
            return
        start = page[-1].id + 1


def _stored(engine: Engine, sha256: str) -> bytes | None:
    query = sa.select(receipt_documents.c.pdf).where(receipt_documents.c.sha256 == sha256)
    with engine.connect() as connection:
        document = connection.scalar(query)
    return None if document is None else bytes(document)
