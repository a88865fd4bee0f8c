"""Width matters: past a width, GD's steps stop depending on it (deep.width; Du & Hu 2019).

Du & Hu 2019, "Width provably matters in optimization for deep linear neural networks" (ICML 2019),
as we read it (the width threshold and the iteration count are those of its abstract; the scaling
alpha is our reading of their setup): for an L-layer net x -> alpha W_L ... W_1 x with every entry
of every W_k drawn N(0, 1) and alpha = 1 / sqrt(m^(L-1) d_y) (m the hidden width), GD on
1/2 ||f(X) - Y||_F^2 converges at a linear rate once m is at least of order L r kappa^3 d_y (r,
kappa: rank and condition number of X X^T; up to logarithms and constants), in O(kappa log(1/eps))
iterations, independent of the width.

The scaling alpha is folded into the target, so the run is linnet's plain product: 1/2 ||alpha P - A||^2
= alpha^2 / 2 ||P - A / alpha||^2 with P = W1 ... WL from linnet's ``gaussian`` start (N(0, 1), the
post's draw), and their step eta is linnet's lr = eta alpha^2 / 2 on ||P - A / alpha||_F^2; the
relative loss is the same. Data: the expected loss (S = I: r = d_x, kappa = 1), d_x = d_y =
:data:`WIDTH_D`; target A = conditioned_problem(2, seed).A (singular values 1 to 0.5).

Step: eta = :data:`WIDTH_STEP` d_y / (L lambda_max(S)). For m -> infinity the product then moves by
-eta L / d_y (P - A) = -WIDTH_STEP (P - A) per step (each layer's gradient is multiplied by Gram
matrices that tend to m^k times the identity), so the residual shrinks by (1 - WIDTH_STEP) per
step whatever the width: :func:`limit_steps`. (The constant 1/2 is ours, chosen inside the range
where this limit is stable, not quoted from the paper.)
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from linnet.claims.claim import Claim
from linnet.problems.families import conditioned_problem
from linnet.runs.batched import run_batched

WIDTH_D = 4
WIDTH_DEPTH = 4
WIDTH_KAPPA = 2.0
WIDTHS = (4, 8, 16, 32, 64, 128, 256)
WIDTH_STEP = 0.5
WIDTH_TARGET = 1e-8
WIDTH_BUDGET = 5000
#: the plateau: the largest over the smallest median steps of the widest WIDTH_PLATEAU widths must be
#: at most WIDTH_PLATEAU_FACTOR, and the narrowest width's median at least WIDTH_NARROW_FACTOR times
#: the widest's. Measured, seeds 0-19, depth 4: medians 230 (m = 4), 98.5, 52, 45, 31, 24.5, 19.5
#: (m = 256); spread over 64-256 1.59 (margin 1.26x); narrowest / widest 11.8 (margin 2.9x).
#: Depth 3: 100.5 (m = 4), 48.5 (16), 25.5 (64), 18 (256). m = 512 (depth 4): 17.5; limit_steps 14
WIDTH_PLATEAU = 3
WIDTH_PLATEAU_FACTOR = 2.0
WIDTH_NARROW_FACTOR = 4.0


def scaling(width: int, depth: int, ydim: int = WIDTH_D) -> float:
    """alpha = 1 / sqrt(m^(L-1) d_y)."""
    return 1.0 / math.sqrt(float(width) ** (depth - 1) * ydim)


def du_hu_problem(seed: int, width: int, depth: int = WIDTH_DEPTH):
    """||W1 ... WL - A / alpha||_F^2 (S = I) from N(0, 1) layers, hidden width ``width``."""
    d = WIDTH_D
    p = conditioned_problem(WIDTH_KAPPA, seed, xdim=d, ydim=d, wdim=width, depth=depth, nsamples=0,
                            rank=d, init="gaussian")
    A = p.A / scaling(width, depth, d)
    A.flags.writeable = False
    return replace(p, A=A, _cache={})


def du_hu_lr(width: int, depth: int = WIDTH_DEPTH) -> float:
    """linnet's lr for eta = WIDTH_STEP d_y / L (lambda_max(S) = 1): eta alpha^2 / 2."""
    eta = WIDTH_STEP * WIDTH_D / depth
    return eta * scaling(width, depth) ** 2 / 2


def limit_steps(initial_relative: float, target: float = WIDTH_TARGET) -> int:
    """Steps to ``target`` when the residual shrinks by (1 - WIDTH_STEP) each step (the infinite width)."""
    return max(0, math.ceil(math.log(target / initial_relative) / (2 * math.log(1 - WIDTH_STEP))))


def measure_width(seeds=range(20), widths=WIDTHS, depth: int = WIDTH_DEPTH) -> dict:
    """Steps to WIDTH_TARGET per width and seed (-1: not within WIDTH_BUDGET), their medians."""
    seeds = list(seeds)
    steps, medians, reached, limits = {}, [], [], []
    for m in widths:
        run = run_batched([du_hu_problem(s, m, depth) for s in seeds], f"gd[lr={du_hu_lr(m, depth)!r}]",
                              WIDTH_BUDGET, target=WIDTH_TARGET, targets=(WIDTH_TARGET,))
        st = run.steps_to[WIDTH_TARGET]
        steps[m] = st.tolist()
        reached.append(int((st >= 0).sum()))
        medians.append(float(np.median(np.where(st >= 0, st, np.inf))))
        limits.append(float(np.median([limit_steps(r) for r in run.initial_loss / run.y_norm2])))
    wide = medians[-WIDTH_PLATEAU:]
    return {"depth": depth, "widths": list(widths), "steps": steps, "medians": medians, "reached": reached,
            "limit_steps": limits, "plateau_spread": max(wide) / min(wide),
            "narrow_over_wide": medians[0] / medians[-1]}


def check_width(measured: dict) -> Claim:
    """Holds when the widest widths' medians agree within WIDTH_PLATEAU_FACTOR and the narrowest is slower."""
    holds = (measured["plateau_spread"] <= WIDTH_PLATEAU_FACTOR
             and measured["narrow_over_wide"] >= WIDTH_NARROW_FACTOR)
    return Claim("deep.width", "from the N(0, 1) start with Du & Hu's scaling, GD's steps to a target stop "
                 "depending on the width past a width, and narrower nets are slower (Du & Hu 2019)",
                 holds, measured)
