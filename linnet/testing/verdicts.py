"""pytest plugin: the claims verdict at the end of a benchmark run, and saved with it.

Loaded by :mod:`linnet.testing.plugin` (the ``pytest11`` entry point) once a run collects a
benchmark. After the timing tables, a run of ``pytest benchmarks`` ends with one line per
registered claim (:data:`linnet.claims.registry.REGISTRY`, at most 80 columns), led by the claim's id::

    ============================ linnet claims verdict =============================
    post.plateau         holds          GD and Adam above 1e-6 after 3000 steps
                                        min rel. loss 0.0013 (70 runs); 20 diverged
    post.kappa           holds          post's A is not kappa 1e5 (below 100)
                                        kappa(A) 11.2 to 38.7 over 20 seeds
    16 of 18 claims not run here (no benchmark of theirs was selected): post.gauss-newton,
      post.samples, ...

How a claim's verdict is decided (nothing to add to a benchmark that asserts its claim but its marker):

* a benchmark declares the claim it decides with ``@pytest.mark.claim("<id>")`` (the ids of the
  registry; ``tests/test_claims_registry.py`` checks every id has a benchmark and every marker an id);
* a benchmark that stores its checked claim, ``benchmark.extra_info["claim"] =
  claim.to_dict()`` (or :func:`report`), decides by that claim's ``holds``; any other decides by
  its outcome (they assert the claim: passed = holds, failed = does not hold);
* a claim none of whose benchmarks ran (deselected, skipped) is ``not run``, and the claims not
  run share one line at the end (after a ``-k`` selection, the line says which);
* a benchmark that verified the claim on its held-out seeds (``benchmarks/test_bench_held_out.py``)
  stores the :class:`~linnet.claims.population.Verdict` as ``extra_info["population"]``: its
  three-way verdict (holds, does not hold, inconclusive) is the claim's, and its estimate,
  interval and seeds lead the numbers, as in the README's table (unless a benchmark failed);
* the deciding numbers are read from the benchmarks' ``extra_info["figures"]``
  (:func:`linnet.testing.benchmarking.store`), the same figures the regression gate compares,
  by the entry's ``numbers`` function.

A claim that a benchmark without a ``claim`` marker stores under an unregistered key gets a line
under that key, its numbers read from its benchmarks' figures. Each benchmark's
``extra_info["claim_ids"]`` lists the ids of its markers.

A user's optimizer (``--linnet-optimizer``, :mod:`linnet.testing.user_optimizers`) gets lines of
its own, one per claim its benchmarks decide, after the claim's line and led by the same id, named
``user optimizer SPEC``; its benchmarks never count towards the built-ins' line. Its benchmarks
report their claim (:func:`settle`) instead of asserting it, so its line says what the claim's
check says of it, ``holds`` or ``does not hold`` with its numbers, and never fails the run::

    post.plateau         holds          GD and Adam above 1e-6 after 3000 steps
                                        min rel. loss 0.0013 (70 runs); 20 diverged
    post.plateau         does not hold  user optimizer momentum[lr=1e-05]
                                        min rel. loss 6.9e-32 (1 runs); 0 diverged

The verdicts are also saved in the benchmark JSON (``--benchmark-json``, ``--benchmark-autosave``)
under ``"linnet_verdicts"``, where ``linnet compare`` shows how they differ across runs.

The plugin also makes pytest-benchmark's tables narrower by default (columns median, iqr, rounds;
``--benchmark-columns`` still chooses others).
"""

from __future__ import annotations

import textwrap

import pytest

from linnet.claims.registry import BY_ID, REGISTRY, ClaimEntry
from linnet.core.text import g
from linnet.testing.benchmarking import VERDICTS_KEY
from linnet.testing.user_optimizers import USER_MARKER, user_spec

