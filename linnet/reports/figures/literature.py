"""Figures of claims 3-5 of the deep-linear-network literature (:mod:`linnet.claims.literature.margin`,
:mod:`linnet.claims.literature.narrow`, :mod:`linnet.claims.literature.width`), 150 dpi PNGs; written by
:func:`linnet.reports.figures.deep.write_all`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from linnet.claims.literature import margin as deep_margin
from linnet.claims.literature import narrow as deep_narrow
from linnet.claims.literature import width as deep_width
from linnet.core.files import save_png
from linnet.runs.batched import run_batched


def margin_figure(path: Path, seeds=range(20), depth: int = 3) -> Path:
    """Relative loss of GD from balanced starts with a deficiency margin, the flipped start without
    one, and the bound l(0) exp(-eta c^(2(N-1)/N) t) (Arora, Cohen, Golowich & Hu 2019)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    lr = deep_margin.MARGIN_LR
    for flip, color in ((False, "C0"), (True, "C3")):
        problems = [deep_margin.margin_problem(s, depth, flip) for s in seeds]
        run = run_batched(problems, f"gd[lr={lr!r}]", 300, history=True)
        rel = run.losses / run.y_norm2
        if not flip:
            start = np.max(rel[0])  # the bound from the margin starts' largest loss
        ax.semilogy(rel, color=color, lw=0.6, alpha=0.6)
        ax.plot([], color=color, label="no margin: one mode flipped" if flip else "margin c = sigma_min / 2")
    c = deep_margin.MARGIN_FRACTION * np.linalg.svd(problems[0].A, compute_uv=False)[-1]
    t = np.arange(301)
    ax.semilogy(t, start * np.exp(-deep_margin.bound_rate(lr, c, depth) * t), "k--", lw=1,
                label="bound exp(-eta c^(2(N-1)/N) t)")
    ax.set_ylim(1e-30, 10)
    ax.set_xlabel("step")
    ax.set_ylabel("relative loss")
    ax.set_title(f"Arora et al. 2019: depth {depth}, lr {lr:g}, {len(list(seeds))} seeds")
    ax.legend(fontsize=7)
    return save_png(fig, path)


def _seed_scatter(ax, xs, steps: dict, budget, color):
    for x in xs:
        st = np.asarray(steps[x], dtype=float)
        ax.scatter(np.full(len(st), x), np.where(st >= 0, st, budget), s=6, color=color, alpha=0.35,
                   marker="o", linewidths=0)


def depth_growth_figure(path: Path, seeds=range(20)) -> Path:
    """Steps to the target against depth: width 1 from N(0, 1) and width 8 from fan-in (Shamir 2019)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    for width, init, color in ((1, "gaussian", "C3"), (8, "fan-in", "C0")):
        m = deep_narrow.measure_depth_growth(seeds, width=width, init=init)
        _seed_scatter(ax, m["depths"], m["steps"], m["budget"], color)
        ax.semilogy(m["depths"], m["medians"], color=color, marker="o",
                    label=f"width {width}, {init}: median, rate {m['rate']:.3f} per layer")
    ax.axhline(deep_narrow.NARROW_BUDGET, color="0.5", ls=":", lw=0.8, label="budget (not reached)")
    ax.set_xlabel("depth N")
    ax.set_ylabel(f"GD steps to relative loss {deep_narrow.NARROW_TARGET:g}")
    ax.set_title(f"Shamir 2019: lr {deep_narrow.NARROW_LR:g}")
    ax.legend(fontsize=7)
    return save_png(fig, path)


def width_figure(path: Path, seeds=range(20)) -> Path:
    """Steps to the target against the hidden width from Du & Hu's scaled N(0, 1) start, depths 3 and 4."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    for depth, color in ((3, "C2"), (4, "C0")):
        m = deep_width.measure_width(seeds, depth=depth)
        _seed_scatter(ax, m["widths"], m["steps"], deep_width.WIDTH_BUDGET, color)
        ax.loglog(m["widths"], m["medians"], color=color, marker="o", label=f"depth {depth}: median")
    ax.axhline(np.median(m["limit_steps"]), color="k", ls="--", lw=0.8, label="infinite-width limit")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("hidden width m")
    ax.set_ylabel(f"GD steps to relative loss {deep_width.WIDTH_TARGET:g}")
    ax.set_title("Du & Hu 2019: width matters")
    ax.legend(fontsize=7)
    return save_png(fig, path)
