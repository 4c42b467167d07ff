"""Answers to files dropped into a unit's shared folder (``$ROADSAFE_HOME/inbox/<unit>/``).

After an inbox scan (:func:`ingest.service.process_inbox`), each receipt of an inbox file

* is written beside the file as the unit sees its folder: ``<folder>/回执/<file name>.txt`` (the file itself
  is never moved or changed; the reply is replaced when the same path is submitted again), and
* goes to the unit's 联络员 by e-mail and to the unit's group robot (exactly once per submission, through
  the same ledger as the reminders, :mod:`dashboards.outreach`).

Writing into a folder a unit controls is done carefully: the reply must resolve inside the inbox, and a
``回执`` that is a symbolic link (or a reply file that is one) is refused, so a unit cannot make the server
write elsewhere.

The inbox scan must not take the ``回执`` folder for submissions (it lands every file under a unit's
folder); until it skips that folder, :func:`reply_to_inbox` is not called after the scan.

:func:`create_drop_folders` makes one folder per reporting unit (named by its Chinese name) so the office
need not; a unit that already has a folder under any of its names keeps it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

__all__ = ["REPLY_FOLDER", "create_drop_folders", "reply_to_inbox", "write_reply"]

log = logging.getLogger(__name__)

REPLY_FOLDER = "回执"


def create_drop_folders(settings, campaign) -> list[Path]:
    """Create ``inbox/<单位名称>/`` for every county and department that has something to submit; returns
    the folders created now."""
    settings.inbox.mkdir(parents=True, exist_ok=True)
    present = set()
    for folder in settings.inbox.iterdir():
        if folder.is_dir() and not folder.is_symlink():
            unit = campaign.units.get(folder.name) or campaign.resolve_unit(folder.name)
            if unit is not None:
                present.add(unit.id)
    submitters = {u for code in campaign.forms for u in campaign.form_submitters(code)}
    created = []
    for unit in campaign.units.values():
        if unit.kind in ("county", "department") and unit.id in submitters and unit.id not in present:
            path = settings.inbox / unit.name
            path.mkdir(exist_ok=True)
            created.append(path)
    return created


def write_reply(settings, source_path: str, text: str) -> Path | None:
    """Write ``text`` as ``回执/<file name>.txt`` beside ``inbox/<source_path>``; None when refused."""
    inbox = settings.inbox.resolve()
    source = (inbox / source_path).resolve()
    if not source.is_relative_to(inbox) or source.parent == inbox:
        log.error("Reply refused: %s is not inside a unit folder of the inbox", source_path)
        return None
    folder = source.parent / REPLY_FOLDER
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        log.error("Reply refused: %s is not a plain folder", folder)
        return None
    folder.mkdir(exist_ok=True)
    target = folder / f"{source.name}.txt"
    tmp = folder / f".{source.name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text.rstrip("\n") + "\n")
    if target.is_symlink():
        tmp.unlink()
        log.error("Reply refused: %s is a symbolic link", target)
        return None
    os.replace(tmp, target)
    return target


def _sources(settings, ids: list[str]) -> dict[str, str]:
    """submission id → inbox path (relative to inbox/) for the inbox submissions among ``ids``."""
    from roadsafe.warehouse import connect, writer_turn

    with writer_turn(settings) as deadline:
        con = connect(settings, deadline=deadline)
        try:
            rows = con.execute(
                "select submission_id, source_path from raw.submissions "
                "where channel = 'inbox' and source_path is not null and submission_id in (select unnest($ids))",
                {"ids": ids},
            ).fetchall()
        finally:
            con.close()
    return dict(rows)


def reply_to_inbox(settings, receipts, *, delays: tuple[float, ...] | None = None) -> dict:
    """Write the reply file and deliver the 回执 of every inbox receipt among ``receipts``.

    Returns ``{"replies": n written, "deliveries": [...]}`` (see :func:`dashboards.outreach.deliver`)."""
    from dashboards.notices import receipt_message
    from dashboards.outreach import DELAYS, Outgoing, deliver, portal_url, routes_for, smtp_config
    from roadsafe.contacts import load_contacts

    if not receipts:
        return {"replies": 0, "deliveries": []}
    sources = _sources(settings, [r.submission_id for r in receipts])
    inbox_receipts = [r for r in receipts if r.submission_id in sources]
    if not inbox_receipts:
        return {"replies": 0, "deliveries": []}
    campaign = settings.campaign()
    contacts = load_contacts(settings)
    smtp = smtp_config()
    link = portal_url()
    written = 0
    items = []
    for receipt in inbox_receipts:
        text = receipt.text()
        if write_reply(settings, sources[receipt.submission_id], text) is not None:
            written += 1
        if receipt.unit_id is None:
            continue
        key = f"{campaign.code}/{receipt.unit_id}/receipt/{receipt.submission_id}"
        message = receipt_message(campaign, text, receipt.original_name, receipt.accepted, link)
        routes = routes_for(contacts, receipt.unit_id, "receipt", (), key, smtp)
        items.append(Outgoing(key, campaign.code, receipt.unit_id, "receipt", message, routes))
    deliveries = deliver(settings, items, delays=DELAYS if delays is None else delays) if items else []
    return {"replies": written, "deliveries": deliveries}
