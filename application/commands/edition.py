"""``roadsafe edition …``: the operator's twin of the portal's 审核签发 page.

===============================================================  =============================================
``roadsafe edition list``                                        drafts (待签发), published editions, 更正
``roadsafe edition draft KIND REF``                              freeze the draft of an edition now
``roadsafe edition show KIND REF``                               state, 按语, paragraphs (keys p1 …), record
``roadsafe edition note KIND REF TEXT [--reason R]``             set the 按语 ('' removes it)
``roadsafe edition reword KIND REF pN TEXT [--reason R]``        correct a paragraph's wording (same figures)
``roadsafe edition sign KIND REF [--reason R] [--no-deliver]``   sign: publish as 第N期 and e-mail it
``roadsafe edition correct KIND REF --reason R [--reword pN=…]``  issue a 更正 of a published edition
===============================================================  =============================================

KIND is ``bulletin``, ``dispatch``, ``ranking``, ``summary`` (or the full kind name); REF the week (``5``) or
month (``2022-05``). Every action is recorded with ``--by`` (default: the operator's login) and its reason.
"""

from __future__ import annotations

import argparse
import getpass
import sys

__all__ = ["register"]

_SHORT = {"bulletin": "weekly_bulletin", "dispatch": "dispatch_list", "ranking": "monthly_ranking",
          "summary": "monthly_summary"}  # fmt: skip


def _kind(text: str) -> str:
    return _SHORT.get(text, text)


def _friendly(handler):
    import functools

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (ValueError, LookupError, FileNotFoundError, RuntimeError, OSError) as exc:
            print(f"错误：{exc}", file=sys.stderr)
            return 2

    return run


def _title(meta) -> str:
    return f"{meta.title}（第{meta.issue_no}期，{meta.label}）"


@_friendly
def _list(args) -> int:
    from dashboards.correction import list_corrections
    from dashboards.signoff import edition_states

    states = edition_states(args.settings)
    if not states:
        print("暂无草稿或已发布的期次。")
    for s in states:
        who = f"，{s.review.get('signed_by')}" if s.review.get("signed_by") else ""
        print(f"[{s.state_text}{who}] {_title(s.edition.meta)}  {s.kind} {s.ref}")
        for c in list_corrections(args.settings, s.kind, s.ref):
            print(f"    更正{c.data['number']}：{c.data['reason']}（{len(c.changes)}处）  {c.folder}")
    return 0


@_friendly
def _draft(args) -> int:
    from dashboards.signoff import prepare_draft

    state = prepare_draft(args.settings, _kind(args.kind), args.ref, frozen_at=args.frozen_at, who=args.by)
    print(f"{_title(state.edition.meta)}：{state.state_text}")
    print(f"  {state.edition.folder}")
    return 0


@_friendly
def _show(args) -> int:
    from dashboards.audit import ACTION_WORDS, read_audit
    from dashboards.signoff import find_edition, read_paragraphs

    state = find_edition(args.settings, _kind(args.kind), args.ref)
    print(f"{_title(state.edition.meta)}：{state.state_text}")
    print(f"  {state.edition.folder}")
    print(f"按语：{state.review.get('note') or '（无）'}")
    changed = state.review.get("rewordings") or {}
    for p in read_paragraphs(state.edition):
        if p["key"] in changed:
            print(f"{p['key']}（已修改）：{changed[p['key']]['text']}\n    原文：{p['text']}")
        else:
            print(f"{p['key']}：{p['text']}")
    print("记录：")
    for e in read_audit(args.settings, kind=state.kind, ref=state.ref):
        reason = f"，理由：{e['reason']}" if e.get("reason") else ""
        print(f"  {e['at']} {e['who']} {ACTION_WORDS.get(e['action'], e['action'])}{reason}")
    return 0


@_friendly
def _note(args) -> int:
    from dashboards.signoff import set_note

    review = set_note(args.settings, _kind(args.kind), args.ref, args.text, who=args.by, reason=args.reason)
    print("已保存按语。" if review.get("note") else "已删除按语。")
    return 0


