"""Orthogonalised updates: ``muon`` and the Newton-Schulz iteration it runs.

Muon (Jordan et al. 2024, "Muon: An optimizer for hidden layers in neural networks",
kellerjordan.github.io/posts/muon; with the update scale of Liu et al. 2025, "Muon is Scalable for
LLM Training", arXiv 2502.16982) as Keras 3's ``keras.optimizers.Muon`` (keras/src/optimizers/muon.py),
for a layer W (rows, cols) with gradient g, or stacks (B, rows, cols) in the batched loop:

    W <- W - W wd lr_t                                  (weight decay first, Keras' _apply_weight_decay)
    m <- m + (g + m (mu - 1))                           (= mu m + g)
    d = g + mu m  (nesterov)  or  d = m
    W <- W - (lr_t O(d)) sqrt(max(rows, cols)) rms_rate

O(d) is :func:`newton_schulz` (``polar=newton-schulz``, Keras' ``zeropower_via_newtonschulz5``) or
the exact polar factor U V^T of d = U S V^T (``polar=exact``, :func:`polar_factor`: the matrix that
Newton-Schulz approximates, as an oracle). Defaults as Keras: mu 0.95, nesterov, 5 Newton-Schulz
steps with (a, b, c) = (3.4445, -4.7750, 2.0315), rms_rate 0.2, weight_decay 0.004; lr_t as
:mod:`linnet.optimizers.schedules`. ``muon[lr=0.02]`` is ``keras.optimizers.Muon(learning_rate=0.02)``.

Keras runs AdamW (its ``adam_beta_1``, ``adam_beta_2``, ``adam_weight_decay``, ``adam_lr_ratio``,
``epsilon``) on variables that are not matrices, or whose path names an embedding or an excluded
layer. Every linnet layer is a matrix, so that branch does not arise and those settings are not
fields here. Keras' ``rms_rate=None`` (no rescaling) cannot be written in a spec; rms_rate is a
positive number.

Two things of Keras 3.15 on the TensorFlow backend that the Keras reference (``keras_optimizer``)
works around, neither changing the rule: ``_should_use_adamw`` reads ``variable.path``, which the
backend's tf.Variables lack, so it is built with ``exclude_embeddings=False`` (no layer is an
embedding); ``lr_adjust`` computes sqrt(max(rows, cols)) in float32 and so fails on float64 layers
(a float32 by float64 product), so the reference computes it in the layers' dtype, as this module does;
and its ``self.momentum * m`` needs a Python float momentum (a numpy float64 would ask the Keras
variable for a numpy array inside the traced loop), which Keras multiplies in the variable's dtype.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from linnet.core.errors import LinnetError
from linnet.core.validation import check_fraction, check_positive
from linnet.optimizers.adaptive import MomentState, check_weight_decay, decayed
from linnet.optimizers.base import keras_hyperparameter
from linnet.optimizers.first_order import FirstOrder, zeros_like_layers
from linnet.optimizers.registration import register
from linnet.optimizers.schedules import check_lr_decay, keras_class, keras_schedule, scheduled

#: Keras' quintic Newton-Schulz coefficients (a, b, c), from Jordan et al. 2024
NEWTON_SCHULZ = (3.4445, -4.7750, 2.0315)
#: Keras' normalisation before the iteration: X / (||X||_F + 1e-7)
NORM_EPS = 1e-7
#: the ways to orthogonalise: Keras' iteration, or the polar factor from the SVD
POLAR = ("newton-schulz", "exact")


#: bytes of work arrays per block of a stack in :func:`newton_schulz`: within a core's L2 cache
NS_BLOCK_BYTES = 512 * 1024


def newton_schulz(X: np.ndarray, steps: int = 5, coefficients=NEWTON_SCHULZ) -> np.ndarray:
    """Keras' ``zeropower_via_newtonschulz5`` on a matrix or a stack (..., rows, cols).

    Keras transposes X to be wide (rows <= cols), scales it to X / (||X||_F + 1e-7) so its singular
    values lie in [0, 1), then ``steps`` times X <- a X + (b A + c A A) X with A = X X^T, which maps
    each singular value s to p(s) = a s + b s^3 + c s^5 and keeps the singular vectors: the result is
    U p^steps(S) V^T, near the polar factor U V^T (the band its singular values end in is measured in
    tests/test_modern_optimizers.py).

    This runs the transpose of that iteration, on the tall side Z of X (X itself when tall, X^T when
    wide or square; (..., max(rows, cols), min(rows, cols))): Z <- a Z + Z (b A + c A A) with
    A = Z^T Z, Keras' min x min Gram matrix, so the same iterates up to round-off (measured in
    tests/test_modern_optimizers.py). On the batched loop's stacks of 1000 tiny matrices numpy's cost
    is per matrix and per pass over memory more than in arithmetic, so a tall X is never transposed
    and a wide one once (Keras' order transposes X at every step); the steps write into work arrays
    allocated once per call (with fresh temporaries at every step the C library returned their
    memory and faulted it back in); and a stack runs in blocks of :data:`NS_BLOCK_BYTES` of work
    arrays, each block taking all its steps before the next, so that they stay in cache (muon's
    sweep of the post problem, 1000 members, ran 8-17% faster than with the whole stack at once).
    The blocks do not change the result.
    """
    wide = X.shape[-2] <= X.shape[-1]
    tall = X.swapaxes(-1, -2) if wide else X
    rows, cols = tall.shape[-2:]
    if X.ndim == 2:  # one matrix, in the one-problem loop: no blocks
        Z = np.divide(tall, np.sqrt(np.einsum("ij,ij->", X, X)) + NORM_EPS, order="C")
        Z = _iterate(Z, np.empty_like(Z), np.empty_like(Z), *np.empty((3, cols, cols), X.dtype), steps, coefficients)
        return Z.swapaxes(-1, -2) if wide else Z
    stack = tall.reshape(-1, rows, cols)
    norms = np.sqrt(np.einsum("...ij,...ij->...", X, X)).reshape(-1, 1, 1) + NORM_EPS
    out = np.empty(stack.shape, X.dtype)
    block = max(1, NS_BLOCK_BYTES // ((3 * rows * cols + 3 * cols * cols) * X.dtype.itemsize))
    count = min(block, len(stack))
    other, spare = np.empty((2, count, rows, cols), X.dtype)
    work = (spare, *np.empty((3, count, cols, cols), X.dtype))  # spare, A, cA, B
    for first in range(0, len(stack), block):
        n = min(block, len(stack) - first)
        iterates = (out[first:first + n], other[:n])[:: -1 if steps % 2 else 1]  # the last lands in out
        np.divide(stack[first:first + n], norms[first:first + n], out=iterates[0])
        _iterate(*iterates, *(work if n == count else (w[:n] for w in work)), steps, coefficients)
    out = out.reshape(tall.shape)
    return out.swapaxes(-1, -2) if wide else out


def _iterate(Z, following, spare, A, cA, B, steps, coefficients) -> np.ndarray:
    """:func:`newton_schulz`'s ``steps`` steps on a scaled matrix or block Z ((n,) rows, cols), rows >=
    cols, alternating between Z and ``following``: the result, returned, is in Z for an even ``steps``
    and in ``following`` for an odd one; ``spare`` shaped as Z and A, cA, B ((n,) cols, cols) are work
    arrays."""
    a, b, c = coefficients
    matmul, multiply = np.matmul, np.multiply  # positional outputs: the one-matrix path is call overhead
    for _ in range(steps):
        spare[...] = Z  # Z^T Z of one buffer would be a syrk, slower on stacks of tiny matrices
        matmul(Z.swapaxes(-1, -2), spare, A)  # A = Z^T Z
        multiply(A, c, cA)
        matmul(cA, A, B)
        A *= b
        B += A  # b A + (c A) A
        multiply(Z, a, spare)
        matmul(Z, B, following)
        following += spare  # a Z + Z (b A + c A A)
        Z, following = following, Z
    return Z


def polar_factor(X: np.ndarray) -> np.ndarray:
    """U V^T for X = U S V^T (thin SVD), on a matrix or a stack; NaN for a matrix that is not finite
    (so a diverging run reports a non-finite loss instead of the SVD raising)."""
    if np.isfinite(X).all():  # the usual case: no masked copies
        U, _, Vt = np.linalg.svd(X, full_matrices=False)
        return U @ Vt
    finite = np.isfinite(X).all(axis=(-2, -1), keepdims=True)
    U, _, Vt = np.linalg.svd(np.where(finite, X, 0), full_matrices=False)
    return np.where(finite, U @ Vt, np.nan)


@register("muon")
@dataclass(frozen=True)
class Muon(FirstOrder):
    """Muon as Keras 3: nesterov momentum orthogonalised by Newton-Schulz, times sqrt(max(rows, cols)) rms_rate.

    ``polar=exact`` replaces Newton-Schulz by the exact polar factor U V^T (an oracle)."""

    backends = ("numpy", "tensorflow")

    lr: float
    momentum: float = 0.95
    nesterov: bool = True
    ns_steps: int = 5
    muon_a: float = NEWTON_SCHULZ[0]
    muon_b: float = NEWTON_SCHULZ[1]
    muon_c: float = NEWTON_SCHULZ[2]
    rms_rate: float = 0.2
    weight_decay: float | None = 0.004
    polar: str = "newton-schulz"
    lr_decay: float = 1.0
    example = "muon[lr=0.02]"

    def __post_init__(self):
        check_positive(self, lr=self.lr, rms_rate=self.rms_rate)
        check_fraction(self, momentum=self.momentum)
        check_weight_decay(self, self.weight_decay)
        check_lr_decay(self, self.lr_decay)
        if not (isinstance(self.ns_steps, int) and self.ns_steps >= 0):
            raise LinnetError(f"{self.name}: ns_steps must be an integer >= 0, got {self.ns_steps!r}")
        if self.polar not in POLAR:
            raise LinnetError(f"{self.name}: polar must be one of {', '.join(POLAR)}, got {self.polar!r}")

    def orthogonalise(self, d: np.ndarray) -> np.ndarray:
        """O(d): the Newton-Schulz iterate or the exact polar factor of a layer (or a stack)."""
        if self.polar == "exact":
            return polar_factor(d)
        return newton_schulz(d, self.ns_steps, (self.muon_a, self.muon_b, self.muon_c))

    def initial_state(self, weights):
        return MomentState(0, zeros_like_layers(weights))

    def step(self, weights, grads, state, lr):
        lr = scheduled(lr, self.lr_decay, state.count)
        mu = self.momentum
        m = tuple(m + (g + m * (mu - 1)) for m, g in zip(state.m, grads))
        new = []
        for W, g, v in zip(decayed(weights, self.weight_decay, lr), grads, m):
            d = g + mu * v if self.nesterov else v
            scale = math.sqrt(max(W.shape[-2:])) * self.rms_rate
            new.append(W - (lr * self.orthogonalise(d)) * scale)
        return tuple(new), MomentState(state.count + 1, m)

    def keras_optimizer(self, keras, learning_rate, dtype):
        """Keras' Muon (module docstring: exclude_embeddings off, the scale in the layers' dtype);
        ``polar=exact`` has no Keras counterpart."""
        if self.polar != "newton-schulz":
            raise LinnetError(f"{self.spec}: Keras' Muon runs Newton-Schulz only; polar=exact runs on numpy")
        base = keras_class(keras, "Muon")
        ops = keras.ops

        class KerasMuon(base):
            def lr_adjust(self, x):
                if self.rms_rate is None:
                    return x
                return x * ops.sqrt(ops.cast(max(x.shape[0], x.shape[1]), x.dtype)) * self.rms_rate

        h = keras_hyperparameter
        return KerasMuon(learning_rate=keras_schedule(keras, learning_rate, self.lr_decay),
                         momentum=float(self.momentum), nesterov=self.nesterov, ns_steps=self.ns_steps,
                         muon_a=h(self.muon_a, dtype), muon_b=h(self.muon_b, dtype), muon_c=h(self.muon_c, dtype),
                         rms_rate=h(self.rms_rate, dtype),
                         weight_decay=None if self.weight_decay is None else h(self.weight_decay, dtype),
                         exclude_embeddings=False)
