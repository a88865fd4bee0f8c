"""docs/design.md describes the code as it is: every package and module it names exists, and every
package of ``linnet/`` is named there (with its job and what it may import)."""

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
DESIGN = ROOT / "docs" / "design.md"

#: a path such as ``linnet/runs/loop.py`` or ``linnet/optimizers/linalg/``
PATH = re.compile(r"\blinnet(?:/[A-Za-z_][A-Za-z0-9_]*)+(?:\.py|/)?")
#: a dotted module name such as ``linnet.runs.loop`` (attributes after it are allowed)
DOTTED = re.compile(r"\blinnet(?:\.[A-Za-z_][A-Za-z0-9_]*)+")


def named_paths(text: str) -> set[str]:
    return {m.group(0).rstrip("/") for m in PATH.finditer(text)}


def missing_paths(text: str, root: pathlib.Path) -> list[str]:
    """Paths the text names that are neither a file nor a folder under ``root``."""
    return sorted(p for p in named_paths(text) if not (root / p).exists())


def missing_modules(text: str, root: pathlib.Path) -> list[str]:
    """Dotted names whose longest module prefix is not a module or package under ``root``
    (``linnet.runs.loop.run`` is fine: ``linnet.runs.loop`` is a module and ``run`` an attribute)."""
    bad = []
    public = facade(root)
    for name in sorted({m.group(0) for m in DOTTED.finditer(text)}):
        parts = name.split(".")
        if len(parts) < 2 or (len(parts) == 2 and parts[1] in public):
            continue
        head = root / parts[0] / parts[1]
        if not (head.with_suffix(".py").exists() or (head / "__init__.py").exists()):
            bad.append(name)
    return bad


def facade(root: pathlib.Path) -> set[str]:
    """The public names of ``linnet/__init__.py`` (its ``__all__``), e.g. ``linnet.run``."""
    init = root / "linnet" / "__init__.py"
    if not init.exists():
        return set()
    for node in ast.parse(init.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def packages(root: pathlib.Path) -> list[str]:
    found = (str(p.parent.relative_to(root)) for p in (root / "linnet").rglob("__init__.py"))
    return sorted(p for p in found if p != "linnet")


def test_checker_catches_a_stale_name(tmp_path):
    """Negative control: a module that does not exist is reported, one that does is not."""
    (tmp_path / "linnet" / "runs").mkdir(parents=True)
    (tmp_path / "linnet" / "runs" / "__init__.py").write_text("")
    (tmp_path / "linnet" / "runs" / "loop.py").write_text("")
    text = "`linnet/runs/loop.py`, `linnet/run.py`, `linnet.runs.loop.run`, `linnet.results.Result`"
    assert missing_paths(text, tmp_path) == ["linnet/run.py"]
    assert missing_modules(text, tmp_path) == ["linnet.results.Result"]


def test_every_name_in_the_design_notes_exists():
    text = DESIGN.read_text()
    assert missing_paths(text, ROOT) == []
    assert missing_modules(text, ROOT) == []


def test_every_package_is_in_the_design_notes():
    named = named_paths(DESIGN.read_text())
    assert [p for p in packages(ROOT) if p not in named] == []
