"""Figures of the deep-linear-network claims (:mod:`linnet.deep_claims`), 150 dpi PNGs.

``python -m linnet.deep_figures DIR`` writes them all into DIR (docs/figures/deep in the repository).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from linnet import deep_claims as dc
from linnet.claims import at_depth as ad
from linnet.files import write_atomic
from linnet.run import run

DPI = 150


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=DPI, bbox_inches="tight"), force=True)
    plt.close(fig)
    return Path(path)


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
    return _save(fig, path)


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
    return _save(fig, path)


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
    return _save(fig, path)


#: where a diverged run is drawn (above every finite relative loss measured, 3.5e7 at most)
DIVERGED_AT = 1e10


def post_claims_figure(path: Path, seeds=ad.SEEDS) -> Path:
    """Final relative loss of the post's methods against depth (2 = the post), widths rank and 4 x rank.

    Panels: gd and adam at the post's 4 rates each after 3000 steps (claim 1; diverged runs drawn
    at DIVERGED_AT), lm and gauss-newton[step=0.5] after DEPTH_BUDGETS[depth] iterations (claim 2).
    """
    import matplotlib.pyplot as plt

    panels = {"gd, post's 4 rates": [], "adam, post's 4 rates": []}
    panels.update({spec: [] for spec in ad.DEPTH_SECOND_ORDER})
    depths = (2, *ad.DEPTHS)
    for x, depth in enumerate(depths):
        for j, width in enumerate(ad.WIDTHS):
            for spec, by_seed in ad.first_order_runs(depth, width, seeds).items():
                panel = "gd, post's 4 rates" if spec.startswith("gd") else "adam, post's 4 rates"
                panels[panel] += [(x, j, DIVERGED_AT if r.diverged else r.relative_loss) for r in by_seed.values()]
            for spec in ad.DEPTH_SECOND_ORDER:
                panels[spec] += [(x, j, r.relative_loss) for r in ad.second_order_at_depth(depth, width, spec,
                                                                                           seeds).values()]
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.8), sharey=True)
    jitter = np.random.RandomState(0)
    for ax, (title, points) in zip(axes, panels.items()):
        for j, width in enumerate(ad.WIDTHS):
            xs = [x + 0.2 * (j - 0.5) + 0.05 * jitter.randn() for x, jj, _ in points if jj == j]
            ys = [max(y, 1e-33) for _, jj, y in points if jj == j]
            ax.semilogy(xs, ys, "o", ms=2.5, alpha=0.6, color=f"C{j}",
                        label=f"width {width} ({ad.WIDTH_FACTORS[j]}x rank)")
        level = 1e-6 if "post" in title else ad.DEPTH_TARGET
        ax.axhline(level, color="0.4", ls=":", lw=0.8)
        ax.axhline(DIVERGED_AT, color="C3", ls="-", lw=0.4)
        ax.set_xticks(range(len(depths)), [str(d) for d in depths])
        ax.set_xlabel("depth")
        ax.set_title(title, fontsize=9)
    axes[0].set_ylabel(f"final relative loss (diverged: {DIVERGED_AT:g})")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"The post's claims at depth: seeds {min(seeds)}-{max(seeds)}, Gaussian start "
                 "(dotted: 1e-6 for claim 1, 1e-24 for claim 2)", fontsize=10)
    return _save(fig, path)


def write_all(directory, post_seeds=ad.SEEDS) -> list[Path]:
    """Every deep-claim figure into ``directory`` (``post_seeds``: the seeds of the post-claims figure)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return [preconditioner_figure(directory / "preconditioner.png"),
            identity_figure(directory / "identity_init.png"),
            modes_figure(directory / "modes.png"),
            post_claims_figure(directory / "post_claims_at_depth.png", post_seeds)]


if __name__ == "__main__":
    for written in write_all(sys.argv[1] if len(sys.argv) > 1 else "docs/figures/deep"):
        print(written)
