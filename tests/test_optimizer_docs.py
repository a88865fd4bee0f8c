"""docs/optimizers.md: every code block runs as written, and the plugin it shows works as a plugin.

The page's Python blocks run in order in one namespace (the first is the module of the plugin);
its TOML block is the plugin's pyproject.toml. The plugin test writes both files to a temporary
directory, puts the module and its entry point (a dist-info folder built from the TOML's
``linnet.optimizers`` table) on the path of fresh processes, and runs the optimizer through
``linnet run``, ``linnet sweep``, ``linnet --help`` and ``pytest benchmarks --linnet-optimizer``,
comparing with the same rule run through ``linnet.run`` directly.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest

from linnet.optimizers.registry import unregister
from linnet.sweeps.store import load
from linnet.testing import gate

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "optimizers.md").read_text()
PYTHON = re.findall(r"```python\n(.*?)```", DOC, flags=re.S)
TOML = re.findall(r"```toml\n(.*?)```", DOC, flags=re.S)
NAMES = ("nesterov", "steepest-s", "nesterov-tf")
#: the page's blocks that run on the TensorFlow backend (skipped, with a reason, without TensorFlow)
ON_TENSORFLOW = 'backend="tensorflow"'


@pytest.fixture
def clean_registry():
    yield
    for name in NAMES:
        unregister(name)


def test_the_page_has_the_module_the_plugin_and_the_checks():
    assert len(PYTHON) >= 4 and len(TOML) == 1
    module = PYTHON[0]
    # "an optimizer in 20 lines": the class itself, from its decorator to its last line
    cls = module[module.index("@linnet.register"):].strip().splitlines()
    assert len(cls) <= 20, len(cls)


def test_every_python_block_runs(clean_registry, capsys, monkeypatch):
    module = types.ModuleType("linnet_nesterov")  # dataclasses look their module up in sys.modules
    monkeypatch.setitem(sys.modules, module.__name__, module)
    namespace = module.__dict__
    without_tensorflow = importlib.util.find_spec("tensorflow") is None
    for block in PYTHON:
        if ON_TENSORFLOW not in block or not without_tensorflow:
            exec(compile(block, "docs/optimizers.md", "exec"), namespace)
    test = namespace["test_nesterov_keeps_the_contract"]
    (params,) = [m.args[1] for m in test.pytestmark if m.name == "parametrize"]
    assert [rule for rule, _ in params] == list(namespace["check_optimizer"].__globals__["RULES"])
    for rule, check in params:
        test(rule, check)
    printed = float(capsys.readouterr().out.split()[0])
    assert printed > 1e-6  # the comment beside the print: a plateau
    assert any(ON_TENSORFLOW in block for block in PYTHON)
    if without_tensorflow:
        pytest.skip("the page's TensorFlow block needs tensorflow, which is not installed")


def _plugin(root: Path, module: str, entry_points: dict[str, str], name: str = "linnet-nesterov") -> Path:
    """A plugin put on the path: ``module`` as linnet_nesterov.py and a dist-info with the entry points."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "linnet_nesterov.py").write_text(module)
    info = root / f"{name.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    lines = "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[linnet.optimizers]\n{lines}")
    return root


def _env(*paths: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*map(str, paths), env.get("PYTHONPATH", "")])
    return env


def _run(args, env, **kw):
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=300, **kw)


SPEC = "nesterov[lr=1e-05,momentum=0.8]"


