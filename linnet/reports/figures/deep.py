"""Figures of the deep-linear-network claims, 150 dpi PNGs: claims 2, 6 and 7 (:mod:`linnet.claims.literature.dynamics`)
here, claims 3-5 in :mod:`linnet.reports.figures.literature`, the post's claims at depth in
:mod:`linnet.reports.figures.at_depth`.

``python -m linnet.reports.figures.deep DIR`` writes them all into DIR (docs/figures/deep in the repository).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from linnet.claims.literature import dynamics as dc
from linnet.claims.post import at_depth as ad
from linnet.core.files import save_png
from linnet.reports.figures.at_depth import post_claims_figure
from linnet.reports.figures.literature import depth_growth_figure, margin_figure, width_figure
from linnet.runs.loop import run


def preconditioner_figure(path: Path, seed: int = 0) -> Path:
    """Error of Theorem 1's end-to-end update against the step size, balanced and Gaussian starts."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    for depth, style in ((3, "-"), (6, "--")):
        for init, color in (("balanced", "C0"), ("gaussian", "C3")):
            errors = dc.preconditioner_errors(dc.post_problem(seed, depth=depth, init=init))
            slope = dc.fitted_slope(dc.PRECONDITIONER_RATES, errors)
            ax.loglog(dc.PRECONDITIONER_RATES, errors, style, color=color, marker="o", ms=3,
                      label=f"depth {depth}, {init}: slope {slope:.3f}")
    ax.set_xlabel("relative step size t (lr = t ||P|| / ||F||)")
    ax.set_ylabel("||P(step) - (P - lr F)||_F")
    ax.set_title("Arora, Cohen & Hazan 2018, Thm 1")
    ax.legend(fontsize=7)
    return save_png(fig, path)


def identity_figure(path: Path, seeds=range(5)) -> Path:
    """Relative loss of GD from the identity: SPD targets against a target with a negative eigenvalue."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    spec = f"gd[lr={dc.IDENTITY_LR!r}]"
    for negative, color in ((False, "C0"), (True, "C3")):
        for i, seed in enumerate(seeds):
            r = run(dc.symmetric_target_problem(seed, negative=negative), spec, dc.IDENTITY_STEPS)
            rel = np.asarray(r.losses) / r.problem_info["y_norm2"]
            ax.semilogy(rel, color=color, lw=0.8,
                        label=None if i else ("negative eigenvalue" if negative else "positive definite"))
    ax.axhline(dc.IDENTITY_CONVERGED, color="0.5", ls=":", lw=0.8)
    ax.set_xlabel("step")
    ax.set_ylabel("relative loss")
    ax.set_title("Bartlett, Helmbold & Long 2018: identity start, depth 3")
    ax.legend(fontsize=7)
    return save_png(fig, path)


def modes_figure(path: Path, seed: int = 0) -> Path:
    """Strength of each mode of A along GD from a small start, depth 2 and 3."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, depth in zip(axes, (2, 3)):
        strengths = dc.mode_strengths(dc.saxe_problem(seed, depth), until_learned=False, max_steps=6000)
        for i, s in enumerate(dc.SAXE_SINGULAR_VALUES):
            ax.plot(strengths[:, i] / s, label=f"s = {s:g}")
        ax.set_xlabel("step")
        ax.set_ylabel("u_i^T P v_i / s_i")
        ax.set_title(f"depth {depth}")
        ax.legend(fontsize=7)
    fig.suptitle("Saxe, McClelland & Ganguli 2014: one mode at a time")
    return save_png(fig, path)


def write_all(directory, seeds=range(20), post_seeds=ad.SEEDS) -> list[Path]:
    """Every deep-claim figure into ``directory``; ``seeds`` for the margin, depth and width figures,
    ``post_seeds`` for the post-claims figure."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return [preconditioner_figure(directory / "preconditioner.png"),
            identity_figure(directory / "identity_init.png"),
            modes_figure(directory / "modes.png"),
            margin_figure(directory / "deficiency_margin.png", seeds),
            depth_growth_figure(directory / "depth_growth.png", seeds),
            width_figure(directory / "width.png", seeds),
            post_claims_figure(directory / "post_claims_at_depth.png", post_seeds)]


if __name__ == "__main__":
    for written in write_all(sys.argv[1] if len(sys.argv) > 1 else "docs/figures/deep"):
        print(written)
