"""Optimizers, registered by spec name (see :mod:`linnet.optimizers.spec`).

Importing this package registers every optimizer, by importing the modules that define them:
:mod:`linnet.optimizers.first_order`, :mod:`linnet.optimizers.second_order`,
:mod:`linnet.optimizers.iterative`, :mod:`linnet.optimizers.layerwise`, the optimizers researchers use
now in :mod:`linnet.optimizers.adaptive` (adamw, lion, adafactor, schedule-free-adamw),
:mod:`linnet.optimizers.orthogonal` (muon) and :mod:`linnet.optimizers.preconditioned` (shampoo,
soap), with step-size schedules in :mod:`linnet.optimizers.schedules`, the scipy peer in
:mod:`linnet.optimizers.scipy_peer` and the adapters to Keras, optax and torch in
:mod:`linnet.optimizers.adapters` (which import their libraries only when first used). Each class is
imported from the module that defines it (e.g. ``from linnet.optimizers.first_order import Adam``).

Imports: linnet.core, linnet.problems.
"""

from linnet.optimizers import (  # noqa: F401
    adapters,
    adaptive,
    first_order,
    iterative,
    layerwise,
    orthogonal,
    preconditioned,
    scipy_peer,
    second_order,
)
