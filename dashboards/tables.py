"""The report tables: one ``build_<name>_table(data) -> GT`` per table, shared styling through ``.pipe()``.

Every builder takes a frame with the English column names of :mod:`dashboards.data` (or a frame made
from one), formats the figures with :mod:`dashboards.formatting` and labels the columns in Chinese.
Cell text is escaped by great-tables, so submitted words can never become markup.

Examples
--------
>>> import polars as pl
>>> frame = pl.DataFrame({"unit_name": ["浔阳区"], "form_name": ["重点车辆隐患清零周报"],
...                       "due": ["5月12日12时"], "received": ["未报"], "status": ["未报"]})
>>> html = build_compliance_table(frame, table_id="late").as_raw_html()
>>> "浔阳区" in html
True
"""

from __future__ import annotations

import functools
import re

import polars as pl
from great_tables import GT, loc, style

from dashboards.formatting import (
    STATUS_COLOURS,
    fmt_change,
    fmt_deadline,
    fmt_target,
    fmt_value,
)

__all__ = [
    "TABLE_FONTS",
    "bottom_marks",
    "build_breakdown_summary_table",
    "build_breakdown_table",
    "build_compliance_table",
    "build_corrections_table",
    "build_county_matrix_table",
    "build_dispatch_overview_table",
    "build_dispatch_table",
    "build_indicator_table",
    "build_milestone_table",
    "build_month_indicator_table",
    "build_ranking_table",
    "build_task_overview_table",
    "build_unit_compliance_table",
    "colour_status",
    "gov_table_style",
    "house_css",
    "to_html",
]

TABLE_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "sans-serif"]


def gov_table_style(gt: GT) -> GT:
    """The house style: a full black grid as in printed government tables, bold grey header, 10pt text."""
    return gt.tab_options(
        table_font_names=TABLE_FONTS,
        table_font_size="10pt",
        table_font_color="#000000",
        table_width="100%",
        table_border_top_style="solid",
        table_border_top_width="1px",
        table_border_top_color="#000000",
        table_border_bottom_style="solid",
        table_border_bottom_width="1px",
        table_border_bottom_color="#000000",
        heading_align="left",
        heading_title_font_size="11pt",
        heading_title_font_weight="bold",
        heading_border_bottom_color="#000000",
        column_labels_background_color="#f0f0f0",
        column_labels_font_weight="bold",
        column_labels_font_size="10pt",
        column_labels_border_top_color="#000000",
        column_labels_border_bottom_color="#000000",
        column_labels_vlines_style="solid",
        column_labels_vlines_width="1px",
        column_labels_vlines_color="#000000",
        table_body_hlines_color="#000000",
        table_body_vlines_style="solid",
        table_body_vlines_width="1px",
        table_body_vlines_color="#000000",
        table_body_border_bottom_color="#000000",
        row_group_font_weight="bold",
        row_group_background_color="#fafafa",
        row_group_border_top_color="#000000",
        row_group_border_bottom_color="#000000",
        data_row_padding="3px",
        data_row_padding_horizontal="4px",
        column_labels_padding="4px",
        column_labels_padding_horizontal="4px",
        source_notes_font_size="9pt",
    )  # the body's vertical lines come from table_body_vlines_* in the table's CSS, not a style per cell


def colour_status(gt: GT, frame: pl.DataFrame, column: str) -> GT:
    """Fill the cells of a status column with the status colour (light fill, dark bold text)."""
    if column not in frame.columns:
        return gt
    values = frame[column].to_list()
    for status, (fill, text) in STATUS_COLOURS.items():
        rows = [i for i, v in enumerate(values) if v == status]
        if rows:
            gt = gt.tab_style(
                style=[style.fill(color=fill), style.text(color=text, weight="bold")],
                locations=loc.body(columns=column, rows=rows),
            )
    return gt


HOUSE_CLASS = "gt-house"


@functools.cache
def house_css() -> str:
    """The CSS great-tables writes for the house style, scoped by class instead of by table id.

    Every report page includes it once (``rendering.render_template``); :func:`to_html` then drops the
    identical copy each table would carry, which keeps a 27-page dispatch list from parsing 27 copies.
    """
    html = GT(pl.DataFrame({"a": ["a"]}), id="house").pipe(gov_table_style).as_raw_html()
    return _scoped_css(html, "house")


