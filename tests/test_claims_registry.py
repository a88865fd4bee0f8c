"""The claim registry (linnet.claims.registry) against the benchmarks: every registered claim is
decided by at least one benchmark carrying its ``@pytest.mark.claim("<id>")`` marker, and every
marker names a registered claim. The benchmarks are read by AST, so nothing runs; negative controls
show an unknown id and a claim with no benchmark are both caught."""

import ast
import inspect
import re
from pathlib import Path

import pytest

from linnet.claims.claim import Claim
from linnet.claims.registry import BY_ID, REGISTRY, entry

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def claim_markers(source: str) -> dict[str, list[str]]:
    """``{test function name: [claim id, ...]}`` of the ``@pytest.mark.claim("<id>")`` decorators in ``source``."""
    found = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef):
            continue
        for d in node.decorator_list:
            if (isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr == "claim"
                    and ast.unparse(d.func.value) == "pytest.mark"):
                arg = d.args[0] if d.args else None
                found.setdefault(node.name, []).append(arg.value if isinstance(arg, ast.Constant) else ast.unparse(d))
    return found


def mismatches(registered: set[str], markers: dict[str, list[str]]) -> tuple[dict, set]:
    """Markers naming no registered claim (``{function: [id]}``), and registered claims no marker names."""
    unknown = {f: [i for i in ids if i not in registered] for f, ids in markers.items()}
    unknown = {f: ids for f, ids in unknown.items() if ids}
    named = {i for ids in markers.values() for i in ids}
    return unknown, registered - named


def benchmark_markers() -> dict[str, list[str]]:
    out = {}
    for path in sorted(BENCHMARKS.glob("test_*.py")):
        for name, ids in claim_markers(path.read_text()).items():
            out[f"{path.name}::{name}"] = ids
    return out


def test_every_claim_has_a_benchmark_and_every_marker_a_claim():
    markers = benchmark_markers()
    assert len(markers) >= len(REGISTRY)
    assert mismatches(set(BY_ID), markers) == ({}, set())


def test_mismatches_are_caught():
    """Negative control: an unknown id and a registered claim with no benchmark."""
    src = '''
import pytest

@pytest.mark.claim("post.plateau")
def test_a(benchmark):
    pass

@pytest.mark.slow
@pytest.mark.claim("post.no-such-claim")
def test_b(benchmark):
    pass

def test_c(benchmark):
    pass
'''
    markers = claim_markers(src)
    assert markers == {"test_a": ["post.plateau"], "test_b": ["post.no-such-claim"]}
    unknown, unbenchmarked = mismatches({"post.plateau", "post.kappa"}, markers)
    assert unknown == {"test_b": ["post.no-such-claim"]} and unbenchmarked == {"post.kappa"}


def test_ids_are_unique_short_and_dotted():
    ids = [e.id for e in REGISTRY]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"(post|depth|deep)\.[a-z0-9-]+", i) and len(i) <= 20 for i in ids), ids


def test_readme_rows():
    """The post's claims are rows 1-9 in order; the deep-network claims D1-D7, D1 the three at depth."""
    assert [e.readme for e in REGISTRY] == [*map(str, range(1, 10)), "D1", "D1", "D1", *(f"D{k}" for k in range(2, 8))]


@pytest.mark.parametrize("e", REGISTRY, ids=lambda e: e.id)
def test_entry_is_complete(e):
    assert e.statement and e.source and len(e.title) <= 45
    assert callable(e.check) and callable(e.producer)
    assert e.numbers([]) == ""  # no figures, no numbers


@pytest.mark.parametrize("e", REGISTRY, ids=lambda e: e.id)
def test_check_returns_a_claim_under_the_entry_id(e):
    """Each check builds its Claim under the entry's id (read from its source: running every check
    is the benchmarks' work)."""
    src = inspect.getsource(e.check)
    assert f'Claim("{e.id}"' in src, e.check.__qualname__


def test_post_kappa_check_uses_its_id():
    claim = entry("post.kappa").check({0: 10.0, 1: 20.0})
    assert isinstance(claim, Claim) and claim.key == "post.kappa" and claim.holds


def test_unknown_id_is_refused():
    with pytest.raises(KeyError, match="post.plateau"):
        entry("post.no-such-claim")


def test_readme_rows_show_the_ids():
    """Each README claims-table row shows its id (rows 1-9 and D1-D7)."""
    readme = (BENCHMARKS.parent / "README.md").read_text()
    for e in REGISTRY:
        assert re.search(rf"^\| {e.readme} [^|\n]*`{re.escape(e.id)}`", readme, re.M), e.id
