"""Read model: the donor directory (寄附者名簿), one row per donor, for searching donors by
name, kana and postal code.

Inserted by the registration; each correction of the name, kana, postal code or address
rewrites the row (a correction of only the e-mail or `publish_name` leaves it alone). A page
of events is folded in memory: one INSERT of the donors it registers, one UPDATE per donor it
corrects (executemany), reading the corrected rows once by id.

| column                 | what it holds                                                    |
|------------------------|------------------------------------------------------------------|
| kind, name, kana, postal_code, address | as registered or last corrected                  |
| postal_digits          | the postal code's digits only (`6210806`), for prefix search     |
| search_text            | the name and the kana, each `ledger.kana.folded`, joined by a    |
|                        | line feed (a folded query has no white space, so it never        |
|                        | matches across the two)                                          |
| kana_sort_key          | the kana folded, its first 100 characters: the directory's order |
|                        | (by code point; bounded, so that it always fits a btree entry)   |
| registered_at_utc      | when the registration was recorded (naive, in UTC)               |
| last_changed_position  | the log position of the registration or last correction applied  |

Search (`search_donor_directory`): `text` is folded like the rows, so "やまだ", "ﾔﾏﾀﾞ" and
"ヤマダ" find ヤマダ and "山田" finds 山田; it matches a substring of the name or kana (`LIKE
'%…%'`, with `%`, `_` and the escape character in the input matched literally). No index
can find a substring: a search reads rows in kana order until it has a page, so a common
text is quick and a rare one reads the whole table. Bound, measured at 100,000 donors (far
beyond a community foundation's thousands): a text that matches nothing takes about 50 ms on
PostgreSQL (once analysed, its planner scans the table and sorts the few matches) and 70 ms
on SQLite. SQLite's planner always walks the kana index for the order, so there that index
also holds `search_text` (`donor_directory_by_kana_text`) and the walk never visits the
table (300 ms and more without). Beyond that scale, a trigram index (pg_trgm) is the next
step.

`postal_code` matches by digit prefix ("621", "621-08", "６２１０８０６") as the range
`postal_digits >= p AND postal_digits < p + ':'` (every digit sorts below ':'), which
`donor_directory_by_postal_code` serves on both databases.

Order and paging: by `kana_sort_key` then `donor_id`; the next page starts after the last
row's donor (`after`), at where that donor stands now (a donor whose kana is corrected between
two pages moves, and the pages follow it).

A correction of a donor the directory has never seen raises `EventNotApplicable`: the runner
stops with `ProjectionFailed`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.donor import Donor
from ledger.errors import InvalidInput
from ledger.kana import folded
from ledger.values import NAME_LENGTH_MAX
from projections import bulk
from projections.batch import EventNotApplicable, PositionedEvent, chunks
from projections.tables import metadata

NAME = "donor_directory"
PAGE_SIZE_MAX = 200
PAGE_SIZE_DEFAULT = 50
POSTAL_DIGITS_MAX = 7
POSTAL_CODE_LENGTH_MAX = 16  # of a search's postal code input, before its digits are taken
KANA_SORT_KEY_LENGTH_MAX = 100

# Byte order on both databases, so that an index serves ORDER BY and the prefix range.
_BINARY_TEXT = sa.String().with_variant(sa.String(collation="C"), "postgresql")

donor_directory = sa.Table(
    "donor_directory",
    metadata,
    sa.Column("donor_id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("kana", sa.String, nullable=False),
    sa.Column("postal_code", sa.String, nullable=False),
    sa.Column("postal_digits", _BINARY_TEXT, nullable=False),
    sa.Column("address", sa.String, nullable=False),
    sa.Column("search_text", sa.String, nullable=False),
    sa.Column("kana_sort_key", _BINARY_TEXT, nullable=False),
    sa.Column("registered_at_utc", sa.DateTime, nullable=False),
    sa.Column("last_changed_position", sa.BigInteger, nullable=False),
    # The order's index; on SQLite holding `search_text` too (see the module docstring).
    sa.Index("donor_directory_by_kana", "kana_sort_key", "donor_id").ddl_if(dialect="postgresql"),
    sa.Index("donor_directory_by_kana_text", "kana_sort_key", "donor_id", "search_text").ddl_if(
        dialect="sqlite"
    ),
    sa.Index("donor_directory_by_postal_code", "postal_digits"),
)


@dataclass(frozen=True)
class DirectoryEntry:
    donor_id: UUID
    kind: str
    name: str
    kana: str
    postal_code: str
    address: str


_DETAILS = ("name", "kana", "postal_code", "address")
_DERIVED = ("postal_digits", "search_text", "kana_sort_key")
_CHANGING_COLUMNS = (*_DETAILS, *_DERIVED, "last_changed_position")
_ENTRY_COLUMNS = [donor_directory.c[field.name] for field in fields(DirectoryEntry)]
_NOT_DIGITS = re.compile(r"[^0-9]")
_POSTAL_SEPARATORS = re.compile(r"[\s〒\-‐‑‒–—―−ー]")

Row = dict[str, Any]


class DonorDirectoryProjector:
    name = NAME
    tables: Sequence[sa.Table] = (donor_directory,)

    def apply_batch(self, connection: sa.Connection, events: Sequence[PositionedEvent]) -> None:
        """Fold the page into whole rows, in log order: donors registered in it are inserted
        as they end up; rows it changes are read once and written back once."""
        registered: dict[UUID, Row] = {}
        stored = _rows(connection, _corrected_donor_ids(events))
        changed: set[UUID] = set()
        for event, position in events:
            if isinstance(event, Donor.Registered):
                registered[event.originator_id] = _registered_row(event, position)
            elif isinstance(event, Donor.DetailsCorrected):
                donor_id = event.originator_id
                row = registered.get(donor_id) or stored.get(donor_id)
                if row is None:
                    raise EventNotApplicable(position, f"no donor {donor_id} was registered before")
                if _correct(row, event, position) and donor_id not in registered:
                    changed.add(donor_id)
        bulk.insert(connection, donor_directory, list(registered.values()))
        rows = [stored[donor_id] for donor_id in sorted(changed)]
        bulk.update(connection, donor_directory, rows, keys=("donor_id",), values=_CHANGING_COLUMNS)


def _corrected_donor_ids(events: Sequence[PositionedEvent]) -> list[UUID]:
    registered = {e.originator_id for e, _ in events if isinstance(e, Donor.Registered)}
    corrected = {e.originator_id for e, _ in events if isinstance(e, Donor.DetailsCorrected)}
    return sorted(corrected - registered)


def _rows(connection: sa.Connection, donor_ids: Sequence[UUID]) -> dict[UUID, Row]:
    found: dict[UUID, Row] = {}
    for some in chunks(donor_ids):
        query = sa.select(donor_directory).where(donor_directory.c.donor_id.in_(some))
        found.update((row["donor_id"], dict(row)) for row in connection.execute(query).mappings())
    return found


def _registered_row(event: Donor.Registered, position: int) -> Row:
    row: Row = {
        "donor_id": event.originator_id,
        "kind": event.kind,
        **{name: getattr(event, name) for name in _DETAILS},
        "registered_at_utc": event.timestamp.astimezone(UTC).replace(tzinfo=None),
        "last_changed_position": position,
    }
    _derive(row)
    return row


def _correct(row: Row, event: Donor.DetailsCorrected, position: int) -> bool:
    """Apply the correction's changes to the directory's columns; whether any changed."""
    changes = {k: v for k, v in event.changes.items() if k in _DETAILS}
    if not changes:
        return False
    row.update(changes)
    row["last_changed_position"] = position
    _derive(row)
    return True


def _derive(row: Row) -> None:
    """Set the search columns from the row's details."""
    row["postal_digits"] = _NOT_DIGITS.sub("", unicodedata.normalize("NFKC", row["postal_code"]))
    row["search_text"] = f"{folded(row['name'])}\n{folded(row['kana'])}"
    row["kana_sort_key"] = folded(row["kana"])[:KANA_SORT_KEY_LENGTH_MAX]


