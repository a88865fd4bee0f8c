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


# -- one home per name ----------------------------------------------------------------------------
#: the facades: they import names so that ``linnet.run``, ``linnet.Problem``, ... and the conformance
#: kit's ``linnet.testing.check_optimizer`` exist
FACADES = ("linnet", "linnet.testing")
USERS = [ROOT.parent / "tests", ROOT.parent / "benchmarks", ROOT.parent / "conftest.py"]


def unused_imports(source: str, modules=frozenset()) -> list[str]:
    """The names ``source`` imports with ``from linnet... import name`` and never uses: imported only
    to be re-exported. Names in ``modules`` (submodules a package ``__init__`` imports to run them,
    as linnet.optimizers registers its optimizers) are not counted."""
    tree = ast.parse(source)
    imported = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").split(".")[0] == "linnet"):
            for a in node.names:
                if f"{node.module}.{a.name}" not in modules:
                    imported[a.asname or a.name] = node.lineno
    # a use is a Name anywhere outside the import (``name(...)``, ``name.attr``, an annotation, ...)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return sorted(set(imported) - used)


def test_unused_imports_found():
    source = ("from linnet.core.validation import BACKENDS, check_steps  # re-exported\n"
              "from linnet.optimizers import stopping\n"
              "from linnet.runs import record as rec\n"
              "import numpy as np\n"
              "def f(steps):\n"
              "    return check_steps(steps), stopping.COMPLETED\n")
    assert unused_imports(source) == ["BACKENDS", "rec"]
    assert unused_imports(source, modules={"linnet.runs.record"}) == ["BACKENDS"]
    assert unused_imports("from linnet.core.errors import LinnetError\nx: LinnetError\n") == []


def test_no_module_imports_a_name_only_to_re_export_it():
    """A name has one home, the module that defines it: no module but the facade imports a name it
    does not use (package ``__init__``s may import their submodules to run them)."""
    bad = {}
    for name, path in MODULES.items():
        if name in FACADES:
            continue
        modules = frozenset(MODULES) if path.name == "__init__.py" else frozenset()
        unused = unused_imports(path.read_text(), modules)
        if unused:
            bad[name] = unused
    assert not bad, f"re-exported (import these from their defining module instead): {bad}"


def defined_names(source: str) -> set[str]:
    """The names a module's own top level binds (defs, classes, assignments), not those it imports."""
    names = set()
    stack = list(ast.parse(source).body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            stack += [n for field in ("body", "orelse", "finalbody") for n in getattr(node, field, [])]
            stack += [n for h in getattr(node, "handlers", []) for n in h.body]
        elif not isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return names


def imports_from_elsewhere(source: str) -> list[str]:
    """``from linnet.X import name`` where linnet.X neither defines ``name`` nor has a submodule
    ``name``: the name is imported from a module that only imports it."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in MODULES):
            continue
        if node.module in FACADES:
            continue
        defined = defined_names(MODULES[node.module].read_text())
        bad += [f"{node.module}.{a.name}" for a in node.names
                if a.name not in defined and f"{node.module}.{a.name}" not in MODULES]
    return bad


def test_imports_from_elsewhere_found():
    assert imports_from_elsewhere("from linnet.runs.loop import run, LinnetError\n") == ["linnet.runs.loop.LinnetError"]
    assert imports_from_elsewhere("from linnet.core.errors import LinnetError\nfrom linnet import run\n") == []
    assert imports_from_elsewhere("from linnet.optimizers import stopping\n") == []


def test_names_are_imported_from_their_defining_module():
    paths = [*ROOT.rglob("*.py")]
    for user in USERS:
        paths += [user] if user.is_file() else sorted(user.rglob("*.py"))
    bad = {str(p.relative_to(ROOT.parent)): found for p in paths if (found := imports_from_elsewhere(p.read_text()))}
    assert not bad, bad
