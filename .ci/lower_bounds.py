"""Print ``name==version`` for every ``>=`` lower bound in pyproject.toml, as a pip constraints file.

Reads [project.dependencies] and the optional-dependency groups named on the command line (the
extras CI installs, comma-separated: ``python .ci/lower_bounds.py test,parquet``; ``--output FILE``
writes the constraints to FILE instead of printing them), so the
constraints CI tests with are the bounds pyproject.toml declares and cannot drift from them.
A requirement with an environment marker that does not hold here (``; python_version < '3.11'``)
is left out; extras in brackets (``dask[distributed]``) are dropped from the name.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
_REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*?)\s*(?:;\s*(.*))?$")


def _marker_holds(marker: str | None) -> bool:
    """Whether ``python_version < 'X.Y'``-style markers (the only kind pyproject.toml uses) hold."""
    if not marker:
        return True
    m = re.fullmatch(r"python_version\s*(<|<=|>|>=|==|!=)\s*['\"](\d+)\.(\d+)['\"]", marker.strip())
    if not m:
        raise SystemExit(f"lower_bounds.py: cannot evaluate the marker {marker!r}")
    here, there = sys.version_info[:2], (int(m.group(2)), int(m.group(3)))
    return {"<": here < there, "<=": here <= there, ">": here > there, ">=": here >= there,
            "==": here == there, "!=": here != there}[m.group(1)]


def lower_bounds(extras: list[str], pyproject: Path = PYPROJECT) -> dict[str, str]:
    """{name: lower bound} over the core dependencies and ``extras``, in the order declared."""
    project = tomllib.loads(pyproject.read_text())["project"]
    groups = project.get("optional-dependencies", {})
    unknown = [e for e in extras if e not in groups]
    if unknown:
        raise SystemExit(f"lower_bounds.py: no such extra in pyproject.toml: {', '.join(unknown)}")
    bounds: dict[str, str] = {}
    for requirement in [*project["dependencies"], *(r for e in extras for r in groups[e])]:
        m = _REQUIREMENT.match(requirement)
        if not m:
            raise SystemExit(f"lower_bounds.py: cannot read the requirement {requirement!r}")
        name, spec, marker = m.groups()
        if not _marker_holds(marker):
            continue
        for clause in filter(None, (c.strip() for c in spec.split(","))):
            if clause.startswith(">="):
                bounds[name.lower()] = clause[2:].strip()
    return bounds


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="pip constraints from pyproject.toml's >= bounds")
    parser.add_argument("extras", nargs="?", default="", help="comma-separated extras, e.g. test,lint")
    parser.add_argument("--output", type=Path, help="write the constraints to this file")
    args = parser.parse_args(argv)
    extras = [e for e in args.extras.split(",") if e]
    text = "".join(f"{name}=={version}\n" for name, version in lower_bounds(extras).items())
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
