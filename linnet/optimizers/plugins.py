"""Optimizers from installed packages: the ``linnet.optimizers`` entry-point group.

A package declares its optimizers in its ``pyproject.toml``::

    [project.entry-points."linnet.optimizers"]
    nesterov = "linnet_nesterov:Nesterov"

Each entry names a class (registered under the entry's name unless the module registers it
itself with ``@linnet.register``) or a module whose import registers its optimizers. ``import
linnet`` loads them all once, after the built-ins, so they parse as spec strings and run wherever a
built-in does: ``linnet run``, ``linnet sweep`` (in every worker process, which imports linnet too),
the benchmarks. A plugin that fails to import or to register -- a clash with a taken name
included -- costs one warning line on stderr naming its package, never a crash of linnet.
"""

from __future__ import annotations

import sys
from importlib import metadata

from linnet.optimizers.registration import register
from linnet.optimizers.registry import REGISTRY

GROUP = "linnet.optimizers"

#: the warning lines of the plugins that did not load, in load order (also written to stderr)
FAILED: list[str] = []


def _package(entry) -> str:
    dist = getattr(entry, "dist", None)
    return dist.name if dist is not None else entry.value.split(":")[0].split(".")[0]


def load() -> list[str]:
    """Import every entry point of :data:`GROUP` and register its optimizers; returns the names
    registered. Failures are reported as one line each on stderr (and kept in :data:`FAILED`)."""
    names = []
    for entry in metadata.entry_points(group=GROUP):
        try:
            obj = entry.load()
            if isinstance(obj, type) and obj not in REGISTRY.values():
                obj = register(entry.name)(obj)
            names.append(getattr(obj, "name", entry.name))
        except Exception as exc:  # noqa: BLE001 - any failure of a third-party import is reported, not raised
            line = (f"linnet: warning: optimizer plugin {entry.name!r} of package {_package(entry)!r} "
                    f"not loaded: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
            FAILED.append(line)
            print(line, file=sys.stderr)
    return names
