"""The claims verdict's lines: one per claim of the README's tables, the benchmarks that check it and
its deciding numbers, read from the benchmarks' figures (:func:`linnet.testing.benchmarking.store`).

:data:`CLAIMS` are the post's claims (the README's first table, numbered 1-9); :data:`DEEP_CLAIMS`
the deep-network claims (docs/deep.md, labelled D1-D7). Used by :mod:`linnet.testing.verdicts`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from linnet.claims.post_checks import SAMPLES_FACTOR
from linnet.core.text import g

# -- the deciding numbers, from the benchmarks' figures ---------------------------------------------

def _values(figures: list[dict], match: Callable[[str], bool]) -> list[float]:
    return [v for f in figures for k, v in f.items()
            if match(k) and isinstance(v, (int, float)) and not isinstance(v, bool)]


def _range(values, what: str, unit: str = "") -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    return f"{what} {g(lo)}{unit}" if lo == hi else f"{what} {g(lo)} to {g(hi)}{unit}"


def _join(parts) -> str:
    """The non-empty parts, separated by "; "."""
    return "; ".join(p for p in parts if p)


def _plateau(figs):
    rel = _values(figs, lambda k: k == "relative_loss")
    div = sum(1 for f in figs if f.get("diverged") is True)
    return f"min rel. loss {g(min(rel))} ({len(rel)} runs); {div} diverged" if rel else ""


def _gauss_newton(figs):
    steps = _values(figs, lambda k: k.replace("-", "_") == "steps_to_1e_28")
    rel = _values(figs, lambda k: k == "relative_loss")
    parts = [_range(steps, "rel. 1e-28 at step"), f"final rel. loss >= {g(min(rel))}" if rel else ""]
    return _join(parts)


def _samples(figs):
    spreads = []
    for f in figs:
        rel = [v for k, v in f.items() if k.startswith("relative_loss_n") and k != "relative_loss_n100"
               and isinstance(v, float)]
        if rel:
            spreads.append(max(rel) / min(rel))
    if not spreads:
        return ""
    return f"max/min rel. loss <= {g(max(spreads))}x ({len(spreads)} runs; limit {g(SAMPLES_FACTOR)}x)"


def _kappa(figs):
    kappas = _values(figs, lambda k: k.startswith("kappa_seed"))
    return _range(kappas, "kappa(A)") + f" over {len(kappas)} seeds" if kappas else ""


def _slow(figs):
    steps = _values(figs, lambda k: k.startswith("steps_to_1e-12"))
    return _range(steps, "steps to rel. 1e-12") + f" ({len(steps)} seeds)" if steps else ""


def _balanced(figs):
    factors = [f["post_relative_loss"] / f["balanced_relative_loss"] for f in figs
               if f.get("post_relative_loss") and f.get("balanced_relative_loss")]
    factors += _values(figs, lambda k: k == "min_factor")
    drift = _values(figs, lambda k: k in ("imbalance_drift", "max_imbalance_drift"))
    parts = [f"loss ratio >= {g(min(factors))}x" if factors else "",
             f"imbalance drift <= {max(drift):.0%}" if drift else ""]
    return _join(parts)


def _lm_floor(figs):
    floor = _values(figs, lambda k: k == "post_metric_floor")
    sane = _values(figs, lambda k: k == "sane_relative_loss")
    parts = [f"post's floor {g(min(floor))}" if floor else "", f"sane solve {g(max(sane))}" if sane else ""]
    return _join(parts)


def _second_order(figs):
    counts = {k[: -len(" successes")]: v for f in figs for k, v in f.items() if k.endswith(" successes")}
    if not counts:
        return ""
    worst = min(counts, key=counts.get)
    return f"{sum(v == 20 for v in counts.values())}/{len(counts)} methods 20/20; {worst} {counts[worst]}/20"


def _float32(figs):
    floors = _values(figs, lambda k: k.endswith("float32_floor") and not k.startswith(("gd[", "adam[")))
    return _range(floors, "second-order float32 floors") if floors else ""


@dataclass(frozen=True)
class ClaimLine:
    """One row of the README's claims table and the benchmarks that check it."""

    number: int  #: the row of the README's claims table (0: none)
    key: str  #: the key of the :class:`linnet.claims.Claim` its check returns
    name: str  #: what linnet checks, short enough for the 80-column line
    tests: tuple  #: benchmark function names
    numbers: Callable[[list], str]  #: deciding numbers from the benchmarks' figures
    label: str = ""  #: shown instead of the number (the deep claims' D1-D7)


