"""One Shampoo step is the polar factor (Bernstein & Newhouse, "Old optimizer, new norm: an
anthology", arXiv 2409.20325, 2024, section 3).

Shampoo (Gupta, Koren & Singer 2018) without accumulation, from zero statistics and with epsilon
0, steps along L^(-1/4) G R^(-1/4) with L = G G^T and R = G^T G. For G = U S V^T that is
U S^(-1/2) U^T U S V^T V S^(-1/2) V^T = U V^T: steepest descent under the spectral norm, the
direction of Muon with the exact polar factor (``muon[polar=exact]``, scaled by Keras'
sqrt(max(rows, cols)) rms_rate). Checked on the post's problem at depths 2-6 from the orthogonal
start (gradients with condition numbers 4 to 9: forming G G^T squares it, so the identity holds
to about eps kappa(G)^2; tests/test_modern_optimizers.py states the bound from the Gaussian start).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from linnet.claims.claim import Claim
from linnet.optimizers.spec import parse
from linnet.problems.families import post_problem
from linnet.problems.losses import evaluate

#: the depths checked
POLAR_DEPTHS = (2, 3, 4, 5, 6)
#: Shampoo's exponent: 1/4, the paper's; 1/2 (full-matrix AdaGrad's) is the negative control
SHAMPOO_EXPONENT = 0.25
#: "equal" is: the largest entry of (Shampoo's step - U V^T) and of (Muon's exact direction - U V^T)
#: at most POLAR_FACTOR eps kappa(G)^2 (forming G G^T squares G's condition number). Measured on the
#: development seeds 0-19, depths 2-6: errors 3.3e-15 to 1.7e-11 (kappa(G) up to 863), at most 1.03
#: eps kappa(G)^2 (margin 3.9x); with exponent 1/2 (the negative control) 0.88 to 0.97
POLAR_FACTOR = 4.0


def polar_errors(problem, exponent: float = SHAMPOO_EXPONENT) -> tuple[float, float, float]:
    """The largest entry of |one Shampoo step - U V^T| and of |Muon's exact direction - U V^T| over
    the layers, G = U S V^T each layer's gradient at the start (lr 1), and the largest kappa(G)."""
    grads = evaluate(problem, problem.weights).grads
    shampoo = parse(f"shampoo[lr=1.0,epsilon=0.0,exponent={exponent!r}]")
    moved = shampoo.step(problem.weights, grads, shampoo.initial_state(problem.weights), 1.0)[0]
    muon = parse("muon[lr=1.0,weight_decay=0.0,polar=exact]")
    moved_muon = muon.step(problem.weights, grads, muon.initial_state(problem.weights), 1.0)[0]
    worst = worst_muon = kappa = 0.0
    for W, G, S, M in zip(problem.weights, grads, moved, moved_muon, strict=True):
        U, s, Vt = np.linalg.svd(G, full_matrices=False)
        kappa = max(kappa, float(s[0] / s[-1]))
        worst = max(worst, float(np.max(np.abs((W - S) - U @ Vt))))
        worst_muon = max(worst_muon, float(np.max(np.abs((W - M) / (math.sqrt(max(W.shape)) * 0.2) - U @ Vt))))
    return worst, worst_muon, kappa


def measure_polar(seeds: Sequence[int], exponent: float = SHAMPOO_EXPONENT) -> list[dict]:
    """Per seed: the errors of :func:`polar_errors` at each depth of POLAR_DEPTHS from the orthogonal
    start, the largest (``error``), the largest over eps kappa(G)^2 (``relative``), and ``holds``: that
    is at most POLAR_FACTOR."""
    eps = float(np.finfo(np.float64).eps)
    out = []
    for seed in seeds:
        row: dict = {}
        relative = 0.0
        for depth in POLAR_DEPTHS:
            s, m, kappa = polar_errors(post_problem(int(seed), depth=depth, init="orthogonal"), exponent)
            row[f"shampoo_depth{depth}"], row[f"muon_depth{depth}"] = s, m
            relative = max(relative, max(s, m) / (eps * kappa**2))
        row["error"] = max(row.values())
        row["relative"] = relative
        row["holds"] = relative <= POLAR_FACTOR
        out.append(row)
    return out


def check_polar(rows: Sequence[dict]) -> Claim:
    """Holds when every seed's error is at most POLAR_FACTOR eps kappa(G)^2."""
    return Claim("shampoo.polar", "one Shampoo step from zero statistics with epsilon 0 is U V^T of the gradient, "
                 "muon[polar=exact]'s direction, at depths 2-6 (Bernstein & Newhouse 2024)",
                 all(r["holds"] for r in rows), {"error_max": max(r["error"] for r in rows),
                                                 "relative_max": max(r["relative"] for r in rows)})
