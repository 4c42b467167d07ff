"""Written documents a campaign asks units for (实施方案, 月度小结, 总结): the ``kind: document`` entries
of ``forms.yml``.

A document has no rows of figures. It is a file (Word, PDF or WPS, any page count) sent like a form
(portal upload, inbox folder, ``roadsafe submit``), landed with a receipt, registered in
``raw.submissions`` and judged on time or late against a one-off due time of ``campaign.yml``
(``oneoffs``: the code named by ``oneoff``); its units are the one-off's (every responsible unit).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from roadsafe.campaign.model import _Strict

__all__ = ["DOCUMENT_FORMATS", "DocumentDef", "split_forms"]

# Formats a document may come in, told by content: Office Open XML (docx), the OLE compound file of Word
# 97-2003 and of WPS (doc, wps), PDF.
DOCUMENT_FORMATS = ("docx", "doc", "wps", "pdf")


class DocumentDef(_Strict):
    code: str = ""
    kind: Literal["document"]
    name: str
    # the one-off of campaign.yml that schedules it (its due time or rule, and who must send it)
    oneoff: str
    # words in the file name or title that say a file is this document (the first is the plain name)
    keywords: list[str] = Field(min_length=1)
    formats: list[Literal["docx", "doc", "wps", "pdf"]] = list(DOCUMENT_FORMATS)
    max_megabytes: int = Field(20, ge=1, le=100)

    @property
    def max_bytes(self) -> int:
        return self.max_megabytes * 1024 * 1024


def split_forms(raw_forms: dict | None) -> tuple[dict, dict]:
    """``forms.yml`` entries split into (tabular forms, documents) by their ``kind``."""
    forms, documents = {}, {}
    for code, body in (raw_forms or {}).items():
        target = documents if isinstance(body, dict) and body.get("kind") == "document" else forms
        target[code] = body
    return forms, documents
