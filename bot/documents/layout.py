"""The page of every document (fpdf2): Letter paper, DejaVu Sans embedded (matplotlib ships it,
and it has every character French needs: — ’ … « » and the no-break spaces of "1 234,56 $"),
a footer with the document's name and "Page 1 de 2", headings, label lines and tables whose
header row is repeated on each page, amounts aligned right.

User text (subjects, notes, names) goes through `clean`: one line, no control characters,
only characters the font has, cut with … past a length, so it never breaks the layout.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Literal

from babel.numbers import format_percent
from fpdf import FPDF, FontFace
from fpdf.enums import Align, TableBordersLayout, XPos, YPos
from fpdf.fonts import TTFFont

from bot.documents.data import EnvelopeLine
from bot.rules.durations import format_duration
from bot.rules.money import dollars, money
from bot.rules.periods import Period
from bot.ui.i18n import LOCALES, format_day, plain, t, tn

FONT = "DejaVu"
SIZE = 9  # points: the body and the tables
SMALL = 7.5
TABLE_SIZE = 8
LABEL_WIDTH = 34  # mm: the labels of every block line up, unless one is longer
TITLE_SIZE = 15
GREY = (90, 90, 90)
HEADER_FILL = (225, 230, 236)
LINE = 3.9  # mm: one line of a table cell
PADDING = 1.2  # mm: left and right of a cell's text
FITTED = 14  # mm: the narrowest fitted column (a header of two short words fits)
PAGES = "{nb}"  # fpdf2's alias for the number of pages, only ever written by the footer


@cache
def font_files() -> tuple[Path, Path]:
    """DejaVu Sans and DejaVu Sans Bold, from matplotlib's own data (found without importing
    matplotlib, which a statement does not otherwise need)."""
    spec = find_spec("matplotlib")
    if spec is None or spec.origin is None:
        raise RuntimeError("matplotlib is not installed: its DejaVu fonts are the PDFs' fonts")
    folder = Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf"
    return folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"


@cache
def _glyphs() -> frozenset[int]:
    """The characters both fonts can draw (read once, by fpdf2 itself)."""
    probe = FPDF()
    regular, bold = font_files()
    probe.add_font(FONT, "", str(regular))
    probe.add_font(FONT, "B", str(bold))
    maps = [font.cmap for font in probe.fonts.values() if isinstance(font, TTFFont)]
    return frozenset(set(maps[0]).intersection(*maps[1:]))


_SPACES = re.compile(r"\s+")


def clean(text: str, limit: int) -> str:
    """User text for a cell or a line: whitespace (newlines too) made single spaces, control
    and format characters dropped, characters the font lacks shown as �, at most `limit`
    characters (cut with …)."""
    glyphs = _glyphs()
    kept = []
    for char in _SPACES.sub(" ", text).strip():
        if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"}:
            continue
        kept.append(char if ord(char) in glyphs else "\ufffd")
    line = "".join(kept)
    if len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


# -- words ------------------------------------------------------------------------------------


def text(language: str, key: str, /, **values: object) -> str:
    """A catalogue text as the page shows it (no markup)."""
    return plain(t(language, key, **values))


def counted(language: str, key: str, count: int, /, **values: object) -> str:
    """A counted catalogue text as the page shows it."""
    return plain(tn(language, key, count, **values))


def amount(cents: int | Decimal, language: str) -> str:
    """Cents (or exact dollars) as the reader writes money: `1 234,56 $` / `$1,234.56`."""
    return money(cents if isinstance(cents, Decimal) else dollars(cents), language)


def duration(minutes: int, language: str) -> str:
    """Minutes as the reader writes them: `2 h 15` / `2.25 hours`; `-1 h` below zero."""
    if minutes < 0:
        return "-" + duration(-minutes, language)  # the sign babel gives amounts
    if minutes == 0:
        return plain(tn(language, "duration.minutes", 0))
    return plain(format_duration(minutes, language))


def quantity(kind: Literal["hours", "dollars"], value: int, language: str) -> str:
    """An envelope's figure: minutes as hours, or cents as dollars."""
    return duration(value, language) if kind == "hours" else amount(value, language)


