"""Adam's successors as Keras 3 has them: ``adamw``, ``lion``, ``adafactor``, ``schedule-free-adamw``.

Each has the hyperparameter names, defaults and semantics of its ``keras.optimizers`` class (Keras
3.15, keras/src/optimizers/*.py), except that linnet's ``lr`` is Keras' ``learning_rate``, and each
has ``lr_decay`` (:mod:`linnet.optimizers.schedules`: 1 constant, < 1 exponential annealing).
Gradients g = dL/dW per layer W (rows, cols), or stacks (B, rows, cols) in the batched loop.
Where Keras has a ``weight_decay`` it is applied first, with the step size of the update, as
Keras' ``_apply_weight_decay`` does: W <- W - W wd lr_t; the update then uses the decayed W.
t counts updates from 1.

* ``adamw`` (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization"; keras ``AdamW``,
  whose update is ``Adam.update_step``): m <- m + (g - m)(1 - b1); v <- v + (g^2 - v)(1 - b2);
  W <- W - m alpha / (sqrt(v) + eps), alpha = lr_t sqrt(1 - b2^t) / (1 - b1^t); amsgrad keeps
  v_hat = max(v_hat, v) in place of v. Defaults wd 0.004, b1 0.9, b2 0.999, eps 1e-7.
* ``lion`` (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Program 1; keras
  ``Lion``): W <- W - lr_t sign(b1 m + (1 - b1) g); m <- b2 m + (1 - b2) g. Defaults b1 0.9,
  b2 0.99, no weight decay.
* ``adafactor`` (Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory
  Cost", Algorithm 4; keras ``Adafactor``): rho_t = min(lr_t, 1/sqrt(t));
  alpha_t = max(eps2, RMS(W)) rho_t; b2_t = 1 - t^beta_2_decay;
  r <- b2_t r + (1 - b2_t) (row means of g^2 + eps1, shape (rows,));
  c <- b2_t c + (1 - b2_t) (column means of g^2 + eps1, shape (cols,)); v = (r / mean(r)) c^T;
  u = g / sqrt(v); W <- W - alpha_t u / max(1, RMS(u) / clip_threshold).
  Defaults beta_2_decay -0.8, eps1 1e-30, eps2 1e-3, clip_threshold 1. ``relative_step`` is kept
  for Keras' name, and changes nothing: Keras applies min(lr, 1/sqrt(t)) again in rho_t (and skips
  its own relative_step branch when, as in linnet, the learning rate is a callable).
* ``schedule-free-adamw`` (Defazio et al. 2024, "The Road Less Scheduled", Algorithm 1 with Adam's
  second moment; keras ``ScheduleFreeAdamW``): the layer is y, the state z (starting at W0) and v;
  lr'_t = lr_t min(t / warmup_steps, 1) (no warmup when 0); v <- v + (g^2 - v)(1 - b2);
  z' = z - lr'_t g / (sqrt(v / (1 - b2^t)) + eps); x = (y - (1 - b1) z) / b1;
  x' = (1 - 1/t) x + z' / t; y' = (1 - b1) z' + b1 x'. Defaults b1 0.9, b2 0.999, eps 1e-8, no
  weight decay (applied, as Keras, to y with lr_t, before the update, without the warmup factor).

The tensorflow backend runs each through its Keras class (``keras_optimizer``), which
tests/test_modern_optimizers.py compares with the numpy rule step for step. For
``schedule-free-adamw`` the Keras class is adjusted twice (:func:`anchored`): Keras sets z to a copy
of the variables when it is built, and the backend builds its optimizers once per configuration on
placeholders and puts their state back to the built values before each run, so z is set to the
layers at the first update instead (before weight decay, where Keras' z starts when built on the
layers); and on TensorFlow Keras 3.15 reads ``momentum_old`` after updating z (its
``momentum.value`` is the variable itself there), computing x from the new z where its own source
and Defazio et al. use the old one, so the reference's ``update_step`` reads z first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from linnet.core.errors import LinnetError
from linnet.core.validation import check_fraction, check_positive
from linnet.optimizers.base import keras_hyperparameter
from linnet.optimizers.first_order import FirstOrder, zeros_like_layers
from linnet.optimizers.registration import register
from linnet.optimizers.schedules import check_lr_decay, keras_class, keras_optimizer, keras_schedule, scheduled


def decayed(weights, weight_decay: float | None, lr):
    """Keras' decoupled weight decay before an update: W - W wd lr (the layers unchanged for None)."""
    if weight_decay is None:
        return tuple(weights)
    return tuple(W - W * weight_decay * lr for W in weights)


