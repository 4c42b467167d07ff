"""Rules that need the whole definition. Each returns Chinese messages naming the file and the entry."""

from __future__ import annotations

from collections.abc import Iterator

from roadsafe.campaign.definition import COUNTIES, DOCUMENT_FILE, TASK_LEADS, Campaign, normalise_name
from roadsafe.campaign.model import FormDef, IndicatorDef, Requirement, Term

__all__ = ["check_campaign"]

_NUMERIC = {"integer", "rate"}


def check_campaign(c: Campaign) -> list[str]:
    """Every problem found in a parsed definition; an empty list means it can be used."""
    return [
        *_check_frame(c),
        *_check_units(c),
        *_check_tasks(c),
        *_check_forms(c),
        *_check_indicators(c),
        *_check_documents(c),
    ]


def _check_frame(c: Campaign) -> Iterator[str]:
    f = c.frame
    if f.start > f.end:
        yield f"campaign.yml：开始日期 {f.start} 晚于结束日期 {f.end}。"
    for oneoff in f.oneoffs:
        if oneoff.due and not f.start <= oneoff.due <= f.end:
            yield f"campaign.yml：一次性报送“{oneoff.name}”的截止日期 {oneoff.due} 不在活动期内（{f.start}至{f.end}）。"
        if (oneoff.due is None) == (oneoff.rule is None):
            yield f"campaign.yml：一次性报送“{oneoff.name}”须且只能填写 due 或 rule 之一。"
    for key, rule in [*f.reports.items(), *f.due.items()]:
        given = [rule.days_after_period_end, rule.days_after_campaign_end, rule.rule]
        if sum(x is not None for x in given) != 1:
            yield f"campaign.yml：“{key}”须且只能填写 days_after_period_end、days_after_campaign_end 或 rule 之一。"
    for scope in ("county", "department"):
        weights = getattr(f.ranking, scope).weights
        if sum(weights.values()) <= 0:
            yield f"campaign.yml：排名（{scope}）的权重之和须大于0。"


def _check_units(c: Campaign) -> Iterator[str]:
    seen: dict[str, str] = {}
    for unit in c.units.values():
        if unit.id in seen:
            yield f"units.yml：单位编号“{unit.id}”重复。"
        seen[unit.id] = unit.name
    owners: dict[str, str] = {}
    for unit in c.units.values():
        for name in {normalise_name(n) for n in (unit.name, *unit.aliases)}:
            other = owners.setdefault(name, unit.id)
            if other != unit.id:
                yield f"units.yml：名称或别名“{name}”同时指向“{c.units[other].name}”和“{unit.name}”。"
    county_ids = {u.id for u in c.counties}
    for group in c.units_def.groups:
        for member in group.members:
            if member not in county_ids:
                yield f"units.yml：分组“{group.name}”的成员“{member}”不是已定义的县区单位。"


def _unit_ref_ok(c: Campaign, ref: str) -> bool:
    return ref == COUNTIES or (ref in c.units and c.units[ref].kind in {"county", "department"})


def _check_tasks(c: Campaign) -> Iterator[str]:
    sections = {s.no for s in c.sections}
    numbers: set[int] = set()
    for t in c.tasks:
        where = f"tasks.yml 第{t.no}项任务（{t.title}）"
        if t.no in numbers:
            yield f"{where}：任务编号重复。"
        numbers.add(t.no)
        if t.section not in sections:
            yield f"{where}：所属部分 {t.section} 未在 sections 中定义。"
        if not t.lead:
            yield f"{where}：缺少牵头单位。"
        for role, refs in (("牵头单位", t.lead), ("协作单位", t.co)):
            for ref in refs:
                if not _unit_ref_ok(c, ref):
                    yield f"{where}：{role}“{ref}”不在 units.yml 中。"
        if not c.frame.start <= t.deadline <= c.frame.end:
            yield f"{where}：完成时限 {t.deadline} 不在活动期内（{c.frame.start}至{c.frame.end}）。"
        for req in t.requirements:
            yield from _check_requirement(c, where, req)


def _check_quote(c: Campaign, where: str, quote: str) -> Iterator[str]:
    if c.document_text is not None and not c.quotes_document(quote):
        yield f"{where}：引文“{quote}”在方案原文（{DOCUMENT_FILE}）中找不到。"


