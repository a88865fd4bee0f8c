"""The sweep family: figures from a sweep's table (the folder ``linnet sweep --out DIR`` wrote,
read by :func:`linnet.sweeps.store.load`): a column against one parameter, and performance profiles.
Drawn by ``linnet plot DIR`` and by ``linnet figures sweep --sweep DIR``.

* :func:`plot_metric`: the median of ``y`` over the members sharing ``x`` and ``hue`` (e.g. over
  seeds), with a band from the 25th to the 75th percentile; an axis is logarithmic where its
  positive values span two decades or more. The median is over the members with a value (a
  steps-to-target column is empty where a member never reached the target); where no member has
  one, the x value carries a hollow 'not reached' triangle at the top of the axes. On log-log
  axes the legend gives each line's fitted exponent p of ``y ~ x^p`` (:func:`loglog_slopes`).
* :func:`plot_profile`: Dolan & More (2002), "Benchmarking optimization software with performance
  profiles", Math. Program. 91: for each problem p and solver s, the cost t_ps (steps
  or seconds to the target; infinite where not reached), the ratio r_ps = t_ps / min_s t_ps, and
  rho_s(tau) = |{p : r_ps <= tau}| / |problems|, the fraction of problems s solves within a factor
  tau of the best.
"""

from __future__ import annotations

import numpy as np

from linnet.core.errors import LinnetError
from linnet.problems.families import PARAMETERS
from linnet.reports.figures.style import LINESTYLES, PALETTE, Styles, new_figure, not_reached
from linnet.sweeps.grid import target_column


def _column(df, name: str):
    if name not in df.columns:
        raise LinnetError(f"no column {name!r} in the sweep's table; columns: {', '.join(df.columns)}")
    return df[name]


def _spans_decades(values) -> bool:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return v.size > 1 and v.max() / v.min() >= 100


def _table(df, x: str, y: str, hue: str):
    for name in (x, y, hue):
        _column(df, name)
    data = df[[x, y, hue]].astype({y: float}).dropna(subset=[x])
    if data.empty:
        raise LinnetError("the sweep's table has no rows to plot")
    return data


def loglog_slopes(df, x: str, y: str, hue: str = "optimizer") -> dict:
    """{hue value: least-squares slope of log10(median y) against log10(x)}, over the x values
    whose median y is finite and positive (NaN where fewer than two are): the exponent p of
    y ~ x^p, e.g. steps to a target against kappa."""
    out = {}
    for label, part in _table(df, x, y, hue).groupby(hue, sort=True):
        med = part.groupby(x)[y].median()
        med = med[(med > 0) & np.isfinite(med) & (med.index.to_numpy(dtype=float) > 0)]
        out[str(label)] = (float(np.polyfit(np.log10(med.index.to_numpy(dtype=float)), np.log10(med.to_numpy()), 1)[0])
                           if len(med) >= 2 else float("nan"))
    return out


def plot_metric(df, x: str, y: str, hue: str = "optimizer", ax=None):
    """Median and quartile band of ``y`` against ``x``, one line per value of ``hue``; x values
    where the median is not finite are marked 'not reached'; on log-log axes each legend entry
    gives the fitted exponent p of y ~ x^p. Returns the axes."""
    data = _table(df, x, y, hue)
    logx = _spans_decades(data[x])
    logy = _spans_decades(data[y])
    slopes = loglog_slopes(df, x, y, hue) if logx and logy else {}
    ax = ax if ax is not None else new_figure((6.5, 4.5)).subplots()
    styles = Styles()
    for label, part in data.groupby(hue, sort=True):
        stats = part.groupby(x)[y].quantile([0.25, 0.5, 0.75]).unstack()
        kw = styles.next(ls="-", marker="o")
        median = stats[0.5].to_numpy(dtype=float)
        reached = np.isfinite(median)
        slope = slopes.get(str(label), float("nan"))
        text = f"{label}: p = {slope:.2f}" if np.isfinite(slope) else str(label)
        if reached.any():
            ax.plot(stats.index[reached], median[reached], label=text, **kw)
            # float arrays, not Series: matplotlib 3.7.0 cannot mask a pandas 2.0 Series
            lo, hi = stats[0.25].to_numpy(dtype=float), stats[0.75].to_numpy(dtype=float)
            ax.fill_between(stats.index, lo, hi, color=kw["color"], alpha=0.2)
        if not reached.all():
            not_reached(ax, stats.index[~reached], str(label) if not reached.any() else f"{label}, median",
                        kw["color"])
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(f"{y} (median, 25-75%)")
    title = f"{hue}: p is the log-log slope, {y} ~ {x}^p" if slopes else hue
    ax.legend(title=title, fontsize="small", title_fontsize="small")
    return ax


