"""linnet: optimizers on deep linear networks, benchmarked against the claims of a blog post.

The post ("Gradient Descent Doesn't Find a Local Minimum in a Two Layer Linear Net", Rahimi 2017)
fits W1 W2 to a linear map A. linnet builds its problem exactly, runs first- and second-order
optimizers on it, and checks every claim with measured numbers.

    >>> import linnet
    >>> problem = linnet.post_problem(seed=0)
    >>> result = linnet.run(problem, "adam[lr=0.01]", steps=3000)
    >>> result.relative_loss > 1e-6
    True
    >>> from linnet.runs.record import record
    >>> record(result)["status"]      # the flat run record
    0

Layout and sources: docs/design.md.
"""

from linnet import optimizers  # noqa: F401  (registers the optimizers)
from linnet.core.errors import LinnetError
from linnet.core.version import __version__  # noqa: F401
from linnet.optimizers.base import Optimizer
from linnet.optimizers.first_order import FirstOrder
from linnet.optimizers.registration import register
from linnet.optimizers.spec import format_spec, parse
from linnet.problems.families import conditioned_problem, make_problem, post_problem
from linnet.problems.losses import evaluate, imbalance, loss
from linnet.problems.problem import Problem
from linnet.runs.loop import run
from linnet.runs.result import Result

__all__ = [
    "FirstOrder",
    "LinnetError",
    "Optimizer",
    "Problem",
    "Result",
    "conditioned_problem",
    "evaluate",
    "format_spec",
    "imbalance",
    "loss",
    "make_problem",
    "parse",
    "post_problem",
    "register",
    "run",
]

# installed packages' optimizers, last: a plugin module may itself import linnet (docs/optimizers.md)
from linnet.optimizers import plugins  # noqa: E402

plugins.load()