def test_a_plugin_runs_everywhere_with_the_numbers_of_linnet_run(tmp_path):
    table = tomllib.loads(TOML[0])["project"]["entry-points"]["linnet.optimizers"]
    site = _plugin(tmp_path / "site", PYTHON[0], table)
    env = _env(site)
    direct = _run(["-c", f"import linnet; p = linnet.post_problem(3); r = linnet.run(p, {SPEC!r}, 300); "
                         f"print(repr(r.final_loss), repr(linnet.run(p, {SPEC!r}, 3000).relative_loss))"], env)
    assert direct.returncode == 0, direct.stderr
    expected, plateau = map(float, direct.stdout.split())

    helped = _run(["-m", "linnet", "--help"], env)
    assert helped.returncode == 0 and "nesterov[lr=1e-05]" in helped.stdout and not helped.stderr.strip()

    ran = _run(["-m", "linnet", "run", "--seed", "3", "--optimizer", SPEC, "--steps", "300", "--json"], env)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["final_loss"] == expected

    out = tmp_path / "sweep"
    swept = _run(["-m", "linnet", "sweep", "--seeds", "2-4", "--optimizer", SPEC, "--steps", "300",
                  "--out", str(out), "--processes", "--quiet"], env)
    assert swept.returncode == 0, swept.stderr
    rows = load(out)
    row = rows[rows["seed"] == 3].iloc[0]
    assert row["optimizer"] == SPEC and row["final_loss"] == pytest.approx(expected, rel=1e-11)

    # the post's plateau benchmark on seed 3 (3000 steps), its figures written with --linnet-figures (a
    # faster start: unused plugins left out, and no assertion rewriting of linnet's modules)
    figures = tmp_path / "figures.json"
    benched = _run(["-m", "pytest", "benchmarks/test_bench_first_order.py", "-q", "-p", "no:cacheprovider",
                    "-p", "no:xdist", "-p", "no:hypothesispytest", "--assert=plain", "--benchmark-disable",
                    "--linnet-optimizer", SPEC, f"--linnet-figures={figures}",
                    "-k", "test_plateau and seed3 and numpy and nesterov and not conditioned"],
                   {k: v for k, v in env.items() if k != "PYTEST_ADDOPTS"}, cwd=ROOT)
    assert benched.returncode == 0 and "1 passed" in benched.stdout, benched.stdout + benched.stderr
    assert f"user optimizer {SPEC}" in " ".join(benched.stdout.split())  # its own line in the claims verdict
    node = f"benchmarks/test_bench_first_order.py::test_plateau[{SPEC}-seed3-numpy]"
    assert gate.load(figures)[node]["relative_loss"]["value"] == plateau

    # the report card on a small protocol (two rates, development seeds 0-1, held-out seeds 1002-1004):
    # its post setting is linnet.run's at the rate it tuned
    checked = _run(["-m", "linnet", "check", "nesterov[momentum=0.8]", "--seeds", "1002-1004", "--development", "0-1",
                    "--grid", "1e-06,1e-05", "--reference", "lm", "--json", "--quiet"], env)
    assert checked.returncode == 0, checked.stderr
    card = json.loads(checked.stdout)
    post = card["settings"][0]
    assert card["optimizer"] == "nesterov[momentum=0.8]" and post["spec"].startswith("nesterov[lr=")
    again = _run(["-c", f"import linnet, statistics; print(repr(statistics.median(linnet.run(linnet.post_problem(s), "
                        f"{post['spec']!r}, 3000).relative_loss for s in (1002, 1003, 1004))))"], env)
    assert post["relative_loss"]["estimate"] == pytest.approx(float(again.stdout), rel=1e-11)


def test_a_broken_or_clashing_plugin_is_one_warning_line(tmp_path):
    site = _plugin(tmp_path / "bad", PYTHON[0].replace('"nesterov"', '"gd"'),
                   {"gd": "linnet_nesterov:Nesterov", "missing": "linnet_no_such_module:Thing"}, name="linnet-bad")
    ran = _run(["-m", "linnet", "run", "--optimizer", "gd[lr=1e-05]", "--steps", "10", "--json"], _env(site))
    assert ran.returncode == 0
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 2, ran.stderr
    assert all(line.startswith("linnet: warning: optimizer plugin") and "'linnet-bad'" in line for line in lines)
    assert any("taken by linnet.optimizers.first_order.GD" in line for line in lines)
    assert any("ModuleNotFoundError" in line for line in lines)
    assert json.loads(ran.stdout)["optimizer"] == "gd[lr=1e-05]"  # the built-in, untouched
