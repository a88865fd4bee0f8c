"""The one run record: a JSON-ready dict of a :class:`linnet.runs.result.Result`.

:func:`record` is the only producer of "a run as a dict": ``python -m linnet run --json``, a
benchmark's ``extra_info`` (:mod:`linnet.testing.benchmarking`), the reproduce summary and each row of a
sweep table use it, so the same run gives the same keys everywhere. Values are plain data
(:func:`plain`): numbers, strings, booleans, lists; a figure that does not exist (a loss after
divergence, a target never reached) is ``None``, the one "not reached" value.

Keys (name, type: meaning):

========================  ============  ==============================================================
``linnet_version``        str           the linnet version that produced the run
``optimizer``             str           canonical optimizer spec, e.g. ``gd[lr=1e-05]``
``backend``               str           ``numpy`` or ``tensorflow``
``problem``               dict          the problem's parameters (:meth:`linnet.problems.problem.Problem.describe`):
                                        family, seed, xdim, wdim, ydim, depth, widths, nsamples, init,
                                        row_scale, target_kappa, kappa, rank, y_norm2, dtype
``steps``                 int           updates applied
``status``                int           stop code of :mod:`linnet.optimizers.stopping` (-1 diverged, >= 0 normal)
``message``               str           why the run stopped, in words
``diverged``              bool          the loss became non-finite
``divergence_step``       int|None      index of the first non-finite loss
``initial_loss``          float         loss at the initial layers
``final_loss``            float|None    loss at the final layers (None when diverged)
``relative_loss``         float|None    final_loss / problem.y_norm2 (None when diverged)
``grad_norm``             float|None    sqrt(sum_k ||dL/dW_k||^2) at the final layers
``steps_to_1e-6`` ...    int|None      first number of updates with relative loss <= 1e-6, 1e-12,
                                        1e-20, 1e-28 (:data:`TARGETS`); None if never
``seconds``               float         wall time of the loop
``device``                str           where it ran: ``CPU``, or TensorFlow's device (``GPU:0``)
========================  ============  ==============================================================

The problem's parameters are nested under ``problem`` (the command-line contract of
docs/design.md); a flat table (a sweep's rows) spreads them into columns with :func:`flat`.

With ``history=True`` three more keys hold the histories: per-step ``losses`` and ``grad_norms``
(lists) and the optimizer's ``traces`` (a dict of lists). The same table is in docs/design.md ("The run record").
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from linnet.core.version import __version__

#: relative-loss targets whose steps_to figures every record carries
TARGETS = (1e-6, 1e-12, 1e-20, 1e-28)


def plain(x):
    """Plain, JSON-ready data: numpy scalars and arrays become Python numbers and lists, mapping
    keys become strings, and non-finite floats become None (JSON has no inf or nan)."""
    if isinstance(x, Mapping):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [plain(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def steps_to_key(target: float) -> str:
    """The record key of the steps_to figure for ``target``, e.g. ``steps_to_1e-12``."""
    return f"steps_to_{target:.0e}".replace("e-0", "e-")


def record(result, history: bool = False) -> dict:
    """The run record of ``result`` (keys documented in the module docstring)."""
    out = {"linnet_version": __version__, "optimizer": result.optimizer, "backend": result.backend,
           "problem": dict(result.problem_info)}
    out.update({
        "steps": result.steps,
        "status": result.status,
        "message": result.message,
        "diverged": result.diverged,
        "divergence_step": result.divergence_step,
        "initial_loss": result.initial_loss,
        "final_loss": result.final_loss,
        "relative_loss": result.relative_loss,
        "grad_norm": result.grad_norm,
    })
    out.update({steps_to_key(t): result.steps_to(t) for t in TARGETS})
    out["seconds"] = result.seconds
    out["device"] = result.device
    if history:
        out["losses"] = result.losses
        out["grad_norms"] = result.grad_norms
        out["traces"] = dict(result.traces)
    return plain(out)


def flat(rec: dict) -> dict:
    """The record with its ``problem`` parameters spread into top-level columns (for tables)."""
    out = {k: v for k, v in rec.items() if k != "problem"}
    out.update(rec.get("problem", {}))
    return out
