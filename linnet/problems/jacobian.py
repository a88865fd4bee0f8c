"""The Jacobian of a product of layers, in structured form: products with it, never the matrix.

Layers ``weights = (W1, ..., WN)`` with Wk of shape (n_{k-1}, n_k), n_0 = ydim and n_N = xdim; the
model is P = W1 W2 ... WN (ydim, xdim). With S = C C^T (``problem.S_factor``, C of shape (xdim, m))
the loss tr(R S R^T), R = P - A, is ||R C||_F^2: the squared norm of the residual matrix R C (ydim, m).

Perturbing layer k alone by dWk changes P, to first order, by Pre_k dWk Suf_k, where

    Pre_k = W1 ... W_{k-1}   (ydim, n_{k-1}; the identity for k = 1),
    Suf_k = W_{k+1} ... WN   (n_k, xdim;     the identity for k = N),

so the Jacobian J of the residual R C with respect to the layers acts as

    J (dW1, ..., dWN) = sum_k Pre_k dWk Suf_k C                       (ydim, m)   (:func:`jvp`)
    J^T V             = (Pre_k^T V C^T Suf_k^T  for each k)           layer shapes (:func:`vjp`)
    J J^T V           = sum_k L_k V R_k,   L_k = Pre_k Pre_k^T (ydim, ydim),
                                           R_k = (Suf_k C)^T (Suf_k C) (m, m)   (:func:`row_gram_apply`).

Each product costs a few matrix multiplications of the layers' sizes, independent of nsamples, and
no array larger than a layer, P or S is formed. In the column-major vec that
:mod:`linnet.optimizers.linalg.gauss_newton` uses (vec(B M D) = (D^T kron B) vec(M)), J's block for layer k is
(Suf_k C)^T kron Pre_k and J J^T = sum_k R_k kron L_k; :func:`dense_jacobian` forms J that way, as
the oracle the structured products are tested against at small sizes.

**Stacks.** Every function but :func:`dense_jacobian` also takes stacks: layers (B, n_{k-1}, n_k),
C (B, xdim, m) and V (B, ydim, m), computing each member's result with the same matmul calls as
one member alone (numpy's matmul calls BLAS once per matrix of a stack), so bit for bit as the
unstacked call (tests/test_batched_second_order.py checks this); :mod:`linnet.runs.batched_steps`
relies on it.

The gradient of the loss is 2 J^T (R C) with V = R C: dL/dWk = 2 Pre_k^T R S Suf_k^T, the matrix
calculus of Saxe, McClelland & Ganguli (2014), eq. 2, generalised to N layers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class PartialProducts(NamedTuple):
    """Prefix and suffix products of the layers (see the module docstring).

    Attributes:
        prefixes: prefixes[k] = W1 ... W_k (0-based: the product of the layers before layer k+1),
            i.e. Pre_{k+1} = prefixes[k] with prefixes[0] = None standing for the identity.
        suffixes: suffixes[k] = W_{k+2} ... WN, the product of the layers after layer k+1, with
            suffixes[N-1] = None standing for the identity.
    """

    prefixes: tuple
    suffixes: tuple


def partial_products(weights) -> PartialProducts:
    """Prefix and suffix products of ``weights`` in 2 (N - 2) matrix multiplications (N >= 1 layers)."""
    n = len(weights)
    prefixes = [None] * n
    for k in range(1, n):
        prefixes[k] = weights[0] if k == 1 else prefixes[k - 1] @ weights[k - 1]
    suffixes = [None] * n
    for k in range(n - 2, -1, -1):
        suffixes[k] = weights[n - 1] if k == n - 2 else weights[k + 1] @ suffixes[k + 1]
    return PartialProducts(tuple(prefixes), tuple(suffixes))


def _t(M: np.ndarray) -> np.ndarray:
    """The transpose of a matrix or of each matrix of a stack (the last two axes)."""
    return M.swapaxes(-1, -2)


def _left(M, X):
    """M @ X, with M = None standing for the identity."""
    return X if M is None else M @ X


def _right(X, M):
    """X @ M, with M = None standing for the identity."""
    return X if M is None else X @ M


def suffix_times(parts: PartialProducts, C: np.ndarray | None) -> tuple:
    """Suf_k C for each layer k: (n_k, m), or Suf_k itself when C is None (S = I)."""
    return tuple(C if s is None and C is not None else _right(s, C) for s in parts.suffixes)


def jvp(weights, deltas, C: np.ndarray | None = None, parts: PartialProducts | None = None) -> np.ndarray:
    """J (dW1, ..., dWN) = sum_k Pre_k dWk Suf_k C, shape (ydim, m) (m = xdim when C is None)."""
    parts = partial_products(weights) if parts is None else parts
    out = None
    for pre, suf, d in zip(parts.prefixes, suffix_times(parts, C), deltas, strict=True):
        term = _right(_left(pre, d), suf)
        out = term if out is None else out + term
    return out


def vjp(weights, V: np.ndarray, C: np.ndarray | None = None, parts: PartialProducts | None = None) -> tuple:
    """J^T V = (Pre_k^T V C^T Suf_k^T for each layer k), V of shape (ydim, m); layer shapes."""
    parts = partial_products(weights) if parts is None else parts
    out = []
    for pre, suf in zip(parts.prefixes, suffix_times(parts, C), strict=True):
        G = V if pre is None else _t(pre) @ V
        out.append(G if suf is None else G @ _t(suf))
    return tuple(out)


def row_factors(weights, C: np.ndarray | None = None, parts: PartialProducts | None = None) -> list:
    """The Kronecker factors (L_k, R_k) of J J^T = sum_k R_k kron L_k; L_k (ydim, ydim), R_k (m, m).

    A factor that is the identity is returned as None (the first layer's L, the last layer's R
    when S = I).
    """
    parts = partial_products(weights) if parts is None else parts
    out = []
    for pre, suf in zip(parts.prefixes, suffix_times(parts, C), strict=True):
        L = None if pre is None else pre @ _t(pre)
        R = None if suf is None else _t(suf) @ suf
        out.append((L, R))
    return out


def row_gram_apply(factors, V: np.ndarray) -> np.ndarray:
    """J J^T V = sum_k L_k V R_k for V (ydim, m), from :func:`row_factors`."""
    out = None
    for L, R in factors:
        term = _right(_left(L, V), R)
        out = term if out is None else out + term
    return out


def dense_jacobian(weights, C: np.ndarray | None = None) -> np.ndarray:
    """J as a matrix, (ydim m, sum_k n_{k-1} n_k), column-major vec of R C and of each layer.

    Column block k is (Suf_k C)^T kron Pre_k. For tests and small problems only: it has
    ydim m nparams entries.
    """
    parts = partial_products(weights)
    ydim = weights[0].shape[0]
    blocks = []
    for W, pre, suf in zip(weights, parts.prefixes, suffix_times(parts, C), strict=True):
        left = np.eye(ydim, dtype=W.dtype) if pre is None else pre
        right = np.eye(W.shape[1], dtype=W.dtype) if suf is None else suf
        blocks.append(np.kron(right.T, left))
    return np.hstack(blocks)