def check_weight_decay(owner, weight_decay: float | None) -> None:
    """Raise LinnetError unless weight_decay is None or a finite number >= 0."""
    if weight_decay is not None and not (isinstance(weight_decay, (int, float)) and math.isfinite(weight_decay)
                                         and weight_decay >= 0):
        raise LinnetError(f"{owner.name}: weight_decay must be a number >= 0, got {weight_decay!r}")


def rms(x: np.ndarray) -> np.ndarray:
    """The root mean square of each matrix of a stack (..., rows, cols), shaped (..., 1, 1)."""
    return np.sqrt(np.mean(x * x, axis=(-2, -1), keepdims=True))


def row_means(x: np.ndarray) -> np.ndarray:
    """The mean of each row of a matrix or stack (..., rows, cols): (..., rows). (einsum: a mean
    over a short last axis of a stack is several times slower in numpy.)"""
    return np.einsum("...ij->...i", x) / x.shape[-1]


def column_means(x: np.ndarray) -> np.ndarray:
    """The mean of each column of a matrix or stack (..., rows, cols): (..., cols)."""
    return np.einsum("...ij->...j", x) / x.shape[-2]


def smaller(lr, value: float):
    """min(lr, value) for a float or an array ``lr``, keeping a Python float a Python float (so
    float32 layers stay float32)."""
    return np.minimum(lr, value) if isinstance(lr, np.ndarray) else min(lr, value)


class AdamWState(NamedTuple):
    count: int
    m: tuple[np.ndarray, ...]
    v: tuple[np.ndarray, ...]
    v_hat: tuple[np.ndarray, ...]  #: amsgrad's running maximum of v; () without amsgrad


@register("adamw")
@dataclass(frozen=True)
class AdamW(FirstOrder):
    """AdamW as Keras 3: decoupled weight decay W <- W - W wd lr_t, then Adam's step."""

    backends = ("numpy", "tensorflow")

    lr: float
    weight_decay: float = 0.004
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-7
    amsgrad: bool = False
    lr_decay: float = 1.0
    example = "adamw[lr=0.001]"

    def __post_init__(self):
        check_positive(self, lr=self.lr, epsilon=self.epsilon)
        check_fraction(self, beta_1=self.beta_1, beta_2=self.beta_2)
        check_weight_decay(self, self.weight_decay)
        check_lr_decay(self, self.lr_decay)

    def initial_state(self, weights):
        zeros = zeros_like_layers(weights)
        return AdamWState(0, zeros, zeros, zeros if self.amsgrad else ())

    def step(self, weights, grads, state, lr):
        t = state.count + 1
        lr = scheduled(lr, self.lr_decay, state.count)
        b1, b2 = self.beta_1, self.beta_2
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        m = tuple(m + (g - m) * (1 - b1) for m, g in zip(state.m, grads))
        v = tuple(v + (g * g - v) * (1 - b2) for v, g in zip(state.v, grads))
        v_hat = tuple(np.maximum(h, u) for h, u in zip(state.v_hat, v)) if self.amsgrad else ()
        new = tuple(W - (m_ * alpha) / (np.sqrt(u) + self.epsilon)
                    for W, m_, u in zip(decayed(weights, self.weight_decay, lr), m, v_hat or v))
        return new, AdamWState(t, m, v, v_hat)

    def keras_optimizer(self, keras, learning_rate, dtype):
        h = keras_hyperparameter
        return keras_optimizer(keras, "AdamW", learning_rate, self.lr_decay, weight_decay=h(self.weight_decay, dtype),
                               beta_1=h(self.beta_1, dtype), beta_2=h(self.beta_2, dtype),
                               epsilon=h(self.epsilon, dtype), amsgrad=self.amsgrad)


