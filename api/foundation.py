"""The host foundation's details printed on every receipt, from `FUND_LEDGER_FOUNDATION_*`
environment variables (pydantic-settings), never from the templates.

The defaults are the sample details of `reports.samples` (the foundation's public name and
address, a fictitious representative): a deployment sets at least
`FUND_LEDGER_FOUNDATION_REPRESENTATIVE` and checks the certification statement with the
foundation's accountant.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from reports import IssuerView
from reports.samples import ISSUER


class FoundationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FUND_LEDGER_FOUNDATION_", frozen=True)

    name: str = ISSUER.name
    postal_code: str = ISSUER.postal_code
    address: str = ISSUER.address
    representative: str = ISSUER.representative
    certification_statement: str = ISSUER.certification_statement

    def issuer(self) -> IssuerView:
        return IssuerView(
            name=self.name,
            postal_code=self.postal_code,
            address=self.address,
            representative=self.representative,
            certification_statement=self.certification_statement,
        )
