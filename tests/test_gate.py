"""The regression gate: declared tolerances, baseline files, and real pytest runs showing that each
loophole of an earlier gate now fails."""

import json
import os
import subprocess
import sys
import textwrap

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linnet.core.errors import LinnetError
from linnet.testing import gate
from linnet.testing.benchmarking import store
from linnet.testing.tolerance import Tolerance, decades, exact, figure, relative, window

# -- tolerances -----------------------------------------------------------------------------------


@pytest.mark.parametrize("tolerance, old, new, same", [
    (relative(1e-6), 73.06301355926455, 73.06301355926455 * (1 + 1e-7), True),
    (relative(1e-6), 73.06301, 73.2, False),
    # below round-off: compared in decades, never "equal because both tiny"
    (relative(1e-6), 6.5e-31, 9e-19, False),
    (relative(1e-6), 6.5e-31, 2e-31, True),
    (relative(1e-6), 6.5e-31, 0.0, False),
    (relative(1e-6), 2e-29, 1e-10, False),
    # small integers are exact unless a measured window is declared
    (exact(), 11, 13, False),   # LM iterations
    (exact(), 5, 7, False),     # a divergence step
    (exact(), 12, 14, False),   # K-FAC successes
    (exact(), 20, 18, False),   # seeds winning
    (exact(), 3000, 3000, True),
    (window(3, "measured 12-15"), 12, 15, True),
    (window(3, "measured 12-15"), 12, 16, False),
    # round-off floors in decades: 1 vs 2 BLAS threads (1.96e-12 vs 6.0e-11) passes, 1000x does not
    (decades(2.0), 1.96e-12, 6.0e-11, True),
    (decades(2.0), 1.96e-12, 6.0e-9, False),
    (exact(), True, False, False),
    (exact(), None, None, True),
    (relative(1e-6), None, 1.0, False),
    (exact(), 1, True, False),
])
def test_tolerance_kinds(tolerance, old, new, same):
    assert tolerance.check(old, new) is same


@given(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.none()),
       st.sampled_from([exact(), relative(1e-6), decades(1.0)]))
def test_every_value_matches_itself(x, tolerance):
    assert tolerance.check(x, x)
    assert window(1, "test").check(x, x) is not isinstance(x, float)  # a window is for integers


def test_tolerances_are_declared_and_round_trip():
    for tol in (exact(), relative(1e-6), decades(2.0), window(2, "measured 11-13")):
        assert Tolerance.from_dict(json.loads(json.dumps(tol.to_dict()))) == tol
    with pytest.raises(LinnetError, match="measured variation"):
        window(2, "")
    with pytest.raises(LinnetError, match="kind"):
        Tolerance("name-based")


class _Bench:
    def __init__(self):
        self.extra_info = {}


def test_store_refuses_a_figure_without_tolerance():
    with pytest.raises(LinnetError, match="declare its tolerance"):
        store(_Bench(), steps=12)
    with pytest.raises(LinnetError, match="pass a result"):
        store(_Bench(), loss=figure(0.5, exact()))
    bench = _Bench()
    store(bench, **{"gd[lr=1e-05] float32_floor": figure(1e-9, relative(1e-6))})
    # the name says "floor", the declaration says relative: a final loss 5x off fails
    lines = gate.compare("b", gate.entry(bench.extra_info["figures"], bench.extra_info["tolerances"]),
                         {"gd[lr=1e-05] float32_floor": 5e-9}, bench.extra_info["tolerances"])
    assert len(lines) == 1 and "float32_floor: baseline 1e-09, now 5e-09" in lines[0]


def test_compare_names_moved_missing_new_and_retoleranced_figures():
    base = gate.entry({"loss": 73.06, "steps": 3000}, {"loss": relative(1e-6).to_dict(), "steps": exact().to_dict()})
    tols = {"loss": relative(1e-6).to_dict(), "steps": exact().to_dict()}
    assert gate.compare("t", base, {"loss": 73.06, "steps": 3000}, tols) == []
    assert gate.compare("t", base, {"loss": 80.0, "steps": 3000}, tols) == [
        "t: loss: baseline 73.06, now 80.0 (tolerance: rtol 1e-06, in decades (1) below 1e-18)"]
    assert gate.compare("t", base, {"loss": 73.06}, tols) == ["t: figure steps is no longer recorded (baseline 3000)"]
    extra = gate.compare("t", base, {"loss": 73.06, "steps": 3000, "new": 1}, {**tols, "new": exact().to_dict()})
    assert extra == ["t: figure new = 1 is not in the baseline"]
    looser = gate.compare("t", base, {"loss": 73.06, "steps": 3000}, {**tols, "loss": decades(1.0).to_dict()})
    assert len(looser) == 1 and "changed tolerance" in looser[0]


