"""The post's experiment for every new optimizer, as a table (README, docs/modern.md).

The rows are the per-seed figures of the claim modern.plateau
(:func:`linnet.claims.modern.post_experiment.measure_post_experiment`) on its held-out seeds, as
``linnet claims --claim modern.plateau --rows --out FILE`` writes them; the recorded file is
docs/modern/post-experiment.json, and :func:`table` renders it:

    python -m linnet claims --claim modern.plateau --rows --processes --out docs/modern/post-experiment.json --force
    python -m linnet.reports.post_experiment docs/modern/post-experiment.json

Per optimizer: its tuned rate; the relative loss after 3000 steps (median over seeds, 95%
bootstrap interval) and on how many seeds it stays above 1e-6 (the post's plateau); the median steps
to 1e-6, 1e-12 and 1e-24 within 30000 steps with the seeds that got there ("never" where fewer
than half did); and the floor's exponent p in floor ~ lr^p (median over the seeds where at least
two rates settled, with its interval).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

import numpy as np

from linnet.claims.modern.post_experiment import REACH_TARGETS, TUNED_LR
from linnet.claims.statistics import median
from linnet.core.text import g


def _interval(values: Sequence[float]) -> str:
    e = median(values)
    return f"{g(e.value)} [{g(e.low)}, {g(e.high)}]"


def _steps(values: Sequence[int | None]) -> str:
    reached = [v for v in values if v is not None]
    if 2 * len(reached) <= len(values):
        return f"never ({len(reached)}/{len(values)})"
    m = np.median([v if v is not None else np.inf for v in values])
    return f"{m:,.0f} ({len(reached)}/{len(values)})"


def summary_rows(rows: Sequence[dict]) -> list[dict]:
    """One dict per optimizer of TUNED_LR found in ``rows``: the table's cells."""
    out = []
    for name, lr in TUNED_LR.items():
        if f"{name} plateau" not in rows[0]:
            continue
        losses = [r[f"{name} relative_loss"] for r in rows]
        finite = [v for v in losses if v is not None]
        exponents = [r[f"{name} floor_exponent"] for r in rows if r[f"{name} floor_exponent"] is not None]
        out.append({
            "optimizer": f"{name}[lr={g(lr, 6)}]",
            "relative loss after 3000": _interval(finite) if finite else "diverged",
            "plateau": f"{sum(r[f'{name} plateau'] for r in rows)}/{len(rows)}",
            **{f"steps to {t:g}": _steps([r[f"{name} steps_to_{t:g}"] for r in rows]) for t in REACH_TARGETS},
            "floor exponent": f"{_interval(exponents)} ({len(exponents)} seeds)" if exponents else "no floor",
        })
    return out


def table(rows: Sequence[dict]) -> str:
    """The Markdown table of :func:`summary_rows`."""
    cells = summary_rows(rows)
    head = list(cells[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(f"`{c[h]}`" if h == "optimizer" else str(c[h]) for h in head) + " |" for c in cells]
    return "\n".join(lines)


def load(path: str) -> list[dict]:
    """The per-seed rows of modern.plateau from a ``linnet claims --rows --out`` file."""
    with open(path, encoding="utf-8") as f:
        verdicts = json.load(f)
    (verdict,) = [v for v in verdicts if v["id"] == "modern.plateau"]
    return verdict["rows"]


if __name__ == "__main__":  # pragma: no cover - the recording step of the module docstring
    if len(sys.argv) != 2:
        sys.exit("usage: python -m linnet.reports.post_experiment FILE")
    print(table(load(sys.argv[1])))
