"""Registering an optimizer class under its spec name: the ``linnet.register`` decorator."""

from __future__ import annotations

import dataclasses
import re

from linnet.core.errors import LinnetError
from linnet.optimizers.base import Optimizer
from linnet.optimizers.registry import REGISTRY

#: a spec name: lower-case letters, digits, '-' and '_', starting with a letter
NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
#: the method each backend calls (docs/optimizers.md, "Capabilities")
HOOKS = {"numpy": "update", "tensorflow": "keras_optimizer"}


def register(name: str):
    """Class decorator: register an optimizer class under the spec name ``name``.

    The class is a dataclass (its fields are the hyperparameters a spec string sets) that subclasses
    :class:`linnet.optimizers.base.Optimizer` or defines its two methods ``init(problem, weights)``
    and ``update(problem, weights, evaluation, state)``; a class that does not subclass it gets the
    base's capabilities and hooks (its defaults: numpy backend, not batchable, second order).
    Each backend it lists needs its hook (:data:`HOOKS`): ``update`` for numpy (unless it drives its
    own loop), ``keras_optimizer`` for tensorflow.

    Raises:
        LinnetError: a malformed name, a name another class holds, a class that is not a dataclass
            or lacks ``init`` / ``update``, or one that lists a backend without defining its hook.
    """
    if not isinstance(name, str) or not NAME.match(name):
        raise LinnetError(f"an optimizer name is lower-case letters, digits, '-' and '_', got {name!r}")

    def decorate(cls):
        where = f"{cls.__module__}.{cls.__qualname__}"
        if not isinstance(cls, type) or not dataclasses.is_dataclass(cls):
            raise LinnetError(f"register {name!r}: {where} is not a dataclass (its fields are the hyperparameters)")
        drives = getattr(cls, "drives_own_loop", False)
        hooks = [] if issubclass(cls, Optimizer) else ["init"]
        hooks += [HOOKS[b] for b in getattr(cls, "backends", Optimizer.backends)
                  if b in HOOKS and not (b == "numpy" and drives)]
        missing = [m for m in hooks if not callable(getattr(cls, m, None)) or getattr(cls, m) is getattr(Optimizer, m)]
        if missing:
            why = " (the tensorflow backend it lists builds its Keras optimizer with it)" \
                if "keras_optimizer" in missing else ""
            raise LinnetError(f"register {name!r}: {where} defines no {' or '.join(missing)}{why}")
        taken = REGISTRY.get(name)
        if taken is not None and (taken.__module__, taken.__qualname__) != (cls.__module__, cls.__qualname__):
            raise LinnetError(f"register {name!r}: the name is taken by {taken.__module__}.{taken.__qualname__}")
        if not issubclass(cls, Optimizer):
            cls = type(cls.__name__, (cls, Optimizer), {"__module__": cls.__module__, "__qualname__": cls.__qualname__,
                                                         "__doc__": cls.__doc__})
        cls.name = name
        REGISTRY[name] = cls
        return cls

    return decorate