def test_coverage_finds_stale_entries_only(tmp_path):
    (tmp_path / "b").mkdir()
    for name in ("test_x.py", "test_y.py"):
        (tmp_path / "b" / name).write_text("")
    baseline = {"b/test_x.py::a", "b/test_x.py::gone", "b/test_y.py::c", "b/test_deleted.py::d", "b/test_x.py::e"}
    stale = gate.coverage(baseline, collected={"b/test_x.py::a"}, deselected={"b/test_x.py::e"}, root=tmp_path)
    # renamed in a collected file, and a file that is gone; test_y.py was not selected
    assert stale == ["b/test_deleted.py::d", "b/test_x.py::gone"]
    assert gate.coverage(baseline, {"b/test_x.py::a"}, set(), tmp_path, partial={"b/test_x.py"}) == [
        "b/test_deleted.py::d"]


def test_save_writes_the_whole_baseline_and_load_rejects_bad_files(tmp_path):
    path = tmp_path / "baseline.json"
    gate.save(path, {"t[a]": gate.entry({"x": 1.5}, {"x": exact().to_dict()})})
    gate.save(path, {"t[b]": gate.entry({"y": 2}, {"y": exact().to_dict()})})
    assert list(gate.load(path)) == ["t[b]"]  # no merge: t[a] is gone
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(LinnetError, match="bad.json: not a linnet baseline"):
        gate.load(tmp_path / "bad.json")
    (tmp_path / "old.json").write_text(json.dumps({"format": "linnet-baseline-1", "figures": {}}))
    with pytest.raises(LinnetError, match="--linnet-update-baseline"):
        gate.load(tmp_path / "old.json")
    with pytest.raises(LinnetError, match="not found"):
        gate.load(tmp_path / "missing.json")



def test_drift_names_what_moved_within_or_beyond_its_tolerance():
    tols = {"loss": relative(1e-6).to_dict(), "steps": exact().to_dict(), "nan": exact().to_dict()}
    first = {"t": gate.entry({"loss": 73.06, "steps": 3000, "nan": float("nan")}, tols)}
    assert gate.drift(first, first) == []  # identical runs (NaN is the same figure as NaN)
    within = {"t": gate.entry({"loss": 73.06 * (1 + 1e-9), "steps": 3000, "nan": float("nan")}, tols)}
    [line] = gate.drift(first, within)
    assert line.startswith("t: loss 73.06 -> ") and "+1.00e-09 relative" in line
    assert line.endswith("within its tolerance")
    beyond = {"t": gate.entry({"loss": 73.06, "steps": 3001, "nan": float("nan")}, tols),
              "u": gate.entry({"x": 1}, {"x": exact().to_dict()})}
    assert gate.drift(first, beyond) == ["t: steps 3000 -> 3001 (+3.33e-04 relative), BEYOND its tolerance",
                                         "u: only in the second run"]
    fewer = {"t": gate.entry({"loss": 73.06, "steps": 3000}, {k: tols[k] for k in ("loss", "steps")})}
    assert gate.drift(first, fewer) == ["t: figure nan only in the first run"]

# -- real pytest runs -----------------------------------------------------------------------------

BENCH = textwrap.dedent('''
    import os
    from linnet.testing.benchmarking import store
    from linnet.testing.tolerance import exact, figure, relative

    def test_a(benchmark):
        benchmark(sum, [1, 2])
        store(benchmark, final=figure(float(os.environ.get("FINAL", "0.5")), relative(1e-6)),
               steps=figure(11, exact()))

    def test_b(benchmark):
        benchmark(sum, [1, 2])
        store(benchmark, steps=figure(3, exact()))
''')


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("gated")
    (root / "b").mkdir()
    (root / "b" / "test_bench.py").write_text(BENCH)
    return root


def _pytest(root, *args, env=None):
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--benchmark-disable",
                           "--linnet-baseline=b/baseline.json", *args],
                          cwd=root, capture_output=True, text=True, env={**os.environ, **(env or {})})


def test_gate_runs_fail_on_each_loophole(project):
    baseline = project / "b" / "baseline.json"
    refused = _pytest(project, "--linnet-update-baseline", "-k", "test_a")  # not the whole suite
    assert refused.returncode == 1 and "baseline NOT written" in refused.stdout and not baseline.exists()
    written = _pytest(project, "--linnet-update-baseline")
    assert written.returncode == 0, written.stdout
    entries = gate.load(baseline)
    assert entries["b/test_bench.py::test_a"]["steps"] == {"value": 11, "tolerance": {"kind": "exact"}}
    assert _pytest(project, "-k", "test_a").returncode == 0  # a deselected benchmark is fine

    gone = dict(entries)
    gone["b/test_bench.py::test_renamed"] = gone.pop("b/test_bench.py::test_b")
    gate.save(baseline, gone)
    (project / "b" / "test_more.py").write_text("def test_c(benchmark):\n    benchmark(sum, [1])\n")
    run = _pytest(project, env={"FINAL": "0.6"})
    assert run.returncode == 1
    assert "final: baseline 0.5, now 0.6" in run.stdout and gate.REGENERATE in run.stdout  # a moved figure
    # a benchmark missing from the baseline, and the command that adds its file's entries
    assert ("b/test_bench.py::test_b has no entry in b/baseline.json; add the entries of its file with: python -m "
            "pytest b/test_bench.py --benchmark-disable --linnet-baseline b/baseline.json --linnet-add-to-baseline") \
        in run.stdout
    assert "b/test_bench.py::test_renamed: in b/baseline.json but no such benchmark" in run.stdout  # stale
    assert "b/test_more.py::test_c records no machine-independent figure" in run.stdout


