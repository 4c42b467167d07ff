"""Reading .xls workbooks (Excel 97-2003) with python-calamine.

Values and merged ranges come from calamine; cells are turned into text here.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from ingest.grid import Grid, _password, _string_table, _unreadable, cell_text


def _xls_grids(path: Path, name: str) -> Iterator[Grid]:
    import python_calamine

    try:
        with path.open("rb") as fh:
            wb = python_calamine.load_workbook(io.BytesIO(fh.read()))
    except python_calamine.PasswordError as exc:
        raise _password(name) from exc
    except Exception as exc:  # calamine raises several unrelated types for broken files
        raise _unreadable(name, "不是有效的 Excel 文件或文件已损坏。") from exc
    for i, meta in enumerate(wb.sheets_metadata):
        try:
            sheet = wb.get_sheet_by_index(i)
            rows = sheet.to_python(skip_empty_area=False)
            merged = sheet.merged_cell_ranges or []
        except python_calamine.PasswordError as exc:
            raise _password(name) from exc
        except Exception as exc:
            raise _unreadable(name, f"工作表“{meta.name}”已损坏，无法读取。") from exc
        width = max((len(r) for r in rows), default=0)
        columns: dict[str, list[str | None]] = {f"c{c}": [] for c in range(width)}
        for row in rows:
            for c in range(width):
                columns[f"c{c}"].append(cell_text(row[c]) if c < len(row) else None)
        while rows and columns and all(v is None for v in columns[f"c{width - 1}"]):
            del columns[f"c{width - 1}"]
            width -= 1
        yield Grid(
            sheet=meta.name,
            index=i,
            visible=meta.visible == python_calamine.SheetVisibleEnum.Visible,
            data=_string_table(columns) if columns else _string_table({}),
            merges=[(r1, c1, r2, c2) for (r1, c1), (r2, c2) in merged],
            fastexcel=False,
        )
