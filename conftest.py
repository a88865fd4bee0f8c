"""Shared pytest set-up: hypothesis profiles (linnet's pytest plugin loads through its entry point).

Hypothesis profiles: ``ci`` (the default: derandomized, so CI is reproducible) and ``dev``
(random, more examples). Choose with ``--hypothesis-profile dev`` or HYPOTHESIS_PROFILE=dev.
``ci`` keeps no example database: derandomized runs do not need one, and the tests then write
nothing into the checkout (which may be read-only for the user running them).
"""

import os

import numpy as np
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, database=None, max_examples=30, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Silence TensorFlow's C++ start-up log before anything imports it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
np.seterr(all="warn")
