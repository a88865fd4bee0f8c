"""The claims verdict plugin: verdicts from outcomes and claims, 80-column lines, the JSON entry."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from linnet.claims.registry import REGISTRY
from linnet.testing.verdicts import DOES_NOT_HOLD, HOLDS, NOT_RUN, decide, format_verdicts

ROOT = Path(__file__).resolve().parents[1]


def _by_key(verdicts):
    return {v["key"]: v for v in verdicts}


def test_outcomes_decide_and_claims_override():
    kappa = {"kappa_seed0": 12.0, "kappa_seed1": 38.0}
    v = _by_key(decide({
        "b.py::test_plateau[a]": {"outcome": "passed", "claims": ["post.plateau"],
                                  "extra_info": {"figures": {"relative_loss": 0.01}}},
        "b.py::test_plateau[b]": {"outcome": "skipped", "claims": ["post.plateau"], "extra_info": {}},
        "b.py::test_post_kappa": {"outcome": "passed", "claims": ["post.kappa"], "extra_info": {"figures": kappa}},
        # a stored claim decides even when the benchmark passed (negative control of "holds")
        "b.py::test_float32_floors": {"outcome": "passed", "claims": ["post.float32"],
                                      "extra_info": {"claim": {"key": "post.float32", "holds": False}}},
        # a failed benchmark without a claim entry: the claim does not hold
        "b.py::test_samples_dont_help[s0]": {"outcome": "failed", "claims": ["post.samples"], "extra_info": {}},
        # the function name decides nothing: without a marker this benchmark counts for no claim
        "b.py::test_slow_not_stuck_quick": {"outcome": "failed", "extra_info": {}},
    }))
    assert v["post.plateau"]["verdict"] == HOLDS and v["post.plateau"]["ran"] == 1
    assert v["post.kappa"]["verdict"] == HOLDS and v["post.kappa"]["numbers"] == "kappa(A) 12 to 38 over 2 seeds"
    assert v["post.float32"]["verdict"] == DOES_NOT_HOLD
    assert v["post.samples"]["verdict"] == DOES_NOT_HOLD and v["post.samples"]["failed"] == 1
    assert v["post.slow-not-stuck"]["verdict"] == NOT_RUN and v["post.slow-not-stuck"]["numbers"] == ""
    assert [v[e.id]["number"] for e in REGISTRY[:9]] == list(range(1, 10))
    assert list(v) == [e.id for e in REGISTRY]


def test_unlisted_claim_gets_a_line():
    v = decide({"b.py::test_new": {"outcome": "passed", "extra_info": {"claim": {"key": "new", "holds": True}}}})
    assert _by_key(v)["new"]["verdict"] == HOLDS and _by_key(v)["new"]["number"] == 0


def test_lines_fit_80_columns():
    v = decide({"b.py::test_plateau[a]": {"outcome": "failed", "claims": ["post.plateau"], "extra_info": {
        "figures": {"relative_loss": 0.0123456, "diverged": False}}}})
    for c in v:
        c["numbers"] = c["numbers"] or "x" * 150
    lines = format_verdicts(v)
    assert max(map(len, lines)) <= 80
    assert lines[0].startswith("post.plateau         does not hold  GD and Adam above 1e-6")


BENCH = '''
import pytest
from linnet.claims.post.checks import check_post_kappa
from linnet.claims.post.producers import post_kappas

@pytest.mark.claim("post.kappa")
def test_post_kappa(benchmark):
    kappas = benchmark.pedantic(post_kappas, args=(range(3),), rounds=1, iterations=1)
    benchmark.extra_info["figures"] = {f"kappa_seed{s}": k for s, k in kappas.items()}
    assert check_post_kappa(kappas).holds

@pytest.mark.claim("post.float32")
def test_float32_floors(benchmark):
    benchmark(lambda: None)
    benchmark.extra_info["claim"] = {"key": "float32", "holds": False}
'''


def test_plugin_prints_the_verdict_and_saves_it(tmp_path):
    (tmp_path / "test_b.py").write_text(textwrap.dedent(BENCH))
    out = tmp_path / "run.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="80")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                           f"--benchmark-json={out}", str(tmp_path)], capture_output=True, text=True, env=env,
                          cwd=tmp_path)
    text = proc.stdout
    assert "linnet claims verdict" in text, text
    tail = text[text.index("linnet claims verdict"):].splitlines()[1:]
    assert any(line.startswith("post.kappa           holds") for line in tail)
    assert any(line.startswith("post.float32         does not hold") for line in tail)
    assert not any(line.startswith("post.plateau ") for line in tail)
    n = len(REGISTRY)
    assert any(line.startswith(f"{n - 2} of {n} claims not run here") for line in tail), tail
    assert "post.plateau" in " ".join(tail)
    assert max(len(line) for line in tail[:12]) <= 80
    saved = _by_key(json.loads(out.read_text())["linnet_verdicts"])
    assert saved["post.kappa"]["verdict"] == HOLDS and saved["post.float32"]["verdict"] == DOES_NOT_HOLD
    ids = {b["name"]: b["extra_info"].get("claim_ids") for b in json.loads(out.read_text())["benchmarks"]}
    assert ids == {"test_post_kappa": ["post.kappa"], "test_float32_floors": ["post.float32"]}
    assert "Max (" not in text and "Median" in text  # narrower default table columns


def test_deep_claims_have_their_lines_and_take_their_benchmarks_claims():
    v = _by_key(decide({
        "b.py::test_plateau_at_depth[3-6]": {"outcome": "passed", "claims": ["depth.plateau"], "extra_info": {
            "claim": {"key": "depth.plateau", "holds": True},
            "figures": {"below": 0, "gd[lr=1e-06] relative_loss_min": 0.0144}}},
        # a size where the post's claim is measured not to hold: the benchmark passes, the line says so
        "b.py::test_plateau_at_depth[3-24]": {"outcome": "passed", "claims": ["depth.plateau"], "extra_info": {
            "claim": {"key": "depth.plateau", "holds": False},
            "figures": {"below": 38, "adam[lr=0.01] relative_loss_min": 8e-29}}},
        "b.py::test_width_matters[4]": {"outcome": "passed", "claims": ["deep.width"], "extra_info": {
            "claim": {"key": "deep.width", "holds": True},
            "figures": {"plateau_spread": 1.59, "narrow_over_wide": 11.8}}},
    }))
    line = v["depth.plateau"]
    assert line["readme"] == "D1" and line["verdict"] == DOES_NOT_HOLD and (line["ran"], line["failed"]) == (2, 1)
    assert line["numbers"] == "lowest finite rel. loss 8e-29; 38 runs below 1e-6"
    assert v["deep.width"]["verdict"] == HOLDS and v["deep.width"]["readme"] == "D5"
    assert v["deep.width"]["numbers"] == "widest spread <= 1.59x; narrow / wide >= 11.8x"
    assert v["deep.margin"]["verdict"] == NOT_RUN
    assert all(len(line) <= 80 for line in format_verdicts(list(v.values())))
