"""Muon learns every mode at the same rate (Rhee, Simon & Karkada, arXiv 2606.30509, 2026).

On Saxe et al.'s mode problem (:func:`linnet.claims.literature.dynamics.saxe_problem`: A = U
diag(2, 1, 0.5) V^T, 3 x 3, the expected loss, a small start of scale 1e-4), gradient descent learns
the modes one at a time, the largest first, with learning times t_i / t_1 ~ s_1 / s_i (claim
deep.modes). Muon's update is orthogonalised: every singular value of every layer moves by the
same step whatever the mode's strength, so at depth N each mode's strength grows like (c t)^N, the
same curve for every mode, and mode i is learned (strength s_i / 2) at t_i proportional to
s_i^(1/N): the smaller modes finish first, and

    t_i / t_1 = (s_i / s_1)^(1/N)                      (equal-rate prediction; 0.707, 0.5 at N = 2)

where GD's ratios are s_1 / s_i (2, 4). The same learning-time measure as deep.modes
(:func:`~linnet.claims.literature.dynamics.mode_learning_times`: the first step at which u_i^T P v_i
reaches s_i / 2) is applied to both optimizers on the same problems.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from linnet.claims.claim import Claim
from linnet.claims.literature.dynamics import SAXE_SINGULAR_VALUES, mode_learning_times, saxe_problem

#: Muon as Keras 3 defines it (momentum 0.95, nesterov, 5 Newton-Schulz steps, weight decay 0.004),
#: at a step small enough that a mode's strength passes s_i / 2 between two steps by a small
#: fraction: on seeds 0-9, lr 0.01 gave factors up to 1.21, lr 0.003 up to 1.035
MODES_SPEC = "muon[lr=0.003]"
#: the depth of the claim (the paper's matrix factorisation)
MODES_DEPTH = 2
#: budget per run: Muon at lr 0.003 learns the largest mode by step ~1100, GD (lr 0.01) by ~1300
MODES_MAX_STEPS = 20_000
#: the learning times' ratios must be within this factor of the equal-rate prediction. Measured on the
#: development seeds 0-19 (MODES_SPEC): 1.018 to 1.046, median 1.020, margin 1.15x; GD (gd[lr=0.01],
#: the negative control) on the same problems: 6.8 to 10.3, its modes finishing largest first
MODES_FACTOR = 1.2


def predicted_ratios(depth: int = MODES_DEPTH) -> np.ndarray:
    """(s_i / s_1)^(1/depth), the equal-rate learning-time ratios t_i / t_1, shape (rank,)."""
    s = np.asarray(SAXE_SINGULAR_VALUES)
    return (s / s[0]) ** (1.0 / depth)


def measure_modes(seeds: Sequence[int], spec: str = MODES_SPEC) -> list[dict]:
    """Per seed: the learning times of ``spec`` on the mode problem, their ratios t_i / t_1, the
    largest factor between the ratios and :func:`predicted_ratios` (``factor``), whether the modes
    finish smallest first (``smaller_first``), and ``holds``: both, within MODES_FACTOR."""
    predicted = predicted_ratios()
    out = []
    for seed in seeds:
        t = mode_learning_times(saxe_problem(int(seed), MODES_DEPTH), max_steps=MODES_MAX_STEPS, optimizer=spec)
        ratios = t / t[0]
        factor = float(np.max(np.maximum(ratios / predicted, predicted / ratios)))
        if not np.isfinite(factor):
            factor = float("inf")
        smaller_first = bool(np.all(np.diff(t) < 0))
        out.append({"times": t.tolist(), "ratios": ratios.tolist(), "factor": factor,
                    "smaller_first": smaller_first, "holds": smaller_first and factor <= MODES_FACTOR})
    return out


def check_modes(rows: Sequence[dict]) -> Claim:
    """Holds when on every seed Muon finishes the modes smallest first, with t_i / t_1 within
    MODES_FACTOR of (s_i / s_1)^(1/N)."""
    factors = [r["factor"] for r in rows]
    return Claim("muon.modes", "from a small start Muon learns every mode at the same rate: the smaller modes "
                 "finish first, t_i / t_1 = (s_i / s_1)^(1/N) (Rhee, Simon & Karkada 2026)",
                 all(r["holds"] for r in rows),
                 {"factor_min": min(factors), "factor_max": max(factors), "rows": list(rows)})
