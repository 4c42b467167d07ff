"""A small hand-made campaign history on the real jiujiang-2022 definition, with figures computed by hand.

Weeks: 1 = 04-07..04-13, 2 = 04-14..04-20, 3 = 04-21..04-27 (April's last week), 4 = 04-28..05-04,
5..7 = May (7 is May's last week). Counties not named below are "normal".

F1 (市公安局, I02 检验率 / I03 注销率), weeks 1-3:
    normal counties: 应检验 100, 已检验 50 / 60 / 70; 应注销 10, 已注销 10.
    xunyang  应检验 200, 已检验 80 / 110 / 192
             (week 2 first sent as 84, then corrected: the correction counts)
    wuning   已检验 50 / 50 / 50 (falls behind 序时进度)
    xiushui  已检验 0 and 已注销 0 throughout (未启动)
    lushan   missing from the week-3 file (数据缺报 for lushan and for the city in week 3)
    week 1 arrives 90 minutes late; week 2 has a rejected attempt, then the file, then a correction.
F3 (I14), weeks 1-2: 1 per column (5 per county); xunyang week 2: 2 per column (10).
F6 (市交通运输局, I01 月环比), weeks 1-7: 10 per county; dean 20, 18, 10, 9, 8, 7, 4.
F8 (I13 同比), weeks 1, 2 and 4 (week 3 missing): deaths 1, last year 2; xunyang week 1 last year 4,
    week 2 deaths 2 / last year 2.
F4 (ledger, I12): hukou sends its own ledger in weeks 1 and 3 only: H1 未整改 → 已整改 (week 3),
    H2 未整改, H3 已整改.
F5 (市公路发展中心, I06/I07), week 1 only: xunyang LK1 (2018 category, five items, completed),
    LK2 (2021 category, no signal light, not completed), LD1 (十大事故多发路段, completed).
F7 (市公安局, I09/I10), weeks 1, 2, 4 for the five 中心城区 counties: registered 10000 (xunyang) +
    4 × 5000 = 30000 in weeks 1-2, 31000 in week 4; shared e-bikes and helmets 10000 each, but balihu's
    helmets left blank in week 2.
F9: 市交通运输局 week 1 (tasks 2 推进中, 10 未启动, 11 已完成, 19 推进中, 22 推进中), week 2 (19 已完成);
    市公安局 week 1 (1 推进中, 7 推进中, 18 已完成, 25 推进中), week 4 (25 推进中); xunyang week 1 (20 已完成).
"""

from __future__ import annotations

import datetime as dt

from dbt_rawrows import RawWriter

__all__ = ["NORMAL", "load_scenario"]

SPECIAL = {"xunyang", "wuning", "xiushui", "lushan", "dean", "hukou"}
NORMAL = [
    "lianxi",
    "chaisang",
    "yongxiu",
    "duchang",
    "pengze",
    "ruichang",
    "gongqingcheng",
    "jingkaiqu",
    "balihu",
]
CENTRAL = ["xunyang", "lianxi", "chaisang", "jingkaiqu", "balihu"]


def _counties(campaign) -> list[str]:
    return [u.id for u in campaign.counties]


def _f1(campaign, week: int, xunyang_inspected: int, xunyang_vehicles: int = 250) -> list[dict]:
    rows = []
    for c in _counties(campaign):
        if c == "lushan" and week == 3:
            continue
        inspected = {1: 50, 2: 60, 3: 70}[week]
        due, cancelled = 100, 10
        if c == "xunyang":
            due, inspected = 200, xunyang_inspected
        elif c == "wuning":
            inspected = 50
        elif c == "xiushui":
            inspected, cancelled = 0, 0
        vehicles = xunyang_vehicles if c == "xunyang" else due + 50
        rows.append(
            {
                "county": c,
                "vehicles_total": vehicles,
                "inspect_due": due,
                "inspected": inspected,
                "cancel_due": 10,
                "cancelled": cancelled,
            }
        )
    return rows


