"""First-order optimizers (TF semantics) and the spec strings that name them."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import linnet
from linnet.optimizers.first_order import Momentum
from linnet.optimizers.registry import REGISTRY
from linnet.optimizers.spec import format_spec, parse
from linnet.problems.losses import evaluate


@pytest.mark.parametrize("text, canonical", [
    ("gd[lr=1e-5]", "gd[lr=1e-05]"),
    ("gd[lr=0.0001]", "gd[lr=0.0001]"),
    ("adam[lr=0.01]", "adam[lr=0.01]"),
    ("adam[lr=1e-2,beta1=0.9]", "adam[lr=0.01]"),
    ("adam[lr=0.01,eps=1e-7]", "adam[lr=0.01,eps=1e-07]"),
    ("momentum[lr=1e-6, momentum=0.9]", "momentum[lr=1e-06,momentum=0.9]"),
    ("rmsprop[lr=0.001]", "rmsprop[lr=0.001]"),
])
def test_spec_round_trip(text, canonical):
    assert parse(text).spec == canonical
    assert parse(canonical).spec == canonical
    assert str(parse(canonical)) == canonical


@given(st.floats(1e-12, 1e3), st.floats(0, 0.999))
def test_spec_round_trip_any_value(lr, mu):
    opt = Momentum(lr=lr, momentum=mu)
    assert parse(format_spec(opt)) == opt


@pytest.mark.parametrize("text, message", [
    ("sgd[lr=1]", "unknown optimizer 'sgd'"),
    ("gd", "missing parameter lr"),
    ("gd[lr=-1e-5]", "lr must be a positive number"),
    ("gd[lr=0]", "lr must be a positive number"),
    ("gd[lr=abc]", "lr must be a number"),
    ("gd[lr=nan]", "lr must be a number"),
    ("gd[lr=inf]", "lr must be a positive number"),
    ("gd[rate=1]", "unknown parameter 'rate'"),
    ("gd[lr=1,lr=2]", "given twice"),
    ("gd[lr]", "expected key=value"),
    ("momentum[lr=1,momentum=1.5]", "momentum must be in"),
    ("adam[lr=1", "cannot read optimizer spec"),
])
def test_bad_specs_give_one_clear_error(text, message):
    with pytest.raises(linnet.LinnetError, match=message):
        parse(text)


def test_every_registered_optimizer_has_a_parsable_example():
    for cls in REGISTRY.values():
        assert parse(cls.example).name == cls.name


def grads_sequence(problem, steps, spec):
    """Run ``spec`` and also return the gradients seen at each step (for hand recursions)."""
    opt, weights = parse(spec), problem.weights
    state = opt.init(problem, weights)
    seen = []
    for _ in range(steps):
        ev = evaluate(problem, weights)
        seen.append((weights, ev.grads))
        weights, state = opt.update(problem, weights, ev, state)
    return weights, seen


def test_momentum_is_tf_heavy_ball():
    p = linnet.post_problem(1)
    lr, mu = 1e-6, 0.9
    final, seen = grads_sequence(p, 5, f"momentum[lr={lr},momentum={mu}]")
    v = [np.zeros_like(w) for w in p.weights]
    w = list(p.weights)
    for _, grads in seen:
        v = [mu * vk + g for vk, g in zip(v, grads)]
        w = [wk - lr * vk for wk, vk in zip(w, v)]
    for a, b in zip(final, w):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_adam_is_tf1_adam():
    """TF1 AdamOptimizer: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), eps added to sqrt(v)."""
    p = linnet.post_problem(2)
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
    final, seen = grads_sequence(p, 4, f"adam[lr={lr}]")
    m = [np.zeros_like(w) for w in p.weights]
    v = [np.zeros_like(w) for w in p.weights]
    w = list(p.weights)
    for t, (_, grads) in enumerate(seen, start=1):
        m = [b1 * mk + (1 - b1) * g for mk, g in zip(m, grads)]
        v = [b2 * vk + (1 - b2) * g**2 for vk, g in zip(v, grads)]
        lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        w = [wk - lr_t * mk / (np.sqrt(vk) + eps) for wk, mk, vk in zip(w, m, v)]
    for a, b in zip(final, w):
        np.testing.assert_allclose(a, b, rtol=1e-14)


def test_adam_first_step_moves_each_weight_by_about_lr():
    """With bias correction, Adam's first step is lr * g / (|g| + eps): about lr per entry."""
    p = linnet.post_problem(0)
    final, _ = grads_sequence(p, 1, "adam[lr=0.01]")
    np.testing.assert_allclose(np.abs(final[0] - p.weights[0]), 0.01, rtol=1e-6)


def test_rmsprop_is_keras_rmsprop():
    p = linnet.post_problem(3)
    lr, rho, eps = 1e-3, 0.9, 1e-7
    final, seen = grads_sequence(p, 4, f"rmsprop[lr={lr}]")
    a = [np.zeros_like(w) for w in p.weights]
    w = list(p.weights)
    for _, grads in seen:
        a = [rho * ak + (1 - rho) * g**2 for ak, g in zip(a, grads)]
        w = [wk - lr * g / np.sqrt(ak + eps) for wk, g, ak in zip(w, grads, a)]
    for x, y in zip(final, w):
        np.testing.assert_allclose(x, y, rtol=1e-14)


def test_state_is_explicit_and_not_mutated():
    p = linnet.post_problem(0)
    opt = parse("adam[lr=0.01]")
    state = opt.init(p, p.weights)
    ev = evaluate(p, p.weights)
    _, new = opt.update(p, p.weights, ev, state)
    assert state.count == 0 and np.all(state.mu[0] == 0)
    assert new.count == 1
