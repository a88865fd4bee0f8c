"""The one exception type linnet raises for bad input."""


class LinnetError(ValueError):
    """Bad input: an unknown optimizer, a negative step, an impossible problem.

    The message is one line meant for a person; the CLI prints it and exits with status 2.
    """
