"""Every registered claim verified on its held-out seeds (the seed protocol: linnet.claims.seeds).

One benchmark per claim runs the claim's population (per-seed measure, summary, threshold:
linnet.claims.population) on the first ``held_out`` seeds of the held-out block 1000-1099, chunks
of seeds on a local process pool (the sweep engine's executor), and decides it: holds, does not
hold or inconclusive, with the estimate and its 95% interval. The benchmark fails when the verdict
contradicts the recorded one (linnet/claims/verified.json, the README's table): ``holds`` where
``does not hold`` was recorded or the reverse. A change to or from ``inconclusive`` is not a
contradiction; the verdict is gated exactly by the regression gate all the same.

About 6 minutes on 2 cores for all claims, so these are in the expensive selection
(``--linnet-expensive``) and slow.
"""

import os

import pytest
from helpers import EXACT, figure

from linnet.claims.registry import REGISTRY
from linnet.claims.verified import opposite, recorded
from linnet.reports.claims import verify_all
from linnet.sweeps.executors import ProcessPool
from linnet.testing.benchmarking import store

#: worker processes: the machine's cores, at most 8 (CI's machine has 2)
WORKERS = max(1, min(8, os.cpu_count() or 1))


@pytest.fixture(scope="module")
def pool():
    executor = ProcessPool(WORKERS)
    yield executor
    executor.close()


@pytest.mark.slow
@pytest.mark.expensive
@pytest.mark.parametrize("entry", [pytest.param(e, id=e.id, marks=pytest.mark.claim(e.id)) for e in REGISTRY])
def test_held_out(benchmark, pool, entry):
    benchmark.group = "held-out verification"
    verdict = benchmark.pedantic(lambda: verify_all([entry], executor=pool)[0], rounds=1, iterations=1)
    found = verdict.to_dict()
    benchmark.extra_info["population"] = found
    store(benchmark, verdict=figure(found["verdict"], EXACT), seeds=figure(found["seeds"], EXACT))
    expected = recorded()[entry.id]["held_out"]
    assert not opposite(found["verdict"], expected["verdict"]), (found, expected)
    assert found["seed_range"] == expected["seed_range"]
