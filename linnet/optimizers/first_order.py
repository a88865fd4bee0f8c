"""First-order optimizers, with the semantics of TensorFlow's own (the post ran TF1).

Each update maps gradients g_k = dL/dW_k (see :mod:`linnet.problems.losses`) to new layers; all state is
an explicit NamedTuple of arrays shaped like the layers.

* ``gd``: W <- W - lr g  (tf.compat.v1.train.GradientDescentOptimizer).
* ``momentum``: v <- momentum v + g;  W <- W - lr v  (tf.compat.v1.train.MomentumOptimizer,
  use_nesterov=False; Keras' SGD(momentum=...) is the same recursion with v scaled by -lr).
* ``adam``: TF1 AdamOptimizer (Kingma & Ba 2015, Algorithm 1 with the bias correction folded into
  the step, as the paper's section 2 "efficiency" remark and TF1's docs state):
  m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;  lr_t = lr sqrt(1-b2^t) / (1-b1^t);
  W <- W - lr_t m / (sqrt(v) + eps), with TF1's defaults b1 = 0.9, b2 = 0.999, eps = 1e-8.
* ``rmsprop``: Keras 3 RMSprop without momentum or centering (Hinton's lecture 6e):
  a <- rho a + (1-rho) g^2;  W <- W - lr g / sqrt(a + eps), defaults rho = 0.9, eps = 1e-7
  (keras/src/optimizers/rmsprop.py: eps inside the root, unlike Adam).

Each also defines ``keras_optimizer``, the Keras 3 optimizer with the same rule, which the
tensorflow backend (:mod:`linnet.runs.backends.tensorflow`) runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from linnet.core.validation import check_fraction, check_positive
from linnet.optimizers.base import Optimizer, keras_hyperparameter
from linnet.optimizers.registration import register


class FirstOrder(Optimizer):
    """Base of the first-order optimizers: gradients only, any depth, and a batched loop over many
    problems (:mod:`linnet.runs.batched`); the public contract for a user's first-order rule
    (docs/optimizers.md).

    Each subclass defines its rule once, as :meth:`initial_state` and :meth:`step`, which need no
    problem and take the step size as an argument; ``init`` and ``update`` call them with the
    optimizer's own ``lr``. The formulas broadcast, so the batched loop calls the same two methods
    with stacked layers (B, rows, cols) and a per-member step size (a (B, 1, 1) array).
    """

    first_order = True
    batchable = True

    def initial_state(self, weights):
        """The state before the first step, for layers ``weights`` (unstacked or stacked). Default: none."""
        return ()

    def step(self, weights, grads, state, lr):
        """(new layers, new state) after one step with gradients ``grads`` (shaped like ``weights``)
        and step size ``lr`` (a float, or an array that broadcasts against the layers)."""
        raise NotImplementedError

    def init(self, problem, weights):
        return self.initial_state(weights)

    def update(self, problem, weights, evaluation, state):
        return self.step(weights, evaluation.grads, state, self.lr)


@register("gd")
@dataclass(frozen=True)
class GD(FirstOrder):
    """Gradient descent: W <- W - lr dL/dW."""

    backends = ("numpy", "tensorflow")

    lr: float
    example = "gd[lr=1e-05]"

    def __post_init__(self):
        check_positive(self, lr=self.lr)

    def step(self, weights, grads, state, lr):
        return tuple(W - lr * g for W, g in zip(weights, grads)), state

    def keras_optimizer(self, keras, learning_rate, dtype):
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.0)


class SlotState(NamedTuple):
    """One array per layer carried between steps: momentum's velocity, RMSprop's squared-gradient average."""

    slots: tuple[np.ndarray, ...]


def zeros_like_layers(weights) -> tuple[np.ndarray, ...]:
    """A zero array shaped (and typed) like each layer."""
    return tuple(np.zeros_like(W) for W in weights)


@register("momentum")
@dataclass(frozen=True)
class Momentum(FirstOrder):
    """Heavy-ball momentum, TF convention: v <- momentum v + g; W <- W - lr v."""

    backends = ("numpy", "tensorflow")

    lr: float
    momentum: float
    example = "momentum[lr=1e-06,momentum=0.9]"

    def __post_init__(self):
        check_positive(self, lr=self.lr)
        check_fraction(self, momentum=self.momentum)

    def initial_state(self, weights):
        return SlotState(zeros_like_layers(weights))

    def step(self, weights, grads, state, lr):
        velocity = tuple(self.momentum * v + g for v, g in zip(state.slots, grads))
        return tuple(W - lr * v for W, v in zip(weights, velocity)), SlotState(velocity)

    def keras_optimizer(self, keras, learning_rate, dtype):
        """Keras' SGD keeps m = -lr v: the same recursion while lr is constant."""
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=keras_hyperparameter(self.momentum, dtype),
                                    nesterov=False)