WIDTH = 80
#: pytest-benchmark columns shown unless --benchmark-columns is given
DEFAULT_COLUMNS = ["median", "iqr", "rounds"]
HOLDS, DOES_NOT_HOLD, NOT_RUN = "holds", "does not hold", "not run"
#: the marker a benchmark declares its claim with
MARKER = "claim"


def report(benchmark, claim) -> None:
    """Store a checked :class:`linnet.claims.claim.Claim` with the benchmark; its ``holds`` is the verdict."""
    benchmark.extra_info["claim"] = claim.to_dict()


def settle(benchmark, claim) -> None:
    """Store ``claim`` (:func:`report`) and fail the benchmark unless it holds; on a user's optimizer
    (``extra_info["user_optimizer"]``, set by the plugin) only store it: a claim about optimizers of
    its kind need not hold for it, and its verdict line says whether it does."""
    report(benchmark, claim)
    if not claim.holds and benchmark.extra_info.get(USER_MARKER) is None:
        raise AssertionError(f"{claim.key} does not hold: {claim.numbers}")


def claim_ids(item) -> list[str]:
    """The claim ids a collected test declares with ``@pytest.mark.claim("<id>")``."""
    return [m.args[0] for m in item.iter_markers(MARKER) if m.args]


# -- verdicts from the collected outcomes -----------------------------------------------------------

def decide(outcomes: dict) -> list[dict]:
    """Verdicts from ``{nodeid: {"outcome": passed|failed|skipped, "claims": [id, ...], "extra_info": dict,
    "optimizer": spec}}``.

    ``claims`` are the ids of the benchmark's ``claim`` markers; ``optimizer`` (absent or None for
    the built-ins' benchmarks) the spec of the user's optimizer it ran. Returns one plain dict per
    entry of :data:`~linnet.claims.registry.REGISTRY` (and per unregistered claim key an unmarked
    benchmark reported), each followed by one per user optimizer that ran its benchmarks: key (the
    id; ``"<id> <spec>"`` for a user optimizer's), label (the id), number (the README's row 1-9, 0
    for D1-D7), readme (the README's row), name, verdict (holds / does not hold / not run), numbers
    (text), ran and failed (benchmark counts), and ``user_optimizer`` (the spec) on a user's line.
    """
    lines: list[ClaimEntry | str] = list(REGISTRY)
    by_id: dict = {}  # {claim id: {user spec or None: [outcome, ...]}}
    for o in outcomes.values():
        ids = o.get("claims") or []
        key = (o.get("extra_info") or {}).get("claim", {}).get("key")
        if not ids and key:
            if key not in by_id and key not in BY_ID:
                lines.append(key)
            ids = [key]
        for i in ids:
            by_id.setdefault(i, {None: []}).setdefault(o.get("optimizer"), []).append(o)
    out = []
    for c in lines:
        cid = c.id if isinstance(c, ClaimEntry) else c
        entry = c if isinstance(c, ClaimEntry) else None
        for spec, of_spec in (by_id.get(cid) or {None: []}).items():
            if spec is None:
                out.append(_verdict(entry, cid, cid, entry.title if entry else cid, of_spec))
            else:
                out.append({**_verdict(entry, f"{cid} {spec}", cid, f"user optimizer {spec}", of_spec, spec),
                            "user_optimizer": spec})
    return out


def _verdict(entry: ClaimEntry | None, key: str, label: str, name: str, outcomes: list,
             spec: str | None = None) -> dict:
    """One verdict line from the outcomes of its benchmarks (:func:`decide`)."""
    ran = [o for o in outcomes if o["outcome"] != "skipped"]
    failed = 0
    for o in ran:
        claim = (o.get("extra_info") or {}).get("claim")
        ok = claim["holds"] if isinstance(claim, dict) and "holds" in claim else o["outcome"] == "passed"
        failed += not ok
    held_out = [p for o in ran if isinstance(p := (o.get("extra_info") or {}).get("population"), dict)]
    verdict = NOT_RUN if not ran else DOES_NOT_HOLD if failed else held_out[0]["verdict"] if held_out else HOLDS
    figures = [(o.get("extra_info") or {}).get("figures") or {} for o in ran]
    numbers = ((entry.numbers(figures) if entry else "") or figure_numbers(figures, spec)) if ran else ""
    if held_out:
        numbers = "; ".join(x for x in (population_numbers(held_out[0]), numbers) if x)
    return {"number": entry.number if entry else 0, "readme": entry.readme if entry else "", "label": label,
            "key": key, "name": name, "verdict": verdict, "numbers": numbers, "ran": len(ran), "failed": failed,
            **({"held_out": held_out[0]} if held_out else {})}


