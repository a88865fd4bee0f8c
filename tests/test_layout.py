"""The layout rules of docs/design.md, as tested facts: ``linnet/`` holds one package per stage of the
pipeline, each package imports only the packages below it in :data:`ORDER` (which its ``__init__``
docstring declares), and there is no import cycle anywhere in ``linnet/``."""

import ast
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "linnet"

#: the stages, bottom to top: a package may import those before it, never one after it
ORDER = ["core", "problems", "optimizers", "runs", "claims", "sweeps", "testing", "reports"]
#: the top of the package: the public names, ``python -m linnet``, and the command line
TOP = {"__init__.py", "__main__.py", "cli.py", "py.typed"}


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """The linnet modules ``name`` imports anywhere in its source (function-level imports too)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        found |= {t for t in targets if t in MODULES and t != name}
    # importing a package's submodule runs the package: that is not an edge back up
    return {t for t in found if not name.startswith(t + ".")}


def stage(name: str) -> str | None:
    """The stage package a module belongs to (``linnet.runs.loop`` -> ``runs``); None at the top."""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ORDER else None


def upward_edges(graph: dict[str, set[str]], order: list[str]) -> list[tuple[str, str]]:
    """Edges from a stage's module to a later stage's module, or to the top of the package."""
    rank = {s: i for i, s in enumerate(order)}
    bad = []
    for src, targets in graph.items():
        s = stage(src) if stage(src) in rank else None
        if s is None:
            continue
        for dst in sorted(targets):
            d = stage(dst)
            if d is None or rank[d] > rank[s]:
                bad.append((src, dst))
    return bad


def test_upward_edges_found():
    """Negative control: an import of a later stage, and one of the package's top, are both caught."""
    graph = {"linnet.core.x": {"linnet.runs.loop"}, "linnet.runs.loop": {"linnet.core.x", "linnet"},
             "linnet.problems.y": {"linnet.core.x"}}
    assert upward_edges(graph, ORDER) == [("linnet.core.x", "linnet.runs.loop"), ("linnet.runs.loop", "linnet")]


def test_imports_point_down_the_order():
    graph = {name: imports_of(name) for name in MODULES}
    assert upward_edges(graph, ORDER) == []


def test_top_of_the_package_is_the_stages():
    entries = {p.name for p in ROOT.iterdir() if p.name != "__pycache__"}
    assert entries == TOP | set(ORDER)
    assert len(entries) <= 12


@pytest.mark.parametrize("package", ORDER)
def test_package_docstring_declares_its_imports(package):
    """Each stage's ``__init__`` says what it holds and which stages it may import: exactly those
    below it in ORDER."""
    doc = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text())) or ""
    match = re.search(r"^Imports: (.*)$", doc, re.M)
    assert match, f"linnet.{package}'s docstring has no 'Imports:' line"
    declared = [s.strip().removeprefix("linnet.") for s in match.group(1).rstrip(".").split(",")]
    below = ORDER[: ORDER.index(package)]
    assert declared == (below or ["nothing of linnet"]), declared


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state, stack = {}, []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_find_cycle_finds_one():
    """Negative control of the cycle test."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle():
    graph = {name: imports_of(name) for name in MODULES}
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_tensorflow_is_imported_only_by_the_backend():
    """TensorFlow is declared in one place: only ``linnet.runs.backends`` imports it."""
    for name, path in MODULES.items():
        if name.startswith("linnet.runs.backends"):
            continue
        tree = ast.parse(path.read_text())
        mods = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        mods |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not {m for m in mods if m.split(".")[0] in ("tensorflow", "keras")}, name
