"""``pytest benchmarks --linnet-optimizer SPEC``: which benchmarks take a user's optimizer, how its items
are named, gated and judged, each rule with its negative control.

The parametrization (:mod:`linnet.testing.user_optimizers`) and the verdict lines are checked in
process; the option itself in pytest runs on the benchmark suite (a small ``-k`` selection of
``benchmarks/test_bench_first_order.py`` where something runs).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from linnet.claims.registry import REGISTRY
from linnet.core.errors import LinnetError
from linnet.optimizers.first_order import FirstOrder
from linnet.optimizers.registration import register
from linnet.optimizers.registry import unregister
from linnet.optimizers.spec import parse
from linnet.testing import gate
from linnet.testing.user_optimizers import USER_MARKER, Applies, over_optimizers, parameters
from linnet.testing.verdicts import DOES_NOT_HOLD, HOLDS, decide, format_verdicts

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "benchmarks" / "baseline.json"
#: reaches relative 7.0e-32 on seed 4 in the post's 3000 steps: it does not plateau
NO_PLATEAU = "momentum[lr=1e-05,momentum=0.9]"
#: ends at relative 3.6e-3 on seed 4: it plateaus
PLATEAU = "gd[lr=2e-05]"


@pytest.fixture
def two_layer_gd():
    """A numpy-only first-order rule that handles at most two layers."""

    @register("two-layer-gd")
    @dataclass(frozen=True)
    class TwoLayerGD(FirstOrder):
        lr: float
        max_layers = 2
        example = "two-layer-gd[lr=1e-05]"

        def step(self, weights, grads, state, lr):
            return tuple(W - lr * g for W, g in zip(weights, grads)), state

    yield TwoLayerGD(lr=1e-5)
    unregister("two-layer-gd")


BACKENDS = [pytest.param("numpy"), pytest.param("tensorflow", marks=pytest.mark.tensorflow)]
SEEDS = [pytest.param(s, id=f"seed{s}") for s in range(2)]


def _ids(params):
    return [p.id for p in params]


def test_the_built_ins_are_named_as_pytest_names_them_and_users_where_their_claim_applies(two_layer_gd):
    mark = over_optimizers(Applies(first_order=True), {"seed": SEEDS, "backend": BACKENDS},
                           named=("gd[lr=1e-06]",)).mark
    argnames, builtin = parameters(mark, ())
    assert argnames == ["spec", "seed", "backend"]
    assert _ids(builtin) == ["gd[lr=1e-06]-seed0-numpy", "gd[lr=1e-06]-seed0-tensorflow",
                             "gd[lr=1e-06]-seed1-numpy", "gd[lr=1e-06]-seed1-tensorflow"]
    users = (parse(NO_PLATEAU), two_layer_gd, parse("lm"), parse("gd[lr=1e-06]"))
    _, params = parameters(mark, users)
    added = params[len(builtin):]
    # momentum runs on both backends; the numpy-only rule on numpy only; lm is not first-order; a spec the
    # benchmark already runs is not added twice
    assert _ids(added) == [f"{NO_PLATEAU}-seed0-numpy", f"{NO_PLATEAU}-seed0-tensorflow",
                           f"{NO_PLATEAU}-seed1-numpy", f"{NO_PLATEAU}-seed1-tensorflow",
                           "two-layer-gd[lr=1e-05]-seed0-numpy", "two-layer-gd[lr=1e-05]-seed1-numpy"]
    assert added[1].values == (NO_PLATEAU, 0, "tensorflow")
    assert [m.name for m in added[1].marks] == ["tensorflow", USER_MARKER] and added[1].marks[1].args == (NO_PLATEAU,)
    assert all(not any(m.name == USER_MARKER for m in p.marks) for p in builtin)


def test_an_unnamed_built_in_keeps_its_ids_and_depth_bounds_a_users_optimizer(two_layer_gd):
    sizes = [pytest.param(2, 6, id="depth2-width6"),
             pytest.param(3, 6, id="depth3-width6", marks=pytest.mark.claim("x"))]
    mark = over_optimizers(Applies(first_order=True, batched=True, step_size=True), {"depth,width": sizes},
                           unnamed=("gd[lr=1e-06]", "adam[lr=0.01]")).mark
    argnames, params = parameters(mark, (two_layer_gd, parse("adam[lr=0.003]"), parse("lm")))
    assert argnames == ["spec", "depth", "width"]
    assert _ids(params) == ["depth2-width6", "depth3-width6", "two-layer-gd[lr=1e-05]-depth2-width6",
                            "adam[lr=0.003]-depth2-width6", "adam[lr=0.003]-depth3-width6"]
    assert params[0].values == (("gd[lr=1e-06]", "adam[lr=0.01]"), 2, 6)
    assert [m.name for m in params[-1].marks] == ["claim", USER_MARKER]  # the size's claim marker is kept
    only_users = over_optimizers(Applies()).mark
    assert parameters(only_users, ()) == (["spec"], [])  # no item without the option
    assert _ids(parameters(only_users, (parse("lm"),))[1]) == ["lm"]
    with pytest.raises(LinnetError, match="no id to extend"):
        over_optimizers(Applies(), unnamed="gd[lr=1e-05]")


def test_a_users_lines_are_its_own_and_a_new_keys_line_has_numbers():
    mine = {"claim": {"key": "post.plateau", "holds": False},
            "figures": {"relative_loss": 7e-32, "diverged": False}}
    theirs = {"claim": {"key": "post.plateau", "holds": True}, "figures": {"relative_loss": 3.6e-3, "diverged": False}}
    verdicts = decide({
        "b.py::test_plateau[gd]": {"outcome": "passed", "claims": ["post.plateau"],
                                   "extra_info": {"figures": {"relative_loss": 0.01, "diverged": False}}},
        f"b.py::test_plateau[{NO_PLATEAU}]": {"outcome": "passed", "claims": ["post.plateau"], "extra_info": mine,
                                             "optimizer": NO_PLATEAU},
        f"b.py::test_plateau[{PLATEAU}]": {"outcome": "passed", "claims": ["post.plateau"], "extra_info": theirs,
                                          "optimizer": PLATEAU},
        "b.py::test_new": {"outcome": "passed", "extra_info": {"claim": {"key": "new", "holds": True},
                                                                "figures": {"loss": 0.5, "steps": 12}}},
        "b.py::test_bare": {"outcome": "passed", "extra_info": {"claim": {"key": "bare", "holds": True}}},
    })
    by_key = {v["key"]: v for v in verdicts}
    assert [v["key"] for v in verdicts[:3]] == ["post.plateau", f"post.plateau {NO_PLATEAU}", f"post.plateau {PLATEAU}"]
    builtin = by_key["post.plateau"]
    assert builtin["verdict"] == HOLDS and builtin["ran"] == 1  # the user's failing check does not count here
    mine_line, theirs_line = by_key[f"post.plateau {NO_PLATEAU}"], by_key[f"post.plateau {PLATEAU}"]
    assert mine_line["verdict"] == DOES_NOT_HOLD and mine_line["numbers"] == "min rel. loss 7e-32 (1 runs); 0 diverged"
    assert theirs_line["verdict"] == HOLDS and theirs_line["user_optimizer"] == PLATEAU
    assert by_key["new"]["numbers"] == "loss 0.5; steps 12"  # read from its figures
    assert by_key["bare"]["numbers"] == ""  # control: a benchmark that stores no figure has no numbers
    lines = format_verdicts(verdicts)
    assert max(map(len, lines)) <= 80
    assert any(line.startswith("post.plateau         does not hold  user optimizer") for line in lines)
    assert any("[does not hold in 1 of 1 benchmarks]" in line for line in lines)
    # the users' lines are not claims: 17 of the 18 registered claims and the two new keys' did not run
    assert any(line.startswith(f"{len(REGISTRY) - 1} of {len(REGISTRY) + 2} claims not run") for line in lines)


# -- pytest runs on the benchmark suite ------------------------------------------------------------


#: a faster start (about 2 s a run): plugins these runs do not use left out, and no assertion rewriting
#: (pytest rewrites every module of linnet, an installed plugin's package; the messages read here
#: are explicit ones)
FAST = ("-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:hypothesispytest", "--assert=plain")


def _pytest(*args):
    env = {**{k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}, "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-m", "pytest", *FAST, *args], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=300)


def test_a_bad_spec_is_one_usage_error_line():
    bad = _pytest("benchmarks", "--co", "-q", "--linnet-optimizer", "gd[lr=1e-05]", "--linnet-optimizer", "gd[lr=-1]")
    assert bad.returncode == 4 and "Traceback" not in bad.stderr + bad.stdout
    assert bad.stderr.strip() == "ERROR: --linnet-optimizer gd[lr=-1]: gd: lr must be a positive number, got -1.0"
    refused = _pytest("benchmarks", "--co", "-q", "--linnet-optimizer", PLATEAU, "--linnet-update-baseline")
    assert refused.returncode == 4 and "never written to the baseline" in refused.stderr


def _collected(proc) -> list[str]:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [line for line in proc.stdout.splitlines() if "::" in line]


def test_without_the_option_the_ids_are_the_baselines_and_with_it_the_users_are_added():
    plain = _collected(_pytest("benchmarks", "--co", "-q", "--linnet-expensive"))
    assert set(plain) == set(gate.load(BASELINE))  # the baseline holds every built-in benchmark, by id
    spec = "adam[lr=0.003]"
    more = _collected(_pytest("benchmarks", "--co", "-q", "--linnet-expensive", "--linnet-optimizer", spec))
    added = [node for node in more if node not in plain]
    assert [node for node in more if node in plain] == plain  # the built-ins, in their order
    assert all(f"[{spec}-" in node or node.endswith(f"[{spec}]") for node in added)
    # the claims about any first-order rule (both backends where the benchmark has them), and float32
    assert Counter(node.split("::")[1].split("[")[0] for node in added) == {
        "test_plateau": 10, "test_plateau_on_conditioned_family": 5, "test_samples_dont_help": 5,
        "test_samples_dont_help_on_conditioned_family": 5, "test_plateau_at_depth": 8, "test_samples_at_depth_user": 1,
        "test_samples_at_depth_fan_in": 6, "test_float32_floors_user": 1}


def test_a_user_optimizer_is_reported_not_gated_and_the_gate_still_judges_the_built_ins(tmp_path):
    baseline = gate.load(BASELINE)
    moved = "benchmarks/test_bench_first_order.py::test_plateau[gd[lr=1e-05]-seed4-numpy]"
    baseline[moved]["relative_loss"]["value"] *= 1.001
    path, figures = tmp_path / "baseline.json", tmp_path / "figures.json"
    gate.save(path, baseline)
    run = _pytest("benchmarks/test_bench_first_order.py", "-q", "--benchmark-disable", f"--linnet-baseline={path}",
                  f"--linnet-figures={figures}", "--linnet-optimizer", NO_PLATEAU, "--linnet-optimizer", PLATEAU,
                  "-k", "test_plateau and seed4 and numpy and not conditioned")
    out = run.stdout
    assert run.returncode == 1 and "1 failed, 9 passed" in out, out
    assert f"FAILED {moved}" in out and "relative_loss: baseline" in out  # the built-in's moved figure
    assert "-seed4-numpy] has no entry" not in out  # the users' items are not missing entries
    assert f"linnet gate: 2 benchmarks of user optimizers reported, not gated (no baseline entry): {PLATEAU}, " \
           f"{NO_PLATEAU}" in out
    verdict = out[out.index("linnet claims verdict"):]
    assert "post.plateau         holds          GD and Adam above 1e-6" in verdict
    mine = verdict[verdict.index(f"{NO_PLATEAU}"):]
    assert "does not hold  user optimizer" in verdict and mine.split("\n")[1].split() == [
        "min", "rel.", "loss", "6.97e-32", "(1", "runs);", "0", "diverged"]
    theirs = verdict[verdict.index(f"holds          user optimizer {PLATEAU}"):]
    assert "min rel. loss 0.00355 (1 runs); 0 diverged" in theirs
    recorded = gate.load(figures)
    node = f"benchmarks/test_bench_first_order.py::test_plateau[{NO_PLATEAU}-seed4-numpy]"
    assert recorded[node]["relative_loss"]["value"] < 1e-30 and node not in baseline
