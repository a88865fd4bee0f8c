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


def newton_schulz(X: np.ndarray, steps: int = 5, coefficients=NEWTON_SCHULZ) -> np.ndarray:
    """Keras' ``zeropower_via_newtonschulz5`` on a matrix or a stack (..., rows, cols).

    X is transposed to be wide (rows <= cols), scaled to X / (||X||_F + 1e-7) so its singular values
    lie in [0, 1), then ``steps`` times X <- a X + (b A + c A A) X with A = X X^T, which maps each
    singular value s to p(s) = a s + b s^3 + c s^5 and keeps the singular vectors: the result is
    U p^steps(S) V^T, near the polar factor U V^T (the band its singular values end in is measured in
    tests/test_modern_optimizers.py).
    """
    a, b, c = coefficients
    tall = X.shape[-2] > X.shape[-1]
    if tall:
        X = np.ascontiguousarray(np.swapaxes(X, -1, -2))
    X = X / (np.linalg.norm(X, axis=(-2, -1), keepdims=True) + NORM_EPS)
    for _ in range(steps):
        A = X @ np.ascontiguousarray(np.swapaxes(X, -1, -2))  # contiguous factors multiply faster on stacks
        B = b * A + c * A @ A
        X = a * X + B @ X
    return np.swapaxes(X, -1, -2) if tall else X


def polar_factor(X: np.ndarray) -> np.ndarray:
    """U V^T for X = U S V^T (thin SVD), on a matrix or a stack; NaN for a matrix that is not finite
    (so a diverging run reports a non-finite loss instead of the SVD raising)."""
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
