"""docker-compose.yml, checked without a Docker engine: its commands are real `fund-ledger`
commands, the settings it passes are settings the app reads, and the start-up order, health
checks, restart policies and secrets are as README.md's "Running in production" describes.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from api.http.settings import ApiSettings
from ledger.settings import Settings
from tests.e2e.test_cli import CONSOLE_SCRIPT

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
LEDGER_SERVICES = ("migrate", "api", "projector")
SETTINGS_CLASSES: tuple[type[BaseSettings], ...] = (Settings, ApiSettings)
PASSWORD_FROM_ENVIRONMENT = "${POSTGRES_PASSWORD:?"
HELP_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def settings_read_by_the_app() -> set[str]:
    """Every `FUND_LEDGER_*` variable a settings class of the app reads."""
    names = set()
    for settings_class in SETTINGS_CLASSES:
        prefix = settings_class.model_config.get("env_prefix", "")
        names |= {f"{prefix}{field}".upper() for field in settings_class.model_fields}
    return names


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    """A service's `environment`, written as a mapping or as a list of `KEY=VALUE`."""
    given = service.get("environment") or {}
    if isinstance(given, list):
        return dict(item.partition("=")[::2] for item in given)
    return {str(key): str(value) for key, value in given.items()}


def dependencies_of(service: dict[str, Any]) -> dict[str, str]:
    """`depends_on` as {service: condition} (a plain list means `service_started`)."""
    given = service.get("depends_on") or {}
    if isinstance(given, list):
        return dict.fromkeys(given, "service_started")
    return {name: spec["condition"] for name, spec in given.items()}


def test_compose_runs_postgres_migrate_api_and_projector(
    services: dict[str, dict[str, Any]],
) -> None:
    assert set(services) == {"postgres", *LEDGER_SERVICES}


@pytest.mark.parametrize("name", LEDGER_SERVICES)
def test_each_ledger_service_runs_a_real_fund_ledger_command_with_real_options(
    services: dict[str, dict[str, Any]], name: str, tmp_path: Path
) -> None:
    command = services[name]["command"]
    assert isinstance(command, list), "exec form: the Dockerfile's entrypoint is `fund-ledger`"
    # Click rejects an unknown option while parsing, before `--help` is acted on.
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("FUND_LEDGER_")
    }
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), *command, "--help"],
        capture_output=True,
        text=True,
        timeout=HELP_TIMEOUT_S,
        check=False,
        cwd=tmp_path,
        env=environment,
    )
    assert result.returncode == 0, result.stderr
    assert f"Usage: fund-ledger {command[0]}" in result.stdout


def test_the_image_runs_fund_ledger_as_an_unprivileged_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    instructions = [line.split(maxsplit=1) for line in dockerfile.splitlines() if line.strip()]
    instructions = [parts for parts in instructions if not parts[0].startswith("#")]
    assert instructions[0] == ["FROM", "python:3.11-slim"]
    users = [parts[1].strip() for parts in instructions if parts[0] == "USER"]
    assert users, "the image must not run as root"
    assert users[-1] not in {"root", "0"}
    assert ["ENTRYPOINT", '["fund-ledger"]'] in instructions


