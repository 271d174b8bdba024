"""docker-compose.yml and the Dockerfile, read (no Docker engine here): the topology the other
service tests start by hand, with commands that exist and workers that scale."""

from __future__ import annotations

import json
from typing import Any

import click
import pytest
import yaml

from diplowatch.cli import cli
from tests.service.support import ROOT

DATABASE_URL = "postgresql://diplowatch@postgres:5432/diplowatch"
BROKER_URL = "redis://redis:6379/0"
APP_SERVICES = ("migrate", "scheduler", "worker", "web")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    """The services of docker-compose.yml (YAML merge keys applied)."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def check_command(args: list[str]) -> None:
    """`diplowatch ARGS` names a real command, with options it takes."""
    assert args[0] == "diplowatch", args
    words = [word for word in args[1:] if word != "-v"]
    command = cli.commands.get(words[0])
    assert command is not None, f"no command `diplowatch {words[0]}`"
    with click.Context(command) as context:
        command.parse_args(context, words[1:])


def test_the_services_and_their_order(services: dict[str, dict[str, Any]]) -> None:
    assert {"redis", "postgres", *APP_SERVICES} <= set(services)
    assert services["redis"]["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert services["migrate"]["restart"] == "no"
    for name in ("scheduler", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["redis"]["condition"] == depends["postgres"]["condition"] == "service_healthy"
        assert "healthcheck" in services[name]


def test_app_services_share_the_settings_and_run_real_commands(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_SERVICES:
        service = services[name]
        assert service["environment"]["DIPLOWATCH_DATABASE_URL"] == DATABASE_URL
        assert service["environment"]["DIPLOWATCH_BROKER_URL"] == BROKER_URL
        check_command(service["command"])


def test_workers_scale(services: dict[str, dict[str, Any]]) -> None:
    worker = services["worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert "worker" in worker["command"]


def test_the_image_installs_the_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    assert "FROM python:3.11-slim" in dockerfile
    assert "pip install ." in dockerfile
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    check_command(json.loads(cmd.removeprefix("CMD ")))


def test_the_web_service_is_reachable_only_with_a_token(services: dict[str, dict[str, Any]]) -> None:
    web = services["web"]
    assert "DIPLOWATCH_WEB_TOKEN" in web["environment"]  # any address but loopback needs it
    assert web["ports"] == ["127.0.0.1:8080:8080"]  # published on the host's loopback only
    assert "/healthz" in " ".join(web["healthcheck"]["test"])
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    assert "COPY web/ web/" in dockerfile  # templates and the stylesheet ship as package data
