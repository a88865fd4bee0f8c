"""The claims' run producers on the sweep engine: through ``as_map`` on a process pool they give
the same numbers, bit for bit, as through the builtin map (small budgets; the full-size claims
run in the benchmark suite)."""

import numpy as np
import pytest

from linnet.claims.post.producers import (
    balanced_runs_over_seeds,
    post_kappas,
    samples_runs,
    second_order_runs,
    slow_runs,
)
from linnet.runs.experiment import Runs
from linnet.runs.record import record
from linnet.runs.result import Result
from linnet.sweeps.executors import ProcessPool, as_map


@pytest.fixture(scope="module")
def engine_map():
    pool = ProcessPool(2)
    try:
        yield as_map(pool)
    finally:
        pool.close()


def _numbers(x):
    """Every number of a producer's output: a Result becomes its record (without the wall time)
    and its loss and gradient-norm histories."""
    if isinstance(x, Result):
        rec = record(x, history=True)
        rec.pop("seconds")
        return rec
    if isinstance(x, Runs):
        return {m.id: _numbers(v) for m, v in x.items()}
    if isinstance(x, dict):
        return {k: _numbers(v) for k, v in x.items()}
    if isinstance(x, np.ndarray):
        return x.tolist()
    return x


PRODUCERS = {
    "slow-not-stuck": lambda m: slow_runs(seeds=[0, 1], target=1e-3, max_steps=3000, stall_steps=300, map=m),
    "balanced": lambda m: balanced_runs_over_seeds(seeds=[0, 1, 2], steps=300, map=m),
    "samples": lambda m: samples_runs(seed=0, nsamples=(100, 1000, 0), steps=300, map=m),
    "kappa": lambda m: post_kappas(seeds=[0, 1, 2], map=m),
    "second-order": lambda m: second_order_runs(seeds=[0, 1], specs=("lm", "als"), steps=15, map=m),
}


@pytest.mark.parametrize("name", sorted(PRODUCERS))
def test_claims_give_identical_numbers_through_the_engine(name, engine_map):
    here = _numbers(PRODUCERS[name](map))
    there = _numbers(PRODUCERS[name](engine_map))
    assert there == here


def test_the_comparison_sees_a_one_ulp_difference(engine_map):
    """Negative control: step sizes one ulp apart change the loss histories compared above."""
    lr = float(np.nextafter(1e-5, 1.0))
    here = balanced_runs_over_seeds(seeds=[0], steps=300, map=map)
    there = balanced_runs_over_seeds(seeds=[0], steps=300, spec=f"gd[lr={lr!r}]", map=engine_map)
    for start in ("post", "balanced"):
        assert _numbers(there.one(start=start))["losses"] != _numbers(here.one(start=start))["losses"]
