"""Bank and postal transfer lists, uploaded by an administrator (`api.imports`): the file is
checked first (the dry run) and shown as a table, row by row with every problem; a file with
no problem can then be confirmed, which imports it for real, every row or none. Each row
carries its own idempotency key, so a second confirm of the same file records nothing twice.

The server keeps the checked file until it is confirmed (`api.console.pending_imports`): the
confirm form carries only its upload id, with the fund, the method and the encoding it was
checked as. Confirm finds it only for the same staff user, within its age, with its sha256
unchanged and the same settings, and deletes it once imported; a refused import keeps it until
its age runs out, so the same confirm may be sent again once the ledger is put right (a donor
registered, say). A confirm of an upload no longer kept (imported already, too old, another
user's, unknown) records nothing and asks for the file again. Both posts refuse a body past
their bound before the form is parsed (`BoundedConsoleRoute`), as the API's upload does.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Message, Receive

from api.console.accounts import StaffSession
from api.console.forms import FormErrors
from api.console.pages.common import principal_of
from api.console.pages.import_report import report_context
from api.console.pending_imports import (
    PENDING_IMPORT_TTL_S,
    drop_upload,
    find_upload,
    keep_upload,
)
from api.console.routing import (
    AdminForm,
    ConsoleRefused,
    ConsoleRoute,
    StaffAdmin,
    now_utc,
    services_of,
)
from api.console.web import CONSOLE_PREFIX, METHOD_NAMES_JA, render
from api.http.routes.imports import UPLOAD_BYTES_MAX
from api.imports import run
from api.imports.csvfile import FILE_SIZE_BYTES_MAX, ROW_COUNT_MAX, Encoding, Problem
from api.imports.plan import IMPORT_METHODS, ImportRequest
from api.imports.run import ImportReport, RowStatus
from ledger.errors import ImportRejected, ImportTooLarge, NotFound
from projections.fund_balances import fund_balances

CONFIRM_BYTES_MAX = 16 * 1024  # the CSRF token, the upload id and the settings: ~200 bytes
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
NOT_KEPT_JA = (
    "確認したファイルはもうサーバーにありません（取込を確定済みか、確認から"
    f"{PENDING_IMPORT_TTL_S // 60} 分を過ぎたか、内容が確認時と一致しません）。"
    "この送信では何も記録していません。取り込まれたかどうかは基金のページで確かめ、"
    "必要ならもう一度ファイルを選んで確認してください。"
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
    confirm_fields = _kept(request, submission.staff, data, wanted, report)
    return render(
        request,
        "import_preview.html",
        submission.staff,
        status_code=200,
        **report_context(report, report.problems, confirm_fields=confirm_fields),
    )


def confirm(request: Request, submission: AdminForm) -> Response:
    """Import the file the preview showed, for real: every row, or none and its problems."""
    fields = submission.fields
    wanted, errors = read_settings(fields)
    services = services_of(request)
    upload_id = fields.get("upload_id", "")
    user_name = submission.staff.user.name
    pending = find_upload(services.engine, upload_id, user_name, now=now_utc())
    if pending is None or pending.wanted != wanted:  # or a form not made by its preview
        errors.add(None, NOT_KEPT_JA)
        return _upload_page(request, submission.staff, fields, errors, status=422)
    data, wanted = pending.data, pending.wanted
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
    drop_upload(services.engine, upload_id)
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


def _kept(
    request: Request, staff: StaffSession, data: bytes, wanted: ImportRequest, report: ImportReport
) -> dict[str, str] | None:
    """The confirm form's hidden fields for a file that may be confirmed (kept on the server
    until then), else None: nothing to keep for a file with a problem or nothing new."""
    if report.problems or not report.count(RowStatus.NEW):
        return None
    engine = services_of(request).engine
    upload_id = keep_upload(engine, staff.user.name, data, wanted, now=now_utc())
    return {
        "upload_id": upload_id,
        "fund_id": str(wanted.fund_id),
        "method": wanted.method,
        "encoding": wanted.encoding.value,
    }


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
        row_count_max=ROW_COUNT_MAX,
    )


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None
