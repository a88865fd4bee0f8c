"""Kronecker-factored preconditioners: ``shampoo`` and ``soap`` (numpy only; Keras has neither).

For a layer W (rows, cols) with gradient G, or stacks (B, rows, cols) in the batched loop, both
keep a left factor L (rows, rows) and a right factor R (cols, cols) of the gradients' second
moments; lr_t is the step size of :mod:`linnet.optimizers.schedules`.

* ``shampoo`` (Gupta, Koren & Singer 2018, "Shampoo: Preconditioned Stochastic Tensor
  Optimization", Algorithm 1, the matrix case):

      L0 = eps I,  R0 = eps I;   L <- L + G G^T;   R <- R + G^T G;   W <- W - lr_t L^{-p} G R^{-p}

  with p = 1/4 (``exponent``; 1/(2k) for a tensor of order k, Algorithm 2). The roots come from the
  eigendecomposition of the symmetric PSD factors (:func:`inverse_root`); eigenvalues at most
  max(rows, cols) * machine eps * the largest count as zero (a pseudo-inverse root), so ``epsilon=0``
  is allowed: then one step from zero statistics is L^{-1/4} G R^{-1/4} = U V^T for G = U S V^T,
  the polar factor (Bernstein & Newhouse 2024, "Old Optimizer, New Norm: An Anthology",
  arXiv 2409.20325), the direction of ``muon[polar=exact]``. ``frequency`` (default 1: every step,
  Algorithm 1) recomputes the roots only at step 1 and every ``frequency`` steps (SOAP's schedule
  below) and applies the last ones in between, while L and R still take every gradient: how Anil
  et al. 2020, "Scalable Second Order Optimization for Deep Learning" (arXiv 2002.09018), spread
  the cost of the roots; their implementation's ``preconditioning_compute_steps``
  (google-research/google-research, scalable_shampoo/optax/distributed_shampoo.py, whose docstring
  says "Ideally set this ... to 1"). The eigendecompositions are most of a step's time in the
  batched loop (LAPACK factors one small matrix at a time). Stale roots do not follow the growing
  factors: on the post problem at lr 0.1 (seeds 0-199, 3000 steps) frequency 10 diverged on 196
  seeds and frequency 2 on none.
* ``soap`` (Vyas et al. 2024, "SOAP: Improving and Stabilizing Shampoo using Adam", arXiv 2409.11321,
  Algorithm 3): Adam run in the eigenbasis Q_L, Q_R of Shampoo's factors, refreshed every
  ``frequency`` steps:

      G' = Q_L^T G Q_R;  M <- b1 M + (1 - b1) G;  M' = Q_L^T M Q_R;  V <- b2 V + (1 - b2) G' * G'
      W <- W - alpha_t Q_L (M' / (sqrt(V) + eps)) Q_R^T,  alpha_t = lr_t sqrt(1 - b2^t) / (1 - b1^t)
      L <- bs L + (1 - bs) G G^T;  R <- bs R + (1 - bs) G^T G
      Q_L, Q_R <- eigenvectors of L, R  after step 1 and every ``frequency`` steps

  M is kept in the original coordinates and V in the rotated ones, as the paper's Algorithm 3; the
  bias correction is Adam's (the authors' code, ``correct_bias=True``); ``frequency`` is the
  authors' ``precondition_frequency``. Defaults b1 = b2 = bs = 0.95, eps 1e-8, frequency 10
  (linnet's choice; set them in the spec). Q starts at the identity, so step 1 is Adam's; the
  authors' code instead spends the first gradient on the factors without moving the layers. Q
  comes from an exact eigendecomposition at each refresh (the paper's Algorithm 3; the authors'
  code refreshes by one power iteration and a QR step), in ascending order of the eigenvalues each
  time, so V's coordinates keep their rank in the spectrum. No weight decay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from linnet.core.errors import LinnetError
from linnet.core.validation import check_fraction, check_positive
from linnet.optimizers.first_order import FirstOrder, zeros_like_layers
from linnet.optimizers.linalg.cutoff import rcond_ratio
from linnet.optimizers.registration import register
from linnet.optimizers.schedules import check_lr_decay, scheduled


def _t(M: np.ndarray) -> np.ndarray:
    return np.swapaxes(M, -1, -2)


def eigh_finite(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.linalg.eigh`` of a symmetric matrix or stack, NaN for a matrix that is not finite (so a
    diverging run reports a non-finite loss instead of eigh raising)."""
    if np.isfinite(M).all():  # the usual case: no masked copies
        return np.linalg.eigh(M)
    finite = np.isfinite(M).all(axis=(-2, -1), keepdims=True)
    w, Q = np.linalg.eigh(np.where(finite, M, 0))
    return np.where(finite[..., 0], w, np.nan), np.where(finite, Q, np.nan)


