"""Print the figures that differ between two gate runs' ``--linnet-figures`` files.

    python .ci/figures_drift.py FIRST.json SECOND.json

Both runs passed the gate, so every figure lies within its tolerance of the baseline; this lists
what moved all the same (linnet.testing.gate.drift), with both values and the relative change, so
that a figure that varies between runs (one BLAS thread against the default, or two CI runs) is
seen and its spread known. Informational: the exit status is 0 unless a file cannot be read.
"""

from __future__ import annotations

import sys

from linnet.core.errors import LinnetError
from linnet.testing import gate


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python .ci/figures_drift.py FIRST.json SECOND.json", file=sys.stderr)
        return 2
    try:
        first, second = (gate.load(path) for path in argv)
    except LinnetError as err:
        print(f"figures_drift.py: {err}", file=sys.stderr)
        return 2
    lines = gate.drift(first, second)
    figures = sum(len(entry) for entry in first.values())
    print(f"{len(lines)} of {figures} figures in {len(first)} benchmarks differ between {argv[0]} and {argv[1]}")
    for line in lines:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