def _check_requirement(c: Campaign, where: str, req: Requirement) -> Iterator[str]:
    yield from _check_quote(c, where, req.quote)
    if req.judged_by == "indicators":
        if not req.indicators:
            yield f"{where}：要求“{req.quote}”按指标判断，但未列出指标 indicators。"
        for code in req.indicators:
            if code not in c.indicators:
                yield f"{where}：要求“{req.quote}”引用的指标“{code}”不存在。"
    elif req.indicators:
        yield f"{where}：要求“{req.quote}”不按指标判断，不应列出指标。"
    if (req.at_least is None) != (req.per is None):
        yield f"{where}：要求“{req.quote}”的 at_least 与 per 须同时填写。"
    if (req.judged_by == "office_input") != bool(req.inputs):
        yield f"{where}：要求“{req.quote}”须且只能在由整治办录入（office_input）时填写 inputs。"
    for name in req.inputs:
        if name not in c.frame.office_inputs:
            yield f"{where}：要求“{req.quote}”的录入项“{name}”不在 campaign.yml 的 office_inputs 中。"


def _check_forms(c: Campaign) -> Iterator[str]:
    for code, form in c.forms.items():
        where = f"forms.yml 报表 {code}（{form.name}）"
        keys = [col.key for col in form.columns]
        for key in {k for k in keys if keys.count(k) > 1}:
            yield f"{where}：列“{key}”重复。"
        if form.key_column not in keys:
            yield f"{where}：主键列“{form.key_column}”不在列定义中。"
        if form.grain in {"county", "record"} and form.county_column is None:
            yield f"{where}：按县区或台账报送的报表须有一列类型为 county 的县区列。"
        if form.grain == "task" and not any(col.type == "task" for col in form.columns):
            yield f"{where}：按任务报送的报表须有一列类型为 task 的任务编号列。"
        for ref in form.submitters:
            if ref != TASK_LEADS and not _unit_ref_ok(c, ref):
                yield f"{where}：报送单位“{ref}”不在 units.yml 中。"
        for ref in form.optional_submitters:
            if not _unit_ref_ok(c, ref):
                yield f"{where}：可选报送单位“{ref}”不在 units.yml 中。"
        for col in form.columns:
            if col.type == "enum" and not col.values:
                yield f"{where}：枚举列“{col.header}”缺少可选值 values。"
            if col.monotone and col.type not in _NUMERIC:
                yield f"{where}：只有数值列可以设置 monotone，“{col.header}”不是数值列。"
        yield from _check_roles(where, form)
        yield from _check_rules(where, form)


def _check_roles(where: str, form: FormDef) -> Iterator[str]:
    """Column roles (``role``) tell the task status where a task-grain form keeps the lead unit's status,
    progress, difficulties and evidence: each role at most once, only on a task-grain form, which must
    name its status column; the status column is an enum whose values run from 未启动 (first) to 已完成
    (last), anything between meaning under way."""
    roles = [col.role for col in form.columns if col.role]
    for role in sorted({r for r in roles if roles.count(r) > 1}):
        yield f"{where}：列角色 role “{role}”只能用于一列。"
    if roles and form.grain != "task":
        yield f"{where}：列角色 role 只用于按任务报送（grain: task）的报表。"
        return
    if form.grain != "task":
        return
    status = form.column_with_role("task_status")
    if status is None:
        yield f"{where}：按任务报送的报表须有一列 role 为 task_status 的完成状态列。"
    elif status.type != "enum" or len(status.values or []) < 2:
        yield (
            f"{where}：完成状态列“{status.header}”须为枚举列，且至少有两个可选值"
            "（第一个表示未启动，最后一个表示已完成）。"
        )


def _check_rules(where: str, form: FormDef) -> Iterator[str]:
    keys = set(form.column_keys)
    for rule in form.rules:
        named = [
            *(rule.le or ()),
            *(rule.not_before or ()),
            rule.requires,
            rule.only_when,
            *(rule.when or {}),
        ]
        for key in filter(None, named):
            if key not in keys:
                yield f"{where}：校验规则引用了不存在的列“{key}”。"
        kinds = sum(x is not None for x in (rule.le, rule.not_before, rule.requires, rule.only_when))
        if kinds != 1:
            yield f"{where}：每条校验规则须且只能是 le、not_before、requires、only_when 之一。"