def _scoped_css(html: str, table_id: str) -> str | None:
    found = re.search(r"<style>(.*?)</style>", html, flags=re.S)
    return found.group(1).replace(f"#{table_id}", f".{HOUSE_CLASS}") if found else None


def to_html(gt: GT) -> str:
    """A table as an HTML fragment (no scripts, no links). A table in the house style shares the page's
    :func:`house_css`; any other keeps its own scoped ``<style>``."""
    html = gt.as_raw_html()
    found = re.match(r'<div id="([^"]+)"', html)
    if found and _scoped_css(html, found.group(1)) == house_css():
        html = re.sub(r"<style>.*?</style>\n?", "", html, count=1, flags=re.S)
        html = html.replace(
            f'<div id="{found.group(1)}"', f'<div id="{found.group(1)}" class="{HOUSE_CLASS}"', 1
        )
    return html


def _gt(frame: pl.DataFrame, table_id: str, **kwargs) -> GT:
    # A fixed id: great-tables otherwise draws a random one and the HTML would differ on every render.
    return GT(frame, id=table_id, **kwargs)


# --------------------------------------------------------------------------- indicators


def build_indicator_table(values: pl.DataFrame, *, table_id: str, title: str | None = None) -> GT:
    """Indicators of a task group at the city (or group) level.

    ``values`` columns: task_nos (list), indicator_name, unit_name, kind, direction, target, deadline,
    deadline_rule, actual, expected, status.
    """
    frame = pl.DataFrame(
        {
            "任务": [
                "、".join(str(n) for n in r["task_nos"]) or "目标" for r in values.iter_rows(named=True)
            ],
            "指标": [
                r["indicator_name"]
                if r["unit_kind"] == "city"
                else f"{r['indicator_name']}（{r['unit_name']}）"
                for r in values.iter_rows(named=True)
            ],
            "目标": [
                fmt_target(r["target"], r["kind"], r["direction"], r.get("target_is_assumption"))
                for r in values.iter_rows(named=True)
            ],
            "完成时限": [
                fmt_deadline(r["deadline"], r["deadline_rule"]) for r in values.iter_rows(named=True)
            ],
            "实际完成": [fmt_value(r["actual"], r["kind"]) for r in values.iter_rows(named=True)],
            "序时进度": [fmt_value(r["expected"], r["kind"]) for r in values.iter_rows(named=True)],
            "状态": [r["status"] or "—" for r in values.iter_rows(named=True)],
        },
        schema={k: pl.String for k in ("任务", "指标", "目标", "完成时限", "实际完成", "序时进度", "状态")},
    )
    gt = (
        _gt(frame, table_id)
        .cols_align(align="center", columns=["任务", "目标", "完成时限", "实际完成", "序时进度", "状态"])
        .cols_width(
            cases={
                "任务": "8%",
                "指标": "34%",
                "目标": "11%",
                "完成时限": "11%",
                "实际完成": "12%",
                "序时进度": "12%",
                "状态": "12%",
            }
        )
        .pipe(gov_table_style)
    )
    if title:
        gt = gt.tab_header(title=title)
    return colour_status(gt, frame, "状态")


def build_county_matrix_table(
    matrix: pl.DataFrame, *, indicators: list[tuple[str, str, str]], table_id: str
) -> GT:
    """Counties × indicators: each cell the county's value, coloured by its status.

    Parameters
    ----------
    matrix : pl.DataFrame
        ``unit_name`` then, per indicator code, ``<code>`` (value) and ``<code>_status``.
    indicators : list of (code, short name, kind)
    """
    display = {"单位": matrix["unit_name"].to_list()}
    for code, name, kind in indicators:
        display[name] = [fmt_value(v, kind) for v in matrix[code].to_list()]
    frame = pl.DataFrame(display, schema={k: pl.String for k in display})
    gt = (
        _gt(frame, table_id)
        .cols_align(align="center", columns=[n for _c, n, _k in indicators])
        .pipe(gov_table_style)
    )
    for code, name, _kind in indicators:
        statuses = matrix[f"{code}_status"].to_list()
        for status, (fill, text) in STATUS_COLOURS.items():
            rows = [i for i, s in enumerate(statuses) if s == status]
            if rows:
                gt = gt.tab_style(
                    style=[style.fill(color=fill), style.text(color=text)],
                    locations=loc.body(columns=name, rows=rows),
                )
    return gt


