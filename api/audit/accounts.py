"""How the ledger's chart of accounts is named in hledger and beancount.

The ledger names an account per fund by `ledger.journal` (`cash:P`, `grants_payable:P`,
`net_assets:restricted:D`, `net_assets:unrestricted`, `host_fee:P`, `grants:P`; `P` is a pot:
a designation code or `general`). The tools want one tree with typed roots, and beancount
wants every component to start with a capital letter or a digit and hold only letters, digits
and hyphens. The mapping is fixed and reversible:

| ledger account               | hledger / beancount account                          |
|------------------------------|------------------------------------------------------|
| `cash:P`                     | `Assets:Cash:Fund-<fund id>:<Pot>`                   |
| `grants_payable:P`           | `Liabilities:GrantsPayable:Fund-<fund id>:<Pot>`     |
| `net_assets:restricted:D`    | `Equity:NetAssets:Fund-<fund id>:Restricted:<D>`     |
| `net_assets:unrestricted`    | `Equity:NetAssets:Fund-<fund id>:Unrestricted`       |
| `host_fee:P`                 | `Expenses:HostFee:Fund-<fund id>:<Pot>`              |
| `grants:P`                   | `Expenses:Grants:Fund-<fund id>:<Pot>`               |

`<fund id>` is the fund's UUID as the ledger prints it (lower-case hex with hyphens); `<Pot>`
is `General` for undesignated money, and a designation code with its first character
upper-cased otherwise (`hozugawa` → `Hozugawa`, `3rd-ward` → `3rd-ward`). Codes are lower-case
ASCII letters, digits and hyphens and `general` is never a code, so no two accounts meet.
Amounts are whole yen in the commodity `JPY`; the tools show credits as negative numbers.
"""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID

from ledger.values import GENERAL

COMMODITY = "JPY"
_POT_ROOTS = {
    "cash": "Assets:Cash",
    "grants_payable": "Liabilities:GrantsPayable",
    "host_fee": "Expenses:HostFee",
    "grants": "Expenses:Grants",
}
_NET_ASSETS_ROOT = "Equity:NetAssets"
# 勘定科目名 in the CSV export.
JAPANESE_NAMES = {
    "cash": "現金預金",
    "grants_payable": "未払助成金",
    "net_assets:restricted": "指定正味財産",
    "net_assets:unrestricted": "一般正味財産",
    "host_fee": "運営費",
    "grants": "助成金",
}


def pot_component(pot: str) -> str:
    """`general` → `General`; a designation code with its first character upper-cased."""
    return "General" if pot == GENERAL else pot[:1].upper() + pot[1:]


def fund_component(fund_id: UUID) -> str:
    return f"Fund-{fund_id}"


@lru_cache(maxsize=4_096)  # a chart has a handful of accounts per fund
def tool_account(fund_id: UUID, account: str) -> str:
    """The hledger / beancount name of the ledger account `account` of fund `fund_id`."""
    fund = fund_component(fund_id)
    if account == "net_assets:unrestricted":
        return f"{_NET_ASSETS_ROOT}:{fund}:Unrestricted"
    if account.startswith("net_assets:restricted:"):
        designation = account.removeprefix("net_assets:restricted:")
        return f"{_NET_ASSETS_ROOT}:{fund}:Restricted:{pot_component(designation)}"
    kind, _, pot = account.partition(":")
    if kind not in _POT_ROOTS or not pot:
        raise ValueError(f"not an account of the chart: {account!r}")
    return f"{_POT_ROOTS[kind]}:{fund}:{pot_component(pot)}"


@lru_cache(maxsize=4_096)
def japanese_name(account: str) -> str:
    """`cash:hozugawa` → `現金預金 (hozugawa)`; `net_assets:unrestricted` → `一般正味財産`."""
    if account == "net_assets:unrestricted":
        return JAPANESE_NAMES[account]
    if account.startswith("net_assets:restricted:"):
        designation = account.removeprefix("net_assets:restricted:")
        return f"{JAPANESE_NAMES['net_assets:restricted']} ({designation})"
    kind, _, pot = account.partition(":")
    return f"{JAPANESE_NAMES.get(kind, kind)} ({pot})"
