"""What every optimizer is: a frozen configuration with explicit state (init / update).

The shape follows optax: ``state = opt.init(problem, weights)``, then each step
``weights, state = opt.update(problem, weights, evaluation, state)``, where ``evaluation`` is the
:class:`linnet.problems.losses.Evaluation` (loss, gradients, residual) the run loop has just computed at
``weights``. First-order methods use only ``evaluation.grads``; second-order methods use the
problem (its S) and the residual. Nothing is mutated: weights and state are new values.

Each optimizer class declares what it can do (class attributes, read by the run loop, the
backends, the claims and the command line instead of guessing from names):

* ``first_order``: it needs only gradients (True) or more (second-order, closed form);
* ``backends``: the backends that run it: ``"numpy"`` calls its ``update`` (or :meth:`Optimizer.drive`),
  ``"tensorflow"`` (:mod:`linnet.runs.backends.tensorflow`) applies the Keras 3 optimizer that
  :meth:`Optimizer.keras_optimizer` builds; registration refuses a class that lists a backend
  without its hook;
* ``max_layers``: the most layers it handles (None: any number);
* ``batchable``: the batched loop over many problems (:func:`linnet.runs.batched.run_batched`) runs
  it, through its step object of :mod:`linnet.runs.batched_steps` (a property where it depends
  on the configuration); first-order optimizers give that step their rule as
  ``FirstOrder.initial_state`` / ``FirstOrder.step``, with the step size as an argument;
* ``drives_own_loop``: it runs its own loop through :meth:`Optimizer.drive` (the scipy peer)
  instead of ``init`` / ``update``;
* ``done_status``: the status (:mod:`linnet.optimizers.stopping`) a run ends with when :meth:`is_done`
  says the optimizer can go no further;
* ``reproducible_steps``: its step count does not move between identical runs on one machine
  (False for the scipy peer: MINPACK's accept/reject turns on one-ulp differences in the
  residual, so the regression gate records its counts but does not compare them).

and may override the hooks :meth:`is_done`, :meth:`trace`, :meth:`drive` and :meth:`keras_optimizer`,
whose defaults are documented below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

import numpy as np

from linnet.core.errors import LinnetError
from linnet.optimizers.registry import REGISTRY
from linnet.optimizers.spec import format_spec
from linnet.optimizers.stopping import CONVERGED

if TYPE_CHECKING:
    from linnet.problems.losses import Evaluation
    from linnet.problems.problem import Problem

#: the layer matrices (W1, ..., WN)
Weights = tuple["np.ndarray", ...]


class Optimizer:
    """Base of the registered optimizer dataclasses: spec, capabilities and hooks."""

    name: ClassVar[str]
    #: an example spec string, shown by ``python -m linnet --help``
    example: ClassVar[str]
    #: True where the method needs only gradients
    first_order: ClassVar[bool] = False
    #: the backends that run this optimizer
    backends: ClassVar[tuple[str, ...]] = ("numpy",)
    #: the most layers this optimizer handles (None: any)
    max_layers: ClassVar[int | None] = None
    #: a batched loop over many problems of one shape exists for it
    batchable: ClassVar[bool] = False
    #: it runs its own loop (:meth:`drive`) rather than init / update
    drives_own_loop: ClassVar[bool] = False
    #: the stop status when :meth:`is_done` is true
    done_status: ClassVar[int] = CONVERGED
    #: its step count is the same between identical runs (a figure the gate may compare)
    reproducible_steps: ClassVar[bool] = True

    @property
    def spec(self) -> str:
        """The canonical spec string, e.g. ``gd[lr=1e-05]``."""
        return format_spec(self)

    def __str__(self) -> str:
        return self.spec

    def init(self, problem: Problem, weights: Weights) -> Any:
        """Initial optimizer state for ``weights`` (the problem's initial layers)."""
        return ()

    def update(self, problem: Problem, weights: Weights, evaluation: Evaluation, state: Any) -> tuple[Weights, Any]:
        """Return (new_weights, new_state) after one step from ``weights``."""
        raise NotImplementedError

    def is_done(self, state: Any) -> bool:
        """True when the update that produced ``state`` found it can go no further; the loop then
        stops, after evaluating that point, with :attr:`done_status`. Default: never."""
        return False

    def trace(self, problem, weights, state) -> dict:
        """Per-step values to keep as traces ({name: number}), after each evaluation. Default: none."""
        return {}

    def drive(self, problem, steps: int, target: float | None, callback=None) -> dict:
        """Run the optimizer's own loop (only where ``drives_own_loop``).

        Returns a dict with ``losses`` and ``grad_norms`` ((steps + 1,) histories), ``weights``,
        ``steps``, ``status`` and optionally ``message`` and ``traces``. ``callback(step, weights,
        loss)`` is called after each evaluation as in the run loop; a true return stops the run.
        """
        raise NotImplementedError(f"{self.name} does not drive its own loop")

    def keras_optimizer(self, keras: Any, learning_rate: Any, dtype: np.dtype) -> Any:
        """The Keras 3 optimizer with this optimizer's rule, for the tensorflow backend (only where
        ``"tensorflow"`` is in :attr:`backends`).

        Args:
            keras: the ``keras`` module (the backend imports it; an optimizer module never does).
            learning_rate: a callable returning the step size, a variable of the problem's dtype
                that the backend sets to ``self.lr`` before each run; pass it on as the Keras
                optimizer's ``learning_rate``.
            dtype: the problem's numpy dtype (float32 or float64); give every other float
                hyperparameter as :func:`keras_hyperparameter` ``(value, dtype)``.
        """
        raise NotImplementedError(f"{self.name} has no Keras optimizer")

    @classmethod
    def check_backend(cls, backend: str) -> None:
        """LinnetError unless ``backend`` runs this optimizer."""
        if backend not in cls.backends:
            raise LinnetError(f"{cls.name} is available on the {', '.join(cls.backends)} backend only; "
                              f"{backend} runs {', '.join(runs_on(backend))}")

    @classmethod
    def check_layers(cls, weights) -> None:
        """LinnetError unless this optimizer handles ``len(weights)`` layers."""
        if cls.max_layers is not None and len(weights) > cls.max_layers:
            raise LinnetError(f"{cls.name} handles at most {cls.max_layers} layers, got {len(weights)}")


def keras_hyperparameter(value: float, dtype: np.dtype) -> float:
    """A float hyperparameter as a Keras 3 optimizer computing in ``dtype`` should be given it.

    Keras casts a Python-float hyperparameter with ``tf.cast``, which goes through float32 (0.9
    becomes 0.8999999761581421), as TF1's ``convert_to_tensor`` did; numpy float64 scalars (which
    are Python floats to Keras' checks) keep float64 problems' hyperparameters exact.
    """
    if dtype == np.float64:
        return cast(float, np.float64(value))  # a float subclass (numpy 1.24's stubs do not say so)
    return float(value)


def runs_on(backend: str) -> list[str]:
    """The registered optimizer names whose ``backends`` include ``backend``."""
    registry: dict[str, type[Optimizer]] = REGISTRY
    return sorted(name for name, cls in registry.items() if backend in cls.backends)
