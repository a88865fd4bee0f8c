"""The step size over the steps, and the Keras optimizer of the same rule.

A schedule is named in the spec string by the field ``lr_decay`` of the optimizers that have one
(adamw, lion, adafactor, muon, schedule-free-adamw, shampoo, soap): ``lr_decay=1`` (the default) is
a constant step size, ``lr_decay=d`` with 0 < d < 1 the exponential annealing

    lr_t = lr * d**t,  t = 0, 1, 2, ... the updates taken before this one

(Keras' ``ExponentialDecay(lr, decay_steps=1, decay_rate=d)``, which Keras evaluates at
``optimizer.iterations``, the updates already applied). The step count lives in the optimizer's state,
so the schedule also holds in the batched loop, which passes ``lr`` (a float or a (B, 1, 1) array)
to ``step``.

:func:`keras_optimizer` builds the Keras 3 optimizer that the tensorflow backend runs for these
optimizers: the class by name (one LinnetError line where the installed Keras lacks it) with the
scheduled step size.
"""

from __future__ import annotations

import math

from linnet.core.errors import LinnetError


def check_lr_decay(owner, lr_decay: float) -> None:
    """Raise LinnetError unless 0 < lr_decay <= 1 (1: a constant step size)."""
    if not (isinstance(lr_decay, (int, float)) and math.isfinite(lr_decay) and 0 < lr_decay <= 1):
        raise LinnetError(f"{owner.name}: lr_decay must be in (0, 1] (1: constant step size), got {lr_decay!r}")


def scheduled(lr, lr_decay: float, count: int):
    """The step size of update ``count + 1``: lr * lr_decay**count (``lr`` a float or an array)."""
    return lr if lr_decay == 1 else lr * lr_decay**count


def keras_optimizer(keras, class_name: str, learning_rate, lr_decay: float, **hyperparameters):
    """``keras.optimizers.<class_name>(learning_rate=..., **hyperparameters)`` with the scheduled
    step size ``learning_rate() * lr_decay**iterations`` (:func:`keras_class`, :func:`keras_schedule`)."""
    return keras_class(keras, class_name)(learning_rate=keras_schedule(keras, learning_rate, lr_decay),
                                          **hyperparameters)


def keras_class(keras, class_name: str):
    """``keras.optimizers.<class_name>``.

    Raises:
        LinnetError: the installed Keras has no such class (e.g. Keras before Muon or
            ScheduleFreeAdamW), in one line naming the class and the installed version.
    """
    cls = getattr(keras.optimizers, class_name, None)
    if cls is None:
        raise LinnetError(f"keras {keras.__version__} has no keras.optimizers.{class_name}; "
                          f"upgrade Keras to run it on the tensorflow backend")
    return cls


def keras_schedule(keras, learning_rate, lr_decay: float):
    """``learning_rate`` (a callable returning the step size) as Keras should see it: itself for a
    constant step size, else a ``LearningRateSchedule`` of ``learning_rate() * lr_decay**step``."""
    if lr_decay == 1:
        return learning_rate
    ops = keras.ops

    class Exponential(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            lr = learning_rate()
            return lr * ops.power(ops.convert_to_tensor(lr_decay, dtype=lr.dtype), ops.cast(step, lr.dtype))

    return Exponential()
