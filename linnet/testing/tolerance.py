"""The one rule for "a figure changed": tolerances declared where a figure is recorded.

A benchmark records each machine-independent figure together with the tolerance it is compared
under (:func:`figure`), and the baseline stores both, so nothing about a comparison is inferred
from a figure's name. The kinds:

* :func:`exact` -- equal (booleans, strings, ``None``, counts that do not move, and floats that
  must be bit-identical);
* :func:`relative` -- floats within ``rtol`` relative; below ``roundoff`` in magnitude a value is
  rounding noise, and there the two values are compared in decades (``below`` powers of ten),
  never "equal because both are tiny": 6.5e-31 against 9e-19 is a change of 13 decades;
* :func:`decades` -- positive floats within ``n`` powers of ten (round-off floors, whose size is
  the size of rounding errors and depends on the BLAS kernel and its thread count);
* :func:`window` -- integers within ``+-k``, only with the measured variation that justifies it
  written in ``why``.

Example::

    >>> from linnet.testing.tolerance import decades, exact, figure, relative
    >>> relative(1e-4).check(0.5, 0.50001)
    True
    >>> relative(1e-4).check(6.5e-31, 9e-19)   # both "tiny", 12 decades apart
    False
    >>> exact().check(11, 13)
    False
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from linnet.core.errors import LinnetError

KINDS = ("exact", "relative", "decades", "window")

#: below this magnitude a relative loss is rounding noise (float64 eps**2 = 4.9e-32 times a
#: margin of about 1e13 for the loss's accumulated round-off); compared in decades there
ROUNDOFF = 1e-18


@dataclass(frozen=True)
class Tolerance:
    """How two values of one figure are compared; build with exact/relative/decades/window."""

    kind: str
    rtol: float = 0.0
    roundoff: float = 0.0
    decades: float = 0.0
    window: int = 0
    why: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise LinnetError(f"tolerance kind must be one of {', '.join(KINDS)}, got {self.kind!r}")

    def check(self, old: Any, new: Any) -> bool:
        """True when ``new`` matches ``old`` under this tolerance."""
        if not (_is_num(old) and _is_num(new)):  # booleans, strings, None, lists: equal, same type
            return type(old) is type(new) and old == new
        if self.kind == "exact":
            return old == new
        if self.kind == "window":
            return isinstance(old, int) and isinstance(new, int) and abs(new - old) <= self.window
        old, new = float(old), float(new)
        if self.kind == "decades":
            return _within_decades(old, new, self.decades)
        if abs(old) >= self.roundoff and abs(new) >= self.roundoff:
            return math.isclose(old, new, rel_tol=self.rtol, abs_tol=0.0)
        return _within_decades(old, new, self.decades)

    def describe(self) -> str:
        """Short text for messages: 'exact', 'rtol 1e-06', '1 decade', '+-3 (why)'."""
        if self.kind == "exact":
            return "exact"
        if self.kind == "relative":
            return f"rtol {self.rtol:g}, in decades ({self.decades:g}) below {self.roundoff:g}"
        if self.kind == "decades":
            return f"within {self.decades:g} decades"
        return f"+-{self.window} ({self.why})"

    def to_dict(self) -> dict:
        """JSON form stored beside the figure in the baseline."""
        keep = {"exact": (), "relative": ("rtol", "roundoff", "decades"), "decades": ("decades",),
                "window": ("window", "why")}[self.kind]
        return {"kind": self.kind, **{k: getattr(self, k) for k in keep}}

    @classmethod
    def from_dict(cls, data: dict) -> Tolerance:
        try:
            return cls(**data)
        except TypeError as err:
            raise LinnetError(f"not a tolerance: {data!r} ({err})") from None


def exact() -> Tolerance:
    """Equal values (type and value)."""
    return Tolerance("exact")


def relative(rtol: float, roundoff: float = ROUNDOFF, below: float = 1.0) -> Tolerance:
    """Within ``rtol`` relative; in decades (``below``) where either value is under ``roundoff``."""
    if not rtol > 0:
        raise LinnetError(f"relative tolerance must be > 0, got {rtol!r}")
    return Tolerance("relative", rtol=rtol, roundoff=roundoff, decades=below)


def decades(n: float) -> Tolerance:
    """Positive values within ``n`` powers of ten (for round-off floors)."""
    if not n > 0:
        raise LinnetError(f"decades must be > 0, got {n!r}")
    return Tolerance("decades", decades=n)


def window(k: int, why: str) -> Tolerance:
    """Integers within ``+-k``; ``why`` states the measured variation that justifies it."""
    if not (isinstance(k, int) and k > 0 and why):
        raise LinnetError("an integer window needs k > 0 and the measured variation that justifies it")
    return Tolerance("window", window=k, why=why)


@dataclass(frozen=True)
class Figure:
    """A machine-independent value and the tolerance it is gated under."""

    value: Any
    tolerance: Tolerance


def figure(value: Any, tolerance: Tolerance) -> Figure:
    """Pair a figure's value with its declared tolerance (see :func:`linnet.testing.benchmarking.store`)."""
    if not isinstance(tolerance, Tolerance):
        raise LinnetError(f"a figure needs a Tolerance, got {tolerance!r}")
    return Figure(value, tolerance)


def compare(name: str, old: Any, new: Any, tolerance: Tolerance) -> str | None:
    """None when ``new`` matches ``old`` under ``tolerance``, else one line naming the change."""
    if tolerance.check(old, new):
        return None
    return f"{name}: baseline {old!r}, now {new!r} (tolerance: {tolerance.describe()})"


def _is_num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _within_decades(old: float, new: float, n: float) -> bool:
    if old == new:
        return True
    if old == 0 or new == 0 or (old > 0) != (new > 0) or not (math.isfinite(old) and math.isfinite(new)):
        return False
    return abs(math.log10(new / old)) <= n
