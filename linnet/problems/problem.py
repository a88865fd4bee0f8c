"""The problem value: a target map, the inputs' second moment and initial layers, all read-only.

A :class:`Problem` holds the target map ``A`` (ydim x xdim), the second moment of the inputs
``S = X X^T`` (xdim x xdim), the samples ``X`` (xdim x nsamples) where there are any, and the
initial layer matrices ``weights = (W1, ..., WN)``, Wk of shape (n_{k-1}, n_k) with widths
(n_0, ..., n_N) = (ydim, h1, ..., h_{N-1}, xdim). The families that build problems (the post's
construction and the exactly conditioned one) are in :mod:`linnet.problems.families`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from linnet.core.errors import LinnetError
from linnet.problems.inits import balanced_factors


def frozen(a: ArrayLike) -> np.ndarray:
    a = np.array(a, copy=True)
    a.flags.writeable = False
    return a


def singular_values(A: np.ndarray) -> np.ndarray:
    """Singular values of A, largest first."""
    return np.linalg.svd(A, compute_uv=False)


def numerical_rank(s: np.ndarray) -> int:
    """Number of singular values above numpy's matrix_rank cutoff, s_max * max(shape) * eps."""
    if s.size == 0 or s[0] == 0:
        return 0
    tol = s[0] * len(s) * np.finfo(s.dtype).eps
    return int(np.sum(s > tol))


@dataclass(frozen=True, eq=False)
class Problem:
    """One instance of the factorisation problem; arrays are read-only.

    Attributes:
        A: target map, (ydim, xdim).
        weights: initial layer matrices (W1, ..., WN), Wk (n_{k-1}, n_k); the model is the product
            W1 @ ... @ WN (the post's order: WN acts on x first).
        S: second moment of the inputs, (xdim, xdim): X X^T, or the identity for the expected loss.
        X: the samples, (xdim, nsamples), or None for the expected loss.
        family: "post" or "conditioned".
        seed: the RandomState seed that drew everything.
        init: one of :data:`linnet.problems.inits.INITS`.
        row_scale: the post family's scale of A's last row (1e-5); None in the conditioned family.
        target_kappa: the conditioned family's requested kappa(A); None in the post family.
    """

    A: np.ndarray
    weights: tuple[np.ndarray, ...]
    S: np.ndarray
    X: np.ndarray | None
    family: str
    seed: int
    init: str
    row_scale: float | None = None
    target_kappa: float | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    # -- dimensions ---------------------------------------------------------------------------
    @property
    def xdim(self) -> int:
        return self.A.shape[1]

    @property
    def ydim(self) -> int:
        return self.A.shape[0]

    @property
    def depth(self) -> int:
        """Number of layers N."""
        return len(self.weights)

    @property
    def widths(self) -> tuple[int, ...]:
        """Hidden widths (h1, ..., h_{N-1}); () for one layer."""
        return tuple(int(W.shape[1]) for W in self.weights[:-1])

    @property
    def wdim(self) -> int:
        """The narrowest hidden width (the post's wdim at depth 2); min(ydim, xdim) for one layer.

        The product has rank at most min(ydim, xdim, wdim).
        """
        return min(self.widths) if self.widths else min(self.ydim, self.xdim)

    @property
    def nsamples(self) -> int:
        """Number of samples; 0 means the expected (population) loss, S = I."""
        return 0 if self.X is None else self.X.shape[1]

    @property
    def dtype(self) -> np.dtype:
        return self.A.dtype

    # -- derived quantities (computed once) -----------------------------------------------------
    def _cached(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    @property
    def singular_values(self) -> np.ndarray:
        """Singular values of A, largest first."""
        return self._cached("s", lambda: singular_values(self.A.astype(np.float64)))

    @property
    def rank(self) -> int:
        """Numerical rank of A."""
        return numerical_rank(self.singular_values)

    @property
    def kappa(self) -> float:
        """Condition number of A over its nonzero singular values, s_max / s_rank."""
        s = self.singular_values
        return float(s[0] / s[self.rank - 1]) if self.rank else float("inf")

    @property
    def Y(self) -> np.ndarray:
        """Targets Y = A X, (ydim, nsamples); only for sample problems."""
        if self.X is None:
            raise LinnetError("the expected-loss problem (nsamples=0) has no samples Y")
        return self._cached("Y", lambda: frozen(self.A @ self.X))

    @property
    def y_norm2(self) -> float:
        """||Y||_F^2 = tr(A S A^T): the loss of the zero map; ||A||_F^2 for the expected loss.

        Relative losses in linnet are loss / y_norm2.
        """
        return self._cached("y2", lambda: float(np.vdot(self.A @ self.S, self.A)))

    @property
    def S_factor(self) -> np.ndarray:
        """C with S = C C^T, (xdim, k), from the eigendecomposition of S (k = rank of S).

        Lets Gauss-Newton methods work with xdim columns in place of nsamples: for any M,
        tr(M S M^T) = ||M C||_F^2.
        """

        def compute():
            e, V = np.linalg.eigh(self.S.astype(np.float64))
            keep = e > e.max() * self.xdim * np.finfo(np.float64).eps
            return frozen((V[:, keep] * np.sqrt(e[keep])).astype(self.dtype))

        return self._cached("C", compute)

    def describe(self) -> dict[str, Any]:
        """Plain-data metadata (JSON-ready): family, seed, dims, depth, widths, nsamples, init, kappa..."""
        return {
            "family": self.family,
            "seed": self.seed,
            "xdim": self.xdim,
            "wdim": self.wdim,
            "ydim": self.ydim,
            "depth": self.depth,
            "widths": list(self.widths),
            "nsamples": self.nsamples,
            "init": self.init,
            "row_scale": self.row_scale,
            "target_kappa": self.target_kappa,
            "kappa": self.kappa,
            "rank": self.rank,
            "y_norm2": self.y_norm2,
            "dtype": str(self.dtype),
        }

    # -- variants -----------------------------------------------------------------------------
    def with_weights(self, weights: Iterable[np.ndarray], init: str | None = None) -> Problem:
        """The same problem started from other layer matrices (same shapes)."""
        weights = tuple(frozen(np.asarray(w, dtype=self.dtype)) for w in weights)
        for old, new in zip(self.weights, weights, strict=True):
            if old.shape != new.shape:
                raise LinnetError(f"weight shape {new.shape} does not match {old.shape}")
        return replace(self, weights=weights, init=init or self.init, _cache=dict(self._cache))

    def balanced(self) -> Problem:
        """The same initial product, refactored so that W_k^T W_k = W_{k+1} W_{k+1}^T for every k."""
        return self.with_weights(balanced_factors(self.weights), init="balanced")

    def astype(self, dtype: DTypeLike) -> Problem:
        """The same problem with every array cast to dtype (e.g. np.float32)."""
        dtype = np.dtype(dtype)
        cast: Callable[[Any], Any] = lambda a: None if a is None else frozen(a.astype(dtype))  # noqa: E731
        return replace(
            self,
            A=cast(self.A),
            S=cast(self.S),
            X=cast(self.X),
            weights=tuple(cast(w) for w in self.weights),
            _cache={k: v for k, v in self._cache.items() if k == "s"},
        )
