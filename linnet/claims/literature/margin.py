"""Linear convergence from a balanced start with a deficiency margin (deep.margin).

Arora, Cohen, Golowich & Hu 2019, "A convergence analysis of gradient descent for deep linear
neural networks" (ICLR 2019). Their setting: whitened data, so the loss is l(P) = 1/2 ||P - Phi||_F^2
of the end-to-end matrix P; hidden widths >= min(xdim, ydim); a start that is (approximately)
balanced, W_k^T W_k = W_{k+1} W_{k+1}^T, with a *deficiency margin* c > 0: ||P(0) - Phi||_F <=
sigma_min(Phi) - c. Their main theorem, as we read it: with the balance delta <= c^2 / (256 N^3
||Phi||_F^(2(N-1)/N)) and a step eta <= c^((4N-2)/N) / (6144 N^3 ||Phi||_F^((6N-4)/N)), GD reaches
l(T) <= eps for T >= log(l(0) / eps) / (eta c^(2(N-1)/N)), i.e. the loss contracts at the rate
eta c^(2(N-1)/N) per step: l(t) <= l(0) exp(-eta c^(2(N-1)/N) t). The three conditions (hidden
widths, approximate balance, an initial loss below that of any rank-deficient solution) are those
of the paper's abstract; the constants are as we read the theorem and were not re-checked against
its text here. A constant factor in the rate would change no verdict below 4.1x, the smallest
measured ratio.

linnet's expected loss (``nsamples=0``, S = I) is ||P - Phi||_F^2 = 2 l(P), so GD with linnet's
``lr`` is their GD with eta = 2 lr, and the bound's per-step rate is 2 lr c^(2(N-1)/N).

The measured per-step rate is -log(loss(t+1) / loss(t)), over every step until the loss is below
:data:`MARGIN_FLOOR` times its start (below that round-off moves it). The claim holds on a run
when its smallest rate is at least the bound's (ratio >= 1).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from linnet.claims.claim import Claim
from linnet.problems.families import conditioned_problem
from linnet.problems.inits import balanced_from_product
from linnet.problems.losses import product
from linnet.runs.batched import run_batched

#: Phi: d x d, singular values log-spaced in [1/kappa, 1] (sigma_min 0.5); every hidden width d
MARGIN_D = 4
MARGIN_KAPPA = 2.0
#: the start's margin: ||P(0) - Phi||_F = (1 - MARGIN_FRACTION) sigma_min, so c = MARGIN_FRACTION sigma_min
MARGIN_FRACTION = 0.5
MARGIN_DEPTHS = (2, 3, 4, 6)
#: a practical step (eta = 0.1 in their loss): 1.6e6x (depth 2) to 1.9e8x (depth 6) their bound on eta
MARGIN_LR = 0.05
MARGIN_STEPS = 2000
#: steps at the theorem's step size: the loss moves by ~1e-6 relative, enough to measure the rate
THEOREM_STEPS = 300
#: per-step rates are measured while the loss is above this times its start
MARGIN_FLOOR = 1e-20
#: the bound itself: the smallest rate over a run must be at least the bound's (the paper's number,
#: not fitted). Measured, seeds 0-19, depths 2, 3, 4, 6: ratio 7.11-42.5 at lr 0.05, 7.14-105 at the
#: theorem's step (margin 7.1x); the flipped start (control) 3.5e-7..3.7e-5 at depths 3-6, -9e-15 at 2.
#: Phi 8 x 4 (ydim 8): ratio 4.1-6.5 at lr 0.05, 7.5-69 at the theorem's step (margin 4.1x)
MARGIN_MIN_RATIO = 1.0


def margin_problem(seed: int, depth: int, flip: bool = False, ydim: int = MARGIN_D):
    """The expected-loss problem ||W1 ... WN - Phi||_F^2 from a balanced start P(0) near Phi.

    Phi = conditioned_problem(MARGIN_KAPPA, seed).A, (ydim, d) with d = MARGIN_D, every hidden width d
    (>= min(xdim, ydim), their width condition; ydim >= d). Without ``flip``, P(0) = Phi + (1 -
    MARGIN_FRACTION) sigma_min(Phi) E / ||E||_F with E Gaussian (RandomState([seed, 3])): deficiency
    margin c = MARGIN_FRACTION sigma_min. With ``flip``, P(0) = Phi - 2 sigma_min u v^T for Phi's
    smallest singular pair (u, v): the same singular values, that mode's sign reversed, at distance
    2 sigma_min > sigma_min: no margin. Either start is factored balanced (linnet.problems.inits.balanced_from_product).
    """
    d = MARGIN_D
    p = conditioned_problem(MARGIN_KAPPA, seed, xdim=d, ydim=ydim, wdim=d, depth=depth, nsamples=0)
    U, s, Vt = np.linalg.svd(p.A, full_matrices=False)
    if flip:
        P0 = p.A - 2.0 * s[-1] * np.outer(U[:, -1], Vt[-1])
    else:
        E = np.random.RandomState([seed, 3]).randn(ydim, d)
        P0 = p.A + (1.0 - MARGIN_FRACTION) * s[-1] * E / np.linalg.norm(E)
    weights = balanced_from_product(P0, [w.shape for w in p.weights])
    return replace(p, weights=tuple(np.array(w) for w in weights), init="balanced", _cache={})


def deficiency_margin(problem) -> float:
    """sigma_min(Phi) - ||P(0) - Phi||_F: positive for a start with a deficiency margin (Arora et al. 2019)."""
    return float(np.linalg.svd(problem.A, compute_uv=False)[-1] - np.linalg.norm(product(problem.weights) - problem.A))


def theorem_lr(c: float, phi_norm: float, depth: int) -> float:
    """linnet's lr for their largest step eta = c^((4N-2)/N) / (6144 N^3 ||Phi||_F^((6N-4)/N)), lr = eta / 2."""
    n = depth
    return float(c ** ((4 * n - 2) / n) / (6144 * n**3 * phi_norm ** ((6 * n - 4) / n)) / 2)


