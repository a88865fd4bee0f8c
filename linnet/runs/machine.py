"""The machine a run ran on: CPU, cores, BLAS and its threads, library versions.

Stored with every benchmark run (``machine_info["linnet"]``) and every sweep (``sweep.json``), so
that a comparison across machines can tell the machine from the code.
"""

from __future__ import annotations

import os
import platform
import sys


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
    from linnet.runs.backends.tf_runtime import device

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
