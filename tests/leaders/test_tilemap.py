"""The tile-map layout is campaign data: every county exactly once, and clear Chinese errors otherwise."""

from __future__ import annotations

import shutil

import pytest

from dashboards.leaders.svg import tile_map
from dashboards.leaders.tilemap import LAYOUT_FILE, TilemapError, load_tilemap
from roadsafe.campaign import campaigns_dir, load_campaign


@pytest.mark.parametrize("code", ["jiujiang-2022", "jiujiang-longterm-2022"])
def test_shipped_layouts_place_every_county_once(code):
    campaign = load_campaign(code)
    tiles = load_tilemap(campaign)
    assert sorted(t.unit_id for t in tiles) == sorted(c.id for c in campaign.counties)
    assert len({(t.col, t.row) for t in tiles}) == len(tiles)
    assert all(len(t.label) <= 3 for t in tiles)


def _copy(tmp_path, text: str):
    root = tmp_path / "jiujiang-2022"
    shutil.copytree(campaigns_dir() / "jiujiang-2022", root)
    (root / LAYOUT_FILE).write_text(text, encoding="utf-8")
    return load_campaign(root)


def test_layout_errors_name_the_entry(tmp_path):
    campaign = _copy(
        tmp_path,
        "tiles:\n"
        "  - {unit: xunyang, col: 0, row: 0}\n"
        "  - {unit: lianxi, col: 0, row: 0}\n"
        "  - {unit: nowhere, col: 1, row: 0}\n"
        "  - {unit: jingkaiqu, col: 2, row: 0}\n",
    )
    with pytest.raises(TilemapError) as err:
        load_tilemap(campaign)
    text = str(err.value)
    assert "第 2 项：濂溪区 与 浔阳区 位置重叠" in text
    assert "第 3 项：'nowhere' 不是本活动的县（市、区）" in text
    assert "第 4 项（九江经济技术开发区）：名称超过三个字" in text
    assert "缺少" in text and "修水县" in text


def test_tile_map_links_every_county_and_colours_by_value():
    campaign = load_campaign("jiujiang-2022")
    tiles = load_tilemap(campaign)
    values = {t.unit_id: float(i) for i, t in enumerate(tiles)}
    values[tiles[0].unit_id] = None
    svg = tile_map(tiles, values, caption="得分<地图>")
    assert svg.count("<a href=") == len(tiles)
    assert 'aria-label="得分&lt;地图&gt;"' in svg
    assert "#e0e0e0" in svg  # the unit without a value is grey, shown as —
    assert "#2166ac" in svg and "#b2182b" in svg  # top and bottom of the scale
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