def figure_numbers(figures: list[dict], spec: str | None = None) -> str:
    """The numbers of a line whose claim has no numbers function of its own (an unregistered key), or
    whose function finds none of its figures: each figure's value or range over the benchmarks, in
    the order they stored them, with ``spec`` (a user optimizer's) left out of the names."""
    values: dict = {}
    for f in figures:
        for name, value in f.items():
            if value is not None:
                values.setdefault(name.replace(f"{spec} ", "") if spec else name, []).append(value)
    parts = []
    for name, vs in values.items():
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vs):
            lo, hi = min(vs), max(vs)
            parts.append(f"{name} {g(lo)}" if lo == hi else f"{name} {g(lo)} to {g(hi)}")
        else:
            parts.append(f"{name} {', '.join(dict.fromkeys(g(v) if isinstance(v, bool) else str(v) for v in vs))}")
    return "; ".join(parts)


def population_numbers(v: dict) -> str:
    """A held-out verdict's numbers as the README's table shows them: estimate [interval], n, seeds."""
    low, high = v["interval"]
    return f"held-out {g(v['estimate'])} [{g(low)}, {g(high)}], n = {v['seeds']} ({v['seed_range']})"


def format_verdicts(verdicts: list[dict], width: int = WIDTH) -> list[str]:
    """The terminal lines, at most ``width`` columns: ``id  verdict  name``, then the deciding
    numbers under the name (on the same line where they fit)."""
    ran = [v for v in verdicts if v["verdict"] != NOT_RUN]
    claims = [v for v in verdicts if "user_optimizer" not in v]
    not_run = [v["label"] for v in claims if v["verdict"] == NOT_RUN]
    lines = []
    verdict_w = max(len(v["verdict"]) for v in verdicts)
    label_w = max(len(v["label"]) for v in verdicts)
    indent = label_w + 2 + verdict_w + 2
    for v in ran:
        # a user optimizer's spec may be long: wrapped at spaces only, never inside a spec or an id
        name, *more = textwrap.wrap(v["name"], width - indent, break_long_words=False, break_on_hyphens=False) or [""]
        head = f"{v['label']:<{label_w}}  {v['verdict']:<{verdict_w}}  {name}"
        failed = f"does not hold in {v['failed']} of {v['ran']} benchmarks" if "user_optimizer" in v \
            else f"{v['failed']} of {v['ran']} failed"
        numbers = (v["numbers"] + (f" [{failed}]" if v["failed"] else "")).strip()
        if numbers and not more and len(head) + 2 + len(numbers) <= width:
            lines.append(f"{head}  {numbers}")
            continue
        lines.append(head)
        lines += [" " * indent + w for w in more + textwrap.wrap(numbers, width - indent)]
    if not_run:
        lines += textwrap.wrap(f"{len(not_run)} of {len(claims)} claims not run here (no benchmark of theirs "
                               f"was selected): {', '.join(not_run)}", width, subsequent_indent="  ",
                               break_long_words=False, break_on_hyphens=False)
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
    ids = claim_ids(item)
    if ids and call.when == "call":
        bench.extra_info["claim_ids"] = ids
    entry = state.outcomes.setdefault(rep.nodeid, {"outcome": "passed", "claims": ids, "extra_info": {},
                                                   "optimizer": user_spec(item)})
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
