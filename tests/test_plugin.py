"""linnet's pytest plugin loads through its ``pytest11`` entry point and stays inert in other runs."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

#: modules a pytest run without linnet's benchmarks must not import
HEAVY = ("tensorflow", "linnet.testing.verdicts", "linnet.testing.calibration", "linnet.claims", "linnet.sweeps",
         "linnet.reports", "linnet.runs.backends.tensorflow", "matplotlib.pyplot")

TRIVIAL = '''
import json, sys

def test_trivial():
    with open("modules.json", "w") as f:
        json.dump(sorted(sys.modules), f)
'''


def _pytest(cwd, *args):
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                          capture_output=True, text=True, env=env)


@pytest.fixture(scope="module")
def trivial_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("foreign")
    (root / "test_trivial.py").write_text(textwrap.dedent(TRIVIAL))
    proc = _pytest(root, "-q")
    return proc, json.loads((root / "modules.json").read_text())


def test_the_entry_point_loads_the_plugin(tmp_path):
    """Positive control: with no conftest at all, pytest knows linnet's options and lists the plugin."""
    helped = _pytest(tmp_path, "--help")
    assert helped.returncode == 0 and "--linnet-baseline" in helped.stdout
    traced = _pytest(tmp_path, "--trace-config", "--co", "-q")
    assert "linnet.testing.plugin" in traced.stdout, traced.stdout
    left_out = _pytest(tmp_path, "-p", "no:linnet", "--help")
    assert "--linnet-baseline" not in left_out.stdout  # -p no:linnet removes it


def test_a_run_without_benchmarks_prints_nothing_of_linnet(trivial_run):
    proc, _ = trivial_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
    assert "linnet" not in (proc.stdout + proc.stderr).lower()  # no gate line, no claims verdict


def test_a_run_without_benchmarks_imports_nothing_heavy(trivial_run):
    _, modules = trivial_run
    assert "linnet.testing.plugin" in modules  # the plugin was loaded ...
    loaded = [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert loaded == []  # ... but neither TensorFlow, the verdict nor the calibration
