"""Reports: the post's figure reproduced and corrected (``reproduce``), every figure family the
project draws (``figures``, and ``plot`` for one sweep's table), benchmark runs compared across
commits and machines (``compare``), the claims on any seeds (``claims``) and the report card of any
optimizer (``check``, :mod:`linnet.reports.card`).

The commands register with the CLI through :data:`linnet.cli.EXTRA_COMMANDS`.

Imports: linnet.core, linnet.problems, linnet.optimizers, linnet.runs, linnet.claims, linnet.sweeps, linnet.testing.
"""


def register(subparsers) -> None:
    """Add ``reproduce``, ``figures``, ``plot``, ``compare``, ``claims`` and ``check`` to the CLI
    (linnet.cli.EXTRA_COMMANDS holds this)."""
    from linnet.reports import claims, compare, reproduce
    from linnet.reports.card import command as check
    from linnet.reports.figures import command as figures

    reproduce.register(subparsers)
    figures.register(subparsers)
    compare.register(subparsers)
    claims.register(subparsers)
    check.register(subparsers)
