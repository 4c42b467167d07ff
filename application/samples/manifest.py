"""The sample manifest: one entry per file in the order received, and the header beside it."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ManifestEntry:
    """One file of the sample campaign, as the office received it."""

    path: str
    unit_id: str
    form_code: str
    period_no: int
    received_at: str
    channel: str
    expect: str  # accepted / rejected / duplicate
    note: str
    due_at: str
    minutes_late: int
    format: str  # xlsx / xls / csv
    encoding: str | None
    cases: list[str]
    special: str | None  # wrong:<kind> / corrected / revised_first / revision / duplicate / None
    related: str | None  # the earlier (or later) file this one belongs with
    rows: int
    size_bytes: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Manifest:
    """What :func:`generate_samples` wrote. ``entries`` are ordered by ``received_at``."""

    out_dir: Path
    campaign_code: str
    seed: int
    scale: int
    entries: list[ManifestEntry]
    missing: list[dict[str, Any]]
    expected: int
    extra_units: list[dict[str, Any]] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def counts(self) -> dict[str, dict[str, int]]:
        cases = Counter(c for e in self.entries for c in e.cases)
        return {
            "by_form": dict(sorted(Counter(e.form_code for e in self.entries).items())),
            "by_format": dict(
                sorted(
                    Counter(e.format + (f"/{e.encoding}" if e.encoding else "") for e in self.entries).items()
                )
            ),
            "by_expect": dict(sorted(Counter(e.expect for e in self.entries).items())),
            "by_special": dict(sorted(Counter(e.special or "-" for e in self.entries).items())),
            "late": {
                "late": sum(e.minutes_late > 0 for e in self.entries),
                "on_time": sum(e.minutes_late == 0 for e in self.entries),
            },
            "cases": dict(sorted(cases.items())),
        }

    def header(self) -> dict[str, Any]:
        return {
            "campaign_code": self.campaign_code,
            "seed": self.seed,
            "scale": self.scale,
            "files": len(self.entries),
            "expected_submissions": self.expected,
            "missing": self.missing,
            "extra_units": self.extra_units,
            "rules": self.rules,
            "counts": self.counts(),
        }


def load_manifest(out_dir) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read back ``manifest.json`` (header) and ``manifest.jsonl`` (one dict per file)."""
    out = Path(out_dir)
    header = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    lines = (out / "manifest.jsonl").read_text(encoding="utf-8").splitlines()
    return header, [json.loads(line) for line in lines if line.strip()]


# ---------------------------------------------------------------------------------------------- planning
