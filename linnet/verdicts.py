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
  (:func:`linnet.benchmarking.record`), the same figures the regression gate compares.

Claims that a benchmark reports but :data:`CLAIMS` does not list get a line under their key.
The verdicts are also saved in the benchmark JSON (``--benchmark-json``, ``--benchmark-autosave``)
under ``"linnet_verdicts"``, where ``linnet compare`` shows how they differ across runs.

The plugin also makes pytest-benchmark's tables narrower by default (columns median, iqr, rounds;
``--benchmark-columns`` still chooses others).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from linnet.claims.post_checks import SAMPLES_FACTOR
from linnet.reports.runs import JSON_KEY
from linnet.reports.text import g

WIDTH = 80
#: pytest-benchmark columns shown unless --benchmark-columns is given
DEFAULT_COLUMNS = ["median", "iqr", "rounds"]
HOLDS, DOES_NOT_HOLD, NOT_RUN = "holds", "does not hold", "not run"


def report(benchmark, claim) -> None:
    """Store a checked :class:`linnet.claims.Claim` with the benchmark; its ``holds`` is the verdict."""
    benchmark.extra_info["claim"] = claim.to_dict()


# -- the deciding numbers, from the benchmarks' figures ---------------------------------------------

def _values(figures: list[dict], match: Callable[[str], bool]) -> list[float]:
    return [v for f in figures for k, v in f.items()
            if match(k) and isinstance(v, (int, float)) and not isinstance(v, bool)]


def _range(values, what: str, unit: str = "") -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    return f"{what} {g(lo)}{unit}" if lo == hi else f"{what} {g(lo)} to {g(hi)}{unit}"


def _plateau(figs):
    rel = _values(figs, lambda k: k == "relative_loss")
    div = sum(1 for f in figs if f.get("diverged") is True)
    return f"min rel. loss {g(min(rel))} ({len(rel)} runs); {div} diverged" if rel else ""


def _gauss_newton(figs):
    steps = _values(figs, lambda k: k.replace("-", "_") == "steps_to_1e_28")
    rel = _values(figs, lambda k: k == "relative_loss")
    parts = [_range(steps, "rel. 1e-28 at step"), f"final rel. loss >= {g(min(rel))}" if rel else ""]
    return "; ".join(p for p in parts if p)


def _samples(figs):
    spreads = []
    for f in figs:
        rel = [v for k, v in f.items() if k.startswith("relative_loss_n") and k != "relative_loss_n100"
               and isinstance(v, float)]
        if rel:
            spreads.append(max(rel) / min(rel))
    if not spreads:
        return ""
    return f"max/min rel. loss <= {g(max(spreads))}x ({len(spreads)} runs; limit {g(SAMPLES_FACTOR)}x)"


def _kappa(figs):
    kappas = _values(figs, lambda k: k.startswith("kappa_seed"))
    return _range(kappas, "kappa(A)") + f" over {len(kappas)} seeds" if kappas else ""


def _slow(figs):
    steps = _values(figs, lambda k: k.startswith("steps_to_1e-12"))
    return _range(steps, "steps to rel. 1e-12") + f" ({len(steps)} seeds)" if steps else ""


def _balanced(figs):
    factors = [f["post_relative_loss"] / f["balanced_relative_loss"] for f in figs
               if f.get("post_relative_loss") and f.get("balanced_relative_loss")]
    factors += _values(figs, lambda k: k == "min_factor")
    drift = _values(figs, lambda k: k in ("imbalance_drift", "max_imbalance_drift"))
    parts = [f"loss ratio >= {g(min(factors))}x" if factors else "",
             f"imbalance drift <= {max(drift):.0%}" if drift else ""]
    return "; ".join(p for p in parts if p)


def _lm_floor(figs):
    floor = _values(figs, lambda k: k == "post_metric_floor")
    sane = _values(figs, lambda k: k == "sane_relative_loss")
    parts = [f"post's floor {g(min(floor))}" if floor else "", f"sane solve {g(max(sane))}" if sane else ""]
    return "; ".join(p for p in parts if p)


def _second_order(figs):
    counts = {k[: -len(" successes")]: v for f in figs for k, v in f.items() if k.endswith(" successes")}
    if not counts:
        return ""
    worst = min(counts, key=counts.get)
    return f"{sum(v == 20 for v in counts.values())}/{len(counts)} methods 20/20; {worst} {counts[worst]}/20"


def _float32(figs):
    floors = _values(figs, lambda k: k.endswith("float32_floor") and not k.startswith(("gd[", "adam[")))
    return _range(floors, "second-order float32 floors") if floors else ""


@dataclass(frozen=True)
class ClaimLine:
    """One row of the README's claims table and the benchmarks that check it."""

    number: int
    key: str  #: the key of the :class:`linnet.claims.Claim` its check returns
    name: str  #: what linnet checks, short enough for the 80-column line
    tests: tuple  #: benchmark function names
    numbers: Callable[[list], str]  #: deciding numbers from the benchmarks' figures


CLAIMS = (
    ClaimLine(1, "plateau", "GD and Adam above 1e-6 after 3000 steps",
              ("test_plateau", "test_plateau_on_conditioned_family"), _plateau),
    ClaimLine(2, "gauss-newton", "Gauss-Newton reaches machine precision",
              ("test_gauss_newton_reaches_machine_precision", "test_claims_hold_on_conditioned_family"),
              _gauss_newton),
    ClaimLine(3, "samples", "more samples don't help",
              ("test_samples_dont_help", "test_samples_dont_help_on_conditioned_family",
               "test_samples_dont_help_tensorflow"), _samples),
    ClaimLine(4, "post-kappa", "post's A is not kappa 1e5 (below 100)", ("test_post_kappa",), _kappa),
    ClaimLine(5, "slow-not-stuck", "GD is slow, not stuck",
              ("test_slow_not_stuck_quick", "test_slow_not_stuck_all_seeds"), _slow),
    ClaimLine(6, "balanced", "the plateau is the imbalance",
              ("test_balanced_initialisation", "test_balanced_initialisation_all_seeds"), _balanced),
    ClaimLine(7, "lm-floor", "the post's LM floor is its solver's",
              ("test_post_lm_floor_is_an_artefact", "test_post_faithful_floor"), _lm_floor),
    ClaimLine(8, "second-order", "second-order methods, 20 seeds",
              ("test_second_order_compared",), _second_order),
    ClaimLine(9, "float32", "float32 floors near its epsilon", ("test_float32_floors",), _float32),
)


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
    lines = list(CLAIMS)
    listed = {c.key for c in CLAIMS}
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
        out.append({"number": c.number, "key": c.key, "name": c.name, "verdict": verdict,
                    "numbers": c.numbers(figures) if ran else "", "ran": len(ran), "failed": failed})
    return out


def format_verdicts(verdicts: list[dict], width: int = WIDTH) -> list[str]:
    """The terminal lines, at most ``width`` columns: ``  N  verdict  name``, then the deciding
    numbers under the name (on the same line where they fit)."""
    verdict_w = max(len(v["verdict"]) for v in verdicts)
    indent = 3 + 2 + verdict_w + 2
    lines = []
    for v in verdicts:
        head = f"{v['number'] or '-':>3}  {v['verdict']:<{verdict_w}}  {v['name']}"
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
        output_json[JSON_KEY] = verdicts


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    verdicts = verdicts_of(config)
    if not verdicts:
        return
    tr = terminalreporter
    tr.write_sep("=", "linnet claims verdict", bold=True)
    for line in format_verdicts(verdicts, min(WIDTH, max(tr._tw.fullwidth, 60))):
        tr.write_line(line)
