"""``roadsafe airflow up|down|status`` (``make up`` / ``make down``): Airflow as services on this machine.

=======================================================================  =====================================
``roadsafe airflow up [--profile embedded|prod] [--port 8080]``          start the components, print the login
``roadsafe airflow down``                                                stop exactly what ``up`` started
``roadsafe airflow status [--port 8080]``                                recorded processes and health
=======================================================================  =====================================

The profile defaults to ``$ROADSAFE_PROFILE`` (``embedded``: SQLite and the LocalExecutor; ``prod``:
PostgreSQL, Redis and two Celery workers); the ports to ``$AIRFLOW_PORT`` and ``$ROADSAFE_PORTAL_PORT``.
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["register"]


def _up(args: argparse.Namespace) -> int:
    from application.airflow.local import profile_from_env
    from application.airflow.service import ServiceError, up

    try:
        profile = args.profile or profile_from_env()
        print(up(args.settings.root, port=args.port, portal_port=args.portal_port, profile=profile,
                 workers=args.workers))  # fmt: skip
    except (ServiceError, ValueError, RuntimeError) as exc:
        print(f"airflow: {exc}", file=sys.stderr)
        return 1
    return 0


def _down(args: argparse.Namespace) -> int:
    from application.airflow.service import down

    down(args.settings.root)
    return 0


def _status(args: argparse.Namespace) -> int:
    from application.airflow.service import status

    return 0 if status(args.settings.root, port=args.port) else 1


def register(sub) -> None:
    p = sub.add_parser("airflow", help="start, stop or check Airflow on this machine (make up / make down)")
    actions = p.add_subparsers(dest="action", required=True)
    port = int(os.environ.get("AIRFLOW_PORT") or 8080)
    a = actions.add_parser("up", help="start scheduler, dag-processor, triggerer, api-server (and workers)")
    a.add_argument("--profile", choices=("embedded", "prod"), help="default: $ROADSAFE_PROFILE or embedded")
    a.add_argument("--port", type=int, default=port)
    a.add_argument("--portal-port", type=int, default=int(os.environ.get("ROADSAFE_PORTAL_PORT") or 8510))
    a.add_argument("--workers", type=int, default=2, help="Celery workers in the prod profile (default 2)")
    a.set_defaults(func=_up)
    d = actions.add_parser("down", help="stop exactly the processes 'up' started")
    d.set_defaults(func=_down)
    s = actions.add_parser("status", help="the recorded processes and the health endpoint")
    s.add_argument("--port", type=int, default=port)
    s.set_defaults(func=_status)
