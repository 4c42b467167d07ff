"""bench/RESULTS.md: the measured numbers as tables, each goal with met / missed and by how much."""

from __future__ import annotations

from pathlib import Path

from bench.reports import KIND_NAMES

__all__ = ["BUILD_GOALS", "write_results"]

# What profiling found behind each figure, kept by hand and appended to every RESULTS.md the run writes.
FINDINGS = Path(__file__).with_name("findings.md")

BUILD_GOALS = {"full_s": 30.0, "full_mib": 1536.0, "incremental_s": 10.0}
LATENCY_GOAL_S = 10.0  # median; the slowest under LATENCY_MAX_S
LATENCY_MAX_S = 15.0
EDITION_GOALS_S = {1: 2.0, 100: 5.0}  # one edition, HTML + PDF + XLSX, at the smallest / largest scale


def _verdict(met: bool, detail: str) -> str:
    return f"**met** ({detail})" if met else f"**missed** ({detail})"


def _ingest(rows: list) -> list[str]:
    out = [
        "## Ingest ceiling (form F4, one county's hazard ledger)",
        "",
        "| file | rows | roadsafe submit | rows/s | peak RSS | baseline | rows/s | peak RSS | ratio | goal |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in rows:
        ratio = f"{r.ratio:.1f}×" if r.ratio_is_speedup else f"{r.ratio:.0%}"
        need = f"{r.goal_ratio:.0f}×" if r.ratio_is_speedup else f"{r.goal_ratio:.0%}"
        out.append(
            f"| {r.label} | {r.rows:,} | {r.ours.seconds:.2f} s | {r.ours.rate(r.rows):,.0f} | {r.ours.peak_mib:,.0f} MiB "
            f"| {r.baseline_name} {r.baseline.seconds:.2f} s | {r.baseline.rate(r.rows):,.0f} | {r.baseline.peak_mib:,.0f} MiB "
            f"| {ratio} | {_verdict(r.met, f'{r.goal}; measured {ratio}, needed {need}')} |"
        )
    out += [
        "",
        "Each is its own process (start-up included on both sides), median of the runs, baseline and roadsafe "
        "interleaved. `roadsafe submit` lands the file, detects form/sheet/header, validates every cell, "
        "normalises and records provenance per row in one transaction; the baselines only load text.",
        "",
    ]
    return out


def _seconds(measured) -> str:
    return "(home reused)" if measured is None else f"{measured.seconds:.0f} s"


def _build(rows: list) -> list[str]:
    out = [
        "## Build at scale",
        "",
        "| scale | counties | submissions | values | F4 rows | warehouse | import all | full build | peak RSS "
        "| submit one more file | incremental build | peak RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r.scale}× | {r.counties} | {r.files:,} | {r.values:,} | {r.f4_rows:,} | {r.warehouse_mib:,.0f} MiB "
            f"| {_seconds(r.import_all)} | {r.full_build.seconds:.1f} s | {r.full_build.peak_mib:,.0f} MiB "
            f"| {r.import_one.seconds:.1f} s | {r.incremental_build.seconds:.1f} s | {r.incremental_build.peak_mib:,.0f} MiB |"
        )
    if rows:
        top = max(rows, key=lambda r: r.scale)
        g = BUILD_GOALS
        out += [
            "",
            f"- Full build at {top.scale}× under {g['full_s']:.0f} s: "
            + _verdict(top.full_build.seconds < g["full_s"], f"{top.full_build.seconds:.1f} s"),
            f"- Full build at {top.scale}× under {g['full_mib']:,.0f} MiB: "
            + _verdict(top.full_build.peak_mib < g["full_mib"], f"{top.full_build.peak_mib:,.0f} MiB"),
            f"- Incremental build at {top.scale}× under {g['incremental_s']:.0f} s: "
            + _verdict(
                top.incremental_build.seconds < g["incremental_s"], f"{top.incremental_build.seconds:.1f} s"
            ),
            "",
        ]
    return out


def _latency(result) -> list[str]:
    secs = ", ".join(f"{s:.1f}" for s in result.seconds)
    return [
        "## Event latency (inbox file → published snapshot, real scheduler + triggerer)",
        "",
        f"- {len(result.seconds)} files, one at a time: median **{result.median:.1f} s**, max {max(result.seconds):.1f} s "
        f"({secs}); Airflow start-up {result.startup:.0f} s (not counted).",
        f"- Median under {LATENCY_GOAL_S:.0f} s and max under {LATENCY_MAX_S:.0f} s: "
        + _verdict(
            result.median < LATENCY_GOAL_S and max(result.seconds) < LATENCY_MAX_S,
            f"{result.median:.1f} / {max(result.seconds):.1f} s",
        ),
        "",
    ]


def _reports(by_scale: dict) -> list[str]:
    out = [
        "## Reports (seconds per edition, median)",
        "",
        "| scale | edition | HTML | PDF | XLSX | all three | goal |",
        "|---:|---|---:|---:|---:|---:|---|",
    ]
    for scale, kinds in sorted(by_scale.items()):
        goal = EDITION_GOALS_S.get(scale)
        for kind, t in kinds.items():
            total = t["html"] + t["pdf"] + t["xlsx"]
            verdict = "" if goal is None else _verdict(total <= goal, f"≤ {goal:.0f} s")
            out.append(
                f"| {scale}× | {KIND_NAMES[kind]} | {t['html']:.2f} | {t['pdf']:.2f} | {t['xlsx']:.2f} "
                f"| {total:.2f} | {verdict} |"
            )
    return out + ["", "HTML includes reading the frozen snapshot and drawing the charts.", ""]


def write_results(path: Path, results: dict) -> None:
    lines = [
        "# roadsafe benchmark results",
        "",
        f"Written by `{results['command']}` on {results['started']}, in {results['seconds'] / 60:.0f} min.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in results["machine"].items()),
        "",
    ]
    if "ingest" in results:
        lines += _ingest(results["ingest"])
    if results.get("build"):
        lines += _build(results["build"])
    if "latency" in results:
        lines += _latency(results["latency"])
    if results.get("reports"):
        lines += _reports(results["reports"])
    if FINDINGS.is_file():
        lines += ["", FINDINGS.read_text(encoding="utf-8").rstrip()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
