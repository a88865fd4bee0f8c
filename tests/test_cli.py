"""The command line: the JSON contract of DESIGN.md and one-line errors with exit status 2."""

import json
import subprocess
import sys

import pytest

import linnet
from linnet.cli import main

CONTRACT = {"spec", "optimizer", "backend", "family", "seed", "ydim", "wdim", "xdim", "nsamples", "kappa", "steps",
            "status", "message", "diverged", "initial_loss", "final_loss", "relative_loss", "grad_norm", "seconds"}


def run_json(capsys, *argv):
    assert main(["run", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_contract_example_from_design(capsys):
    out = run_json(capsys, "--problem", "post", "--seed", "5", "--optimizer", "gd[lr=1e-5]",
                   "--steps", "3000", "--backend", "numpy")
    assert CONTRACT <= set(out)
    assert out["spec"] == "gd[lr=1e-05]" and out["optimizer"] == "gd" and out["backend"] == "numpy"
    assert out["steps"] == 3000 and out["diverged"] is False
    p = out
    assert (p["seed"], p["xdim"], p["wdim"], p["ydim"], p["nsamples"]) == (5, 6, 6, 10, 1000)
    direct = linnet.run(linnet.post_problem(5), "gd[lr=1e-05]", 3000)
    assert out["final_loss"] == pytest.approx(direct.final_loss, rel=1e-12)
    assert out["relative_loss"] == pytest.approx(direct.relative_loss, rel=1e-12)
    assert p["kappa"] == pytest.approx(linnet.post_problem(5).kappa)
    assert out["grad_norm"] > 0 and out["seconds"] >= 0


def test_diverged_run_has_null_final_loss(capsys):
    out = run_json(capsys, "--optimizer", "gd[lr=0.0001]", "--steps", "100")
    assert out["diverged"] is True and out["final_loss"] is None and out["relative_loss"] is None
    assert out["steps"] < 10


def test_conditioned_and_expected_loss(capsys):
    out = run_json(capsys, "--problem", "conditioned", "--kappa", "1e5", "--nsamples", "0",
                   "--optimizer", "adam[lr=0.01]", "--steps", "10")
    assert out["family"] == "conditioned"
    assert out["kappa"] == pytest.approx(1e5, rel=1e-8)
    assert out["nsamples"] == 0


def test_history_option(capsys):
    out = run_json(capsys, "--optimizer", "gd[lr=1e-5]", "--steps", "5", "--history")
    assert len(out["losses"]) == 6 and out["losses"][0] == out["initial_loss"]


def test_human_summary(capsys):
    assert main(["run", "--optimizer", "adam[lr=0.01]", "--steps", "30"]) == 0
    text = capsys.readouterr().out
    assert "adam[lr=0.01]" in text and "final loss" in text and "relative loss" in text


@pytest.mark.parametrize("argv, message", [
    (["--optimizer", "nope"], "unknown optimizer 'nope'"),
    (["--optimizer", "gd[lr=-1e-5]"], "lr must be a positive number"),
    (["--optimizer", "gd[lr=x]"], "lr must be a number"),
    (["--optimizer", "gd[lr=1e-5]", "--steps", "-5"], "steps must be a non-negative integer"),
    (["--optimizer", "gd[lr=1e-5]", "--steps", "ten"], "expected an integer"),
    (["--problem", "conditioned", "--kappa", "0.5", "--optimizer", "lm"], "kappa must be"),
    (["--problem", "conditioned", "--kappa", "abc", "--optimizer", "lm"], "expected a number"),
    (["--problem", "conditioned", "--wdim", "2", "--rank", "4", "--optimizer", "gd[lr=1e-5]"],
     "wdim = 2 < rank = 4"),
    (["--kappa", "10", "--optimizer", "gd[lr=1e-5]"], "--kappa and --rank apply"),
    (["--nsamples", "-3", "--optimizer", "gd[lr=1e-5]"], "nsamples"),
    (["--seed", "-1", "--optimizer", "gd[lr=1e-5]"], "seed"),
    (["--problem", "square", "--optimizer", "gd[lr=1e-5]"], "invalid choice"),
    ([], "required: --optimizer"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        code = main(["run", *argv])
        raise SystemExit(code)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and err.startswith("linnet: error: ")
    assert "Traceback" not in err


def test_module_entry_point_in_a_fresh_process():
    ok = subprocess.run([sys.executable, "-m", "linnet", "run", "--optimizer", "gd[lr=1e-5]",
                         "--steps", "3", "--json"], capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["steps"] == 3
    bad = subprocess.run([sys.executable, "-m", "linnet", "run", "--optimizer", "gd[lr=oops]"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == ["linnet: error: gd: lr must be a number, got 'oops'"]


def test_help_lists_problems_optimizers_and_examples(capsys):
    for argv in (["--help"], ["run", "--help"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 0
        text = capsys.readouterr().out
        assert "conditioned" in text and "gd[lr=1e-05]" in text and "adam[lr=0.01]" in text
        assert "python -m linnet run" in text
