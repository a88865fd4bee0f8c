"""The deep family: figures of the deep-linear-network claims (:mod:`linnet.claims.literature.dynamics`,
:mod:`~linnet.claims.literature.margin`, :mod:`~linnet.claims.literature.narrow`,
:mod:`~linnet.claims.literature.width`) and of the post's claims at depth
(:mod:`linnet.claims.post.at_depth`). Each figure makes its own runs, with the
settings of the claim it draws.

* ``preconditioner``: the error of Theorem 1's end-to-end update against the step size (Arora,
  Cohen & Hazan 2018), balanced and Gaussian starts, depths 3 and 6;
* ``identity_init``: GD from the identity on SPD targets and on targets with a negative eigenvalue
  (Bartlett, Helmbold & Long 2018), five seeds;
* ``modes``: the strength of each mode of A along GD from a small start (Saxe et al. 2014);
* ``deficiency_margin``: GD from balanced starts with and without a deficiency margin, and the
  bound (Arora, Cohen, Golowich & Hu 2019);
* ``depth_growth``: GD steps to the target against depth, narrow and wide (Shamir 2019);
* ``width``: GD steps to the target against the hidden width (Du & Hu 2019);
* ``post_claims_at_depth``: the post's methods' final losses against depth.

``seeds`` sets the seeds of the margin, depth and width figures (20 for docs/figures/deep),
``post_seeds`` those of the post-claims figure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from linnet.claims.literature import dynamics as dc
from linnet.claims.literature import margin as deep_margin
from linnet.claims.literature import narrow as deep_narrow
from linnet.claims.literature import width as deep_width
from linnet.claims.post import at_depth as ad
from linnet.problems.families import post_problem
from linnet.reports.figures.style import Styles, new_figure, save
from linnet.runs.batched import run_batched
from linnet.runs.loop import run

#: the post-claims figure draws a diverged run's final loss at this level
DIVERGED_AT = 1e10

#: the family's figures: {name: what it shows}
FIGURES = {
    "preconditioner": "Arora, Cohen & Hazan 2018, Thm 1: error of the end-to-end update against the step",
    "identity_init": "Bartlett, Helmbold & Long 2018: GD from the identity, SPD and negative targets",
    "modes": "Saxe, McClelland & Ganguli 2014: modes learned one at a time",
    "deficiency_margin": "Arora et al. 2019: GD with and without a deficiency margin, and the bound",
    "depth_growth": "Shamir 2019: GD steps to the target against depth",
    "width": "Du & Hu 2019: GD steps to the target against the hidden width",
    "post_claims_at_depth": "the post's claims at depths 3-6: final losses of gd, adam, lm, gauss-newton",
}


def preconditioner_figure(seed: int = 0):
    """Error of Theorem 1's end-to-end update against the step size, balanced and Gaussian starts."""
    fig = new_figure((5, 4))
    ax = fig.subplots()
    styles = Styles()
    for depth, ls in ((3, "-"), (6, "--")):
        for init, color in (("balanced", "#0072B2"), ("gaussian", "#D55E00")):
            errors = dc.preconditioner_errors(post_problem(seed, depth=depth, init=init))
            slope = dc.fitted_slope(dc.PRECONDITIONER_RATES, errors)
            ax.loglog(dc.PRECONDITIONER_RATES, errors, ms=3, label=f"depth {depth}, {init}: log-log slope {slope:.3f}",
                      **styles.next(color=color, ls=ls, marker="o"))
    ax.set_xlabel("relative step size t (lr = t ||P|| / ||F||)")
    ax.set_ylabel("||P(step) - (P - lr F)||_F")
    ax.set_title("Arora, Cohen & Hazan 2018, Thm 1")
    ax.legend(fontsize=7)
    return fig


def identity_figure(seeds=range(5)):
    """Relative loss of GD from the identity: SPD targets against a target with a negative eigenvalue."""
    fig = new_figure((5, 4))
    ax = fig.subplots()
    styles = Styles()
    spec = f"gd[lr={dc.IDENTITY_LR!r}]"
    for negative in (False, True):
        kw = styles.next()
        for i, seed in enumerate(seeds):
            r = run(dc.symmetric_target_problem(seed, negative=negative), spec, dc.IDENTITY_STEPS)
            rel = np.asarray(r.losses) / r.problem_info["y_norm2"]
            what = "negative eigenvalue" if negative else "positive definite"
            label = f"{what} ({len(seeds)} seeds)" if i == 0 else "_"
            ax.semilogy(rel, lw=0.8, label=label, **kw)
    ax.axhline(dc.IDENTITY_CONVERGED, color="0.5", ls=":", lw=0.8, label=f"converged, {dc.IDENTITY_CONVERGED:g}")
    ax.set_xlabel("step")
    ax.set_ylabel("relative loss")
    ax.set_title("Bartlett, Helmbold & Long 2018:\nidentity start, depth 3", fontsize=10)
    ax.legend(fontsize=7)
    return fig