def profile_costs(df, metric: str = "steps", target: float = 1e-10):
    """The cost matrix of a performance profile: a DataFrame, one row per problem, one column per
    optimizer; ``metric`` "steps" (steps to the target) or "seconds" (the run's seconds scaled to
    the steps to the target); NaN where not reached."""
    steps = _column(df, target_column(target)).astype(float)
    if metric == "steps":
        cost = steps
    elif metric == "seconds":
        cost = df["seconds"] * steps / df["steps"].clip(lower=1)
    else:
        raise LinnetError(f"a performance profile measures steps or seconds, not {metric!r}")
    problem = [k for k in PARAMETERS if k in df.columns and df[k].notna().any()]
    key = df[problem].astype(str).agg("|".join, axis=1)  # one problem per parameter combination
    table = df.assign(_cost=cost, _problem=key).pivot_table(index="_problem", columns="optimizer", values="_cost",
                                                            aggfunc="first", dropna=False)
    return table.dropna(how="all")


def profile_curves(costs, taus=None) -> tuple[np.ndarray, dict]:
    """rho_s(tau) for each optimizer (column) of ``costs`` (Dolan & More 2002, eq. 1).

    Returns (taus, {optimizer: fractions}); a problem no optimizer solves counts against all.
    """
    t = np.asarray(costs, dtype=float)
    t = np.where(np.isfinite(t), t, np.inf)
    best = t.min(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(np.isfinite(t), t / np.where(best > 0, best, 1.0), np.inf)
    ratio = np.where((t == best) & np.isfinite(t), 1.0, ratio)  # includes best == 0 (solved at the start)
    finite = ratio[np.isfinite(ratio)]
    if taus is None:
        taus = np.geomspace(1.0, max(2.0, finite.max() * 1.05 if finite.size else 2.0), 200)
    curves = {str(name): (ratio[:, j][:, None] <= taus[None, :]).mean(axis=0) for j, name in enumerate(costs.columns)}
    return taus, curves


def plot_profile(df, metric: str = "steps", target: float = 1e-10, ax=None):
    """The performance profile of the sweep's optimizers; returns the axes (:func:`draw_profile`)."""
    costs = profile_costs(df, metric, target)
    if costs.empty:
        raise LinnetError("the sweep's table has no problems to profile")
    return draw_profile(costs, metric, target, ax=ax)


def draw_profile(costs, metric: str = "steps", target: float = 1e-10, ax=None):
    """The performance profile of a cost table (one row per problem, one column per optimizer, as
    :func:`profile_costs` makes); returns the axes. Lines that sit at 0 or 1 are drawn over the
    axes' edge (not clipped, the axes offset a little past them), and each optimizer has its own
    colour and line style, so lines on top of each other both show."""
    taus, curves = profile_curves(costs)
    ax = ax if ax is not None else new_figure((6.5, 4.5)).subplots()
    styles = Styles()
    for i, (name, rho) in enumerate(curves.items()):
        ax.step(taus, rho, where="post", label=name, clip_on=False, lw=1.8,
                **styles.next(color=PALETTE[i % len(PALETTE)], ls=LINESTYLES[i % len(LINESTYLES)]))
    ax.set_xscale("log", base=2)
    ax.set_xlim(taus[0], taus[-1])
    ax.set_ylim(-0.03, 1.03)
    ax.spines[["left", "bottom"]].set_position(("outward", 4))
    ax.set_xlabel(f"tau (within a factor tau of the best, {metric} to relative {target:g})")
    ax.set_ylabel(f"fraction of {len(costs)} problems")
    ax.legend(fontsize="small")
    return ax


def draw(df, specs=(), target: float = 1e-10) -> dict:
    """{name: Figure} for a sweep's table: one figure per (x, y, hue) in ``specs``, named Y-vs-X,
    and the steps and seconds performance profiles to ``target`` (profile-steps, profile-seconds)."""
    out = {}
    for x, y, hue in specs:
        fig = new_figure((6.5, 4.5))
        plot_metric(df, x, y, hue, ax=fig.subplots())
        out[f"{y}-vs-{x}"] = fig
    for metric in ("steps", "seconds"):
        fig = new_figure((6.5, 4.5))
        plot_profile(df, metric, target, ax=fig.subplots())
        out[f"profile-{metric}"] = fig
    return out
