"""The leaderboard family: the figures of ``linnet leaderboard --out DIR`` (:mod:`linnet.reports.leaderboard`).

* ``profile``: the performance profile of every entrant over all the family's problems (setting x
  held-out seed), in steps (left) and in seconds (right) to relative 1e-6 (Dolan & More 2002;
  :func:`linnet.reports.figures.sweep.draw_profile`, on the cost tables the leaderboard's standings
  are computed from), the optimizers in the leaderboard's order;
* ``steps``: per optimizer, in the leaderboard's order, the pooled median steps to relative 1e-6,
  1e-12 and 1e-24 with their 95% bootstrap intervals; a median that is never reached (half or more
  of the runs did not get there) is a 'not reached' mark.
"""

from __future__ import annotations

import numpy as np

from linnet.reports.figures.style import MARKERS, PALETTE, new_figure, not_reached
from linnet.reports.figures.sweep import draw_profile


def plot_profile(board, fig=None):
    """The two profiles side by side, one legend; returns the figure."""
    fig = fig if fig is not None else new_figure((12, 5.2))
    axes = fig.subplots(1, 2, sharey=True)
    target = board.to_dict()["profile"]["target"]
    for ax, metric in zip(axes, ("steps", "seconds")):
        draw_profile(board.costs[metric], metric, target, ax=ax)
        ax.set_title(f"{metric} to relative {target:g}", fontsize="medium")
        ax.get_legend().remove()
    axes[1].set_ylabel("")
    axes[1].legend(*axes[0].get_legend_handles_labels(), fontsize="small", loc="upper left",
                   bbox_to_anchor=(1.02, 1.0), title="best first", title_fontsize="small")
    return fig


def plot_steps(board, ax=None):
    """Pooled median steps to each target with 95% intervals, one column per optimizer; returns the axes."""
    ax = ax if ax is not None else new_figure((10, 5)).subplots()
    names = [e.label for e in board.entries]
    targets = [r.target for r in board.entries[0].pooled] if board.entries else []
    width = 0.22
    for k, target in enumerate(targets):
        offset = (k - (len(targets) - 1) / 2) * width
        cells = [(i, e.pooled[k].steps) for i, e in enumerate(board.entries)]
        finite = [(i, s) for i, s in cells if np.isfinite(s.value)]
        colour = PALETTE[k % len(PALETTE)]
        if finite:
            x = np.array([i for i, _ in finite], dtype=float) + offset
            med = np.array([s.value for _, s in finite])
            low = np.array([s.low for _, s in finite])
            high = np.array([s.high if np.isfinite(s.high) else s.value for _, s in finite])
            ax.errorbar(x, med, yerr=[med - low, high - med], ls="none", marker=MARKERS[k % len(MARKERS)], ms=5,
                        color=colour, capsize=2, label=f"to {target:g}: median [95%]")
        gone = [i + offset for i, s in cells if not np.isfinite(s.value)]
        if gone:
            not_reached(ax, gone, f"to {target:g}, median", colour)
    ax.set_xticks(np.arange(len(names)), names, rotation=60, ha="right", fontsize="small")
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_yscale("log")
    ax.set_ylabel(f"steps (median over {board.problems} problems)")
    ax.legend(fontsize="small", ncols=2, loc="lower right")
    return ax


def draw(board) -> dict:
    """{name: Figure}: ``profile`` and ``steps``."""
    fig = new_figure((10, 5.2))
    plot_steps(board, fig.subplots())
    return {"profile": plot_profile(board), "steps": fig}
