"""The claim registry (linnet.claims.registry) against the benchmarks: every registered claim is
decided by at least one benchmark on the development seeds carrying its ``claim`` marker, and every
marker names a registered claim. The markers are read from pytest's own collection (decorators and
``pytest.param(..., marks=...)`` alike), so nothing runs; negative controls show an unknown id and a
claim with no benchmark are both caught."""

import inspect
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from linnet.claims.claim import Claim
from linnet.claims.registry import BY_ID, REGISTRY, entry

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
#: the held-out verification marks every claim; "decided by a benchmark" means one besides it
HELD_OUT_FILE = "test_bench_held_out.py"

COLLECT = """
import json, sys
import pytest
from linnet.testing.verdicts import claim_ids

class Dump:
    found = {}
    def pytest_collection_modifyitems(self, items):
        self.found.update({i.nodeid: claim_ids(i) for i in items})

dump = Dump()
code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", "--linnet-expensive", *sys.argv[1:]],
                   plugins=[dump])
print("MARKERS" + json.dumps(dump.found))
sys.exit(code)
"""


def collected_markers(path: Path) -> dict[str, list[str]]:
    """``{node id: [claim id, ...]}`` of every test pytest collects under ``path``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", COLLECT, str(path)], capture_output=True, text=True, env=env,
                          cwd=path if path.is_dir() else path.parent, timeout=300)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("MARKERS")), None)
    assert line is not None, proc.stdout[-2000:] + proc.stderr[-2000:]
    return {k: v for k, v in json.loads(line[len("MARKERS"):]).items() if v}


def mismatches(registered: set[str], markers: dict[str, list[str]]) -> tuple[dict, set]:
    """Markers naming no registered claim (``{node: [id]}``), and registered claims no marker names."""
    unknown = {f: [i for i in ids if i not in registered] for f, ids in markers.items()}
    unknown = {f: ids for f, ids in unknown.items() if ids}
    named = {i for ids in markers.values() for i in ids}
    return unknown, registered - named


@pytest.fixture(scope="module")
def markers():
    return collected_markers(BENCHMARKS)


def test_every_claim_has_a_benchmark_and_every_marker_a_claim(markers):
    development = {n: ids for n, ids in markers.items() if HELD_OUT_FILE not in n}
    assert len(development) >= len(REGISTRY)
    assert mismatches(set(BY_ID), development) == ({}, set())
    assert mismatches(set(BY_ID), markers) == ({}, set())


def test_every_claim_is_verified_on_held_out_seeds(markers):
    held_out = {n: ids for n, ids in markers.items() if HELD_OUT_FILE in n}
    assert sorted(i for ids in held_out.values() for i in ids) == sorted(BY_ID)


def test_param_marks_are_collected_and_mismatches_are_caught(tmp_path):
    """Negative control: an unknown id (as a decorator and as a param's mark) and a registered
    claim with no benchmark."""
    (tmp_path / "test_b.py").write_text(textwrap.dedent('''
        import pytest

        @pytest.mark.claim("post.plateau")
        def test_a(benchmark):
            pass

        @pytest.mark.slow
        @pytest.mark.claim("post.no-such-claim")
        def test_b(benchmark):
            pass

        @pytest.mark.parametrize("x", [1, pytest.param(2, marks=pytest.mark.claim("deep.nope"))])
        def test_c(benchmark, x):
            pass
    '''))
    found = collected_markers(tmp_path)
    assert found == {"test_b.py::test_a": ["post.plateau"], "test_b.py::test_b": ["post.no-such-claim"],
                     "test_b.py::test_c[2]": ["deep.nope"]}
    unknown, unbenchmarked = mismatches({"post.plateau", "post.kappa"}, found)
    assert unknown == {"test_b.py::test_b": ["post.no-such-claim"], "test_b.py::test_c[2]": ["deep.nope"]}
    assert unbenchmarked == {"post.kappa"}


def test_ids_are_unique_short_and_dotted():
    ids = [e.id for e in REGISTRY]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"(post|depth|deep|muon|shampoo|modern)\.[a-z0-9-]+", i) and len(i) <= 20 for i in ids), ids


def test_readme_rows():
    """The post's claims are rows 1-9 in order; the deep-network claims D1-D7, D1 the three at depth;
    the new optimizers' claims M1-M5, M2 the two of annealing."""
    assert [e.readme for e in REGISTRY] == [*map(str, range(1, 10)), "D1", "D1", "D1", *(f"D{k}" for k in range(2, 8)),
                                            "M1", "M2", "M2", "M3", "M4", "M5"]


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
