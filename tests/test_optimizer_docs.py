"""docs/optimizers.md: every code block runs as written, and the plugin it shows works as a plugin.

The page's Python blocks run in order in one namespace (the first is the module of the plugin);
its TOML block is the plugin's pyproject.toml. The plugin test writes both files to a temporary
directory, puts the module and its entry point (a dist-info folder built from the TOML's
``linnet.optimizers`` table) on the path of fresh processes, and runs the optimizer through
``linnet run``, ``linnet sweep`` and ``linnet --help``, comparing with the same rule run through
``linnet.run`` directly.
"""

from __future__ import annotations

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

DOC = (Path(__file__).parent.parent / "docs" / "optimizers.md").read_text()
PYTHON = re.findall(r"```python\n(.*?)```", DOC, flags=re.S)
TOML = re.findall(r"```toml\n(.*?)```", DOC, flags=re.S)
NAMES = ("nesterov", "steepest-s")


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
    for block in PYTHON:
        exec(compile(block, "docs/optimizers.md", "exec"), namespace)
    test = namespace["test_nesterov_keeps_the_contract"]
    (params,) = [m.args[1] for m in test.pytestmark if m.name == "parametrize"]
    assert [rule for rule, _ in params] == list(namespace["check_optimizer"].__globals__["RULES"])
    for rule, check in params:
        test(rule, check)
    printed = float(capsys.readouterr().out.split()[0])
    assert printed > 1e-6  # the comment beside the print: a plateau


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
    direct = _run(["-c", f"import linnet; r = linnet.run(linnet.post_problem(3), {SPEC!r}, 300); "
                         "print(repr(r.final_loss))"], env)
    assert direct.returncode == 0, direct.stderr
    expected = float(direct.stdout)

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