def inverse_root(M: np.ndarray, p: float) -> np.ndarray:
    """M^{-p} of a symmetric PSD matrix or stack (..., n, n), by its eigendecomposition; eigenvalues
    at most n * eps * the largest are taken as zero (their inverse root is 0: a pseudo-inverse root)."""
    w, Q = eigh_finite(M)
    keep = w > rcond_ratio("default", M.shape[-2:], M.dtype) * np.max(w, axis=-1, keepdims=True)
    root = np.where(keep, np.where(keep, w, 1) ** -p, 0).astype(M.dtype, copy=False)
    return (Q * root[..., None, :]) @ np.ascontiguousarray(_t(Q))  # a transposed right factor is slower on stacks


def identities(weights, scale: float = 1.0) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """scale * I shaped as the left (..., rows, rows) and right (..., cols, cols) factor of each layer."""
    def eye(W, n):
        return np.broadcast_to(np.asarray(scale * np.eye(n), dtype=W.dtype), W.shape[:-2] + (n, n)).copy()
    return tuple(eye(W, W.shape[-2]) for W in weights), tuple(eye(W, W.shape[-1]) for W in weights)


def gram_pair(G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(G G^T, G^T G) of a matrix or stack G (..., rows, cols): (..., rows, rows) and (..., cols, cols).

    Both from one transposed copy of G: numpy computes G @ G^T, with G^T a view of G's own buffer, as
    a syrk per matrix and then mirrors it, which on the batched loop's stacks of tiny matrices is
    slower than a copy and a plain product (measured 1.6x for a (1000, 10, 6) stack); the products
    are the same to the last bit on the post problem."""
    Gt = np.ascontiguousarray(_t(G))
    return G @ Gt, Gt @ G


def check_frequency(owner, frequency: int) -> None:
    """Raise LinnetError unless ``frequency`` is an integer >= 1."""
    if not (isinstance(frequency, int) and frequency >= 1):
        raise LinnetError(f"{owner.name}: frequency must be an integer >= 1, got {frequency!r}")


def refreshes(t: int, frequency: int) -> bool:
    """Whether update t (counted from 1) recomputes the preconditioner: at step 1 and every ``frequency`` steps."""
    return t == 1 or t % frequency == 0


class ShampooState(NamedTuple):
    count: int
    L: tuple[np.ndarray, ...]  #: per layer (..., rows, rows)
    R: tuple[np.ndarray, ...]  #: per layer (..., cols, cols)
    L_root: tuple[np.ndarray, ...]  #: L^{-p} as last computed, (..., rows, rows)
    R_root: tuple[np.ndarray, ...]  #: R^{-p} as last computed, (..., cols, cols)


@register("shampoo")
@dataclass(frozen=True)
class Shampoo(FirstOrder):
    """Shampoo (Gupta et al. 2018, Algorithm 1): W <- W - lr L^{-1/4} G R^{-1/4}, L += G G^T, R += G^T G;
    the roots recomputed every ``frequency`` steps (1: every step)."""

    lr: float
    epsilon: float = 1e-4
    exponent: float = 0.25
    frequency: int = 1
    lr_decay: float = 1.0
    example = "shampoo[lr=0.01]"

    def __post_init__(self):
        check_positive(self, lr=self.lr, exponent=self.exponent)
        if not (isinstance(self.epsilon, (int, float)) and math.isfinite(self.epsilon) and self.epsilon >= 0):
            raise LinnetError(f"{self.name}: epsilon must be a number >= 0, got {self.epsilon!r}")
        check_frequency(self, self.frequency)
        check_lr_decay(self, self.lr_decay)

    def initial_state(self, weights):
        return ShampooState(0, *identities(weights, self.epsilon), *identities(weights))

    def step(self, weights, grads, state, lr):
        t = state.count + 1
        lr = scheduled(lr, self.lr_decay, state.count)
        grams = [gram_pair(G) for G in grads]
        L = tuple(L + left for L, (left, _) in zip(state.L, grams))
        R = tuple(R + right for R, (_, right) in zip(state.R, grams))
        if refreshes(t, self.frequency):
            L_root = tuple(inverse_root(l, self.exponent) for l in L)
            R_root = tuple(inverse_root(r, self.exponent) for r in R)
        else:
            L_root, R_root = state.L_root, state.R_root
        new = tuple(W - lr * (l @ G @ r) for W, G, l, r in zip(weights, grads, L_root, R_root))
        return new, ShampooState(t, L, R, L_root, R_root)


class SOAPState(NamedTuple):
    count: int
    m: tuple[np.ndarray, ...]  #: Adam's first moment, original coordinates
    v: tuple[np.ndarray, ...]  #: Adam's second moment, rotated coordinates
    L: tuple[np.ndarray, ...]
    R: tuple[np.ndarray, ...]
    QL: tuple[np.ndarray, ...]  #: eigenvectors of L, (..., rows, rows)
    QR: tuple[np.ndarray, ...]  #: eigenvectors of R, (..., cols, cols)


@register("soap")
@dataclass(frozen=True)
class SOAP(FirstOrder):
    """SOAP (Vyas et al. 2024, Algorithm 3): Adam in the eigenbasis of Shampoo's factors."""

    lr: float
    beta_1: float = 0.95
    beta_2: float = 0.95
    shampoo_beta: float = 0.95
    epsilon: float = 1e-8
    frequency: int = 10
    lr_decay: float = 1.0
    example = "soap[lr=0.003]"

    def __post_init__(self):
        check_positive(self, lr=self.lr, epsilon=self.epsilon)
        check_fraction(self, beta_1=self.beta_1, beta_2=self.beta_2, shampoo_beta=self.shampoo_beta)
        check_frequency(self, self.frequency)
        check_lr_decay(self, self.lr_decay)

    def initial_state(self, weights):
        zeros = zeros_like_layers(weights)
        L, R = identities(weights, 0.0)
        return SOAPState(0, zeros, zeros, L, R, *identities(weights))

    def step(self, weights, grads, state, lr):
        t = state.count + 1
        lr = scheduled(lr, self.lr_decay, state.count)
        b1, b2, bs = self.beta_1, self.beta_2, self.shampoo_beta
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        refresh = refreshes(t, self.frequency)
        out = {key: [] for key in SOAPState._fields[1:]}
        new = []
        for W, G, m, v, L, R, QL, QR in zip(weights, grads, *state[1:]):
            rotated = _t(QL) @ G @ QR
            m = b1 * m + (1 - b1) * G
            v = b2 * v + (1 - b2) * (rotated * rotated)
            direction = QL @ ((_t(QL) @ m @ QR) / (np.sqrt(v) + self.epsilon)) @ np.ascontiguousarray(_t(QR))
            new.append(W - alpha * direction)
            left, right = gram_pair(G)
            L = bs * L + (1 - bs) * left
            R = bs * R + (1 - bs) * right
            if refresh:
                QL, QR = eigh_finite(L)[1], eigh_finite(R)[1]
            for key, value in zip(SOAPState._fields[1:], (m, v, L, R, QL, QR)):
                out[key].append(value)
        return tuple(new), SOAPState(t, *(tuple(out[key]) for key in SOAPState._fields[1:]))
