"""What the adapters share: their optional libraries, their options and their one-line errors.

A library is imported when a run first uses an adapter, never by ``import linnet`` nor by parsing a
spec; where it is missing, that run stops before its first step with one
:class:`linnet.core.errors.LinnetError` line naming the extra that installs it.
"""

from __future__ import annotations

from linnet.core.errors import LinnetError
from linnet.optimizers.spec import Options, open_options


def missing(adapter: str) -> LinnetError:
    """The error of an adapter whose library is not installed."""
    return LinnetError(f"{adapter} adapter needs the optional extra: pip install 'linnet[{adapter}]'")


def refused(optimizer, what: str, exc: Exception) -> LinnetError:
    """One line: the library's ``what`` (e.g. ``torch.optim.SGD``) refused ``optimizer``'s spec."""
    text = str(exc).strip()
    return LinnetError(f"{optimizer.spec}: {what} refused it: {text.splitlines()[0] if text else type(exc).__name__}")


def adapter_options(optimizer, step_size: str) -> Options:
    """``optimizer.options`` in canonical form (:func:`linnet.optimizers.spec.open_options`);
    LinnetError if they give the library's own step-size keyword ``step_size``, which ``lr`` gives."""
    options = open_options(optimizer, optimizer.options)
    if any(key == step_size for key, _ in options):
        raise LinnetError(f"{optimizer.name}: give the step size as lr (passed on as {step_size}), "
                          f"e.g. {optimizer.example}")
    return options
