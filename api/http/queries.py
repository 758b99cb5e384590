"""Lists the API serves straight from read-model tables: donors by name or kana, donations by
fund, donor and date. Paged by keyset (`after`), every page bounded."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from projections.donor_summaries import donor_summary_donations, donor_summary_donors

PAGE_SIZE_MAX = 500
PAGE_SIZE_DEFAULT = 100


def search_donors(
    engine: Engine, *, text: str | None, after: UUID | None, page_size: int
) -> list[dict[str, Any]]:
    """Donors whose name or kana contains `text` (all for None), ordered by id."""
    c = donor_summary_donors.c
    conditions: list[sa.ColumnElement[bool]] = []
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            sa.or_(c.name.like(pattern, escape="\\"), c.kana.like(pattern, escape="\\"))
        )
    if after is not None:
        conditions.append(c.donor_id > after)
    query = sa.select(donor_summary_donors).where(*conditions).order_by(c.donor_id).limit(page_size)
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]


@dataclass(frozen=True)
class DonationFilter:
    fund_id: UUID | None = None
    donor_id: UUID | None = None
    effective_from: date | None = None
    effective_to: date | None = None


def list_donations(
    engine: Engine, where: DonationFilter, *, after: UUID | None, page_size: int
) -> list[dict[str, Any]]:
    """Donations matching every given condition (dates inclusive), ordered by id."""
    c = donor_summary_donations.c
    conditions: list[sa.ColumnElement[bool]] = []
    for name, value in asdict(where).items():
        if value is None:
            continue
        if name == "effective_from":
            conditions.append(c.effective_on >= value)
        elif name == "effective_to":
            conditions.append(c.effective_on <= value)
        else:
            conditions.append(c[name] == value)
    if after is not None:
        conditions.append(c.donation_id > after)
    query = (
        sa.select(donor_summary_donations)
        .where(*conditions)
        .order_by(c.donation_id)
        .limit(page_size)
    )
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query).mappings()]
