"""Reports: the post's figure reproduced and corrected (``reproduce``), every figure family the
project draws (``figures``, and ``plot`` for one sweep's table), benchmark runs compared across
commits and machines (``compare``), the claims on any seeds (``claims``), the report card of any
optimizer (``check``, :mod:`linnet.reports.card`) and the leaderboard of every optimizer
(``leaderboard``, :mod:`linnet.reports.leaderboard`).

The commands register with the CLI through :data:`linnet.cli.EXTRA_COMMANDS`.

Imports: linnet.core, linnet.problems, linnet.optimizers, linnet.runs, linnet.claims, linnet.sweeps, linnet.testing.
"""


def register(subparsers) -> None:
    """Add ``reproduce``, ``figures``, ``plot``, ``compare``, ``claims``, ``check`` and ``leaderboard``
    to the CLI (linnet.cli.EXTRA_COMMANDS holds this)."""
    from linnet.reports import claims, compare, reproduce
    from linnet.reports.card import command as check
    from linnet.reports.figures import command as figures
    from linnet.reports.leaderboard import command as leaderboard

    reproduce.register(subparsers)
    figures.register(subparsers)
    compare.register(subparsers)
    claims.register(subparsers)
    check.register(subparsers)
    leaderboard.register(subparsers)
