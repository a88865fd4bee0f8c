"""``optax[optimizer=NAME,lr=...,key=value,...]``: any optax gradient transformation, on the numpy backend.

The spec names a constructor of the ``optax`` namespace (``optimizer=sgd``, ``adam``, ``lion``, ...),
the step size ``lr`` (optax's ``learning_rate``; left out for a transformation that takes none,
such as ``scale_by_adam``) and any other keyword argument as optax spells it (``momentum=0.9``,
``nesterov=true``, ``b1=0.95``). It needs the optional extra: ``pip install 'linnet[optax]'``
(optax and jax).

Shapes: numpy layers in, numpy layers out. The layers (W1, ..., WN), each (rows, cols), are the
params pytree, a tuple; the gradients dL/dWk are the updates pytree of the same shapes; the
transformation's state (``tx.init(params)``: its slots shaped like the layers, and counts) is kept
between steps with numpy arrays as leaves, and nothing is mutated.

Semantics: optax's own (https://optax.readthedocs.io, "Optimizers" and "Transformations"):
``updates, state = tx.update(grads, state, params)``, then ``params = optax.apply_updates(params,
updates)``, i.e. W <- W + u; the optimizers' updates already carry the minus sign and the learning
rate (``optax.sgd``: ``scale_by_learning_rate`` scales by -lr; with ``momentum`` it first keeps
``trace``: t <- g + momentum t, linnet's ``momentum`` rule). Each call runs eagerly, one XLA
operation at a time, as numpy does: ``optax[optimizer=sgd,lr=1e-05]`` is ``gd[lr=1e-05]`` and
``optax[optimizer=sgd,lr=1e-06,momentum=0.9]`` is ``momentum[lr=1e-06,momentum=0.9]`` to round-off
(tests/test_adapters.py).

64-bit numbers: jax computes in float32 unless its ``jax_enable_x64`` flag is on. linnet does not
change that global flag; it runs every call of the transformation inside ``jax.enable_x64(True)``
(a context manager, jax 0.8 and later), so a float64 problem's layers, gradients and state stay
float64 and a float32 problem's stay float32, and jax outside the adapter keeps its own setting.

Not batchable: a transformation bakes in one step size (a number), where the batched loop gives
each member its own, and some transformations reduce over a whole layer (LAMB's trust ratio,
Adafactor's factored moments), which a stacked (B, rows, cols) layer would mix across members.

Errors, one :class:`linnet.core.errors.LinnetError` line each: ``learning_rate`` among the options
(the step size is ``lr``) when the spec is parsed; a missing extra, an unknown constructor, or
options it refuses when a run starts (``init`` builds the transformation and takes a probe step on
a 1 x 1 layer, before the run's first step). Parsing never imports jax: a process that has started
jax's threads cannot safely fork workers that use jax (a process-pool sweep of an optax spec hung
when the parent had imported jax to check the spec).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linnet.core.errors import LinnetError
from linnet.core.validation import check_positive
from linnet.optimizers.adapters.libraries import adapter_options, missing, refused
from linnet.optimizers.base import Optimizer
from linnet.optimizers.registration import register
from linnet.optimizers.spec import Options

#: the keyword of an optax optimizer's step size, which the spec gives as lr
STEP_SIZE = "learning_rate"


def _libraries():
    """(jax, optax), imported on first use; one LinnetError line when the extra is missing."""
    try:
        import jax
        import optax
    except ImportError:
        raise missing("optax") from None
    if not hasattr(jax, "enable_x64"):  # the context manager came with jax 0.8
        raise LinnetError(f"optax adapter needs jax 0.8 or later, found {jax.__version__}: "
                          f"pip install --upgrade 'linnet[optax]'")
    return jax, optax


def _numpy(jax, tree):
    """``tree`` with every jax array leaf as a numpy array (the state linnet keeps and compares)."""
    return jax.tree_util.tree_map(np.asarray, tree)


@register("optax")
@dataclass(frozen=True)
class OptaxTransform(Optimizer):
    """Any optax gradient transformation, on the numpy backend: optax[optimizer=adam,lr=0.01]."""

    first_order = True

    optimizer: str
    lr: float | None = None
    options: Options = ()
    example = "optax[optimizer=sgd,lr=1e-05]"

    def __post_init__(self):
        if self.lr is not None:
            check_positive(self, lr=self.lr)
        if not self.optimizer.isidentifier():
            raise LinnetError(f"optax: optimizer must name a gradient transformation of optax, got {self.optimizer!r}")
        object.__setattr__(self, "options", adapter_options(self, STEP_SIZE))

    def _transformation(self, optax):
        make = getattr(optax, self.optimizer, None)
        if not callable(make):
            raise LinnetError(f"{self.spec}: optax has no gradient transformation {self.optimizer!r} "
                              f"(e.g. sgd, adam, lion)")
        step_size = {} if self.lr is None else {STEP_SIZE: self.lr}
        try:
            tx = make(**step_size, **dict(self.options))
        except (TypeError, ValueError) as exc:
            raise refused(self, f"optax.{self.optimizer}", exc) from None
        if not isinstance(tx, optax.GradientTransformation):
            raise LinnetError(f"{self.spec}: optax.{self.optimizer} is not a gradient transformation constructor")
        return tx

    def _initial_state(self, weights):
        jax, optax = _libraries()
        with jax.enable_x64(True):
            return _numpy(jax, self._transformation(optax).init(tuple(weights)))

    def init(self, problem, weights):
        probe = (np.zeros((1, 1)),)
        try:  # optax checks some options only when it steps: a probe step, so they fail here in one line
            self._step(probe, probe, self._initial_state(probe))
        except LinnetError:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever optax raises, the spec is refused in one line
            raise refused(self, f"optax.{self.optimizer}", exc) from None
        return self._initial_state(weights)

    def update(self, problem, weights, evaluation, state):
        return self._step(weights, evaluation.grads, state)

    def _step(self, weights, grads, state):
        jax, optax = _libraries()
        params = tuple(weights)
        with jax.enable_x64(True):
            updates, state = self._transformation(optax).update(tuple(grads), state, params)
            new = optax.apply_updates(params, updates)
        return tuple(np.array(W) for W in new), _numpy(jax, state)
