"""An administrator gives a donor a postal transfer account (振替口座番号) through the
console's forms: registered, shown on the donor's page, refused in Japanese next to the field
when malformed, and cleared by emptying the field of the correction form."""

from __future__ import annotations

from tests.console.pages import Console, head_position
from tests.console.test_console_donations import DONOR


def test_a_donor_registered_with_a_postal_account_shows_it(admin: Console) -> None:
    registered = admin.submit(
        "/console/donors/new",
        "/console/donors/new",
        **DONOR,
        postal_account="００１２０－３－４５６７８",
    )

    assert registered.status_code == 200, registered.text
    assert "振替口座番号" in registered.text
    assert "00120-3-045678" in registered.text


def test_a_malformed_postal_account_is_refused_next_to_its_field(admin: Console) -> None:
    head = head_position(admin.api.database_url)

    refused = admin.submit(
        "/console/donors/new", "/console/donors/new", **DONOR, postal_account="12345-6-7"
    )

    assert refused.status_code == 422
    assert '<a href="#field-postal_account">振替口座番号</a>' in refused.text
    assert 'id="error-postal_account"' in refused.text
    assert head_position(admin.api.database_url) == head


def test_emptying_the_postal_account_field_clears_the_account(admin: Console) -> None:
    registered = admin.submit(
        "/console/donors/new", "/console/donors/new", **DONOR, postal_account="00120-3-456789"
    )
    donor_id = registered.url.path.rsplit("/", 1)[1]
    page = f"/console/donors/{donor_id}/correct"

    corrected = admin.submit(page, page, postal_account="", reason="解約")

    assert corrected.status_code == 200, corrected.text
    assert "00120-3-456789" not in corrected.text
    assert admin.api.read(f"/v1/donors/{donor_id}")["postal_account"] is None
