"""Number formatting shared by the reports and the claims verdict (one rule for every table)."""

from __future__ import annotations


def g(x, digits: int = 3) -> str:
    """``digits`` significant digits; integers with thousands separators; None as an em dash;
    booleans as yes / no."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:.{digits}g}"
