"""The one batched loop (linnet.runs.batched.run_batched): its steps-to-target bookkeeping against
Result.steps_to's rule, per-member step sizes as state, and the result protocol a batch member
shares with Result. (Batched == single runs: tests/test_batched_second_order.py, tests/test_sweeps.py.)"""

import dataclasses

import numpy as np
import pytest

import linnet
from linnet.core.errors import LinnetError
from linnet.optimizers.spec import as_optimizer
from linnet.problems.losses import evaluate
from linnet.runs.batched import StepsToTargets, run_batched
from linnet.runs.result import Result, RunResult, first_step_to

TARGETS = (1e-1, 1e-3, 1e-6, 0.5)


@pytest.mark.parametrize("seed", range(5))
def test_steps_to_targets_follows_result_steps_to(seed):
    """Member by member, the loop's per-step bookkeeping gives first_step_to of the member's history
    (Result.steps_to's rule), for non-monotone histories with NaN and members that stop early."""
    rs = np.random.RandomState(seed)
    B, T = 9, 40
    history = np.exp(rs.randn(T, B).cumsum(axis=0) * 0.7 - 3)
    history[rs.randint(T, size=3), rs.randint(B, size=3)] = np.nan
    stops = rs.randint(1, T, size=B)
    tracker = StepsToTargets(TARGETS, B)
    running = np.arange(B)
    for k in range(T):
        tracker.see(k, running, history[k, running])
        keep = stops[running] > k
        running = running[keep]
        tracker.keep(keep)
    for m in range(B):
        for t in TARGETS:
            expected = first_step_to(history[: stops[m] + 1, m], t)
            assert tracker.first[t][m] == (-1 if expected is None else expected), (m, t)


@pytest.mark.parametrize("spec", ["gd[lr=1e-05]", "momentum[lr=1e-06,momentum=0.9]", "adam[lr=0.01]",
                                  "rmsprop[lr=0.001]"])
def test_a_per_member_step_is_the_update_with_that_step(spec):
    """The batched step with (B, 1, 1) step sizes equals, member by member and bit for bit, the
    optimizer's own update with each member's lr; the optimizer's frozen lr is left as it was."""
    optimizer = as_optimizer(spec)
    problems = [linnet.post_problem(s) for s in range(3)]
    lrs = optimizer.lr * np.array([0.5, 1.0, 2.0])
    stacked = tuple(np.stack([p.weights[k] for p in problems]) for k in range(2))
    state = optimizer.initial_state(stacked)
    singles = [optimizer.init(p, p.weights) for p in problems]
    for _ in range(3):
        evs = [evaluate(p, tuple(W[b] for W in stacked)) for b, p in enumerate(problems)]
        grads = tuple(np.stack([ev.grads[k] for ev in evs]) for k in range(2))
        new, state = optimizer.step(stacked, grads, state, lrs.reshape(-1, 1, 1))
        for b, (p, ev) in enumerate(zip(problems, evs)):
            alone = dataclasses.replace(optimizer, lr=float(lrs[b]))
            w, singles[b] = alone.update(p, tuple(W[b] for W in stacked), ev, singles[b])
            assert all(np.array_equal(W[b], V) for W, V in zip(new, w))
        stacked = new
    assert optimizer.lr == as_optimizer(spec).lr


def test_per_member_steps_equal_to_the_optimizers_give_the_same_run():
    problems = [linnet.post_problem(s) for s in range(4)]
    plain = run_batched(problems, "adam[lr=0.01]", 300, history=True)
    per_member = run_batched(problems, "adam[lr=0.01]", 300, lrs=[0.01] * 4, history=True)
    assert np.array_equal(plain.losses, per_member.losses)
    assert np.array_equal(plain.steps, per_member.steps)


def test_a_member_and_its_single_run_share_the_result_protocol():
    """MemberResult and Result are both RunResults; the derived figures agree, including steps to
    a target the batch did not record, read off the kept history with the same rule."""
    problems = [linnet.post_problem(s) for s in range(3)]
    batch = run_batched(problems, "lm", 30, targets=(1e-12,), history=True)
    for i, p in enumerate(problems):
        member, single = batch.member(i, p, "lm"), linnet.run(p, "lm", 30)
        assert isinstance(member, RunResult) and isinstance(single, Result)
        assert member.to_dict() == {**single.to_dict(), "seconds": member.seconds}
        for t in (1e-12, 1e-20, 1e-25):  # 1e-20, 1e-25: not recorded, read off the history
            assert member.steps_to(t) == single.steps_to(t)
        assert np.array_equal(member.relative_losses, single.relative_losses)


def test_steps_to_an_unrecorded_target_needs_the_history():
    p = linnet.post_problem(0)
    member = run_batched([p], "gd[lr=1e-05]", 5, targets=(1e-6,)).member(0, p, "gd[lr=1e-05]")
    assert member.steps_to(1e-6) is None
    with pytest.raises(LinnetError, match="history"):
        member.steps_to(1e-3)
