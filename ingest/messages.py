"""Every message ingestion gives back, in official-register Chinese.

A message names where the problem is — file, sheet, the row number as the submitter sees it in Excel with
the row's key (its county, task or record, see :func:`row_label`), the column header as written in the
file — and the value, and says how to fix it::

    文件“F1.xlsx”工作表“Sheet1”第7行（德安县）“已检验数”列：数值“abc”无法识别，请填写不小于0的整数（如 1234）。

Errors reject the file; warnings are recorded and the file is accepted. All wording lives here so that it
is consistent and tests can pin it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from roadsafe.campaign.model import ColumnDef, FormDef

__all__ = [
    "ERROR",
    "WARNING",
    "Message",
    "Place",
    "cell_problem",
    "describe_value",
    "join_cn",
    "label_columns",
    "printable",
    "row_label",
    "shown_name",
]

ERROR = "error"
WARNING = "warning"

_VALUE_MAX = 40
_NAME_MAX = 100

# Characters a message must not carry as they are: line breaks (they would split the numbered list of a
# receipt) become a space; control characters (a terminal escape sequence such as ESC[2J in a value would act
# on the screen of whoever prints the receipt), direction overrides (U+202E turns “gpj.exe” into “exe.jpg”),
# zero-width characters, byte-order marks and lone surrogates become U+FFFD, so the submitter sees that the
# cell holds something invisible.
_BREAKS = re.compile("[\t\n\x0b\x0c\r\x85\u2028\u2029]+")
_HIDDEN = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb\ud800-\udfff]"
)


def printable(text: str) -> str:
    """``text`` safe to show and print: line breaks as spaces, invisible and control characters as ``�``.

    Examples
    --------
    >>> printable("12\x1b[2J"), printable("长虹\u2028大道"), printable("\u202e321")
    ('12�[2J', '长虹 大道', '�321')
    """
    if text.isprintable():
        return text
    return _HIDDEN.sub("\ufffd", _BREAKS.sub(" ", text))


def describe_value(value: object) -> str:
    """The value as shown in a message: as typed (invisible characters made visible, see :func:`printable`),
    shortened when very long."""
    text = printable("" if value is None else str(value))
    return text if len(text) <= _VALUE_MAX else text[: _VALUE_MAX - 1] + "…"


def shown_name(name: object) -> str:
    """A file, sheet or column name as a message shows it: printable, at most 100 characters."""
    text = printable("" if name is None else str(name))
    return text if len(text) <= _NAME_MAX else text[: _NAME_MAX - 1] + "…"


def join_cn(items) -> str:
    """``甲、乙、丙``."""
    return "、".join(str(i) for i in items)


@dataclass(frozen=True)
class Message:
    """One problem or remark about a submission (a row of ``raw.submission_messages``)."""

    severity: str
    text: str
    sheet: str | None = None
    row_no: int | None = None
    column_header: str | None = None
    value: str | None = None

    def __post_init__(self) -> None:
        # Whoever built it, a message never carries control or invisible characters (see printable).
        for attr in ("text", "sheet", "column_header", "value"):
            value = getattr(self, attr)
            if isinstance(value, str) and not value.isprintable():
                object.__setattr__(self, attr, printable(value))

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Place:
    """Where messages point: the file as the submitter named it and the sheet read."""

    file: str
    sheet: str | None = None

    def prefix(self, row_no: int | None = None, header: str | None = None, label: str | None = None) -> str:
        out = f"文件“{shown_name(self.file)}”"
        if self.sheet:
            out += f"工作表“{shown_name(self.sheet)}”"
        if row_no is not None:
            out += f"第{row_no}行" + (f"（{label}）" if label else "")
        if header:
            out += f"“{shown_name(header)}”列"
        return out + "："

    def file_message(self, body: str, severity: str = ERROR, *, header: str | None = None) -> Message:
        """A message about the file or a whole column (``header`` is recorded; the body names it)."""
        return Message(severity, self.prefix() + body, self.sheet, None, header, None)

    def cell(
        self,
        row_no: int | None,
        header: str | None,
        value: object,
        body: str,
        severity: str = ERROR,
        label: str | None = None,
    ) -> Message:
        """A message about one cell; ``label`` names the row beside its number (see :func:`row_label`)."""
        return Message(
            severity,
            self.prefix(row_no, header, label) + body,
            self.sheet,
            row_no,
            header,
            None if value is None else describe_value(value),
        )


# --------------------------------------------------------------------------- row labels

_LABEL_MAX = 20
_TASK_NO = re.compile(r"\D{0,4}?0*([0-9]{1,4})\D{0,2}")


def label_columns(form: FormDef) -> list[str]:
    """The columns that name a row of ``form`` (read by :func:`row_label`): the county of a county table,
    the task number of a task table; for a ledger its key (隐患编号) and, for a row without one, its
    location (the county and the first text column, e.g. 道路名称)."""
    if form.grain != "record":
        return [form.key_column]
    where = next((c.key for c in form.columns if c.type == "text" and c.key != form.key_column), None)
    return list(dict.fromkeys(k for k in (form.key_column, form.county_column, where) if k))


def row_label(form: FormDef, values: Mapping[str, object], column: str | None = None) -> str | None:
    """How a message names a row beside its number, from the row's cells as written (``values`` by column
    key): ``德安县`` (a county row), ``任务7`` (a task row), ``H-012`` (a ledger row's key) or, when the
    key is empty, its location ``浔阳区 长虹大道``. The cell the message is about (``column``) does not
    name its own row (the message quotes it already); None when nothing names the row.

    Examples
    --------
    >>> from roadsafe.campaign.model import ColumnDef, FormDef
    >>> f9 = FormDef(name="t", submitters=[], grain="task", key_column="task_no",
    ...              columns=[ColumnDef(key="task_no", header="任务序号", type="task")])
    >>> row_label(f9, {"task_no": "第7项"}), row_label(f9, {"task_no": "7"}, column="task_no")
    ('任务7', None)
    """

    def text(key: str) -> str:
        value = values.get(key) if key != column else None
        return describe_value(value).strip() if value is not None else ""

    keys = label_columns(form)
    key = text(keys[0])
    if form.grain == "task" and key:
        number = _TASK_NO.fullmatch(key)
        label = f"任务{number.group(1)}" if number else f"任务“{key}”"
    elif key or form.grain != "record":
        label = key
    else:
        label = " ".join(t for t in (text(k) for k in keys[1:]) if t)
    if len(label) > _LABEL_MAX:
        label = label[: _LABEL_MAX - 1] + "…"
    return label or None


# --------------------------------------------------------------------------- cell problems

_INTEGER_HINT = "请填写不小于0的整数（如 1234）。"
_RATE_HINT = "请填写0%至100%之间的比例（如 95% 或 0.95）。"
_DATE_HINT = "请按“2022-04-15”或“2022年4月15日”的格式填写。"


def cell_problem(code: str, col: ColumnDef, value: str, **extra) -> str:
    """The body of a message about one cell (after the place prefix).

    ``code`` is a normaliser problem code (see :data:`ingest.normalise.PROBLEMS`) or a validation code.
    """
    v = describe_value(value)
    if code == "unreadable" and col.type == "rate":
        return f"数值“{v}”无法识别，{_RATE_HINT}"
    if code == "unreadable":
        return f"数值“{v}”无法识别，{_INTEGER_HINT}"
    if code == "not_integer":
        return f"数值“{v}”不是整数，{_INTEGER_HINT}"
    if code in ("too_large", "absurd"):
        return f"数值“{v}”过大（超过10亿），请核实后填写实际数量。"
    if code == "negative":
        return f"数值“{v}”为负数，{_INTEGER_HINT}"
    if code == "rate_ambiguous":
        return (
            f"数值“{v}”大于1且未带百分号，无法判断所指比例，"
            f"请填写带百分号的比例（如 {v}%）或0至1之间的小数（如 0.95）。"
        )
    if code == "rate_range":
        return f"比例“{v}”超出0%至100%的范围，{_RATE_HINT}"
    if code == "bad_date":
        return f"日期“{v}”无法识别，{_DATE_HINT}"
    if code == "date_too_early":
        return f"日期“{v}”早于2000年，请核实后{_DATE_HINT[1:]}"
    if code == "not_allowed":
        return f"“{v}”不是规定的选项，请从“{join_cn(col.values or [])}”中选择填写。"
    if code == "not_yesno":
        return f"“{v}”不是规定的选项，请填写“是”或“否”。"
    if code == "unknown_unit":
        example = extra.get("example", "浔阳区")
        return f"“{v}”不是本市的县（市、区）名称，请填写规范的县区名称（如“{example}”）。"
    if code == "not_county":
        return f"“{v}”是{extra['unit_name']}，不是县（市、区），请填写该行所属的县区名称。"
    if code == "bad_task":
        return f"任务编号“{v}”无法识别，请填写任务的阿拉伯数字编号（如 3）。"
    if code == "unknown_task":
        return f"任务编号“{v}”不存在，本次整治的任务编号为{extra['first']}至{extra['last']}，请核对。"
    if code == "task_not_led":
        led = join_cn(extra["led"]) if extra["led"] else "无"
        return (
            f"第{v}项任务不由{extra['unit_name']}牵头，不能由本单位报送；"
            f"本单位牵头的任务为：{led}。请删除该行。"
        )
    if code == "required":
        return f"此项为必填项，当前为{'空' if not v else f'“{v}”'}，请补充填写。"
    if code == "not_own_county":
        return (
            f"“{v}”不属于{extra['unit_name']}的填报范围，县（市、区）只能报送本地区的数据，"
            f"请删除该行或由有关单位报送。"
        )
    if code == "duplicate_key":
        return f"“{v}”与第{extra['first_row']}行重复，同一{extra['what']}只能填报一行，请合并或删除重复行。"
    if code == "monotone":
        severity_hint = "请核实后更正" if extra.get("error") else "请核实是否填报有误"
        return (
            f"累计数“{v}”小于上期（{extra['period_label']}，回执编号 {extra['submission_id']}）已报送的"
            f"“{extra['previous']}”，累计数不应减少，{severity_hint}。"
        )
    if code == "date_after_received":
        return f"日期“{v}”晚于报送日期（{extra['received']}），请核实日期是否填写有误。"
    raise KeyError(code)


def rule_le(left_header: str, left: object, right_header: str, right: object) -> str:
    return (
        f"“{left_header}”（{describe_value(left)}）大于“{right_header}”（{describe_value(right)}），"
        f"{left_header}不应超过{right_header}，请核实后更正。"
    )


def rule_not_before(left_header: str, left: object, right_header: str, right: object) -> str:
    return (
        f"“{left_header}”（{describe_value(left)}）早于“{right_header}”（{describe_value(right)}），"
        f"请核实日期后更正。"
    )


def rule_requires(when_text: str, header: str) -> str:
    return f"{when_text}时须填写“{header}”，当前为空，请补充填写。"


def rule_only_when(when_text: str, actual_text: str, header: str, value: object) -> str:
    return (
        f"{actual_text}时不应填写“{header}”（当前为“{describe_value(value)}”），"
        f"请删除该项或核实{when_text.replace('为', '是否应为', 1)}。"
    )


# --------------------------------------------------------------------------- file problems


def missing_required_column(header: str) -> str:
    return f"缺少必填列“{header}”，请使用统一模板，在表头中补充该列后重新报送。"


def missing_optional_column(header: str) -> str:
    return f"缺少“{header}”列，该列按未填报处理；如有数据，请使用统一模板补充该列。"


def extra_column(header: str) -> str:
    return f"“{shown_name(header)}”列不是本表的规定列，未导入。"


def no_rows() -> str:
    return "没有找到数据行，请在表头下方逐行填写后重新报送。"


def period_unknown() -> str:
    return (
        "无法确定报送的周次：文件标题中没有“第N周”字样，也未指定周次，"
        "请在标题中写明周次（如“第5周”），或在报送时选择周次。"
    )


def period_outside(no: int, first: str, last: str, start: str, end: str) -> str:
    return f"第{no}周不在本次整治的报送期内（{first}至{last}，{start}至{end}），请核对周次后重新报送。"


def not_a_submitter(unit_name: str, form_name: str, submitters: str) -> str:
    return f"{unit_name}不是《{form_name}》的报送单位（报送单位：{submitters}），请核对报表或报送单位。"


def no_task_led(unit_name: str, form_name: str) -> str:
    return f"{unit_name}没有牵头的任务，无需报送《{form_name}》，请核对报表或报送单位。"


def period_mismatch(detected: int, chosen: int) -> str:
    return f"文件标题为第{detected}周，但报送时选择的是第{chosen}周，已按第{chosen}周受理，请核实。"


def unit_mismatch(detected: str, unit_name: str) -> str:
    return f"文件中的填报单位为“{detected}”，与报送单位{unit_name}不一致，已按{unit_name}受理，请核实。"


def unknown_inbox_folder(folder: str) -> str:
    return f"收件箱文件夹“{folder}”不是已登记的单位，无法确定报送单位，请将文件放入本单位的文件夹后重新报送。"


def internal_error(file: str, detail: str) -> str:
    return (
        f"系统处理文件“{file}”时出错（{describe_value(detail)}），未入库；文件已留存于接收区，"
        f"问题排除后将自动重新处理，请联系市整治办技术人员。"
    )


def more_problems(count: int) -> str:
    return f"另有{count}处问题未逐条列出，请参照上述问题对全表逐一核对。"
