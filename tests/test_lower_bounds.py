"""``.ci/lower_bounds.py``: the pip constraints CI's lowest-versions run installs are exactly the
``>=`` bounds of pyproject.toml, read here independently with ``packaging``."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "lower_bounds.py"


def _script(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=60)


def _ci_extras() -> list[str]:
    """The extras of .ci/run's lowest-versions run (its VERSIONS_EXTRAS)."""
    m = re.search(r'^VERSIONS_EXTRAS="([^"]*)"', (ROOT / ".ci" / "run").read_text(), re.M)
    assert m, ".ci/run sets no VERSIONS_EXTRAS"
    return m.group(1).split(",")


def _expected(extras: list[str]) -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"], *(r for e in extras for r in project["optional-dependencies"][e])]
    out: dict[str, str] = {}
    for text in requirements:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate():
            continue
        for spec in req.specifier:
            if spec.operator == ">=":
                out[req.name.lower()] = spec.version
    return [f"{name}=={version}" for name, version in out.items()]


@pytest.mark.parametrize("extras", [[], ["test"], ["test", "tensorflow", "lint"], None])
def test_output_is_every_lower_bound(extras):
    extras = _ci_extras() if extras is None else extras
    proc = _script(",".join(extras))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == _expected(extras)


def test_every_core_dependency_is_bounded_below():
    """A dependency without a ``>=`` bound would not be tested at its lowest version."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    unbounded = [r for r in project["dependencies"] if ">=" not in r]
    assert unbounded == []


def test_markers_and_bracketed_extras(tmp_path):
    """A marker that does not hold drops its requirement; ``dask[distributed]`` is named ``dask``."""
    spec = importlib.util.spec_from_file_location("lower_bounds", SCRIPT)
    lower_bounds = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lower_bounds)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["a>=1.2", "b>=3; python_version < \'3.0\'", "c"]\n'
                         '[project.optional-dependencies]\nx = ["Dask[distributed]>=2024.1,<2030"]\n')
    assert lower_bounds.lower_bounds(["x"], pyproject) == {"a": "1.2", "dask": "2024.1"}
    with pytest.raises(SystemExit, match="no such extra"):
        lower_bounds.lower_bounds(["nope"], pyproject)


def test_output_file(tmp_path):
    target = tmp_path / "constraints.txt"
    proc = _script("test", "--output", str(target))
    assert proc.returncode == 0 and proc.stdout == "", proc.stderr
    assert target.read_text().splitlines() == _expected(["test"])


def test_unknown_extra_is_an_error():
    proc = _script("no-such-extra")
    assert proc.returncode != 0 and "no such extra in pyproject.toml: no-such-extra" in proc.stderr
