"""The post family: the post's two figures, drawn as the post drew them, from a
:class:`linnet.reports.reproduction.Reproduction` (the post's runs on seed 0 by default,
:func:`linnet.reports.reproduction.compute`).

* ``post-figure``: its 8 first-order runs (GD and Adam at 4 rates each, 3000 steps), loss and
  gradient magnitude per iteration;
* ``post-figure-with-lm``: the same runs and its 'LM' for the first 190 steps, whose curve is
  ``np.sum(Yhat - Y)**2`` (the square of the residuals' sum), not the loss.

Both are drawn by :func:`_plot_nets`, a port of the post's ``plot_nets`` that keeps its look:
seaborn's darkgrid style, figsize (15, 10), GD solid and Adam dashed, the first LM run thick and
black. What differs, for the reader: every run has its own colour (in the post GD and Adam runs
shared colours and differed only by dash) and keeps it in both panels; a diverged run is drawn up
to its last finite loss and marked there with an ``x`` (the post drew a single point at its first
loss); the post's LM recorded no gradient magnitudes, so its runs are named in the lower legend's
title instead of as entries that draw nothing; the legends sit outside the axes; both x axes are
labelled.
"""


from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from linnet.claims.post.constants import POST_FIRST_ORDER
from linnet.optimizers.spec import parse
from linnet.reports.figures.style import PALETTE, Styles, new_figure

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn, not with the command line
    from matplotlib.figure import Figure

#: the post's figure: figsize (15, 10), its proportions and font sizes; at DPI 2250 x 1500 pixels
POST_FIGSIZE = (15, 10)
#: the shared palette without black, which the post gives its first LM run
POST_PALETTE = tuple(c for c in PALETTE if c != "#000000")
#: the post's second figure shows the first 190 iterations (its ``plot_nets(nets + nets_lm, 191)``)
POST_LM_SHOW = 191


class _Net:
    """What the post's ``plot_nets`` reads from a net: name, losses, gradient_magnitudes, plot_kwargs."""

    def __init__(self, name, losses, gradient_magnitudes, plot_kwargs=None):
        self.name = name
        self.losses = list(losses)
        self.gradient_magnitudes = list(gradient_magnitudes)
        self.plot_kwargs = plot_kwargs or {}


def post_net(result, steps: int) -> _Net:
    """A first-order Result as the post's net: its loop records the loss *before* each of its
    ``steps`` updates and stops after the first non-finite one."""
    opt = parse(result.optimizer)
    name = ("GD step=%g" if opt.name == "gd" else "ADAM step=%g") % opt.lr
    n = min(len(result.losses), steps)
    return _Net(name, result.losses[:n], result.grad_norms[:n], {"ls": "--"} if opt.name == "adam" else {})


def post_lm_net(result, steps: int, first: bool) -> _Net:
    """A Gauss-Newton Result as the post's LevenbergMarquardt: losses are its ``post_metric``
    trace (sum(r)**2); gradient_magnitudes stays empty, as in the post."""
    name = f"LM step={parse(result.optimizer).step:g}"
    metric = np.asarray(result.traces["post_metric"])[:steps]
    kwargs = {"lw": 5, "color": "k", "alpha": 0.8} if first else {}
    return _Net(name, metric, [], kwargs)


def _plot_nets(fig, nets, show_to_max=-1):
    """The post's ``plot_nets``, on ``fig`` (the differences are in the module docstring)."""
    ax1 = fig.add_subplot(2, 1, 1)
    ax2 = fig.add_subplot(2, 1, 2)
    styles = Styles(POST_PALETTE)  # one colour per run; GD solid and Adam dashed, as the post
    no_gradients = []
    for net in nets:
        kwargs = {**styles.next(ls=net.plot_kwargs.get("ls", "-"), color=net.plot_kwargs.get("color")),
                  **net.plot_kwargs}
        show_to = -1 if show_to_max > len(net.losses) else show_to_max
        losses = np.asarray(net.losses, dtype=float)
        if not net.gradient_magnitudes:
            no_gradients.append(net.name)
        if len(losses) and np.isfinite(losses[show_to]):
            ax1.semilogy(losses[:show_to], label=net.name, **kwargs)
            if net.gradient_magnitudes:
                ax2.semilogy(net.gradient_magnitudes[:show_to], label=net.name, **kwargs)
            continue
        finite = int(np.argmin(np.isfinite(losses))) if len(losses) else 0  # first non-finite loss
        label = f"(diverged at step {finite}) {net.name}"
        for ax, values in ((ax1, losses), (ax2, np.asarray(net.gradient_magnitudes, dtype=float))):
            # drawn until it first passes 1e3 x its start (diverging runs climb to ~1e300), that
            # point clipped to 1e4 x its start, and marked there
            values = values[:finite]
            cap = 1e3 * values[0] if len(values) else np.inf
            end = int(np.argmax(values > cap)) + 1 if np.any(values > cap) else len(values)
            shown = np.minimum(values[:end], 10 * cap)
            ax.semilogy(shown, label=label, **kwargs)
            if end:
                ax.semilogy([end - 1], [shown[-1]], marker="x", ms=14, mew=3, ls="none", color=kwargs["color"])
    for ax, ylabel in ((ax1, "Loss"), (ax2, "Gradient magnitude")):
        title = (f"no gradient recorded (as in the post):\n{', '.join(no_gradients)}"
                 if ax is ax2 and no_gradients else None)
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), title=title)
        ax.set_ylabel(ylabel)
        ax.set_xlabel("iteration")
    return ax1, ax2


def post_figure(rep) -> Figure:
    """The post's first figure: its 8 first-order runs, loss and gradient magnitude."""
    from matplotlib import style as mpl_style

    with mpl_style.context("seaborn-v0_8"):
        fig = new_figure(POST_FIGSIZE)
        nets = [post_net(rep.post.one(optimizer=s), rep.steps) for s in POST_FIRST_ORDER]
        _plot_nets(fig, nets, -1)
        fig.suptitle(f"The post's figure, reproduced (seed {rep.seed}, {rep.backend} backend)", fontsize=13)
    return fig


def post_figure_with_lm(rep) -> Figure:
    """The post's second figure: the same runs and its 'LM' (its sum(r)**2), first 190 steps."""
    from matplotlib import style as mpl_style

    with mpl_style.context("seaborn-v0_8"):
        fig = new_figure(POST_FIGSIZE)
        nets = [post_net(rep.post.one(optimizer=s), rep.steps) for s in POST_FIRST_ORDER]
        nets += [post_lm_net(r, rep.gn_steps, i == 0) for i, r in enumerate(rep.post_lm.values())]
        ax1, _ = _plot_nets(fig, nets, POST_LM_SHOW)
        ax1.set_yticks(10 ** np.linspace(-14, 6, 7))
        fig.suptitle(f"The post's figure with its LM, reproduced (seed {rep.seed}): "
                     "the LM curves are sum(r)**2, not the loss", fontsize=13)
    return fig


#: the family's figures: {name: what it shows}
FIGURES = {
    "post-figure": "the post's first figure: GD and Adam, 3000 steps, loss and gradient magnitude",
    "post-figure-with-lm": "the post's second figure: the first 190 steps with its LM (sum(r)**2)",
}


def draw(rep) -> dict:
    """{name: Figure} of the family, from a Reproduction."""
    return {"post-figure": post_figure(rep), "post-figure-with-lm": post_figure_with_lm(rep)}
