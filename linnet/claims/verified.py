"""The recorded verdicts: every claim on the development seeds and on its held-out seeds.

``verified.json`` (next to this module) holds, per claim id, the :meth:`Verdict.to_dict
<linnet.claims.population.Verdict.to_dict>` of ``linnet claims --seeds 0-19`` (``development``)
and of ``linnet claims`` on the held-out block (``held_out``). The README's and docs/claims.md's
tables are generated from it (:func:`linnet.reports.claims.table`), and CI re-runs the held-out
verification and fails on a verdict opposite to the recorded one (``linnet claims --check``).

To record again after a claim's statement changes (never to make a verdict pass)::

    linnet claims --seeds 0-19 --out dev.json
    linnet claims --out held-out.json
    python -m linnet.reports.claims record dev.json held-out.json
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

#: the recorded file's name, in this package
FILE = "verified.json"
BLOCKS = ("development", "held_out")


@cache
def recorded() -> dict:
    """{claim id: {"development": verdict dict, "held_out": verdict dict}} ({} before any record)."""
    path = resources.files("linnet.claims").joinpath(FILE)
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def opposite(first: str, second: str) -> bool:
    """Whether two verdicts contradict each other: one ``holds``, the other ``does not hold``
    (``inconclusive`` contradicts neither).

    >>> opposite("holds", "does not hold"), opposite("holds", "inconclusive")
    (True, False)
    """
    return {first, second} == {"holds", "does not hold"}
