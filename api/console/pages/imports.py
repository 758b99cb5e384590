"""Bank and postal transfer lists, uploaded by an administrator (`api.imports`): the file is
checked first (the dry run) and shown as a table, row by row with every problem; a file with
no problem can then be confirmed, which imports it for real, every row or none. Each row
carries its own idempotency key, so a second confirm of the same file records nothing twice.

The confirm form carries the file to the next request itself (no copy is kept on the server):
its bytes in base64, in parts that each fit the form parser's bound for one field, with their
sha256, the fund, the method and the encoding. Confirm checks the bound and the hash before it
reads the file. Both posts refuse a body past their bound before the form is parsed
(`BoundedConsoleRoute`), as the API's upload does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Coroutine, Mapping
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive

from api.console.forms import FormErrors
from api.console.pages.common import principal_of
from api.console.pages.import_report import report_context
from api.console.routing import AdminForm, ConsoleRefused, ConsoleRoute, StaffAdmin, services_of
from api.console.web import CONSOLE_PREFIX, METHOD_NAMES_JA, render
from api.http.routes.imports import UPLOAD_BYTES_MAX
from api.imports import run
from api.imports.csvfile import FILE_SIZE_BYTES_MAX, Encoding, Problem
from api.imports.plan import IMPORT_METHODS, ImportRequest
from ledger.errors import ImportRejected, ImportTooLarge, NotFound
from projections.fund_balances import fund_balances

# One field of a form holds at most 1 MiB (Starlette's parser); a part is a multiple of 4.
FILE_PART_CHARS = 1_000_000
FILE_BASE64_CHARS_MAX = 4 * -(-FILE_SIZE_BYTES_MAX // 3)
FILE_PARTS_MAX = -(-FILE_BASE64_CHARS_MAX // FILE_PART_CHARS)
CONFIRM_BYTES_MAX = FILE_BASE64_CHARS_MAX + 64 * 1024  # the file, and the form's other fields
METHODS = tuple(method.value for method in IMPORT_METHODS)
ENCODINGS_JA = (
    (Encoding.AUTO.value, "自動判定（UTF-8 または Shift_JIS）"),
    (Encoding.UTF8.value, "UTF-8"),
    (Encoding.CP932.value, "Shift_JIS（CP932）"),
)
TOO_LARGE_JA = (
    f"ファイルが大きすぎます（1ファイル {FILE_SIZE_BYTES_MAX // (1024 * 1024)} MiB まで）。"
    "分けて取り込んでください。"
)
UNREADABLE_FORM_JA = (
    "送信されたフォームを読み取れませんでした。何も記録していません。"
    "ページを開き直してから、もう一度送信してください。"
)
NOT_CARRIED_JA = (
    "確認したファイルの内容を受け取れませんでした（内容が確認時と一致しません）。"
    "何も記録していません。もう一度ファイルを選んで確認してください。"
)


class _UnreadableFormRefused(APIRoute):
    """A form the parser refuses (a field past its 1 MiB, too many fields, broken multipart)
    is a 400 page saying so, not an unexpected error: below `ConsoleRoute` in the MRO, so its
    page is made from the `ConsoleRefused` raised here."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def read(request: Request) -> Response:
            try:
                return await handler(request)
            except StarletteHTTPException as error:  # Starlette's 400 for a failed parse
                if error.status_code != 400:
                    raise
                raise ConsoleRefused(400, UNREADABLE_FORM_JA) from error

        return read


class BoundedConsoleRoute(ConsoleRoute, _UnreadableFormRefused):
    """A console route whose request body holds at most `body_bytes_max` bytes: a larger
    Content-Length is refused before any byte is read, a longer body as soon as it passes
    the bound; either way the 413 page, and the form is never parsed."""

    body_bytes_max = UPLOAD_BYTES_MAX

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        bytes_max = self.body_bytes_max

        async def bounded(request: Request) -> Response:
            return await handler(Request(request.scope, _bounded(request, bytes_max)))

        return bounded


class ConfirmRoute(BoundedConsoleRoute):
    body_bytes_max = CONFIRM_BYTES_MAX


def _bounded(request: Request, bytes_max: int) -> Receive:
    declared = request.headers.get("content-length", "")
    received_bytes = 0

    async def receive() -> Message:
        nonlocal received_bytes
        if declared.isascii() and declared.isdigit() and int(declared) > bytes_max:
            raise ConsoleRefused(413, TOO_LARGE_JA)
        message = await request.receive()
        received_bytes += len(message.get("body", b""))
        if received_bytes > bytes_max:
            raise ConsoleRefused(413, TOO_LARGE_JA)
        return message

    return receive


router = APIRouter(prefix=CONSOLE_PREFIX, route_class=ConsoleRoute, include_in_schema=False)


@router.get("/imports")
def upload_form(request: Request, staff: StaffAdmin, fund_id: UUID | None = None) -> Response:
    values = {"fund_id": str(fund_id or ""), "method": METHODS[0], "encoding": "auto"}
    return _upload_page(request, staff, values, FormErrors())