class AdamState(NamedTuple):
    count: int
    mu: tuple[np.ndarray, ...]
    nu: tuple[np.ndarray, ...]


@register("adam")
@dataclass(frozen=True)
class Adam(FirstOrder):
    """Adam as TF1's AdamOptimizer (bias correction in the step, eps=1e-8 added to sqrt(v))."""

    backends = ("numpy", "tensorflow")

    lr: float
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    example = "adam[lr=0.01]"

    def __post_init__(self):
        check_positive(self, lr=self.lr, eps=self.eps)
        check_fraction(self, beta1=self.beta1, beta2=self.beta2)

    def initial_state(self, weights):
        zeros = zeros_like_layers(weights)
        return AdamState(0, zeros, zeros)

    def step(self, weights, grads, state, lr):
        t = state.count + 1
        b1, b2 = self.beta1, self.beta2
        mu = tuple(b1 * m + (1 - b1) * g for m, g in zip(state.mu, grads))
        nu = tuple(b2 * v + (1 - b2) * (g * g) for v, g in zip(state.nu, grads))
        # a Python float for a float lr, so float32 layers stay float32 (numpy scalars would promote them)
        lr_t = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        new = tuple(W - lr_t * m / (np.sqrt(v) + self.eps) for W, m, v in zip(weights, mu, nu))
        return new, AdamState(t, mu, nu)

    def keras_optimizer(self, keras, learning_rate, dtype):
        """Keras 3's Adam folds the bias correction into the step size, as TF1's AdamOptimizer."""
        h = keras_hyperparameter
        return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=h(self.beta1, dtype),
                                     beta_2=h(self.beta2, dtype), epsilon=h(self.eps, dtype), amsgrad=False)


@register("rmsprop")
@dataclass(frozen=True)
class RMSprop(FirstOrder):
    """RMSprop as Keras 3: a <- rho a + (1-rho) g^2; W <- W - lr g / sqrt(a + eps)."""

    backends = ("numpy", "tensorflow")

    lr: float
    rho: float = 0.9
    eps: float = 1e-7
    example = "rmsprop[lr=0.001]"

    def __post_init__(self):
        check_positive(self, lr=self.lr, eps=self.eps)
        check_fraction(self, rho=self.rho)

    def initial_state(self, weights):
        return SlotState(zeros_like_layers(weights))

    def step(self, weights, grads, state, lr):
        rho = self.rho
        average = tuple(rho * a + (1 - rho) * (g * g) for a, g in zip(state.slots, grads))
        new = tuple(W - lr * g / np.sqrt(a + self.eps) for W, g, a in zip(weights, grads, average))
        return new, SlotState(average)

    def keras_optimizer(self, keras, learning_rate, dtype):
        h = keras_hyperparameter
        return keras.optimizers.RMSprop(learning_rate=learning_rate, rho=h(self.rho, dtype), momentum=0.0,
                                        epsilon=h(self.eps, dtype), centered=False)
