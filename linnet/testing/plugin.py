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
  --linnet-add-to-baseline   with --linnet-baseline: a benchmark with no entry gets one, written to
                             the baseline once the run passes, instead of failing; every other entry
                             is compared as usual and never rewritten (for a new benchmark file)
  --linnet-figures PATH      also write this run's figures to PATH, in the baseline's format, for
                             comparing two runs with linnet.testing.gate.drift (CI writes one per
                             gate run)
  --linnet-optimizer SPEC    (repeatable) also run the optimizer SPEC in every benchmark whose claim
                             applies to it (below); a spec that does not parse is one usage error

Your optimizer in the benchmarks: ``--linnet-optimizer SPEC`` takes any spec string linnet parses,
a built-in's at other settings or a plugin's (the ``linnet.optimizers`` entry-point group), parsed
once at start-up. Each benchmark declared with
:func:`linnet.testing.user_optimizers.over_optimizers` gets one item per SPEC and grid point where
the optimizer's declared capabilities fit the claim (first-order, batchable, an ``lr``, its
``max_layers`` against the depth, its backends), its id led by the spec. Those items are timed by
pytest-benchmark like any other; their figures are reported (the gate's summary line, and
--linnet-figures), never compared with the baseline, and a missing entry is not a failure; their
claims are reported, never asserted (:func:`linnet.testing.verdicts.settle`), with verdict lines of
their own. A built-in's items and assertions are the same with or without the option, so the gate
still judges them in the same run. ``--linnet-update-baseline`` refuses the option: the baseline
holds the built-ins only.

Environment: LINNET_REQUIRE_TENSORFLOW=1 (set in CI) turns every skip of a TensorFlow test or
benchmark (marker ``tensorflow``, or a skip whose reason names TensorFlow) into a failure.

Selections: ``-m``, ``-k`` and path selections are fine with the gate (deselected benchmarks are
not judged); the ``slow`` marker tags the long sweeps. A user's optimizer's items are named by its
spec, so ``-k nesterov`` picks them.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import pytest

from linnet.core import files
from linnet.core.errors import LinnetError
from linnet.optimizers.spec import parse
from linnet.testing import gate, user_optimizers

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
    group.addoption("--linnet-add-to-baseline", action="store_true", default=False,
                    help="with --linnet-baseline: add an entry for each benchmark that has none (once the run passes) "
                         "instead of failing; the other entries are compared, never rewritten")
    group.addoption("--linnet-figures", metavar="PATH", default=None,
                    help="also write this run's figures (the baseline's format) to PATH, whatever the gate decides")
    group.addoption("--linnet-optimizer", metavar="SPEC", action="append", default=[],
                    help="(repeatable) also run this optimizer in every benchmark whose claim applies to it; "
                         "reported in the claims verdict, never compared with the baseline")
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
    """The gate's state in one run: compare with ``path`` (or write it, ``update``; with ``add``, add
    the entries it lacks), and write the figures to ``record`` when given; with no ``path`` only the
    record is written."""

    def __init__(self, path: Path | None, update: bool, root: Path, record: Path | None = None, add: bool = False):
        self.path, self.update, self.root, self.record, self.add = path, update, root, record, add
        self.compares = path is not None and not update
        self.baseline = gate.load(path) if self.compares else {}
        self.collected: set[str] = set()
        self.deselected: set[str] = set()
        self.partial: set[str] = set()
        self.entries: dict[str, dict] = {}
        #: the entries a run with ``add`` writes into the baseline (benchmarks it had none for)
        self.added: dict[str, dict] = {}
        #: the user's optimizers' items ({node id: entry}) and their specs: written to the record, never compared
        self.reported: dict[str, dict] = {}
        self.reported_specs: set[str] = set()
        self.problems: list[str] = []


def _user_optimizers(config, specs: list[str]) -> tuple:
    """The optimizers of ``--linnet-optimizer``, parsed (one usage error line for a bad spec), each once."""
    if specs and config.getoption("--linnet-update-baseline"):
        raise pytest.UsageError("--linnet-optimizer: a user's optimizer is never written to the baseline; "
                                "write it from a run without --linnet-optimizer")
    parsed: dict = {}
    for spec in specs:
        try:
            optimizer = parse(spec)
        except LinnetError as err:
            raise pytest.UsageError(f"--linnet-optimizer {spec}: {err}") from None
        parsed.setdefault(optimizer.spec, optimizer)
    return tuple(parsed.values())


