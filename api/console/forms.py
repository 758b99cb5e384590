"""A submitted form, checked exactly as the API checks a request body: the fields are turned
into the API's own request schema (`api.http.schemas`), and every error comes back as a
Japanese message for its field, or for the form as a whole."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from api.console.messages import PROBLEMS_JA, field_of, validation_message_ja
from api.http.problems import problem_kind_of
from ledger import errors

M = TypeVar("M", bound=BaseModel)

_AMOUNT_DECORATION = re.compile(r"[¥￥,，円\s]")


@dataclass
class FormErrors:
    """Messages by field name, and those that belong to no field; `problem_type` is the API's
    problem slug when a domain rule refused the command."""

    by_field: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    problem_type: str | None = None

    def __bool__(self) -> bool:
        return bool(self.by_field or self.general)

    def add(self, name: str | None, message: str) -> None:
        if name is None:
            self.general.append(message)
        else:
            self.by_field.setdefault(name, message)


@dataclass(frozen=True)
class Parsed(Generic[M]):
    model: M | None
    errors: FormErrors


def amount(text: str) -> int | str:
    """`12,345`, `¥12,345`, `１２３４５円` → 12345; anything else is left as written, for the
    schema to refuse."""
    plain = _AMOUNT_DECORATION.sub("", unicodedata.normalize("NFKC", text))
    return int(plain) if plain.isascii() and plain.isdigit() else text


def year(text: str | None, default: int) -> int:
    """A year typed in a query (`2026`, `２０２６`, spaces around it); `default` when blank.
    `ValueError` when it is not a whole number: the page says which years it takes."""
    return int(text) if text and text.strip() else default


def parse(
    schema: type[M],
    fields: Mapping[str, str],
    *,
    amounts: Iterable[str] = ("amount_yen",),
    checkboxes: Iterable[str] = (),
    names: Iterable[str] | None = None,
) -> Parsed[M]:
    """The form's fields as `schema`: blank fields are left out (the schema's default, or
    "missing"), amounts read as yen, checkboxes as booleans."""
    wanted = set(names) if names is not None else set(schema.model_fields)
    data: dict[str, object] = {}
    for name in wanted & set(schema.model_fields):
        raw = fields.get(name, "")
        if name in checkboxes:
            data[name] = raw in {"on", "true", "1"}
            continue
        text = raw.strip()
        if text == "":
            continue
        data[name] = amount(text) if name in amounts else text
    try:
        return Parsed(schema.model_validate(data), FormErrors())
    except ValidationError as invalid:
        found = FormErrors(problem_type="invalid-request")
        for error in invalid.errors():
            location = error.get("loc", ())
            found.add(str(location[0]) if location else None, validation_message_ja(dict(error)))
        return Parsed(None, found)


def refused(error: errors.LedgerError) -> FormErrors:
    """A domain rule's refusal, as the form shows it: next to the field it is about."""
    cause = error.cause if isinstance(error, errors.BatchRejected) else error
    slug = problem_kind_of(cause).slug
    found = FormErrors(problem_type=slug)
    found.add(field_of(cause), PROBLEMS_JA.get(slug, PROBLEMS_JA["ledger-error"]))
    return found
