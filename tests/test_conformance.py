"""linnet.testing.check_optimizer: every built-in keeps the contract, and each deliberately broken
optimizer below is caught by the rule it breaks (the kit's negative controls)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import linnet
from linnet.optimizers.registry import REGISTRY, unregister
from linnet.testing import check_optimizer, optimizer_checks
from linnet.testing.conformance import RULES, RuleBroken

#: the adapters' libraries are optional: tests/test_adapters.py checks them where they are installed
BUILT_INS = sorted(cls.example for cls in REGISTRY.values()
                   if not cls.__module__.startswith("linnet.optimizers.adapters"))


@pytest.mark.parametrize("spec", BUILT_INS)
def test_every_built_in_keeps_the_contract(spec):
    check_optimizer(spec)


@dataclass(frozen=True)
class _Velocity(linnet.FirstOrder):
    lr: float

    def initial_state(self, weights):
        return tuple(np.zeros_like(W) for W in weights)

    def step(self, weights, grads, state, lr):
        velocity = tuple(0.9 * v + g for v, g in zip(state, grads))
        return tuple(W - lr * v for W, v in zip(weights, velocity)), velocity


class MutatesState(_Velocity):
    def step(self, weights, grads, state, lr):
        for v, g in zip(state, grads):
            v *= 0.9
            v += g
        return tuple(W - lr * v for W, v in zip(weights, state)), state


class MutatesLayers(_Velocity):
    def step(self, weights, grads, state, lr):
        for W, g in zip(weights, grads):
            W -= lr * g
        return weights, state


class WrongShape(_Velocity):
    def step(self, weights, grads, state, lr):
        new, state = super().step(weights, grads, state, lr)
        return new[:-1], state


class WrongDtype(_Velocity):
    def step(self, weights, grads, state, lr):
        new, state = super().step(weights, grads, state, lr)
        return tuple(np.asarray(W, dtype=np.float64) for W in new), state


class NonDeterministic(_Velocity):
    def step(self, weights, grads, state, lr):
        noise = np.random.default_rng().normal(scale=1e-12)
        return tuple(W - lr * (1 + noise) * g for W, g in zip(weights, grads)), state


class BatchedDiffers(_Velocity):
    """Normalises by the gradient's size over every axis: the batch axis too, when batched."""

    def step(self, weights, grads, state, lr):
        scale = 1.0 / (1.0 + np.mean([np.abs(g).mean() for g in grads]))
        return tuple(W - lr * scale * g for W, g in zip(weights, grads)), state


class RaisesOnDivergence(_Velocity):
    """Reports its own divergence by raising, where the contract says a diverging run is a result."""

    def step(self, weights, grads, state, lr):
        if any(np.abs(W).max() > 1e30 for W in weights):
            raise FloatingPointError("the layers are diverging")
        return super().step(weights, grads, state, lr)


BROKEN = {
    "no-mutation": [MutatesState, MutatesLayers],
    "shapes": [WrongShape, WrongDtype],
    "deterministic": [NonDeterministic],
    "batched": [BatchedDiffers],
    "divergence": [RaisesOnDivergence],
}


@pytest.fixture
def registered():
    names = []

    def make(cls):
        name = "broken-" + cls.__name__.lower()
        names.append(name)
        if "__dataclass_fields__" not in cls.__dict__:
            cls = dataclass(frozen=True)(cls)
        return linnet.register(name)(cls)(lr=1e-5)

    yield make
    for name in names:
        unregister(name)


@pytest.mark.parametrize("rule, cls", [(rule, cls) for rule, classes in BROKEN.items() for cls in classes],
                         ids=lambda x: getattr(x, "__name__", x))
def test_each_broken_optimizer_is_caught_by_its_rule(registered, rule, cls):
    optimizer = registered(cls)
    with pytest.raises(AssertionError) as caught:
        check_optimizer(optimizer)
    lines = str(caught.value).splitlines()
    assert lines[0].startswith(f"{optimizer.spec} breaks")
    broken = [line.strip().split(":")[0] for line in lines[1:]]
    assert rule in broken, str(caught.value)
    assert all(len(line) < 240 for line in lines)  # one line a rule
    checks = dict(optimizer_checks(optimizer))
    with pytest.raises((RuleBroken, Exception)):
        checks[rule]()


def test_the_working_control_passes(registered):
    check_optimizer(registered(_Velocity))  # the rule the broken ones break, kept


def test_an_unregistered_optimizer_breaks_the_first_rule():
    with pytest.raises(AssertionError, match="registered: _Velocity is not registered"):
        check_optimizer(_Velocity(lr=1e-5))


def test_the_rules_are_the_documented_ones():
    assert list(RULES) == ["registered", "spec", "deterministic", "no-mutation", "shapes", "divergence", "batched"]
    assert set(BROKEN) | {"registered", "spec"} == set(RULES)


def test_a_plain_dataclass_gets_the_base_and_clear_errors_otherwise():
    @dataclass(frozen=True)
    class Plain:
        lr: float

        def init(self, problem, weights):
            return ()

        def update(self, problem, weights, evaluation, state):
            return tuple(W - self.lr * g for W, g in zip(weights, evaluation.grads)), state

    try:
        cls = linnet.register("plain-gd")(Plain)
        assert issubclass(cls, linnet.Optimizer) and cls.backends == ("numpy",) and not cls.batchable
        ours, theirs = linnet.run(linnet.post_problem(0), "plain-gd[lr=1e-05]", 50), \
            linnet.run(linnet.post_problem(0), "gd[lr=1e-05]", 50)
        np.testing.assert_array_equal(ours.losses, theirs.losses)
        check_optimizer(cls(lr=1e-5))
    finally:
        unregister("plain-gd")
    with pytest.raises(linnet.LinnetError, match="the name is taken by linnet.optimizers.first_order.GD"):
        linnet.register("gd")(Plain)
    with pytest.raises(linnet.LinnetError, match="is not a dataclass"):
        linnet.register("x")(type("X", (), {"init": lambda *a: (), "update": lambda *a: ()}))
    with pytest.raises(linnet.LinnetError, match="defines no update"):
        linnet.register("x")(dataclass(type("Y", (), {"init": lambda *a: ()})))
    with pytest.raises(linnet.LinnetError, match="lower-case"):
        linnet.register("Bad Name")
    with pytest.raises(linnet.LinnetError, match="is not a registered optimizer"):
        linnet.run(linnet.post_problem(0), Plain(lr=1e-5), 5)