def pytest_configure(config):
    config.addinivalue_line("markers", "claim(id): the registered claim (linnet.claims.registry) a benchmark decides")
    config.addinivalue_line("markers", f"{user_optimizers.MARKER}(...): the optimizers and grid of a benchmark "
                                       "(linnet.testing.user_optimizers.over_optimizers)")
    config.addinivalue_line("markers", f"{user_optimizers.USER_MARKER}(spec): an item of a user's optimizer "
                                       "(--linnet-optimizer)")
    config._linnet_optimizers = _user_optimizers(config, config.getoption("--linnet-optimizer"))
    path = config.getoption("--linnet-baseline")
    update = config.getoption("--linnet-update-baseline")
    add = config.getoption("--linnet-add-to-baseline")
    record = config.getoption("--linnet-figures")
    if add and (not path or update):
        raise pytest.UsageError("--linnet-add-to-baseline adds to the baseline of --linnet-baseline PATH; "
                                "--linnet-update-baseline writes a whole one instead")
    if record:  # checked before any benchmark runs: a path that cannot be written is one usage error
        try:
            files.check_file(record, force=True)
        except LinnetError as err:
            raise pytest.UsageError(f"--linnet-figures: {err}") from None
    if path or update or record:
        if update and not path:
            path = config.rootpath / DEFAULT_BASELINE
        config._linnet_gate = _Gate(Path(path) if path else None, update, config.rootpath,
                                    Path(record) if record else None, add)


@pytest.hookimpl(tryfirst=True)  # first: the optimizer and its grid lead the ids beside any parametrize decorator
def pytest_generate_tests(metafunc):
    """Parametrize a benchmark declared with ``over_optimizers`` over its built-in optimizers and grid,
    and the user's optimizers where its claim applies (linnet.testing.user_optimizers)."""
    mark = metafunc.definition.get_closest_marker(user_optimizers.MARKER)
    if mark is not None:
        metafunc.parametrize(*user_optimizers.parameters(mark, metafunc.config._linnet_optimizers))


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector, name, obj):
    """No item at all, rather than pytest's skipped placeholder, for a benchmark of the user's optimizers
    only when none was given or none applies."""
    if not inspect.isfunction(obj):  # any object of any test module passes here: only functions carry the marker
        return None
    mark = next((m for m in getattr(obj, "pytestmark", ()) if m.name == user_optimizers.MARKER), None)
    if mark is not None and not user_optimizers.parameters(mark, collector.config._linnet_optimizers)[1]:
        return []
    return None


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


def _add(state, nodeid: str) -> str:
    """The command that adds the entries of ``nodeid``'s file to the baseline, leaving the others as they are."""
    return (f"python -m pytest {nodeid.split('::', 1)[0]} --benchmark-disable --linnet-baseline {state.path} "
            "--linnet-add-to-baseline (add --linnet-expensive for an expensive benchmark)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    bench = getattr(item, "funcargs", {}).get("benchmark")
    spec = user_optimizers.user_spec(item)
    if bench is not None and spec is not None:  # read by linnet.testing.verdicts.settle, saved in the JSON
        bench.extra_info[user_optimizers.USER_MARKER] = spec
    result = yield
    state = getattr(item.config, "_linnet_gate", None)
    if state is None or bench is None:
        return result
    figures = bench.extra_info.get("figures") or {}
    entry = gate.entry(figures, bench.extra_info.get("tolerances", {}))
    if spec is not None:  # a user's optimizer has no baseline entry: reported, never compared
        state.reported[item.nodeid] = entry
        state.reported_specs.add(spec)
        return result
    if not figures and not bench.extra_info.get("no_figures") and state.path is not None:
        raise AssertionError(f"regression gate: {item.nodeid} records no machine-independent figure "
                             "(linnet.testing.benchmarking.store) and does not say why (no_figures=...)")
    state.entries[item.nodeid] = entry
    if not state.compares:
        return result
    if item.nodeid not in state.baseline:
        if state.add:
            state.added[item.nodeid] = entry
            return result
        raise AssertionError(f"regression gate: {item.nodeid} has no entry in {state.path}; add the entries of "
                             f"its file with: {_add(state, item.nodeid)}; or {_regenerate()}")
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
        gate.save(state.record, {**state.entries, **state.reported})
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
        if state.added and (state.problems or session.exitstatus != 0):
            state.problems.append(f"{len(state.added)} new entries NOT added to {state.path}: the run failed")
        elif state.added:
            gate.save(state.path, {**state.baseline, **state.added})
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
        compared = len(state.entries) - len(state.added)
        tr.write_line(f"linnet gate: compared {compared} benchmarks with {state.path}")
        if state.added and not state.problems:
            tr.write_line(f"linnet gate: added {len(state.added)} new benchmarks' entries to {state.path}: "
                          + ", ".join(state.added))
    if state.reported:
        tr.write_line(f"linnet gate: {len(state.reported)} benchmarks of user optimizers reported, not gated "
                      f"(no baseline entry): {', '.join(sorted(state.reported_specs))}")
    if state.record is not None:
        tr.write_line(f"linnet gate: wrote this run's figures ({len(state.entries) + len(state.reported)} "
                      f"benchmarks) to {state.record}")


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
