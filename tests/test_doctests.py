"""Every ``>>>`` example in linnet runs: one test per module, every module of the package collected."""

import doctest
import importlib
import importlib.util
import pkgutil

import numpy as np
import pytest

import linnet

#: modules whose examples need TensorFlow (they skip, with a reason, where it is not installed)
NEEDS_TENSORFLOW = {"linnet.runs.backends.tensorflow"}


def _module_names() -> list[str]:
    names = [linnet.__name__]
    names += [m.name for m in pkgutil.walk_packages(linnet.__path__, prefix=linnet.__name__ + ".")]
    return sorted(names)


MODULES = _module_names()


def test_every_module_is_collected():
    """Guards the walk itself: the subpackages and their modules are all there."""
    for name in ("linnet.runs.loop", "linnet.claims.registry", "linnet.optimizers.linalg.damping", "linnet.cli",
                 "linnet.runs.backends.tensorflow"):
        assert name in MODULES
    assert len(MODULES) > 60


@pytest.mark.parametrize("name", MODULES)
def test_examples(name, tmp_path, monkeypatch):
    if name in NEEDS_TENSORFLOW and importlib.util.find_spec("tensorflow") is None:
        pytest.skip(f"{name}'s examples need TensorFlow, which is not installed")
    if name == "linnet.__main__":  # importing it runs the command line: read its text instead
        spec = importlib.util.find_spec(name)
        assert ">>>" not in open(spec.origin).read(), "an example in linnet/__main__.py cannot run"
        return
    monkeypatch.chdir(tmp_path)  # an example that writes files writes them here
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder().find(module, name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    with np.printoptions(legacy=False):
        for test in tests:
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (output above)"
