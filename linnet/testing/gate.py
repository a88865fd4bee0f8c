"""Regression gate: the benchmarks' machine-independent figures against a committed baseline.

pytest-benchmark compares times, not ``extra_info``. Each benchmark records its figures (final
losses at fixed steps, steps to targets, divergence, kappa), each with its declared tolerance
(:mod:`linnet.testing.tolerance`), through :func:`linnet.testing.benchmarking.store`. The pytest plugin
(:mod:`linnet.testing.plugin`) compares them with the baseline file and fails

* a benchmark whose figure moved beyond its tolerance, disappeared, appeared, or changed tolerance;
* a benchmark that records no figure and does not say why;
* a collected benchmark with no baseline entry (unless the run adds it: below);
* a baseline entry whose benchmark no longer exists (its file was collected and it was neither
  collected nor deselected, or its file is gone);

each with a line naming it and the command that regenerates the baseline (:data:`REGENERATE`).
The baseline is written whole from one complete run (:func:`save`), or, for benchmarks it has no
entry for (a new benchmark file), extended by a passing run with ``--linnet-add-to-baseline``:
the new entries are added and every existing one is compared as usual, never rewritten. A user's
optimizer (``--linnet-optimizer``) has no entry and gets none: its figures are reported only.

A run can also write its own figures in the baseline's format (``--linnet-figures PATH``), and
:func:`drift` lists what differs between two such files: the figures that moved within their
tolerance between two passing runs (two CI runs, or one BLAS thread against the default).
"""

from __future__ import annotations

import json
from pathlib import Path

from linnet.core import files
from linnet.core.errors import LinnetError
from linnet.testing.tolerance import Tolerance
from linnet.testing.tolerance import compare as compare_value

FORMAT = "linnet-baseline-2"

#: the one command that regenerates benchmarks/baseline.json (the whole suite, slow and expensive ones included)
REGENERATE = "python -m pytest benchmarks --benchmark-disable --linnet-expensive --linnet-update-baseline"


def entry(figures: dict, tolerances: dict) -> dict:
    """One benchmark's baseline entry, {figure: {"value": v, "tolerance": {...}}}."""
    return {name: {"value": value, "tolerance": tolerances[name]} for name, value in sorted(figures.items())}


def compare(benchmark: str, baseline: dict, figures: dict, tolerances: dict) -> list[str]:
    """Lines naming each figure of ``benchmark`` that moved, disappeared, appeared or changed tolerance.

    ``baseline`` is the benchmark's entry (:func:`entry`); ``figures`` and ``tolerances`` are this
    run's ``extra_info["figures"]`` and ``extra_info["tolerances"]``.
    """
    problems = []
    for name, stored in baseline.items():
        if name not in figures:
            problems.append(f"{benchmark}: figure {name} is no longer recorded (baseline {stored['value']!r})")
            continue
        if tolerances.get(name) != stored["tolerance"]:
            problems.append(f"{benchmark}: figure {name} changed tolerance: baseline {stored['tolerance']}, "
                            f"now {tolerances.get(name)}")
            continue
        moved = compare_value(name, stored["value"], figures[name], Tolerance.from_dict(stored["tolerance"]))
        if moved:
            problems.append(f"{benchmark}: {moved}")
    for name in figures:
        if name not in baseline:
            problems.append(f"{benchmark}: figure {name} = {figures[name]!r} is not in the baseline")
    return problems


def coverage(baseline: set, collected: set, deselected: set, root: Path, partial: set = frozenset()) -> list[str]:
    """Baseline entries (node ids, ``path::name``) whose benchmark no longer exists.

    An entry is stale when its file is gone, or when its file was collected (some item of it was
    collected or deselected, and no argument picked single tests of it: ``partial``) but the entry
    was neither collected nor deselected. Entries of files outside the selection are not judged.
    """
    seen = collected | deselected
    seen_files = {node.split("::", 1)[0] for node in seen}
    stale = []
    for node in sorted(baseline - seen):
        path = node.split("::", 1)[0]
        if not (root / path).exists() or (path in seen_files and path not in partial):
            stale.append(node)
    return stale


def load(path) -> dict:
    """{node id: entry} from a baseline file; LinnetError naming a bad or old-format file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise LinnetError(f"{path}: baseline file not found (create it with: {REGENERATE})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise LinnetError(f"{path}: not a linnet baseline ({err})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("benchmarks"), dict):
        raise LinnetError(f"{path}: not a linnet baseline (expected format {FORMAT!r}; regenerate: {REGENERATE})")
    return data["benchmarks"]


def save(path, benchmarks: dict) -> None:
    """Write the whole baseline atomically (linnet.core.files): exactly these entries, nothing kept."""
    text = json.dumps({"format": FORMAT, "regenerate": REGENERATE,
                       "benchmarks": dict(sorted(benchmarks.items()))}, indent=1)
    files.write_text(Path(path), text + "\n", force=True)


def drift(first: dict, second: dict) -> list[str]:
    """Lines naming each figure whose value is not identical in two runs' figures.

    ``first`` and ``second`` are ``{node id: entry}`` (:func:`load` of two files that
    ``--linnet-figures`` wrote, or a baseline). Each line gives both values, the relative change
    and whether the change lies within the figure's tolerance (:mod:`linnet.testing.tolerance`);
    benchmarks or figures in only one of the two are named too. An empty list: identical figures.
    """
    lines = []
    for node in sorted(set(first) | set(second)):
        if node not in first or node not in second:
            lines.append(f"{node}: only in the {'second' if node not in first else 'first'} run")
            continue
        a, b = first[node], second[node]
        for name in sorted(set(a) | set(b)):
            if name not in a or name not in b:
                lines.append(f"{node}: figure {name} only in the {'second' if name not in a else 'first'} run")
                continue
            x, y = a[name]["value"], b[name]["value"]
            if x == y or (x != x and y != y):  # NaN equals NaN here: the same figure
                continue
            change = ""
            if isinstance(x, (int, float)) and isinstance(y, (int, float)) and x != 0:
                change = f" ({(y - x) / abs(x):+.2e} relative)"
            beyond = compare_value(name, x, y, Tolerance.from_dict(a[name]["tolerance"]))
            verdict = "BEYOND its tolerance" if beyond else "within its tolerance"
            lines.append(f"{node}: {name} {x!r} -> {y!r}{change}, {verdict}")
    return lines