@_friendly
def _reword(args) -> int:
    from dashboards.signoff import reword

    review = reword(
        args.settings, _kind(args.kind), args.ref, args.key, args.text, who=args.by, reason=args.reason
    )
    print(f"已保存第{args.key[1:]}段的修改。" if args.key in review["rewordings"] else "已恢复原文。")
    return 0


@_friendly
def _sign(args) -> int:
    from dashboards.signoff import sign

    state, deliveries = sign(
        args.settings,
        _kind(args.kind),
        args.ref,
        who=args.by,
        reason=args.reason,
        deliver=not args.no_deliver,
    )
    print(f"已签发：{_title(state.edition.meta)}")
    for path in state.edition.outputs().values():
        print(f"  {path}")
    for d in deliveries:
        print(f"已发送 → {', '.join(d['recipients'])}")
    return 0


@_friendly
def _correct(args) -> int:
    from dashboards.correction import correct

    rewordings = {}
    for item in args.reword or []:
        key, sep, text = item.partition("=")
        if not sep:
            raise ValueError(f"--reword 应写成 pN=修改后的文字：{item}")
        rewordings[key.strip()] = text
    result, deliveries = correct(
        args.settings, _kind(args.kind), args.ref, who=args.by, reason=args.reason, rewordings=rewordings,
        deliver=not args.no_deliver,
    )  # fmt: skip
    print(f"已发布更正（第{result.data['number']}次），共{len(result.changes)}处：")
    for c in result.changes:
        print(f"  {c.place} {c.item} {c.column}：{c.old} → {c.new}")
    for path in result.outputs().values():
        print(f"  {path}")
    for d in deliveries:
        print(f"已发送 → {', '.join(d['recipients'])}")
    return 0


def register(subparsers) -> None:
    """Add ``edition`` to the ``roadsafe`` command line."""
    import datetime as dt

    def aware(text: str) -> dt.datetime:
        value = dt.datetime.fromisoformat(text)
        if value.tzinfo is None:
            raise argparse.ArgumentTypeError("请带上时区，例如 2022-05-12T12:00:00+08:00")
        return value

    edition = subparsers.add_parser("edition", help="审核签发: drafts, 按语, wording, sign, 更正")
    actions = edition.add_subparsers(dest="edition_action", required=True, metavar="ACTION")
    by = f"{getpass.getuser()}（命令行）"

    def target(p, *, who: bool = True):
        p.add_argument("kind", help="bulletin, dispatch, ranking, summary (or the full kind)")
        p.add_argument("ref", help="week number (5) or month (2022-05)")
        if who:
            p.add_argument("--by", default=by, help="who acts (recorded; default the operator's login)")
            p.add_argument("--reason", default="", help="why (recorded)")

    actions.add_parser("list", help="drafts and published editions").set_defaults(func=_list)
    p = actions.add_parser("draft", help="freeze an edition's draft now")
    target(p)
    p.add_argument("--frozen-at", type=aware, default=None, metavar="ISO")
    p.set_defaults(func=_draft)
    p = actions.add_parser("show", help="state, 按语, paragraphs and record of an edition")
    target(p, who=False)
    p.set_defaults(func=_show)
    p = actions.add_parser("note", help="set the 按语 ('' removes it)")
    target(p)
    p.add_argument("text")
    p.set_defaults(func=_note)
    p = actions.add_parser("reword", help="correct the wording of paragraph pN (figures stay)")
    target(p)
    p.add_argument("key", help="p1, p2 … (see show)")
    p.add_argument("text")
    p.set_defaults(func=_reword)
    p = actions.add_parser("sign", help="sign: publish and e-mail")
    target(p)
    p.add_argument("--no-deliver", action="store_true", help="publish without e-mailing")
    p.set_defaults(func=_sign)
    p = actions.add_parser("correct", help="issue a 更正 of a published edition")
    target(p)
    p.add_argument("--reword", action="append", metavar="pN=TEXT", help="also correct a paragraph's wording")
    p.add_argument("--no-deliver", action="store_true")
    p.set_defaults(func=_correct)
