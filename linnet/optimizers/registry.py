"""The optimizer registry: spec names to optimizer classes.

An optimizer is a frozen dataclass registered under a name with :func:`register`; the name is the
first word of its spec string (:mod:`linnet.optimizers.spec`).
"""

from __future__ import annotations

REGISTRY: dict[str, type] = {}


def register(name: str):
    """Class decorator: register a frozen-dataclass optimizer under ``name``."""

    def decorate(cls):
        cls.name = name
        REGISTRY[name] = cls
        return cls

    return decorate
