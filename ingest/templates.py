"""Blank official forms (填报模板) for a unit and a week, so offices start from the right thing.

``write_template(campaign, "F1", "gongan", 5, "F1.xlsx")`` writes the form in the official layout
(:mod:`ingest.formfile`) with

- the rows the unit is responsible for already filled in: for a county-grain form every county for a city
  department, the county itself for a county; for the task form (F9) the tasks the unit leads, each task's
  title, deadline and summary in a comment on its 任务编号 cell (the sheet keeps exactly the form's columns);
- drop-down lists for county, enum and 是/否 columns, a whole-number ≥ 0 check for count columns (a warning
  only, so “—” for unknown can still be typed), date checks, comments on the header cells saying whether a
  column is 截至本周末累计 or 本周内发生数;
- a frozen header, columns sized to their Chinese headers, and a 填表说明 sheet.

The command line (``roadsafe template F1 --unit 市公安局 --week 5 -o F1.xlsx``) calls :func:`write_template`.
"""

from __future__ import annotations

from pathlib import Path

from ingest.formfile import (
    HEADER_GROUPS,
    Layout,
    form_due_at,
    period_span,
    write_form_xlsx,
)

__all__ = ["instructions", "template_layout", "template_rows", "write_template"]

_TYPE_WORDS = {
    "county": "县(市、区)名称，从下拉列表选择",
    "integer": "整数",
    "rate": "比率，0至100%",
    "date": "日期，如2022-04-15",
    "text": "文字",
    "enum": "从下拉列表选择",
    "yesno": "是/否",
    "task": "任务编号（已预填，请勿修改）",
}

_RECORD_ROWS = 300  # how many empty ledger rows carry the drop-down lists and checks


def _resolve(campaign, form_code: str, unit: str, period_no: int):
    if form_code not in campaign.forms:
        known = "、".join(campaign.forms)
        raise ValueError(f"报表代码“{form_code}”不存在，可用的报表：{known}。")
    resolved = campaign.units.get(unit) or campaign.resolve_unit(unit)
    if resolved is None or resolved.kind not in {"county", "department"}:
        raise ValueError(f"找不到填报单位“{unit}”，请填写县(市、区)或市直部门的名称。")
    try:
        campaign.period(period_no)
    except KeyError:
        n = len(campaign.periods())
        raise ValueError(f"第{period_no}周不在活动期内（共{n}周，第1周至第{n}周）。") from None
    return campaign.forms[form_code], resolved


def template_rows(campaign, form_code: str, unit_id: str) -> tuple[list[dict], dict[tuple[int, str], str]]:
    """The prefilled rows of a unit's template and the comments on them ((row index, key) → text)."""
    form = campaign.forms[form_code]
    unit = campaign.units[unit_id]
    if form.grain == "county":
        counties = [u for u in campaign.counties if campaign.may_report_on(unit.id, u.id)]
        return [{form.county_column: u.name} for u in counties], {}
    if form.grain == "task":
        task_col = next(c.key for c in form.columns if c.type == "task")
        numbers = campaign.tasks_led_by(unit.id)
        if not numbers:
            raise ValueError(f"{unit.name}不是任何重点任务的牵头单位，无需填报“{form.name}”。")
        rows, comments = [], {}
        for i, no in enumerate(numbers):
            task = campaign.task(no)
            rows.append({task_col: no})
            comments[(i, task_col)] = (
                f"任务{no}：{task.title}\n完成时限：{task.deadline.year}年{task.deadline.month}月"
                f"{task.deadline.day}日\n{task.summary}"
            )
        return rows, comments
    return [], {}


