"""Initial layer matrices of a depth-N linear net, and the balanced factorisation of a product.

Layers ``(W1, ..., WN)``, Wk of shape (n_{k-1}, n_k) with n_0 = ydim, n_N = xdim and hidden widths
``widths = (n_1, ..., n_{N-1})``; the model is P = W1 W2 ... WN (the post's order: WN acts on x
first). Every initialisation first draws W1, ..., WN = randn(n_{k-1}, n_k) in turn from the
problem's ``RandomState`` (the post's draw, extended in its own order), so the draws that follow
(A, X) are the same whatever the initialisation:

* ``gaussian`` -- the draw itself (the post's ``randn``).
* ``small`` -- the draw times ``init_scale`` (default :data:`SMALL_INIT_SCALE`): the small
  initialisation of Saxe, McClelland & Ganguli (2014), section 2.
* ``balanced`` -- the Gaussian draw's product P, refactored so that W_k^T W_k = W_{k+1} W_{k+1}^T
  for every k (:func:`balanced_factors`; Arora, Cohen, Golowich & Hu 2019, Definition 1).
* ``orthogonal`` -- the orthonormal factor of the draw (QR with the sign of R's diagonal fixed,
  Mezzadri 2007, "How to generate random matrices from the classical compact groups", so Haar
  distributed); orthonormal columns or rows, whichever the shape allows (Saxe et al. 2014, section 3).
* ``identity`` -- every layer the identity (Bartlett, Helmbold & Long 2018); square layers only.
* ``fan-in`` -- the draw divided by sqrt(n_k), i.e. variance 1 / fan-in (Du & Hu 2019, section 3,
  up to their constant; LeCun et al. 1998, "Efficient BackProp", section 4.6).
"""

from __future__ import annotations

import numpy as np

from linnet.core.errors import LinnetError

#: Standard deviation of the "small" initialisation (the default ``init_scale``).
SMALL_INIT_SCALE = 1e-2

INITS = ("gaussian", "small", "balanced", "orthogonal", "identity", "fan-in")


def layer_shapes(ydim: int, widths, xdim: int) -> list[tuple[int, int]]:
    """[(n_{k-1}, n_k) for k = 1..N] for dims (ydim, *widths, xdim)."""
    dims = (ydim, *widths, xdim)
    return [(dims[k], dims[k + 1]) for k in range(len(dims) - 1)]


def _orthonormal(G: np.ndarray) -> np.ndarray:
    """The Q factor of G (n, m) with orthonormal columns (n >= m) or rows (n < m), signs fixed."""
    tall = G.shape[0] >= G.shape[1]
    Q, R = np.linalg.qr(G if tall else G.T)
    Q = Q * np.where(np.diag(R) < 0, -1.0, 1.0)
    return Q if tall else Q.T


def balanced_from_product(P: np.ndarray, shapes) -> tuple[np.ndarray, ...]:
    """Factor P (ydim, xdim) into layers of ``shapes`` with B_k^T B_k = B_{k+1} B_{k+1}^T for every k.

    From the thin SVD P = U diag(s) V^T and r = the smallest dimension of any layer: B1 =
    U_r diag(s_r^(1/N)), B_k = diag(s_r^(1/N)) for 1 < k < N and BN = diag(s_r^(1/N)) V_r^T, each
    placed in the top-left corner of a zero matrix of its layer's shape. Then B_k^T B_k =
    diag(s_r^(2/N)) (padded) = B_{k+1} B_{k+1}^T: the balanced initialisation of Arora, Cohen &
    Hazan (2018) and Arora, Cohen, Golowich & Hu (2019), Definition 1. The product is P's best
    rank-r approximation (P itself when its rank is at most r).
    """
    n = len(shapes)
    if n == 1:
        return (np.array(P),)
    U, s, Vt = np.linalg.svd(P, full_matrices=False)
    r = min(min(shape) for shape in shapes)
    root = s[:r] ** (1.0 / n)
    out = [np.zeros(shape, dtype=P.dtype) for shape in shapes]
    out[0][:, :r] = U[:, :r] * root
    for k in range(1, n - 1):
        out[k][:r, :r] = np.diag(root)
    out[-1][:r, :] = root[:, None] * Vt[:r]
    return tuple(out)


def balanced_factors(weights) -> tuple[np.ndarray, ...]:
    """The same product W1 ... WN, refactored balanced (:func:`balanced_from_product`); same shapes."""
    P = weights[0]
    for W in weights[1:]:
        P = P @ W
    return balanced_from_product(P, [W.shape for W in weights])


def initial_weights(rs: np.random.RandomState, init: str, shapes, init_scale: float | None = None):
    """Draw W1..WN = randn(n_{k-1}, n_k) in turn from ``rs``, then apply ``init`` (module docstring)."""
    if init not in INITS:
        raise LinnetError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    if init_scale is not None:
        if init != "small":
            raise LinnetError(f"init_scale applies to init=small, not init={init}")
        if not np.isfinite(init_scale) or init_scale <= 0:
            raise LinnetError(f"init_scale must be a positive number, got {init_scale!r}")
    if init == "identity" and any(a != b for a, b in shapes):
        raise LinnetError(f"init=identity needs square layers (ydim = every width = xdim), got layer shapes "
                          f"{', '.join(f'{a}x{b}' for a, b in shapes)}")
    draw = [rs.randn(*shape) for shape in shapes]
    if init == "small":
        return tuple((SMALL_INIT_SCALE if init_scale is None else init_scale) * W for W in draw)
    if init == "balanced":
        return balanced_factors(draw)
    if init == "orthogonal":
        return tuple(_orthonormal(W) for W in draw)
    if init == "identity":
        return tuple(np.eye(a) for a, _ in shapes)
    if init == "fan-in":
        return tuple(W / np.sqrt(W.shape[1]) for W in draw)
    return tuple(draw)
