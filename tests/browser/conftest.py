"""The console in a real browser: Debian's headless Chromium (`/usr/bin/chromium`, installed by
`.ci/run`), driven by Playwright for Python, against a real `fund-ledger serve` process on
SQLite. Playwright never downloads a browser of its own here.

Screenshots go to `test-output/console/` (git-ignored); with `FUND_LEDGER_UPDATE_DOCS=1` the
ones the README shows are also copied into `docs/`."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from api.console.accounts import create_user
from projections.database import engine_for
from tests.processes import Processes, free_port, wait_for_http

CHROMIUM = Path("/usr/bin/chromium")
# As root in a sandbox with no network: no sandbox, no GPU, and none of Chromium's calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPOSITORY = Path(__file__).resolve().parents[2]
OUTPUT_DIR = REPOSITORY / "test-output" / "console"
DOCS_DIR = REPOSITORY / "docs"
PASSWORD = "kameoka-fund-2026"


@dataclass(frozen=True)
class Server:
    base_url: str
    database_url: str
    fund_id: str
    processes: Processes


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    database_url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    settings = {"FUND_LEDGER_DATABASE_URL": database_url, "FUND_LEDGER_ACTOR": "setup"}
    with Processes(tmp_path, settings) as processes:
        processes.run_ok("init")
        engine = engine_for(database_url)
        try:
            create_user(engine, name="kanri", password=PASSWORD, role="admin")
            create_user(engine, name="kansa", password=PASSWORD, role="auditor")
        finally:
            engine.dispose()
        opened = processes.run_ok(
            "fund",
            "open",
            "--name",
            "亀岡協働基金",
            "--fee-rate-bp",
            "350",
            "--target",
            "500000",
            "--json",
        )
        fund_id = json.loads(opened)["id"]
        processes.run_ok("fund", "designation-add", fund_id, "hozugawa", "--name", "保津川の清掃")
        port = free_port()
        service = processes.start("api", "serve", "--host", "127.0.0.1", "--port", str(port))
        base_url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base_url}/readyz", service)
        yield Server(base_url, database_url, fund_id, processes)


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(base_url=server.base_url, locale="ja-JP", accept_downloads=True)
    opened = context.new_page()
    yield opened
    context.close()


def screenshot(page: Page, name: str, *, for_docs: bool = False) -> Path:
    """A full-page PNG into the test output; also into docs/ when asked to refresh them."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if for_docs and os.environ.get("FUND_LEDGER_UPDATE_DOCS") == "1":
        shutil.copyfile(path, DOCS_DIR / f"{name}.png")
    return path
