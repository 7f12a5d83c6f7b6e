"""The one way the portal divides money: to the fen, by the largest-remainder method.

Every split of an amount (quota into 70 % and 30 %, a pool into awards, a plan into lines)
goes through ``split`` so that the parts always add up to the whole exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

FEN = Decimal("0.01")


def to_fen(amount: Decimal) -> int:
    """The amount as a whole number of fen; refuses anything finer than a fen."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be a Decimal, not {type(amount).__name__}")
    if not amount.is_finite() or amount != amount.quantize(FEN):
        raise ValueError(f"{amount} is not a whole number of fen")
    return int(amount.scaleb(2))


def from_fen(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2).quantize(FEN)


def split(total: Decimal, weights: Sequence[Decimal | int | Fraction]) -> list[Decimal]:
    """Split ``total`` into parts proportional to ``weights``, each a whole number of fen.

    The exact share of each part is computed as a fraction; every part gets its share rounded
    down, and the fen left over go one each to the parts with the largest remainders (ties to
    the earlier part), so ``sum(parts) == total`` always. Weights must be non-negative and not
    all zero (unless ``total`` is zero). A negative total splits like its absolute value.
    """
    fen_total = to_fen(total)
    if all(type(w) is int for w in weights):
        integers = [int(w) for w in weights]  # already whole numbers (the awards' weights)
    else:
        exact = [Fraction(w) for w in weights]
        # Over a common denominator each weight is a whole number.
        denominator = math.lcm(*(w.denominator for w in exact))
        integers = [w.numerator * (denominator // w.denominator) for w in exact]
    if any(w < 0 for w in integers):
        raise ValueError("weights must not be negative")
    if sum(integers) == 0:
        if fen_total == 0:
            return [from_fen(0) for _ in integers]
        raise ValueError("cannot split a non-zero amount by weights that are all zero")
    sign = -1 if fen_total < 0 else 1
    # Each part's exact share is fen × weight ÷ (sum of weights): its floor and remainder come
    # from one divmod, and remainders over the same divisor order like the fractions they stand for.
    divisor = sum(integers)
    amount = abs(fen_total)
    parts, remainders = [], []
    for weight in integers:
        part, remainder = divmod(amount * weight, divisor)
        parts.append(part)
        remainders.append(remainder)
    left_over = amount - sum(parts)
    by_remainder = sorted(range(len(parts)), key=lambda i: (-remainders[i], i))
    for i in by_remainder[:left_over]:
        parts[i] += 1
    return [from_fen(sign * p) for p in parts]
