"""Optimizer spec strings: ``gd[lr=1e-05]``, ``momentum[lr=1e-06,momentum=0.9]``, ``lm``.

One piece of code parses and prints them, so the same string names an optimizer on the command
line, in a benchmark id, in a JSON record and in a plot legend.

An optimizer is a frozen dataclass registered under a name (:mod:`linnet.optimizers.registry`; help text in
:mod:`linnet.optimizers.help`). Its spec is the
name, then in brackets every required parameter and every optional one that differs from its
default, in field order, each as ``key=repr(value)``. Floats print with ``repr`` (``1e-05``,
``0.0001``), so printing a parsed spec gives the canonical spelling back.

An optimizer whose keyword options are an open set (an adapter passing them on to a library,
:mod:`linnet.optimizers.adapters`) declares one field of type :data:`Options`: every key of a spec
that is not one of its declared fields lands there, as ``(key, value)`` pairs sorted by key, each
value read as true/false, an integer, a number, or else the text itself; the spec prints them after
the declared fields, in that order. ``torch[optimizer=SGD,lr=1e-05,nesterov=true,momentum=0.9]``
prints as ``torch[optimizer=SGD,lr=1e-05,momentum=0.9,nesterov=True]``.
"""

from __future__ import annotations

import dataclasses
import math
import re

from linnet.core.errors import LinnetError
from linnet.optimizers.help import example
from linnet.optimizers.registry import REGISTRY

_SPEC = re.compile(r"^\s*([a-z][a-z0-9_-]*)\s*(?:\[(.*)\])?\s*$")

#: the type of an open set of keyword options: ``(key, value)`` pairs sorted by key
Options = tuple[tuple[str, bool | int | float | str], ...]
#: a text value an open option can hold and a spec can print: no separator, bracket, '=' or space
_TEXT = re.compile(r"^[\w.+\-/:]+$")


def _fields(cls):
    return [f for f in dataclasses.fields(cls) if f.init]


def _open_field(cls):
    """The field of type :data:`Options` that holds every undeclared key, or None."""
    return next((f for f in _fields(cls) if f.type in ("Options", Options)), None)


def _required(f) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _convert(cls, f, text: str):
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
    where = f"{cls.name}: {f.name}"
    if kind in ("float", "float | None"):
        try:
            value = float(text)
        except ValueError:
            raise LinnetError(f"{where} must be a number, got {text!r}") from None
        if math.isnan(value):
            raise LinnetError(f"{where} must be a number, got {text!r}")
        return value
    if kind in ("int", "int | None"):
        try:
            value = float(text)
        except ValueError:
            raise LinnetError(f"{where} must be an integer, got {text!r}") from None
        if not value.is_integer():
            raise LinnetError(f"{where} must be an integer, got {text!r}")
        return int(value)
    if kind == "bool":
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise LinnetError(f"{where} must be true or false, got {text!r}")
    return text


def _literal(text: str) -> bool | int | float | str:
    """An open option's value from its text: true/false, an integer, a number, else the text."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def open_options(owner, options) -> Options:
    """``options`` (a mapping or (key, value) pairs) as the canonical :data:`Options` of ``owner``:
    sorted by key; LinnetError unless each key is a keyword name given once and each value a bool,
    an integer, a number other than nan, or a text that prints and reads back as itself."""
    pairs = list(options.items() if isinstance(options, dict) else options)
    keys = [key for key, _ in pairs]
    for key, value in pairs:
        if not (isinstance(key, str) and key.isidentifier()):
            raise LinnetError(f"{owner.name}: option {key!r} is not a keyword name")
        if keys.count(key) > 1:
            raise LinnetError(f"{owner.name}: option {key!r} given twice")
        if isinstance(value, float) and math.isnan(value):
            raise LinnetError(f"{owner.name}: option {key} must be a number, got nan")
        if isinstance(value, str) and (_literal(value) != value or not _TEXT.match(value)):
            raise LinnetError(f"{owner.name}: option {key}={value!r} cannot be written in a spec")
        if not isinstance(value, (bool, int, float, str)):
            raise LinnetError(f"{owner.name}: option {key} must be a number, true/false or a word, got {value!r}")
    return tuple(sorted((key, value) for key, value in pairs))


def parse(spec: str):
    """Build the optimizer a spec string names, e.g. ``parse("adam[lr=0.01]")``.

    Raises LinnetError with one readable line for an unknown name, an unknown or missing
    parameter, a non-numeric value, or a value the optimizer rejects (e.g. a negative step).
    """
    if not isinstance(spec, str):
        raise LinnetError(f"an optimizer spec is a string such as 'gd[lr=1e-05]', got {spec!r}")
    m = _SPEC.match(spec)
    if not m:
        raise LinnetError(f"cannot read optimizer spec {spec!r}; expected NAME or NAME[key=value,...]")
    name, body = m.group(1), m.group(2)
    cls = REGISTRY.get(name)
    if cls is None:
        raise LinnetError(f"unknown optimizer {name!r}; choose one of {', '.join(sorted(REGISTRY))}")
    open_field = _open_field(cls)
    fields = {f.name: f for f in _fields(cls) if f is not open_field}
    kwargs, options = {}, {}
    for item in filter(None, (s.strip() for s in (body or "").split(","))):
        key, eq, text = (s.strip() for s in item.partition("="))
        if not eq or not text:
            raise LinnetError(f"{name}: expected key=value, got {item!r}")
        if key in kwargs or key in options:
            raise LinnetError(f"{name}: parameter {key!r} given twice")
        if key in fields:
            kwargs[key] = _convert(cls, fields[key], text)
        elif open_field is not None:
            options[key] = _literal(text)
        else:
            known = ", ".join(fields) or "none"
            raise LinnetError(f"{name}: unknown parameter {key!r} (parameters: {known})")
    missing = [f.name for f in fields.values() if _required(f) and f.name not in kwargs]
    if missing:
        raise LinnetError(f"{name}: missing parameter {', '.join(missing)} (e.g. {example(cls)})")
    if options:
        kwargs[open_field.name] = tuple(options.items())
    return cls(**kwargs)


def format_spec(optimizer) -> str:
    """The canonical spec string of an optimizer instance."""
    open_field = _open_field(type(optimizer))
    pairs = []
    for f in _fields(type(optimizer)):
        value = getattr(optimizer, f.name)
        if f is open_field:
            pairs += value
        elif _required(f) or value != f.default:
            pairs.append((f.name, value))
    parts = [f"{key}={value}" if isinstance(value, str) else f"{key}={value!r}" for key, value in pairs]
    return optimizer.name + (f"[{','.join(parts)}]" if parts else "")


def as_optimizer(optimizer):
    """Accept a spec string or an optimizer instance (a :class:`linnet.optimizers.base.Optimizer`,
    which has a name and capabilities); return the instance.

    Raises:
        LinnetError: for a plain object (its class neither registered nor an ``Optimizer``).
    """
    if isinstance(optimizer, str):
        return parse(optimizer)
    if not (isinstance(getattr(type(optimizer), "name", None), str) and hasattr(optimizer, "check_backend")):
        raise LinnetError(f"{type(optimizer).__qualname__} is not a registered optimizer; register its class "
                          f"with @linnet.register(\"name\") (see docs/optimizers.md)")
    return optimizer
