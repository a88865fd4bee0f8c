"""``python -m linnet reproduce``: the post's figure, reproduced and corrected, with the numbers.

One call of :func:`compute` makes every run the figures need (the run functions and thresholds are
those of :mod:`linnet.claims`, so the report shows what the benchmarks assert); :func:`summarize`
turns them into plain numbers; :func:`write_report` draws the figures (:mod:`linnet.reports.figures`)
and writes them, ``summary.json`` and ``summary.md`` into a folder, each file atomically and none
over an earlier file without ``force``.

The runs:

* the post's experiment (``claims.post_runs``): 8 first-order runs of ``steps`` on ``backend``,
  and the two Gauss-Newton runs of ``claims.POST_GAUSS_NEWTON`` (numpy);
* the post's "LM" as it ran: ``gauss-newton[step=S,jacobian=kron,rcond=machine]``, the post's
  Kronecker Jacobian over the samples solved by lstsq with numpy's old cutoff, whose trace
  ``post_metric`` = sum(r)**2 is what the post plotted. Its floor comes from that solve: the old
  cutoff keeps one or two singular values that are rounding noise, and their huge components
  blow up the rounding error of Yhat - Y. With ``faithful_lm=False`` (``--fast-lm``) the
  structured Jacobian is used with the same cutoff: the same curves down to about 1e-8, but no
  floor (about 200x faster per step);
* ``lm``, ``kfac[step=0.5]``, ``als`` and ``closed-form`` for the corrected figure;
* GD from the post's and from a balanced initialisation (``claims.balanced_runs``);
* long GD, ``gd[lr=1e-05]`` to relative loss 1e-12 (``claims.SLOW_*``), with the step count
  predicted from its linear rate;
* GD at the same per-sample step for nsamples 100 ... 1e5 and the expected loss
  (``claims.samples_runs``);
* kappa(A) of the post's construction for seeds 0-19 (``claims.post_kappas``).

The backend option applies to the post's first-order runs (the ones the post ran in TensorFlow);
everything else runs on numpy.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import linnet
from linnet import claims, files
from linnet.errors import LinnetError
from linnet.problems import post_problem
from linnet.run import BACKENDS, check_steps, run

FORMATS = ("png", "svg", "pdf")

#: the second-order runs the corrected figure adds, and their budget (besides the post's two)
EXTRA_SPECS = ("lm", "kfac[step=0.5]", "als", "closed-form")
#: the post's two "LM" step sizes
POST_LM_STEPS = (0.05, 0.2)
#: learning rates compared from the post's and a balanced initialisation
BALANCED_SPECS = ("gd[lr=1e-06]", "gd[lr=1e-05]")
#: sample sizes at the same per-sample step (0 = the expected loss)
SAMPLE_SIZES = (100, 1000, 10_000, 100_000, 0)
KAPPA_SEEDS = tuple(range(20))
#: cap on the long GD run (seed 0 needs about 1.7e5 steps; some seeds need 1e6 or more)
LONG_MAX_STEPS = 1_000_000
#: the float64 floor drawn on the corrected figure: relative loss eps^2
FLOAT64_FLOOR = float(np.finfo(np.float64).eps ** 2)

#: the files a report writes (figures take the chosen format's suffix)
FIGURES = {
    "post-figure": "the post's first figure: GD and Adam, 3000 steps, loss and gradient magnitude",
    "post-figure-with-lm": "the post's second figure: the first 190 steps with its LM (sum(r)**2)",
    "corrected-figure": "the true relative loss of every optimizer, second-order methods, floors",
    "balanced-init": "GD from the post's initialisation and from a balanced one",
    "long-gd": "GD run to relative loss 1e-12, with the predicted step count",
    "nsamples": "GD at the same per-sample step for 1e2 ... 1e5 samples and the expected loss",
    "kappa": "kappa(A) of the post's construction over seeds, against the 1e5 it claims",
}
SUMMARY_FILES = ("summary.json", "summary.md")


def post_lm_spec(step: float, faithful: bool = True) -> str:
    """The post's LM as it ran: Gauss-Newton with numpy's old lstsq cutoff (rcond=-1)."""
    jac = ",jacobian=kron" if faithful else ""
    return f"gauss-newton[step={step!r}{jac},rcond=machine]"


@dataclass
class Reproduction:
    """Every run and measured number behind the report (results are linnet.Result records)."""

    seed: int
    backend: str
    steps: int
    gn_steps: int
    problem: linnet.Problem
    post: dict  #: claims.post_runs: {spec: Result}, 8 first-order + POST_GAUSS_NEWTON
    post_lm: dict  #: {spec: Result} the post's LM as it ran (trace post_metric)
    extra: dict  #: {spec: Result} lm, kfac, als, closed-form
    balanced: dict  #: {spec: {"post": Result, "balanced": Result}}
    long: linnet.Result
    long_info: dict
    samples: dict  #: {nsamples: Result}
    kappas: dict  #: {seed: kappa}
    seconds: dict = field(default_factory=dict)  #: wall time of each stage


def _progress(total: int, desc: str, disable, unit: str = "stage"):
    from tqdm.auto import tqdm

    # disable=None: shown only when stderr is a terminal
    return tqdm(total=total, desc=desc, unit=unit, disable=disable, file=sys.stderr, leave=False)


def long_gd(problem, lr: float = claims.SLOW_LR, target: float = claims.SLOW_TARGET,
            max_steps: int = LONG_MAX_STEPS, stall_steps: int = claims.POST_STEPS,
            stall_result=None, progress=None):
    """GD to ``target`` with its predicted step count. Returns (Result, info dict).

    Two predictions, both from the linear convergence of GD near a minimum (the loss contracts by
    (1 - lr lambda)^2 per step along a curvature eigenvalue lambda, the slowest along lambda_min):

    * ``predicted_steps``: from the post's budget (``stall_steps``) on, at the rate of the
      smallest nonzero Gauss-Newton curvature lambda_min at the minimum GD reaches:
      stall_steps + ln(target / L_stall) / (2 ln(1 - lr lambda_min));
    * ``extrapolated_steps``: the post's own curve, its log-loss slope over the last third of
      its steps continued to the target (uses nothing beyond the post's budget).

    ``time_constant`` is 1 / (lr lambda_min) at the stall (as in ``claims.slow_runs``).
    """
    spec = f"gd[lr={lr!r}]"
    callback = None
    if progress is not None:
        def callback(k, weights, loss):
            if k % 5000 == 0 and k:
                progress.update(5000)
    result = run(problem, spec, max_steps, target=target, callback=callback)
    reached = result.steps_to(target)
    stall = stall_result if stall_result is not None else run(problem, spec, stall_steps)
    stall_curv = claims.gauss_newton_curvature(problem, stall.weights)
    end_curv = claims.gauss_newton_curvature(problem, result.weights)
    lam_end = float(end_curv[-1])
    L_stall = float(stall.relative_loss) if not stall.diverged else math.nan
    rate = 2.0 * math.log1p(-lr * lam_end)  # log loss per step near the minimum
    predicted = stall_steps + math.log(target / L_stall) / rate if rate < 0 else math.inf
    a = (2 * stall_steps) // 3
    slope = (math.log(stall.relative_losses[stall_steps]) - math.log(stall.relative_losses[a])) / (
        stall_steps - a)
    extrapolated = stall_steps + math.log(target / L_stall) / slope if slope < 0 else math.inf
    info = {
        "optimizer": spec,
        "target": target,
        "max_steps": max_steps,
        "reached": reached is not None,
        "steps": reached,
        "relative_loss": result.relative_loss,
        "seconds": result.seconds,
        "stall_steps": stall_steps,
        "stall_relative_loss": L_stall,
        "stall_curvature_min": float(stall_curv[-1]),
        "stall_curvature_cond": float(stall_curv[0] / stall_curv[-1]),
        "time_constant": float(1.0 / (lr * stall_curv[-1])),
        "end_curvature_min": lam_end,
        "end_curvature_cond": float(end_curv[0] / lam_end),
        "predicted_steps": predicted,
        "extrapolated_steps": extrapolated,
        "extrapolated_from": [int(a), int(stall_steps)],
    }
    return result, info


def compute(seed: int = 0, backend: str = "numpy", steps: int = claims.POST_STEPS,
            gn_steps: int = claims.POST_GN_STEPS, long_max_steps: int = LONG_MAX_STEPS,
            faithful_lm: bool = True, progress: bool | None = None) -> Reproduction:
    """Make every run of the report. ``progress``: None = tqdm bars on a terminal, False = none."""
    steps, gn_steps, long_max_steps = check_steps(steps), check_steps(gn_steps), check_steps(long_max_steps)
    if steps < 3 or gn_steps < 1:
        raise LinnetError(f"--steps must be at least 3 (and gn_steps at least 1), got {steps}")
    if backend not in BACKENDS:
        raise LinnetError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    problem = post_problem(seed)
    disable = None if progress is None else not progress
    seconds = {}
    bar = _progress(7, "reproduce", disable)

    def stage(name, fn):
        bar.set_postfix_str(name)
        t = time.perf_counter()
        out = fn()
        seconds[name] = time.perf_counter() - t
        bar.update(1)
        return out

    try:
        post = stage("post runs", lambda: claims.post_runs(seed, backend=backend, steps=steps,
                                                            gn_steps=gn_steps, problem=problem))
        post_lm = stage("post LM", lambda: {
            s: run(problem, s, gn_steps) for s in (post_lm_spec(h, faithful_lm) for h in POST_LM_STEPS)})
        extra = stage("second order", lambda: {
            s: run(problem, s, 1 if s == "closed-form" else gn_steps) for s in EXTRA_SPECS})
        balanced = stage("balanced", lambda: {
            s: claims.balanced_runs(seed, s, steps) for s in BALANCED_SPECS})
        # the post's own gd[lr=1e-05] run is where the long run's prediction starts (numpy only)
        stall = post.get(f"gd[lr={claims.SLOW_LR!r}]") if backend == "numpy" else None
        with _progress(long_max_steps, "long gd", disable, unit="step") as long_bar:
            long, long_info = stage("long gd", lambda: long_gd(
                problem, max_steps=long_max_steps, stall_steps=steps, stall_result=stall,
                progress=long_bar))
        samples = stage("nsamples", lambda: claims.samples_runs(seed, SAMPLE_SIZES, steps=steps))
        kappas = stage("kappa", lambda: claims.post_kappas(KAPPA_SEEDS))
    finally:
        bar.close()
    return Reproduction(seed=seed, backend=backend, steps=steps, gn_steps=gn_steps, problem=problem,
                        post=post, post_lm=post_lm, extra=extra, balanced=balanced, long=long,
                        long_info=long_info, samples=samples, kappas=kappas, seconds=seconds)


# -- summary --------------------------------------------------------------------------------------

def _num(x):
    """JSON-safe number: non-finite -> None, numpy scalars -> Python."""
    if x is None:
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    x = float(x)
    return x if math.isfinite(x) else None


def run_numbers(result) -> dict:
    """The numbers of one run the summary keeps (no histories)."""
    out = {
        "steps": result.steps,
        "diverged": result.diverged,
        "divergence_step": result.divergence_step,
        "status": result.message,
        "initial_loss": _num(result.initial_loss),
        "final_loss": _num(result.final_loss),
        "relative_loss": _num(result.relative_loss),
        "grad_norm": _num(result.grad_norm),
        "seconds": _num(result.seconds),
    }
    if "post_metric" in result.traces:
        metric = np.asarray(result.traces["post_metric"], dtype=float)
        y2 = result.problem_info["y_norm2"]
        out["post_metric_final"] = _num(metric[-1])
        out["post_metric_min"] = _num(np.nanmin(metric))
        out["post_metric_relative_final"] = _num(metric[-1] / y2)
        out["post_metric_relative_min"] = _num(np.nanmin(metric) / y2)
    return out


def _claims(rep: Reproduction) -> list[dict]:
    """The claims of linnet.claims checked on this report's runs (seed ``rep.seed`` only)."""
    out = []
    first = {s: rep.post[s] for s in claims.POST_FIRST_ORDER}
    checks = [
        lambda: claims.check_plateau(first),
        *[(lambda s=s: claims.check_gauss_newton(rep.post[s], linnet.parse(s).step,
                                                 claims.POST_GAUSS_NEWTON_WITHIN[s]))
          for s in claims.POST_GAUSS_NEWTON],
        lambda: claims.check_lm_floor(rep.post_lm[post_lm_spec(0.2, _faithful(rep))],
                                      rep.post["gauss-newton[step=0.2]"]),
        lambda: claims.check_balanced(rep.problem, rep.balanced["gd[lr=1e-05]"]["post"],
                                      rep.balanced["gd[lr=1e-05]"]["balanced"]),
        lambda: claims.check_slow_not_stuck({rep.seed: {
            "steps": rep.long_info["steps"] if rep.long_info["reached"] else -1,
            "time_constant": rep.long_info["time_constant"],
            "stall_curvature_cond": rep.long_info["stall_curvature_cond"]}}),
        lambda: claims.check_samples(rep.samples),
        lambda: claims.check_post_kappa(rep.kappas),
    ]
    for check in checks:
        try:
            out.append(check().to_dict())
        except (KeyError, AttributeError, TypeError, ValueError) as err:  # a claim not applicable here
            out.append({"key": getattr(check, "__name__", "claim"), "holds": None,
                        "statement": f"not checked: {type(err).__name__}: {err}"})
    return out


def _faithful(rep: Reproduction) -> bool:
    return any("jacobian=kron" in s for s in rep.post_lm)


def summarize(rep: Reproduction, files: dict | None = None) -> dict:
    """Plain-data numbers behind each figure (JSON-ready)."""
    p = rep.problem
    y2 = p.y_norm2
    closed = rep.extra["closed-form"]
    bal = {}
    for spec, pair in rep.balanced.items():
        post_r, bal_r = pair["post"], pair["balanced"]
        factor = (post_r.relative_loss / bal_r.relative_loss
                  if not (post_r.diverged or bal_r.diverged) and bal_r.relative_loss else None)
        bal[spec] = {
            "post_init": run_numbers(post_r),
            "balanced": run_numbers(bal_r),
            "factor": _num(factor),
            "imbalance_initial": _num(np.linalg.norm(linnet.imbalance(p.weights))),
            "imbalance_final": _num(np.linalg.norm(linnet.imbalance(post_r.weights))),
            "imbalance_drift": _num(claims.imbalance_drift(p, post_r)),
            "balanced_imbalance_final": _num(np.linalg.norm(linnet.imbalance(bal_r.weights))),
        }
    samples = {}
    for n, r in rep.samples.items():
        samples[str(n)] = {"nsamples": n, "lr": linnet.parse(r.optimizer).lr, **run_numbers(r)}
    finite = [v["relative_loss"] for v in samples.values() if v["relative_loss"]]
    kap = np.array(list(rep.kappas.values()))
    return {
        "linnet_version": linnet.__version__,
        "seed": rep.seed,
        "backend": rep.backend,
        "steps": rep.steps,
        "gn_steps": rep.gn_steps,
        "problem": {k: _num(v) if isinstance(v, (float, int, np.generic)) else v
                    for k, v in p.describe().items()},
        "files": files or {},
        "post_figure": {
            "note": "the post's figures: losses as the post records them (before each update); "
                    "its LM curves plot post_metric = np.sum(Yhat - Y)**2 with lstsq rcond=-1",
            "runs": {s: run_numbers(r) for s, r in rep.post.items() if s in claims.POST_FIRST_ORDER},
            "lm": {s: run_numbers(r) for s, r in rep.post_lm.items()},
        },
        "corrected_figure": {
            "runs": {**{s: run_numbers(r) for s, r in rep.post.items()},
                     **{s: run_numbers(r) for s, r in rep.post_lm.items()},
                     **{s: run_numbers(r) for s, r in rep.extra.items()}},
            "closed_form_relative_loss": _num(closed.relative_loss),
            "float64_floor": FLOAT64_FLOOR,
        },
        "balanced_init": bal,
        "long_gd": {k: _num(v) if not isinstance(v, (str, list)) else v
                    for k, v in rep.long_info.items()},
        "nsamples": {
            "per_sample_lr_at_1000": claims.SLOW_LR,
            "runs": samples,
            "spread": _num(max(finite) / min(finite)) if finite else None,
        },
        "kappa": {
            "seeds": [int(s) for s in rep.kappas],
            "kappa": [float(k) for k in rep.kappas.values()],
            "min": float(kap.min()),
            "median": float(np.median(kap)),
            "max": float(kap.max()),
            "claimed": claims.POST_KAPPA_CLAIMED,
        },
        "claims": _claims(rep),
        "relative_to": {"y_norm2": y2},
        "seconds": {k: round(v, 4) for k, v in rep.seconds.items()},
    }


def _g(x, digits: int = 3) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:.{digits}g}"


