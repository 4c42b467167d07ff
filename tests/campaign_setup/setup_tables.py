"""Tables for the campaign set-up tests: the 2022 plan's task list written as a 责任分工表 from the plan's own
text (``document.txt`` of jiujiang-2022), and a table with odd deadlines and unknown units."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

from roadsafe.campaign import campaigns_dir

HEADER = ["序号", "工作任务", "具体措施", "牵头单位", "协作单位", "完成时限", "工作推进落实情况"]


@dataclass(frozen=True)
class PlanTask:
    no: int
    title: str
    measures: str
    lead: str
    co: str
    deadline: str


def plan_tasks() -> tuple[list[tuple[str, list[PlanTask]]], str]:
    """The sections and tasks of 九府办字[2022]36号 as its text states them: "N.标题。措施(牵头单位:…,
    协作单位:…;完成时限:…)", a task's paragraphs joined (the published text breaks some of them)."""
    text = (campaigns_dir() / "jiujiang-2022" / "document.txt").read_text(encoding="utf-8")
    body = text[text.index("三、整治任务") : text.index("四、工作要求")]
    paragraphs = ["".join(p.split()) for p in body.split("\n") if p.strip()][1:]
    sections: list[tuple[str, list[str]]] = []
    for para in paragraphs:
        if m := re.match(r"^\(([一二三四五])\)(.+?)。?$", para):
            sections.append((m.group(2), []))
        elif re.match(r"^\d{1,2}\.", para):
            sections[-1][1].append(para)
        else:
            sections[-1][1][-1] += para
    out = []
    for title, tasks in sections:
        parsed = []
        for raw in tasks:
            m = re.match(r"^(\d{1,2})\.(.+?)。(.*)\((牵头单位.+)\)$", raw)
            assert m, raw
            duty = m.group(4)
            lead = re.search(r"牵头单位[:：](.+?)(?:[,;，；](?:协作单位|完成时限)|$)", duty).group(1)
            co = re.search(r"协作单位[:：](.+?)(?:[,;，；]完成时限|$)", duty)
            deadline = re.search(r"完成时限[:：;；](.+)$", duty).group(1)
            parsed.append(
                PlanTask(int(m.group(1)), m.group(2), m.group(3), lead, co.group(1) if co else "", deadline)
            )
        out.append((title, parsed))
    return out, "2022年全市道路交通安全专项整治实施方案重点任务责任分工表"


def write_plan_table(path: Path) -> Path:
    """The 2022 task list as an office would lay it out: a title, the header (repeated on the second
    page), section rows merged across the table, one row per task."""
    sections, title = plan_tasks()
    book = Workbook()
    ws = book.active
    ws.title = "附件"
    ws.append([title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws.append(HEADER)
    labels = "一二三四五"
    for n, (section, tasks) in enumerate(sections):
        if n == 3:
            ws.append(HEADER)  # the header repeated at a page break
        ws.append([f"（{labels[n]}）{section}"])
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=len(HEADER))
        for t in tasks:
            ws.append([t.no, t.title, t.measures, t.lead, t.co, t.deadline, None])
    book.save(path)
    return path


def write_odd_table(path: Path) -> Path:
    """A table with odd deadlines and unknown units (no year in the title: the year comes from --year)."""
    book = Workbook()
    ws = book.active
    ws.title = "分工表"
    ws.append(["道路交通安全百日攻坚行动重点任务分工表"])
    ws.append(["序号", "整治内容", "牵头单位", "配合单位", "完成时限", "工作目标"])
    ws.append(["一、隐患排查"])
    ws.append([1, "排查临水临崖路段", "市公安局", "市交通运输局、市发改委", "6月底前", "排查率达100%"])
    ws.append([2, "校车安全检查", "市教育局", "市直有关单位", "5月中旬", None])
    ws.append([3, "健全路长制", "市交通运输局", "各县(市、区)人民政府", "按时间节点", None])
    ws.append([4, "宣传曝光", "市融媒体中心", None, "长期坚持", None])
    ws.append([5, "施工路段整治", "市公安局", None, "13月底", None])
    book.save(path)
    return path
