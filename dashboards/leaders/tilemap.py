"""The tile-map layout of a campaign (``campaigns/<code>/tilemap.yml``): grid positions of its counties."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from roadsafe.campaign import Campaign, read_yaml

LAYOUT_FILE = "tilemap.yml"


class TilemapError(ValueError):
    """The layout file is missing, malformed or does not match the campaign's counties."""


@dataclass(frozen=True)
class Tile:
    unit_id: str
    name: str
    label: str  # printed on the tile: at most three characters
    col: int
    row: int


def load_tilemap(campaign: Campaign) -> list[Tile]:
    """Read and check the layout: every county exactly once, no two on one square, non-negative positions,
    a tile label of at most three characters."""
    path = Path(campaign.root) / LAYOUT_FILE
    if not path.is_file():
        raise TilemapError(f"活动定义缺少地图布局文件 {LAYOUT_FILE}")
    raw = read_yaml(path)
    entries = raw.get("tiles") if isinstance(raw, dict) else None
    if not isinstance(entries, list):
        raise TilemapError(f"{LAYOUT_FILE}：应有 tiles 列表")
    counties = {c.id: c.name for c in campaign.counties}
    problems: list[str] = []
    tiles: list[Tile] = []
    seen_units: set[str] = set()
    seen_cells: dict[tuple[int, int], str] = {}
    for i, entry in enumerate(entries, start=1):
        where = f"{LAYOUT_FILE} 第 {i} 项"
        if not isinstance(entry, dict):
            problems.append(f"{where}：应为 {{unit, col, row}}")
            continue
        unit, col, row = entry.get("unit"), entry.get("col"), entry.get("row")
        if unit not in counties:
            problems.append(f"{where}：{unit!r} 不是本活动的县（市、区）")
            continue
        if not (isinstance(col, int) and isinstance(row, int) and col >= 0 and row >= 0):
            problems.append(f"{where}（{counties[unit]}）：col、row 应为非负整数")
            continue
        if unit in seen_units:
            problems.append(f"{where}：{counties[unit]} 重复出现")
            continue
        if (col, row) in seen_cells:
            problems.append(f"{where}：{counties[unit]} 与 {seen_cells[(col, row)]} 位置重叠")
            continue
        label = entry.get("label") or counties[unit]
        if not isinstance(label, str) or len(label) > 3:
            problems.append(f"{where}（{counties[unit]}）：名称超过三个字，须给出 label（不超过三个字）")
            continue
        seen_units.add(unit)
        seen_cells[(col, row)] = counties[unit]
        tiles.append(Tile(unit, counties[unit], label, col, row))
    missing = [name for uid, name in counties.items() if uid not in seen_units]
    if missing:
        problems.append(f"{LAYOUT_FILE}：缺少 {'、'.join(missing)}")
    if problems:
        raise TilemapError("地图布局有误：\n" + "\n".join(problems))
    return tiles
