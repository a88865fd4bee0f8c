"""``keras[optimizer=NAME,lr=...,key=value,...]``: any class of ``keras.optimizers`` on the tensorflow backend.

The spec names the class (``optimizer=Lion``), the step size ``lr`` (Keras' ``learning_rate``) and
any other keyword argument of the class's constructor as Keras spells it (``beta_1=0.95``,
``weight_decay=0.01``, ``nesterov=true``). The tensorflow backend (:mod:`linnet.runs.backends.tensorflow`)
builds it through :meth:`KerasClass.keras_optimizer`, as it builds the built-ins' optimizers, and runs
it in the same traced loop.

Shapes: the layers W1 (ydim, w1), ..., WN (w_{N-1}, xdim) are ``tf.Variable`` s of the problem's
dtype; each step the Keras optimizer's ``apply(grads, variables)`` updates them with the gradients
dL/dWk of the post's sample loss (each shaped like its layer), holding its own state (slots shaped
like the layers, and the step count ``iterations``).

Semantics: Keras 3's own, each class's ``update_step`` as documented at
https://keras.io/api/optimizers/ (e.g. SGD: ``velocity = momentum * velocity - learning_rate * g``,
``w = w + velocity``; Lion: Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms",
Algorithm 2). The learning rate is a variable of the problem's dtype, as for every optimizer on the
backend. With ``exact=true`` (the default) so is every other float hyperparameter, given or the
class's default: it is passed as :func:`linnet.optimizers.base.keras_hyperparameter` gives it (a
numpy float64 in a float64 problem), where Keras, given a Python float, rounds it through float32
wherever it ``ops.cast`` s it. So ``keras[optimizer=SGD,lr=1e-05]`` is ``gd[lr=1e-05]`` and
``keras[optimizer=Adam,lr=0.01,epsilon=1e-08]`` is ``adam[lr=0.01]`` on this backend, bit for bit
(tests/test_adapters.py). ``exact=false`` passes the given options as Python floats and leaves the
defaults to the class, as a Keras program does (to reproduce its numbers); Keras 3's Adadelta needs
it in float64, because it multiplies its ``rho`` with a Keras variable directly, which a numpy scalar
cannot do inside a traced function (its arithmetic is exact with Python floats anyway).

Errors, one :class:`linnet.core.errors.LinnetError` line each: a class ``keras.optimizers`` does not
have, options its constructor refuses, or a Keras optimizer that fails on the backend's variables,
when the backend builds it (the run's start, before any step: only :mod:`linnet.runs.backends`
imports TensorFlow, so a spec is not checked against Keras when parsed); ``learning_rate`` among the
options (the step size is ``lr``).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from linnet.core.errors import LinnetError
from linnet.core.validation import check_positive
from linnet.optimizers.adapters.libraries import adapter_options, refused
from linnet.optimizers.base import Optimizer, keras_hyperparameter
from linnet.optimizers.registration import register
from linnet.optimizers.spec import Options

#: the keyword of a Keras optimizer's step size, which the spec gives as lr
STEP_SIZE = "learning_rate"


@register("keras")
@dataclass(frozen=True)
class KerasClass(Optimizer):
    """Any keras.optimizers class, on the tensorflow backend: keras[optimizer=Lion,lr=0.001]."""

    first_order = True
    backends = ("tensorflow",)

    optimizer: str
    lr: float
    exact: bool = True
    options: Options = ()
    example = "keras[optimizer=SGD,lr=1e-05]"

    def __post_init__(self):
        check_positive(self, lr=self.lr)
        if not self.optimizer.isidentifier():
            raise LinnetError(f"keras: optimizer must name a class of keras.optimizers, got {self.optimizer!r}")
        object.__setattr__(self, "options", adapter_options(self, STEP_SIZE))

    def keras_optimizer(self, keras, learning_rate, dtype):
        cls = getattr(keras.optimizers, self.optimizer, None)
        if not (isinstance(cls, type) and issubclass(cls, keras.optimizers.Optimizer)):
            raise LinnetError(f"{self.spec}: keras.optimizers has no optimizer class {self.optimizer!r} "
                              f"(e.g. SGD, Adam, Lion)")
        options = dict(self.options)
        if self.exact:
            defaults = {p.name: p.default for p in inspect.signature(cls).parameters.values()
                        if isinstance(p.default, float) and p.name != STEP_SIZE}
            options = {key: keras_hyperparameter(value, dtype) if isinstance(value, float) else value
                       for key, value in {**defaults, **options}.items()}
        try:
            return cls(learning_rate=learning_rate, **options)
        except (TypeError, ValueError) as exc:
            raise refused(self, f"keras.optimizers.{self.optimizer}", exc) from None
