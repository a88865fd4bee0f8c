"""What every optimizer is: a frozen configuration with explicit state (init / update).

The shape follows optax: ``state = opt.init(problem, weights)``, then each step
``weights, state = opt.update(problem, weights, evaluation, state)``, where ``evaluation`` is the
:class:`linnet.losses.Evaluation` (loss, gradients, residual) the run loop has just computed at
``weights``. First-order methods use only ``evaluation.grads``; second-order methods use the
problem (its S) and the residual. Nothing is mutated: weights and state are new values.
"""

from __future__ import annotations

from typing import ClassVar

from linnet.spec import format_spec


class Optimizer:
    """Base of the registered optimizer dataclasses: gives them ``spec`` and ``str``."""

    name: ClassVar[str]
    #: an example spec string, shown by ``python -m linnet --help``
    example: ClassVar[str]
    #: False where the method needs more than gradients (second-order, closed form)
    first_order: ClassVar[bool] = False

    @property
    def spec(self) -> str:
        """The canonical spec string, e.g. ``gd[lr=1e-05]``."""
        return format_spec(self)

    def __str__(self) -> str:
        return self.spec

    def init(self, problem, weights):
        """Initial optimizer state for ``weights`` (the problem's initial layers)."""
        return ()

    def update(self, problem, weights, evaluation, state):
        """Return (new_weights, new_state) after one step from ``weights``."""
        raise NotImplementedError