def search_donor_directory(
    engine: Engine,
    *,
    text: str | None,
    postal_code: str | None,
    after: UUID | None = None,
    page_size: int = PAGE_SIZE_DEFAULT,
) -> list[DirectoryEntry]:
    """Donors whose name or kana contains `text` and whose postal code starts with the digits
    of `postal_code`, both when given (None or blank: no condition; neither: every donor), in
    kana order, at most `page_size` (1–200): the next page starts after the last row's donor."""
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        raise InvalidInput("page_size", f"must be from 1 to {PAGE_SIZE_MAX}, got {page_size}")
    c = donor_directory.c
    conditions: list[sa.ColumnElement[bool]] = []
    needle = _search_needle(text)
    if needle:
        conditions.append(c.search_text.contains(needle, autoescape=True))
    prefix = _postal_prefix(postal_code)
    if prefix:
        conditions += [c.postal_digits >= prefix, c.postal_digits < prefix + ":"]
    with engine.connect() as connection:
        if after is not None:
            after_key = connection.scalar(sa.select(c.kana_sort_key).where(c.donor_id == after))
            if after_key is None:
                raise InvalidInput("after", f"no donor {after} in the directory")
            conditions.append(
                sa.or_(
                    c.kana_sort_key > after_key,
                    sa.and_(c.kana_sort_key == after_key, c.donor_id > after),
                )
            )
        query = (
            sa.select(*_ENTRY_COLUMNS)
            .where(*conditions)
            .order_by(c.kana_sort_key, c.donor_id)
            .limit(page_size)
        )
        return [DirectoryEntry(**row) for row in connection.execute(query).mappings()]


def directory_entry(engine: Engine, donor_id: UUID) -> DirectoryEntry | None:
    """The directory row of one donor; None when no such donor was registered."""
    query = sa.select(*_ENTRY_COLUMNS).where(donor_directory.c.donor_id == donor_id)
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return None if row is None else DirectoryEntry(**row)


def _search_needle(text: str | None) -> str:
    """`text` folded like `search_text` ("" for no condition); refused when too long."""
    if text is None:
        return ""
    if len(text) > NAME_LENGTH_MAX:
        raise InvalidInput("text", f"must be at most {NAME_LENGTH_MAX} characters, got {len(text)}")
    return folded(text)


def _postal_prefix(postal_code: str | None) -> str:
    """The digits `postal_code` starts with ("" for no condition): NFKC, then 〒, hyphens and
    spaces dropped; refused unless at most 7 ASCII digits remain."""
    if postal_code is None:
        return ""
    problem = "must be the start of a postal code, like 621, 621-08 or 621-0806"
    if len(postal_code) > POSTAL_CODE_LENGTH_MAX:
        raise InvalidInput("postal_code", problem)
    digits = _POSTAL_SEPARATORS.sub("", unicodedata.normalize("NFKC", postal_code))
    if len(digits) > POSTAL_DIGITS_MAX or _NOT_DIGITS.search(digits):
        raise InvalidInput("postal_code", problem)
    return digits