def build_month_indicator_table(values: pl.DataFrame, *, table_id: str) -> GT:
    """Indicators at month end against the previous month end.

    ``values`` columns: indicator_name, unit_name, unit_kind, kind, direction, target, deadline,
    deadline_rule, previous (last month's actual), actual, expected, status.
    """
    rows = list(values.iter_rows(named=True))
    cols = ("指标", "目标", "完成时限", "上月末", "本月末", "序时进度", "状态")
    frame = pl.DataFrame(
        {
            "指标": [
                r["indicator_name"]
                if r["unit_kind"] == "city"
                else f"{r['indicator_name']}（{r['unit_name']}）"
                for r in rows
            ],
            "目标": [
                fmt_target(r["target"], r["kind"], r["direction"], r.get("target_is_assumption"))
                for r in rows
            ],
            "完成时限": [fmt_deadline(r["deadline"], r["deadline_rule"]) for r in rows],
            "上月末": [fmt_value(r["previous"], r["kind"]) for r in rows],
            "本月末": [fmt_value(r["actual"], r["kind"]) for r in rows],
            "序时进度": [fmt_value(r["expected"], r["kind"]) for r in rows],
            "状态": [r["status"] or "—" for r in rows],
        },
        schema={c: pl.String for c in cols},
    )
    gt = (
        _gt(frame, table_id)
        .cols_align(align="center", columns=[c for c in cols if c != "指标"])
        .cols_width(
            cases={
                "指标": "32%",
                "目标": "10%",
                "完成时限": "10%",
                "上月末": "12%",
                "本月末": "12%",
                "序时进度": "12%",
                "状态": "12%",
            }
        )
        .pipe(gov_table_style)
    )
    return colour_status(gt, frame, "状态")


def build_unit_compliance_table(summary: pl.DataFrame, *, table_id: str) -> GT:
    """Submissions per unit over a month: ``summary`` columns unit_name, expected, on_time, late, missing."""
    rows = list(summary.iter_rows(named=True))
    cols = ("单位", "应报", "按时报送", "逾期报送", "未报送", "按时报送率")
    frame = pl.DataFrame(
        {
            "单位": [r["unit_name"] for r in rows],
            "应报": [str(r["expected"]) for r in rows],
            "按时报送": [str(r["on_time"]) for r in rows],
            "逾期报送": [str(r["late"]) for r in rows],
            "未报送": [str(r["missing"]) for r in rows],
            "按时报送率": [
                fmt_value(r["on_time"] / r["expected"] if r["expected"] else None, "rate") for r in rows
            ],
        },
        schema={c: pl.String for c in cols},
    )
    gt = _gt(frame, table_id).cols_align(align="center", columns=list(cols[1:])).pipe(gov_table_style)
    bad = [i for i, r in enumerate(rows) if r["missing"]]
    if bad:
        gt = gt.tab_style(
            style=style.text(color="#b71c1c", weight="bold"), locations=loc.body(columns="未报送", rows=bad)
        )
    return gt


# --------------------------------------------------------------------------- tasks


def build_milestone_table(tasks: pl.DataFrame, *, table_id: str) -> GT:
    """Tasks measured by their lead units' reports (no indicator): task, lead, deadline, reported, status.

    ``tasks`` columns: task_no, title, lead_names, deadline, lead_status, status.
    """
    frame = pl.DataFrame(
        {
            "任务": [f"{r['task_no']}. {r['title']}" for r in tasks.iter_rows(named=True)],
            "牵头单位": tasks["lead_names"].to_list(),
            "完成时限": [fmt_deadline(d) for d in tasks["deadline"].to_list()],
            "牵头单位报告": [s or "未报" for s in tasks["lead_status"].to_list()],
            "状态": [s or "—" for s in tasks["status"].to_list()],
        },
        schema={k: pl.String for k in ("任务", "牵头单位", "完成时限", "牵头单位报告", "状态")},
    )
    gt = (
        _gt(frame, table_id)
        .cols_align(align="center", columns=["完成时限", "牵头单位报告", "状态"])
        .cols_width(
            cases={"任务": "36%", "牵头单位": "22%", "完成时限": "11%", "牵头单位报告": "17%", "状态": "14%"}
        )
        .pipe(gov_table_style)
    )
    return colour_status(gt, frame, "状态")