CLAIMS = (
    ClaimLine(1, "plateau", "GD and Adam above 1e-6 after 3000 steps",
              ("test_plateau", "test_plateau_on_conditioned_family"), _plateau),
    ClaimLine(2, "gauss-newton", "Gauss-Newton reaches machine precision",
              ("test_gauss_newton_reaches_machine_precision", "test_claims_hold_on_conditioned_family"),
              _gauss_newton),
    ClaimLine(3, "samples", "more samples don't help",
              ("test_samples_dont_help", "test_samples_dont_help_on_conditioned_family",
               "test_samples_dont_help_tensorflow"), _samples),
    ClaimLine(4, "post-kappa", "post's A is not kappa 1e5 (below 100)", ("test_post_kappa",), _kappa),
    ClaimLine(5, "slow-not-stuck", "GD is slow, not stuck",
              ("test_slow_not_stuck_quick", "test_slow_not_stuck_all_seeds"), _slow),
    ClaimLine(6, "balanced", "the plateau is the imbalance",
              ("test_balanced_initialisation", "test_balanced_initialisation_all_seeds"), _balanced),
    ClaimLine(7, "lm-floor", "the post's LM floor is its solver's",
              ("test_post_lm_floor_is_an_artefact", "test_post_faithful_floor"), _lm_floor),
    ClaimLine(8, "second-order", "second-order methods, 20 seeds",
              ("test_second_order_compared",), _second_order),
    ClaimLine(9, "float32", "float32 floors near its epsilon", ("test_float32_floors",), _float32),
)


# -- the deep-network claims (docs/deep.md) ----------------------------------------------------------

def _at_depth_plateau(figs):
    below = _values(figs, lambda k: k == "below")
    low = _values(figs, lambda k: k.endswith("relative_loss_min"))
    return f"lowest finite rel. loss {g(min(low))}; {int(sum(below))} runs below 1e-6" if low else ""


def _at_depth_second_order(figs):
    ok = _values(figs, lambda k: k == "successes")
    return _range(ok, "successes") + f" of 20 over {len(ok)} sizes" if ok else ""


def _at_depth_samples(figs):
    spread = _values(figs, lambda k: k == "spread_max")
    return _range(spread, "largest spread") + f"x (limit {g(SAMPLES_FACTOR)}x)" if spread else ""


def _slope(figs):
    slopes = _values(figs, lambda k: k in ("slope_min", "slope_max"))
    return f"slope {min(slopes):.5f} to {max(slopes):.5f}" if slopes else ""


def _margin(figs):
    ratios = _values(figs, lambda k: k in ("min_ratio", "theorem_min_ratio"))
    return f"rate / bound >= {g(min(ratios))}" if ratios else ""


def _depth_rate(figs):
    return _range(_values(figs, lambda k: k == "rate"), "growth rate", " per layer")


def _width(figs):
    spread = _values(figs, lambda k: k == "plateau_spread")
    narrow = _values(figs, lambda k: k == "narrow_over_wide")
    return _join([f"widest spread <= {g(max(spread))}x" if spread else "",
                  f"narrow / wide >= {g(min(narrow))}x" if narrow else ""])


def _identity(figs):
    spd = _values(figs, lambda k: k == "spd_max_relative_loss")
    neg = _values(figs, lambda k: k == "negative_min_relative_loss")
    return f"SPD <= {g(max(spd))}; negative eigenvalue >= {g(min(neg))}" if spd and neg else ""


def _modes(figs):
    lo = _values(figs, lambda k: k.startswith("ratio_") and k.endswith("_min"))
    hi = _values(figs, lambda k: k.startswith("ratio_") and k.endswith("_max"))
    return f"t_i / t_1 {g(min(lo))} to {g(max(hi))}" if lo and hi else ""


DEEP_CLAIMS = (
    ClaimLine(0, "plateau-at-depth", "post claim 1 at depth 2-6 (per size)",
              ("test_plateau_at_depth", "test_plateau_at_depth_fan_in"), _at_depth_plateau, "D1"),
    ClaimLine(0, "second-order-at-depth", "post claim 2 at depth 3-6 (per size)",
              ("test_second_order_at_depth", "test_plain_gauss_newton_at_depth"), _at_depth_second_order, "D1"),
    ClaimLine(0, "samples-at-depth", "post claim 3 at depth 3-6 (per size)",
              ("test_samples_at_depth", "test_samples_at_depth_fan_in"), _at_depth_samples, "D1"),
    ClaimLine(0, "deep-preconditioner", "depth is a preconditioner (slope 2)",
              ("test_depth_is_a_preconditioner",), _slope, "D2"),
    ClaimLine(0, "deficiency-margin", "linear rate with a deficiency margin",
              ("test_deficiency_margin",), _margin, "D3"),
    ClaimLine(0, "exponential-in-depth", "width 1: steps exponential in depth",
              ("test_exponential_time_in_depth", "test_exponential_time_in_depth_to_12"), _depth_rate, "D4"),
    ClaimLine(0, "width-matters", "past a width, steps stop depending on it",
              ("test_width_matters",), _width, "D5"),
    ClaimLine(0, "identity-init", "identity start: SPD yes, negative no",
              ("test_identity_initialisation",), _identity, "D6"),
    ClaimLine(0, "one-mode-at-a-time", "modes learned one at a time (depth 2)",
              ("test_one_mode_at_a_time",), _modes, "D7"),
)
