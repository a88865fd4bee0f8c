"""A sweep's grid: the product of problem parameters and optimizer specs, and its members.

A grid maps each problem parameter to a list of values (``seed: [0, 1, ...]``, ``kappa: [1, 100]``),
holds a list of optimizer specs, the step limit and an optional target relative loss. Its members
are the product of all of these; each member is a plain dict (a description, never arrays) with a
stable id: the first 16 hex digits of the SHA-256 of its canonical JSON, so the same parameters
give the same id on any machine and in any order of the grid's keys
(:func:`linnet.runs.experiment.member_id`, the id of a claim run's :class:`~linnet.runs.experiment.Member` too).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from linnet.core.errors import LinnetError
from linnet.optimizers.spec import parse
from linnet.problems.families import PARAMETERS
from linnet.runs.experiment import member_id
from linnet.runs.record import TARGETS, steps_to_key

DTYPES = ("float64", "float32")
#: relative losses whose first-reaching step every row holds (columns ``steps_to_1e-2`` ...): every
#: second decade to 1e-12, and the run record's own targets (:data:`linnet.runs.record.TARGETS`)
ROW_TARGETS = tuple(sorted({1e-2, 1e-4, 1e-6, 1e-8, 1e-10, 1e-12, *TARGETS}, reverse=True))
#: the column of a target, ``steps_to_1e-12`` (the run record's key)
target_column = steps_to_key


def _check_value(key: str, value):
    kind = PARAMETERS[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise LinnetError(f"grid key {key!r}: expected integers, got {value!r}")
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise LinnetError(f"grid key {key!r}: expected numbers, got {value!r}")
        return float(value)
    if kind is str and not isinstance(value, str):
        raise LinnetError(f"grid key {key!r}: expected strings, got {value!r}")
    if kind is tuple:
        if not (isinstance(value, (list, tuple)) and all(isinstance(w, int) and w > 0 for w in value)):
            raise LinnetError(f"grid key {key!r}: expected lists of positive integers, got {value!r}")
        return tuple(value)
    if key == "dtype" and value not in DTYPES:
        raise LinnetError(f"grid key 'dtype': expected one of {', '.join(DTYPES)}, got {value!r}")
    return value


@dataclass(frozen=True)
class Grid:
    """A sweep's grid.

    Attributes:
        problem: {parameter: list of values}, parameters from :data:`linnet.problems.families.PARAMETERS`; a grid
            with ``kappa`` or ``rank`` and no ``family`` is of the conditioned family.
        optimizers: canonical optimizer specs.
        steps: the most updates per member.
        target: stop each member at this relative loss (None: run all steps).
    """

    problem: dict = field(default_factory=dict)
    optimizers: tuple = ()
    steps: int = 3000
    target: float | None = None

    def __post_init__(self):
        problem = {}
        for key, values in self.problem.items():
            if key not in PARAMETERS:
                raise LinnetError(f"unknown grid key {key!r}; choose from {', '.join(PARAMETERS)}, "
                                  "optimizer, steps, target")
            if PARAMETERS[key] is tuple:  # one list of widths, or a list of them
                values = [values] if isinstance(values, (list, tuple)) and all(
                    isinstance(w, int) for w in values) else values
            if not isinstance(values, (list, tuple)):
                values = [values]
            if not values:
                raise LinnetError(f"grid key {key!r} has no values")
            problem[key] = list(dict.fromkeys(_check_value(key, v) for v in values))
        if "family" not in problem and ("kappa" in problem or "rank" in problem):
            problem = {"family": ["conditioned"], **problem}  # kappa and rank belong to that family
        if not self.optimizers:
            raise LinnetError("a grid needs at least one optimizer")
        specs = tuple(dict.fromkeys(parse(s).spec for s in self.optimizers))
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 0:
            raise LinnetError(f"grid key 'steps': expected a non-negative integer, got {self.steps!r}")
        if self.target is not None and not (isinstance(self.target, (int, float)) and self.target >= 0):
            raise LinnetError(f"grid key 'target': expected a non-negative number, got {self.target!r}")
        object.__setattr__(self, "problem", problem)
        object.__setattr__(self, "optimizers", specs)
        object.__setattr__(self, "target", None if self.target is None else float(self.target))

    def members(self) -> list[dict]:
        """Every member description, with its ``id``; problem parameters in the grid's order."""
        keys = list(self.problem)
        out = []
        for values in itertools.product(*(self.problem[k] for k in keys)):
            for spec in self.optimizers:
                member = dict(zip(keys, values), optimizer=spec, steps=self.steps, target=self.target)
                member["id"] = member_id(member)
                out.append(member)
        return out

    def to_dict(self) -> dict:
        """Plain data (JSON and TOML keys): the inverse of :func:`grid_from_dict`."""
        problem = {k: [list(v) if isinstance(v, tuple) else v for v in vs] for k, vs in self.problem.items()}
        return {"problem": problem, "optimizer": list(self.optimizers), "steps": self.steps, "target": self.target}

    def extends(self, old: Grid) -> bool:
        """True when every member of ``old`` is a member of this grid."""
        return {m["id"] for m in old.members()} <= {m["id"] for m in self.members()}


def grid_from_dict(data: dict) -> Grid:
    """A grid from plain data: ``{"problem": {...}, "optimizer": [...], "steps": N, "target": x}``.

    The problem parameters may also sit at the top level (as in a TOML grid file), and
    ``seeds``/``problem`` (a family name) are accepted for ``seed``/``family``.
    """
    data = dict(data)
    problem = data.pop("problem", {})
    if isinstance(problem, str):
        problem = {"family": problem}
    problem = dict(problem)
    optimizers = data.pop("optimizer", data.pop("optimizers", []))
    optimizers = [optimizers] if isinstance(optimizers, str) else list(optimizers)
    steps = data.pop("steps", 3000)
    target = data.pop("target", None)
    for key, value in data.items():
        problem[{"seeds": "seed", "problem": "family"}.get(key, key)] = value
    return Grid(problem, tuple(optimizers), steps, target)
