"""The contacts list: import from the office's Excel, the checks (Chinese, row and column), the robot
address rule (no calls to arbitrary internal addresses), storage (0600) and export."""

from __future__ import annotations

import stat

import openpyxl
import pytest

from application.cli import main
from roadsafe.contacts import (
    COLUMNS,
    OFFICE,
    ContactsError,
    contacts_path,
    import_xlsx,
    load_contacts,
    robot_problem,
)

GOOD = [
    [
        "九江市浔阳区人民政府",
        "王丽",
        "138 0792 1234",
        "wangli@example.org",
        "李强",
        "liqiang@example.com",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123",
        "",
    ],
    [
        "市公安局",
        "陈明",
        "13907921234",
        "chenming@example.org",
        "",
        "",
        "https://oapi.dingtalk.com/robot/send?access_token=tok",
        "SECabc",
    ],
    [
        "九江市道路交通安全专项整治工作领导小组办公室",
        "周敏",
        "",
        "ban@example.org",
        "",
        "",
        "https://open.feishu.cn/open-apis/bot/v2/hook/0f1e2d",
        "",
    ],
]


def _xlsx(path, rows, headers=tuple(COLUMNS)):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "名单"
    sheet.append(list(headers))
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_import_matches_aliases_stores_privately_and_exports_the_same_list(
    settings, campaign, tmp_path, capsys
):
    source = _xlsx(tmp_path / "联络员名单.xlsx", GOOD)
    code = main(["--home", str(settings.home), "contacts", "import", str(source)])
    assert code == 0, capsys.readouterr().err
    stored = load_contacts(settings)
    assert set(stored) == {"xunyang", campaign.resolve_unit("市公安局").id, OFFICE}
    assert stored["xunyang"].unit_name == "浔阳区" and stored["xunyang"].mobile == "13807921234"
    assert stored[OFFICE].robot_url.startswith("https://open.feishu.cn/")
    path = contacts_path(settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # every reporting unit got its drop folder, named as the unit sees itself
    assert (settings.inbox / "浔阳区").is_dir() and (settings.inbox / "市公安局").is_dir()
    out = capsys.readouterr().out
    assert "已导入联络员 2 个单位" in out and "尚无联络员" in out

    exported = tmp_path / "导出.xlsx"
    assert main(["--home", str(settings.home), "contacts", "export", "-o", str(exported)]) == 0
    assert import_xlsx(campaign, exported) == stored


def test_bad_rows_are_named_by_row_column_and_unit_and_nothing_is_stored(
    settings, campaign, tmp_path, capsys
):
    rows = [
        GOOD[0],
        ["濂溪区", "赵刚", "1380792", "zhaogang@example", "", "", "", ""],
        ["不存在的县", "钱多", "", "q@example.org", "", "", "", ""],
        ["柴桑区", "孙红", "", "", "", "", "http://169.254.169.254/latest/meta-data", ""],
        ["浔阳区", "王丽", "", "w2@example.org", "", "", "", ""],
    ]
    source = _xlsx(tmp_path / "名单.xlsx", rows)
    assert main(["--home", str(settings.home), "contacts", "import", str(source)]) == 2
    err = capsys.readouterr().err
    assert "第3行（单位：濂溪区）“邮箱”列：“zhaogang@example”不是有效的电子邮箱地址" in err
    assert "第3行（单位：濂溪区）“手机”列：“1380792”不是有效的11位手机号码" in err
    assert "第4行“单位”列：“不存在的县”不是本活动的报送单位" in err
    assert "第5行“邮箱”列为空（单位：柴桑区）" in err
    assert "第5行（单位：柴桑区）“群机器人地址”列：群机器人地址须以 https:// 开头" in err
    assert "第6行（单位：浔阳区）：该单位在名单中重复出现" in err
    assert "工作表“名单”" in err
    assert not contacts_path(settings).exists()


def test_a_list_without_the_required_columns_is_refused(campaign, tmp_path):
    source = _xlsx(tmp_path / "x.xlsx", [["浔阳区", "王丽"]], headers=("单位", "姓名"))
    with pytest.raises(ContactsError) as err:
        import_xlsx(campaign, source)
    assert "第1行缺少列：联络员、邮箱" in str(err.value)


@pytest.mark.parametrize(
    ("url", "env", "why"),
    [
        ("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", {}, None),
        ("https://oapi.dingtalk.com/robot/send?access_token=t", {}, None),
        ("http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", {}, "须以 https://"),
        ("https://10.0.0.5/cgi-bin/webhook/send?key=k", {}, "不是企业微信、钉钉或飞书"),
        ("https://metadata.google.internal/robot/send", {}, "不是企业微信、钉钉或飞书"),
        ("https://qyapi.weixin.qq.com:8443/cgi-bin/webhook/send?key=k", {}, "不得指定端口"),
        ("https://u:p@oapi.dingtalk.com/robot/send?access_token=t", {}, "用户名或密码"),
        ("https://oapi.dingtalk.com/admin/delete", {}, "不是企业微信、钉钉或飞书的群机器人"),
        ("https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send", {}, "不是企业微信"),
        # loopback only when the operator allows it, and only loopback
        ("http://127.0.0.1:8080/robot/send", {}, "须以 https://"),
        ("http://127.0.0.1:8080/robot/send", {"ROADSAFE_ROBOT_ALLOW_LOOPBACK": "1"}, None),
        ("http://192.168.1.10:8080/robot/send", {"ROADSAFE_ROBOT_ALLOW_LOOPBACK": "1"}, "须以 https://"),
        ("http://localhost.evil.example/robot/send", {"ROADSAFE_ROBOT_ALLOW_LOOPBACK": "1"}, "须以 https://"),
        # a private deployment the operator registered
        ("https://robot.zwding.example.gov.cn/robot/send?access_token=t", {}, "ROADSAFE_ROBOT_HOSTS"),
        (
            "https://robot.zwding.example.gov.cn/robot/send?access_token=t",
            {"ROADSAFE_ROBOT_HOSTS": "robot.zwding.example.gov.cn"},
            None,
        ),
    ],
)
def test_robot_addresses_follow_the_rule(url, env, why):
    problem = robot_problem(url, env)
    if why is None:
        assert problem is None
    else:
        assert problem is not None and why in problem
