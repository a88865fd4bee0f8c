"""The corrected family: what the post's figure shows once the true loss is drawn, and what the post
leaves out, from a :class:`linnet.reports.reproduction.Reproduction`
(:func:`linnet.reports.reproduction.compute`: the post's problem, seed 0 by default).

* ``corrected-figure``: every optimizer's true relative loss and gradient norm (the post's 8
  first-order runs, Gauss-Newton, the post's LM with its lstsq cutoff, lm, kfac, als), with the
  closed-form level and the float64 floor;
* ``balanced-init``: GD from the post's initialisation against a balanced one of the same product;
* ``long-gd``: GD run on to relative loss 1e-12, with the predicted step counts;
* ``nsamples``: GD at the same per-sample step for 1e2 ... 1e5 samples and the expected loss;
* ``kappa``: kappa(A) of the post's construction for seeds 0-19, against the 1e5 it claims.

Figures are :class:`matplotlib.figure.Figure` objects (no pyplot), styled by
:mod:`linnet.reports.figures.style`; PNGs are 150 dpi and at least 8 inches wide (1200 pixels).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from linnet.claims.post.constants import POST_FIRST_ORDER, POST_GAUSS_NEWTON, POST_KAPPA_CLAIMED, POST_LM_LEVEL
from linnet.claims.post.measures import imbalance_drift
from linnet.reports.figures.style import Styles, new_figure

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn, not with the command line
    from matplotlib.figure import Figure

#: most points drawn per curve (long runs are thinned evenly; keeps SVG and PDF small)
MAX_POINTS = 4000


def _thin(y, x=None, max_points: int = MAX_POINTS):
    """Evenly spaced samples of a long curve, keeping the last point."""
    y = np.asarray(y)
    x = np.arange(len(y)) if x is None else np.asarray(x)
    if len(y) <= max_points:
        return x, y
    idx = np.unique(np.r_[np.linspace(0, len(y) - 1, max_points).astype(int), len(y) - 1])
    return x[idx], y[idx]


# -- the corrected figure -------------------------------------------------------------------------

def _style_for(spec: str, index: dict, styles: Styles):
    """Line style by optimizer family: GD solid blues, Adam dashed oranges, the post's LM (its
    lstsq cutoff) dotted greys, one shade per run; other second-order methods bold and solid."""
    name = spec.split("[", 1)[0]
    family = "post-lm" if "kron" in spec or "rcond=machine" in spec else name
    k = index.setdefault(family, 0)
    index[family] += 1
    shades = {"gd": (["#9ecae1", "#4292c6", "#2171b5", "#08306b"], "-", 1.5),
              "adam": (["#fdae6b", "#fd8d3c", "#e6550d", "#a63603"], "--", 1.5),
              "post-lm": (["0.6", "0.3", "0.45", "0.15"], ":", 2),
              "gauss-newton": (["#238b45", "#74c476"], "-", 2.5), "lm": (["#7a0177"], "-", 2.5),
              "kfac": (["#e7298a"], "-", 2.5), "als": (["#a6761d"], "-", 2.5)}
    colors, ls, lw = shades.get(family, (["0.3"], "-", 2.5))
    return styles.next(color=colors[k % len(colors)], ls=ls, lw=lw)


def corrected_figure(rep) -> Figure:
    """Every optimizer's true relative loss (and gradient norm), with second-order methods, the
    closed-form level and the float64 floor."""
    fig = new_figure((12, 8.5))
    ax1, ax2 = fig.subplots(2, 1, sharex=True)
    post = {m.optimizer: r for m, r in rep.post.items()}
    runs = {**{s: post[s] for s in POST_FIRST_ORDER},
            **{s: post[s] for s in POST_GAUSS_NEWTON if s in post},
            **rep.post_lm,
            **{s: r for s, r in rep.extra.items() if s != "closed-form"}}
    index: dict = {}
    styles = Styles()
    # diverging runs climb to ~1e300 before overflowing: show them up to 1e3 x the largest start
    top1 = 1e3 * max(float(r.relative_losses[0]) for r in runs.values())
    top2 = 1e3 * max(float(r.grad_norms[0]) for r in runs.values())
    for spec, r in runs.items():
        kw = _style_for(spec, index, styles)
        rel = np.asarray(r.relative_losses)
        finite = np.isfinite(rel)
        label = spec + ("  (post's cutoff)" if "rcond=machine" in spec else "")
        if r.diverged:
            label += f"  diverged at step {r.divergence_step}"
        x, y = _thin(rel[finite])
        ax1.plot(x, y, label=label, **kw)
        xg, g = _thin(np.asarray(r.grad_norms)[finite])
        ax2.plot(xg, g, **kw)
        if r.diverged:
            last = int(np.flatnonzero(finite)[-1])
            ax1.plot([last], [min(rel[last], top1)], marker="X", ms=10, color=kw["color"], ls="none",
                     clip_on=False)
            ax2.plot([last], [min(r.grad_norms[last], top2)], marker="X", ms=10, color=kw["color"],
                     ls="none", clip_on=False)
    closed = rep.extra.get("closed-form")
    if closed is not None and not closed.diverged:
        level = max(closed.relative_loss, 1e-300)
        ax1.axhline(level, color="k", ls="-.", lw=1.2, label=f"closed form, one solve ({level:.1e})")
    floor = float(np.finfo(np.float64).eps ** 2)
    ax1.axhspan(floor / 1e3, floor, color="0.85", zorder=0)
    ax1.axhline(floor, color="0.35", lw=1, label=f"float64 floor, eps² = {floor:.1e}")
    ax1.axhline(POST_LM_LEVEL, color="tab:red", lw=0.8, ls=(0, (1, 3)),
                label="the post's apparent LM floor, 1e-8")
    ax1.axvline(rep.steps, color="0.6", lw=0.8, ls="--")
    for ax in (ax1, ax2):
        ax.set_yscale("log")
        ax.set_xscale("symlog", linthresh=10, linscale=0.5)
        ax.grid(True, which="major", alpha=0.4)
    ax1.set_xlim(0, max(len(r.losses) for r in runs.values()))
    ax1.set_ylim(floor / 30, top1)
    ax2.set_ylim(None, top2)
    ax1.set_ylabel("relative loss  L / ||Y||²  (the true loss)")
    ax2.set_ylabel("gradient norm")
    ax2.set_xlabel("iteration")
    ax1.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    fig.suptitle(f"Corrected: the true loss of every optimizer (seed {rep.seed}); "
                 f"second-order methods reach the float64 floor", fontsize=12)
    return fig


# -- what the post leaves out ---------------------------------------------------------------------

def balanced_figure(rep) -> Figure:
    """GD from the post's initialisation against a balanced factorisation of the same product."""
    fig = new_figure((10, 5.5))
    ax = fig.subplots()
    colors = ["#4292c6", "#e6550d", "#31a354", "#756bb1"]
    for (spec, pair), color in zip(rep.balanced.by("optimizer").items(), colors):
        for key, ls, what in (("post", "-", "post's init"), ("balanced", "--", "balanced init")):
            r = pair.one(start=key)
            rel = np.asarray(r.relative_losses)
            rel = rel[np.isfinite(rel)]
            end = "diverged" if r.diverged else f"{r.relative_loss:.1e}"
            ax.semilogy(*_thin(rel), color=color, ls=ls, lw=2, label=f"{spec}, {what} → {end}")
    p = rep.problem
    post_gd = rep.balanced.select(optimizer="gd[lr=1e-05]", start="post")
    drift = imbalance_drift(p, post_gd.one()) if post_gd else math.nan
    ax.set_xlabel("iteration")
    ax.set_ylabel("relative loss")
    ax.grid(True, alpha=0.4)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(f"Same initial product W1 W2, balanced factors (W1ᵀW1 = W2W2ᵀ): GD's plateau is the "
                 f"initialisation (seed {rep.seed})\n"
                 f"along GD from the post's init, ||W1ᵀW1 − W2W2ᵀ|| changes by {drift:.1%} (conserved by "
                 "gradient flow)", fontsize=10)
    return fig


