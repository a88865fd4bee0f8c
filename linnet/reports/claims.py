"""``linnet claims``: decide any registered claim on any block of seeds, and the claims tables.

    linnet claims --list                          # the registry: id, README row, statement, source
    linnet claims                                 # every claim on its held-out seeds
    linnet claims --claim deep.narrow --seeds 2000-2099 --json
    linnet claims --seeds 0-19 --processes        # the development seeds, on a local process pool
    linnet claims --check                         # fail (exit 1) on a verdict opposite to the recorded one

Each claim's per-seed measure runs in chunks of seeds through a sweep executor (in-process, a
process pool or dask.distributed: :mod:`linnet.sweeps.executors`), all claims' chunks in one
queue so the workers stay busy. ``--json`` prints a list of objects with ``id``, ``verdict``,
``estimate``, ``interval``, ``threshold``, ``seeds`` (how many), ``seed_range``, ``method`` and
``statement``. :func:`table` renders the recorded development and held-out verdicts
(:mod:`linnet.claims.verified`) as the Markdown table of the README and docs/claims.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

from linnet.claims.population import Verdict, chunks, decide_rows
from linnet.claims.registry import BY_ID, REGISTRY, ClaimEntry
from linnet.claims.seeds import DEVELOPMENT, HELD_OUT
from linnet.claims.verified import BLOCKS, recorded
from linnet.claims.verified import opposite as contradicts
from linnet.core import files
from linnet.core.arguments import add_progress_options, shows_progress
from linnet.core.errors import LinnetError
from linnet.core.text import g

EXAMPLES = __doc__.split("\n\n")[1]
#: the exit status of ``--check`` when a verdict contradicts the recorded one
EXIT_CONTRADICTED = 1
#: the most seeds one ``--seeds`` range may name
MAX_SEEDS = 100_000


def parse_seeds(text: str) -> range:
    """``A-B`` (inclusive, 0 <= A <= B) or one seed ``A``; LinnetError otherwise.

    >>> parse_seeds("1000-1099"), parse_seeds("7")
    (range(1000, 1100), range(7, 8))
    """
    m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+))?\s*", text)
    if not m:
        raise LinnetError(f"--seeds must be A-B or A with 0 <= A <= B, got {text!r}")
    low = int(m.group(1))
    high = int(m.group(2)) if m.group(2) is not None else low
    if high < low:
        raise LinnetError(f"--seeds {text}: the range is empty ({high} < {low})")
    if high - low + 1 > MAX_SEEDS:
        raise LinnetError(f"--seeds {text}: at most {MAX_SEEDS} seeds")
    if high >= 2**32:
        raise LinnetError(f"--seeds {text}: seeds must be below 2**32")
    return range(low, high + 1)


def seeds_of(entry: ClaimEntry, seeds: range | None) -> range:
    """The seeds a claim runs on: ``seeds`` if given, else the first ``held_out`` of HELD_OUT."""
    if seeds is not None:
        return seeds
    return HELD_OUT[: entry.population.held_out]


def _measure(measure, chunk):
    return measure(chunk)


def verify_all(entries, seeds: range | None = None, executor=None, progress: bool = False) -> list[Verdict]:
    """Every entry's population decided on its seeds, all chunks in one queue on ``executor``
    (default in-process), with a progress bar over chunks."""
    from linnet.sweeps.executors import InProcess, LostTask

    executor = executor or InProcess()
    tasks, owners = [], []
    for entry in entries:
        for chunk in chunks(seeds_of(entry, seeds), entry.population.chunk):
            tasks.append((entry.population.measure, chunk))
            owners.append(entry.id)
    rows: dict[int, list[dict]] = {}
    bar = _bar(len(tasks), progress)
    try:
        for i, result in executor.imap(_measure, tasks):
            if isinstance(result, LostTask):
                raise LinnetError(f"the {owners[i]} task for seeds {tasks[i][1][0]}-{tasks[i][1][-1]} was lost: "
                                  f"{result.reason}")
            rows[i] = [dict(r, seed=s) for s, r in zip(tasks[i][1], result, strict=True)]
            if bar is not None:
                bar.set_postfix_str(owners[i], refresh=False)
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    out = []
    for entry in entries:
        mine = [r for i in sorted(rows) if owners[i] == entry.id for r in rows[i]]
        out.append(decide_rows(entry.id, entry.population, mine))
    return out


def _bar(total: int, shown: bool):
    if not shown:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="claims", unit="chunk", file=sys.stderr)


def line(verdict: Verdict) -> str:
    """One verdict as a line: id, verdict, estimate [interval] against the threshold, seeds."""
    e = verdict.estimate
    return (f"{verdict.id:22s} {verdict.verdict:14s} {_estimate(e)} ({e.method}; claimed {verdict.threshold}) "
            f"on {len(verdict.seeds)} seeds {verdict.seed_range}")


def _estimate(e) -> str:
    return f"{g(e.value)} [{g(e.low)}, {g(e.high)}]"


def list_text() -> str:
    out = []
    for e in REGISTRY:
        p = e.population
        out.append(f"{e.id}  (README row {e.readme}; benchmarks marked claim({e.id!r}); held-out n = {p.held_out})\n"
                   f"    {p.statement}\n    source: {e.source}")
    return "\n".join(out)


def cmd_claims(args) -> int:
    if args.list:
        print(list_text())
        return 0
    ids = args.claim or [e.id for e in REGISTRY]
    unknown = [i for i in ids if i not in BY_ID]
    if unknown:
        raise LinnetError(f"unknown claim {unknown[0]!r}; see linnet claims --list ({', '.join(BY_ID)})")
    seeds = parse_seeds(args.seeds) if args.seeds is not None else None
    if args.out:
        files.check_file(args.out, args.force)
    from linnet.sweeps.executors import make_executor

    executor = make_executor(args.scheduler, args.workers, args.processes)
    try:
        verdicts = verify_all([BY_ID[i] for i in ids], seeds, executor, shows_progress(args))
    finally:
        executor.close()
    dicts = [v.to_dict(rows=args.rows) for v in verdicts]
    if args.out:
        files.write_text(args.out, json.dumps(dicts, indent=1) + "\n", force=args.force)
    print(json.dumps(dicts, indent=1) if args.json else "\n".join(line(v) for v in verdicts))
    if args.check:
        return _check(verdicts)
    return 0


def _check(verdicts) -> int:
    """Compare with the recorded held-out verdicts: a contradiction is exit 1, a change to or from
    ``inconclusive`` a warning line."""
    status = 0
    for v in verdicts:
        held = recorded().get(v.id, {}).get("held_out")
        if held is None:
            print(f"linnet: warning: {v.id} has no recorded held-out verdict", file=sys.stderr)
        elif contradicts(v.verdict, held["verdict"]):
            print(f"linnet: {v.id}: {v.verdict} here, {held['verdict']} recorded on seeds {held['seed_range']}",
                  file=sys.stderr)
            status = EXIT_CONTRADICTED
        elif v.verdict != held["verdict"]:
            print(f"linnet: warning: {v.id}: {v.verdict} here, {held['verdict']} recorded", file=sys.stderr)
    return status


def register(subparsers) -> None:
    """Add ``claims`` to the CLI."""
    p = subparsers.add_parser(
        "claims", help="decide registered claims on a block of seeds (default: the held-out block)",
        description="Decide each registered claim on a block of seeds: holds, does not hold or inconclusive, "
                    f"with its estimate and 95%% interval. Default seeds: the held-out block "
                    f"{HELD_OUT.start}-{HELD_OUT.stop - 1} (each claim's held-out n of it); the development "
                    f"seeds are {DEVELOPMENT.start}-{DEVELOPMENT.stop - 1}.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES)
    p.add_argument("--list", action="store_true", help="print the registry and exit")
    p.add_argument("--claim", action="append", metavar="ID", help="a claim id (repeatable; default: all)")
    p.add_argument("--seeds", metavar="A-B", help="the seeds, inclusive (default: the held-out block)")
    p.add_argument("--json", action="store_true", help="print a JSON list of verdicts")
    p.add_argument("--rows", action="store_true", help="with --json or --out: include the per-seed figures")
    p.add_argument("--out", metavar="FILE", help="also write the JSON list to FILE (whole or not at all)")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")
    p.add_argument("--check", action="store_true",
                   help="exit 1 if a verdict contradicts the recorded held-out one")
    p.add_argument("--processes", action="store_true", help="run chunks in a pool of local processes")
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask.distributed scheduler address, or 'local'")
    p.add_argument("--workers", type=int, default=None, help="processes (--processes, --scheduler local)")
    add_progress_options(p)
    p.set_defaults(handler=cmd_claims)


# -- the claims tables ----------------------------------------------------------------------------

TABLE_HEADER = ("| claim | statement | development (seeds 0-19) | held-out | verdict |\n"
                "|---|---|---|---|---|")


def _cell(v: dict | None) -> str:
    if v is None:
        return "not recorded"
    low, high = v["interval"]
    return f"{g(v['estimate'])} [{g(low)}, {g(high)}], n = {v['seeds']}: {v['verdict']}"


def table(records: dict | None = None) -> str:
    """The Markdown table of every registered claim's recorded verdicts: statement and threshold,
    development and held-out estimate [95% interval], the held-out verdict."""
    records = recorded() if records is None else records
    rows = [TABLE_HEADER]
    for e in REGISTRY:
        rec = records.get(e.id, {})
        held = rec.get("held_out")
        what = "tolerated failure rate" if held and held["method"] == "failure rate" else "threshold"
        threshold = f" ({what}: {held['threshold']})" if held else ""
        rows.append(f"| {e.readme} `{e.id}` | {e.population.statement}{threshold} | {_cell(rec.get('development'))} "
                    f"| {_cell(held)} | **{held['verdict'] if held else 'not recorded'}** |")
    return "\n".join(rows)


def record(development: str, held_out: str, out: str | None = None) -> str:
    """Merge the JSON lists of ``linnet claims --out`` on the development and held-out seeds into
    the recorded file's content (written to ``out`` when given)."""
    merged: dict = {}
    for block, path in zip(BLOCKS, (development, held_out), strict=True):
        with open(path, encoding="utf-8") as f:
            for v in json.load(f):
                v.pop("rows", None)
                merged.setdefault(v["id"], {})[block] = v
    text = json.dumps(merged, indent=1, sort_keys=True) + "\n"
    if out:
        files.write_text(out, text, force=True)
    return text


if __name__ == "__main__":  # python -m linnet.reports.claims record DEV HELD_OUT
    if len(sys.argv) != 4 or sys.argv[1] != "record":
        sys.exit("usage: python -m linnet.reports.claims record DEV.json HELD_OUT.json")
    from importlib import resources

    from linnet.claims.verified import FILE

    record(sys.argv[2], sys.argv[3], str(resources.files("linnet.claims").joinpath(FILE)))