class MomentState(NamedTuple):
    """An update count and one array per layer (Lion's momentum)."""

    count: int
    m: tuple[np.ndarray, ...]


@register("lion")
@dataclass(frozen=True)
class Lion(FirstOrder):
    """Lion as Keras 3: W <- W - lr_t sign(b1 m + (1 - b1) g); m <- b2 m + (1 - b2) g."""

    backends = ("numpy", "tensorflow")

    lr: float
    beta_1: float = 0.9
    beta_2: float = 0.99
    weight_decay: float | None = None
    lr_decay: float = 1.0
    example = "lion[lr=0.0001]"

    def __post_init__(self):
        check_positive(self, lr=self.lr)
        if not (isinstance(self.beta_1, (int, float)) and 0 < self.beta_1 <= 1):  # Keras' own check
            raise LinnetError(f"{self.name}: beta_1 must be in (0, 1], got {self.beta_1!r}")
        check_fraction(self, beta_2=self.beta_2)
        check_weight_decay(self, self.weight_decay)
        check_lr_decay(self, self.lr_decay)

    def initial_state(self, weights):
        return MomentState(0, zeros_like_layers(weights))

    def step(self, weights, grads, state, lr):
        lr = scheduled(lr, self.lr_decay, state.count)
        b1, b2 = self.beta_1, self.beta_2
        new = tuple(W - lr * np.sign(m * b1 + g * (1.0 - b1))
                    for W, m, g in zip(decayed(weights, self.weight_decay, lr), state.m, grads))
        m = tuple(m * b2 + g * (1.0 - b2) for m, g in zip(state.m, grads))
        return new, MomentState(state.count + 1, m)

    def keras_optimizer(self, keras, learning_rate, dtype):
        h = keras_hyperparameter
        decay = None if self.weight_decay is None else h(self.weight_decay, dtype)
        return keras_optimizer(keras, "Lion", learning_rate, self.lr_decay, beta_1=h(self.beta_1, dtype),
                               beta_2=h(self.beta_2, dtype), weight_decay=decay)


class FactoredState(NamedTuple):
    """Adafactor's update count and factored second moments: per layer r (rows,) and c (cols,)."""

    count: int
    r: tuple[np.ndarray, ...]
    c: tuple[np.ndarray, ...]


