"""Reports: the post's figure reproduced and corrected (``reproduce``), benchmark runs compared
across commits and machines (``compare``).

Both commands register with the CLI through :data:`linnet.cli.EXTRA_COMMANDS`.

Imports: linnet.core, linnet.problems, linnet.optimizers, linnet.runs, linnet.claims, linnet.sweeps, linnet.testing.
"""


def register(subparsers) -> None:
    """Add ``reproduce`` and ``compare`` to the CLI (linnet.cli.EXTRA_COMMANDS holds this)."""
    from linnet.reports import compare, reproduce

    reproduce.register(subparsers)
    compare.register(subparsers)