NEW = """
from linnet.testing.benchmarking import store
from linnet.testing.tolerance import exact, figure

def test_new(benchmark):
    benchmark(sum, [1])
    store(benchmark, steps=figure(7, exact()))
"""


#: a faster start for the runs below: plugins they do not use left out, and no assertion rewriting of
#: linnet's modules (the messages read are explicit ones)
FAST = ("-p", "no:xdist", "-p", "no:hypothesispytest", "--assert=plain")


def test_a_new_benchmark_file_is_added_to_the_baseline_by_a_passing_run(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "test_bench.py").write_text(BENCH)
    (tmp_path / "b" / "test_new.py").write_text(NEW)
    exact_ = exact().to_dict()
    old = {"b/test_bench.py::test_a": gate.entry({"final": 0.5, "steps": 11}, {"final": relative(1e-6).to_dict(),
                                                                              "steps": exact_}),
           "b/test_bench.py::test_b": gate.entry({"steps": 3}, {"steps": exact_})}
    gate.save(tmp_path / "b" / "baseline.json", old)
    failed = _pytest(tmp_path, *FAST, "--linnet-add-to-baseline", env={"FINAL": "0.6"})  # a moved figure: nothing added
    assert failed.returncode == 1 and "final: baseline 0.5, now 0.6" in failed.stdout
    assert "1 new entries NOT added to b/baseline.json: the run failed" in failed.stdout
    assert gate.load(tmp_path / "b" / "baseline.json") == old
    added = _pytest(tmp_path, *FAST, "--linnet-add-to-baseline")
    assert added.returncode == 0 and "compared 2 benchmarks" in added.stdout
    assert "added 1 new benchmarks' entries to b/baseline.json: b/test_new.py::test_new" in added.stdout
    assert gate.load(tmp_path / "b" / "baseline.json") == {**old, "b/test_new.py::test_new": gate.entry(
        {"steps": 7}, {"steps": exact_})}


def test_required_tensorflow_turns_skips_into_failures(tmp_path):
    (tmp_path / "test_tf.py").write_text(textwrap.dedent('''
        import pytest

        @pytest.mark.tensorflow
        def test_marked():
            pytest.importorskip("tensorflow_is_not_here")

        def test_plain_skip():
            pytest.skip("unrelated")
    '''))
    (tmp_path / "test_module.py").write_text('import pytest\n\ntf = pytest.importorskip("tensorflow_not_here")\n')
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--continue-on-collection-errors",
           "-W", "ignore::pytest.PytestUnknownMarkWarning"]
    required = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True,
                              env={**os.environ, "LINNET_REQUIRE_TENSORFLOW": "1"})
    assert required.returncode == 1
    assert "1 failed, 1 skipped" in required.stdout and "1 error" in required.stdout, required.stdout


def test_figures_of_two_runs_are_written_and_their_drift_listed(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "test_bench.py").write_text(BENCH)
    runs = []
    for i, final in enumerate(["0.5", "0.5000000001"]):
        path = tmp_path / f"figures{i}.json"
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--benchmark-disable",
                               f"--linnet-figures={path}"], cwd=tmp_path, capture_output=True, text=True,
                              env={**os.environ, "FINAL": final})
        assert proc.returncode == 0, proc.stdout  # no baseline: nothing is compared, the figures are written
        assert f"wrote this run's figures (2 benchmarks) to {path}" in proc.stdout
        runs.append(gate.load(path))
    assert runs[0]["b/test_bench.py::test_b"] == {"steps": {"value": 3, "tolerance": {"kind": "exact"}}}
    [line] = gate.drift(*runs)
    assert line.startswith("b/test_bench.py::test_a: final 0.5 -> 0.5000000001") and "within its tolerance" in line


def test_a_figures_path_that_cannot_be_written_is_refused_before_any_benchmark(tmp_path):
    (tmp_path / "test_bench.py").write_text(BENCH)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--benchmark-disable",
                           f"--linnet-figures={tmp_path / 'no-such-folder' / 'f.json'}"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 4 and "passed" not in proc.stdout
    assert "--linnet-figures: cannot write" in proc.stderr and "does not exist" in proc.stderr