def load_scenario(settings, calendar) -> RawWriter:
    """Send every submission of the scenario (through ingest when available) into ``settings``' warehouse."""
    w = RawWriter(settings, calendar)
    campaign = w.campaign
    counties = _counties(campaign)

    # F1: late week 1; rejected + original + correction in week 2; lushan missing in week 3
    w.submit("F1", "gongan", 1, _f1(campaign, 1, 80), minutes_after_due=90)
    broken = _f1(campaign, 2, 84)
    broken[1]["inspected"] = 150  # more inspected than due: the file is rejected
    w.submit("F1", "gongan", 2, broken, minutes_after_due=-300, expect="rejected")
    w.submit("F1", "gongan", 2, _f1(campaign, 2, 84), minutes_after_due=-240)
    # the correction a day late; xunyang's 重点车辆总数 falls below week 1 (a monotone warning)
    w.submit("F1", "gongan", 2, _f1(campaign, 2, 110, xunyang_vehicles=240), minutes_after_due=24 * 60)
    w.submit("F1", "gongan", 3, _f1(campaign, 3, 192))

    for week in (1, 2):
        per = 2 if week == 2 else 1
        w.submit(
            "F3",
            "gongan",
            week,
            [
                {
                    "county": c,
                    "drunk_driving": per if c == "xunyang" else 1,
                    "ebike_violations": per if c == "xunyang" else 1,
                    "truck_violations": per if c == "xunyang" else 1,
                    "highway_point_violations": per if c == "xunyang" else 1,
                    "rural_point_violations": per if c == "xunyang" else 1,
                }
                for c in counties
            ],
        )

    dean = [20, 18, 10, 9, 8, 7, 4]
    for week in range(1, 8):
        w.submit(
            "F6",
            "jiaotong",
            week,
            [
                {
                    "county": c,
                    "high_risk_enterprises": dean[week - 1] if c == "dean" else 10,
                    "enterprises_inspected": 1,
                    "problems_found": 0,
                    "problems_fixed": 0,
                }
                for c in counties
            ],
        )

    for week in (1, 2, 4):
        rows = []
        for c in counties:
            deaths, last = 1, 2
            if c == "xunyang" and week == 1:
                last = 4
            if c == "xunyang" and week == 2:
                deaths = 2
            rows.append(
                {"county": c, "accidents": 3, "deaths": deaths, "injuries": 2, "deaths_last_year": last}
            )
        w.submit("F8", "gongan", week, rows)

    def hazard(hid: str, status: str, fixed: dt.date | None) -> dict:
        return {
            "hazard_id": hid,
            "county": "hukou",
            "road_name": "湖口大道",
            "road_type": "城市道路",
            "hazard_type": "路面坑槽",
            "found_on": dt.date(2022, 4, 8),
            "status": status,
            "fixed_on": fixed,
            "responsible_unit": "湖口县交通局",
        }

    w.submit(
        "F4",
        "hukou",
        1,
        [
            hazard("H1", "未整改", None),
            hazard("H2", "未整改", None),
            hazard("H3", "已整改", dt.date(2022, 4, 10)),
        ],
    )
    w.submit("F4", "hukou", 3, [hazard("H1", "已整改", dt.date(2022, 4, 25))])

    def site(sid: str, category: str, five: bool, signal: str, completed: dt.date | None) -> dict:
        yes = "是" if five else "否"
        return {
            "site_id": sid,
            "county": "xunyang",
            "site_name": f"{sid}路口",
            "category": category,
            "warning_sign": yes,
            "road_marking": yes,
            "speed_bump": yes,
            "warning_post": yes,
            "signal_light": signal,
            "completed_on": completed,
        }

    w.submit(
        "F5",
        "gonglu",
        1,
        [
            site("LK1", "2018年以来死亡2人以上路口", True, "是", dt.date(2022, 4, 10)),
            site("LK2", "2021年以来死亡1人路口", True, "否", None),
            site("LD1", "十大事故多发路段", False, "否", dt.date(2022, 4, 12)),
        ],
    )

    for week, total in ((1, 30000), (2, 30000), (4, 31000)):
        rows = []
        for c in CENTRAL:
            registered = 10000 if c == "xunyang" else 5000
            if week == 4 and c == "lianxi":
                registered += 1000
            helmets = None if (week, c) == (2, "balihu") else 10000  # left blank: unknown, not zero
            rows.append(
                {
                    "county": c,
                    "shared_ebikes": 10000,
                    "ebikes_registered": registered,
                    "helmets_equipped": helmets,
                    "enlarged_plates": 100,
                }
            )
        assert sum(r["ebikes_registered"] for r in rows) == total
        w.submit("F7", "gongan", week, rows)

    def f9(task: int, status: str, progress: str | None = None, difficulties: str | None = None) -> dict:
        return {
            "task_no": str(task),
            "status": status,
            "progress": progress,
            "difficulties": difficulties,
            "evidence": None,
        }

    w.submit(
        "F9",
        "jiaotong",
        1,
        [
            f9(2, "推进中", "开展高风险企业大检查"),
            f9(10, "未启动"),
            f9(11, "已完成", "GPS专项检查完成"),
            f9(19, "推进中", "路长制方案已起草", "资金不足"),
            f9(22, "推进中"),
        ],
    )
    w.submit("F9", "jiaotong", 2, [f9(19, "已完成", "路长制全面建立")])
    w.submit(
        "F9",
        "gongan",
        1,
        [
            f9(1, "推进中", "隐患清单已列出，专题报告待印发"),
            f9(7, "推进中", "五大硬仗部署"),
            f9(18, "已完成", "全市施工路段安全隐患排查已完成"),
            f9(25, "推进中", "已联系高德、百度"),
        ],
    )
    w.submit("F9", "gongan", 4, [f9(25, "推进中", "百度已标注，高德未完成", "企业响应慢")])
    w.submit("F9", "xunyang", 1, [f9(20, "已完成", "两站两员已配齐")])
    return w
