"""The journal search (電子帳簿保存法): postings by fund, effective-date range, amount range and
counterparty (exact), combined as given, in log order, a page at a time, as `GET /v1/journal`
serves them; and the whole matching journal as the auditor's CSV (`export journal --format
csv`), streamed a page at a time.

A query value that cannot be read (a bad date, an amount that is not a number) answers the
page with a Japanese message next to its field, status 422, and no results.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StrictStr
from sqlalchemy.engine import Engine

from api.audit.accounts import japanese_name
from api.audit.csv_export import COLUMNS, rows
from api.audit.entries import PositionedEntry
from api.audit.times import JAPAN
from api.console.forms import FormErrors, parse
from api.console.messages import FIELD_LABELS_JA
from api.console.pages.dashboard import KINDS_JA
from api.console.routing import ConsoleRoute, PositionQuery, Staff, services_of
from api.console.web import CONSOLE_PREFIX, render
from ledger.journal import JournalEntry, Posting, Side
from ledger.money import AMOUNT_YEN_MAX
from projections.fund_balances import fund_balances
from projections.journal_entries import (
    PAGE_SIZE_MAX,
    PostingRow,
    journal_postings,
    search_journal,
)

router = APIRouter(prefix=CONSOLE_PREFIX, route_class=ConsoleRoute, include_in_schema=False)

PAGE_SIZE = 100
CSV_PAGE_SIZE = PAGE_SIZE_MAX
COUNTERPARTY_LENGTH_MAX = 200
UTF8_BOM = "\ufeff"
PostingIndex = Annotated[int | None, Query(ge=0, le=1000)]
# The query's names (as `GET /v1/journal` and the form have them) → the filters' fields.
FIELDS = {
    "fund_id": "fund_id",
    "from": "effective_from",
    "to": "effective_to",
    "amount_min": "amount_min_yen",
    "amount_max": "amount_max_yen",
    "counterparty": "counterparty",
}
LABELS_JA = {
    **FIELD_LABELS_JA,
    "from": "取引年月日（から）",
    "to": "取引年月日（まで）",
    "amount_min": "金額（円）の下限",
    "amount_max": "金額（円）の上限",
    "counterparty": "取引先",
}
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_day(value: object) -> object:
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


IsoDay = Annotated[date, BeforeValidator(_iso_day)]
AmountBound = Annotated[StrictInt, Field(ge=0, le=AMOUNT_YEN_MAX)]


class JournalFilters(BaseModel):
    """The search's conditions, bounded as `GET /v1/journal` bounds them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fund_id: UUID | None = None
    effective_from: IsoDay | None = None
    effective_to: IsoDay | None = None
    amount_min_yen: AmountBound | None = None
    amount_max_yen: AmountBound | None = None
    counterparty: Annotated[StrictStr, Field(max_length=COUNTERPARTY_LENGTH_MAX)] | None = None


def read_filters(values: Mapping[str, str]) -> tuple[JournalFilters | None, FormErrors]:
    """The query's values as filters, or the Japanese message of each field that is wrong."""
    fields = {
        FIELDS[name]: (text if name == "counterparty" else unicodedata.normalize("NFKC", text))
        for name, text in values.items()
    }
    parsed = parse(JournalFilters, fields, amounts=("amount_min_yen", "amount_max_yen"))
    to_form = {field: name for name, field in FIELDS.items()}
    errors = FormErrors(problem_type=parsed.errors.problem_type)
    errors.general.extend(parsed.errors.general)
    for field, message in parsed.errors.by_field.items():
        errors.add(to_form.get(field), message)
    filters = parsed.model
    if filters is not None:
        if _reversed(filters.effective_from, filters.effective_to):
            errors.add("to", "「から」と同じか後の日付を入力してください。")
        if _reversed(filters.amount_min_yen, filters.amount_max_yen):
            errors.add("amount_max", "下限以上の金額を入力してください。")
    return (None if errors else filters), errors


def _reversed(low: Any, high: Any) -> bool:
    return low is not None and high is not None and low > high


def _query_values(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "")[:1_000] for name in FIELDS}


def _search(
    engine: Engine, filters: JournalFilters, after: tuple[int, int | None], page_size: int
) -> list[PostingRow]:
    return search_journal(
        engine,
        fund_id=filters.fund_id,
        effective_from=filters.effective_from,
        effective_to=filters.effective_to,
        amount_min=filters.amount_min_yen,
        amount_max=filters.amount_max_yen,
        counterparty=filters.counterparty,
        after_position=after[0],
        after_posting_index=after[1],
        page_size=page_size,
    )


