"""The claim registry: one entry per claim that linnet checks, under one stable id.

Each :class:`ClaimEntry` carries the claim's id (``post.plateau``, ``deep.margin``, ...), the README
row it is shown in (1-9 for the post's claims, D1-D7 for the deep-network claims; docs/deep.md has
the details), the statement and its source (the post's sentence, or the paper and theorem), the
check function that decides it (returning a :class:`~linnet.claims.claim.Claim` whose ``key`` is
the id), the producer of the runs or measurements the check takes, and the function that formats
the deciding numbers of the verdict line from the benchmarks' figures
(:func:`linnet.testing.benchmarking.store`).

Benchmarks declare the claim they decide with ``@pytest.mark.claim("<id>")``;
:mod:`linnet.testing.verdicts` builds one verdict line per entry from those markers, and
``tests/test_claims_registry.py`` checks that every entry has a benchmark and every marker names
an entry.

    >>> entry("post.kappa").readme, entry("post.kappa").check.__name__
    ('4', 'check_post_kappa')
    >>> [e.id for e in REGISTRY if e.readme == "D1"]
    ['depth.plateau', 'depth.second-order', 'depth.samples']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from linnet.claims.literature import dynamics, margin, narrow, width
from linnet.claims.literature import populations as literature_populations
from linnet.claims.modern import conservation, modes, polar, post_experiment, stability
from linnet.claims.modern import populations as modern_populations
from linnet.claims.population import Population
from linnet.claims.post import at_depth, checks, producers, second_order
from linnet.claims.post import populations as post_populations
from linnet.claims.post.checks import SAMPLES_FACTOR
from linnet.core.errors import LinnetError
from linnet.core.text import g
from linnet.optimizers.spec import parse
from linnet.runs.loop import run

RHEE = 'Rhee, Simon & Karkada, arXiv 2606.30509 (2026)'
POST = ('Ali Rahimi, "Gradient Descent Doesn\'t Find a Local Minimum in a Two Layer Linear Net" '
        "(Dec 2017)")

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


def _second_order_spec(spec: str) -> bool:
    """Whether ``spec`` names an optimizer that is not first-order (declared capability); False for a
    spec no registered optimizer parses (a figure saved by a run with a plugin not installed here)."""
    try:
        return not parse(spec).first_order
    except LinnetError:
        return False


def _float32(figs):
    suffix = " float32_floor"
    floors = _values(figs, lambda k: k.endswith(suffix) and _second_order_spec(k[: -len(suffix)]))
    return _range(floors, "second-order float32 floors") if floors else ""



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



def _muon_modes(figs):
    return _range(_values(figs, lambda k: k == "factor_max"), "largest factor to (s_i/s_1)^(1/2)")


def _muon_stable(figs):
    above = _values(figs, lambda k: k in ("above_min", "above_max"))
    return f"rate / GD's threshold {g(min(above))} to {g(max(above))}" if above else ""


def _muon_kappa(figs):
    return _join([_range(_values(figs, lambda k: k == "slope"), "slope"),
                  _range(_values(figs, lambda k: k.startswith("median_steps")), "median steps")])


def _muon_conserved(figs):
    own = _values(figs, lambda k: k == "flow_muon_drift_max")
    other = _values(figs, lambda k: k == "flow_gd_drift_min")
    return f"own drift <= {g(max(own))}; GD's >= {g(min(other))}" if own and other else ""


def _shampoo_polar(figs):
    return _range(_values(figs, lambda k: k == "relative_max"), "error / eps kappa^2 <=")


def _modern_plateau(figs):
    counts = {k[: -len(" plateaus")]: v for f in figs for k, v in f.items() if k.endswith(" plateaus")}
    return ", ".join(f"{k} {v}" for k, v in counts.items()) + " seeds plateau" if counts else ""


# -- the entries ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClaimEntry:
    """One claim: its id, where it is shown and stated, and the functions that decide it."""

    id: str  #: stable dotted id: the benchmarks' ``claim`` marker, the Claim's key, the README's rows
    readme: str  #: the README table row showing it: "1"-"9" (the post's), "D1"-"D7" (deep networks)
    title: str  #: what linnet checks, short enough for the 80-column verdict line
    statement: str  #: the claim, in words
    source: str  #: where it is claimed: the post's sentence, or paper and theorem
    check: Callable  #: decides the claim: returns a Claim whose key is ``id``
    producer: Callable  #: produces the runs or measurements ``check`` takes
    numbers: Callable[[list], str]  #: the verdict line's deciding numbers, from the benchmarks' figures
    #: the claim about a population of problems: per-seed measure, summary and threshold
    #: (:mod:`linnet.claims.population`), verified on held-out seeds by ``linnet claims``
    population: Population

    @property
    def number(self) -> int:
        """The README row as a number (the post's claims 1-9; 0 for the deep-network claims)."""
        return int(self.readme) if self.readme.isdigit() else 0


POPULATIONS = {**post_populations.POPULATIONS, **literature_populations.POPULATIONS, **modern_populations.POPULATIONS}

REGISTRY = (
    ClaimEntry("post.plateau", "1", "GD and Adam above 1e-6 after 3000 steps",
               "GD and Adam end far above machine precision (relative loss > 1e-6) after 3000 steps, "
               "not at a critical point; gd[lr=0.0001] and gd[lr=0.001] diverge",
               f'{POST}: "The loss seems to go down by a few orders of magnitude, but it does not reach 0 to '
               'machine precision."',
               checks.check_plateau, producers.post_runs, _plateau,
               population=POPULATIONS["post.plateau"]),
    ClaimEntry("post.gauss-newton", "2", "Gauss-Newton reaches machine precision",
               "the post's Gauss-Newton step reaches machine precision (relative loss 1e-28)",
               f'{POST}: "Levenberg-Marquardt is the simplest optimizer I can think of that does not require '
               'second order information." (its LM: an undamped Gauss-Newton step scaled by 0.05 or 0.2)',
               second_order.check_gauss_newton, producers.post_runs, _gauss_newton,
               population=POPULATIONS["post.gauss-newton"]),
    ClaimEntry("post.samples", "3", "more samples don't help",
               "at the same per-sample step, GD's relative loss after 3000 steps agrees within "
               f"{SAMPLES_FACTOR:g}x for 1e3, 1e4, 1e5 samples and the expected loss",
               f'{POST}: "You don\'t somehow learn more by adding more data."',
               checks.check_samples, producers.samples_runs, _samples,
               population=POPULATIONS["post.samples"]),
    ClaimEntry("post.kappa", "4", "post's A is not kappa 1e5 (below 100)",
               "the post's construction of A gives kappa(A) below 100, not 1e5",
               f'{POST}: "where A is a badly conditioned matrix (kappa = 10^5)."',
               checks.check_post_kappa, producers.post_kappas, _kappa,
               population=POPULATIONS["post.kappa"]),
    ClaimEntry("post.slow-not-stuck", "5", "GD is slow, not stuck",
               "gd[lr=1e-05] reaches relative loss 1e-12 on every seed, in a number of steps the stall "
               "point's curvature predicts",
               "linnet's measurement (docs/design.md, \"Facts about the post\"), against the post's reading of its "
               "3000-step curves as a floor",
               checks.check_slow_not_stuck, producers.slow_runs, _slow,
               population=POPULATIONS["post.slow-not-stuck"]),
    ClaimEntry("post.balanced", "6", "the plateau is the imbalance",
               "from a balanced factorisation of the same product GD gets at least 100x lower loss; "
               "the imbalance ||W1^T W1 - W2 W2^T|| barely drifts along plain GD",
               "linnet's measurement (docs/design.md, \"Facts about the post\"): the post's plateau explained by its "
               "unbalanced random initialisation",
               checks.check_balanced, producers.balanced_runs_over_seeds, _balanced,
               population=POPULATIONS["post.balanced"]),
    ClaimEntry("post.lm-floor", "7", "the post's LM floor is its solver's",
               "the post's LM floor (about 1e-8) comes from numpy's old lstsq cutoff: the same step with "
               "the current cutoff reaches machine precision",
               f"{POST}: its LM curve (np.sum(Yhat - Y)**2, np.linalg.lstsq with the old default cutoff) "
               "levels off near 1e-8",
               second_order.check_lm_floor, run, _lm_floor,
               population=POPULATIONS["post.lm-floor"]),
    ClaimEntry("post.second-order", "8", "second-order methods, 20 seeds",
               "lm, als, closed form and scipy's lm reach relative 1e-20 on every seed 0-19",
               "linnet's comparison of second-order methods (docs/design.md, \"Claims and thresholds\", row 8)",
               second_order.check_second_order, producers.second_order_runs, _second_order,
               population=POPULATIONS["post.second-order"]),
    ClaimEntry("post.float32", "9", "float32 floors near its epsilon",
               "in float32 the second-order methods stall near relative loss 1e-13 (a residual near "
               "float32 epsilon) where float64 reaches 1e-30",
               "linnet's measurement (docs/design.md, \"Facts about the post\": floors)",
               second_order.check_float32, producers.float32_runs, _float32,
               population=POPULATIONS["post.float32"]),
    ClaimEntry("depth.plateau", "D1", "post.plateau at depth 2-6 (per size)",
               "post.plateau at depths 3, 4, 6 and hidden widths rank and 4 x rank",
               f"{POST} (post.plateau, at depth 2); docs/deep.md, rows 1a-1c",
               at_depth.check_plateau_at_depth, at_depth.first_order_runs, _at_depth_plateau,
               population=POPULATIONS["depth.plateau"]),
    ClaimEntry("depth.second-order", "D1", "post.gauss-newton at depth 3-6 (per size)",
               "lm and gauss-newton[step=0.5] reach relative 1e-24 within 100 (depth 3) or 300 "
               "(depths 4, 6) iterations",
               f"{POST} (post.gauss-newton, at depth 2); docs/deep.md, rows 1d-1f",
               at_depth.check_second_order_at_depth, at_depth.second_order_at_depth, _at_depth_second_order,
               population=POPULATIONS["depth.second-order"]),
    ClaimEntry("depth.samples", "D1", "post.samples at depth 3-6 (per size)",
               "post.samples at depths 3, 4, 6 and hidden widths rank and 4 x rank",
               f"{POST} (post.samples, at depth 2); docs/deep.md, rows 1g-1h",
               at_depth.check_samples_at_depth, at_depth.samples_runs_at_depth, _at_depth_samples,
               population=POPULATIONS["depth.samples"]),
    ClaimEntry("deep.preconditioner", "D2", "depth is a preconditioner (slope 2)",
               "from a balanced start one GD step moves the end-to-end matrix by the preconditioned "
               "update plus O(lr^2): the error's slope against lr is 2",
               "Arora, Cohen & Hazan 2018, Theorem 1",
               dynamics.check_preconditioner, dynamics.measure_preconditioner, _slope,
               population=POPULATIONS["deep.preconditioner"]),
    ClaimEntry("deep.margin", "D3", "linear rate with a deficiency margin",
               "from a balanced start with deficiency margin c, GD's loss contracts at least by "
               "exp(-eta c^(2(N-1)/N)) per step",
               "Arora, Cohen, Golowich & Hu 2019, main theorem",
               margin.check_margin, margin.measure_margin, _margin,
               population=POPULATIONS["deep.margin"]),
    ClaimEntry("deep.narrow", "D4", "width 1: steps exponential in depth",
               "width-1 nets from a standard N(0, 1) start need a number of GD steps exponential in the depth",
               "Shamir 2019",
               narrow.check_depth_growth, narrow.measure_depth_growth, _depth_rate,
               population=POPULATIONS["deep.narrow"]),
    ClaimEntry("deep.width", "D5", "past a width, steps stop depending on it",
               "past a width, GD from a scaled Gaussian start needs a number of steps independent of "
               "the width; narrow nets are slower",
               "Du & Hu 2019",
               width.check_width, width.measure_width, _width,
               population=POPULATIONS["deep.width"]),
    ClaimEntry("deep.identity", "D6", "identity start: SPD yes, negative no",
               "GD from the identity converges for a symmetric positive definite target, not for a "
               "symmetric target with a negative eigenvalue",
               "Bartlett, Helmbold & Long 2018",
               dynamics.check_identity, dynamics.measure_identity, _identity,
               population=POPULATIONS["deep.identity"]),
    ClaimEntry("deep.modes", "D7", "modes learned one at a time (depth 2)",
               "from a small start the modes of A are learned in decreasing order of s_i, "
               "t_i / t_1 ~ s_1 / s_i at depth 2",
               "Saxe, McClelland & Ganguli 2014, eq. 7",
               dynamics.check_modes, dynamics.measure_modes, _modes,
               population=POPULATIONS["deep.modes"]),
    ClaimEntry("muon.modes", "M1", "Muon learns every mode at the same rate",
               "from a small start Muon learns the modes of A at the same rate: the smaller modes finish first, "
               "t_i / t_1 = (s_i / s_1)^(1/N), where GD's follow s_1 / s_i (D7)",
               f"{RHEE}, on matrix factorisation",
               modes.check_modes, modes.measure_modes, _muon_modes,
               population=POPULATIONS["muon.modes"]),
    ClaimEntry("muon.stable", "M2", "Muon stable above GD's sharpness limit",
               "at a constant rate above GD's stability threshold 2 / lambda_max, Muon does not diverge",
               f"{RHEE}, on matrix factorisation",
               stability.check_stable, stability.measure_stable, _muon_stable,
               population=POPULATIONS["muon.stable"]),
    ClaimEntry("muon.kappa", "M2", "annealed Muon: steps independent of kappa",
               "with exponential learning-rate annealing Muon reaches relative 1e-12 in a number of steps that does "
               "not grow with kappa 1 to 1e6, where GD's does",
               f"{RHEE}, on matrix factorisation",
               stability.check_kappa, stability.measure_kappa, _muon_kappa,
               population=POPULATIONS["muon.kappa"]),
    ClaimEntry("muon.conserved", "M3", "Muon flow conserves sqrt(P^TP)-sqrt(Q^TQ)",
               "once the layers align, Muon flow conserves sqrt(W1^T W1) - sqrt(W2 W2^T), where gradient flow "
               "conserves W1^T W1 - W2 W2^T",
               f"{RHEE}, on matrix factorisation",
               conservation.check_conservation, conservation.measure_conservation, _muon_conserved,
               population=POPULATIONS["muon.conserved"]),
    ClaimEntry("shampoo.polar", "M4", "one Shampoo step is U V^T (depth 2-6)",
               "one Shampoo step from zero statistics with epsilon 0 is U V^T of the gradient, muon[polar=exact]'s "
               "direction: steepest descent under the spectral norm",
               'Bernstein & Newhouse, "Old optimizer, new norm: an anthology", arXiv 2409.20325 (2024), section 3',
               polar.check_polar, polar.measure_polar, _shampoo_polar,
               population=POPULATIONS["shampoo.polar"]),
    ClaimEntry("modern.plateau", "M5", "post.plateau for the new optimizers",
               "at the step size the report card's protocol chose, adamw, lion, adafactor, muon, schedule-free-adamw, "
               "shampoo and soap all end above relative 1e-6 after 3000 steps on the post's problem",
               f"{POST} (post.plateau, asked of the optimizers of 2024-2026)",
               post_experiment.check_post_experiment, post_experiment.measure_post_experiment, _modern_plateau,
               population=POPULATIONS["modern.plateau"]),
)

BY_ID = {e.id: e for e in REGISTRY}


def entry(claim_id: str) -> ClaimEntry:
    """The registered claim ``claim_id``; a KeyError that lists the registered ids otherwise."""
    try:
        return BY_ID[claim_id]
    except KeyError:
        raise KeyError(f"no registered claim {claim_id!r}; registered: {', '.join(BY_ID)}") from None
