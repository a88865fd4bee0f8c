"""pytest plugin: the regression gate of the benchmark suite, the claims verdict, required TensorFlow.

Registered through the ``pytest11`` entry point ``linnet`` (pyproject.toml), so any pytest run in an
environment where linnet is installed loads it (``-p no:linnet`` leaves it out). It stays inert in a
run that collects no benchmark: the claims verdict (:mod:`linnet.testing.verdicts`) and the machine
info of the benchmark JSON (with its calibration) are loaded only once a benchmark is collected, and
the gate acts only with its options.

Options:
  --linnet-baseline PATH     compare each benchmark's figures with PATH (linnet.testing.gate): a moved,
                             missing or new figure, a benchmark with no figures, a benchmark with
                             no baseline entry and a baseline entry with no benchmark all fail
  --linnet-update-baseline   write the whole baseline from this run instead (default path
                             benchmarks/baseline.json); refused unless the run is complete: every
                             benchmark selected, none skipped, all passed
  --linnet-figures PATH      also write this run's figures to PATH, in the baseline's format, for
                             comparing two runs with linnet.testing.gate.drift (CI writes one per
                             gate run)

Environment: LINNET_REQUIRE_TENSORFLOW=1 (set in CI) turns every skip of a TensorFlow test or
benchmark (marker ``tensorflow``, or a skip whose reason names TensorFlow) into a failure.

Selections: ``-m``, ``-k`` and path selections are fine with the gate (deselected benchmarks are
not judged); the ``slow`` marker tags the long sweeps.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from linnet.core import files
from linnet.core.errors import LinnetError
from linnet.testing import gate

#: relative to pytest's rootdir
DEFAULT_BASELINE = Path("benchmarks") / "baseline.json"
REQUIRE_TENSORFLOW = "LINNET_REQUIRE_TENSORFLOW"
VERDICTS = "linnet.testing.verdicts"


def pytest_addoption(parser):
    group = parser.getgroup("linnet")
    group.addoption("--linnet-baseline", metavar="PATH", default=None,
                    help="compare each benchmark's machine-independent figures with this baseline file")
    group.addoption("--linnet-update-baseline", action="store_true", default=False,
                    help="write the whole baseline file from this (complete) run instead of comparing")
    group.addoption("--linnet-figures", metavar="PATH", default=None,
                    help="also write this run's figures (the baseline's format) to PATH, whatever the gate decides")
    group.addoption("--linnet-expensive", action="store_true", default=False,
                    help="also run the benchmarks marked expensive (timing scans and long ratio measurements, "
                         "about 2 minutes more); CI and --linnet-update-baseline runs use it")


def pytest_collection_modifyitems(config, items):
    """Deselect the ``expensive`` benchmarks unless --linnet-expensive is given (the gate allows
    deselected benchmarks), so that ``pytest benchmarks`` stays within about 3 minutes."""
    if config.getoption("--linnet-expensive"):
        return
    expensive = [i for i in items if i.get_closest_marker("expensive") is not None]
    if expensive:
        items[:] = [i for i in items if i.get_closest_marker("expensive") is None]
        config.hook.pytest_deselected(items=expensive)


class _Gate:
    """The gate's state in one run: compare with ``path`` (or write it, ``update``), and write the
    figures to ``record`` when given; with no ``path`` only the record is written."""

    def __init__(self, path: Path | None, update: bool, root: Path, record: Path | None = None):
        self.path, self.update, self.root, self.record = path, update, root, record
        self.compares = path is not None and not update
        self.baseline = gate.load(path) if self.compares else {}
        self.collected: set[str] = set()
        self.deselected: set[str] = set()
        self.partial: set[str] = set()
        self.entries: dict[str, dict] = {}
        self.problems: list[str] = []


def pytest_configure(config):
    config.addinivalue_line("markers", "claim(id): the registered claim (linnet.claims.registry) a benchmark decides")
    path = config.getoption("--linnet-baseline")
    update = config.getoption("--linnet-update-baseline")
    record = config.getoption("--linnet-figures")
    if record:  # checked before any benchmark runs: a path that cannot be written is one usage error
        try:
            files.check_file(record, force=True)
        except LinnetError as err:
            raise pytest.UsageError(f"--linnet-figures: {err}") from None
    if path or update or record:
        if update and not path:
            path = config.rootpath / DEFAULT_BASELINE
        config._linnet_gate = _Gate(Path(path) if path else None, update, config.rootpath,
                                    Path(record) if record else None)


def _is_benchmark(item) -> bool:
    return "benchmark" in getattr(item, "fixturenames", ())


def pytest_deselected(items):
    if items:
        state = getattr(items[0].config, "_linnet_gate", None)
        if state is not None:
            state.deselected.update(i.nodeid for i in items if _is_benchmark(i))


def _activate(config) -> None:
    """Load the claims verdict plugin once (a conftest's ``pytest_plugins`` may have loaded it)."""
    config._linnet_active = True
    manager = config.pluginmanager
    if manager.has_plugin(VERDICTS):
        return
    import importlib

    verdicts = importlib.import_module(VERDICTS)
    if manager.is_registered(verdicts):
        return
    manager.register(verdicts, VERDICTS)  # its pytest_configure runs now (a historic hook)
    bench = getattr(config, "_benchmarksession", None)
    if bench is not None and config.option.benchmark_columns:  # pytest-benchmark read them before
        bench.columns = config.option.benchmark_columns


def pytest_benchmark_update_machine_info(config, machine_info):
    """Add CPU model, cores, BLAS library and threads, numpy/scipy/TensorFlow versions, and the
    machine's calibration (matmul rate and per-call cost, for ``linnet compare``)."""
    if not getattr(config, "_linnet_active", False):
        return
    from linnet.runs.machine import machine_info as linnet_machine_info
    from linnet.testing.calibration import measure

    machine_info["linnet"] = linnet_machine_info()
    machine_info["linnet"]["calibration"] = measure()


def pytest_collection_finish(session):
    if any(_is_benchmark(i) for i in session.items):
        _activate(session.config)
    state = getattr(session.config, "_linnet_gate", None)
    if state is None:
        return
    state.collected = {i.nodeid for i in session.items if _is_benchmark(i)}
    for arg in session.config.args:  # "path::test" picks single tests: the rest of the file is not judged
        if "::" in arg:
            path = Path(arg.split("::", 1)[0]).resolve()
            try:
                state.partial.add(path.relative_to(state.root).as_posix())
            except ValueError:
                pass


def _regenerate() -> str:
    return f"regenerate the baseline with: {gate.REGENERATE}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    state = getattr(item.config, "_linnet_gate", None)
    bench = getattr(item, "funcargs", {}).get("benchmark")
    if state is None or bench is None:
        return result
    figures = bench.extra_info.get("figures") or {}
    if not figures and not bench.extra_info.get("no_figures") and state.path is not None:
        raise AssertionError(f"regression gate: {item.nodeid} records no machine-independent figure "
                             "(linnet.testing.benchmarking.store) and does not say why (no_figures=...)")
    state.entries[item.nodeid] = gate.entry(figures, bench.extra_info.get("tolerances", {}))
    if not state.compares:
        return result
    if item.nodeid not in state.baseline:
        raise AssertionError(f"regression gate: {item.nodeid} has no entry in {state.path}; {_regenerate()}")
    moved = gate.compare(item.nodeid, state.baseline[item.nodeid], figures, bench.extra_info.get("tolerances", {}))
    if moved:
        raise AssertionError(f"regression gate ({state.path}):\n  " + "\n  ".join(moved) + f"\n{_regenerate()}")
    return result


def _files_not_run(state) -> list[str]:
    """Benchmark files beside the baseline (test_*.py) that this run collected nothing from."""
    ran = {node.split("::", 1)[0] for node in state.collected}
    try:
        folder = state.path.resolve().parent.relative_to(state.root.resolve())
    except ValueError:
        return []
    missing = [p.name for p in sorted((state.root / folder).glob("test_*.py"))
               if (folder / p.name).as_posix() not in ran]
    return [f"not collected: {', '.join(missing)}"] if missing else []


def pytest_sessionfinish(session, exitstatus):
    state = getattr(session.config, "_linnet_gate", None)
    if state is None:
        return
    if state.record is not None:
        gate.save(state.record, state.entries)
    if state.update:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
        incomplete = [f"{len(state.deselected)} benchmarks deselected"] * bool(state.deselected) \
            + [f"{skipped} tests skipped"] * bool(skipped) + ["single tests selected"] * bool(state.partial) \
            + ["the run failed"] * (exitstatus != 0) + _files_not_run(state)
        if incomplete or not state.entries:
            state.problems.append(f"baseline NOT written ({', '.join(incomplete) or 'no benchmarks ran'}); "
                                  f"write it from the whole suite: {gate.REGENERATE}")
        else:
            gate.save(state.path, state.entries)
    elif state.compares:
        stale = gate.coverage(set(state.baseline), state.collected, state.deselected, state.root, state.partial)
        state.problems += [f"{node}: in {state.path} but no such benchmark; {_regenerate()}" for node in stale]
    if state.problems and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    state = getattr(config, "_linnet_gate", None)
    if state is None:
        return
    tr = terminalreporter
    for line in state.problems:
        tr.write_line(f"linnet gate: {line}", red=True)
    if state.update and not state.problems:
        tr.write_line(f"linnet gate: wrote {len(state.entries)} benchmarks' figures to {state.path}")
    elif state.compares:
        tr.write_line(f"linnet gate: compared {len(state.entries)} benchmarks with {state.path}")
    if state.record is not None:
        tr.write_line(f"linnet gate: wrote this run's figures ({len(state.entries)} benchmarks) to {state.record}")


# -- LINNET_REQUIRE_TENSORFLOW ------------------------------------------------------------------


def _names_tensorflow(report) -> bool:
    """A skip whose reason (not its file's path) names TensorFlow."""
    reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
    return "tensorflow" in str(reason).lower()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if os.environ.get(REQUIRE_TENSORFLOW) == "1" and report.skipped \
            and (item.get_closest_marker("tensorflow") or _names_tensorflow(report)):
        report.outcome = "failed"
        report.longrepr = f"{REQUIRE_TENSORFLOW}=1 but this TensorFlow test was skipped: {report.longrepr}"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector):
    report = yield
    if os.environ.get(REQUIRE_TENSORFLOW) == "1" and report.skipped and _names_tensorflow(report):
        report.outcome = "failed"
        report.longrepr = f"{REQUIRE_TENSORFLOW}=1 but this module was skipped: {report.longrepr}"
    return report
