"""``linnet check SPEC``: the report card of any registered optimizer, a built-in or a user's.

    linnet check 'nesterov[lr=1e-05]'                  # the verdicts and tables on the terminal
    linnet check adam --seeds 1000-1019 --json         # a spec without lr: it is tuned anyway
    linnet check 'gd[lr=1e-05]' --out card --processes # figures, card.json and card.html in card/
    linnet check adam --reference lm --reference gd    # placed against these built-ins only

The optimizer's step size (its ``lr``, if it has one) is tuned on every setting by the protocol of
:mod:`linnet.sweeps.tuning`; the verdicts are decided on the held-out seeds (default 1000-1099).
Bad input (an unknown optimizer, a bad seed range, an existing output without --force) is one line
on stderr and exit status 2, before any run.
"""

from __future__ import annotations

import argparse
import json
import math

from linnet.claims.seeds import DEVELOPMENT, HELD_OUT
from linnet.core.arguments import add_progress_options, shows_progress
from linnet.core.errors import LinnetError
from linnet.optimizers import spec
from linnet.reports.card import page
from linnet.reports.card.card import REFERENCES, report_card, text
from linnet.reports.claims import parse_seeds
from linnet.sweeps.tuning import LR_GRID

EXAMPLES = __doc__.split("\n\n")[1]


def optimizer_for_card(text: str):
    """The optimizer a ``linnet check`` spec names. The card tunes ``lr``, so a tunable optimizer's
    spec may leave it out (``adam``, ``nesterov[momentum=0.8]``): it is then parsed with ``lr=1.0``.
    Any other error is the spec parser's one line."""
    try:
        return spec.parse(text)
    except LinnetError as error:
        name, _, rest = text.strip().partition("[")
        rest = rest.rstrip().removesuffix("]").strip()
        if "lr=" in text.replace(" ", ""):
            raise
        try:
            return spec.parse(f"{name}[lr=1.0{',' + rest if rest else ''}]")
        except LinnetError:
            raise error from None


def parse_grid(text: str) -> tuple[float, ...]:
    """``--grid``: step sizes separated by commas, each positive and finite."""
    try:
        rates = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise LinnetError(f"--grid must be numbers separated by commas, got {text!r}") from None
    if not rates or not all(math.isfinite(r) and r > 0 for r in rates):
        raise LinnetError(f"--grid rates must be positive and finite, got {text!r}")
    return tuple(sorted(set(rates)))


def cmd_check(args) -> int:
    optimizer = optimizer_for_card(args.spec)
    held_out = parse_seeds(args.seeds) if args.seeds is not None else HELD_OUT
    development = parse_seeds(args.development) if args.development is not None else DEVELOPMENT
    if set(held_out) & set(development):
        raise LinnetError(f"the held-out seeds {held_out.start}-{held_out.stop - 1} must not overlap the development "
                          f"seeds {development.start}-{development.stop - 1}, which tune the step size")
    grid = parse_grid(args.grid) if args.grid is not None else LR_GRID
    if args.out:
        from linnet.core import files

        files.check_folder(args.out)
        files.check_writable(page.paths(args.out).values(), args.force)
    from linnet.sweeps.executors import make_executor

    executor = make_executor(args.scheduler, args.workers, args.processes)
    try:
        card = report_card(optimizer, held_out=held_out, development=development, grid=grid, executor=executor,
                           references=args.reference or REFERENCES, progress=shows_progress(args))
    finally:
        executor.close()
    if args.out:
        page.write(card, args.out, force=args.force)
    print(json.dumps(card.to_dict(), indent=1) if args.json else text(card))
    return 0


def register(subparsers) -> None:
    """Add ``check`` to the CLI."""
    p = subparsers.add_parser(
        "check", help="the report card of any optimizer: every claim that applies, on held-out seeds",
        description="Ask every question of the report card of an optimizer (the post's experiment, the "
                    "balanced start, more samples, kappa, depth, width, the order of the modes) on held-out "
                    "seeds, after tuning its step size on the development seeds "
                    f"{DEVELOPMENT.start}-{DEVELOPMENT.stop - 1}, and place it against the built-ins with a "
                    "performance profile.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES)
    p.add_argument("spec", help="an optimizer spec string, e.g. 'nesterov[lr=1e-05]' (lr may be left out)")
    p.add_argument("--seeds", metavar="A-B",
                   help=f"the held-out seeds, inclusive (default: {HELD_OUT.start}-{HELD_OUT.stop - 1})")
    p.add_argument("--development", metavar="A-B",
                   help=f"the seeds that tune the step size (default: {DEVELOPMENT.start}-{DEVELOPMENT.stop - 1})")
    p.add_argument("--grid", metavar="LR,LR,...",
                   help="the step sizes tuned over (default: 1e-8 to 1 in half decades)")
    p.add_argument("--reference", action="append", metavar="SPEC",
                   help="a built-in to place the optimizer against (repeatable; default: "
                        f"{', '.join(REFERENCES)}; their lr is tuned)")
    p.add_argument("--json", action="store_true", help="print the card as JSON")
    p.add_argument("--out", metavar="DIR", help="write the figures, card.json and a self-contained card.html into DIR")
    p.add_argument("--force", action="store_true", help="replace existing files in --out")
    p.add_argument("--processes", action="store_true", help="run on a pool of local processes")
    p.add_argument("--scheduler", metavar="ADDRESS", help="dask.distributed scheduler address, or 'local'")
    p.add_argument("--workers", type=int, default=None, help="processes (--processes, --scheduler local)")
    add_progress_options(p)
    p.set_defaults(handler=cmd_check)