def modes_figure(seed: int = 0):
    """Strength of each mode of A along GD from a small start, depth 2 and 3."""
    fig = new_figure((9, 3.6))
    axes = fig.subplots(1, 2)
    for ax, depth in zip(axes, (2, 3)):
        styles = Styles()
        strengths = dc.mode_strengths(dc.saxe_problem(seed, depth), until_learned=False, max_steps=6000)
        for i, s in enumerate(dc.SAXE_SINGULAR_VALUES):
            ax.plot(strengths[:, i] / s, label=f"s = {s:g}", **styles.next())
        ax.set_xlabel("step")
        ax.set_ylabel("u_i^T P v_i / s_i")
        ax.set_title(f"depth {depth}")
        ax.legend(fontsize=7)
    fig.suptitle("Saxe, McClelland & Ganguli 2014: one mode at a time")
    return fig


def margin_figure(seeds=range(20), depth: int = 3):
    """Relative loss of GD from balanced starts with a deficiency margin, the flipped start without
    one, and the bound l(0) exp(-eta c^(2(N-1)/N) t) (Arora, Cohen, Golowich & Hu 2019)."""
    fig = new_figure((5, 4))
    ax = fig.subplots()
    styles = Styles()
    lr = deep_margin.MARGIN_LR
    for flip in (False, True):
        kw = styles.next()
        problems = [deep_margin.margin_problem(s, depth, flip) for s in seeds]
        result = run_batched(problems, f"gd[lr={lr!r}]", 300, history=True)
        rel = result.losses / result.y_norm2
        if not flip:
            start = np.max(rel[0])  # the bound from the margin starts' largest loss
        lines = ax.semilogy(rel, lw=0.6, alpha=0.6, **kw)
        lines[0].set_label(("no margin: one mode flipped" if flip else "margin c = sigma_min / 2")
                           + f" ({len(problems)} seeds)")
    c = deep_margin.MARGIN_FRACTION * np.linalg.svd(problems[0].A, compute_uv=False)[-1]
    t = np.arange(301)
    ax.semilogy(t, start * np.exp(-deep_margin.bound_rate(lr, c, depth) * t), lw=1,
                label="bound exp(-eta c^(2(N-1)/N) t)", **styles.next(color="#000000", ls="--"))
    ax.set_ylim(1e-30, 10)
    ax.set_xlabel("step")
    ax.set_ylabel("relative loss")
    ax.set_title(f"Arora et al. 2019: depth {depth}, lr {lr:g}, {len(list(seeds))} seeds", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def _seed_scatter(ax, xs, steps: dict, budget, color):
    """One dot per seed; a seed that never reaches the target is drawn at the budget."""
    for x in xs:
        st = np.asarray(steps[x], dtype=float)
        ax.scatter(np.full(len(st), x), np.where(st >= 0, st, budget), s=6, color=color, alpha=0.35,
                   marker="o", linewidths=0)


def depth_growth_figure(seeds=range(20)):
    """Steps to the target against depth: width 1 from N(0, 1) and width 8 from fan-in (Shamir 2019)."""
    fig = new_figure((5, 4))
    ax = fig.subplots()
    styles = Styles()
    for width, init, color in ((1, "gaussian", "#D55E00"), (8, "fan-in", "#0072B2")):
        m = deep_narrow.measure_depth_growth(seeds, width=width, init=init)
        kw = styles.next(color=color, ls="-", marker="o")
        _seed_scatter(ax, m["depths"], m["steps"], m["budget"], color)
        ax.semilogy(m["depths"], m["medians"], label=f"width {width}, {init}: median, rate {m['rate']:.3f} per layer",
                    **kw)
    ax.axhline(deep_narrow.NARROW_BUDGET, color="0.5", ls=":", lw=0.8, label="budget (seeds here: not reached)")
    ax.set_xlabel("depth N")
    ax.set_ylabel(f"GD steps to relative loss {deep_narrow.NARROW_TARGET:g}")
    ax.set_title(f"Shamir 2019: lr {deep_narrow.NARROW_LR:g}")
    ax.legend(fontsize=7)
    return fig


def width_figure(seeds=range(20)):
    """Steps to the target against the hidden width from Du & Hu's scaled N(0, 1) start, depths 3 and 4."""
    fig = new_figure((5, 4))
    ax = fig.subplots()
    styles = Styles()
    for depth, color in ((3, "#009E73"), (4, "#0072B2")):
        m = deep_width.measure_width(seeds, depth=depth)
        _seed_scatter(ax, m["widths"], m["steps"], deep_width.WIDTH_BUDGET, color)
        ax.loglog(m["widths"], m["medians"], label=f"depth {depth}: median", **styles.next(color=color, ls="-",
                                                                                           marker="o"))
    ax.axhline(np.median(m["limit_steps"]), lw=0.8, label="infinite-width limit",
               **styles.next(color="#000000", ls="--"))
    ax.set_xscale("log", base=2)
    ax.set_xlabel("hidden width m")
    ax.set_ylabel(f"GD steps to relative loss {deep_width.WIDTH_TARGET:g}")
    ax.set_title("Du & Hu 2019: width matters")
    ax.legend(fontsize=7)
    return fig


def post_claims_figure(seeds=ad.SEEDS):
    """Final relative loss of the post's methods against depth (2 = the post), widths rank and 4 x rank.

    Panels: gd and adam at the post's 4 rates each after 3000 steps (claim 1; diverged runs drawn
    at DIVERGED_AT), lm and gauss-newton[step=0.5] after DEPTH_BUDGETS[depth] iterations (claim 2).
    """
    panels = {"gd, post's 4 rates": [], "adam, post's 4 rates": []}
    panels.update({spec: [] for spec in ad.DEPTH_SECOND_ORDER})
    depths = (2, *ad.DEPTHS)
    for x, depth in enumerate(depths):
        for j, width in enumerate(ad.WIDTHS):
            for spec, of_spec in ad.first_order_runs(depth, width, seeds).by("optimizer").items():
                panel = "gd, post's 4 rates" if spec.startswith("gd") else "adam, post's 4 rates"
                panels[panel] += [(x, j, DIVERGED_AT if r.diverged else r.relative_loss) for r in of_spec.values()]
            for spec in ad.DEPTH_SECOND_ORDER:
                panels[spec] += [(x, j, r.relative_loss) for r in ad.second_order_at_depth(depth, width, spec,
                                                                                           seeds).values()]
    fig = new_figure((14, 3.8))
    axes = fig.subplots(1, 4, sharey=True)
    jitter = np.random.RandomState(0)
    for ax, (title, points) in zip(axes, panels.items()):
        styles = Styles()
        for j, width in enumerate(ad.WIDTHS):
            xs = [x + 0.2 * (j - 0.5) + 0.05 * jitter.randn() for x, jj, _ in points if jj == j]
            ys = [max(y, 1e-33) for _, jj, y in points if jj == j]
            ax.semilogy(xs, ys, ms=2.5, alpha=0.6, label=f"width {width} ({ad.WIDTH_FACTORS[j]}x rank)",
                        **styles.next(ls="none", marker="o"))
        level = 1e-6 if "post" in title else ad.DEPTH_TARGET
        ax.axhline(level, color="0.4", ls=":", lw=0.8)
        ax.axhline(DIVERGED_AT, color="#D55E00", ls="-", lw=0.4)
        ax.set_xticks(range(len(depths)), [str(d) for d in depths])
        ax.set_xlabel("depth")
        ax.set_title(title, fontsize=9)
    axes[0].set_ylabel(f"final relative loss (diverged: {DIVERGED_AT:g})")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"The post's claims at depth: seeds {min(seeds)}-{max(seeds)}, Gaussian start "
                 "(dotted: 1e-6 for claim 1, 1e-24 for claim 2)", fontsize=10)
    return fig


def draw(seeds=range(20), post_seeds=ad.SEEDS) -> dict:
    """{name: Figure} of the family; ``seeds`` for the margin, depth and width figures, ``post_seeds``
    for the post-claims figure."""
    return {"preconditioner": preconditioner_figure(),
            "identity_init": identity_figure(),
            "modes": modes_figure(),
            "deficiency_margin": margin_figure(seeds),
            "depth_growth": depth_growth_figure(seeds),
            "width": width_figure(seeds),
            "post_claims_at_depth": post_claims_figure(post_seeds)}


def write_all(directory, seeds=range(20), post_seeds=ad.SEEDS, force: bool = True) -> list[Path]:
    """Every figure of the family into ``directory`` as PNGs; returns their paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return [save(fig, directory / f"{name}.png", force=force) for name, fig in draw(seeds, post_seeds).items()]
