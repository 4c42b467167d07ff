"""``make bench`` / ``python -m bench``: measure roadsafe against its goals and write bench/RESULTS.md.

Sections (``--only`` picks some): ``ingest`` (the ingest ceiling against DuckDB and pandas + openpyxl),
``build`` (1×/10×/100× full and incremental builds), ``latency`` (inbox → snapshot on a real Airflow),
``reports`` (render times at the smallest and largest scale). Work files go under ``--work`` (default
``$ROADSAFE_BENCH_DIR`` or ``var/bench``), several GB at 100×.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import sys
import time
from pathlib import Path

from bench import build_scale, ingest_ceiling, latency, reports
from bench.results import write_results

SECTIONS = ("ingest", "build", "latency", "reports")
REPO = Path(__file__).resolve().parents[1]


def _machine() -> dict[str, str]:
    import duckdb

    mem = next(
        (
            int(line.split()[1]) // 1024
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.machine(),
    )
    return {
        "CPU": f"{os.cpu_count()} × {cpu}",
        "Memory": f"{mem / 1024:.0f} GiB",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "DuckDB": duckdb.__version__,
        "Load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated: " + ", ".join(SECTIONS))
    parser.add_argument("--scales", default="1,10,100", help="build scales (default 1,10,100)")
    parser.add_argument(
        "--work", type=Path, default=Path(os.environ.get("ROADSAFE_BENCH_DIR", REPO / "var/bench"))
    )
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "RESULTS.md")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of the ingest and render steps")
    parser.add_argument("--latency-files", type=int, default=10)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="build again the homes an earlier run imported (no import timing)",
    )
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    scales = tuple(int(s) for s in args.scales.split(","))
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results: dict = {
        "machine": _machine(),
        "started": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }

    def say(text: str) -> None:
        print(f"[bench {time.monotonic() - started:6.0f} s] {text}", file=sys.stderr, flush=True)

    if "ingest" in only:
        say("ingest ceiling")
        results["ingest"] = ingest_ceiling.run(work / "ingest", repeat=args.repeat)
    if "build" in only or "reports" in only:
        wanted = scales if "build" in only else tuple(dict.fromkeys((min(scales), max(scales))))
        results["build"] = []
        results["reports"] = {}
        for scale in wanted:
            say(f"build at {scale}×")
            result = build_scale.run_scale(work / f"scale-{scale}", scale, reuse=args.reuse)
            results["build"].append(result)
            if "reports" in only and scale in (min(scales), max(scales)):
                say(f"reports at {scale}×")
                results["reports"][scale] = reports.run(result.env, repeat=args.repeat)
    if "latency" in only:
        say("event latency")
        env, samples, _ = build_scale.prepare_home(work / "latency", 1)
        results["latency"] = latency.run(work / "latency", samples, n=args.latency_files)
    results["seconds"] = time.monotonic() - started
    results["command"] = (
        "make bench"
        if argv is None and sys.argv[1:] == []
        else "python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv)
    )
    write_results(args.out, results)
    say(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