@register("adafactor")
@dataclass(frozen=True)
class Adafactor(FirstOrder):
    """Adafactor as Keras 3: factored second moments r, c; relative step max(eps2, RMS(W)) min(lr, 1/sqrt(t))."""

    backends = ("numpy", "tensorflow")

    lr: float
    beta_2_decay: float = -0.8
    epsilon_1: float = 1e-30
    epsilon_2: float = 1e-3
    clip_threshold: float = 1.0
    relative_step: bool = True
    weight_decay: float | None = None
    lr_decay: float = 1.0
    example = "adafactor[lr=0.01]"

    def __post_init__(self):
        check_positive(self, lr=self.lr, epsilon_1=self.epsilon_1, epsilon_2=self.epsilon_2,
                       clip_threshold=self.clip_threshold)
        if not (isinstance(self.beta_2_decay, (int, float)) and -math.inf < self.beta_2_decay < 0):
            raise LinnetError(f"{self.name}: beta_2_decay must be a negative number, got {self.beta_2_decay!r}")
        check_weight_decay(self, self.weight_decay)
        check_lr_decay(self, self.lr_decay)

    def initial_state(self, weights):
        return FactoredState(0, tuple(np.zeros_like(W[..., 0]) for W in weights),
                             tuple(np.zeros_like(W[..., 0, :]) for W in weights))

    def step(self, weights, grads, state, lr):
        t = state.count + 1
        lr = scheduled(lr, self.lr_decay, state.count)
        rho = smaller(lr, 1 / math.sqrt(t))
        b2 = 1 - t**self.beta_2_decay
        weights = decayed(weights, self.weight_decay, lr)
        new, rows, cols = [], [], []
        for W, g, r, c in zip(weights, grads, state.r, state.c):
            g2 = g * g + self.epsilon_1
            r = b2 * r + (1 - b2) * row_means(g2)
            c = b2 * c + (1 - b2) * column_means(g2)
            v = (r / np.mean(r, axis=-1, keepdims=True))[..., :, None] * c[..., None, :]
            u = g / np.sqrt(v)
            alpha = np.maximum(self.epsilon_2, rms(W)) * rho
            new.append(W - alpha * (u / np.maximum(1, rms(u) / self.clip_threshold)))
            rows.append(r)
            cols.append(c)
        return tuple(new), FactoredState(t, tuple(rows), tuple(cols))

    def keras_optimizer(self, keras, learning_rate, dtype):
        h = keras_hyperparameter
        decay = None if self.weight_decay is None else h(self.weight_decay, dtype)
        return keras_optimizer(keras, "Adafactor", learning_rate, self.lr_decay,
                               beta_2_decay=h(self.beta_2_decay, dtype), epsilon_1=h(self.epsilon_1, dtype),
                               epsilon_2=h(self.epsilon_2, dtype), clip_threshold=h(self.clip_threshold, dtype),
                               relative_step=self.relative_step, weight_decay=decay)


class ScheduleFreeState(NamedTuple):
    """Schedule-free AdamW's update count, z per layer (the base sequence) and v per layer."""

    count: int
    z: tuple[np.ndarray, ...]
    v: tuple[np.ndarray, ...]


@register("schedule-free-adamw")
@dataclass(frozen=True)
class ScheduleFreeAdamW(FirstOrder):
    """Schedule-free AdamW as Keras 3: gradients at y = (1 - b1) z + b1 x, x the uniform average of z."""

    backends = ("numpy", "tensorflow")

    lr: float
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8
    warmup_steps: int = 0
    weight_decay: float | None = None
    lr_decay: float = 1.0
    example = "schedule-free-adamw[lr=0.0025]"

    def __post_init__(self):
        check_positive(self, lr=self.lr, epsilon=self.epsilon)
        if not (isinstance(self.beta_1, (int, float)) and 0 < self.beta_1 < 1):
            raise LinnetError(f"{self.name}: beta_1 must be in (0, 1), got {self.beta_1!r}")
        check_fraction(self, beta_2=self.beta_2)
        if not (isinstance(self.warmup_steps, int) and self.warmup_steps >= 0):
            raise LinnetError(f"{self.name}: warmup_steps must be an integer >= 0, got {self.warmup_steps!r}")
        check_weight_decay(self, self.weight_decay)
        check_lr_decay(self, self.lr_decay)

    def initial_state(self, weights):
        return ScheduleFreeState(0, tuple(np.array(W, copy=True) for W in weights), zeros_like_layers(weights))

    def step(self, weights, grads, state, lr):
        t = state.count + 1
        lr = scheduled(lr, self.lr_decay, state.count)
        weights = decayed(weights, self.weight_decay, lr)
        if self.warmup_steps > 0:
            lr = lr * min(t / self.warmup_steps, 1.0)
        b1, b2 = self.beta_1, self.beta_2
        correction = 1 - b2**t
        weight = 1.0 / t
        new, zs, vs = [], [], []
        for y, g, z, v in zip(weights, grads, state.z, state.v):
            v = v + (g * g - v) * (1 - b2)
            z_new = z - (lr * g) / (np.sqrt(v / correction) + self.epsilon)
            x = (y - (1 - b1) * z) / b1
            x = (1 - weight) * x + weight * z_new
            new.append((1 - b1) * z_new + b1 * x)
            zs.append(z_new)
            vs.append(v)
        return tuple(new), ScheduleFreeState(t, tuple(zs), tuple(vs))

    def keras_optimizer(self, keras, learning_rate, dtype):
        """Keras' ScheduleFreeAdamW with z anchored to the layers at the first update (module docstring)."""
        h = keras_hyperparameter
        decay = None if self.weight_decay is None else h(self.weight_decay, dtype)
        return anchored(keras, keras_class(keras, "ScheduleFreeAdamW"))(
            learning_rate=keras_schedule(keras, learning_rate, self.lr_decay), beta_1=h(self.beta_1, dtype),
            beta_2=h(self.beta_2, dtype), epsilon=h(self.epsilon, dtype), warmup_steps=self.warmup_steps,
            weight_decay=decay)


