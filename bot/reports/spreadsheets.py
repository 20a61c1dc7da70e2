"""Spreadsheets people keep (openpyxl, write-only): each cell typed for what it holds, in its
reader's convention — amounts with a currency format, durations as durations (they add up),
local dates — headers that fit their columns, frozen header rows and, for paper, landscape
pages fitted to the width with the header repeated on each page.

A write-only sheet streams its rows: its layout (widths, frozen rows) is set before the first.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.cell_range import CellRange
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

DATE_TIME = "yyyy-mm-dd hh:mm"
DATE = "yyyy-mm-dd"
# Amounts as their reader writes them, 1 234,50 $ / $1,234.50 (the separators are the
# spreadsheet program's).
CURRENCY = {"fr": '#,##0.00 "$"', "en": '"$"#,##0.00'}
# Durations are values in days, what spreadsheets add up as time: 2 h 15 / 2:15, past 24 h.
DURATION = {"fr": '[h]" h "mm', "en": "[h]:mm"}
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=13)
HEADER = Alignment(wrap_text=True, vertical="top")
NOTE = Alignment(wrap_text=True, vertical="top")
HEADER_LINES = 2  # a long header wraps onto two lines rather than widen its column
LINE_HEIGHT = 15.0  # points: one line of the default 11-point font
PADDING = 2  # characters beside a column's text (bold letters are wider than the unit)


def spent(minutes: int) -> timedelta:
    """Minutes of work, for a duration cell."""
    return timedelta(minutes=minutes)


def _wrapped(text: str, width: int) -> list[str]:
    """The lines of `text` in a column `width` characters wide, broken between words only."""
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def header_width(header: str) -> int:
    """The narrowest width that shows `header` whole in at most HEADER_LINES lines."""
    width = max((len(word) for word in header.split()), default=0)
    while len(_wrapped(header, width)) > HEADER_LINES:
        width += 1
    return width


class Sheet:
    """A write-only sheet for one reader: typed cells, fitted headers, frozen rows, print setup."""

    def __init__(
        self,
        workbook: Workbook,
        title: str,
        language: str,
        widths: Sequence[int],
        headers: Iterable[Sequence[str | None]],
        frozen_rows: int,
    ) -> None:
        """Lay the sheet out: each column as wide as its values (`widths`) and as every header
        written in it (`headers`: the header rows of its tables) need; the first `frozen_rows`
        stay in view while scrolling."""
        self.language = language if language in CURRENCY else "fr"
        self.sheet: Any = workbook.create_sheet(title[:31])
        self.widths = list(widths)
        for labels in headers:
            for index, label in enumerate(labels):
                if label:
                    self.widths[index] = max(self.widths[index], header_width(label))
        for index, width in enumerate(self.widths, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width + PADDING
        if frozen_rows:
            self.sheet.freeze_panes = f"A{frozen_rows + 1}"
        self.rows = 0

    def cell(self, value: object, *, font: Font | None = None) -> object:
        """A cell, formatted by what it holds; text is cleaned of what XML refuses and never read
        as a formula."""
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        style = self._format(value)
        formula_like = isinstance(value, str) and value.startswith("=")
        if not (style or font or formula_like):
            return value  # a plain value: openpyxl makes the cell, faster
        cell = WriteOnlyCell(self.sheet, value=value)
        if formula_like:
            cell.data_type = "s"  # `=...` typed by a user stays text (no formula injection)
        if style:
            cell.number_format = style
        if font:
            cell.font = font
        return cell

    def _format(self, value: object) -> str | None:
        if isinstance(value, Decimal):  # every Decimal of a sheet is an amount in dollars
            return CURRENCY[self.language]
        if isinstance(value, timedelta):
            return DURATION[self.language]
        if isinstance(value, datetime):
            return DATE_TIME
        if isinstance(value, date):
            return DATE
        return None

    def row(self, values: Iterable[object], *, bold: bool = False) -> None:
        """Append a row of values."""
        font = BOLD if bold else None
        self._append([self.cell(value, font=font) for value in values])

    def note(self, text: str, *, bold: bool = False) -> None:
        """Append a sentence across the sheet's columns, wrapped: what it says stays on the page
        (text flowing past the last column would be cut off when printed)."""
        room = sum(self.widths) + PADDING * (len(self.widths) - 1)
        lines = len(_wrapped(text, room))
        if lines > 1:
            self.sheet.row_dimensions[self.rows + 1].height = LINE_HEIGHT * lines
        cell = WriteOnlyCell(self.sheet, value=ILLEGAL_CHARACTERS_RE.sub("", text))
        cell.alignment = NOTE
        if bold:
            cell.font = BOLD
        last = get_column_letter(len(self.widths))
        self.sheet.merged_cells.add(CellRange(f"A{self.rows + 1}:{last}{self.rows + 1}"))
        self._append([cell])

    def title(self, text: str) -> None:
        """Append the sheet's title."""
        self._append([self.cell(text, font=TITLE)])

    def header(self, labels: Sequence[str | None]) -> None:
        """Append a table's header row: bold, each label wrapped within its column."""
        lines = max(
            (len(_wrapped(label, self.widths[i])) for i, label in enumerate(labels) if label),
            default=1,
        )
        if lines > 1:
            self.sheet.row_dimensions[self.rows + 1].height = LINE_HEIGHT * lines
        cells = []
        for label in labels:
            cell = WriteOnlyCell(self.sheet, value=label)
            cell.font = BOLD
            cell.alignment = HEADER
            cells.append(cell)
        self._append(cells)

    def blank(self) -> None:
        """Append an empty row."""
        self._append([])

    def for_print(self, title_rows: int) -> None:
        """Print on letter paper in landscape, all columns on the page's width, the first
        `title_rows` rows repeated on each page, page numbers at the foot."""
        setup = self.sheet.page_setup
        setup.orientation = "landscape"
        setup.paperSize = Worksheet.PAPERSIZE_LETTER
        setup.fitToWidth = 1
        setup.fitToHeight = 0  # as many pages down as it takes
        self.sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        self.sheet.print_title_rows = f"1:{title_rows}"
        self.sheet.oddFooter.center.text = "&P / &N"

    def filter(self, rows: int) -> None:
        """A filter on the header row over the `rows` rows below it (the table starts at A1)."""
        self.sheet.auto_filter.ref = f"A1:{get_column_letter(len(self.widths))}{rows + 1}"

    def _append(self, cells: list[object]) -> None:
        self.sheet.append(cells)
        self.rows += 1


def save(workbook: Workbook) -> bytes:
    """The workbook as the bytes of an .xlsx file."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
