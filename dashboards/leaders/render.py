"""One way to turn a leaders' page into HTML: the shared template shell, the inline CSS and the
Content-Security-Policy (the static export's own; behind the portal the portal's headers carry it).

Behind the portal the header holds :data:`ACCOUNT_SLOT`, replaced per request by the reader's name and the
log-out button (:func:`with_account`), so the rest of the page can be cached once per snapshot."""

from __future__ import annotations

from html import escape

__all__ = ["ACCOUNT_SLOT", "render_page", "with_account"]

ACCOUNT_SLOT = "<!--leaders-account-->"


def render_page(template: str, *, title: str, root: str, portal: bool, **context) -> str:
    """A leaders' page; ``leaders_<kind>.html.j2`` gets ``<main class="<kind>">``."""
    from markupsafe import Markup

    from dashboards.rendering import CSP, css, template_env

    return (
        template_env()
        .get_template(template)
        .render(
            css=Markup(css("leaders.css")),
            csp=None if portal else CSP,
            title=title,
            root=root,
            portal=portal,
            page_class=template.removeprefix("leaders_").split(".")[0],
            account=Markup(ACCOUNT_SLOT),
            Markup=Markup,
            **context,
        )
    )


def with_account(page: bytes, *, who: str, csrf: str, links: list[tuple[str, str]]) -> bytes:
    """The cached page with the reader's bar: links (href, text), who is reading, and the log-out form."""
    parts = [f'<a href="{escape(href)}">{escape(text)}</a>' for href, text in links]
    parts.append(f"<span>{escape(who)}</span>")
    parts.append(
        '<form method="post" action="/logout"><input type="hidden" name="csrf_token" '
        f'value="{escape(csrf)}"><button type="submit">退出登录</button></form>'
    )
    bar = f'<nav class="account" aria-label="账号">{"".join(parts)}</nav>'
    return page.replace(ACCOUNT_SLOT.encode(), bar.encode("utf-8"), 1)
