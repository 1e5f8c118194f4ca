"""Money is kept in integer fen (CNY/100), never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def parse_yuan(value) -> int:
    """``"1,234.5"`` / ``1234.5`` / ``"¥12"`` → fen; raises ValueError for anything else."""
    if value is None or value == "":
        raise ValueError("empty amount")
    if isinstance(value, int) and not isinstance(value, bool):
        return value * 100
    text = str(value).strip().replace(",", "").replace("¥", "").replace("￥", "").replace("元", "")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("more than two decimals")
    return int(amount * 100)


def format_fen(fen: int | None) -> str:
    """fen → ``"1,234.50"``."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{yuan:,}.{cents:02d}"
