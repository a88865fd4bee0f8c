"""Help text about the registered optimizers (for ``python -m linnet --help`` and error messages)."""

from __future__ import annotations

from linnet.optimizers.registry import REGISTRY


def example(cls) -> str:
    """An example spec for a registered class (its ``example`` attribute, else its name)."""
    return getattr(cls, "example", cls.name)


def describe_all() -> str:
    """One line per registered optimizer: example spec and the first line of its docstring."""
    lines = []
    for name in sorted(REGISTRY):
        cls = REGISTRY[name]
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        lines.append(f"  {example(cls):<36} {doc}")
    return "\n".join(lines)
