"""Telling Airflow that a file was landed: an asset event on ``roadsafe_inbox`` through the REST API.

``POST /auth/token`` (username/password) gives a JWT; ``GET /api/v2/assets?name_pattern=roadsafe_inbox``
gives the asset id; ``POST /api/v2/assets/events {"asset_id": N, "extra": {...}}`` records the event, and
the ``roadsafe_ingest`` DAG loads every pending receipt. A deployment of several campaigns has one inbox
asset per campaign (``roadsafe_inbox/<code>``, :meth:`roadsafe.settings.Settings.airflow_name`). Token and asset id are kept and fetched again
on a 401 / 404. Timeouts are short: the unit waits on the page, and a landed file with a pending receipt
is loaded by the next ingest run whatever happens here (the portal retries in the background).

The portal logs in with its own account (``ROADSAFE_AIRFLOW_USER`` / ``ROADSAFE_AIRFLOW_PASSWORD``, or a
token), never the admin account (:meth:`portal.config.PortalConfig.check` refuses ``admin``). In production
(FAB auth manager) create a role holding only what posting an asset event needs ("can create" and "can read" on
Assets, "can read" on Asset Aliases, DAGs, DAG Runs and Task Instances: what ``docker/airflow-init.sh`` grants,
checked against a real api-server by the deployment tests) and a user with only that role::

    airflow roles create RoadsafePortal
    airflow roles add-perms RoadsafePortal -a can_create can_read -r Assets
    airflow roles add-perms RoadsafePortal -a can_read -r "Asset Aliases" DAGs "DAG Runs" "Task Instances"
    airflow users create --username roadsafe_portal --role RoadsafePortal --firstname Portal \
        --lastname Roadsafe --email portal@localhost --password "$(python -c 'import secrets; print(secrets.token_urlsafe(24))')"

With the simple auth manager (development and tests) the smallest role that may create asset events is
``op`` (``AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin,roadsafe_portal:op``).
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["ASSET_NAME", "AirflowNotifier", "NotifyError"]

ASSET_NAME = "roadsafe_inbox"
log = logging.getLogger(__name__)


class NotifyError(Exception):
    """Airflow could not be told (down, refused the login, no such asset)."""


class _HTTPStatus(Exception):
    def __init__(self, status: int, body: str):
        super().__init__(f"HTTP {status}: {body[:200]}")
        self.status = status


class AirflowNotifier:
    def __init__(
        self,
        url: str | None,
        username: str | None = None,
        password: str | None = None,
        *,
        token: str | None = None,
        timeout: float = 3.0,
        asset_name: str = ASSET_NAME,
    ):
        self.url = (url or "").rstrip("/") or None
        self.username = username
        self.password = password
        self._fixed_token = token
        self._token = token
        self._asset_id: int | None = None
        self.asset_name = asset_name
        self.timeout = timeout
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.url is not None

    def _call(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("Accept", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 - configured URL
                text = resp.read().decode("utf-8") or "{}"
        except urllib.error.HTTPError as exc:
            raise _HTTPStatus(exc.code, exc.read().decode("utf-8", "replace")) from exc
        return json.loads(text)

    def _login(self) -> str:
        if self._fixed_token and not (self.username and self.password):
            return self._fixed_token
        if not (self.username and self.password):
            raise NotifyError("未配置 ROADSAFE_AIRFLOW_USER / ROADSAFE_AIRFLOW_PASSWORD")
        answer = self._call("POST", "/auth/token", {"username": self.username, "password": self.password})
        token = answer.get("access_token")
        if not token:
            raise NotifyError("Airflow /auth/token did not return access_token")
        return token

    def _find_asset(self, token: str) -> int:
        query = urllib.parse.urlencode({"name_pattern": self.asset_name, "limit": 100})
        answer = self._call("GET", f"/api/v2/assets?{query}", token=token)
        for asset in answer.get("assets", []):
            if asset.get("name") == self.asset_name:
                return int(asset["id"])
        raise NotifyError(f"Airflow has no asset named {self.asset_name} (is the roadsafe_ingest DAG loaded?)")

    def notify(self, extra: dict) -> dict:
        """Post one asset event; returns Airflow's answer. Raises :class:`NotifyError`."""
        if not self.enabled:
            raise NotifyError("ROADSAFE_AIRFLOW_URL is not set")
        with self._lock:
            for attempt in range(2):
                try:
                    if self._token is None:
                        self._token = self._login()
                    if self._asset_id is None:
                        self._asset_id = self._find_asset(self._token)
                    return self._call(
                        "POST",
                        "/api/v2/assets/events",
                        {"asset_id": self._asset_id, "extra": extra},
                        token=self._token,
                    )
                except _HTTPStatus as exc:
                    if attempt == 0 and exc.status in (401, 403):
                        self._token = None
                        continue
                    if attempt == 0 and exc.status == 404:
                        self._asset_id = None
                        continue
                    raise NotifyError(str(exc)) from exc
                except (urllib.error.URLError, OSError, ValueError) as exc:
                    raise NotifyError(f"{type(exc).__name__}: {exc}") from exc
        raise NotifyError("Airflow refused the event")
