"""The one run record: the same keys from ``--json``, a benchmark's extra_info and store()."""

import json

import numpy as np
import pytest

import linnet
from linnet.cli import main
from linnet.runs import record as record_module
from linnet.runs.record import TARGETS, plain, record, steps_to_key
from linnet.testing.benchmarking import store
from linnet.testing.tolerance import relative


class FakeBenchmark:
    def __init__(self):
        self.extra_info = {}


def documented_keys() -> set[str]:
    """The keys listed in linnet/runs/record.py's docstring table."""
    doc = record_module.__doc__
    keys = {line.split("``")[1] for line in doc.splitlines() if line.startswith("``")}
    keys.discard("steps_to_1e-6")
    return keys | {steps_to_key(t) for t in TARGETS}


def test_record_has_exactly_the_documented_keys():
    result = linnet.run(linnet.post_problem(0), "gd[lr=1e-05]", 20)
    assert set(record(result)) == documented_keys()
    assert set(record(result, history=True)) == documented_keys() | {"losses", "grad_norms", "traces"}


def test_same_keys_in_json_and_extra_info(capsys):
    assert main(["run", "--optimizer", "gd[lr=1e-5]", "--steps", "30", "--json"]) == 0
    from_cli = json.loads(capsys.readouterr().out)
    bench = FakeBenchmark()
    store(bench, linnet.run(linnet.post_problem(0), "gd[lr=1e-05]", 30), loss=relative(1e-6))
    from_bench = {k: v for k, v in bench.extra_info.items() if k not in ("figures", "tolerances")}
    assert set(from_cli) == set(from_bench) == documented_keys()
    for key in set(from_cli) - {"seconds"}:
        assert from_cli[key] == from_bench[key], key


def test_not_reached_is_none_everywhere():
    result = linnet.run(linnet.post_problem(0), "gd[lr=0.0001]", 100)
    out = json.loads(json.dumps(record(result)))
    assert out["diverged"] is True and out["final_loss"] is None and out["relative_loss"] is None
    assert all(out[steps_to_key(t)] is None for t in TARGETS)
    assert out["divergence_step"] == result.steps


def test_steps_to_matches_the_result():
    result = linnet.run(linnet.post_problem(0), "lm", 50)
    out = record(result)
    for t in TARGETS:
        assert out[steps_to_key(t)] == result.steps_to(t)
    assert out["optimizer"] == "lm" and out["status"] == result.status
    assert out["problem"] == linnet.post_problem(0).describe()


@pytest.mark.parametrize(("value", "expected"), [
    (np.float64(1.5), 1.5), (np.inf, None), (float("nan"), None), (np.arange(2), [0, 1]),
    ({1: np.int64(2)}, {"1": 2}), ((np.float32(0.5),), [0.5]),
])
def test_plain(value, expected):
    assert plain(value) == expected
