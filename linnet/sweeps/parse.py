"""Grid values from text: command-line lists and ranges, and TOML grid files.

On the command line a value list is comma-separated; integer keys also take inclusive ranges
(``--seeds 0-19``, ``--seeds 0-4,10``); ``--widths`` takes layer widths joined by ``x``
(``--widths 6x6,8x8``). A TOML file holds the same keys, values as TOML lists or single values,
and may also write ranges as strings (``seeds = "0-19"``)::

    seeds = "0-19"
    family = "conditioned"
    kappa = [1, 1e2, 1e4]
    optimizer = ["gd[lr=1e-05]", "lm"]
    steps = 3000
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path

from linnet.core.errors import LinnetError
from linnet.problems.families import PARAMETERS
from linnet.sweeps.grid import Grid, grid_from_dict

_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?inf$", re.IGNORECASE)


def _one(key: str, text: str):
    kind = PARAMETERS[key]
    text = text.strip()
    if kind is str:
        return text
    if kind is tuple:
        try:
            return tuple(int(w) for w in text.split("x"))
        except ValueError:
            raise LinnetError(f"grid key {key!r}: expected widths such as 6x6, got {text!r}") from None
    value = float(text) if _NUMBER.match(text) else math.nan
    if math.isnan(value):
        raise LinnetError(f"grid key {key!r}: expected a number, got {text!r}")
    if kind is int:
        if not value.is_integer():
            raise LinnetError(f"grid key {key!r}: expected an integer, got {text!r}")
        return int(value)
    return value


def parse_values(key: str, text: str) -> list:
    """The values of one grid key from command-line text: ``0-19``, ``1,1e2,1e4``, ``6x6,8x8``."""
    if key not in PARAMETERS:
        raise LinnetError(f"unknown grid key {key!r}")
    values = []
    for item in text.split(","):
        if not item.strip():
            raise LinnetError(f"grid key {key!r}: empty value in {text!r}")
        m = _RANGE.match(item)
        if m and PARAMETERS[key] is int:
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo:
                raise LinnetError(f"grid key {key!r}: empty range {item.strip()!r}")
            values.extend(range(lo, hi + 1))
        else:
            values.append(_one(key, item))
    return values


def _from_toml_value(key: str, value):
    if isinstance(value, str) and PARAMETERS.get(key) not in (str, None):
        return parse_values(key, value)
    return value


def read_grid_file(path: Path | str) -> Grid:
    """The grid a TOML file describes; LinnetError naming the file or the bad key."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except OSError as err:
        raise LinnetError(f"cannot read grid file {path}: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise LinnetError(f"grid file {path} is not valid TOML: {err}") from None
    aliases = {"seeds": "seed", "problem": "family"}
    out = {}
    for key, value in data.items():
        name = aliases.get(key, key)
        out[key] = _from_toml_value(name, value) if name in PARAMETERS else value
    return grid_from_dict(out)
