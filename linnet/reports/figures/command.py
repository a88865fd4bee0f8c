"""``linnet figures``: every figure family the project draws, into one folder; and ``linnet plot``,
the sweep family from one sweep's folder.

    linnet figures --out docs/figures --force              # post, corrected and deep
    linnet figures post corrected --out figs --seed 3
    linnet figures sweep --sweep runs/b --x kappa --y steps_to_1e-10 --out figs
    linnet plot runs/b --x kappa --y steps_to_1e-10        # into runs/b

Families (:data:`FAMILIES`), each a module of this package: ``post`` and ``corrected`` draw
the runs of :func:`linnet.reports.reproduction.compute` (made once for both), ``deep`` makes the
deep-network claims' runs and writes into ``OUT/deep/``, ``sweep`` reads a sweep's table and
writes into ``OUT/sweep/``. Every output path is checked before any run: an existing file without
``--force``, a file where the folder should be, an unknown family or a missing sweep folder is one
error line and exit status 2.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from linnet.core import files
from linnet.core.arguments import add_command, integer
from linnet.core.errors import LinnetError

#: {family: (module under linnet.reports.figures, subfolder of --out, what it draws)}
FAMILIES = {
    "post": ("post", "", "the post's two figures as the post drew them (reproduce's runs)"),
    "corrected": ("corrected", "", "the corrected figure and what the post leaves out (reproduce's runs)"),
    "deep": ("deep", "deep", "the deep-linear-network claims and the post's claims at depth"),
    "sweep": ("sweep", "sweep", "a sweep's table: --x/--y against a parameter, performance profiles"),
}
#: the families drawn when none is named (sweep too where --sweep is given)
DEFAULT = ("post", "corrected", "deep")


def _module(family: str):
    import importlib

    return importlib.import_module(f"linnet.reports.figures.{FAMILIES[family][0]}")


def _names(family: str, args) -> list[str]:
    if family == "sweep":
        specs = [f"{args.y}-vs-{args.x}"] if args.x else []
        return specs + ["profile-steps", "profile-seconds"]
    return list(_module(family).FIGURES)


def plan(families, out: Path, args) -> dict:
    """{family: {name: path}} of every file the command writes; LinnetError for a bad family."""
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise LinnetError(f"unknown figure family {unknown[0]!r}; choose from {', '.join(FAMILIES)}")
    if "sweep" in families and args.sweep is None:
        raise LinnetError("the sweep family needs --sweep DIR (a folder written by linnet sweep)")
    if (args.x is None) != (args.y is None):
        raise LinnetError("give both --x and --y (or neither, for the performance profiles only)")
    paths = {}
    for family in dict.fromkeys(families):
        folder = out / FAMILIES[family][1]
        paths[family] = {name: folder / f"{name}.png" for name in _names(family, args)}
    return paths


def write_figures(families, out, args, force: bool = False) -> list[Path]:
    """Draw ``families`` and write them into ``out``; refuses before any run if a file exists."""
    from linnet.reports.figures.style import problems, save

    out = Path(out)
    paths = plan(families, out, args)
    files.check_folder(out)
    files.check_writable([p for named in paths.values() for p in named.values()], force)
    for named in paths.values():
        files.make_folder(next(iter(named.values())).parent)
    if args.sweep is not None and "sweep" in paths:
        from linnet.sweeps.store import load

        table = load(args.sweep)
    rep = None
    written = []
    for family, named in paths.items():
        module = _module(family)
        if family in ("post", "corrected"):
            if rep is None:
                from linnet.reports.reproduction import compute

                rep = compute(args.seed, progress=False)
            drawn = module.draw(rep)
        elif family == "deep":
            drawn = module.draw()
        else:
            drawn = module.draw(table, [(args.x, args.y, args.hue)] if args.x else [], args.target)
        for name, fig in drawn.items():
            for problem in problems(fig):
                print(f"linnet: warning: {family}/{name}: {problem}", file=sys.stderr)
            written.append(save(fig, named[name], force=force))
    return written


EXAMPLES = """\
families:
""" + "\n".join(f"  {k:<10} {v[2]}" for k, v in FAMILIES.items()) + """

examples:
  linnet figures --out docs/figures --force            # the README's figures (post, corrected, deep)
  linnet figures post --out figs --seed 3
  linnet figures sweep --sweep runs/b --x kappa --y steps_to_1e-10 --out figs
"""


def cmd_figures(args) -> int:
    t = time.perf_counter()
    families = args.families or list(DEFAULT) + (["sweep"] if args.sweep is not None else [])
    written = write_figures(families, args.out, args, force=args.force)
    for path in written:
        print(path)
    print(f"wrote {len(written)} figures in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return 0


def cmd_plot(args) -> int:
    """``linnet plot DIR``: the sweep family into the sweep's own folder (replacing earlier plots)."""
    from linnet.reports.figures import sweep
    from linnet.reports.figures.style import save
    from linnet.sweeps.store import load

    if not args.profile and (args.x is None or args.y is None):
        raise LinnetError("plot needs --x and --y (or --profile)")
    if args.output is not None:  # checked before the table is read and drawn
        files.make_folder(Path(args.output).parent)
        files.check_file(args.output, force=True)
    df = load(args.dir)
    written = []
    if args.profile:
        for name, fig in sweep.draw(df, (), args.target).items():
            written.append(save(fig, Path(args.dir) / f"{name}.png", force=True))
    else:
        from linnet.reports.figures.style import new_figure

        fig = new_figure((6.5, 4.5))
        sweep.plot_metric(df, args.x, args.y, args.hue, ax=fig.subplots())
        written.append(save(fig, args.output or Path(args.dir) / f"{args.y}-vs-{args.x}.png", force=True))
    for path in written:
        print(path)
    return 0


def _sweep_options(p, target_help: str) -> None:
    p.add_argument("--x", help="the parameter on the x axis, e.g. kappa")
    p.add_argument("--y", help="the column on the y axis, e.g. steps_to_1e-12")
    p.add_argument("--hue", default="optimizer", help="one line per value of this column (default: optimizer)")
    p.add_argument("--target", type=float, default=1e-10, help=target_help)


def register(subparsers) -> None:
    """Add ``figures`` and ``plot`` (called from linnet.reports.register)."""
    p = add_command(subparsers, "figures", cmd_figures, epilog=EXAMPLES,
                    help="every figure the project draws, by family",
                    description="Draw figure families into a folder: post, corrected and deep by default. "
                                "Files are written whole; an existing file is kept unless --force.")
    p.add_argument("families", nargs="*", metavar="FAMILY", help=f"any of {', '.join(FAMILIES)}")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="folder to write into")
    p.add_argument("--force", action="store_true", help="overwrite existing files")
    p.add_argument("--seed", type=integer, default=0, help="seed of the post's problem (default: 0)")
    p.add_argument("--sweep", type=Path, default=None, metavar="SWEEP", help="a sweep's folder (sweep family)")
    _sweep_options(p, "the performance profiles' relative loss (default: 1e-10)")

    p = subparsers.add_parser("plot", help="figures from a sweep's table",
                              description="Plot a column of a sweep's table against a parameter (median and "
                                          "quartiles over the other parameters), or performance profiles; "
                                          "the figures go into the sweep's folder.")
    p.add_argument("dir", metavar="DIR", help="the sweep's folder")
    _sweep_options(p, "the profiles' relative loss (default: 1e-10)")
    p.add_argument("--profile", action="store_true", help="Dolan-More performance profiles (steps and seconds)")
    p.add_argument("--output", type=Path, default=None, help="figure file (default: DIR/Y-vs-X.png)")
    p.set_defaults(handler=cmd_plot)
