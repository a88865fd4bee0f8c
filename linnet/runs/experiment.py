"""One shape for an experiment's runs: :class:`Runs`, a mapping from :class:`Member` to result.

A member is the description of one run -- problem parameters, optimizer spec, step limit, target,
backend and, where a claim compares two starts of the same problem, a named variant -- as plain,
hashable values (never arrays). Its :attr:`Member.id` is :func:`member_id` of the same dict, the
stable id a sweep gives its members (:mod:`linnet.sweeps.grid`), so a run of a claim and the same
run in a sweep share one id. Every run producer of :mod:`linnet.claims` returns :class:`Runs`
(docs/design.md, "One run record"); the checks select what they need by parameter::

    >>> runs = Runs({Member(seed=0, optimizer="lm"): 1.0, Member(seed=1, optimizer="lm"): 2.0})
    >>> runs.one(seed=1), list(runs.by("seed"))
    (2.0, [0, 1])
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping

from linnet.core.errors import LinnetError
from linnet.problems.families import PARAMETERS

#: what a member may describe: the problem parameters (:data:`linnet.problems.families.PARAMETERS`), the
#: optimizer spec, step limit and target relative loss, the backend, and ``start``, a named variant
#: of the initialisation ("post" or "balanced": ``Problem.balanced()`` of the same product)
MEMBER_KEYS = (*PARAMETERS, "start", "optimizer", "steps", "target", "backend")
_MISSING = object()


def member_id(member: Mapping) -> str:
    """Stable id of a member description: the first 16 hex digits of the SHA-256 of its canonical
    JSON (sorted keys, tuples as lists; an ``id`` key is ignored), the same on any machine."""
    body = {k: (list(v) if isinstance(v, tuple) else v) for k, v in member.items() if k != "id"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Member(Mapping):
    """An immutable, hashable description of one run: ``Member(seed=0, optimizer="lm", steps=10)``.

    A read-only mapping of its parameters (keys from :data:`MEMBER_KEYS`, lists stored as tuples),
    also readable as attributes (``m.seed``); two members are equal when their parameters are.
    """

    __slots__ = ("_params",)

    def __init__(self, params: Mapping | None = None, /, **kwargs):
        params = {**(params or {}), **kwargs}
        params.pop("id", None)
        unknown = [k for k in params if k not in MEMBER_KEYS]
        if unknown:
            raise LinnetError(f"unknown member parameter {unknown[0]!r}; choose from {', '.join(MEMBER_KEYS)}")
        object.__setattr__(self, "_params", {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})

    def __getitem__(self, key):
        return self._params[key]

    def __iter__(self) -> Iterator:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def __getattr__(self, name):
        if name.startswith("_") or name not in self._params:
            raise AttributeError(f"member has no parameter {name!r}")
        return self._params[name]

    def __setattr__(self, name, value):
        raise AttributeError("a Member is immutable")

    def __hash__(self) -> int:
        return hash(frozenset(self._params.items()))

    def __eq__(self, other) -> bool:
        return isinstance(other, Member) and self._params == other._params

    def __reduce__(self):
        return Member, (self._params,)

    def __repr__(self) -> str:
        return f"Member({', '.join(f'{k}={v!r}' for k, v in self._params.items())})"

    @property
    def id(self) -> str:
        """:func:`member_id` of this description."""
        return member_id(self._params)

    def replace(self, **params) -> Member:
        """This member with ``params`` set."""
        return Member(self._params, **params)

    def matches(self, **params) -> bool:
        """Whether every given parameter has the given value (an absent parameter never matches)."""
        return all(self._params.get(k, _MISSING) == v for k, v in params.items())


class Runs(Mapping):
    """An experiment's runs: a read-only Mapping[Member, result] in insertion order.

    Built from a mapping or from (member, result) pairs; ``select``, ``one`` and ``by`` pick runs
    by member parameters. A result is usually a :class:`linnet.Result` (or a batch's
    :class:`linnet.runs.batched_result.MemberResult`, which has the same fields).
    """

    __slots__ = ("_runs",)

    def __init__(self, runs=()):
        runs = dict(runs)
        for member in runs:
            if not isinstance(member, Member):
                raise LinnetError(f"Runs are keyed by Member, got {member!r}")
        self._runs = runs

    @classmethod
    def keyed(cls, params, results: Mapping, **common) -> Runs:
        """Runs from results nested by parameter value, each member also carrying ``common``:
        ``Runs.keyed("optimizer", {"lm": r}, seed=0)``, ``Runs.keyed(("optimizer", "seed"),
        {"lm": {0: r0, 1: r1}})`` (one level of nesting per name in ``params``)."""
        names = (params,) if isinstance(params, str) else tuple(params)
        out: dict = {}

        def walk(level, fixed):
            depth = len(fixed)
            for value, inner in level.items():
                here = {**fixed, names[depth]: value}
                if depth + 1 < len(names):
                    walk(inner, here)
                else:
                    out[Member(common, **here)] = inner

        walk(results, {})
        return cls(out)

    def __getitem__(self, member: Member):
        return self._runs[member]

    def __iter__(self) -> Iterator[Member]:
        return iter(self._runs)

    def __len__(self) -> int:
        return len(self._runs)

    def __repr__(self) -> str:
        return f"Runs({len(self)} runs)"

    def __or__(self, other: Runs) -> Runs:
        return Runs({**self._runs, **other._runs})

    def select(self, **params) -> Runs:
        """The runs whose members have every given parameter value."""
        return Runs((m, r) for m, r in self._runs.items() if m.matches(**params))

    def one(self, **params):
        """The one result whose member has the given parameters; LinnetError unless exactly one."""
        chosen = self.select(**params)
        if len(chosen) != 1:
            raise LinnetError(f"{len(chosen)} runs have {params}, expected exactly one")
        return next(iter(chosen.values()))

    def by(self, param: str) -> dict:
        """{value: Runs} grouped by one parameter, values in order of first appearance;
        LinnetError if a member lacks it."""
        out: dict = {}
        for m, r in self._runs.items():
            if param not in m:
                raise LinnetError(f"run {m!r} has no parameter {param!r}")
            out.setdefault(m[param], {})[m] = r
        return {v: Runs(group) for v, group in out.items()}
