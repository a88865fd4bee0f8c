"""The run loop at its limits: a step budget far beyond memory, and Ctrl-C in the middle of a run."""

import tracemalloc

import numpy as np
import pytest

import linnet
from linnet.optimizers.stopping import INTERRUPTED, MESSAGES, TARGET_REACHED
from linnet.runs import history
from linnet.runs.batched import run_batched


def peak_bytes(fn):
    """The peak of Python and numpy allocations while ``fn()`` runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_follows_the_steps_taken_not_the_budget():
    problem = linnet.post_problem(0)
    result = linnet.run(problem, "lm", 10**9, target=1e-6)
    assert result.status == TARGET_REACHED and result.steps < 100
    peak = peak_bytes(lambda: linnet.run(problem, "lm", 10**9, target=1e-6))
    assert peak < 10 * 2**20  # a 10**9-step history would be 8 GB per array


def test_a_grown_history_holds_every_step_as_before():
    """A run longer than the first allocation: the histories are whole, (steps + 1,), as ever."""
    steps = history.FIRST_ROWS * 2 + 5
    result = linnet.run(linnet.post_problem(0), "gd[lr=1e-05]", steps)
    assert len(result.losses) == len(result.grad_norms) == steps + 1
    assert np.isfinite(result.losses).all() and np.isfinite(result.grad_norms).all()
    short = linnet.run(linnet.post_problem(0), "gd[lr=1e-05]", 100)
    np.testing.assert_array_equal(result.losses[:101], short.losses)


def test_batched_history_grows_and_matches_the_run_loop():
    problems = [linnet.post_problem(s) for s in range(3)]
    steps = history.FIRST_ROWS + 10
    batch = run_batched(problems, "gd[lr=1e-05]", steps, history=True)
    assert batch.losses.shape == (steps + 1, 3)
    alone = linnet.run(problems[1], "gd[lr=1e-05]", steps)
    np.testing.assert_allclose(batch.losses[:, 1], alone.losses, rtol=1e-10)
    huge = run_batched(problems, "lm", 10**9, target=1e-6, history=True)
    assert (huge.status == TARGET_REACHED).all() and len(huge.losses) == huge.steps.max() + 1
    assert peak_bytes(lambda: run_batched(problems, "lm", 10**9, target=1e-6, history=True)) < 10 * 2**20


def interrupt_at(step):
    def callback(k, weights, loss):
        if k == step:
            raise KeyboardInterrupt
        return False
    return callback


def test_ctrl_c_ends_the_run_with_the_steps_completed():
    problem = linnet.post_problem(0)
    result = linnet.run(problem, "gd[lr=1e-05]", 10**8, callback=interrupt_at(500))
    assert result.status == INTERRUPTED and result.message == MESSAGES[INTERRUPTED]
    assert result.steps == 500 and len(result.losses) == len(result.grad_norms) == 501
    same = linnet.run(problem, "gd[lr=1e-05]", 500)
    np.testing.assert_array_equal(result.losses, same.losses)
    for got, want in zip(result.weights, same.weights):  # the point of the last loss recorded
        np.testing.assert_array_equal(got, want)
    record = result.to_dict()
    assert record["status"] == INTERRUPTED and record["final_loss"] == same.final_loss


def test_an_interrupted_run_keeps_traces_as_long_as_its_losses():
    result = linnet.run(linnet.post_problem(0), "lm", 10**6, callback=interrupt_at(3))
    assert result.status == INTERRUPTED and result.traces
    assert all(len(v) == len(result.losses) for v in result.traces.values())


def test_ctrl_c_before_the_first_evaluation_propagates(monkeypatch):
    from linnet.runs import loop

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "evaluate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        linnet.run(linnet.post_problem(0), "gd[lr=1e-05]", 10)


@pytest.mark.parametrize("mode", ["compiled", "xla"])
def test_a_budget_beyond_the_tensorflow_graph_loop_is_refused_in_one_line(mode):
    from linnet.core.errors import LinnetError

    with pytest.raises(LinnetError, match="use mode='per-step'"):
        linnet.run(linnet.post_problem(0), "gd[lr=1e-05]", 10**10, backend="tensorflow", mode=mode)
