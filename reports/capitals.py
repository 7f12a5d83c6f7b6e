"""An amount in Chinese capital numerals (大写金额), as an accountant writes it on a voucher.

The rules are those of the People's Bank's payment rules (《支付结算办法》 附一) for writing amounts:

- the digits 零壹贰叁肆伍陆柒捌玖 with the units 拾佰仟, 万 and 亿 for the groups of four, then
  元角分; a leading ten is written 壹拾 (壹拾贰万…, never 拾贰万);
- every run of zeros that lies between two written digits is written as one 零, wherever the
  run falls: inside a group (陆仟零柒元), across 万 or 亿 (壹亿零壹万元, 壹拾万零柒仟元) or across
  元 (壹仟陆佰捌拾元零叁角贰分, 叁佰贰拾伍元零肆分). The rules allow leaving out the 零 where the
  万 or 元 digit is 0 and the next is not; this module always writes it, one rule for every gap,
  so that nothing can be slipped into a gap;
- zeros at the end are not written: an amount in whole yuan ends in 元整, one that ends in 角 ends
  there (the rules' own example: 壹仟肆佰零玖元伍角), one with 分 ends in 分;
- an amount below one yuan starts with its first digit (伍分, 伍角), and zero is 零元整.

Only what a ledger can hold is accepted: a ``Decimal`` (or ``int``) to the fen, not negative,
below one trillion yuan (a ``DecimalField(max_digits=14, decimal_places=2)`` holds less).
A float is refused, as everywhere money is handled here.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

DIGITS = "零壹贰叁肆伍陆柒捌玖"
IN_GROUP = ("", "拾", "佰", "仟")  # the position inside a group of four
GROUPS = ("", "万", "亿")  # the group (the 元 group has its own unit, written after the digits)
FEN = Decimal("0.01")
LIMIT = Decimal(10) ** 12


def capitals(amount: Decimal | int) -> str:
    """``Decimal("123456.78")`` → 壹拾贰万叁仟肆佰伍拾陆元柒角捌分. Raises ``ValueError`` for a
    negative amount, one with a part of a fen, one of a trillion yuan or more, or a float."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise ValueError(f"an amount is a Decimal or an int, not {type(amount).__name__}")
    try:
        value = Decimal(amount)
        fen = value.quantize(FEN)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {amount!r}") from exc
    if fen != value:
        raise ValueError(f"{amount} is not to the fen")
    if fen < 0:
        raise ValueError(f"a negative amount has no capital form: {amount}")
    if fen >= LIMIT:
        raise ValueError(f"{amount} is too large")
    whole = int(fen)
    jiao, fen_digit = divmod(int((fen - whole) * 100), 10)

    out: list[str] = []
    pending_zero = False  # a run of zeros since the last written digit
    written = False  # a digit has been written
    group_has_digit = False

    def digit(d: int, unit: str) -> None:
        nonlocal pending_zero, written
        if d:
            if pending_zero:
                out.append(DIGITS[0])
            out.append(DIGITS[d] + unit)
            pending_zero, written = False, True
        elif written:
            pending_zero = True

    text = str(whole) if whole else ""
    for i, ch in enumerate(text):
        position = len(text) - 1 - i
        d = int(ch)
        digit(d, IN_GROUP[position % 4])
        group_has_digit = group_has_digit or d != 0
        if position % 4 == 0:
            if group_has_digit:
                out.append(GROUPS[position // 4])
            group_has_digit = False
    if whole:
        out.append("元")
    digit(jiao, "角")
    digit(fen_digit, "分")
    if not written:
        return "零元整"
    if not jiao and not fen_digit:
        out.append("整")
    return "".join(out)
