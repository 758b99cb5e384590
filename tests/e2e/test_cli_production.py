"""The projector service (`fund-ledger project`) reads the same production settings as the
API: in production it refuses the embedded SQLite in one line, before any work."""

from __future__ import annotations

from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


def test_project_in_production_refuses_sqlite_in_one_line(sqlite_url: str) -> None:
    result = runner.invoke(
        app,
        ["--database-url", sqlite_url, "project", "--once"],
        env={"FUND_LEDGER_ENVIRONMENT": "production"},
    )

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: configuration-error: production needs a postgresql:// FUND_LEDGER_DATABASE_URL,"
        " not the embedded SQLite"
    ]


def test_project_in_development_runs_on_sqlite(sqlite_url: str) -> None:
    assert runner.invoke(app, ["--database-url", sqlite_url, "init"]).exit_code == 0

    result = runner.invoke(app, ["--database-url", sqlite_url, "project", "--once"])

    assert result.exit_code == 0, result.output
    assert "0 events applied" in result.stdout
