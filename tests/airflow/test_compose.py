"""docker-compose.yml and docker/Dockerfile, checked statically (no Docker engine on these machines)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")
ROADSAFE_HOME = "/var/lib/roadsafe"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def airflow_pin() -> str:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    (pin,) = [d.split("==")[1] for d in deps if d.startswith("apache-airflow==")]
    return pin


def env_of(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return env


def mounts(service: dict) -> dict[str, str]:
    """target path -> source of every volume mount (short syntax)."""
    out = {}
    for v in service.get("volumes") or []:
        source, target = v.split(":")[:2]
        out[target] = source
    return out


def test_services_present(compose):
    assert set(compose["services"]) == {"postgres", "airflow-init", *AIRFLOW_SERVICES}


def test_one_image_whose_version_is_the_pinned_airflow(compose, airflow_pin):
    images = {compose["services"][s]["image"] for s in (*AIRFLOW_SERVICES, "airflow-init")}
    assert len(images) == 1
    (image,) = images
    assert image.rsplit(":", 1)[1] == airflow_pin
    for s in (*AIRFLOW_SERVICES, "airflow-init"):
        assert compose["services"][s]["build"] == {"context": ".", "dockerfile": "docker/Dockerfile"}
    dockerfile = (REPO / "docker" / "Dockerfile").read_text(encoding="utf-8")
    (base,) = re.findall(r"^FROM\s+(\S+)", dockerfile, flags=re.M)
    assert base == f"apache/airflow:{airflow_pin}-python3.11"
    assert "-c constraints.txt" in dockerfile and f"apache-airflow=={airflow_pin}" in dockerfile


def test_dockerfile_copies_only_what_exists_and_pins_airflow_in_constraints(airflow_pin):
    dockerfile = (REPO / "docker" / "Dockerfile").read_text(encoding="utf-8")
    for line in re.findall(r"^COPY\s+(?:--\S+\s+)*(.+)$", dockerfile, flags=re.M):
        *sources, _dest = line.split()
        for src in sources:
            assert (REPO / src).exists(), f"COPY {src}: not in the repository"
    constraints = (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()
    assert f"apache-airflow=={airflow_pin}" in constraints


def test_each_component_runs_its_command(compose):
    commands = {s: compose["services"][s]["command"] for s in AIRFLOW_SERVICES}
    assert commands == {
        "airflow-apiserver": "api-server",
        "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer",
    }


def test_local_executor_on_postgres(compose):
    for s in (*AIRFLOW_SERVICES, "airflow-init"):
        env = env_of(compose["services"][s])
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
        assert "@postgres:5432/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/roadsafe/dags"
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
        assert env["ROADSAFE_HOME"] == ROADSAFE_HOME
    assert compose["services"]["postgres"]["image"] == "postgres:16"


def test_one_jwt_secret_and_fernet_key_for_every_component(compose):
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__FERNET_KEY"):
        values = {env_of(compose["services"][s])[key] for s in (*AIRFLOW_SERVICES, "airflow-init")}
        assert len(values) == 1, key
        (value,) = values
        assert value.startswith("${") and ":?" in value  # from .env, required, never a literal in the file
    assert "AIRFLOW__API_AUTH__JWT_SECRET" in compose["x-airflow-common"]["environment"]


def test_roadsafe_home_is_shared_where_tasks_and_the_watcher_run(compose):
    for s in ("airflow-scheduler", "airflow-triggerer", "airflow-apiserver"):
        assert mounts(compose["services"][s]).get(ROADSAFE_HOME) == "roadsafe-home", s
    assert "roadsafe-home" in compose["volumes"]
    # the watched inbox path the dag-processor serialises into the trigger is the one the triggerer mounts
    assert env_of(compose["services"]["airflow-dag-processor"])["ROADSAFE_HOME"] == ROADSAFE_HOME


def test_init_migrates_creates_the_writer_pool_and_the_admin(compose):
    init = compose["services"]["airflow-init"]
    script = "\n".join(init["command"]) if isinstance(init["command"], list) else init["command"]
    assert "airflow db migrate" in script
    assert re.search(r"airflow pools set roadsafe_duckdb 1 ", script)
    assert "passwords.json" in script and "AIRFLOW_ADMIN_PASSWORD" in script
    for s in AIRFLOW_SERVICES:
        deps = compose["services"][s]["depends_on"]
        assert deps["airflow-init"]["condition"] == "service_completed_successfully"
        assert deps["postgres"]["condition"] == "service_healthy"


def test_tasks_get_the_smtp_settings(compose):
    env = env_of(compose["services"]["airflow-scheduler"])  # LocalExecutor: deliver runs here
    for key in ("ROADSAFE_SMTP_HOST", "ROADSAFE_SMTP_PORT", "ROADSAFE_SMTP_FROM"):
        assert env[key].startswith(f"${{{key}"), key


def test_every_service_has_a_healthcheck(compose):
    for name, service in compose["services"].items():
        check = service.get("healthcheck")
        assert check and check.get("test"), name
        assert not check.get("disable"), name


def test_api_server_published_and_env_example_lists_every_required_variable(compose):
    assert "8080:8080" in compose["services"]["airflow-apiserver"]["ports"]
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+):\?", text))
    example = (REPO / "docker" / "env.example").read_text(encoding="utf-8")
    defined = set(re.findall(r"^(\w+)=", example, flags=re.M))
    assert required <= defined, required - defined