def bound_rate(lr: float, c: float, depth: int) -> float:
    """The bound's per-step rate eta c^(2(N-1)/N) with eta = 2 lr."""
    return 2.0 * lr * c ** (2 * (depth - 1) / depth)


def rate_ratios(losses: np.ndarray, bound: float) -> np.ndarray:
    """min over steps of -log(loss(t+1) / loss(t)) / bound, per run; losses (steps + 1, runs).

    Steps after the loss fell below MARGIN_FLOOR * loss(0) are left out (a run that got there
    contracted faster than the bound on every step before)."""
    losses = np.asarray(losses, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = -np.log(losses[1:] / losses[:-1])
    rates = np.where(losses[:-1] > MARGIN_FLOOR * losses[0], rates, np.inf)
    return np.where(np.isnan(rates), -np.inf, rates).min(axis=0) / bound  # NaN: diverged


def measure_margin(seeds=range(20), depth: int = 3, lr: float | None = MARGIN_LR, flip: bool = False,
                   steps: int | None = None, ydim: int = MARGIN_D) -> dict:
    """The smallest per-step rate over the bound's, per seed; ``lr=None`` takes the theorem's step.

    The bound uses c = MARGIN_FRACTION sigma_min(Phi) for every start (for ``flip``, the margin a
    start would need; the flipped start itself has none).
    """
    seeds = list(seeds)
    problems = [margin_problem(s, depth, flip, ydim) for s in seeds]
    c = MARGIN_FRACTION * float(np.linalg.svd(problems[0].A, compute_uv=False)[-1])  # the same for every seed
    phi_norm = float(np.linalg.norm(problems[0].A))
    largest = theorem_lr(c, phi_norm, depth)
    step = largest if lr is None else float(lr)
    steps = (THEOREM_STEPS if lr is None else MARGIN_STEPS) if steps is None else steps
    run = run_batched(problems, f"gd[lr={step!r}]", steps, history=True)
    ratios = rate_ratios(run.losses, bound_rate(step, c, depth))
    final = run.final_loss / run.initial_loss
    return {"depth": depth, "ydim": ydim, "lr": step, "theorem_lr": largest, "lr_over_theorem": step / largest,
            "c": c, "flip": flip, "start_margin": [deficiency_margin(p) for p in problems],
            "steps": steps, "ratios": ratios.tolist(), "min": float(ratios.min()), "max": float(ratios.max()),
            "final_over_initial_max": float(np.max(final)), "diverged": int(run.diverged.sum())}


def check_margin(measured: dict) -> Claim:
    """Holds when every seed's loss contracted at least at the bound's rate on every step."""
    holds = measured["min"] >= MARGIN_MIN_RATIO and not measured["diverged"]
    return Claim("deep.margin", "from a balanced start with deficiency margin c, GD's loss contracts "
                 "at least by exp(-eta c^(2(N-1)/N)) per step (Arora, Cohen, Golowich & Hu 2019)",
                 holds, measured)
