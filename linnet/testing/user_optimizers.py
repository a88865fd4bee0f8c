"""A user's optimizers in the benchmarks: which benchmark runs which optimizer, by capability.

``pytest benchmarks --linnet-optimizer SPEC`` (:mod:`linnet.testing.plugin`) adds SPEC to every
benchmark whose claim is about optimizers of its kind. A benchmark declares, with
:func:`over_optimizers` in place of its ``pytest.mark.parametrize`` decorators, the optimizers it
runs and the grid it runs them on, and with :class:`Applies` the optimizers its claim is about, by
the capabilities an optimizer declares (:mod:`linnet.optimizers.base`)::

    @pytest.mark.claim("post.plateau")
    @over_optimizers(Applies(first_order=True), {"seed": SEEDS, "backend": BACKENDS}, named=POST_FIRST_ORDER)
    def test_plateau(benchmark, spec, seed, backend): ...

The plugin's ``pytest_generate_tests`` parametrizes such a benchmark with :func:`parameters`: one
item per built-in optimizer and grid point, named as ``pytest.mark.parametrize`` would name them,
then one per user optimizer and grid point where :meth:`Applies.accepts` it, named by its spec
first. Without ``--linnet-optimizer`` the items and their ids are exactly the built-ins'. A user's
item carries the marker :data:`USER_MARKER` with its spec: the regression gate reports it instead
of comparing it with the baseline, the claims verdict gives it lines of its own, and
:func:`linnet.testing.verdicts.settle` reports its claim instead of asserting it.

A benchmark whose built-in item takes no parameter (its id has no brackets to extend) keeps it, and
a sibling benchmark declared with no built-ins runs the user's optimizers; in a run without them
the sibling has no item at all (the plugin's ``pytest_pycollect_makeitem``).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence

import pytest

from linnet.core.errors import LinnetError

#: the marker :func:`over_optimizers` puts on a benchmark
MARKER = "linnet_optimizers"
#: the marker on an item of a user's optimizer, with its canonical spec string
USER_MARKER = "user_optimizer"
#: what ``pytest.param`` returns (pytest does not export its class)
ParameterSet = type(pytest.param())


@dataclasses.dataclass(frozen=True)
class Applies:
    """The optimizers a benchmark's claim is about, by declared capability.

    ``first_order``: True for a claim about gradient-only rules, False for one about the others,
    None for any optimizer. ``batched``: the benchmark runs it in the batched loop (it must be
    ``batchable``). ``step_size``: the benchmark sets its step size (it must have an ``lr`` field,
    as every first-order rule of the contract does). ``depth`` and ``backend``: the layers of the
    benchmark's problems (within the optimizer's ``max_layers``) and the backend it runs on (among
    its ``backends``); a grid parameter named ``depth`` or ``backend`` sets them per item.
    """

    first_order: bool | None = None
    batched: bool = False
    step_size: bool = False
    depth: int = 2
    backend: str = "numpy"

    def accepts(self, optimizer, params: Mapping[str, object]) -> bool:
        """Whether ``optimizer`` (an instance) can be run at the grid point ``params`` ({argname: value})."""
        depth = params.get("depth", self.depth)
        backend = params.get("backend", self.backend)
        return ((self.first_order is None or optimizer.first_order == self.first_order)
                and (not self.batched or optimizer.batchable)
                and (not self.step_size or "lr" in {f.name for f in dataclasses.fields(optimizer)})
                and (optimizer.max_layers is None or depth <= optimizer.max_layers)
                and backend in optimizer.backends)


def over_optimizers(applies: Applies, grid: Mapping[str, Sequence] | None = None, *, named: Sequence[str] = (),
                    unnamed: object = None, argname: str = "spec") -> pytest.MarkDecorator:
    """Parametrize a benchmark over its optimizers and its grid, and declare whom its claim is about.

    ``grid``: the other parameters, in the order of the ids, as ``pytest.mark.parametrize`` takes
    them (``{"seed": [...], "depth,width": [pytest.param(3, 6, id=..., marks=...), ...]}``).
    ``named``: built-in specs, one item per spec and grid point, the spec first in the id (as
    ``gd[lr=1e-06]-seed0-numpy``). ``unnamed``: the value ``argname`` takes in the benchmark's
    built-in items when their ids name no optimizer (one spec, or the specs one item runs
    together). With neither, the benchmark runs only the user's optimizers. A user's optimizer
    passes its spec string, first in the id, wherever ``applies`` accepts it; a spec among
    ``named`` is not added twice.
    """
    if unnamed is not None and not grid:
        raise LinnetError("over_optimizers: a built-in item with no parameter has no id to extend; keep it "
                          "unparametrized and declare a sibling benchmark with no built-ins for the user's optimizers")
    return getattr(pytest.mark, MARKER)(argname, dict(grid or {}), tuple(named), unnamed, applies)


def _point_params(key: str, values: Sequence) -> list:
    """One ``pytest.param`` with an id per value of a grid entry (``str`` of the value where none is given)."""
    several = "," in key
    out = []
    for value in values:
        if not isinstance(value, ParameterSet):
            value = pytest.param(*(value if several else (value,)))
        if value.id is None:
            value = pytest.param(*value.values, id="-".join(map(str, value.values)), marks=value.marks)
        out.append(value)
    return out


def parameters(mark, user: Sequence) -> tuple[list[str], list]:
    """``(argnames, params)`` for ``metafunc.parametrize`` from an :func:`over_optimizers` marker and the
    user's optimizers (parsed instances), as described in the module docstring."""
    argname, grid, named, unnamed, applies = mark.args
    argnames = [argname] + [n.strip() for key in grid for n in key.split(",")]
    points = list(itertools.product(*(_point_params(key, values) for key, values in grid.items())))

    def param(spec, point, shown: bool, marks=()):
        values = [v for p in point for v in p.values]
        ids = ([spec] if shown else []) + [p.id for p in point]
        return pytest.param(spec, *values, id="-".join(ids),
                            marks=[m for p in point for m in p.marks] + list(marks))

    out = [param(spec, point, True) for spec in named for point in points]
    if unnamed is not None:
        out += [param(unnamed, point, False) for point in points]
    for optimizer in user:
        if optimizer.spec in named:
            continue
        for point in points:
            values = dict(zip(argnames[1:], (v for p in point for v in p.values)))
            if applies.accepts(optimizer, values):
                out.append(param(optimizer.spec, point, True, [getattr(pytest.mark, USER_MARKER)(optimizer.spec)]))
    return argnames, out


def user_spec(item) -> str | None:
    """The spec of the user's optimizer a collected item runs (None: a built-in's item)."""
    mark = item.get_closest_marker(USER_MARKER)
    return mark.args[0] if mark is not None else None
