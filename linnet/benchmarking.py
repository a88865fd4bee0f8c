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

from linnet.record import plain
from linnet.record import record as run_record


def result_info(result) -> dict:
    """The ``extra_info`` fields of one run: its run record (:func:`linnet.record.record`)."""
    return run_record(result)


def record(benchmark, result=None, **figures) -> dict:
    """Store a run's fields and the named machine-independent figures in ``benchmark.extra_info``.

    ``figures`` are what the regression gate checks (see :mod:`linnet.gate` for tolerances);
    a run's relative loss, steps and divergence are added to them automatically.
    Returns the figures dict.
    """
    info = benchmark.extra_info
    if result is not None:
        info.update(result_info(result))
        figures = {
            "steps": result.steps,
            "diverged": result.diverged,
            "relative_loss": plain(result.relative_loss),
            **figures,
        }
    stored = info.setdefault("figures", {})
    stored.update({k: plain(v) for k, v in figures.items()})
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


def _tensorflow_version() -> str | None:
    """The installed TensorFlow version, read from package metadata (no import)."""
    from importlib import metadata

    for dist in ("tensorflow", "tensorflow-cpu"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None