def long_gd_figure(rep) -> Figure:
    """GD run on to relative loss 1e-12, the post's budget shaded, predicted step counts marked."""
    info = rep.long_info
    fig = new_figure((10, 5.5))
    ax = fig.subplots()
    rel = np.asarray(rep.long.relative_losses)
    ax.semilogy(*_thin(rel), color="#2171b5", lw=2, label=f"{info['optimizer']} (seed {rep.seed})")
    ax.axvspan(0, info["stall_steps"], color="tab:red", alpha=0.12,
               label=f"the post's budget, {info['stall_steps']:,} steps")
    ax.axhline(info["target"], color="0.3", lw=1, ls=":", label=f"target {info['target']:g}")
    if info["reached"]:
        ax.axvline(info["steps"], color="#2171b5", lw=1, ls="-.", label=f"reached after {info['steps']:,} steps")
    top = max(len(rel), 1)
    for key, color, text in (
            ("predicted_steps", "k", "predicted from the curvature at the minimum: (1 − lr·λmin)² per step"),
            ("extrapolated_steps", "tab:orange", "extrapolated from the post's own curve (steps {}–{})".format(
                *info["extrapolated_from"]))):
        value = info.get(key)
        if value is not None and math.isfinite(value):
            ax.axvline(value, color=color, lw=1.5, ls="--", label=f"{text}: {value:,.0f}")
            top = max(top, value)
    ax.set_xlim(0, top * 1.05)
    ax.set_xlabel("iteration")
    ax.set_ylabel("relative loss")
    ax.grid(True, alpha=0.4)
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=2)
    ax.set_title(f"GD is slow, not stuck: the curvature where it stalls has condition number "
                 f"{info['stall_curvature_cond']:.1e}", fontsize=11)
    return fig


