r"""The ``sweep`` command (registered with the CLI by :func:`register`); ``plot``, which draws a
sweep's table, is in :mod:`linnet.reports.figures.command`.

    python -m linnet sweep --seeds 0-19 --kappa 1,1e2,1e4 --family conditioned \
        --optimizer 'gd[lr=1e-5]' --optimizer lm --steps 3000 --out DIR
    python -m linnet sweep --grid grid.toml --out DIR --scheduler local --workers 2
    python -m linnet plot DIR --x kappa --y steps_to_1e-12 --hue optimizer
    python -m linnet plot DIR --profile --target 1e-10
"""

from __future__ import annotations

import json
import signal
import sys

from linnet.core import files
from linnet.core.arguments import add_progress_options, shows_progress
from linnet.core.errors import LinnetError

SWEEP_EXAMPLES = """\
examples:
  python -m linnet sweep --seeds 0-19 --optimizer 'gd[lr=1e-5]' --optimizer lm --steps 3000 --out runs/a
  python -m linnet sweep --family conditioned --kappa 1,1e2,1e4 --seeds 0-4 --optimizer lm --steps 200 --out runs/b
  python -m linnet sweep --grid grid.toml --out runs/c --scheduler local --workers 2
  python -m linnet sweep --grid grid.toml --out runs/c --scheduler tcp://10.0.0.5:8786

Values are comma-separated lists; integer keys take ranges (0-19); widths are joined by x (6x6).
A grid file (TOML) holds the same keys. Re-running into the same --out runs only the members
without a row.
"""

#: command-line options that set grid keys: (flag or flags, grid key, help)
GRID_OPTIONS = (
    (("--family", "--problem"), "family", "problem family: post, conditioned (default: conditioned where "
                                          "--kappa is given, else post)"),
    ("--seeds", "seed", "RandomState seeds, e.g. 0-19"),
    ("--kappa", "kappa", "condition numbers (conditioned family)"),
    ("--cond", "cond", "the post's last-row scale (post family)"),
    ("--nsamples", "nsamples", "sample counts (0 = the expected loss)"),
    ("--xdim", "xdim", None), ("--wdim", "wdim", None), ("--ydim", "ydim", None),
    ("--rank", "rank", "rank of A (conditioned family)"),
    ("--depth", "depth", "number of layers"),
    ("--widths", "widths", "layer widths, e.g. 6x6,8x8"),
    ("--init", "init", "initialisations: gaussian, small, balanced"),
    ("--dtype", "dtype", "float64, float32"),
)


def grid_from_args(args):
    """The grid of the parsed options: the --grid file, then the options on top of it."""
    from linnet.sweeps.grid import Grid
    from linnet.sweeps.parse import parse_values, read_grid_file

    base = read_grid_file(args.grid) if args.grid else None
    problem = dict(base.problem) if base else {}
    for _, key, _ in GRID_OPTIONS:
        text = getattr(args, key)
        if text is not None:
            problem[key] = parse_values(key, text)
    optimizers = args.optimizer or (list(base.optimizers) if base else [])
    if not optimizers:
        raise LinnetError("give at least one --optimizer (or a grid file with optimizer = [...])")
    steps = args.steps if args.steps is not None else (base.steps if base else 3000)
    target = args.target if args.target is not None else (base.target if base else None)
    return Grid(problem, tuple(optimizers), steps, target)


def _terminate(signum, frame):
    raise KeyboardInterrupt


def cmd_sweep(args) -> int:
    from linnet.sweeps.driver import run_sweep
    from linnet.sweeps.executors import make_executor

    grid = grid_from_args(args)
    files.check_folder(args.out)  # a bad --out fails before any worker starts
    executor = make_executor(args.scheduler, args.workers, args.processes)
    signal.signal(signal.SIGTERM, _terminate)  # a terminated driver stops as after Ctrl-C
    try:
        summary = run_sweep(grid, args.out, executor=executor, histories=args.histories, force=args.force,
                            task_size=args.task_size,
                            progress=shows_progress(args))
    except KeyboardInterrupt:
        print(f"linnet: interrupted; finished tasks are in {args.out}; run the same command again to resume",
              file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps({k: summary[k] for k in ("members", "ran", "skipped", "failed", "seconds", "out")}))
    else:
        lost = f", {summary['lost']} lost (re-run to resume)" if summary["lost"] else ""
        print(f"{summary['members']} members: {summary['ran']} ran, {summary['skipped']} skipped (already done), "
              f"{summary['failed']} failed{lost} in {summary['seconds']:.1f} s; table in {summary['out']}")
    return 0


def register(subparsers) -> None:
    """Add ``sweep`` to the CLI."""
    import argparse

    p = subparsers.add_parser("sweep", help="run a grid of problems x optimizers into one table",
                              description="Run every member of a grid (problem parameters x optimizer specs) "
                                          "and append one row per member to a Parquet table under --out.",
                              formatter_class=argparse.RawDescriptionHelpFormatter, epilog=SWEEP_EXAMPLES)
    p.add_argument("--grid", metavar="FILE", help="a TOML grid file (options given here override its keys)")
    for flags, key, text in GRID_OPTIONS:
        p.add_argument(*((flags,) if isinstance(flags, str) else flags), dest=key, metavar="VALUES", help=text)
    p.add_argument("--optimizer", action="append", metavar="SPEC", help="optimizer spec; repeat for several")
    p.add_argument("--steps", type=int, default=None, help="most updates per member (default: 3000)")
    p.add_argument("--target", type=float, default=None, help="stop each member at this relative loss")
    p.add_argument("--out", required=True, metavar="DIR", help="the sweep's folder")
    p.add_argument("--histories", action="store_true", help="also store each member's loss history")
    p.add_argument("--force", action="store_true", help="replace a different sweep in --out")
    p.add_argument("--processes", action="store_true", help="run tasks in a pool of local processes")
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask.distributed scheduler address, or 'local'")
    p.add_argument("--workers", type=int, default=None, help="processes (--processes, --scheduler local)")
    p.add_argument("--task-size", type=int, default=None, help="members per task (default: ~1 s of work)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    add_progress_options(p)
    p.set_defaults(handler=cmd_sweep)
