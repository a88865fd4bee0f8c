"""Text -> value converters for command-line options (argparse ``type=`` functions).

Shared by :mod:`linnet.cli` and the report commands (:mod:`linnet.reports`), so that nothing has to
import the CLI module; and the progress-bar options with the one rule for showing a bar
(:func:`shows_progress`). Each converter raises :class:`argparse.ArgumentTypeError`, which argparse
turns into the CLI's one-line error and exit status 2.
"""

from __future__ import annotations

import argparse
import math
import sys


def number(text: str) -> float:
    """A finite or infinite float; NaN and non-numbers are rejected."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if math.isnan(value):
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
    return value


def integer(text: str) -> int:
    """An integer, written as one (``3000``, ``1_000_000``) or as an integral number (``1e3``, ``3000.0``).

    ``1.5e3`` is 1500; ``1.5`` and ``1e-3`` are rejected (not integral)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if not math.isfinite(value) or value != int(value):
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}")
    return int(value)


def add_command(subparsers, name: str, handler, *, help: str, description: str, epilog: str = ""):
    """Add the subcommand ``name`` run by ``handler(args)``, its epilog (examples) printed as written."""
    p = subparsers.add_parser(name, help=help, description=description, epilog=epilog,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(handler=handler)
    return p


def add_progress_options(parser, what: str = "a progress bar on stderr") -> None:
    """``--progress`` and ``--quiet``/``-q``, exclusive: the options of :func:`shows_progress`."""
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--progress", action="store_true", help=f"{what}, even when stderr is not a terminal")
    shown.add_argument("--quiet", "-q", action="store_true", help="no progress bar (the default off a terminal)")


def shows_progress(args, stream=None) -> bool:
    """The one rule of every command with a progress bar: shown when ``stream`` (stderr) is a
    terminal, or always with ``--progress``; never with ``--quiet``."""
    stream = sys.stderr if stream is None else stream
    return args.progress or (not args.quiet and stream.isatty())
