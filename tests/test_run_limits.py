"""The run loop at its limits: a step budget far beyond memory, and Ctrl-C in the middle of a run."""

import tracemalloc

import numpy as np
import pytest

import linnet
from linnet.optimizers.stopping import INTERRUPTED, MESSAGES, TARGET_REACHED
from linnet.runs import history
from linnet.runs.batched import run_batched
from linnet.runs.loop import RunInterrupted


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


def interrupted_run(problem, spec, steps, at):
    """The Result that Ctrl-C at evaluation ``at`` leaves (raised as RunInterrupted)."""
    def callback(k, weights, loss):
        if k == at:
            raise KeyboardInterrupt
        return False

    with pytest.raises(RunInterrupted) as stop:
        linnet.run(problem, spec, steps, callback=callback)
    assert isinstance(stop.value, KeyboardInterrupt)  # whatever stops on Ctrl-C still stops
    return stop.value.result


def test_ctrl_c_ends_the_run_with_the_steps_completed():
    problem = linnet.post_problem(0)
    result = interrupted_run(problem, "gd[lr=1e-05]", 10**8, at=500)
    assert result.status == INTERRUPTED and result.message == MESSAGES[INTERRUPTED]
    assert result.steps == 500 and len(result.losses) == len(result.grad_norms) == 501
    same = linnet.run(problem, "gd[lr=1e-05]", 500)
    np.testing.assert_array_equal(result.losses, same.losses)
    for got, want in zip(result.weights, same.weights):  # the point of the last loss recorded
        np.testing.assert_array_equal(got, want)
    record = result.to_dict()
    assert record["status"] == INTERRUPTED and record["final_loss"] == same.final_loss


def test_an_interrupted_run_keeps_traces_as_long_as_its_losses():
    result = interrupted_run(linnet.post_problem(0), "lm", 10**6, at=3)
    assert result.status == INTERRUPTED and result.traces
    assert all(len(v) == len(result.losses) for v in result.traces.values())


def test_ctrl_c_before_the_first_evaluation_propagates(monkeypatch):
    from linnet.runs import loop

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "evaluate", interrupted)
    with pytest.raises(KeyboardInterrupt) as stop:
        linnet.run(linnet.post_problem(0), "gd[lr=1e-05]", 10)
    assert type(stop.value) is KeyboardInterrupt  # no run to carry


@pytest.mark.parametrize("mode", ["compiled", "xla"])
def test_a_budget_beyond_the_tensorflow_graph_loop_is_refused_in_one_line(mode):
    from linnet.core.errors import LinnetError

    with pytest.raises(LinnetError, match="use mode='per-step'"):
        linnet.run(linnet.post_problem(0), "gd[lr=1e-05]", 10**10, backend="tensorflow", mode=mode)


def test_ctrl_c_in_a_sweep_member_stops_the_sweep_instead_of_recording_it(monkeypatch):
    """A member run one by one (kfac has no batched loop) is interrupted: no row says
    "interrupted"; the KeyboardInterrupt reaches the sweep driver, which stops (and resumes later)."""
    from linnet.runs import loop
    from linnet.sweeps.execute import run_members
    from linnet.sweeps.grid import Grid

    calls = []

    def evaluate_then_interrupt(problem, weights):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(problem, weights)

    real = loop.evaluate
    monkeypatch.setattr(loop, "evaluate", evaluate_then_interrupt)
    members = Grid({"seed": [0]}, ("kfac[step=0.5]",), 100, None).members()
    with pytest.raises(KeyboardInterrupt):
        run_members(members)