def instructions(campaign, form_code: str, unit_id: str, period_no: int) -> list[list[str]]:
    """The 填表说明 sheet: numbered rules, then one line per column."""
    form = campaign.forms[form_code]
    unit = campaign.units[unit_id]
    due = form_due_at(campaign, period_no)
    submitters = "、".join(campaign.units[u].name for u in campaign.form_submitters(form_code)[:6])
    if len(campaign.form_submitters(form_code)) > 6:
        submitters += "等"
    stock = [c.header for c in form.columns if c.measure == "stock"]
    flow = [c.header for c in form.columns if c.measure == "flow"]
    rules = [
        f"本表为“{campaign.frame.name}”{form.name}，由{submitters}按周填报，{campaign.frame.office_short}汇总。",
        f"本期为{campaign.period(period_no).label}，统计时段{period_span(campaign, period_no)}；"
        f"填报单位：{unit.name}。",
        f"报送时限：{due.year}年{due.month}月{due.day}日{due:%H:%M}前（统计时段结束次日12时，"
        "遇法定节假日、休息日顺延至下一个工作日）。逾期报送将计入排名扣分。",
    ]
    if stock:
        rules.append(f"{'、'.join(stock)}填写截至本周末累计数（不是本周新增数）。")
    if flow:
        rules.append(f"{'、'.join(flow)}填写本周内发生数。")
    rules += [
        "数据不详或无法统计的，请留空或填“—”，不要填0；确实为零的填0。",
        "数字请填写阿拉伯数字，不加单位；日期格式为2022-04-15。",
        "请勿增删列、合并单元格或修改表头；已预填的县区或任务编号请勿修改。",
    ]
    if form.grain == "county":
        rules.append(
            "县级单位只填报本县(市、区)一行；市直部门填报全部县(市、区)。合计行由系统自动计算，无需填写。"
        )
    elif form.grain == "record":
        key = form.column(form.key_column).header
        rules.append(f"本表为累计台账：每周报送全部记录（含已完成的），{key}一经编号不再变更。")
    else:
        rules.append("每项牵头任务填写一行；将鼠标移到任务编号单元格可查看任务内容和完成时限。")
    for rule in form.rules:
        if rule.le:
            rules.append(f"“{form.column(rule.le[0]).header}”不得大于“{form.column(rule.le[1]).header}”。")
        elif rule.requires and rule.when:
            ((k, v),) = rule.when.items()
            rules.append(f"“{form.column(k).header}”为“{v}”时须填写“{form.column(rule.requires).header}”。")
    rows: list[list[str]] = [[f"{form.name}填表说明"]]
    rows += [[f"{i}. {text}"] for i, text in enumerate(rules, 1)]
    rows += [[""], ["列名", "填写内容", "可选值"]]
    for col in form.columns:
        what = _TYPE_WORDS[col.type]
        if col.measure == "stock":
            what += "，截至本周末累计"
        elif col.measure == "flow":
            what += "，本周内发生数"
        if col.required:
            what += "，必填"
        values = "、".join(col.values or (["是", "否"] if col.type == "yesno" else []))
        rows.append([col.header, what, values])
    return rows


def template_layout(campaign, form_code: str, unit_id: str, period_no: int) -> tuple[list[dict], Layout]:
    """The rows and :class:`~ingest.formfile.Layout` of a unit's template (for callers that fill it in)."""
    form, unit = _resolve(campaign, form_code, unit_id, period_no)
    rows, comments = template_rows(campaign, form_code, unit.id)
    header_comments = {}
    for col in form.columns:
        if col.measure == "stock":
            header_comments[col.key] = f"{col.header}：截至本周末累计数"
        elif col.measure == "flow":
            header_comments[col.key] = f"{col.header}：本周内（{period_span(campaign, period_no)}）发生数"
    layout = Layout(
        grouped_header=form_code in HEADER_GROUPS,
        validations=True,
        header_comments=header_comments,
        cell_comments=comments,
        validation_rows=_RECORD_ROWS if form.grain == "record" else len(rows),
        footer=form.grain != "record",  # a ledger grows downwards: no footer in the way
        instructions=instructions(campaign, form_code, unit.id, period_no),
        sheet_name=form.name,
    )
    return rows, layout


def write_template(campaign, form_code: str, unit_id: str, period_no: int, path) -> Path:
    """Write the blank official form of ``form_code`` for a unit and week to ``path`` (.xlsx).

    ``unit_id`` may be an id or any name or alias of the unit (``市公安局``, ``浔阳``).

    Raises
    ------
    ValueError
        (Chinese message) for an unknown form, unit or week, or F9 for a unit that leads no task.

    Examples
    --------
    >>> from roadsafe.campaign import load_campaign
    >>> import tempfile, openpyxl
    >>> c = load_campaign("jiujiang-2022")
    >>> p = write_template(c, "F1", "gongan", 5, Path(tempfile.mkdtemp()) / "F1.xlsx")
    >>> openpyxl.load_workbook(p).active["A1"].value
    '2022年全市道路交通安全专项整治 重点车辆隐患清零周报（第5周）'
    """
    _, unit = _resolve(campaign, form_code, unit_id, period_no)
    rows, layout = template_layout(campaign, form_code, unit.id, period_no)
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ValueError("模板只生成 .xlsx 文件，请使用 .xlsx 文件名。")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_form_xlsx(path, campaign, form_code, unit.id, period_no, rows, layout=layout)
    return path
