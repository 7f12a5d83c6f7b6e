"""How amounts and figures are written for people to read: money as ¥1,234.56 (to the fen, with
thousands separators), indicator values, shares and points without trailing zeros (50.0000 →
50, 0.7000 → 0.7). The portal's template filters, the admin's columns and read-only fields and
the services' messages all call these; exports meant for machines keep plain numbers."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

FEN = Decimal("0.01")
EMPTY = "—"
# A money column: DecimalField(max_digits=14, decimal_places=2) (the apps' ``MONEY``).
MONEY_DIGITS = (14, 2)


def yuan(value: Any) -> str:
    """¥1,234.56: a Decimal (or its text, or an int) to the fen with thousands separators.
    A float is refused: money never passes through binary floating point."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, float):
        raise TypeError("money is a Decimal, not a float")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return EMPTY
    amount = amount.quantize(FEN, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def plain_number(value: Any) -> str:
    """A stored value without its trailing zeros: 50.0000 → 50, 12.5000 → 12.5, 0.7000 → 0.7."""
    if value is None or value == "":
        return EMPTY
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if number == number.to_integral_value():
        return format(number.quantize(Decimal(1)), "f")
    return format(number.normalize(), "f")


def is_money_field(field: Any) -> bool:
    """A model field holding money (the apps' ``MONEY`` decimal)."""
    return (getattr(field, "max_digits", None), getattr(field, "decimal_places", None)) == MONEY_DIGITS and (
        field.get_internal_type() == "DecimalField"
    )
