"""Words the sample campaign is written in: road and place names, hazard kinds, people, and the
official Chinese of the F9 progress reports (工作推进落实情况 / 推进中的困难问题及有关建议 / 佐证材料)."""

from __future__ import annotations

import random

__all__ = [
    "CITY_ROADS",
    "HAZARDS",
    "VILLAGES",
    "difficulty",
    "evidence",
    "person",
    "phone",
    "progress_text",
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
GIVEN = [
    "伟",
    "芳",
    "敏",
    "静",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "华",
    "平",
    "刚",
    "辉",
    "建华",
    "志强",
    "晓东",
    "海燕",
    "文斌",
    "国庆",
    "丽娟",
    "春生",
    "小军",
    "卫东",
    "红梅",
    "建国",
    "俊峰",
    "思远",
]

CITY_ROADS = [
    "长虹大道",
    "浔阳东路",
    "浔阳西路",
    "九龙街",
    "十里大道",
    "庐山南路",
    "濂溪大道",
    "前进东路",
    "滨江东路",
    "八里湖大道",
    "长江大道",
    "向阳路",
    "湓浦路",
    "柴桑路",
    "九瑞大道",
    "德化路",
    "琵琶湖大道",
    "结算中心路",
    "九江大道",
    "沙阎路",
    "共青大道",
    "迎宾大道",
    "莲花大道",
    "谭家畈路",
    "三里街",
]
NATIONAL = ["G105", "G316", "G351", "G353", "G220", "S301", "S302", "S304", "S306", "S212", "S215", "S303"]
VILLAGES = [
    "新塘",
    "石门",
    "杨柳",
    "马鞍",
    "黄土岭",
    "桃源",
    "官庄",
    "朱家",
    "李家",
    "湖塘",
    "港口",
    "柳林",
    "大屋",
    "枫树",
    "新港",
    "龙潭",
    "茶山",
    "白沙",
    "梅林",
    "上汪",
    "下畈",
    "岭下",
    "塘口",
    "周岭",
    "白鹿",
    "金桥",
]

HAZARDS = {
    "城市道路": [
        "人行横道标线磨损",
        "信号灯配时不合理",
        "路口视距被绿化遮挡",
        "学校周边缺少减速设施",
        "非机动车道被占用",
        "路面坑槽",
        "隔离护栏缺损",
        "施工围挡占道未设警示标志",
    ],
    "国省道": [
        "急弯陡坡缺少警告标志",
        "平交路口视距不良",
        "临水临崖路段缺少防护栏",
        "长下坡路段缺少避险车道",
        "道路标线磨损",
        "路侧护栏缺损",
        "施工路段未设置警示标志",
        "平交路口缺少减速带",
    ],
    "县乡道": [
        "急弯路段缺少警告标志",
        "临水路段缺少防护设施",
        "平交路口缺少减速带",
        "桥梁护栏缺损",
        "路面破损",
        "视距不良未设凸面镜",
        "道路标线缺失",
    ],
    "村道": [
        "临水临崖缺少防护栏",
        "平交路口缺少减速带",
        "急弯路段缺少警示桩",
        "视距不良未设凸面镜",
        "路面过窄未设错车道",
        "缺少警告标志",
    ],
}

# (tasks the sentence fits, or None for any task, sentence)
_DIFFICULTIES: list[tuple[frozenset[int] | None, str]] = [
    (None, "部分县(市、区)工作进展不平衡，建议市整治办加大督导通报力度。"),
    (None, "个别单位对专项整治重视程度不够，工作推进力度有待加强，建议纳入月度排名通报。"),
    (frozenset({3, 7, 8, 9, 17, 24, 25}), "基层警力不足，路面管控压力较大，建议协调增派辅警力量。"),
    (frozenset({6, 16, 18, 19, 20}), "改造资金缺口较大，建议市财政给予专项资金支持。"),
    (frozenset({3, 4, 5}), "部分重点车辆长期逃避检验，车主难以联系，建议协调相关部门实施联合惩戒。"),
    (
        frozenset({1, 6, 16, 18, 19, 20}),
        "农村地区道路点多线长，排查整治难度较大，建议各县(市、区)落实属地责任。",
    ),
    (frozenset({1, 6, 18}), "部分隐患整改涉及多个部门，协调推进难度较大，建议由市整治办统筹调度。"),
    (frozenset({14, 15}), "共享电动车运营企业配合程度不一，建议进一步压实企业主体责任。"),
    (frozenset({6, 16, 18}), "近期降雨天气较多，部分施工项目工期有所延后。"),
    (frozenset({2, 10, 11, 22}), "部分企业安全生产主体责任落实不到位，整改进度较慢，建议加大执法处罚力度。"),
    (frozenset({3, 22, 25, 26}), "信息系统数据共享不畅，比对核查效率不高，建议打通部门间数据接口。"),
    (frozenset({21, 23, 24}), "宣传覆盖面仍需扩大，农村地区群众交通安全意识有待提高。"),
    (frozenset({12}), "校车及接送学生车辆底数动态变化，监管难度较大。"),
    (frozenset({13}), "电动车销售网点分散，源头监管力量不足。"),
]
_DONE_REMARKS = [
    "无。",
    "暂无。",
    "建议将专项整治中的有效做法固化为长效工作机制。",
    "下一步将转入常态化管理，持续巩固整治成效。",
    None,
]

_EVIDENCE = [
    "工作方案、工作台账",
    "现场照片{n}张、检查记录",
    "《工作推进情况通报》（第{n}期）",
    "整改通知书{n}份、整改回执",
    "会议纪要、工作台账",
    "督导检查记录{n}份",
]


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def phone(rng: random.Random) -> str:
    return (
        f"0792-{rng.randint(2, 8)}{rng.randint(100000, 999999)}"
        if rng.random() < 0.6
        else f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}"
    )


