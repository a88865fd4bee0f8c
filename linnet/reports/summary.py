"""The numbers behind the report's figures: ``summary.json`` (:func:`summarize`) and its readable
form ``summary.md`` (:func:`summary_markdown`), from a :class:`~linnet.reports.reproduction.Reproduction`.
"""

from __future__ import annotations

import numpy as np

import linnet
from linnet.claims.post.constants import POST_FIRST_ORDER, POST_KAPPA_CLAIMED, SLOW_LR
from linnet.claims.post.measures import imbalance_drift
from linnet.core.text import g
from linnet.reports.reproduction import FLOAT64_FLOOR, Reproduction, check_claims
from linnet.runs.record import plain, record

# -- summary --------------------------------------------------------------------------------------

def run_numbers(result) -> dict:
    """One run in the summary: its run record (:func:`linnet.runs.record.record`, the same keys as
    ``--json`` and a benchmark's extra_info), plus the post's plotted metric where it was traced."""
    out = record(result)
    if "post_metric" in result.traces:
        metric = np.asarray(result.traces["post_metric"], dtype=float)
        y2 = result.problem_info["y_norm2"]
        out["post_metric_final"] = plain(metric[-1])
        out["post_metric_min"] = plain(np.nanmin(metric))
        out["post_metric_relative_final"] = plain(metric[-1] / y2)
        out["post_metric_relative_min"] = plain(np.nanmin(metric) / y2)
    return out


def summarize(rep: Reproduction, files: dict | None = None) -> dict:
    """Plain-data numbers behind each figure (JSON-ready)."""
    p = rep.problem
    y2 = p.y_norm2
    closed = rep.extra["closed-form"]
    bal = {}
    for spec, pair in rep.balanced.by("optimizer").items():
        post_r, bal_r = pair.one(start="post"), pair.one(start="balanced")
        factor = (post_r.relative_loss / bal_r.relative_loss
                  if not (post_r.diverged or bal_r.diverged) and bal_r.relative_loss else None)
        bal[spec] = {
            "post_init": run_numbers(post_r),
            "balanced": run_numbers(bal_r),
            "factor": plain(factor),
            "imbalance_initial": plain(np.linalg.norm(linnet.imbalance(p.weights))),
            "imbalance_final": plain(np.linalg.norm(linnet.imbalance(post_r.weights))),
            "imbalance_drift": plain(imbalance_drift(p, post_r)),
            "balanced_imbalance_final": plain(np.linalg.norm(linnet.imbalance(bal_r.weights))),
        }
    samples = {}
    for m, r in rep.samples.items():
        n = m.nsamples
        samples[str(n)] = {"nsamples": n, "lr": linnet.parse(r.optimizer).lr, **run_numbers(r)}
    finite = [v["relative_loss"] for v in samples.values() if v["relative_loss"]]
    kap = np.array(list(rep.kappas.values()))
    return {
        "linnet_version": linnet.__version__,
        "seed": rep.seed,
        "backend": rep.backend,
        "steps": rep.steps,
        "gn_steps": rep.gn_steps,
        "problem": {k: plain(v) if isinstance(v, (float, int, np.generic)) else v
                    for k, v in p.describe().items()},
        "files": files or {},
        "post_figure": {
            "note": "the post's figures: losses as the post records them (before each update); "
                    "its LM curves plot post_metric = np.sum(Yhat - Y)**2 with lstsq rcond=-1",
            "runs": {m.optimizer: run_numbers(r) for m, r in rep.post.items()
                     if m.optimizer in POST_FIRST_ORDER},
            "lm": {s: run_numbers(r) for s, r in rep.post_lm.items()},
        },
        "corrected_figure": {
            "runs": {**{m.optimizer: run_numbers(r) for m, r in rep.post.items()},
                     **{s: run_numbers(r) for s, r in rep.post_lm.items()},
                     **{s: run_numbers(r) for s, r in rep.extra.items()}},
            "closed_form_relative_loss": plain(closed.relative_loss),
            "float64_floor": FLOAT64_FLOOR,
        },
        "balanced_init": bal,
        "long_gd": {k: plain(v) if not isinstance(v, (str, list)) else v
                    for k, v in rep.long_info.items()},
        "nsamples": {
            "per_sample_lr_at_1000": SLOW_LR,
            "runs": samples,
            "spread": plain(max(finite) / min(finite)) if finite else None,
        },
        "kappa": {
            "seeds": [int(s) for s in rep.kappas],
            "kappa": [float(k) for k in rep.kappas.values()],
            "min": float(kap.min()),
            "median": float(np.median(kap)),
            "max": float(kap.max()),
            "claimed": POST_KAPPA_CLAIMED,
        },
        "claims": check_claims(rep),
        "relative_to": {"y_norm2": y2},
        "seconds": {k: round(v, 4) for k, v in rep.seconds.items()},
    }