def build_task_overview_table(tasks: pl.DataFrame, *, table_id: str, extra: str | None = None) -> GT:
    """Every task with its lead units, deadline and status (optionally one more column, e.g. 上月状态).

    ``tasks`` columns: task_no, title, lead_names, deadline, status (and ``extra`` if given).
    """
    data = {
        "序号": [str(n) for n in tasks["task_no"].to_list()],
        "任务": tasks["title"].to_list(),
        "牵头单位": tasks["lead_names"].to_list(),
        "完成时限": [fmt_deadline(d) for d in tasks["deadline"].to_list()],
    }
    if extra:
        data[extra] = [s or "—" for s in tasks[extra].to_list()]
    data["状态"] = [s or "—" for s in tasks["status"].to_list()]
    frame = pl.DataFrame(data, schema={k: pl.String for k in data})
    widths = {"序号": "6%", "任务": "34%", "牵头单位": "24%", "完成时限": "10%", "状态": "13%"}
    if extra:
        widths[extra] = "13%"
    else:
        widths["任务"] = "36%"
        widths["牵头单位"] = "31%"
    gt = (
        _gt(frame, table_id)
        .cols_align(align="center", columns=[c for c in frame.columns if c not in ("任务", "牵头单位")])
        .cols_width(cases=widths)
        .pipe(gov_table_style)
    )
    gt = colour_status(gt, frame, "状态")
    return colour_status(gt, frame, extra) if extra else gt


# --------------------------------------------------------------------------- submissions


def build_compliance_table(frame: pl.DataFrame, *, table_id: str) -> GT:
    """Submissions that were late or missing (未报 and 退回 in red; 已说明 as the office recorded it).

    ``frame`` columns (already formatted): unit_name, form_name, due, received, status.
    """
    display = pl.DataFrame(
        {
            "单位": frame["unit_name"].to_list(),
            "报表": frame["form_name"].to_list(),
            "应报时间": frame["due"].to_list(),
            "实际报送": frame["received"].to_list(),
            "情况": frame["status"].to_list(),
        },
        schema={k: pl.String for k in ("单位", "报表", "应报时间", "实际报送", "情况")},
    )
    gt = (
        _gt(display, table_id)
        .cols_align(align="center", columns=["应报时间", "实际报送", "情况"])
        .pipe(gov_table_style)
    )
    late = [i for i, s in enumerate(display["情况"].to_list()) if s == "未报" or s.startswith("退回")]
    if late:
        gt = gt.tab_style(
            style=style.text(color="#b71c1c", weight="bold"), locations=loc.body(columns="情况", rows=late)
        )
    return gt


def build_corrections_table(frame: pl.DataFrame, *, table_id: str) -> GT:
    """The correction log: ``frame`` columns (formatted) received, unit_name, form_name, period, kind,
    submission_id, replaces."""
    display = pl.DataFrame(
        {
            "接收时间": frame["received"].to_list(),
            "单位": frame["unit_name"].to_list(),
            "报表": frame["form_name"].to_list(),
            "所属周次": frame["period"].to_list(),
            "类型": frame["kind"].to_list(),
            "回执编号": frame["submission_id"].to_list(),
            "替代": [r or "—" for r in frame["replaces"].to_list()],
        },
        schema={k: pl.String for k in ("接收时间", "单位", "报表", "所属周次", "类型", "回执编号", "替代")},
    )
    return (
        _gt(display, table_id)
        .cols_align(align="center", columns=["接收时间", "所属周次", "类型", "回执编号", "替代"])
        .pipe(gov_table_style)
    )


