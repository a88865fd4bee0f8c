"""The one stopping rule: its decision, its vectorised form, and every loop stopping by it."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import linnet
from linnet.optimizers import stopping
from linnet.optimizers.base import Optimizer


def test_every_status_has_a_message_and_only_convergence_says_converged():
    for status, message in stopping.MESSAGES.items():
        assert message and ("converged" in message) == (status == stopping.CONVERGED)
    assert "6 updates" in stopping.message(stopping.DIVERGED, 6)


@pytest.mark.parametrize(("k", "loss", "target", "done", "expected"), [
    (3, math.nan, 1.0, None, stopping.DIVERGED),
    (3, math.inf, 1.0, stopping.CONVERGED, stopping.DIVERGED),  # divergence first
    (3, 5.0, 1.0, stopping.NO_PROGRESS, stopping.NO_PROGRESS),
    (10, 0.5, 1.0, None, stopping.COMPLETED),  # the budget before the target
    (3, 1.0, 1.0, None, stopping.TARGET_REACHED),
    (3, 5.0, 1.0, None, None),
    (3, 5.0, -math.inf, None, None),
])
def test_decide(k, loss, target, done, expected):
    assert stopping.decide(k, 10, loss, target, done) == expected


@given(st.lists(st.tuples(st.sampled_from([math.nan, math.inf, 0.0, 0.5, 1.0, 2.0]), st.booleans()),
                min_size=1, max_size=6),
       st.integers(0, 3), st.sampled_from([-math.inf, 0.5, 1.0]))
def test_decide_many_is_decide_per_member(members, k, target):
    losses = [m[0] for m in members]
    done = [m[1] for m in members]
    got = stopping.decide_many(k, 2, losses, target, done, stopping.NO_PROGRESS)
    want = [stopping.decide(k, 2, loss, target, stopping.NO_PROGRESS if d else None) for loss, d in members]
    assert [None if g == stopping.RUNNING else int(g) for g in got] == want


def test_lm_says_it_stopped_making_progress_not_converged():
    result = linnet.run(linnet.post_problem(0), "lm", 200)
    assert result.status == stopping.NO_PROGRESS and "no longer reduces" in result.message


# -- numpy and TensorFlow stop alike -------------------------------------------------------------

CASES = {
    "divergence": dict(spec="gd[lr=0.0001]", steps=100, target=None),
    "target": dict(spec="gd[lr=1e-05]", steps=3000, target=0.05),
    "step limit": dict(spec="adam[lr=0.01]", steps=50, target=None),
}


@pytest.mark.tensorflow
@pytest.mark.parametrize("mode", ["per-step", "compiled"])
@pytest.mark.parametrize("case", list(CASES))
def test_numpy_and_tensorflow_stop_with_the_same_status_and_message(case, mode):
    pytest.importorskip("tensorflow")
    c = CASES[case]
    problem = linnet.post_problem(0)
    ref = linnet.run(problem, c["spec"], c["steps"], target=c["target"])
    got = linnet.run(problem, c["spec"], c["steps"], target=c["target"], backend="tensorflow", mode=mode)
    assert (got.status, got.message, got.steps) == (ref.status, ref.message, ref.steps)
    expected = {"divergence": stopping.DIVERGED, "target": stopping.TARGET_REACHED,
                "step limit": stopping.COMPLETED}[case]
    assert ref.status == expected


# -- declared hooks ------------------------------------------------------------------------------

def test_declared_done_status_ends_the_loop():
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Once(Optimizer):
        name = "once"
        done_status = stopping.NO_PROGRESS

        def update(self, problem, weights, evaluation, state):
            return weights, True

        def is_done(self, state):
            return state is True

        def trace(self, problem, weights, state):
            return {"seen": 1.0}

    result = linnet.run(linnet.post_problem(0), Once(), 10)
    assert result.status == stopping.NO_PROGRESS and result.steps == 1
    assert list(result.traces["seen"]) == [1.0, 1.0]


def test_callback_reaches_an_optimizer_that_drives_its_own_loop():
    seen = []
    result = linnet.run(linnet.post_problem(0), "scipy[method=lm]", 50,
                        callback=lambda k, w, loss: seen.append(k) or k == 3)
    assert result.status == stopping.STOPPED_BY_CALLBACK and result.steps == 3 and seen == [0, 1, 2, 3]


def test_capabilities_are_read_not_guessed():
    from linnet.core.errors import LinnetError

    with pytest.raises(LinnetError, match="numpy backend only"):
        linnet.run(linnet.post_problem(0), "lm", 5, backend="tensorflow")
    assert np.all([linnet.parse(s).first_order for s in ("gd[lr=1]", "adam[lr=1]")])
    assert not linnet.parse("lm").first_order