def summary_markdown(s: dict) -> str:
    """A readable version of :func:`summarize`'s numbers."""
    p = s["problem"]
    out = [
        f"# linnet reproduction — seed {s['seed']}, {s['backend']} backend",
        "",
        f"Problem: the post's construction, {p['ydim']}x{p['wdim']}x{p['xdim']}, "
        f"{p['nsamples']} samples, kappa(A) = {g(p['kappa'])}, ||Y||^2 = {g(p['y_norm2'], 6)}. "
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
        out.append(f"| `{spec}` | {r['steps']} | {div} | {g(r['final_loss'])} | "
                   f"{g(r['relative_loss'])} | {g(r['grad_norm'])} | {g(r.get('post_metric_final'))} |")
    cf = s["corrected_figure"]
    out += ["", f"Closed form (one linear solve): relative loss {g(cf['closed_form_relative_loss'])}; "
            f"float64 floor drawn at eps^2 = {g(cf['float64_floor'])}.", ""]
    out += ["## Balanced initialisation (balanced-init)", "",
            "| optimizer | post's init | balanced | factor | imbalance drift along GD |",
            "|---|---:|---:|---:|---:|"]
    for spec, b in s["balanced_init"].items():
        out.append(f"| `{spec}` | {g(b['post_init']['relative_loss'])} | {g(b['balanced']['relative_loss'])} "
                   f"| {g(b['factor'])} | {g(b['imbalance_drift'])} |")
    lg = s["long_gd"]
    reached = (f"reached relative loss {g(lg['target'])} after {g(lg['steps'])} steps"
               if lg["reached"] else f"did not reach {g(lg['target'])} within {g(lg['max_steps'])} steps")
    out += ["", "## Long GD (long-gd)", "",
            f"`{lg['optimizer']}` {reached} ({g(lg['seconds'])} s).",
            f"Predicted from the curvature at the minimum it reaches (lambda_min = {g(lg['end_curvature_min'])}): "
            f"{g(lg['predicted_steps'], 4)} steps; extrapolated from the post's own curve over steps "
            f"{lg['extrapolated_from'][0]}-{lg['extrapolated_from'][1]}: {g(lg['extrapolated_steps'], 4)} steps.",
            f"At the post's {lg['stall_steps']}-step stall: relative loss {g(lg['stall_relative_loss'])}, "
            f"curvature condition number {g(lg['stall_curvature_cond'])}, time constant 1/(lr lambda_min) "
            f"= {g(lg['time_constant'])} steps.", ""]
    ns = s["nsamples"]
    out += ["## More samples (nsamples)", "",
            "| nsamples | lr | relative loss |", "|---:|---:|---:|"]
    for r in ns["runs"].values():
        n = "expected loss" if r["nsamples"] == 0 else g(r["nsamples"])
        out.append(f"| {n} | {g(r['lr'])} | {g(r['relative_loss'])} |")
    out += ["", f"Spread (max / min): {g(ns['spread'])}.", ""]
    k = s["kappa"]
    out += ["## kappa(A) of the post's construction (kappa)", "",
            f"Seeds {k['seeds'][0]}-{k['seeds'][-1]}: min {g(k['min'])}, median {g(k['median'])}, "
            f"max {g(k['max'])}; the post says {g(k['claimed'])}.", ""]
    out += ["## Claims (linnet.claims, this seed)", "", "| claim | holds | statement |", "|---|---|---|"]
    for c in s["claims"]:
        holds = {True: "yes", False: "**no**", None: "—"}[c["holds"]]
        out.append(f"| {c['key']} | {holds} | {c['statement']} |")
    out.append("")
    return "\n".join(out)
