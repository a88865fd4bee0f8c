"""pytest plugin: the claims verdict at the end of a benchmark run, and saved with it.

Registered by the root ``conftest.py`` (``pytest_plugins``). After the timing tables, a run of
``pytest benchmarks`` ends with one line per claim of the README's claims table (at most 80
columns)::

    ============================ linnet claims verdict =============================
      1  holds          GD and Adam plateau in 3000 steps
                        min rel. loss 0.0013 (70 runs); 20 diverged
      4  holds          post's A is not kappa 1e5 (below 100)
                        kappa(A) 11.2 to 38.7 over 20 seeds
      5  not run        GD is slow, not stuck

How a claim's verdict is decided (nothing to add to a benchmark that asserts its claim):

* the benchmarks of a claim are named in :data:`CLAIMS` (test function names, parameters aside);
* a benchmark that stores its checked claim, ``benchmark.extra_info["claim"] =
  claim.to_dict()`` (or :func:`report`), decides by that claim's ``holds``; any other decides by
  its outcome (they assert the claim: passed = holds, failed = does not hold);
* a claim none of whose benchmarks ran (deselected, skipped) is ``not run``;
* the deciding numbers are read from the benchmarks' ``extra_info["figures"]``
  (:func:`linnet.testing.benchmarking.store`), the same figures the regression gate compares.

The deep-network claims (:data:`linnet.claims.lines.DEEP_CLAIMS`, labelled D1-D7) follow; a
claim that a benchmark reports but no line lists gets a line under its key.
The verdicts are also saved in the benchmark JSON (``--benchmark-json``, ``--benchmark-autosave``)
under ``"linnet_verdicts"``, where ``linnet compare`` shows how they differ across runs.

The plugin also makes pytest-benchmark's tables narrower by default (columns median, iqr, rounds;
``--benchmark-columns`` still chooses others).
"""

from __future__ import annotations

import textwrap

import pytest

from linnet.claims.lines import CLAIMS, DEEP_CLAIMS, ClaimLine
from linnet.testing.benchmarking import VERDICTS_KEY

WIDTH = 80
#: pytest-benchmark columns shown unless --benchmark-columns is given
DEFAULT_COLUMNS = ["median", "iqr", "rounds"]
HOLDS, DOES_NOT_HOLD, NOT_RUN = "holds", "does not hold", "not run"


def report(benchmark, claim) -> None:
    """Store a checked :class:`linnet.claims.Claim` with the benchmark; its ``holds`` is the verdict."""
    benchmark.extra_info["claim"] = claim.to_dict()


# -- verdicts from the collected outcomes -----------------------------------------------------------

def function_name(nodeid: str) -> str:
    """``benchmarks/x.py::test_plateau[gd-seed0]`` -> ``test_plateau``."""
    return nodeid.rsplit("::", 1)[-1].split("[", 1)[0]


def decide(outcomes: dict) -> list[dict]:
    """Verdicts from ``{nodeid: {"outcome": passed|failed|skipped, "extra_info": dict}}``.

    Returns one plain dict per claim of :data:`CLAIMS` (and per unlisted claim key a benchmark
    reported): number, key, name, verdict (holds / does not hold / not run), numbers (text),
    ran and failed (benchmark counts).
    """
    by_test: dict = {}
    for nodeid, o in outcomes.items():
        by_test.setdefault(function_name(nodeid), []).append(o)
    lines = list(CLAIMS) + list(DEEP_CLAIMS)
    listed = {c.key for c in lines}
    # a claim stored by a benchmark that a line names is that line's (e.g. one claim per size)
    listed |= {(o.get("extra_info") or {}).get("claim", {}).get("key") for c in lines for t in c.tests
               for o in by_test.get(t, [])}
    for o in outcomes.values():
        key = (o.get("extra_info") or {}).get("claim", {}).get("key")
        if key and key not in listed:
            listed.add(key)
            lines.append(ClaimLine(0, key, key, (), lambda figs: ""))
    out = []
    for c in lines:
        ran = [o for t in c.tests for o in by_test.get(t, []) if o["outcome"] != "skipped"]
        if not c.tests:
            ran = [o for o in outcomes.values() if o["outcome"] != "skipped"
                   and (o.get("extra_info") or {}).get("claim", {}).get("key") == c.key]
        failed = 0
        for o in ran:
            claim = (o.get("extra_info") or {}).get("claim")
            ok = claim["holds"] if isinstance(claim, dict) and "holds" in claim else o["outcome"] == "passed"
            failed += not ok
        verdict = NOT_RUN if not ran else (HOLDS if not failed else DOES_NOT_HOLD)
        figures = [(o.get("extra_info") or {}).get("figures") or {} for o in ran]
        out.append({"number": c.number, "label": c.label or str(c.number or "-"), "key": c.key, "name": c.name,
                    "verdict": verdict,
                    "numbers": c.numbers(figures) if ran else "", "ran": len(ran), "failed": failed})
    return out


def format_verdicts(verdicts: list[dict], width: int = WIDTH) -> list[str]:
    """The terminal lines, at most ``width`` columns: ``  N  verdict  name``, then the deciding
    numbers under the name (on the same line where they fit)."""
    verdict_w = max(len(v["verdict"]) for v in verdicts)
    indent = 3 + 2 + verdict_w + 2
    lines = []
    for v in verdicts:
        head = f"{v['label']:>3}  {v['verdict']:<{verdict_w}}  {v['name']}"
        numbers = (v["numbers"] + (f" [{v['failed']} of {v['ran']} failed]" if v["failed"] else "")).strip()
        if numbers and len(head) + 2 + len(numbers) <= width:
            lines.append(f"{head}  {numbers}")
            continue
        lines.append(head)
        lines += [" " * indent + w for w in textwrap.wrap(numbers, width - indent)]
    return lines


# -- pytest hooks -------------------------------------------------------------------------------------

class _Collector:
    def __init__(self):
        self.outcomes: dict = {}


def pytest_configure(config):
    config._linnet_verdicts = _Collector()
    if hasattr(config.option, "benchmark_columns") and config.option.benchmark_columns is None:
        config.option.benchmark_columns = list(DEFAULT_COLUMNS)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    state = getattr(item.config, "_linnet_verdicts", None)
    bench = getattr(item, "funcargs", {}).get("benchmark")
    if state is None or bench is None:
        return
    entry = state.outcomes.setdefault(rep.nodeid, {"outcome": "passed", "extra_info": {}})
    if rep.skipped:
        entry["outcome"] = "skipped"
    elif rep.failed:
        entry["outcome"] = "failed"
    entry["extra_info"] = dict(getattr(bench, "extra_info", {}) or {})


def verdicts_of(config) -> list[dict]:
    state = getattr(config, "_linnet_verdicts", None)
    return decide(state.outcomes) if state is not None and state.outcomes else []


def pytest_benchmark_update_json(config, benchmarks, output_json):
    verdicts = verdicts_of(config)
    if verdicts:
        output_json[VERDICTS_KEY] = verdicts


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    verdicts = verdicts_of(config)
    if not verdicts:
        return
    tr = terminalreporter
    tr.write_sep("=", "linnet claims verdict", bold=True)
    for line in format_verdicts(verdicts, min(WIDTH, max(tr._tw.fullwidth, 60))):
        tr.write_line(line)
