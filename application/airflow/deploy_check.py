"""The secrets of a deployment, checked before anything starts (docker-compose.yml's ``airflow-init`` runs
``python -m application.airflow.deploy_check``; every other service waits for it).

Each secret must be set, at least 32 bytes, not a well-known placeholder and not of too few distinct
characters (the rule the portal applies to its own key, :func:`portal.config.check_secret`); the Fernet key
must be a Fernet key, the leaders' site password a bcrypt hash (the proxy checks it); no two secrets may
be the same. The answer names every problem at once (Chinese, then
English) and exits 2; nothing is printed of a secret's value.
"""

from __future__ import annotations

import base64
import binascii
import os
import sys
from collections.abc import Mapping

from portal.config import HOW_TO_MAKE, KNOWN_PLACEHOLDERS, MIN_SECRET_BYTES

__all__ = ["SECRETS", "problems"]

SECRETS = {
    "POSTGRES_PASSWORD": "元数据库 PostgreSQL 的密码",
    "REDIS_PASSWORD": "任务队列 Redis 的密码",
    "AIRFLOW_ADMIN_PASSWORD": "Airflow 管理员 admin 的密码",
    "AIRFLOW_JWT_SECRET": "Airflow 各组件之间的令牌签名密钥",
    "AIRFLOW_API_SECRET_KEY": "Airflow 界面会话签名密钥",
    "ROADSAFE_AIRFLOW_PASSWORD": "门户专用 Airflow 账户的密码",
    "ROADSAFE_PORTAL_SECRET": "门户会话签名密钥",
}
FERNET = "AIRFLOW_FERNET_KEY"
SITE_HASH = "ROADSAFE_SITE_PASSWORD_HASH"
SITE_HASH_HOW = "docker run --rm caddy:2.10 caddy hash-password --plaintext '<口令>'"
FERNET_HOW = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


def _weak(value: str) -> str | None:
    raw = value.encode("utf-8")
    if not raw.strip():
        return "未设置 / is missing"
    if len(raw) < MIN_SECRET_BYTES:
        return f"太短（少于{MIN_SECRET_BYTES}字节） / is shorter than {MIN_SECRET_BYTES} bytes"
    if any(p in value.lower() for p in KNOWN_PLACEHOLDERS) or len(set(raw)) < 10:
        return "是示例值或过于简单 / is a well-known placeholder or too simple"
    return None


def problems(environ: Mapping[str, str] | None = None) -> list[str]:
    """Every problem with the deployment's secrets, one line each (empty: all good)."""
    env = os.environ if environ is None else environ
    out = []
    for name, what in SECRETS.items():
        weak = _weak(env.get(name) or "")
        if weak:
            out.append(f"{name}（{what}）{weak}。生成方法 / make one: {HOW_TO_MAKE}")
    try:
        key = base64.urlsafe_b64decode((env.get(FERNET) or "").encode("ascii"))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        out.append(f"{FERNET}（Airflow 连接密码的加密密钥）不是有效的 Fernet 密钥 / is not a Fernet key: {FERNET_HOW}")
    values: dict[str, str] = {}
    for name in (*SECRETS, FERNET):
        value = env.get(name) or ""
        if value and value in values:
            out.append(f"{name} 与 {values[value]} 相同，每个密钥须各不相同 / {name} equals {values[value]}")
        values.setdefault(value, name)
    if not (env.get(SITE_HASH) or "").startswith(("$2a$", "$2b$", "$2y$")):
        out.append(f"{SITE_HASH}（领导站点访问口令）须为 bcrypt 散列 / must be a bcrypt hash: {SITE_HASH_HOW}")
    if (env.get("ROADSAFE_AIRFLOW_USER") or "").strip().lower() in ("", "admin"):
        out.append("ROADSAFE_AIRFLOW_USER 须为门户专用账户（不能为空或 admin） / must name the portal's own account")
    return out


def main() -> int:
    found = problems()
    for line in found:
        print(f"deploy-check: {line}", file=sys.stderr)
    if found:
        print("deploy-check: 密钥检查未通过，拒绝启动 / refusing to start: fix the secrets in .env", file=sys.stderr)
        return 2
    print("deploy-check: secrets ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