def build_dispatch_table(items: pl.DataFrame, *, table_id: str) -> GT:
    """One unit's dispatch items: ``items`` columns category, item, deadline, situation."""
    display = pl.DataFrame(
        {
            "类别": items["category"].to_list(),
            "事项": items["item"].to_list(),
            "时限": items["deadline"].to_list(),
            "情况": items["situation"].to_list(),
        },
        schema={k: pl.String for k in ("类别", "事项", "时限", "情况")},
    )
    gt = (
        _gt(display, table_id)
        .cols_align(align="center", columns=["类别", "时限"])
        .cols_width(cases={"类别": "14%", "事项": "44%", "时限": "14%", "情况": "28%"})
        .pipe(gov_table_style)
    )
    return colour_status(gt, display, "情况")


def build_dispatch_overview_table(overview: pl.DataFrame, *, table_id: str) -> GT:
    """The dispatch list's first page: ``overview`` columns unit_name, behind, missing, upcoming, advice."""
    display = pl.DataFrame(
        {
            "单位": overview["unit_name"].to_list(),
            "滞后、逾期事项": [str(v) for v in overview["behind"].to_list()],
            "缺报报表": [str(v) for v in overview["missing"].to_list()],
            "下周到期事项": [str(v) for v in overview["upcoming"].to_list()],
            "调度意见": overview["advice"].to_list(),
        },
        schema={k: pl.String for k in ("单位", "滞后、逾期事项", "缺报报表", "下周到期事项", "调度意见")},
    )
    gt = (
        _gt(display, table_id)
        .cols_align(align="center", columns=["滞后、逾期事项", "缺报报表", "下周到期事项", "调度意见"])
        .cols_width(
            cases={
                "单位": "28%",
                "滞后、逾期事项": "18%",
                "缺报报表": "18%",
                "下周到期事项": "18%",
                "调度意见": "18%",
            }
        )
        .pipe(gov_table_style)
    )
    rows = [i for i, a in enumerate(display["调度意见"].to_list()) if a == "需督办"]
    if rows:
        gt = gt.tab_style(
            style=style.text(color="#b71c1c", weight="bold"),
            locations=loc.body(columns="调度意见", rows=rows),
        )
    return gt


# --------------------------------------------------------------------------- ranking


def build_ranking_table(ranking: pl.DataFrame, *, table_id: str, marked: list[bool]) -> GT:
    """A league table: rank, unit, score, the three components, last month's rank, change, 备注.

    ``ranking`` columns: rank, unit_name, score, attainment, timeliness, quality (points), prev_rank,
    rank_change, sorted by rank; ``marked`` says which rows are 排名靠后.
    """
    ranks = ranking["rank"].to_list()

    cols = ("排名", "单位", "总得分", "目标完成", "按时报送", "数据质量", "上月排名", "变化", "备注")
    display = pl.DataFrame(
        {
            cols[0]: [str(r) for r in ranks],
            cols[1]: ranking["unit_name"].to_list(),
            cols[2]: [f"{v:.2f}" for v in ranking["score"].to_list()],
            cols[3]: [
                fmt_value(v, "count") if v is None else f"{v:.2f}" for v in ranking["attainment"].to_list()
            ],
            cols[4]: [
                fmt_value(v, "count") if v is None else f"{v:.2f}" for v in ranking["timeliness"].to_list()
            ],
            cols[5]: [
                fmt_value(v, "count") if v is None else f"{v:.2f}" for v in ranking["quality"].to_list()
            ],
            cols[6]: ["—" if v is None else str(v) for v in ranking["prev_rank"].to_list()],
            cols[7]: [fmt_change(v) for v in ranking["rank_change"].to_list()],
            cols[8]: ["排名靠后" if m else "" for m in marked],
        },
        schema={c: pl.String for c in cols},
    )
    gt = (
        _gt(display, table_id)
        .cols_align(align="center", columns=[c for c in cols if c != "单位"])
        .cols_width(
            cases={
                "排名": "7%",
                "单位": "21%",
                "总得分": "10%",
                "目标完成": "10%",
                "按时报送": "10%",
                "数据质量": "10%",
                "上月排名": "10%",
                "变化": "8%",
                "备注": "14%",
            }
        )
        .pipe(gov_table_style)
    )
    rows = [i for i, m in enumerate(marked) if m]
    if rows:
        gt = gt.tab_style(
            style=[style.fill(color="#fbdcdc"), style.text(color="#b71c1c", weight="bold")],
            locations=loc.body(columns=["单位", "备注"], rows=rows),
        )
    ups = [i for i, v in enumerate(ranking["rank_change"].to_list()) if v is not None and v > 0]
    downs = [i for i, v in enumerate(ranking["rank_change"].to_list()) if v is not None and v < 0]
    if ups:
        gt = gt.tab_style(style=style.text(color="#1b5e20"), locations=loc.body(columns="变化", rows=ups))
    if downs:
        gt = gt.tab_style(style=style.text(color="#b71c1c"), locations=loc.body(columns="变化", rows=downs))
    return gt


