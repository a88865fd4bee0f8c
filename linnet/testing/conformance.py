"""The optimizer conformance kit: the rules every optimizer keeps, checked on any optimizer.

As scikit-learn's ``check_estimator``: ``check_optimizer(optimizer)`` runs every rule that applies
to the optimizer's declared capabilities and raises one AssertionError listing each rule broken,
one line per rule; :func:`optimizer_checks` yields the rules one by one for ``pytest.mark.parametrize``.

    >>> import linnet
    >>> from linnet.testing import check_optimizer
    >>> check_optimizer(linnet.parse("momentum[lr=1e-05,momentum=0.9]"))

The rules (:data:`RULES`), each on the post's problem (seed 0, float64 unless stated), with runs on
the optimizer's backend (:func:`backend`: numpy where it runs there, else the first it lists, as
tensorflow for ``keras[...]``):

* ``registered``: the class is registered under its name and subclasses the contract's base;
* ``spec``: the spec string parses back to an equal optimizer with the same spelling;
* ``deterministic``: two runs of 20 steps give identical loss histories, bit for bit (unless it
  declares ``reproducible_steps = False``);
* ``no-mutation``: ``update`` changes neither its input layers and gradients nor the state it was
  given (a second update from the same state gives the same layers);
* ``shapes``: ``update`` returns one layer per input layer, each of its shape and dtype, in float64
  and in float32 (off numpy: the layers a one-step run returns);
* ``divergence``: a run at a step size 1e6 times the optimizer's own ``lr`` (first order, where it
  has one) returns a Result, and a non-finite loss is reported as ``diverged``, never raised;
* ``batched``: where ``batchable``, three problems in one batched run (:func:`linnet.runs.batched.run_batched`)
  equal three single runs: the same statuses and steps, final losses within rtol 1e-9 (the
  first-order batch sums the loss in another order: about 1e-12 relative, docs/sweeps.md).

Optimizers that drive their own loop (``drives_own_loop``), and those that do not run on numpy (whose
backend applies its own update, as tensorflow applies a Keras optimizer), skip the rules on ``update``.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterator

import numpy as np

from linnet.core.errors import LinnetError
from linnet.optimizers.base import Optimizer
from linnet.optimizers.registry import REGISTRY
from linnet.optimizers.spec import format_spec, parse
from linnet.problems.families import post_problem
from linnet.problems.losses import evaluate
from linnet.runs.batched import run_batched
from linnet.runs.loop import run

#: steps of the determinism and batched runs, and the step-size factor of the divergence run
STEPS = 20
DIVERGE_FACTOR = 1e6
#: the batched run's tolerance on final losses (first order: ~1e-12 measured, docs/sweeps.md)
BATCHED_RTOL = 1e-9


class RuleBroken(AssertionError):
    """One rule of the contract broken; the message is one line naming it."""


def _leaves(tree) -> list:
    """The arrays and scalars of a tree of tuples, lists, dicts and NamedTuples, in order."""
    if isinstance(tree, dict):
        return [x for k in sorted(tree) for x in _leaves(tree[k])]
    if isinstance(tree, (tuple, list)):
        return [x for t in tree for x in _leaves(t)]
    return [tree]


def _same(a, b) -> bool:
    la, lb = _leaves(a), _leaves(b)
    if len(la) != len(lb):
        return False
    for x, y in zip(la, lb):
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if not (np.shape(x) == np.shape(y) and np.array_equal(x, y, equal_nan=True)):
                return False
        elif x != y and not (x != x and y != y):  # NaN equals NaN here
            return False
    return True


def backend(optimizer) -> str:
    """The backend the rules run ``optimizer`` on: numpy where it runs there, else the first it lists."""
    return "numpy" if "numpy" in optimizer.backends else optimizer.backends[0]


def _updates(optimizer) -> bool:
    """Whether the rules on ``update`` apply: it runs on numpy through init / update."""
    return "numpy" in optimizer.backends and not optimizer.drives_own_loop


def _writable(arrays) -> tuple:
    return tuple(np.array(a, copy=True) for a in arrays)


def check_registered(optimizer) -> None:
    cls = type(optimizer)
    if not isinstance(optimizer, Optimizer):
        raise RuleBroken(f"{cls.__qualname__} does not subclass linnet.Optimizer; register it with @linnet.register")
    if REGISTRY.get(getattr(cls, "name", None)) is not cls:
        raise RuleBroken(f"{cls.__qualname__} is not registered under its name {getattr(cls, 'name', None)!r}")


def check_spec(optimizer) -> None:
    text = format_spec(optimizer)
    try:
        again = parse(text)
    except LinnetError as exc:
        raise RuleBroken(f"its spec {text!r} does not parse: {exc}") from None
    if again != optimizer or format_spec(again) != text:
        raise RuleBroken(f"its spec {text!r} parses to {format_spec(again)!r}, not the same optimizer")


def check_deterministic(optimizer) -> None:
    if not optimizer.reproducible_steps:
        return  # declared: its iterates turn on one-ulp differences (the scipy peer)
    problem = post_problem(0)
    a, b = (run(problem, optimizer, STEPS, backend=backend(optimizer)) for _ in range(2))
    if not np.array_equal(a.losses, b.losses, equal_nan=True):
        n = min(len(a.losses), len(b.losses))
        differ = np.flatnonzero(~((a.losses[:n] == b.losses[:n]) | (np.isnan(a.losses[:n]) & np.isnan(b.losses[:n]))))
        k = int(differ[0]) if differ.size else n
        raise RuleBroken(f"two identical runs of {STEPS} steps differ (first at step {k})")


def _one_update(optimizer, problem):
    weights = _writable(problem.weights)
    ev = evaluate(problem, weights)
    ev = ev._replace(grads=_writable(ev.grads))
    state = optimizer.init(problem, weights)
    return weights, ev, state


def check_no_mutation(optimizer) -> None:
    if not _updates(optimizer):
        return
    problem = post_problem(0)
    weights, ev, state = _one_update(optimizer, problem)
    before = copy.deepcopy((weights, ev.grads, state))
    first, _ = optimizer.update(problem, weights, ev, state)
    for what, now, then in (("its input layers", weights, before[0]), ("its input gradients", ev.grads, before[1]),
                            ("the state it was given", state, before[2])):
        if not _same(now, then):
            raise RuleBroken(f"update changed {what} in place")
    second, _ = optimizer.update(problem, weights, ev, state)
    if not _same(first, second):
        raise RuleBroken("two updates from the same layers and state gave different layers")


def check_shapes(optimizer) -> None:
    if optimizer.drives_own_loop:
        return
    for dtype in (np.float64, np.float32):
        problem = post_problem(0).astype(dtype)
        if _updates(optimizer):
            weights, ev, state = _one_update(optimizer, problem)
            new = tuple(optimizer.update(problem, weights, ev, state)[0])
        else:
            weights, new = problem.weights, run(problem, optimizer, 1, backend=backend(optimizer)).weights
        if len(new) != len(weights):
            raise RuleBroken(f"update returned {len(new)} layers for {len(weights)}")
        for k, (W, V) in enumerate(zip(weights, new)):
            V = np.asarray(V)
            if V.shape != W.shape or V.dtype != W.dtype:
                raise RuleBroken(f"update returned layer {k + 1} as {V.dtype}{list(V.shape)} "
                                 f"for {W.dtype}{list(W.shape)}")


def check_divergence(optimizer) -> None:
    if not optimizer.first_order or "lr" not in {f.name for f in dataclasses.fields(optimizer)} \
            or optimizer.lr is None:
        return
    fast = dataclasses.replace(optimizer, lr=optimizer.lr * DIVERGE_FACTOR)
    try:
        result = run(post_problem(0), fast, STEPS, backend=backend(optimizer))
    except Exception as exc:  # noqa: BLE001 - the rule is that nothing is raised
        raise RuleBroken(f"a run at lr {fast.lr:g} raised {type(exc).__name__} instead of returning a "
                         f"diverged result") from None
    if not np.all(np.isfinite(result.losses)) and not result.diverged:
        raise RuleBroken(f"a run at lr {fast.lr:g} reached a non-finite loss but is not marked diverged")


def check_batched(optimizer) -> None:
    if not optimizer.batchable:
        return
    problems = [post_problem(seed) for seed in range(3)]
    batch = run_batched(problems, optimizer, STEPS)
    for i, problem in enumerate(problems):
        single = run(problem, optimizer, STEPS)
        same = (int(batch.status[i]) == single.status and int(batch.steps[i]) == single.steps
                and np.isclose(batch.final_loss[i], single.final_loss, rtol=BATCHED_RTOL, atol=0, equal_nan=True))
        if not same:
            raise RuleBroken(f"batched member {i} (status {int(batch.status[i])}, {int(batch.steps[i])} steps, loss "
                             f"{batch.final_loss[i]:.6g}) differs from its single run (status {single.status}, "
                             f"{single.steps} steps, loss {single.final_loss:.6g})")


#: the rules, by name, in the order they run
RULES: dict[str, Callable[[Optimizer], None]] = {
    "registered": check_registered,
    "spec": check_spec,
    "deterministic": check_deterministic,
    "no-mutation": check_no_mutation,
    "shapes": check_shapes,
    "divergence": check_divergence,
    "batched": check_batched,
}


def optimizer_checks(optimizer) -> Iterator[tuple[str, Callable[[], None]]]:
    """(rule name, a callable that raises :class:`RuleBroken`) for each rule, for parametrized tests."""
    for name, rule in RULES.items():
        yield name, (lambda rule=rule: rule(optimizer))


def check_optimizer(optimizer) -> None:
    """Run every rule on ``optimizer`` (an instance or a spec string).

    Raises:
        AssertionError: one line per rule broken, ``rule: what happened``. A rule that raises
            anything but :class:`RuleBroken` (the optimizer crashed) counts as broken too.
    """
    if isinstance(optimizer, str):
        optimizer = parse(optimizer)
    name = getattr(optimizer, "spec", None) if isinstance(optimizer, Optimizer) else type(optimizer).__qualname__
    broken = []
    for rule, check in optimizer_checks(optimizer):
        try:
            check()
        except RuleBroken as exc:
            broken.append(f"{rule}: {exc}")
        except Exception as exc:  # noqa: BLE001 - a crash inside the optimizer breaks the rule that ran it
            broken.append(f"{rule}: raised {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        if rule == "registered" and broken:
            break  # the other rules need a registered optimizer
    if broken:
        raise AssertionError(f"{name} breaks {len(broken)} rule(s) of the optimizer contract:\n  "
                             + "\n  ".join(broken))
