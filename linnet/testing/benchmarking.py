"""What a benchmark stores about its run: the run record and its machine-independent figures.

Every benchmark in ``benchmarks/`` times a run, then calls :func:`store`, which fills
``benchmark.extra_info`` with the run record (:mod:`linnet.runs.record`, the same keys as
``python -m linnet run --json``) for every optimizer and backend, plus the
machine-independent ``figures`` (final losses at fixed steps, steps to targets, divergence steps,
kappa) that the regression gate (:mod:`linnet.testing.gate`) compares with the committed baseline.
"""

from __future__ import annotations

from linnet.core.errors import LinnetError
from linnet.runs.record import plain
from linnet.runs.record import record as run_record
from linnet.testing.tolerance import Figure, Tolerance, exact, figure

#: where the claims verdict is saved in a pytest-benchmark JSON file (read back by ``linnet compare``)
VERDICTS_KEY = "linnet_verdicts"


def result_info(result) -> dict:
    """The ``extra_info`` fields of one run: its run record (:func:`linnet.runs.record.record`)."""
    return run_record(result)


def store(benchmark, result=None, *, loss: Tolerance | None = None, no_figures: str | None = None,
          **figures: Figure) -> dict:
    """Store a run's fields and its machine-independent figures in ``benchmark.extra_info``.

    Each figure is declared with the tolerance the regression gate compares it under
    (:func:`linnet.testing.tolerance.figure`); ``extra_info["figures"]`` holds the values and
    ``extra_info["tolerances"]`` the tolerances. With a ``result``, its ``steps`` and ``diverged``
    (exact) and ``relative_loss`` (under ``loss``, which is then required) are figures too.
    A benchmark with no machine-independent figure says why in ``no_figures``.
    Returns the figures dict.
    """
    info = benchmark.extra_info
    declared = dict(figures)
    if result is None and loss is not None:
        raise LinnetError("store(benchmark, loss=...): loss is the tolerance of a result's relative loss; "
                          "pass a result, or name the figure otherwise")
    if result is not None:
        if loss is None:
            raise LinnetError("store(benchmark, result): declare the relative loss's tolerance (loss=...)")
        info.update(result_info(result))
        declared = {"steps": figure(result.steps, exact()), "diverged": figure(result.diverged, exact()),
                    "relative_loss": figure(plain(result.relative_loss), loss), **declared}
    for name, value in declared.items():
        if not isinstance(value, Figure):
            raise LinnetError(f"figure {name!r}: declare its tolerance with "
                              "linnet.testing.tolerance.figure(value, ...)")
    if no_figures is not None:
        info["no_figures"] = no_figures
    stored = info.setdefault("figures", {})
    tolerances = info.setdefault("tolerances", {})
    for name, value in declared.items():
        stored[name] = plain(value.value)
        tolerances[name] = value.tolerance.to_dict()
    return stored
