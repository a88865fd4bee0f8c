"""``linnet leaderboard``: every registered optimizer, tuned by one protocol, ranked on held-out seeds.

    linnet leaderboard --processes 2                   # the table on the terminal
    linnet leaderboard --out docs/leaderboard --force  # leaderboard.json, profile.png and steps.png
    linnet leaderboard --optimizers gd adam lm --json  # these three only, as JSON
    linnet leaderboard --seeds 1000-1004 --development 0-4 --grid 1e-4,1e-3,1e-2 --steps 3000   # a quick look

Each optimizer's ``lr``, where it has one, is tuned on every setting of the family by the report
card's protocol (:mod:`linnet.sweeps.tuning`) on the development seeds (default 0-19); the held-out
seeds (default 1000-1019, 20 per setting) then run at the tuned step. Bad input (an unknown
optimizer, one named twice, a bad seed range or grid, an existing output without --force) is one
line on stderr and exit status 2, before any run. ``--out DIR`` writes every file whole or not at all.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from linnet.claims.seeds import DEVELOPMENT
from linnet.core.arguments import add_progress_options, integer, shows_progress
from linnet.core.errors import LinnetError
from linnet.reports.card.command import parse_grid
from linnet.reports.claims import parse_seeds
from linnet.reports.leaderboard.board import leaderboard
from linnet.reports.leaderboard.entrants import entrants
from linnet.reports.leaderboard.family import HELD_OUT_SEEDS, STEPS
from linnet.reports.leaderboard.table import text
from linnet.sweeps.tuning import LR_GRID

EXAMPLES = __doc__.split("\n\n")[1]
#: the figures ``--out`` writes (names of linnet.reports.figures.leaderboard.draw)
FIGURES = ("profile", "steps")


def paths(out: Path | str) -> dict[str, Path]:
    """{name: path} of every file ``--out`` writes."""
    out = Path(out)
    return {"leaderboard.json": out / "leaderboard.json", **{f"{name}.png": out / f"{name}.png" for name in FIGURES}}


def write(board, out: Path | str, *, force: bool = False) -> list[Path]:
    """Write the leaderboard's JSON and figures into ``out``, each file whole or not at all; every
    figure is drawn before any file is written. Returns the paths written."""
    from linnet.core import files
    from linnet.reports.figures import leaderboard as figures
    from linnet.reports.figures.style import save

    named = paths(out)
    files.check_folder(out)
    files.check_writable(named.values(), force)
    drawn = figures.draw(board)
    data = json.dumps(board.to_dict(), indent=1, allow_nan=False) + "\n"
    files.make_folder(out)
    written = [save(fig, named[f"{name}.png"], force=force) for name, fig in drawn.items()]
    written.append(files.write_text(named["leaderboard.json"], data, force=force))
    return written


def _processes(text: str) -> int:
    """``--processes N``: a positive integer (``--processes`` alone is one per core)."""
    n = integer(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number of processes, got {text!r}")
    return n


def cmd_leaderboard(args) -> int:
    entrants(args.optimizers)  # a bad spec is refused before anything else
    held_out = parse_seeds(args.seeds) if args.seeds is not None else HELD_OUT_SEEDS
    development = parse_seeds(args.development) if args.development is not None else DEVELOPMENT
    if set(held_out) & set(development):
        raise LinnetError(f"the held-out seeds {held_out.start}-{held_out.stop - 1} must not overlap the development "
                          f"seeds {development.start}-{development.stop - 1}, which tune the step size")
    grid = parse_grid(args.grid) if args.grid is not None else LR_GRID
    if args.steps < 1:
        raise LinnetError(f"--steps must be a positive integer, got {args.steps}")
    if args.processes is not None and args.scheduler is not None:
        raise LinnetError("give --processes (a local pool) or --scheduler (dask), not both")
    if args.out:
        from linnet.core import files

        files.check_folder(args.out)
        files.check_writable(paths(args.out).values(), args.force)
    from linnet.sweeps.executors import make_executor

    executor = make_executor(args.scheduler, args.processes or None, args.processes is not None)
    try:
        board = leaderboard(args.optimizers, held_out=held_out, development=development, grid=grid, steps=args.steps,
                            executor=executor, progress=shows_progress(args))
    finally:
        executor.close()
    if args.out:
        write(board, args.out, force=args.force)
    data = board.to_dict()
    print(json.dumps(data, indent=1, allow_nan=False) if args.json else text(data))
    return 0


def register(subparsers) -> None:
    """Add ``leaderboard`` to the CLI."""
    p = subparsers.add_parser(
        "leaderboard", help="every optimizer, tuned by one protocol, ranked on held-out seeds",
        description="Tune every registered optimizer's step size by the report card's protocol on the problem "
                    "family (the post's problem, kappa 1 to 1e6, depth 2 to 6, hidden width rank and 4 x rank) on "
                    f"the development seeds {DEVELOPMENT.start}-{DEVELOPMENT.stop - 1}, run it on held-out seeds and "
                    "rank the optimizers by the steps to relative 1e-6, 1e-12 and 1e-24, with a performance profile "
                    "in steps and in seconds.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES)
    p.add_argument("--optimizers", nargs="+", metavar="SPEC",
                   help="the optimizers to enter (default: every registered one but the adapters); a bare name is "
                        "its documented example configuration, and lr may be left out (it is tuned)")
    p.add_argument("--seeds", metavar="A-B",
                   help=f"the held-out seeds of every setting, inclusive (default: {HELD_OUT_SEEDS.start}-"
                        f"{HELD_OUT_SEEDS.stop - 1})")
    p.add_argument("--development", metavar="A-B",
                   help=f"the seeds that tune the step size (default: {DEVELOPMENT.start}-{DEVELOPMENT.stop - 1})")
    p.add_argument("--grid", metavar="LR,LR,...", help="the step sizes tuned over (default: 1e-8 to 1 in half decades)")
    p.add_argument("--steps", type=integer, default=STEPS,
                   help=f"the held-out budget per run, stopped early at relative 1e-24 (default: {STEPS})")
    p.add_argument("--json", action="store_true", help="print the leaderboard as JSON")
    p.add_argument("--out", metavar="DIR", help="write leaderboard.json, profile.png and steps.png into DIR")
    p.add_argument("--force", action="store_true", help="replace existing files in --out")
    p.add_argument("--processes", type=_processes, nargs="?", const=0, default=None, metavar="N",
                   help="run on a pool of N local processes (N left out: one per core)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask.distributed scheduler address, or 'local'")
    add_progress_options(p)
    p.set_defaults(handler=cmd_leaderboard)
