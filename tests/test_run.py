"""The run loop: the post's numbers, divergence, targets, callbacks, determinism, samples."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import linnet
from linnet.optimizers.stopping import COMPLETED, DIVERGED, STOPPED_BY_CALLBACK, TARGET_REACHED
from linnet.runs.batched import gd_steps_to_target


def test_gd_post_seed0_final_loss():
    r = linnet.run(linnet.post_problem(0), "gd[lr=1e-05]", 3000)
    assert r.steps == 3000 and not r.diverged and r.status == COMPLETED
    assert r.final_loss == pytest.approx(73.06301, rel=1e-6)
    assert len(r.losses) == len(r.grad_norms) == 3001


def test_adam_post_seed0_final_loss():
    r = linnet.run(linnet.post_problem(0), "adam[lr=0.01]", 3000)
    assert r.final_loss == pytest.approx(27.94193, rel=1e-6)


def test_gd_1e4_diverges_within_10_steps_and_says_so():
    r = linnet.run(linnet.post_problem(0), "gd[lr=0.0001]", 3000)
    assert r.diverged and r.status == DIVERGED
    assert r.steps < 10 and r.divergence_step == r.steps
    assert not np.isfinite(r.losses[-1]) and np.all(np.isfinite(r.losses[:-1]))
    assert r.final_loss is None and r.relative_loss is None
    assert "non-finite" in r.message
    assert json.loads(json.dumps(r.to_dict(history=True)))["final_loss"] is None


def test_losses_are_the_loss_before_each_update():
    p = linnet.post_problem(4)
    r = linnet.run(p, "gd[lr=1e-05]", 7)
    for k in range(8):
        assert r.losses[k] == linnet.run(p, "gd[lr=1e-05]", k).final_loss


@settings(max_examples=5)
@given(st.integers(0, 1000), st.sampled_from(["gd[lr=1e-05]", "adam[lr=0.01]", "rmsprop[lr=0.001]"]))
def test_results_are_deterministic(seed, spec):
    a = linnet.run(linnet.post_problem(seed), spec, 200)
    b = linnet.run(linnet.post_problem(seed), spec, 200)
    np.testing.assert_array_equal(a.losses, b.losses)
    for x, y in zip(a.weights, b.weights):
        np.testing.assert_array_equal(x, y)


def test_target_stops_early():
    p = linnet.post_problem(0)
    full = linnet.run(p, "adam[lr=0.01]", 3000)
    target = full.relative_losses[1234]
    stopped = linnet.run(p, "adam[lr=0.01]", 3000, target=target)
    assert stopped.status == TARGET_REACHED
    assert stopped.steps == full.steps_to(target) <= 1234
    assert stopped.relative_loss <= target


def test_callback_stops():
    seen = []

    def callback(step, weights, loss):
        seen.append(loss)
        return step == 9

    r = linnet.run(linnet.post_problem(0), "gd[lr=1e-05]", 100, callback=callback)
    assert r.status == STOPPED_BY_CALLBACK and r.steps == 9 and len(seen) == 10


def test_zero_steps():
    r = linnet.run(linnet.post_problem(0), "gd[lr=1e-05]", 0)
    assert r.steps == 0 and r.final_loss == r.initial_loss


@pytest.mark.parametrize("bad", [-1, 2.5, "3", True])
def test_bad_steps(bad):
    with pytest.raises(linnet.LinnetError, match="steps"):
        linnet.run(linnet.post_problem(0), "gd[lr=1e-05]", bad)


def test_bad_backend_and_target():
    p = linnet.post_problem(0)
    with pytest.raises(linnet.LinnetError, match="unknown backend"):
        linnet.run(p, "gd[lr=1e-05]", 1, backend="jax")
    with pytest.raises(linnet.LinnetError, match="target"):
        linnet.run(p, "gd[lr=1e-05]", 1, target=-1.0)


def test_step_cost_does_not_depend_on_nsamples():
    """Same W1, W2, A for every sample count; only S changes, so the arrays in play do not grow."""
    small, large = linnet.post_problem(0, nsamples=100), linnet.post_problem(0, nsamples=100_000)
    assert small.S.shape == large.S.shape == (6, 6)
    np.testing.assert_array_equal(small.weights[0], large.weights[0])


def test_batched_gd_matches_the_run_loop():
    problems = [linnet.post_problem(s) for s in (0, 1, 2)]
    target = 5e-3
    batched = gd_steps_to_target(problems, 1e-5, target, 20_000)
    single = [linnet.run(p, "gd[lr=1e-05]", 20_000, target=target).steps_to(target) for p in problems]
    assert list(batched) == [-1 if s is None else s for s in single]
    assert all(s is not None for s in single)


@pytest.mark.parametrize("spec", ["gd[lr=1e-05]", "momentum[lr=1e-06,momentum=0.9]", "adam[lr=0.01]",
                                  "rmsprop[lr=0.0001]"])
def test_float32_runs_stay_float32(spec):
    p = linnet.post_problem(0)
    r32, r64 = linnet.run(p.astype(np.float32), spec, 3000), linnet.run(p, spec, 3000)
    assert all(w.dtype == np.float32 for w in r32.weights)
    assert r32.final_loss == pytest.approx(r64.final_loss, rel=1e-3)