def difficulty(rng: random.Random, done: bool, task_no: int | None = None) -> str | None:
    """The 推进中的困难问题及有关建议 cell: sentences that fit the task, or a closing remark once done."""
    if done:
        return rng.choice(_DONE_REMARKS)
    if rng.random() < 0.12:
        return None
    pool = [text for tasks, text in _DIFFICULTIES if tasks is None or task_no in tasks]
    first = rng.choice(pool)
    if rng.random() < 0.35:
        second = rng.choice(pool)
        if second != first:
            return first + second
    return first


def evidence(rng: random.Random, doc_prefix: str, week: int, task_no: int | None = None) -> str | None:
    """The 佐证材料 cell."""
    if rng.random() < 0.15:
        return None
    pool = _EVIDENCE + (["宣传图片{n}张、新闻报道链接"] if task_no in {21, 23, 24} else [])
    choice = rng.choice(pool)
    text = choice.format(n=week if "期" in choice else rng.randint(2, 30))
    if rng.random() < 0.3:
        text = (
            f"《关于进一步推进道路交通安全专项整治工作的通知》"
            f"（{doc_prefix}〔2022〕{rng.randint(8, 96)}号）、" + text
        )
    return text


# Each task's progress sentence: a format string over the counters of ``progress_text``. {d} is the date
# (截至5月11日), {u} the unit. Numbers named a..e are cumulative counters kept per unit and task.
_TASK_TEXTS: dict[int, str] = {
    1: "{d}，{u}会同交通运输、公路、住建、城管等部门开展道路交通隐患大排查，全市累计排查发现隐患{found}处，"
    "已整改{fixed}处，整改率{fix_rate}，隐患清单已向各地党委政府专题报告、向道路管养部门专题通报。",
    2: "{d}，{u}对全市“两客一危一货”运输企业开展安全生产大检查，"
    "累计检查企业{inspected}家次，发现问题{problems}个，"
    "已整改{problems_fixed}个；全市高风险运输企业由{hr_start}家降至{hr_now}家。",
    3: "{d}，{u}组织派出所、交警中队对辖区劳务用工单位和企业出行情况开展摸底，累计摸排企业{a}家、车辆{b}辆，"
    "分门别类建立重点车辆、重点驾驶人工作台账。",
    4: "{d}，全市重点车辆应检验{inspect_due}辆，已检验{inspected_v}辆，检验率{inspect_rate}；"
    "应注销{cancel_due}辆，已注销{cancelled}辆，注销率{cancel_rate}。"
    "{u}对逾期未检验车辆逐车发函督促，对长期逃避检验的车辆列入重点查缉名单。",
    5: "{d}，全市重点驾驶人应换证{renew_due}人，已换证{renewed}人，换证率{renew_rate}；应审验{review_due}人，"
    "已审验{reviewed}人，审验率{review_rate}。{u}已完成对全市考场和考试系统的集中检查。",
    6: "{d}，{sites_text}",
    7: "{d}，{u}联合应急、公路、市监、教育等部门打好“五大硬仗”，"
    "累计开展联合执法{a}次，通报曝光典型问题{b}个。",
    8: "{d}，{u}在国省道等主线公路加强疲劳驾驶易发时段巡逻管控，"
    "累计组织夜查、凌晨查等统一行动{a}次，出动警力{b}人次。",
    9: "{d}，全市累计查处酒驾醉驾{drunk}起、电动自行车违法{ebike}起、工程运输车违法{truck}起、"
    "客货车和农村道路记分违法{points}起。",
    10: "{d}，{u}开展打击非法营运专项行动，累计查处非法营运车辆{a}辆，取缔“黑站点”{b}个。",
    11: "{d}，{u}集中开展客运企业安全大检查，累计检查客运企业{a}家次，通报GPS动态监控发现的违法信息{b}条。",
    12: "{d}，{u}深入中小学校、幼儿园开展校园安全检查，累计检查学校{a}所、校车{b}辆，督促整改隐患{c}处。",
    13: "{d}，{u}已出台电动车源头监管工作方案，累计检查电动车销售企业{a}家，下架不符合标准的电动车{b}辆。",
    14: "{d}，中心城区共享电动车已登记上牌{registered}辆，占总数{registered_rate}。",
    15: "{d}，中心城区共享电动车已配备头盔{helmets}顶，头盔配备率{helmet_rate}。",
    16: "{d}，{u}在国省道、县乡道货车通行比例高的路段累计增设货车靠右行标志{a}处，"
    "在事故多发平交路口增设“一灯一带”{b}处。",
    17: "{d}，中心城区工程运输车已安装放大号牌{plates}辆，{u}同步督促加装安全防护设施。",
    18: "{d}，{u}对全市施工路段开展安全隐患排查，累计排查施工路段{a}处，督促设置减速带和物理降速设施{b}处。",
    19: "{d}，全市已有{a}个县(市、区)建立国省道、县乡道、村道三级“路长”组织体系。",
    20: "{d}，{u}已建成交通安全劝导站{a}个、设置劝导员{b}名，落实专项资金{c}万元。",
    21: "{d}，{u}组织市直新闻单位运用传统媒体和新媒体曝光源头安全隐患，累计刊发稿件{a}篇。",
    22: "{d}，{u}比对核查营运车辆{a}辆，发现营运证和行驶证信息不一致{b}辆，已督促企业整改{c}辆。",
    23: "{d}，{u}在临街电子显示屏累计刊播文明交通宣传标语和公益广告{a}条次。",
    24: "{d}，{u}累计曝光重点违法企业{a}家、突出违法车辆{b}辆、终生禁驾人员{c}名。",
    25: "{d}，{u}已协调高德、百度等导航企业标注事故多发路段{a}处并开通语音提醒。",
    26: "{d}，{u}推动三大运营商向事故多发路段行驶的驾驶人推送提示短信{a}万条。",
}
_GENERIC = (
    "{d}，{u}按照实施方案要求扎实推进“{title}”工作，"
    "累计召开推进会{a}次，开展督导检查{b}次，发现并督促整改问题{c}个。"
)
_NOT_STARTED = "{d}，{u}正在研究制定工作方案，尚未全面启动。"
_DONE_PREFIX = "该项工作已按期完成。"
_LATE_DONE_PREFIX = "该项工作已完成。"


def progress_text(
    task_no: int, title: str, status: str, values: dict[str, object], on_time: bool = True
) -> str:
    """The 工作推进落实情况 cell of one F9 row."""
    if status == "未启动":
        return _NOT_STARTED.format(**values)
    text = _TASK_TEXTS.get(task_no, _GENERIC).format(title=title, **values)
    if status == "已完成":
        text = (_DONE_PREFIX if on_time else _LATE_DONE_PREFIX) + text + "下一步将转入常态化管理。"
    return text
