"""The report card family: the figures of ``linnet check --out DIR`` (:mod:`linnet.reports.card`).

* ``tuning``: the tuning protocol's score, the median relative loss on the development seeds after
  each setting's budget, against the step size, one line per tuned setting; a rate that diverged on
  a development seed is left out of its line, and the chosen rate is ringed.
* ``settings``: per setting, the median relative loss on the held-out seeds at its budget with its
  95% bootstrap interval; a setting where at least half the runs diverged carries a 'not reached'
  mark (its median is infinite).
* ``profile``: the performance profile against the built-ins, in steps and in seconds to relative
  1e-6 (Dolan & More 2002; :func:`linnet.reports.figures.sweep.plot_profile`).
"""

from __future__ import annotations

import numpy as np

from linnet.reports.figures.style import LINESTYLES, MARKERS, PALETTE, Styles, new_figure, not_reached
from linnet.reports.figures.sweep import plot_profile


def plot_tuning(card, ax=None):
    """Score against step size for every setting the optimizer of ``card`` was tuned on; returns the axes."""
    ax = ax if ax is not None else new_figure((7.5, 4.8)).subplots()
    styles = Styles()
    drawn = 0
    for t in card.tuned:
        rates = np.array([r for r, s in zip(t.grid, t.scores) if s is not None], dtype=float)
        scores = np.array([s for s in t.scores if s is not None], dtype=float)
        if not rates.size:
            continue
        kw = styles.next(color=PALETTE[drawn % len(PALETTE)], ls=LINESTYLES[(drawn // len(PALETTE)) % len(LINESTYLES)])
        line, = ax.plot(rates, scores, label=t.setting, lw=1.4, **kw)
        if t.lr is not None:
            ax.plot([t.lr], [scores[list(rates).index(t.lr)]], ls="none", marker="o", ms=8, mfc="none",
                    mec=line.get_color(), mew=1.5)
        drawn += 1
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("step size lr")
    ax.set_ylabel("median relative loss, development seeds")
    ax.set_title("tuning: the chosen rate ringed; rates that diverged left out", fontsize="small")
    if drawn:
        ax.legend(fontsize="x-small", ncols=2)
    return ax


def plot_settings(card, ax=None):
    """Median relative loss at each setting's budget with its 95% interval; returns the axes."""
    ax = ax if ax is not None else new_figure((7.5, 4.8)).subplots()
    names = [s.setting for s in card.settings]
    finite = [(i, s.relative_loss) for i, s in enumerate(card.settings) if np.isfinite(s.relative_loss.value)]
    if finite:
        x = np.array([i for i, _ in finite], dtype=float)
        med = np.array([e.value for _, e in finite])
        low = np.array([e.low for _, e in finite])
        high = np.array([e.high if np.isfinite(e.high) else e.value for _, e in finite])
        ax.errorbar(x, med, yerr=[med - low, high - med], ls="none", marker=MARKERS[0], color=PALETTE[0],
                    capsize=3, label="median [95% interval]")
    gone = [i for i, s in enumerate(card.settings) if not np.isfinite(s.relative_loss.value)]
    if gone:
        not_reached(ax, gone, "median (half or more diverged)", PALETTE[3])
    ax.set_xticks(np.arange(len(names)), names, rotation=60, ha="right", fontsize="small")
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_yscale("log")
    ax.set_ylabel("relative loss after the budget (held-out seeds)")
    ax.legend(fontsize="small")
    return ax


def draw(card) -> dict:
    """{name: Figure}: ``tuning``, ``settings``, ``profile-steps`` and ``profile-seconds``."""
    import pandas as pd

    out = {}
    for name, plot in (("tuning", plot_tuning), ("settings", plot_settings)):
        fig = new_figure((7.5, 4.8))
        plot(card, fig.subplots())
        out[name] = fig
    frame = pd.DataFrame(list(card.reach_rows))
    for metric in ("steps", "seconds"):
        fig = new_figure((6.5, 4.5))
        plot_profile(frame, metric, card.profile_target, ax=fig.subplots())
        out[f"profile-{metric}"] = fig
    return out
