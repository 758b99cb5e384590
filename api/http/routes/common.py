"""What every router shares: the documented problem responses and how a write answers."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from api.http.problems import PROBLEM_MEDIA_TYPE
from api.http.schemas import Recorded
from api.http.services import Services
from api.tokens import Principal
from ledger.commands import Command

_PROBLEM = {"content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
READ_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"description": description, **_PROBLEM}
    for status, description in [
        (401, "No valid bearer token"),
        (403, "The token's role may not do this"),
        (404, "Not found"),
        (400, "Body not decodable"),
        (422, "Malformed request, or min_position beyond the log"),
        (503, "Read models behind, or the database unavailable"),
    ]
}
WRITE_PROBLEMS: dict[int | str, dict[str, Any]] = {
    **READ_PROBLEMS,
    409: {
        "description": "A ledger rule, or the idempotency key used for another request",
        **_PROBLEM,
    },
    428: {"description": "Idempotency-Key header missing", **_PROBLEM},
}
RECORDED_HEADERS = {
    "Ledger-Position": {"description": "Log position of the write", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "`true` when this answers a retry and recorded nothing",
        "schema": {"type": "string"},
    },
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **WRITE_PROBLEMS,
    201: {"description": "Recorded", "headers": RECORDED_HEADERS},
}


def record(
    services: Services, command: Command, principal: Principal, response: Response
) -> Recorded:
    return Recorded.of(services.execute(command, principal, response))
