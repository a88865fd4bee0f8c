"""pytest plugin: the regression gate of the benchmark suite (loaded by the root conftest.py).

Options:
  --linnet-baseline PATH     fail a benchmark whose machine-independent figures moved beyond the
                             tolerances of linnet.gate from those stored in PATH
  --linnet-update-baseline   write this run's figures into the --linnet-baseline file
                             (default benchmarks/baseline.json) instead of comparing

Selections: everything (``pytest benchmarks``) is the full statement of the claims; the
``slow`` marker tags the long sweeps, so ``pytest benchmarks -m "not slow"`` is the quick one CI
runs with the gate.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from linnet import gate

#: relative to pytest's rootdir
DEFAULT_BASELINE = Path("benchmarks") / "baseline.json"


def pytest_addoption(parser):
    group = parser.getgroup("linnet")
    group.addoption("--linnet-baseline", metavar="PATH", default=None,
                    help="compare each benchmark's extra_info figures with this baseline file")
    group.addoption("--linnet-update-baseline", action="store_true", default=False,
                    help="write this run's figures into the baseline file instead of comparing")


class _Gate:
    def __init__(self, path: Path, update: bool):
        self.path, self.update = path, update
        self.baseline = {} if update else gate.load(path)
        self.collected: dict[str, dict] = {}
        self.unknown: list[str] = []


def pytest_configure(config):
    path = config.getoption("--linnet-baseline")
    update = config.getoption("--linnet-update-baseline")
    if path or update:
        config._linnet_gate = _Gate(Path(path) if path else config.rootpath / DEFAULT_BASELINE, update)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    state = getattr(item.config, "_linnet_gate", None)
    bench = getattr(item, "funcargs", {}).get("benchmark")
    if state is None or bench is None:
        return result
    figures = bench.extra_info.get("figures")
    if not figures:
        return result
    name = item.nodeid.split("::", 1)[1]
    state.collected[name] = dict(figures)
    if state.update:
        return result
    if name not in state.baseline:
        state.unknown.append(name)
        return result
    moved = gate.compare(name, state.baseline[name], figures)
    if moved:
        raise AssertionError("regression gate (" + str(state.path) + "):\n  " + "\n  ".join(moved))
    return result


def pytest_sessionfinish(session, exitstatus):
    state = getattr(session.config, "_linnet_gate", None)
    if state is None:
        return
    if state.update and state.collected and exitstatus == 0:
        gate.save(state.path, state.collected)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = getattr(config, "_linnet_gate", None)
    if state is None:
        return
    tr = terminalreporter
    if state.update:
        if exitstatus == 0:
            tr.write_line(f"linnet gate: wrote {len(state.collected)} benchmarks' figures to {state.path}")
        else:
            tr.write_line("linnet gate: run failed, baseline not written")
        return
    tr.write_line(f"linnet gate: compared {len(state.collected) - len(state.unknown)} benchmarks "
                  f"with {state.path}")
    if state.unknown:
        tr.write_line(f"linnet gate: {len(state.unknown)} benchmarks are not in the baseline yet: "
                      + ", ".join(state.unknown[:5]) + (" ..." if len(state.unknown) > 5 else ""))
