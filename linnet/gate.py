"""Regression gate: machine-independent figures of the benchmarks against a committed baseline.

pytest-benchmark compares times, not ``extra_info``. Each benchmark stores its figures (final
losses at fixed steps, steps to targets, divergence, kappa) in ``extra_info["figures"]`` through
:func:`linnet.benchmarking.record`; the pytest plugin in ``benchmarks/conftest.py`` compares them
with the baseline file (``--linnet-baseline PATH``) and fails the benchmark that moved, naming the
figure, the old and the new value. ``--linnet-update-baseline`` rewrites the file from the run.

Tolerances (figures are deterministic for a seed on one machine; across machines, BLAS
round-off is amplified along 3000-step trajectories, so exact equality is not asked):

* booleans and strings: equal;
* integers (steps, divergence steps): within max(INT_ABS, INT_REL * |old|);
* floats: within FLOAT_REL relative; two values both below ROUNDOFF in magnitude are both
  "at round-off" (e.g. relative losses of 1e-29 and 3e-30) and count as equal;
* figures named ``*floor*`` (where a run stalls on rounding noise: the post's LM floor, float32
  floors) are the size of rounding errors, not a trajectory: within FLOOR_DECADES powers of ten.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from linnet import files
from linnet.errors import LinnetError

INT_ABS = 2
INT_REL = 0.02
FLOAT_REL = 1e-4
ROUNDOFF = 1e-18
FLOOR_DECADES = 1.0

FORMAT = "linnet-baseline-1"


def compare_figure(name: str, old, new) -> str | None:
    """None when ``new`` matches ``old`` within the tolerance, else a one-line description."""
    if isinstance(old, bool) or isinstance(new, bool) or old is None or new is None \
            or isinstance(old, str) or isinstance(new, str):
        same = old == new
    elif isinstance(old, int) and isinstance(new, int):
        same = abs(new - old) <= max(INT_ABS, INT_REL * abs(old))
    else:
        old, new = float(old), float(new)
        if abs(old) < ROUNDOFF and abs(new) < ROUNDOFF:
            same = True
        elif "floor" in name and old > 0 and new > 0:
            same = abs(math.log10(new / old)) <= FLOOR_DECADES
        else:
            same = math.isclose(old, new, rel_tol=FLOAT_REL)
    return None if same else f"{name}: baseline {old!r}, now {new!r}"


def compare(benchmark: str, baseline: dict, figures: dict) -> list[str]:
    """Lines naming each figure of ``benchmark`` that moved beyond tolerance (or disappeared)."""
    problems = []
    for name, old in baseline.items():
        if name not in figures:
            problems.append(f"{benchmark}: figure {name} is no longer recorded (baseline {old!r})")
            continue
        moved = compare_figure(name, old, figures[name])
        if moved:
            problems.append(f"{benchmark}: {moved}")
    return problems


def load(path) -> dict:
    """{benchmark name: {figure: value}} from a baseline file; LinnetError naming a bad file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise LinnetError(f"{path}: baseline file not found (create it with --linnet-update-baseline)") \
            from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise LinnetError(f"{path}: not a linnet baseline ({err})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("figures"), dict):
        raise LinnetError(f"{path}: not a linnet baseline (expected format {FORMAT!r})")
    return data["figures"]


def save(path, figures: dict, merge: bool = True) -> None:
    """Write the baseline atomically (linnet.files); merge into an existing one."""
    path = Path(path)
    current = load(path) if merge and path.exists() else {}
    current.update(figures)
    text = json.dumps({"format": FORMAT,
                       "tolerances": {"int_abs": INT_ABS, "int_rel": INT_REL, "float_rel": FLOAT_REL,
                                      "roundoff": ROUNDOFF, "floor_decades": FLOOR_DECADES},
                       "figures": dict(sorted(current.items()))}, indent=1)
    files.write_text(path, text + "\n", force=True)
