"""The errors a route raises to show the user a Chinese page, and the page text of each HTTP status."""

from __future__ import annotations

__all__ = ["ERROR_TEXT", "LoginRequired", "PortalError"]

ERROR_TEXT = {
    400: ("请求有误", "提交的内容不完整或格式不正确，请返回上一页重新操作。"),
    401: ("需要登录", "请先登录。"),
    403: ("无权访问", "您没有访问该页面或执行该操作的权限。"),
    404: ("页面不存在", "您访问的页面不存在，请从导航栏进入。"),
    405: ("请求方式不正确", "请从页面上的按钮或链接进行操作。"),
    413: ("文件过大", "上传的文件超过大小上限。"),
    415: ("文件类型不符合要求", "只接受 Excel 工作簿或 CSV 文件。"),
    429: ("操作过于频繁", "请稍后再试。"),
    500: ("系统内部错误", "系统处理您的请求时出错，请稍后重试。"),
    503: ("系统繁忙", "系统繁忙，请稍后再试。"),
}


class LoginRequired(Exception):
    def __init__(self, reason: str | None):
        self.reason = reason


class PortalError(Exception):
    """An error shown to the user as a Chinese page with ``status``."""

    def __init__(self, status: int, message: str | None = None):
        self.status = status
        self.message = message
