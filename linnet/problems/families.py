"""Problems: fit a product of layer matrices W1 W2 ... WN to a linear map A.

A problem is an immutable value holding the target map ``A`` (ydim x xdim), the second moment of
the inputs ``S = X X^T`` (xdim x xdim), the samples ``X`` (xdim x nsamples) where there are any,
and the initial layer matrices ``weights = (W1, ..., WN)``, Wk of shape (n_{k-1}, n_k) with widths
(n_0, ..., n_N) = (ydim, h1, ..., h_{N-1}, xdim). The post's net is depth 2: W1 (ydim x wdim),
W2 (wdim x xdim).

Because ``Y = A X`` exactly, the post's sample-sum loss is a trace form (docs/design.md, "The problem")::

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
Initialisations (``init=``) are those of :mod:`linnet.problems.inits`.
"""

from __future__ import annotations

import numpy as np

from linnet.core.errors import LinnetError
from linnet.problems.inits import initial_weights, layer_shapes
from linnet.problems.problem import Problem, frozen

#: The post's defaults: x in R^6, a 6-wide hidden layer, y in R^10, 1000 samples, cond = 1e-5.
POST_DIMS = {"xdim": 6, "wdim": 6, "ydim": 10}
POST_NSAMPLES = 1000
POST_COND = 1e-5

FAMILIES = ("post", "conditioned")
#: the problem parameters, with the type of one value: what :func:`make_problem` takes (``family``
#: names the constructor, ``dtype`` casts the problem), what a sweep's grid may vary and what an
#: experiment's :class:`~linnet.runs.experiment.Member` describes; defined here once
PARAMETERS: dict[str, type] = {
    "family": str, "seed": int, "kappa": float, "cond": float, "nsamples": int, "xdim": int, "wdim": int,
    "ydim": int, "rank": int, "depth": int, "widths": tuple, "init": str, "init_scale": float, "dtype": str,
}


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
        A=frozen(A),
        weights=tuple(frozen(w) for w in weights),
        S=frozen(S),
        X=None if X is None else frozen(X),
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

