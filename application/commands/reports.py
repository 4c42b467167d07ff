"""``roadsafe report …``, ``roadsafe site`` and ``roadsafe serve``.

=====================================================  ==================================================
``roadsafe report weekly --week N``                    freeze + render 第N周 通报 and 调度单; prints paths
``roadsafe report monthly --month YYYY-MM``            freeze + render the month's 排名 and 小结
``roadsafe report half-year --period N``                freeze + render the N-th half year's 半年工作总结
``roadsafe report yearly``                             freeze + render the 年度考核 (after the year's data)
``roadsafe report final``                              freeze + render the end-of-campaign 总结评估
``roadsafe report all``                                every weekly and monthly edition already due
``roadsafe report deliver DIR [--force]``              e-mail a rendered edition (SMTP from environment)
``roadsafe site``                                      build ``$ROADSAFE_HOME/site/`` from the snapshot
``roadsafe serve [--port 8000] [--host 127.0.0.1]``    serve the site read-only
=====================================================  ==================================================

The scheduled editions go through sign-off (审核签发) first: ``roadsafe edition …``
(:mod:`application.commands.edition`, registered here with the reports).

Heavy libraries are imported inside the handlers, so ``roadsafe --help`` stays instant.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

from application.commands import edition

__all__ = ["register"]


def _friendly(handler):
    """Report the errors a user can fix (a week outside the campaign, no snapshot yet, no SMTP server) as one
    Chinese line and exit status 2, instead of a traceback."""
    import functools

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (ValueError, LookupError, FileNotFoundError, FileExistsError, RuntimeError, OSError) as exc:
            print(f"错误：{exc}", file=sys.stderr)
            return 2

    return run


def _aware(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError("请带上时区，例如 2022-05-12T17:00:00+08:00")
    return value


def _print_result(folders, settings) -> None:
    from dashboards.editions import open_edition

    for folder in folders:
        edition = open_edition(folder)
        print(f"{edition.meta.title}（第{edition.meta.issue_no}期，{edition.meta.label}）")
        for path in edition.outputs().values():
            print(f"  {path}")


@_friendly
def _weekly(args: argparse.Namespace) -> int:
    from dashboards.editions import weekly_edition

    folders = weekly_edition(args.settings, args.week, frozen_at=args.frozen_at, refreeze=args.refreeze)
    _print_result(folders, args.settings)
    return 0


@_friendly
def _monthly(args: argparse.Namespace) -> int:
    from dashboards.editions import monthly_edition

    folders = monthly_edition(args.settings, args.month, frozen_at=args.frozen_at, refreeze=args.refreeze)
    _print_result(folders, args.settings)
    return 0


@_friendly
def _span(args: argparse.Namespace) -> int:
    from dashboards.editions import span_edition

    folder = span_edition(
        args.settings,
        args.span_kind,
        getattr(args, "period", None),
        frozen_at=args.frozen_at,
        refreeze=args.refreeze,
    )
    _print_result([folder], args.settings)
    return 0


@_friendly
def _all(args: argparse.Namespace) -> int:
    from dashboards.editions import all_editions

    results = all_editions(args.settings, refreeze=args.refreeze, jobs=args.jobs, frozen_at=args.frozen_at)
    for result in results:
        meta = result.edition.meta
        times = "，".join(f"{k.upper()} {v:.1f}秒" for k, v in result.timings.items()) or "已存在，未重新生成"
        print(f"{meta.title}（第{meta.issue_no}期，{meta.label}）：{times}")
        print(f"  {result.edition.folder}")
    print(f"共 {len(results)} 期，位于 {args.settings.reports}")
    return 0


@_friendly
def _deliver(args: argparse.Namespace) -> int:
    from dashboards.delivery import deliver

    for result in deliver(args.settings, args.edition, force=args.force):
        word = "已发送" if result["status"] == "sent" else "此前已发送，未重复发送"
        print(f"{result['subject']}：{word} → {', '.join(result['recipients'])}")
    return 0


@_friendly
def _site(args: argparse.Namespace) -> int:
    from dashboards.site import build_site

    print(build_site(args.settings))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from dashboards.site import serve

    def ready(address):
        host, port = address
        print(f"站点：http://{host}:{port}/ （只读，Ctrl+C 退出）", flush=True)

    try:
        serve(args.settings, host=args.host, port=args.port, rebuild=args.rebuild, ready=ready)
    except KeyboardInterrupt:
        pass
    return 0


def register(subparsers) -> None:
    """Add ``report``, ``site`` and ``serve`` to the ``roadsafe`` command line."""
    report = subparsers.add_parser(
        "report", help="weekly, monthly, half-year, yearly and final reports (HTML, PDF, XLSX)"
    )
    kinds = report.add_subparsers(dest="report_kind", required=True, metavar="KIND")

    def common(p):
        p.add_argument("--refreeze", action="store_true", help="freeze again from the current snapshot")
        p.add_argument(
            "--frozen-at", type=_aware, default=None, metavar="ISO", help="stated freeze time (default now)"
        )

    p = kinds.add_parser("weekly", help="第N周 工作通报 and 工作调度单")
    p.add_argument("--week", type=int, required=True, metavar="N")
    common(p)
    p.set_defaults(func=_weekly)

    p = kinds.add_parser("monthly", help="the month's 工作排名 and 工作小结")
    p.add_argument("--month", required=True, metavar="YYYY-MM")
    common(p)
    p.set_defaults(func=_monthly)

    p = kinds.add_parser("half-year", help="the half year's 半年工作总结 (campaigns reporting by half year)")
    p.add_argument("--period", type=int, required=True, metavar="N", help="1 = the first half year")
    common(p)
    p.set_defaults(func=_span, span_kind="half_year_summary")

    p = kinds.add_parser("yearly", help="the 年度考核 (campaigns with a yearly assessment)")
    common(p)
    p.set_defaults(func=_span, span_kind="yearly_assessment")

    p = kinds.add_parser("final", help="the end-of-campaign 总结评估, over the whole campaign")
    common(p)
    p.set_defaults(func=_span, span_kind="final_assessment")

    p = kinds.add_parser("all", help="every edition already due")
    common(p)
    p.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1), help="parallel renderers")
    p.set_defaults(func=_all)

    p = kinds.add_parser("deliver", help="e-mail a rendered edition (SMTP from ROADSAFE_SMTP_*)")
    p.add_argument("edition", help="the edition folder, e.g. var/reports/weekly_bulletin/week-05")
    p.add_argument("--force", action="store_true", help="send again even if sent before")
    p.set_defaults(func=_deliver)

    p = subparsers.add_parser("site", help="build the static dashboard site from the published snapshot")
    p.set_defaults(func=_site)

    p = subparsers.add_parser("serve", help="serve the dashboard site read-only")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1: this machine only)")
    p.add_argument("--rebuild", action="store_true", help="rebuild the site first")
    p.set_defaults(func=_serve)

    edition.register(subparsers)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: roadsafe report|site|serve")
