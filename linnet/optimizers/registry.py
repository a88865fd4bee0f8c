"""The optimizer registry: spec names to optimizer classes.

Classes enter it through :func:`linnet.optimizers.registration.register` (exported as
``linnet.register``); the name is the first word of its spec string (:mod:`linnet.optimizers.spec`).
linnet's own optimizers and a user's are registered the same way; installed packages add theirs
through the ``linnet.optimizers`` entry-point group (:mod:`linnet.optimizers.plugins`).
"""

from __future__ import annotations

REGISTRY: dict[str, type] = {}


def unregister(name: str) -> None:
    """Remove ``name`` from the registry (for tests that register throwaway optimizers)."""
    REGISTRY.pop(name, None)
