"""``torch[optimizer=NAME,lr=...,key=value,...]``: any ``torch.optim`` optimizer, on the numpy backend.

The spec names the class (``optimizer=SGD``, ``Adam``, ``RMSprop``, ...), the step size ``lr``
(torch's ``lr``) and any other keyword argument of its constructor as torch spells it
(``momentum=0.9``, ``nesterov=true``, ``betas`` excepted: a tuple has no spelling in a spec). It
needs the optional extra: ``pip install 'linnet[torch]'``.

Shapes: numpy layers in, numpy layers out. Each step copies the layers (W1, ..., WN), each
(rows, cols), into tensors of their dtype, sets their ``.grad`` to the gradients dL/dWk (the same
shapes), loads the optimizer's state, calls ``optimizer.step()`` and returns the stepped tensors as
numpy arrays. The state linnet keeps is, per layer, the optimizer's per-parameter state
(``optimizer.state[p]``: e.g. SGD's ``momentum_buffer``, Adam's ``step``, ``exp_avg``,
``exp_avg_sq``) with numpy arrays for tensors; nothing is mutated.

Semantics: torch's own, each class's algorithm as documented at
https://pytorch.org/docs/stable/optim.html (e.g. SGD: b <- mu b + (1 - dampening) g, with b = g
at the first step; W <- W - lr b; with the default dampening 0 that is linnet's ``momentum``, and
without momentum ``gd``). ``torch[optimizer=SGD,lr=1e-05]`` is ``gd[lr=1e-05]`` and
``torch[optimizer=SGD,lr=1e-06,momentum=0.9]`` is ``momentum[lr=1e-06,momentum=0.9]`` to round-off
(tests/test_adapters.py).

Not batchable: a torch optimizer takes one step size (a number), where the batched loop gives each
member its own, and some reduce over a whole parameter (Adafactor's factored second moments), which
a stacked (B, rows, cols) layer would mix across members.

Errors, one :class:`linnet.core.errors.LinnetError` line each, when a run starts (``init`` takes a
probe step on a 1 x 1 layer, before the run's first step; parsing imports no library, as for
:mod:`linnet.optimizers.adapters.optax_transform`): a missing extra, a class ``torch.optim`` does not
have, options its constructor or its step refuses (LBFGS, which needs a closure, included).
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


def _torch():
    """torch, imported on first use; one LinnetError line when the extra is missing."""
    try:
        import torch
    except ImportError:
        raise missing("torch") from None
    return torch


@register("torch")
@dataclass(frozen=True)
class TorchOptim(Optimizer):
    """Any torch.optim optimizer, on the numpy backend: torch[optimizer=Adam,lr=0.01]."""

    first_order = True

    optimizer: str
    lr: float
    options: Options = ()
    example = "torch[optimizer=SGD,lr=1e-05]"

    def __post_init__(self):
        check_positive(self, lr=self.lr)
        if not self.optimizer.isidentifier():
            raise LinnetError(f"torch: optimizer must name a class of torch.optim, got {self.optimizer!r}")
        object.__setattr__(self, "options", adapter_options(self, "lr"))

    def init(self, problem, weights):
        probe = (np.zeros((1, 1)),)
        self._step(probe, probe, ({},))  # a class or options torch refuses fail here, in one line
        return tuple({} for _ in weights)  # torch.optim creates a parameter's state at its first step

    def update(self, problem, weights, evaluation, state):
        return self._step(weights, evaluation.grads, state)

    def _step(self, weights, grads, state):
        torch = _torch()
        cls = getattr(torch.optim, self.optimizer, None)
        if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
            raise LinnetError(f"{self.spec}: torch.optim has no optimizer class {self.optimizer!r} (e.g. SGD, Adam)")
        params = [torch.tensor(W) for W in weights]  # copies, which the step changes in place
        try:
            optimizer = cls(params, lr=self.lr, **dict(self.options))
            saved = optimizer.state_dict()
            saved["state"] = {i: {key: torch.tensor(value) if isinstance(value, np.ndarray) else value
                                  for key, value in slots.items()} for i, slots in enumerate(state) if slots}
            optimizer.load_state_dict(saved)
            for p, g in zip(params, grads):
                p.grad = torch.tensor(g)
            optimizer.step()
        except (TypeError, ValueError, RuntimeError) as exc:
            raise refused(self, f"torch.optim.{self.optimizer}", exc) from None
        state = tuple({key: value.numpy() if torch.is_tensor(value) else value
                       for key, value in optimizer.state[p].items()} for p in params)
        return tuple(p.numpy() for p in params), state
