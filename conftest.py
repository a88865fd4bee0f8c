"""Shared pytest set-up: hypothesis profiles and the benchmark machine-info hook.

Hypothesis profiles: ``ci`` (the default: derandomized, so CI is reproducible) and ``dev``
(random, more examples). Choose with ``--hypothesis-profile dev`` or HYPOTHESIS_PROFILE=dev.
"""

import os

import numpy as np
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, max_examples=30, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Silence TensorFlow's C++ start-up log before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
np.seterr(all="warn")

# the regression gate: --linnet-baseline PATH, --linnet-update-baseline
pytest_plugins = ["linnet.testing.plugin", "linnet.testing.verdicts"]  # + the claims verdict


def pytest_benchmark_update_machine_info(config, machine_info):
    """Add CPU model, cores, BLAS library and threads, numpy/scipy/TensorFlow versions."""
    from linnet.runs.machine import machine_info as linnet_machine_info
    from linnet.testing.calibration import measure

    machine_info["linnet"] = linnet_machine_info()
    machine_info["linnet"]["calibration"] = measure()  # matmul rate and per-call cost, for compare