@pytest.mark.parametrize("name", LEDGER_SERVICES)
def test_every_fund_ledger_variable_passed_is_a_setting_the_app_reads(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    passed = {key for key in environment_of(services[name]) if key.startswith("FUND_LEDGER_")}
    assert passed, "the ledger services are configured through FUND_LEDGER_* settings"
    assert passed <= settings_read_by_the_app()


@pytest.mark.parametrize("name", LEDGER_SERVICES)
def test_ledger_services_run_in_production_mode_with_json_logs_on_the_compose_database(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    environment = environment_of(services[name])
    assert environment["FUND_LEDGER_ENVIRONMENT"] == "production"
    assert environment["FUND_LEDGER_LOG_FORMAT"] == "json"
    database_url = environment["FUND_LEDGER_DATABASE_URL"]
    assert database_url.startswith("postgresql://")
    assert "@postgres:5432/" in database_url
    assert PASSWORD_FROM_ENVIRONMENT in database_url


def test_postgres_is_the_official_image_15_on_a_named_volume_with_a_pg_isready_healthcheck(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    postgres = services["postgres"]
    assert re.fullmatch(r"postgres:15(\.\d+)?(-[a-z0-9]+)?", postgres["image"])
    volume_names = [str(volume).split(":", 1)[0] for volume in postgres["volumes"]]
    assert set(volume_names) <= set(compose["volumes"]), "named volumes, declared at the top"
    assert "/var/lib/postgresql/data" in " ".join(map(str, postgres["volumes"]))
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])


def test_migrate_runs_init_once_after_postgres_is_healthy(
    services: dict[str, dict[str, Any]],
) -> None:
    migrate = services["migrate"]
    assert migrate["command"] == ["init"]
    assert migrate["restart"] == "no"  # quoted in YAML: a bare `no` would be false
    assert dependencies_of(migrate) == {"postgres": "service_healthy"}


@pytest.mark.parametrize("name", ["api", "projector"])
def test_api_and_projector_start_after_postgres_is_healthy_and_migrate_succeeded(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    assert dependencies_of(services[name]) == {
        "postgres": "service_healthy",
        "migrate": "service_completed_successfully",
    }
    assert services[name]["restart"] in {"unless-stopped", "always", "on-failure"}


def test_api_serves_several_workers_without_projecting_on_a_configurable_port(
    services: dict[str, dict[str, Any]],
) -> None:
    api = services["api"]
    command = api["command"]
    assert command[0] == "serve"
    assert "--no-project" in command
    assert int(command[command.index("--workers") + 1]) > 1
    assert command[command.index("--host") + 1] == "0.0.0.0"
    container_port = command[command.index("--port") + 1]
    assert api["ports"] == [f"${{FUND_LEDGER_API_PORT:-8000}}:{container_port}"]
    assert api["restart"] == "unless-stopped"


def test_api_healthcheck_asks_healthz_on_the_port_it_serves(
    services: dict[str, dict[str, Any]],
) -> None:
    api = services["api"]
    port = api["command"][api["command"].index("--port") + 1]
    healthcheck = " ".join(api["healthcheck"]["test"])
    assert f"127.0.0.1:{port}/healthz" in healthcheck


def test_projector_runs_one_fund_ledger_project(services: dict[str, dict[str, Any]]) -> None:
    projector = services["projector"]
    assert projector["command"] == ["project"]
    assert projector.get("deploy", {}).get("replicas", 1) == 1


def test_no_service_depends_on_a_missing_service_or_on_itself_through_a_cycle(
    services: dict[str, dict[str, Any]],
) -> None:
    started: list[str] = []
    waiting = {name: set(dependencies_of(service)) for name, service in services.items()}
    assert set().union(*waiting.values()) <= set(services)
    while waiting:
        ready = sorted(name for name, needs in waiting.items() if needs <= set(started))
        assert ready, f"a dependency cycle among {sorted(waiting)}"
        started += ready
        for name in ready:
            del waiting[name]
    assert started.index("postgres") < started.index("migrate") < started.index("api")


def test_every_password_comes_from_the_environment_without_a_default(
    services: dict[str, dict[str, Any]],
) -> None:
    assert (
        environment_of(services["postgres"])["POSTGRES_PASSWORD"]
        == "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
    )
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    # Credentials in a URL: `scheme://user:password@`; the password must be interpolated.
    for password in re.findall(r"://[^:/@\s]+:([^@\s]+)@", text):
        assert password.startswith(PASSWORD_FROM_ENVIRONMENT), password
    # No variable holding a secret may fall back to a default (`${VAR:-x}` or `${VAR-x}`).
    for variable, fallback in re.findall(r"\$\{(\w+)(:?-[^}]*)?\}", text):
        if fallback and re.search("PASSWORD|SECRET|TOKEN|KEY", variable):
            pytest.fail(f"{variable} has a default: {fallback}")
    assert "POSTGRES_HOST_AUTH_METHOD" not in text, "trust auth is never for production"
