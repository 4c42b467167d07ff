"""The production shape on the machine's real services: a fresh PostgreSQL database and a Redis
database number of their own per run, dropped/flushed at the end (scripts/services.sh starts the services)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

if "AIRFLOW_HOME" not in os.environ:  # keep in-process Airflow imports off ~/airflow
    import tempfile

    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="roadsafe-production-tests-")

POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379"


@pytest.fixture
def metadata_db() -> Iterator[str]:
    """SQLAlchemy URL of a PostgreSQL database created for this test and dropped after it."""
    import psycopg2

    from application.airflow.service import ensure_database

    name = f"roadsafe_test_{uuid.uuid4().hex[:10]}"
    url = f"{POSTGRES}/{name}"
    assert ensure_database(url)
    yield url
    conn = psycopg2.connect(f"{POSTGRES.replace('+psycopg2', '')}/postgres", connect_timeout=10)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture
def broker_url() -> Iterator[str]:
    """A Redis database number nobody else uses during this test (empty at the start, flushed after)."""
    import redis

    for db in range(15, 1, -1):
        client = redis.Redis.from_url(f"{REDIS}/{db}")
        if client.dbsize() == 0 and client.set("roadsafe:test-lock", "1", nx=True):
            break
    else:
        raise AssertionError("no free Redis database number between 2 and 15")
    yield f"{REDIS}/{db}"
    client.flushdb()


@pytest.fixture
def processes():
    from application.airflow.stack import Processes

    procs = Processes()
    try:
        yield procs
    finally:
        procs.stop_all()


@pytest.fixture(scope="session")
def samples(tmp_path_factory) -> list[tuple[str, Path]]:
    """Accepted sample files of jiujiang-2022, one per distinct unit: (unit_id, path)."""
    from application.samples import generate_samples

    out = tmp_path_factory.mktemp("samples")
    picked, units = [], set()
    for e in generate_samples("jiujiang-2022", out).entries:
        if e.expect == "accepted" and not e.special and e.unit_id not in units:
            units.add(e.unit_id)
            picked.append((e.unit_id, out / e.path))
    return picked