def percent(share: Decimal | None, language: str) -> str:
    """A share as a percentage, `75 %` / `75%`; a dash for none."""
    if share is None:
        return "—"
    return format_percent(share, locale=LOCALES.get(language, "fr_CA"))


def day(value: date, language: str) -> str:
    """A date in words: `1er décembre 2026` / `December 1, 2026`."""
    return format_day(value, language)


# -- the page ---------------------------------------------------------------------------------


class Document(FPDF):
    """A Letter page in DejaVu Sans, with the document's name and the page number below."""

    def __init__(self, *, title: str, author: str, language: str, produced: date) -> None:
        super().__init__(orientation="portrait", unit="mm", format="letter")
        self.language = language
        self.running_title = title
        regular, bold = font_files()
        self.add_font(FONT, "", str(regular))
        self.add_font(FONT, "B", str(bold))
        self.set_margins(16, 16, 16)
        self.set_auto_page_break(auto=True, margin=18)
        # The number of pages is written by the footer alone: user text that says "{nb}"
        # is printed as it is (fpdf2 would put the number of pages there too).
        self.alias_nb_pages("")
        self.set_title(title)
        self.set_author(author)
        self.set_creator(author)
        self.set_lang(LOCALES.get(language, "fr_CA").replace("_", "-"))
        # The same data gives the same file: dated the day it was produced, not the second.
        self.set_creation_date(datetime.combine(produced, time(12), UTC))
        self.set_font(FONT, size=SIZE)
        self.add_page()

    def footer(self) -> None:
        """The document's name on the left, `Page 1 de 2` on the right."""
        self.set_y(-13)
        self.set_font(FONT, size=SMALL)
        self.set_text_color(*GREY)
        self.cell(self.epw * 0.7, 5, clean(self.running_title, 120), align=Align.L)
        body, self.str_alias_nb_pages = self.str_alias_nb_pages, PAGES
        try:
            words = text(self.language, "document.page", page=self.page_no(), pages=PAGES)
            self.cell(self.epw * 0.3, 5, words, align=Align.R)
        finally:
            self.str_alias_nb_pages = body
        self.set_text_color(0, 0, 0)
        self.set_font(FONT, size=SIZE)

    def title_block(self, title: str, subtitle: str) -> None:
        """The document's title and, under it, what it is about."""
        self.set_font(FONT, "B", TITLE_SIZE)
        self.multi_cell(0, 7, clean(title, 200), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", 11)
        self.multi_cell(0, 6, clean(subtitle, 200), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, size=SIZE)
        self.ln(3)

    def heading(self, words: str) -> None:
        """A section's heading, kept with at least a few lines of what follows."""
        if self.will_page_break(30):
            self.add_page()
        self.ln(3)
        self.set_font(FONT, "B", 11)
        self.multi_cell(0, 6, words, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, size=SIZE)
        self.ln(1)

    def labels(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Lines of `label : value`, the labels in bold in a column of their own."""
        self.set_font(FONT, "B", SIZE)
        width = max(LABEL_WIDTH, *(self.get_string_width(label) + 3 for label, _ in pairs))
        for label, value in pairs:
            self.set_font(FONT, "B", SIZE)
            self.cell(width, LINE + 0.6, label)
            self.set_font(FONT, "", SIZE)
            self.multi_cell(0, LINE + 0.6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def note(self, words: str) -> None:
        """A small grey paragraph."""
        self.ln(1)
        self.set_font(FONT, size=SMALL)
        self.set_text_color(*GREY)
        self.multi_cell(0, 3.8, words, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)
        self.set_font(FONT, size=SIZE)

    def grid(self, table: Grid) -> None:
        """A table: its header row repeated on each page, its last rows in bold if totals."""
        bold = FontFace(emphasis="BOLD")
        self.set_font(FONT, size=TABLE_SIZE)
        with self.table(
            col_widths=self._widths(table),
            text_align=table.aligns,
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            headings_style=FontFace(emphasis="BOLD", fill_color=HEADER_FILL),
            line_height=LINE,
            padding=(1.0, PADDING),
            repeat_headings=1,
            width=self.epw,
        ) as grid:
            grid.row(table.header)
            for row in table.rows:
                grid.row(row)
            for row in table.totals:
                grid.row(row, style=bold)
        self.set_font(FONT, size=SIZE)
        self.ln(2)

    def _widths(self, table: Grid) -> list[float]:
        """Each column's width in mm: a fitted one (None) as wide as its widest value and the
        longest word of its header; the others share the rest as their weights say."""
        fitted: dict[int, float] = {}
        for index, weight in enumerate(table.widths):
            if weight is not None:
                continue
            self.set_font(FONT, "B", TABLE_SIZE)
            widest = max(
                [self._header_width(table.header[index])]
                + [self.get_string_width(row[index]) for row in table.totals]
            )
            self.set_font(FONT, "", TABLE_SIZE)
            for row in table.rows:
                for line in row[index].split("\n"):
                    widest = max(widest, self.get_string_width(line))
            fitted[index] = max(FITTED, widest + 2 * PADDING + 0.8)
        room = max(self.epw - sum(fitted.values()), self.epw * 0.25)
        weights = sum(weight for weight in table.widths if weight is not None) or 1
        return [
            fitted[index] if weight is None else room * weight / weights
            for index, weight in enumerate(table.widths)
        ]

    def _header_width(self, header: str) -> float:
        """The narrowest width that shows a header in at most two lines, broken between
        words."""
        words = header.split() or [""]
        return min(
            max(
                self.get_string_width(" ".join(words[:cut])),
                self.get_string_width(" ".join(words[cut:])),
            )
            for cut in range(len(words))
        )

    def pdf(self) -> bytes:
        """The finished document."""
        self.str_alias_nb_pages = PAGES  # on, for output() to put the number in the footers
        return bytes(self.output())


def labels(
    document: Document,
    consortium: str,
    reader: tuple[str, str],
    period: Period,
    produced: date,
    language: str,
) -> date:
    """A document's opening labels: from the Consortium, to `reader` (label, name), the
    period's first and last days, the day it was produced; the period's last day."""
    last_day = period.after - timedelta(days=1)
    document.labels(
        [
            (text(language, "document.from"), clean(consortium, 200)),
            reader,
            (
                text(language, "document.period"),
                text(
                    language,
                    "document.period_span",
                    first=day(period.first, language),
                    last=day(last_day, language),
                ),
            ),
            (text(language, "document.produced"), day(produced, language)),
        ]
    )
    return last_day


def envelopes(
    document: Document, lines: Sequence[EnvelopeLine], last_day: date, language: str
) -> None:
    """The envelopes of the year to `last_day` (the statement's and the report's), under
    their heading: allotted, used, committed, remaining, and the share used or committed.
    Nothing when there are none."""
    if not lines:
        return
    document.heading(
        text(
            language,
            "document.envelopes_to_date",
            year=last_day.year,
            day=day(last_day, language),
        )
    )
    document.grid(
        Grid(
            header=[
                text(language, "document.col_envelope"),
                text(language, "document.col_allotted"),
                text(language, "document.col_used"),
                text(language, "document.col_committed"),
                text(language, "document.col_remaining"),
                text(language, "document.col_use"),
            ],
            widths=[1, None, None, None, None, None],
            aligns=["LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"],
            rows=[
                [
                    clean(line.label, 80),
                    quantity(line.kind, line.amount, language),
                    quantity(line.kind, line.used, language),
                    quantity(line.kind, line.committed, language),
                    quantity(line.kind, line.remaining, language),
                    percent(line.share, language),
                ]
                for line in lines
            ],
        )
    )
    document.note(text(language, "document.envelopes_note"))


@dataclass(frozen=True)
class Grid:
    """A table's content: column widths (None: fitted to the values, which never wrap; a
    number: a share of the room left, where text wraps), alignments, rows, totals."""

    header: Sequence[str]
    widths: Sequence[float | None]
    aligns: Sequence[Literal["LEFT", "RIGHT", "CENTER"]]
    rows: Sequence[Sequence[str]]
    totals: Sequence[Sequence[str]] = ()
