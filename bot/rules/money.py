"""Money: exact dollars from integer cents (`Decimal`, never float), and hourly rates as people
type them.

A time entry costs minutes × its own hourly rate ÷ 60, rounded to the cent (half up); every
total is the sum of those rounded amounts, so a statement always adds up.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_currency

from bot.ui.i18n import LOCALES

CENT = Decimal("0.01")
MAX_RATE_CENTS = 1_000_000  # $10,000 an hour: anything above is a typo


def dollars(cents: int) -> Decimal:
    """Cents as exact dollars."""
    return (Decimal(cents) / 100).quantize(CENT)


def entry_amount(minutes: int, rate_cents: int) -> Decimal:
    """What a time entry costs: minutes × hourly rate ÷ 60, to the cent (half up)."""
    return (Decimal(minutes) * Decimal(rate_cents) / Decimal(6000)).quantize(CENT, ROUND_HALF_UP)


def hours(minutes: int) -> Decimal:
    """Minutes as hours, to the hundredth (for display; amounts use the exact minutes)."""
    return (Decimal(minutes) / 60).quantize(CENT, ROUND_HALF_UP)


_RATE = re.compile(r"^\$?\s*(\d{1,6})(?:[.,](\d{1,2}))?\s*\$?(?:/h)?$", re.IGNORECASE)


def parse_rate(text: str) -> int | None:
    """Cents from an hourly rate as people type it: `95`, `95.50`, `95,50 $`, `$95`.

    None for anything else (negative, not a number, more than two decimals, over $10,000).
    """
    match = _RATE.match(text.strip().replace("\u00a0", " "))
    if match is None:
        return None
    try:
        amount = Decimal(f"{match.group(1)}.{match.group(2) or '0'}")
    except InvalidOperation:
        return None
    cents = int((amount * 100).to_integral_value())
    return cents if 0 <= cents <= MAX_RATE_CENTS else None


def money(amount: Decimal, language: str) -> str:
    """An amount in Canadian dollars: `1 234,50 $` / `$1,234.50`."""
    return format_currency(amount, "CAD", locale=LOCALES.get(language, "fr_CA"))
