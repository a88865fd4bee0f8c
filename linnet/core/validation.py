"""Argument checks shared by the run loops, the optimizers and the command line.

Each check returns the value in canonical form or raises :class:`linnet.core.errors.LinnetError` with
one readable line. This module sits at the bottom of the import graph (it imports only
:mod:`linnet.core.errors`), so every layer can validate without importing the one above it.
"""

from __future__ import annotations

import math

import numpy as np

from linnet.core.errors import LinnetError

#: the backends :func:`linnet.run` accepts
BACKENDS = ("numpy", "tensorflow")


def check_steps(steps) -> int:
    """Return steps as an int, or raise LinnetError unless it is a non-negative integer."""
    if isinstance(steps, (bool, np.bool_)) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise LinnetError(f"steps must be a non-negative integer, got {steps!r}")
    return int(steps)


def check_target(target) -> float | None:
    """Return a relative-loss target as a float (None stays None); LinnetError unless finite and >= 0."""
    if target is None:
        return None
    if isinstance(target, bool) or not (isinstance(target, (int, float)) and math.isfinite(target)
                                        and target >= 0):
        raise LinnetError(f"target must be a non-negative relative loss, got {target!r}")
    return float(target)


def check_backend(backend) -> str:
    """Return ``backend`` unless it is not one of :data:`BACKENDS`."""
    if backend not in BACKENDS:
        raise LinnetError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return backend


def check_positive(owner, **values):
    """Raise LinnetError unless every value is a finite number > 0 (for an optimizer's __post_init__)."""
    for key, value in values.items():
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise LinnetError(f"{owner.name}: {key} must be a positive number, got {value!r}")


def check_fraction(owner, **values):
    """Raise LinnetError unless every value lies in [0, 1)."""
    for key, value in values.items():
        if not (isinstance(value, (int, float)) and 0 <= value < 1):
            raise LinnetError(f"{owner.name}: {key} must be in [0, 1), got {value!r}")
