"""``python -m application.samples OUT_DIR [--seed N] [--scale N] [--ledger-scale N] [--campaign CODE]``."""

from __future__ import annotations

import argparse
import json
import sys

from application.samples.generator import generate_samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m application.samples", description="生成样例活动数据（报送文件）。"
    )
    parser.add_argument("out_dir", help="输出目录（空目录，或此前生成的样例目录）")
    parser.add_argument("--seed", type=int, default=2022, help="随机种子（默认 2022）")
    parser.add_argument("--scale", type=int, default=1, help="规模倍数：1 为真实的15个县区")
    parser.add_argument("--ledger-scale", type=int, default=1, help="隐患台账（F4）行数再乘的倍数")
    parser.add_argument(
        "--campaign", default=None, help="活动代码（默认 $ROADSAFE_CAMPAIGN 或 jiujiang-2022）"
    )
    args = parser.parse_args(argv)
    from roadsafe.settings import Settings

    code = args.campaign or Settings.from_env().campaign_code
    try:
        manifest = generate_samples(
            code, args.out_dir, seed=args.seed, scale=args.scale, ledger_scale=args.ledger_scale
        )
    except (FileExistsError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    counts = manifest.counts()
    print(
        f"已生成 {len(manifest.entries)} 个文件（应报 {manifest.expected} 份，"
        f"缺报 {len(manifest.missing)} 份），"
        f"用时 {manifest.seconds:.1f} 秒：{manifest.out_dir}"
    )
    print(json.dumps({k: counts[k] for k in ("by_form", "by_format", "by_expect")}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
