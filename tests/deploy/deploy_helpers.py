"""Helpers of the deployment tests (imported by name: tests/deploy is on sys.path through its conftest)."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
SECRETS = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_ADMIN_PASSWORD", "AIRFLOW_JWT_SECRET",
           "AIRFLOW_API_SECRET_KEY", "AIRFLOW_FERNET_KEY", "ROADSAFE_PORTAL_SECRET", "ROADSAFE_AIRFLOW_PASSWORD",
           "ROADSAFE_SITE_PASSWORD_HASH")  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- docker-compose.yml rendered


def deployment_env() -> dict[str, str]:
    """A complete .env: strong secrets and the required names (what docker/env.example asks for)."""
    import secrets

    from cryptography.fernet import Fernet

    env = {k: secrets.token_urlsafe(48) for k in SECRETS}
    env.update(
        AIRFLOW_FERNET_KEY=Fernet.generate_key().decode(),
        ROADSAFE_SITE_PASSWORD_HASH="$2a$14$" + secrets.token_urlsafe(40),
        ROADSAFE_AIRFLOW_USER="roadsafe_portal",
        ROADSAFE_PORTAL_HOST="portal.jiujiang.example.gov.cn",
        ROADSAFE_SITE_HOST="site.jiujiang.example.gov.cn",
        ROADSAFE_AIRFLOW_HOST="airflow.jiujiang.example.gov.cn",
        ROADSAFE_SMTP_HOST="smtp.jiujiang.example.gov.cn",
        ROADSAFE_SMTP_FROM="zhengzhiban@jiujiang.example.gov.cn",
        ROADSAFE_OPERATOR_EMAIL="yunwei@jiujiang.example.gov.cn",
        ROADSAFE_CAMPAIGNS="jiujiang-2022,jiujiang-longterm-2022",
    )
    return env


# --------------------------------------------------------------------------- rendering the file


def compose_cli() -> list[str] | None:
    """The compose v2 command line, if installed."""
    for argv in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(argv[0]) is None:
            continue
        try:
            out = subprocess.run([*argv, "version"], capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if out.returncode == 0 and re.search(r"version v?2\.", out.stdout):
            return [shutil.which(argv[0]), *argv[1:]]
    return None


_VAR = re.compile(r"\$\$|\$\{(\w+)(?:(:?[?-])([^}]*))?\}|\$(\w+)")


class Unset(Exception):
    pass


def interpolate(value, env: dict[str, str]):
    """Compose's interpolation of ``value`` (strings inside lists and dicts too)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3)
        have = env.get(name)
        if op in (":?", "?") and (have is None or (op == ":?" and have == "")):
            raise Unset(f"required variable {name} is missing a value: {arg}")
        if op in (":-", "-") and (have is None or (op == ":-" and have == "")):
            return arg
        return have or ""

    return _VAR.sub(one, value)


def normalise(model: dict) -> dict:
    """The short syntax written in the file → the long form `docker compose config` prints."""
    for svc in model["services"].values():
        env = svc.get("environment") or {}
        if isinstance(env, list):
            env = dict(item.split("=", 1) for item in env)
        svc["environment"] = {k: ("" if v is None else str(v)) for k, v in env.items()}
        vols = []
        for v in svc.get("volumes") or []:
            if isinstance(v, str):
                source, target, *mode = v.split(":")
                kind = "volume" if re.fullmatch(r"[\w-]+", source) else "bind"
                vols.append({"type": kind, "source": source, "target": target, "read_only": mode == ["ro"]})
            else:
                vols.append(v)
        svc["volumes"] = vols
        ports = []
        for p in svc.get("ports") or []:
            if isinstance(p, str):
                published, target = p.rsplit(":", 1)
                ports.append({"published": published, "target": int(target)})
            else:
                ports.append(p)
        svc["ports"] = ports
        for key in ("command", "entrypoint"):
            if isinstance(svc.get(key), str):
                svc[key] = svc[key].split()
    return model


def render(env: dict[str, str]) -> tuple[dict, str]:
    """The deployment as compose sees it with ``env`` as its .env; (model, how)."""
    cli = compose_cli()
    if cli is not None:
        out = subprocess.run([*cli, "-f", str(COMPOSE), "config", "--format", "json"], env={"PATH": "/usr/bin:/bin", **env},
                             capture_output=True, text=True, timeout=60, cwd=REPO)  # fmt: skip
        if out.returncode != 0:
            raise Unset(out.stderr)
        # its output is itself a compose file ("$" written "$$"): unescaped, the values the containers get
        return normalise(interpolate(json.loads(out.stdout), {})), "docker compose config"
    raw = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))  # merge keys (<<) resolved by the loader
    model = interpolate({k: v for k, v in raw.items() if not k.startswith("x-")}, env)
    for svc in model["services"].values():  # compose turns these into strings/numbers the same way
        if "deploy" in svc and "replicas" in svc["deploy"]:
            svc["deploy"]["replicas"] = int(svc["deploy"]["replicas"])
    return normalise(model), "parsed here"