@router.get("/journal")
def search(
    request: Request,
    staff: Staff,
    after_position: PositionQuery = None,
    after_posting: PostingIndex = None,
    position: PositionQuery = None,
) -> Response:
    services = services_of(request)
    services.wait_for(position)
    values = _query_values(request)
    filters, errors = read_filters(values)
    found: list[PostingRow] = []
    next_page = None
    if filters is not None:
        after = (after_position or 0, after_posting)
        found = _search(services.engine, filters, after, PAGE_SIZE)
        if len(found) == PAGE_SIZE:
            last = {"after_position": found[-1].position, "after_posting": found[-1].posting_index}
            next_page = f"{CONSOLE_PREFIX}/journal?{_query(values, **last)}"
    return render(
        request,
        "journal.html",
        staff,
        status_code=422 if errors else 200,
        values=values,
        errors=errors,
        labels=LABELS_JA,
        funds=[(str(f.fund_id), f.name) for f in fund_balances(services.engine)],
        postings=found,
        continued=after_position is not None,
        next_page=next_page,
        csv_link=f"{CONSOLE_PREFIX}/journal.csv?{_query(values)}",
        kinds_ja=KINDS_JA,
        account_ja=japanese_name,
        lag=services.lag(),
    )


def _query(values: Mapping[str, str], **more: int) -> str:
    return urlencode({**{k: v for k, v in values.items() if v.strip()}, **more})


@router.get("/journal.csv")
def download(request: Request, staff: Staff, position: PositionQuery = None) -> Response:
    """Every matching posting as the auditor's CSV export writes it (UTF-8 with BOM)."""
    services = services_of(request)
    services.wait_for(position)
    filters, _ = read_filters(_query_values(request))
    if filters is None:  # the search page says which value is wrong
        return search(request, staff)
    engine = services.engine
    fund_names = {f.fund_id: f.name for f in fund_balances(engine)}
    chunks = csv_chunks(engine, filters, fund_names, _last_position(engine))
    stamp = datetime.now(JAPAN).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="journal-{stamp}.csv"'},
    )


def csv_chunks(
    engine: Engine, filters: JournalFilters, fund_names: Mapping[UUID, str], last_position: int
) -> Iterator[bytes]:
    """The CSV's bytes, a page of postings at a time: the BOM and header, then the rows of
    `api.audit.csv_export` for the postings matching `filters` up to `last_position`."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield (UTF8_BOM + text.getvalue()).encode("utf-8")
    for page in _matching_rows(engine, filters, fund_names, last_position):
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerows(page)
        yield text.getvalue().encode("utf-8")


def _matching_rows(
    engine: Engine, filters: JournalFilters, fund_names: Mapping[UUID, str], last_position: int
) -> Iterator[list[list[str]]]:
    """Pages of CSV rows: each page's events are rebuilt whole from the read model (so the
    posting numbers are the export's), and only their matching postings are kept."""
    position_at, number_at = COLUMNS.index("位置"), COLUMNS.index("行番号")
    after: tuple[int, int | None] = (0, None)
    while True:
        page = [
            r for r in _search(engine, filters, after, CSV_PAGE_SIZE) if r.position <= last_position
        ]
        if not page:
            return
        wanted = {(str(r.position), str(r.posting_index + 1)) for r in page}
        entries = _entries(engine, sorted({r.position for r in page}), fund_names)
        yield [row for row in rows(entries) if (row[position_at], row[number_at]) in wanted]
        if len(page) < CSV_PAGE_SIZE:
            return
        after = (page[-1].position, page[-1].posting_index)


def _entries(
    engine: Engine, positions: list[int], fund_names: Mapping[UUID, str]
) -> list[PositionedEntry]:
    c = journal_postings.c
    query = (
        sa.select(journal_postings)
        .where(c.position.in_(positions))
        .order_by(c.position, c.posting_index)
    )
    with engine.connect() as connection:
        postings = [PostingRow(**row) for row in connection.execute(query).mappings()]
    return [
        PositionedEntry(position, _entry(list(group)), fund_names.get(fund_id, ""))
        for (position, fund_id), group in itertools.groupby(
            postings, key=lambda row: (row.position, row.fund_id)
        )
    ]


def _entry(postings: list[PostingRow]) -> JournalEntry:
    first = postings[0]
    return JournalEntry(
        kind=first.kind,
        fund_id=first.fund_id,
        designation=first.designation,
        effective_on=first.effective_on,
        recorded_at=first.recorded_at_utc.replace(tzinfo=UTC),
        counterparty=first.counterparty,
        actor=first.actor,
        reason=first.reason,
        source_id=first.source_id,
        source_version=first.source_version,
        corrects_version=first.corrects_version,
        postings=tuple(Posting(p.account, Side(p.side), p.amount_yen) for p in postings),
    )


def _last_position(engine: Engine) -> int:
    """The journal's newest position now: a download ends there, however long it takes."""
    with engine.connect() as connection:
        last = connection.scalar(sa.select(sa.func.max(journal_postings.c.position)))
    return int(last or 0)
