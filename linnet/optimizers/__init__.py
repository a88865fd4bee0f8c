"""Optimizers, registered by spec name (see :mod:`linnet.optimizers.spec`).

Importing this package registers every optimizer: first-order ones here, second-order ones in
:mod:`linnet.optimizers.second_order` and the scipy peer in :mod:`linnet.optimizers.scipy_peer`.

Imports: linnet.core, linnet.problems.
"""

from linnet.optimizers import first_order, iterative, layerwise, scipy_peer, second_order
from linnet.optimizers.base import Optimizer
from linnet.optimizers.first_order import GD, Adam, Momentum, RMSprop
from linnet.optimizers.layerwise import ALS, KFAC, ClosedForm
from linnet.optimizers.second_order import GaussNewton, LevenbergMarquardt

__all__ = [
    "ALS",
    "GD",
    "KFAC",
    "Adam",
    "ClosedForm",
    "GaussNewton",
    "LevenbergMarquardt",
    "Momentum",
    "Optimizer",
    "RMSprop",
    "first_order",
    "iterative",
    "layerwise",
    "scipy_peer",
    "second_order",
]
