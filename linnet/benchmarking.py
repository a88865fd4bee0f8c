"""What a benchmark stores about its run, and the machine it ran on.

Every benchmark in ``benchmarks/`` times a run, then calls :func:`record`, which fills
``benchmark.extra_info`` with the run record (:mod:`linnet.record`, the same keys as
``python -m linnet run --json``) for every optimizer and backend, plus the
machine-independent ``figures`` (final losses at fixed steps, steps to targets, divergence steps,
kappa) that the regression gate (:mod:`linnet.gate`) compares with the committed baseline.
"""

from __future__ import annotations

import os
import platform
import sys

from linnet.errors import LinnetError
from linnet.record import plain
from linnet.record import record as run_record
from linnet.tolerance import Figure, Tolerance, exact, figure


def result_info(result) -> dict:
    """The ``extra_info`` fields of one run: its run record (:func:`linnet.record.record`)."""
    return run_record(result)


def record(benchmark, result=None, *, loss: Tolerance | None = None, no_figures: str | None = None,
           **figures: Figure) -> dict:
    """Store a run's fields and its machine-independent figures in ``benchmark.extra_info``.

    Each figure is declared with the tolerance the regression gate compares it under
    (:func:`linnet.tolerance.figure`); ``extra_info["figures"]`` holds the values and
    ``extra_info["tolerances"]`` the tolerances. With a ``result``, its ``steps`` and ``diverged``
    (exact) and ``relative_loss`` (under ``loss``, which is then required) are figures too.
    A benchmark with no machine-independent figure says why in ``no_figures``.
    Returns the figures dict.
    """
    info = benchmark.extra_info
    declared = dict(figures)
    if result is None and loss is not None:
        raise LinnetError("record(benchmark, loss=...): loss is the tolerance of a result's relative loss; "
                          "pass a result, or name the figure otherwise")
    if result is not None:
        if loss is None:
            raise LinnetError("record(benchmark, result): declare the relative loss's tolerance (loss=...)")
        info.update(result_info(result))
        declared = {"steps": figure(result.steps, exact()), "diverged": figure(result.diverged, exact()),
                    "relative_loss": figure(plain(result.relative_loss), loss), **declared}
    for name, value in declared.items():
        if not isinstance(value, Figure):
            raise LinnetError(f"figure {name!r}: declare its tolerance with linnet.tolerance.figure(value, ...)")
    if no_figures is not None:
        info["no_figures"] = no_figures
    stored = info.setdefault("figures", {})
    tolerances = info.setdefault("tolerances", {})
    for name, value in declared.items():
        stored[name] = plain(value.value)
        tolerances[name] = value.tolerance.to_dict()
    return stored


def machine_info() -> dict:
    """CPU, cores, BLAS and its threads, library versions: what a cross-machine comparison needs."""
    import numpy
    import scipy

    info = {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "tensorflow": _tensorflow_version(),
        "tensorflow_device": _tensorflow_device(),
        "blas": _blas(),
    }
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("internal_api", "version", "num_threads", "architecture", "threading_layer")
    return [{k: d.get(k) for k in keep} for d in threadpool_info() if d.get("user_api") == "blas"]


def _tensorflow_device() -> str | None:
    """The TensorFlow backend's device (``GPU:0`` or ``CPU:0``) where this process has imported
    TensorFlow (a TensorFlow benchmark ran), else None; never imports it."""
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return None
    from linnet.backends.tf_runtime import device

    return device(tf)


def _tensorflow_version() -> str | None:
    """The installed TensorFlow version, read from package metadata (no import)."""
    from importlib import metadata

    for dist in ("tensorflow", "tensorflow-cpu"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None