def _check_term(c: Campaign, where: str, name: str, term: Term) -> Iterator[str]:
    form = c.forms.get(term.form)
    if form is None:
        yield f"{where}：{name}引用的报表“{term.form}”不存在。"
        return
    for key in term.columns:
        if key not in form.column_keys:
            yield f"{where}：{name}引用的列“{key}”不在报表 {term.form} 中。"
        elif term.agg == "sum" and form.column(key).type not in _NUMERIC:
            yield f"{where}：{name}对非数值列“{key}”求和。"
    if term.agg != "count" and not term.columns:
        yield f"{where}：{name}的 {term.agg} 须指定列 column。"
    for cond in term.where:
        if cond.column not in form.column_keys:
            yield f"{where}：{name}的筛选条件引用的列“{cond.column}”不在报表 {term.form} 中。"
            continue
        allowed = form.column(cond.column).values or (
            ["是", "否"] if form.column(cond.column).type == "yesno" else None
        )
        for value in cond.values:
            if allowed and value not in allowed:
                yield f"{where}：{name}的筛选值“{value}”不是列“{cond.column}”的可选值。"


def _check_target_basis(c: Campaign, where: str, ind: IndicatorDef, scope_words: set[str]) -> Iterator[str]:
    """Every target either quotes the plan or is marked as the office's assumption."""
    if ind.quote is not None:
        yield from _check_quote(c, where, ind.quote)
    if ind.target is not None and ind.quote is None and ind.assumption is None:
        yield f"{where}：目标值既未引用方案原文（quote），也未注明为整治办的假定（assumption）。"
    if ind.assumed_scopes and ind.assumption is None:
        yield f"{where}：列出了假定目标的范围 assumed_scopes，但未写明假定内容 assumption。"
    for scope in ind.assumed_scopes:
        if scope not in scope_words and scope not in c.units:
            yield f"{where}：假定目标的范围“{scope}”未定义。"
    if ind.target is None and (ind.quote or ind.assumed_scopes):
        yield f"{where}：没有目标值的指标不应填写 quote 或 assumed_scopes。"


def _check_indicators(c: Campaign) -> Iterator[str]:
    task_numbers = {t.no for t in c.tasks}
    scope_words = {"county", "city", *c.groups}
    for code, ind in c.indicators.items():
        where = f"indicators.yml 指标 {code}（{ind.name}）"
        for no in ind.tasks:
            if no not in task_numbers:
                yield f"{where}：对应的任务 {no} 不存在。"
        yield from _check_term(c, where, "分子", ind.numerator)
        if ind.denominator is not None:
            yield from _check_term(c, where, "分母", ind.denominator)
        elif ind.value in {"ratio", "decrease"}:
            yield f"{where}：计算方式 {ind.value} 需要分母 denominator。"
        for scope in ind.scopes:
            if scope not in scope_words:
                yield f"{where}：统计范围“{scope}”既不是 county、city，也不是已定义的分组。"
        if isinstance(ind.target, dict):
            for key, value in ind.target.items():
                if key not in scope_words:
                    yield f"{where}：目标值的范围“{key}”未定义。"
                if value == "denominator" and ind.denominator is None:
                    yield f"{where}：目标值取分母，但未定义分母。"
        yield from _check_target_basis(c, where, ind, scope_words)
        if ind.direction == "up" and ind.target is None:
            yield f"{where}：有考核方向的指标须设置目标值 target。"
        if ind.direction == "up" and ind.deadline is None:
            yield f"{where}：有目标值的指标须设置完成时限 deadline。"
        if isinstance(ind.deadline, type(c.frame.start)) and ind.deadline < c.frame.start:
            yield f"{where}：完成时限 {ind.deadline} 早于活动开始日期 {c.frame.start}。"


def _check_documents(c: Campaign) -> Iterator[str]:
    """Rules across files: the one-off exists, codes do not clash, keywords are not shared."""
    oneoffs = {o.code for o in c.frame.oneoffs}
    seen: dict[str, str] = {}
    for code, doc in c.documents.items():
        where = f"forms.yml 文书 {code}（{doc.name}）"
        if code in c.forms:
            yield f"{where}：编号与报表重复。"
        if doc.oneoff not in oneoffs:
            yield f"{where}：oneoff “{doc.oneoff}”不是 campaign.yml 中 oneoffs 的编号（现有：{'、'.join(sorted(oneoffs)) or '无'}）。"
        for word in doc.keywords:
            if word in seen:
                yield f"{where}：识别词“{word}”与文书 {seen[word]} 重复。"
            seen[word] = code
