"""Problems: fit a product of layer matrices W1 W2 ... WN to a linear map A.

A problem is an immutable value holding the target map ``A`` (ydim x xdim), the second moment of
the inputs ``S = X X^T`` (xdim x xdim), the samples ``X`` (xdim x nsamples) where there are any,
and the initial layer matrices ``weights = (W1, ..., WN)``, Wk of shape (n_{k-1}, n_k) with widths
(n_0, ..., n_N) = (ydim, h1, ..., h_{N-1}, xdim). The post's net is depth 2: W1 (ydim x wdim),
W2 (wdim x xdim).

Because ``Y = A X`` exactly, the post's sample-sum loss is a trace form (DESIGN.md, "The problem")::

    sum_i ||W1 W2 x_i - A x_i||^2 = tr((W1 W2 - A) S (W1 W2 - A)^T),

and the expected loss over x ~ N(0, I) is the same form with S = I (``nsamples=0``). Every loss,
gradient and Gauss-Newton system in linnet is computed from S, so no step costs more with more
samples.

Two families:

* :func:`post_problem` -- the post's construction, draw for draw (numpy ``RandomState(seed)``,
  order W1, ..., WN, A, X). Its A is *not* badly conditioned: only the last row is scaled by
  ``row_scale`` = 1e-5.
* :func:`conditioned_problem` -- A = U diag(s) V^T with s log-spaced from 1 to 1/kappa and
  rank(A) <= the narrowest width, so kappa(A) is exactly what is asked and the problem is realizable.

Depth and widths: ``depth=N`` with every hidden width ``wdim`` (default 2, the post), or
``widths=(h1, ..., h_{N-1})`` (then depth = len(widths) + 1; ``widths=()`` is the one-layer model).
Initialisations (``init=``) are those of :mod:`linnet.inits`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from linnet.errors import LinnetError
from linnet.inits import INITS, SMALL_INIT_SCALE, balanced_factors, initial_weights, layer_shapes

__all__ = ["INITS", "SMALL_INIT_SCALE", "Problem", "balanced_factors", "conditioned_problem", "make_problem",
           "post_problem"]

#: The post's defaults: x in R^6, a 6-wide hidden layer, y in R^10, 1000 samples, cond = 1e-5.
POST_DIMS = {"xdim": 6, "wdim": 6, "ydim": 10}
POST_NSAMPLES = 1000
POST_COND = 1e-5

FAMILIES = ("post", "conditioned")


def _frozen(a: np.ndarray) -> np.ndarray:
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
        init: one of :data:`linnet.inits.INITS`.
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
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

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
    def _cached(self, key, compute):
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
        return self._cached("Y", lambda: _frozen(self.A @ self.X))

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
            return _frozen((V[:, keep] * np.sqrt(e[keep])).astype(self.dtype))

        return self._cached("C", compute)

    def describe(self) -> dict:
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
    def with_weights(self, weights, init: str | None = None) -> Problem:
        """The same problem started from other layer matrices (same shapes)."""
        weights = tuple(_frozen(np.asarray(w, dtype=self.dtype)) for w in weights)
        for old, new in zip(self.weights, weights, strict=True):
            if old.shape != new.shape:
                raise LinnetError(f"weight shape {new.shape} does not match {old.shape}")
        return replace(self, weights=weights, init=init or self.init, _cache=dict(self._cache))

    def balanced(self) -> Problem:
        """The same initial product, refactored so that W_k^T W_k = W_{k+1} W_{k+1}^T for every k."""
        return self.with_weights(balanced_factors(self.weights), init="balanced")

    def astype(self, dtype) -> Problem:
        """The same problem with every array cast to dtype (e.g. np.float32)."""
        dtype = np.dtype(dtype)
        cast = lambda a: None if a is None else _frozen(a.astype(dtype))  # noqa: E731
        return replace(
            self,
            A=cast(self.A),
            S=cast(self.S),
            X=cast(self.X),
            weights=tuple(cast(w) for w in self.weights),
            _cache={k: v for k, v in self._cache.items() if k == "s"},
        )


def _check_dims(xdim, ydim, widths, nsamples, seed):
    if not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise LinnetError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    for name, value in (("xdim", xdim), ("ydim", ydim), *(("width", w) for w in widths)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise LinnetError(f"{name} must be a positive integer, got {value!r}")
    if not isinstance(nsamples, (int, np.integer)) or nsamples < 0:
        raise LinnetError(f"nsamples must be a non-negative integer (0 = expected loss), got {nsamples!r}")


def hidden_widths(wdim: int, depth: int | None, widths) -> tuple[int, ...]:
    """The hidden widths (h1, ..., h_{N-1}): ``widths`` if given, else ``wdim`` repeated depth - 1 times."""
    if widths is not None:
        widths = tuple(widths)
        if depth is not None and depth != len(widths) + 1:
            raise LinnetError(f"depth {depth} needs {depth - 1} hidden widths, got {len(widths)}")
        return widths
    depth = 2 if depth is None else depth
    if not isinstance(depth, (int, np.integer)) or depth < 1:
        raise LinnetError(f"depth must be an integer >= 1, got {depth!r}")
    return (wdim,) * (depth - 1)


def _finish(A, weights, X, family, seed, init, **parameter) -> Problem:
    S = np.eye(A.shape[1]) if X is None else X @ X.T
    return Problem(
        A=_frozen(A),
        weights=tuple(_frozen(w) for w in weights),
        S=_frozen(S),
        X=None if X is None else _frozen(X),
        family=family,
        seed=int(seed),
        init=init,
        **{k: float(v) for k, v in parameter.items()},
    )


def post_problem(
    seed: int = 0,
    *,
    xdim: int = POST_DIMS["xdim"],
    wdim: int = POST_DIMS["wdim"],
    ydim: int = POST_DIMS["ydim"],
    nsamples: int = POST_NSAMPLES,
    cond: float = POST_COND,
    init: str = "gaussian",
    depth: int | None = None,
    widths=None,
    init_scale: float | None = None,
) -> Problem:
    """The post's problem, drawn exactly as its ``train_nets`` does, extended to N layers.

    ``RandomState(seed)`` draws, in order: Wk = randn(n_{k-1}, n_k) for k = 1..N, then
    A = linspace(1, cond, ydim)[:, None] * rand(ydim, xdim), X = randn(xdim, nsamples); at depth 2
    this is the post draw for draw. ``cond`` is the last row's scale (``Problem.row_scale``).
    ``nsamples=0`` gives the expected loss ||W1 ... WN - A||_F^2 (no X is drawn).
    """
    widths = hidden_widths(wdim, depth, widths)
    _check_dims(xdim, ydim, widths, nsamples, seed)
    if not np.isfinite(cond) or cond <= 0:
        raise LinnetError(f"cond must be a positive number, got {cond!r}")
    rs = np.random.RandomState(seed)
    weights = initial_weights(rs, init, layer_shapes(ydim, widths, xdim), init_scale)
    A = np.linspace(1, cond, ydim)[:, None] * rs.rand(ydim, xdim)
    X = rs.randn(xdim, nsamples) if nsamples else None
    return _finish(A, weights, X, "post", seed, init, row_scale=cond)


def conditioned_problem(
    kappa: float = 1e5,
    seed: int = 0,
    *,
    xdim: int = POST_DIMS["xdim"],
    wdim: int = POST_DIMS["wdim"],
    ydim: int = POST_DIMS["ydim"],
    nsamples: int = POST_NSAMPLES,
    rank: int | None = None,
    init: str = "gaussian",
    depth: int | None = None,
    widths=None,
    init_scale: float | None = None,
) -> Problem:
    """A realizable problem whose A has condition number exactly ``kappa``.

    A = U diag(s) V^T with s = logspace(0, -log10(kappa), rank), U (ydim, rank) and V (xdim, rank)
    orthonormal (QR of Gaussian matrices). ``rank`` defaults to min(xdim, ydim, narrowest width)
    and must be at most every hidden width, or no product could equal A. ``RandomState(seed)``
    draws W1, ..., WN, then U, V, then X.
    """
    widths = hidden_widths(wdim, depth, widths)
    _check_dims(xdim, ydim, widths, nsamples, seed)
    if not np.isfinite(kappa) or kappa < 1:
        raise LinnetError(f"kappa must be a finite number >= 1, got {kappa!r}")
    narrowest = min((xdim, ydim, *widths))
    rank = narrowest if rank is None else rank
    if rank < 1 or rank > min(xdim, ydim):
        raise LinnetError(f"rank must be between 1 and min(xdim, ydim) = {min(xdim, ydim)}, got {rank}")
    if rank > narrowest:
        raise LinnetError(f"wdim = {narrowest} < rank = {rank}: no product of the layers can equal A")
    if rank == 1 and kappa != 1:
        raise LinnetError("a rank-1 A has kappa = 1; ask for rank >= 2")
    rs = np.random.RandomState(seed)
    weights = initial_weights(rs, init, layer_shapes(ydim, widths, xdim), init_scale)
    U, _ = np.linalg.qr(rs.randn(ydim, rank))
    V, _ = np.linalg.qr(rs.randn(xdim, rank))
    s = np.logspace(0, -np.log10(kappa), rank)
    A = (U * s) @ V.T
    X = rs.randn(xdim, nsamples) if nsamples else None
    return _finish(A, weights, X, "conditioned", seed, init, target_kappa=kappa)


def make_problem(family: str = "post", **kwargs) -> Problem:
    """Build a problem by family name ("post" or "conditioned"); kwargs go to its constructor."""
    if family == "post":
        if "kappa" in kwargs:
            raise LinnetError("kappa applies to the conditioned family; the post's A has cond")
        return post_problem(**kwargs)
    if family == "conditioned":
        if "cond" in kwargs:
            raise LinnetError("cond applies to the post family; the conditioned family has kappa")
        return conditioned_problem(**kwargs)
    raise LinnetError(f"unknown problem {family!r}; choose one of {', '.join(FAMILIES)}")

