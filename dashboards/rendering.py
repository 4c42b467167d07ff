"""From a report's content to its three files: self-contained HTML, A4 PDF (WeasyPrint), XLSX.

The HTML is one file with the CSS inline, charts as inline SVG and fonts named (never fetched); a
Content-Security-Policy forbids every network request and every script, so even a mistake elsewhere
cannot make a page call out. The PDF is printed from the same HTML (or from the document's printed
copy, ``Document.pdf_html``, where the two differ) with the page footer "第 N 页 共 M 页" and dates
fixed to the edition's freeze time.

Examples
--------
>>> env = template_env()
>>> env.from_string("{{ x }}").render(x="<script>")
'&lt;script&gt;'
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from dashboards.workbook import Sheet, write_workbook

__all__ = [
    "CSP",
    "Document",
    "css",
    "render_template",
    "template_env",
    "write_document",
    "write_html",
    "write_pdf",
]

TEMPLATES = Path(__file__).with_name("templates")

# No network, no scripts: styles and SVG/data images are all a page may use.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src 'none'; base-uri 'none'; "
    "form-action 'none'"
)


@dataclass(frozen=True)
class Document:
    """A rendered report: its HTML page, its workbook sheets and a plain-text summary (for e-mail).

    ``stem`` names the files (``bulletin.html`` …); ``title`` is the document title. ``pdf_html`` is the
    page printed to PDF when the printed copy differs from the web page (the ranking prints its score
    annex one line per unit; the line-by-line annex stays on the page and in the workbook); ``None``
    prints ``html`` itself.
    """

    stem: str
    title: str
    html: str
    sheets: list[Sheet] = field(default_factory=list)
    summary: str = ""
    pdf_html: str | None = None

    @property
    def printed_html(self) -> str:
        """The HTML the PDF is printed from."""
        return self.html if self.pdf_html is None else self.pdf_html


@functools.cache
def template_env():
    """The Jinja2 environment: templates from ``dashboards/templates``, autoescape always on."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


@functools.cache
def css(name: str = "report.css") -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def render_template(name: str, **context) -> str:
    """Render a template with the shared context (CSS, CSP, the tables' house CSS)."""
    from dashboards.tables import house_css

    return (
        template_env().get_template(name).render(css=Markup(css() + "\n" + house_css()), csp=CSP, **context)
    )


def write_html(html: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8", newline="\n")
    return path


def write_pdf(html: str, path: Path) -> Path:
    """Print ``html`` to an A4 PDF; page size, margins and footer come from the page's CSS."""
    import weasyprint

    path.parent.mkdir(parents=True, exist_ok=True)
    doc = weasyprint.HTML(string=html, base_url=str(TEMPLATES)).render()
    tmp = path.with_name(path.name + ".tmp")
    doc.write_pdf(str(tmp))
    tmp.replace(path)
    return path


def write_document(
    document: Document,
    folder: Path,
    *,
    created: dt.datetime,
    author: str,
    timings: dict[str, float] | None = None,
) -> dict[str, Path]:
    """Write ``<stem>.html``, ``<stem>.pdf``, ``<stem>.xlsx`` and the plain-text summary ``<stem>.txt``
    (the e-mail's text part) into ``folder``.

    Parameters
    ----------
    timings : dict, optional
        Filled with seconds spent per format (``html``, ``pdf``, ``xlsx``).
    """
    import time

    out: dict[str, Path] = {}
    t0 = time.perf_counter()
    out["html"] = write_html(document.html, folder / f"{document.stem}.html")
    out["txt"] = write_html(document.summary + "\n", folder / f"{document.stem}.txt")
    t1 = time.perf_counter()
    out["pdf"] = write_pdf(document.printed_html, folder / f"{document.stem}.pdf")
    t2 = time.perf_counter()
    out["xlsx"] = write_workbook(
        folder / f"{document.stem}.xlsx",
        document.sheets,
        title=document.title,
        created=created,
        author=author,
    )
    t3 = time.perf_counter()
    if timings is not None:
        timings.update({"html": t1 - t0, "pdf": t2 - t1, "xlsx": t3 - t2})
    return out
