"""The singular-value cutoff of a least-squares solve: which singular values count as zero.

Computed singular values of a rank-deficient matrix are not zero but of order eps * s_max. A cutoff
drops those below rcond * s_max: numpy's ``lstsq`` default rcond = eps * max(M, N) ("default",
numpy >= 1.14; see the numpy.linalg.lstsq docs), numpy's old rcond = -1 ("machine": the cutoff
eps * s_max the post ran with, see docs/design.md, "The post's LM floor"), or a given number.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from linnet.core.errors import LinnetError

#: names accepted for the singular-value cutoff (besides a number)
RCONDS = ("default", "machine")


def check_rcond(owner, rcond: str) -> None:
    """Raise LinnetError unless rcond is "default", "machine" or a number in [0, 1)."""
    if rcond in RCONDS:
        return
    try:
        value = float(rcond)
    except (TypeError, ValueError):
        value = float("nan")
    if not 0 <= value < 1:
        raise LinnetError(f"{owner.name}: rcond must be default, machine or a number in [0, 1), "
                          f"got {rcond!r}")


def rcond_ratio(rcond: str, shape, dtype) -> float:
    """The relative cutoff: singular values at most this times s_max are treated as zero."""
    eps = np.finfo(dtype).eps
    if rcond == "default":
        return max(shape) * eps
    if rcond == "machine":
        return eps
    return float(rcond)


def numpy_rcond(rcond: str):
    """The ``rcond`` argument of numpy.linalg.lstsq that means the same cutoff."""
    if rcond in RCONDS:
        return {"default": None, "machine": -1}[rcond]
    return float(rcond)


def pinv_apply(gram: np.ndarray, r: np.ndarray, rcond) -> np.ndarray:
    """(gram)^+ r for a symmetric PSD (n, n) gram (a row Gram J J^T), r (n,): the eigenvalues
    e > rcond_ratio(rcond, gram's shape) * e_max are inverted, the rest dropped."""
    e, V = scipy.linalg.eigh(gram, driver="evr")  # numpy's syevd was 30x slower at 60 x 60 on 2 cores
    keep = e > rcond_ratio(rcond, gram.shape, gram.dtype) * max(float(e[-1]), 0.0)
    return V[:, keep] @ ((V[:, keep].T @ r) / e[keep])