def bottom_marks(ranks: list[int], bottom_marked: int) -> list[bool]:
    """Which rows are 排名靠后: the last ``bottom_marked`` places (a tie at the edge is marked too).

    >>> bottom_marks([1, 2, 3, 4, 4], 2)
    [False, False, False, True, True]
    """
    if not bottom_marked or not ranks:
        return [False] * len(ranks)
    edge = sorted(ranks)[-min(bottom_marked, len(ranks))]
    return [r >= edge for r in ranks]


_COMPONENT_NAMES = {"attainment": "目标完成", "timeliness": "按时报送", "quality": "数据质量"}


def build_breakdown_table(breakdown: pl.DataFrame, *, table_id: str) -> GT:
    """The points behind each score, grouped by unit: component, item, points, out of, how.

    ``breakdown`` columns: unit_name, component, item, points, max_points, detail.
    """
    display = pl.DataFrame(
        {
            "单位": breakdown["unit_name"].to_list(),
            "得分项": [_COMPONENT_NAMES.get(c, c) for c in breakdown["component"].to_list()],
            "细项": breakdown["item"].to_list(),
            "得分": [f"{v:.2f}" for v in breakdown["points"].to_list()],
            "满分": ["—" if v is None else f"{v:.2f}" for v in breakdown["max_points"].to_list()],
            "说明": [d or "" for d in breakdown["detail"].to_list()],
        },
        schema={k: pl.String for k in ("单位", "得分项", "细项", "得分", "满分", "说明")},
    )
    return (
        _gt(display, table_id, groupname_col="单位")
        .cols_align(align="center", columns=["得分项", "得分", "满分"])
        .cols_width(cases={"得分项": "13%", "细项": "30%", "得分": "9%", "满分": "8%", "说明": "40%"})
        .pipe(gov_table_style)
        # an annex of several hundred lines: smaller and tighter than the other tables
        .tab_options(table_font_size="8.5pt", data_row_padding="1px", row_group_padding="2px")
    )


def build_breakdown_summary_table(summary: pl.DataFrame, *, table_id: str, components: list[str]) -> GT:
    """The points behind each score summed per unit, one line per unit (the printed copy's annex): rank,
    unit, each component's points summed over its items, and their sum.

    ``summary`` columns: rank, unit_name, total, and one column per name in ``components``
    (``attainment`` …), sorted by rank.
    """
    names = [_COMPONENT_NAMES.get(c, c) for c in components]
    data = {
        "排名": ["—" if r is None else str(r) for r in summary["rank"].to_list()],
        "单位": summary["unit_name"].to_list(),
    }
    for component, name in zip(components, names, strict=True):
        data[name] = [f"{v:.2f}" for v in summary[component].to_list()]
    data["合计"] = [f"{v:.2f}" for v in summary["total"].to_list()]
    display = pl.DataFrame(data, schema={k: pl.String for k in data})
    share = f"{(100 - 8 - 28 - 14) / max(len(names), 1):.1f}%"
    return (
        _gt(display, table_id)
        .cols_align(align="center", columns=[c for c in display.columns if c != "单位"])
        .cols_width(cases={"排名": "8%", "单位": "28%", **{n: share for n in names}, "合计": "14%"})
        .pipe(gov_table_style)
    )
