"""The regression gate: tolerances, baseline files, and a real pytest run that moves a figure."""

import json
import subprocess
import sys
import textwrap

import pytest

from linnet import gate
from linnet.errors import LinnetError


@pytest.mark.parametrize("old, new, same", [
    (73.06301355926455, 73.06301355926455 * (1 + 1e-6), True),
    (73.06301, 73.2, False),
    (3000, 3001, True),
    (167561, 167561 + 3000, True),
    (167561, 200000, False),
    (7, 9, True),
    (7, 12, False),
    (True, False, False),
    (None, None, True),
    (None, 1.0, False),
    (2e-29, 7e-31, True),  # both at round-off
    (2e-29, 1e-10, False),
])
def test_compare_figure(old, new, same):
    assert (gate.compare_figure("x", old, new) is None) == same


def test_floor_figures_compare_in_decades():
    assert gate.compare_figure("post_metric_floor", 3e-9, 2e-8) is None
    assert gate.compare_figure("post_metric_floor", 3e-9, 5e-7) is not None
    assert gate.compare_figure("relative_loss", 3e-9, 2e-8) is not None


def test_compare_names_benchmark_figure_old_and_new():
    lines = gate.compare("test_a[seed0]", {"final_loss": 73.06, "steps": 3000},
                         {"final_loss": 80.0, "steps": 3000})
    assert lines == ["test_a[seed0]: final_loss: baseline 73.06, now 80.0"]
    assert gate.compare("b", {"gone": 1}, {}) == ["b: figure gone is no longer recorded (baseline 1)"]


def test_baseline_round_trip_and_bad_files(tmp_path):
    path = tmp_path / "baseline.json"
    gate.save(path, {"t[a]": {"x": 1.5}})
    gate.save(path, {"t[b]": {"y": 2}})
    assert gate.load(path) == {"t[a]": {"x": 1.5}, "t[b]": {"y": 2}}
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(LinnetError, match="bad.json: not a linnet baseline"):
        gate.load(tmp_path / "bad.json")
    (tmp_path / "foreign.json").write_text(json.dumps({"benchmarks": []}))
    with pytest.raises(LinnetError, match="foreign.json: not a linnet baseline"):
        gate.load(tmp_path / "foreign.json")
    with pytest.raises(LinnetError, match="not found"):
        gate.load(tmp_path / "missing.json")


BENCH = textwrap.dedent('''
    import linnet
    from linnet.benchmarking import record

    def test_gd(benchmark):
        result = benchmark.pedantic(linnet.run, args=(linnet.post_problem(0), "gd[lr=1e-05]", 300),
                                    rounds=1, iterations=1)
        record(benchmark, result)
''')


def test_gate_fails_a_benchmark_whose_figure_moved(tmp_path):
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["linnet.pytest_plugin"]\n')
    (tmp_path / "test_bench.py").write_text(BENCH)
    baseline = tmp_path / "baseline.json"

    def pytest_run(*args):
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "--benchmark-disable", f"--linnet-baseline={baseline}", *args],
                              cwd=tmp_path, capture_output=True, text=True)

    written = pytest_run("--linnet-update-baseline")
    assert written.returncode == 0, written.stdout
    figures = gate.load(baseline)["test_gd"]
    assert figures["steps"] == 300 and figures["diverged"] is False

    same = pytest_run()
    assert same.returncode == 0 and "compared 1 benchmarks" in same.stdout

    figures["relative_loss"] *= 1.01
    gate.save(baseline, {"test_gd": figures})
    moved = pytest_run()
    assert moved.returncode == 1
    assert "test_gd: relative_loss: baseline" in moved.stdout