def nsamples_figure(rep) -> Figure:
    """GD at the same per-sample step for each sample size, and its relative loss against nsamples."""
    fig = new_figure((12, 5))
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[3, 2])
    by_n = {m.nsamples: r for m, r in rep.samples.items()}
    sizes = [n for n in by_n if n]
    cmap = ["#c6dbef", "#6baed6", "#2171b5", "#08306b", "#000000"]
    for n, color in zip(sizes, cmap):
        r = by_n[n]
        rel = np.asarray(r.relative_losses)
        ax1.semilogy(*_thin(rel[np.isfinite(rel)]), color=color, lw=2,
                     label=f"nsamples = {n:,}, {r.optimizer}")
    expected = by_n.get(0)
    if expected is not None:
        rel = np.asarray(expected.relative_losses)
        ax1.semilogy(*_thin(rel[np.isfinite(rel)]), color="tab:red", ls="--", lw=1.5,
                     label=f"expected loss, {expected.optimizer}")
    ax1.set_xlabel("iteration")
    ax1.set_ylabel("relative loss")
    ax1.grid(True, alpha=0.4)
    ax1.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=2)
    finals = [by_n[n].relative_loss for n in sizes]
    ax2.loglog(sizes, [f if f is not None else np.nan for f in finals], "o-", color="#2171b5",
               label=f"after {rep.steps} steps")
    if expected is not None and expected.relative_loss is not None:
        ax2.axhline(expected.relative_loss, color="tab:red", ls="--", label="expected loss")
    ax2.set_xlabel("nsamples")
    ax2.set_ylabel(f"relative loss after {rep.steps} steps")
    ax2.grid(True, which="both", alpha=0.3)
    vals = [f for f in finals if f] + ([expected.relative_loss] if expected and expected.relative_loss else [])
    if vals:
        lo, hi = min(vals), max(vals)
        ax2.set_ylim(lo / 10, hi * 10)
        ax2.set_title(f"spread max/min = {hi / lo:.2f}", fontsize=10)
    ax2.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    fig.suptitle("More samples don't help: the same per-sample step (lr × 1000 / nsamples) gives the "
                 "same curve", fontsize=11)
    return fig


def kappa_figure(rep) -> Figure:
    """kappa(A) of the post's construction for each seed, against the 1e5 the post claims."""
    fig = new_figure((10, 4.5))
    ax = fig.subplots()
    seeds = list(rep.kappas)
    values = np.array([rep.kappas[s] for s in seeds])
    ax.bar([str(s) for s in seeds], values, color="#6baed6", label="kappa(A), the post's construction")
    ax.axhline(POST_KAPPA_CLAIMED, color="tab:red", lw=2, label="the post's claim, kappa = 1e5")
    ax.axhline(np.median(values), color="k", lw=1, ls="--", label=f"median {np.median(values):.1f}")
    ax.set_yscale("log")
    ax.set_ylim(1, POST_KAPPA_CLAIMED * 5)
    ax.set_xlabel("seed")
    ax.set_ylabel("condition number of A")
    ax.grid(True, axis="y", alpha=0.4)
    ax.legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(f"A = linspace(1, 1e-5, 10)[:, None] * rand(10, 6) scales one row by 1e-5: "
                 f"kappa(A) between {values.min():.0f} and {values.max():.0f}, not 1e5", fontsize=10)
    return fig


#: the family's figures: {name: what it shows}
FIGURES = {
    "corrected-figure": "the true relative loss of every optimizer, second-order methods, floors",
    "balanced-init": "GD from the post's initialisation and from a balanced one",
    "long-gd": "GD run to relative loss 1e-12, with the predicted step count",
    "nsamples": "GD at the same per-sample step for 1e2 ... 1e5 samples and the expected loss",
    "kappa": "kappa(A) of the post's construction over seeds, against the 1e5 it claims",
}

DRAW = {
    "corrected-figure": corrected_figure,
    "balanced-init": balanced_figure,
    "long-gd": long_gd_figure,
    "nsamples": nsamples_figure,
    "kappa": kappa_figure,
}


def draw(rep) -> dict:
    """{name: Figure} of the family, from a Reproduction."""
    return {name: fn(rep) for name, fn in DRAW.items()}