def preview(request: Request, submission: AdminForm) -> Response:
    """The dry run of the uploaded file, as a table; a confirm form if it has no problem."""
    fields = submission.fields
    wanted, errors = read_settings(fields)
    upload = submission.files.get("file")
    if upload is None or not upload.filename:
        errors.add("file", "ファイルを選んでください。")
        return _upload_page(request, submission.staff, fields, errors, status=422)
    data = upload.file.read(FILE_SIZE_BYTES_MAX + 1)
    if len(data) > FILE_SIZE_BYTES_MAX:
        errors.add("file", TOO_LARGE_JA)
        return _upload_page(request, submission.staff, fields, errors, status=413)
    if wanted is None:
        return _upload_page(request, submission.staff, fields, errors, status=422)
    try:
        report = run.dry_run(services_of(request).ledger, data, wanted)
    except (NotFound, ImportTooLarge) as refused:
        return _refused_page(request, submission.staff, fields, refused)
    carried = carried_fields(data, wanted) if report.rows and not report.problems else None
    return render(
        request,
        "import_preview.html",
        submission.staff,
        status_code=200,
        **report_context(report, report.problems, carried=carried),
    )


def confirm(request: Request, submission: AdminForm) -> Response:
    """Import the file the preview showed, for real: every row, or none and its problems."""
    fields = submission.fields
    wanted, errors = read_settings(fields)
    data = carried_file(fields)
    if data is None:
        errors.add(None, NOT_CARRIED_JA)
    if wanted is None or data is None:
        return _upload_page(request, submission.staff, fields, errors, status=422)
    services = services_of(request)
    try:
        with services.writing():
            actor = principal_of(submission).name
            report = run.import_donations(services.ledger, data, wanted, actor=actor)
    except ImportRejected as rejected:
        problems = tuple(Problem(*problem) for problem in rejected.problems)
        shown = run.dry_run(services.ledger, data, wanted)
        context = report_context(shown, problems, rejected=True)
        return render(request, "import_preview.html", submission.staff, status_code=422, **context)
    except (NotFound, ImportTooLarge) as refused:
        return _refused_page(request, submission.staff, fields, refused)
    context = report_context(report, ())
    return render(request, "import_preview.html", submission.staff, **context)


router.add_api_route(
    "/imports/preview", preview, methods=["POST"], route_class_override=BoundedConsoleRoute
)
router.add_api_route(
    "/imports/confirm", confirm, methods=["POST"], route_class_override=ConfirmRoute
)


def read_settings(fields: Mapping[str, str]) -> tuple[ImportRequest | None, FormErrors]:
    """The fund, the method and the encoding chosen, or the message of each that is wrong."""
    errors = FormErrors()
    fund_id = _uuid(fields.get("fund_id", ""))
    if fund_id is None:
        errors.add("fund_id", "一覧から選んでください。")
    method = fields.get("method", "")
    if method not in METHODS:
        errors.add("method", "一覧から選んでください。")
    encoding = fields.get("encoding", "")
    if encoding not in {value for value, _ in ENCODINGS_JA}:
        errors.add("encoding", "一覧から選んでください。")
    if errors or fund_id is None:
        errors.problem_type = "invalid-request"
        return None, errors
    return ImportRequest(fund_id=fund_id, method=method, encoding=Encoding(encoding)), errors


def carried_fields(data: bytes, wanted: ImportRequest) -> dict[str, str]:
    """The confirm form's hidden fields: the file (base64 in parts) and what it was checked as."""
    encoded = base64.urlsafe_b64encode(data).decode("ascii")
    parts = [encoded[i : i + FILE_PART_CHARS] for i in range(0, len(encoded), FILE_PART_CHARS)]
    fields = {
        "fund_id": str(wanted.fund_id),
        "method": wanted.method,
        "encoding": wanted.encoding.value,
        "sha256": hashlib.sha256(data).hexdigest(),
        "file_parts": str(len(parts)),
    }
    fields.update({f"file_base64_{n}": part for n, part in enumerate(parts, start=1)})
    return fields


def carried_file(fields: Mapping[str, str]) -> bytes | None:
    """The file a confirm form carries; None unless it is whole, within the bound, and hashes
    to the sha256 it came with."""
    count = fields.get("file_parts", "")
    if not (count.isascii() and count.isdigit() and 1 <= int(count) <= FILE_PARTS_MAX):
        return None
    parts = [fields.get(f"file_base64_{n}", "") for n in range(1, int(count) + 1)]
    if any(len(part) > FILE_PART_CHARS for part in parts):
        return None
    try:
        data = base64.b64decode("".join(parts).encode("ascii"), altchars=b"-_", validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    if len(data) > FILE_SIZE_BYTES_MAX:
        return None
    digest = hashlib.sha256(data).hexdigest().encode("ascii")
    sent = fields.get("sha256", "").encode("utf-8")
    return data if hmac.compare_digest(digest, sent) else None


def _refused_page(
    request: Request, staff: Any, fields: Mapping[str, str], refused: Exception
) -> Response:
    errors = FormErrors()
    if isinstance(refused, NotFound):
        errors.add("fund_id", "その基金は見つかりません。一覧から選んでください。")
        return _upload_page(request, staff, fields, errors, status=422)
    errors.add("file", TOO_LARGE_JA)
    return _upload_page(request, staff, fields, errors, status=413)


def _upload_page(
    request: Request,
    staff: Any,
    values: Mapping[str, str],
    errors: FormErrors,
    status: int = 200,
) -> Response:
    funds = fund_balances(services_of(request).engine)
    chosen = {name: values.get(name, "") for name in ("fund_id", "method", "encoding")}
    if not chosen["fund_id"] and len(funds) == 1:
        chosen["fund_id"] = str(funds[0].fund_id)
    return render(
        request,
        "imports.html",
        staff,
        status_code=status,
        values=chosen,
        errors=errors,
        funds=[(str(f.fund_id), f.name) for f in funds],
        methods=[(method, METHOD_NAMES_JA[method]) for method in METHODS],
        encodings=ENCODINGS_JA,
        file_size_mib_max=FILE_SIZE_BYTES_MAX // (1024 * 1024),
    )


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None
