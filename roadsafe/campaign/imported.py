"""Campaigns the office set up from its own table: written under ``$ROADSAFE_HOME/campaigns/<code>/``, and
written back as a table.

A folder is written whole or not at all: the files go to a hidden folder beside the target, the campaign is
loaded and checked from there, and only then is the folder renamed into place. A draft (``--draft``) is
written even with problems, every one listed in ``待确认.txt``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import yaml

from roadsafe.campaign.deadlines import format_deadline
from roadsafe.campaign.definition import COUNTIES, DOCUMENT_FILE, Campaign
from roadsafe.campaign.table import write_grid
from roadsafe.campaign.table_import import ImportResult

__all__ = ["CONFIRM_FILE", "export_table", "render_report", "write_imported"]

CONFIRM_FILE = "待确认.txt"
_CN_SECTION = "一二三四五六七八九十"


def render_report(result: ImportResult) -> str:
    """The Chinese report of an import: the blocking problems, then what the office should confirm."""
    lines = [f"导入文件：{result.source.name}，工作表“{result.sheet}”", f"识别任务 {len(result.tasks)} 项。"]
    if result.errors:
        lines.append(f"发现 {len(result.errors)} 处错误（须改正后重新导入）：")
        lines += [f"  {n}. {p.text()}" for n, p in enumerate(result.errors, 1)]
    if result.to_confirm:
        lines.append(f"以下 {len(result.to_confirm)} 处请核对确认：")
        lines += [f"  {n}. {p.text()}" for n, p in enumerate(result.to_confirm, 1)]
    return "\n".join(lines) + "\n"


def _dump(data: object) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def write_imported(result: ImportResult, root: Path, draft: bool = False) -> list[str]:
    """Write the campaign folder ``root`` (which must not exist); returns the problems the loaded campaign
    still has (empty when it loads). Nothing is written when the table or the campaign has errors, unless
    ``draft``."""
    from roadsafe.campaign import CampaignError, load_campaign

    if result.errors and not draft:
        return [p.text() for p in result.errors]
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
    try:
        tasks = {"sections": result.sections, "tasks": result.tasks}
        files = {
            "campaign.yml": f"# 由责任分工表“{result.source.name}”导入（{dt.date.today().isoformat()}）\n"
            + _dump(result.frame),
            "units.yml": _dump(result.units),
            "tasks.yml": _dump(tasks),
            "forms.yml": _dump(result.forms) if result.forms else "{}\n",
            "indicators.yml": "# 指标待市整治办设定（导入的表格不含指标定义）\n{}\n",
            DOCUMENT_FILE: result.document + "\n",
        }
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        shutil.copyfile(result.source, staging / f"分工表原件{result.source.suffix.lower()}")
        load_problems: list[str] = []
        try:
            load_campaign(staging)
        except CampaignError as exc:
            load_problems = exc.problems
        report = render_report(result)
        if load_problems:
            report += "活动定义检查未通过：\n" + "".join(f"  - {p}\n" for p in load_problems)
        if result.problems or load_problems:
            (staging / CONFIRM_FILE).write_text(report, encoding="utf-8")
        if load_problems and not draft:
            return load_problems
        staging.chmod(0o755)
        staging.rename(root)
        return load_problems
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def export_table(campaign: Campaign, path: Path) -> int:
    """Write a campaign's tasks as a 责任分工表 (.xlsx); returns the number of tasks written."""
    names = {u.id: u.name for u in campaign.units.values()}

    def joined(refs: list[str]) -> str:
        return "、".join(campaign.units_def.all_counties_alias if r == COUNTIES else names[r] for r in refs)

    rows: list[list[str] | str] = []
    for section in campaign.sections:
        label = _CN_SECTION[section.no - 1] if section.no <= len(_CN_SECTION) else str(section.no)
        rows.append(f"（{label}）{section.title}")
        for t in (t for t in campaign.tasks if t.section == section.no):
            rows.append(
                [str(t.no), t.title, t.summary, joined(t.lead), joined(t.co), format_deadline(t.deadline)]
            )
    header = ["序号", "工作任务", "具体措施", "牵头单位", "协作单位", "完成时限"]
    write_grid(path, f"{campaign.frame.name}重点任务责任分工表", header, rows)
    return len(campaign.tasks)