def anchored(keras, cls, *, read_z_first: bool = True):
    """A subclass of Keras' ScheduleFreeAdamW ``cls`` run as the Keras source states its rule.

    It sets z to the variables at the first update, before weight decay (the state Keras' ``build``
    gives z on the layers themselves; the backend restores the state built on placeholders). With
    ``read_z_first``, its ``update_step`` is Keras' own (keras/src/optimizers/schedule_free_adamw.py)
    with ``momentum_old`` read before z is updated: on TensorFlow, Keras' ``momentum.value`` is the
    variable itself, read only after ``assign_sub``, so Keras 3.15 computes x = (y - (1 - b1) z') / b1
    from the new z' where its source and Defazio et al. have the old z (measured on the post problem:
    0.10 relative loss difference after 200 steps; tests/test_modern_optimizers.py keeps that
    measurement with ``read_z_first=False``).
    """
    ops = keras.ops

    class Anchored(cls):
        def _apply_weight_decay(self, variables):
            first = ops.equal(self.iterations, 0)
            for variable in variables:
                z = self._momentums[self._get_variable_index(variable)]
                self.assign(z, ops.where(first, variable, z))
            super()._apply_weight_decay(variables)

        if read_z_first:
            def update_step(self, gradient, variable, learning_rate):
                lr = ops.cast(learning_rate, variable.dtype)
                gradient = ops.cast(gradient, variable.dtype)
                local_step = ops.cast(self.iterations + 1, variable.dtype)
                beta_1 = ops.cast(self.beta_1, variable.dtype)
                beta_2 = ops.cast(self.beta_2, variable.dtype)
                epsilon = ops.cast(self.epsilon, variable.dtype)
                if self.warmup_steps > 0:
                    lr = lr * ops.minimum(local_step / ops.cast(self.warmup_steps, variable.dtype), 1.0)
                index = self._get_variable_index(variable)
                momentum, velocity = self._momentums[index], self._velocities[index]
                momentum_old = ops.copy(momentum)  # a value read now, before the update
                bias_correction_2 = 1 - ops.power(beta_2, local_step)
                self.assign_add(velocity, ops.multiply(ops.subtract(ops.square(gradient), velocity), 1 - beta_2))
                denom = ops.add(ops.sqrt(velocity / bias_correction_2), epsilon)
                self.assign_sub(momentum, ops.divide(ops.multiply(lr, gradient), denom))
                weight = 1.0 / local_step
                x_old = ops.divide(ops.subtract(variable, ops.multiply(1 - beta_1, momentum_old)), beta_1)
                x_new = ops.add(ops.multiply(1 - weight, x_old), ops.multiply(weight, momentum))
                self.assign(variable, ops.add(ops.multiply(1 - beta_1, momentum), ops.multiply(beta_1, x_new)))

    return Anchored