def summary_markdown(s: dict) -> str:
    """A readable version of :func:`summarize`'s numbers."""
    p = s["problem"]
    out = [
        f"# linnet reproduction — seed {s['seed']}, {s['backend']} backend",
        "",
        f"Problem: the post's construction, {p['ydim']}x{p['wdim']}x{p['xdim']}, "
        f"{p['nsamples']} samples, kappa(A) = {_g(p['kappa'])}, ||Y||^2 = {_g(p['y_norm2'], 6)}. "
        f"First-order runs: {s['steps']} steps; Gauss-Newton: {s['gn_steps']}. "
        "Relative loss = loss / ||Y||^2.",
        "",
        "## The post's runs (post-figure, corrected-figure)",
        "",
        "| optimizer | steps | diverged | final loss | relative loss | gradient norm | post's metric sum(r)^2 |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for spec, r in s["corrected_figure"]["runs"].items():
        div = f"at step {r['divergence_step']}" if r["diverged"] else "no"
        out.append(f"| `{spec}` | {r['steps']} | {div} | {_g(r['final_loss'])} | "
                   f"{_g(r['relative_loss'])} | {_g(r['grad_norm'])} | {_g(r.get('post_metric_final'))} |")
    cf = s["corrected_figure"]
    out += ["", f"Closed form (one linear solve): relative loss {_g(cf['closed_form_relative_loss'])}; "
            f"float64 floor drawn at eps^2 = {_g(cf['float64_floor'])}.", ""]
    out += ["## Balanced initialisation (balanced-init)", "",
            "| optimizer | post's init | balanced | factor | imbalance drift along GD |",
            "|---|---:|---:|---:|---:|"]
    for spec, b in s["balanced_init"].items():
        out.append(f"| `{spec}` | {_g(b['post_init']['relative_loss'])} | {_g(b['balanced']['relative_loss'])} "
                   f"| {_g(b['factor'])} | {_g(b['imbalance_drift'])} |")
    lg = s["long_gd"]
    reached = (f"reached relative loss {_g(lg['target'])} after {_g(lg['steps'])} steps"
               if lg["reached"] else f"did not reach {_g(lg['target'])} within {_g(lg['max_steps'])} steps")
    out += ["", "## Long GD (long-gd)", "",
            f"`{lg['optimizer']}` {reached} ({_g(lg['seconds'])} s).",
            f"Predicted from the curvature at the minimum it reaches (lambda_min = {_g(lg['end_curvature_min'])}): "
            f"{_g(lg['predicted_steps'], 4)} steps; extrapolated from the post's own curve over steps "
            f"{lg['extrapolated_from'][0]}-{lg['extrapolated_from'][1]}: {_g(lg['extrapolated_steps'], 4)} steps.",
            f"At the post's {lg['stall_steps']}-step stall: relative loss {_g(lg['stall_relative_loss'])}, "
            f"curvature condition number {_g(lg['stall_curvature_cond'])}, time constant 1/(lr lambda_min) "
            f"= {_g(lg['time_constant'])} steps.", ""]
    ns = s["nsamples"]
    out += ["## More samples (nsamples)", "",
            "| nsamples | lr | relative loss |", "|---:|---:|---:|"]
    for r in ns["runs"].values():
        n = "expected loss" if r["nsamples"] == 0 else _g(r["nsamples"])
        out.append(f"| {n} | {_g(r['lr'])} | {_g(r['relative_loss'])} |")
    out += ["", f"Spread (max / min): {_g(ns['spread'])}.", ""]
    k = s["kappa"]
    out += ["## kappa(A) of the post's construction (kappa)", "",
            f"Seeds {k['seeds'][0]}-{k['seeds'][-1]}: min {_g(k['min'])}, median {_g(k['median'])}, "
            f"max {_g(k['max'])}; the post says {_g(k['claimed'])}.", ""]
    out += ["## Claims (linnet.claims, this seed)", "", "| claim | holds | statement |", "|---|---|---|"]
    for c in s["claims"]:
        holds = {True: "yes", False: "**no**", None: "—"}[c["holds"]]
        out.append(f"| {c['key']} | {holds} | {c['statement']} |")
    out.append("")
    return "\n".join(out)


# -- writing --------------------------------------------------------------------------------------

def output_paths(out: Path, fmt: str) -> dict:
    """{name: path} of every file a report writes into ``out``."""
    paths = {name: out / f"{name}.{fmt}" for name in FIGURES}
    paths.update({name: out / name for name in SUMMARY_FILES})
    return paths


def write_report(rep: Reproduction, out, fmt: str = "png", force: bool = False) -> dict:
    """Draw every figure and write figures, summary.json and summary.md into ``out``.

    Returns {name: path}. Refuses (LinnetError) before writing anything if a file exists and
    ``force`` is false.
    """
    from linnet.reports import figures

    if fmt not in FORMATS:
        raise LinnetError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = Path(out)
    paths = output_paths(out, fmt)
    files.check_writable(paths.values(), force)
    files.make_folder(out)
    drawn = figures.draw_all(rep)
    for name, fig in drawn.items():
        files.save_figure(fig, paths[name], force=force, **figures.save_options(fmt))
        figures.close(fig)
    summary = summarize(rep, files={name: paths[name].name for name in paths})
    files.write_text(paths["summary.json"], json.dumps(summary, indent=2, allow_nan=False) + "\n", force=force)
    files.write_text(paths["summary.md"], summary_markdown(summary), force=force)
    return paths


def reproduce(out, seed: int = 0, backend: str = "numpy", fmt: str = "png", steps: int = claims.POST_STEPS,
              force: bool = False, long_max_steps: int = LONG_MAX_STEPS, faithful_lm: bool = True,
              progress: bool | None = None) -> dict:
    """Run everything and write the report into ``out``; returns {name: path}."""
    if fmt not in FORMATS:
        raise LinnetError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    files.check_writable(output_paths(Path(out), fmt).values(), force)  # refuse before the runs
    rep = compute(seed, backend, steps, long_max_steps=long_max_steps, faithful_lm=faithful_lm,
                  progress=progress)
    return write_report(rep, out, fmt, force)


# -- CLI ------------------------------------------------------------------------------------------

EXAMPLES = """\
examples:
  python -m linnet reproduce --out figures
  python -m linnet reproduce --out docs/figures --force          # the README's figures
  python -m linnet reproduce --out out --seed 3 --format svg
  python -m linnet reproduce --out out --backend tensorflow      # the post's runs in TensorFlow
"""


def cmd_reproduce(args) -> int:
    t = time.perf_counter()
    paths = reproduce(args.out, seed=args.seed, backend=args.backend, fmt=args.format, steps=args.steps,
                      force=args.force, long_max_steps=args.long_steps, faithful_lm=args.faithful_lm)
    for path in paths.values():
        print(path)
    print(f"wrote {len(paths)} files in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return 0


def register(subparsers) -> None:
    """Add the ``reproduce`` command (called from linnet.cli.EXTRA_COMMANDS)."""
    from linnet.cli import _integer

    p = subparsers.add_parser(
        "reproduce", help="the post's figure, reproduced and corrected, with summary.json",
        description="Run the post's experiment and what it leaves out; write its figure as the "
                    "post drew it, the corrected figure, four more figures, summary.json and "
                    "summary.md into a folder. Files are written atomically and an existing file is "
                    "never replaced without --force.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="figures:\n" + "\n".join(f"  {k:<20} {v}" for k, v in FIGURES.items()) + "\n\n" + EXAMPLES,
    )
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder to write into")
    p.add_argument("--seed", type=_integer, default=0, help="RandomState seed of the post's problem (default: 0)")
    p.add_argument("--backend", choices=BACKENDS, default="numpy",
                   help="backend of the post's 8 first-order runs; the rest run on numpy (default: numpy)")
    p.add_argument("--format", choices=FORMATS, default="png", help="figure format (default: png)")
    p.add_argument("--steps", type=_integer, default=claims.POST_STEPS,
                   help=f"first-order steps, as the post's budget (default: {claims.POST_STEPS})")
    p.add_argument("--long-steps", type=_integer, default=LONG_MAX_STEPS,
                   help=f"most steps of the long GD run (default: {LONG_MAX_STEPS:,})")
    p.add_argument("--fast-lm", dest="faithful_lm", action="store_false",
                   help="solve the post's LM with the structured Jacobian (fast, but without the floor "
                        "that the post's Kronecker lstsq produces)")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.set_defaults(handler=cmd_reproduce)
