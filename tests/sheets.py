"""The spreadsheets the bot sends, read back as a person opening them would see them: headers
whole in their columns, amounts and durations formatted, headers frozen, pages set for paper."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from typing import Any

CURRENCY = {"fr": '#,##0.00 "$"', "en": '"$"#,##0.00'}
DURATION = {"fr": '[h]" h "mm', "en": "[h]:mm"}


def table(sheet: Any) -> list[list[Any]]:
    """The values of a sheet, row by row."""
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def width(sheet: Any, column: int) -> float:
    """A column's width in characters (openpyxl may read adjacent columns as one group)."""
    for dimension in sheet.column_dimensions.values():
        if dimension.min <= column <= dimension.max and dimension.width:
            return float(dimension.width)
    return 8.43  # a spreadsheet's default width


def assert_headers_fit(sheet: Any, row: int) -> None:
    """Each header of `row` shows whole in its column: bold, wrapped between words on at most
    two lines that are each narrower than the column, the row tall enough for its lines."""
    lines_needed = 1
    for cell in sheet[row]:
        if not isinstance(cell.value, str):
            continue
        room = width(sheet, cell.column) - 1  # a cell's margins take about a character
        lines = textwrap.wrap(cell.value, int(room), break_long_words=False)
        assert len(lines) <= 2, (cell.value, room)
        assert all(len(line) <= room for line in lines), (cell.value, room)
        assert cell.font.b and cell.alignment.wrap_text, cell.value
        lines_needed = max(lines_needed, len(lines))
    if lines_needed > 1:
        height = sheet.row_dimensions[row].height
        assert height is not None and height >= 15 * lines_needed, (row, height)


def minutes(value: Any) -> int:
    """A duration cell (read back as a timedelta) in whole minutes."""
    assert isinstance(value, timedelta), value
    return round(value.total_seconds() / 60)


def assert_for_print(sheet: Any, title_rows: int) -> None:
    """Landscape letter pages, all columns on the width, the first rows repeated on each."""
    setup = sheet.page_setup
    assert (setup.orientation, setup.paperSize) == ("landscape", 1)  # 1: letter
    assert (setup.fitToWidth, setup.fitToHeight) == (1, 0)  # 0: as many pages down as needed
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == f"$1:${title_rows}"
