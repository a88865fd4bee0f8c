"""Optimizers, registered by spec name (see :mod:`linnet.optimizers.spec`).

Importing this package registers every optimizer, by importing the modules that define them:
:mod:`linnet.optimizers.first_order`, :mod:`linnet.optimizers.second_order`,
:mod:`linnet.optimizers.iterative`, :mod:`linnet.optimizers.layerwise`, the scipy peer in
:mod:`linnet.optimizers.scipy_peer` and the adapters to Keras, optax and torch in
:mod:`linnet.optimizers.adapters` (which import their libraries only when first used). Each class is
imported from the module that defines it (e.g. ``from linnet.optimizers.first_order import Adam``).

Imports: linnet.core, linnet.problems.
"""

from linnet.optimizers import adapters, first_order, iterative, layerwise, scipy_peer, second_order  # noqa: F401
