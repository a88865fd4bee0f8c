"""The figure of the post's claims at depth (:mod:`linnet.claims.post.at_depth`), a 150 dpi PNG; written by
:func:`linnet.reports.figures.deep.write_all`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from linnet.claims.post import at_depth as ad
from linnet.core.files import save_png

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
            for spec, of_spec in ad.first_order_runs(depth, width, seeds).by("optimizer").items():
                panel = "gd, post's 4 rates" if spec.startswith("gd") else "adam, post's 4 rates"
                panels[panel] += [(x, j, DIVERGED_AT if r.diverged else r.relative_loss) for r in of_spec.values()]
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
    return save_png(fig, path)
