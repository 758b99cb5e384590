"""`/v1/imports/donations`: a bank or postal transfer list (CSV, multipart upload) recorded as
donations, every row or none; `dry_run=true` answers what would be recorded and records
nothing. The format is documented in `api.imports`.

Answers: 200 with the report for a dry run (its `problems` list every problem by line) and
for an import that recorded nothing new (every row was recorded before); 201 when it
recorded; a 422 problem `import-rejected` whose `problems` member lists every problem by line
(nothing recorded); a 413 problem `import-too-large` past the size or row bound. The body's
size is checked before it is parsed (Content-Length, then the bytes as they arrive).

No Idempotency-Key is needed: every row carries its own key (see `api.imports.plan`), so a
retried upload records nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, File, Query, Request, Response, UploadFile
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive

from api.http.deps import Admin, ServicesDep
from api.http.problems import PROBLEM_MEDIA_TYPE, problem_kind_of, problem_response
from api.http.routes.common import WRITE_PROBLEMS
from api.http.services import POSITION_HEADER
from api.imports import plan, report, run
from api.imports.csvfile import FILE_SIZE_BYTES_MAX, Encoding
from ledger.errors import ImportRejected, ImportTooLarge

MULTIPART_OVERHEAD_BYTES_MAX = 64 * 1024
UPLOAD_BYTES_MAX = FILE_SIZE_BYTES_MAX + MULTIPART_OVERHEAD_BYTES_MAX


def _too_large() -> ImportTooLarge:
    return ImportTooLarge(
        f"the upload exceeds {UPLOAD_BYTES_MAX:,} bytes; a file may have at most"
        f" {FILE_SIZE_BYTES_MAX:,}"
    )


class BoundedUploadRoute(APIRoute):
    """Refuses a body larger than `UPLOAD_BYTES_MAX` before the form parser spools it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > UPLOAD_BYTES_MAX:
                raise _too_large()
            try:
                return await handler(Request(request.scope, _bounded(request.receive)))
            except StarletteHTTPException as error:  # FastAPI's 400 for a failed parse
                if isinstance(error.__cause__, ImportTooLarge):
                    raise error.__cause__ from None
                raise

        return bounded


def _bounded(receive: Receive) -> Receive:
    received_bytes = 0

    async def receive_bounded() -> Message:
        nonlocal received_bytes
        message = await receive()
        received_bytes += len(message.get("body", b""))
        if received_bytes > UPLOAD_BYTES_MAX:
            raise _too_large()
        return message

    return receive_bounded


router = APIRouter(prefix="/v1/imports", tags=["imports"], route_class=BoundedUploadRoute)

_PROBLEM = {"content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
IMPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **WRITE_PROBLEMS,
    200: {"description": "Dry run, or nothing new to record: the report"},
    201: {"description": "Recorded: the report"},
    413: {"description": "The file is larger than the bounds", **_PROBLEM},
    422: {"description": "Problems in the file (member `problems`), bad parameters", **_PROBLEM},
}


@router.post("/donations", responses=IMPORT_RESPONSES, response_model=None)
def import_donations(
    admin: Admin,
    services: ServicesDep,
    request: Request,
    response: Response,
    file: Annotated[UploadFile, File(description="The transfer list (CSV).")],
    fund_id: Annotated[UUID, Query(description="The fund the donations go to.")],
    dry_run: Annotated[bool, Query(description="Report only; record nothing.")] = False,
    method: Literal["bank_transfer", "postal_transfer"] = "bank_transfer",
    encoding: Literal["auto", "utf-8", "cp932"] = "auto",
) -> dict[str, Any] | Response:
    """Record every row of a transfer list as a donation, in one atomic write, or none."""
    data = file.file.read(FILE_SIZE_BYTES_MAX + 1)
    if len(data) > FILE_SIZE_BYTES_MAX:
        raise ImportTooLarge(f"the file is larger than {FILE_SIZE_BYTES_MAX:,} bytes; split it")
    wanted = plan.ImportRequest(fund_id=fund_id, method=method, encoding=Encoding(encoding))
    ledger = services.ledger
    if dry_run:
        return report.report_json(run.dry_run(ledger, data, wanted))
    try:
        with services.writing():
            result = run.import_donations(ledger, data, wanted, actor=admin.name)
    except ImportRejected as rejected:
        found = [{"line": line, "code": code, "message": m} for line, code, m in rejected.problems]
        kind = problem_kind_of(rejected)
        return problem_response(kind, rejected.message, request, problems=found)
    if result.position is not None:
        response.status_code = 201
        response.headers[POSITION_HEADER] = str(result.position)
    return report.report_json(result)
