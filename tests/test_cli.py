"""The command line: the run record of docs/design.md ("The run record"), one-line errors with exit
status 2, and what docs/user-guide.md documents (version, progress, integral --steps)."""

import json
import subprocess
import sys

import pytest

import linnet
from linnet.cli import main

CONTRACT = {"optimizer", "backend", "problem", "steps", "status", "message", "diverged", "initial_loss", "final_loss",
            "relative_loss", "grad_norm", "seconds"}


def run_json(capsys, *argv):
    assert main(["run", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_contract_example_from_design(capsys):
    out = run_json(capsys, "--problem", "post", "--seed", "5", "--optimizer", "gd[lr=1e-5]",
                   "--steps", "3000", "--backend", "numpy")
    assert CONTRACT <= set(out)
    assert out["optimizer"] == "gd[lr=1e-05]" and out["backend"] == "numpy"
    assert out["steps"] == 3000 and out["diverged"] is False
    p = out["problem"]
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
    assert out["problem"]["family"] == "conditioned"
    assert out["problem"]["kappa"] == pytest.approx(1e5, rel=1e-8)
    assert out["problem"]["nsamples"] == 0


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
    (["--optimizer", "gd[lr=1e-5]", "--steps", "1.5"], "expected an integer, got '1.5'"),
    (["--optimizer", "gd[lr=1e-5]", "--steps", "1e-3"], "expected an integer"),
    (["--optimizer", "gd[lr=1e-5]", "--steps", "inf"], "expected an integer"),
    (["--wdim", "2", "--optimizer", "lm"], "hidden width 2 is below rank(A) = 6"),
    (["--optimizer", "gd[lr=1e-5]", "--history"], "--history applies to --json"),
    (["--optimizer", "gd[lr=1e-5]", "--progress", "--quiet"], "not allowed with"),
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
        raise SystemExit(main(["run", *argv]))
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
        assert "linnet run --problem post" in text
        assert "status (>= 0 is a normal stop)" in text or argv == ["--help"]


def test_steps_accepts_integral_numbers(capsys):
    out = run_json(capsys, "--optimizer", "gd[lr=1e-5]", "--steps", "1e2")
    assert out["steps"] == 100
    out = run_json(capsys, "--optimizer", "gd[lr=1e-5]", "--steps", "1_000", "--target", "1e-3")
    assert out["steps"] == 1000


def test_wdim_at_the_rank_runs(capsys):
    """Negative control of the wdim < rank(A) rejection: wdim = rank(A) = 6 is a valid problem."""
    out = run_json(capsys, "--wdim", "6", "--optimizer", "lm", "--steps", "3")
    assert out["problem"]["wdim"] == 6


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip().endswith(f"linnet {linnet.__version__}")
    ok = subprocess.run([sys.executable, "-m", "linnet", "--version"], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout.strip() == f"python -m linnet {linnet.__version__}"


def test_program_name_of_the_console_script():
    from linnet.cli import build_parser, program_name

    assert program_name("/usr/local/bin/linnet") == "linnet"
    assert program_name("/x/linnet/__main__.py") == "python -m linnet"
    assert build_parser("linnet").format_usage().startswith("usage: linnet ")


def test_progress_goes_to_stderr_never_into_json(capsys):
    out = run_json(capsys, "--optimizer", "gd[lr=1e-5]", "--steps", "2000", "--progress")
    assert out["steps"] == 2000  # stdout is exactly one JSON object
    err = capsys.readouterr().err
    proc = subprocess.run([sys.executable, "-m", "linnet", "run", "--optimizer", "gd[lr=1e-5]", "--steps",
                           "3000", "--json", "--progress"], capture_output=True, text=True)
    assert proc.returncode == 0 and json.loads(proc.stdout)["steps"] == 3000
    assert "step" in proc.stderr and "loss" in proc.stderr  # the bar: updates, loss, ETA
    quiet = subprocess.run([sys.executable, "-m", "linnet", "run", "--optimizer", "gd[lr=1e-5]", "--steps",
                            "3000", "--json", "--quiet"], capture_output=True, text=True)
    assert quiet.returncode == 0 and quiet.stderr == "" and err is not None


def test_reproduce_help_defaults_are_accepted(capsys):
    """Every default printed by ``reproduce --help`` parses as that option's value."""
    import re

    with pytest.raises(SystemExit):
        main(["reproduce", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    defaults = re.findall(r"--([\w-]+) [A-Z_]+ .*?\(default: ([^)]+)\)", text)
    assert defaults
    from linnet.cli import build_parser

    for option, value in defaults:
        build_parser().parse_args(["reproduce", "--out", "x", f"--{option}", value])


def test_nothing_imports_the_cli():
    """The CLI sits at the top: no module of linnet (but ``__main__``) imports linnet.cli."""
    import ast
    from pathlib import Path

    root = Path(linnet.__file__).parent
    for path in root.rglob("*.py"):
        if path.name in ("cli.py", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, (ast.Import, ast.ImportFrom)) else []
            module = node.module if isinstance(node, ast.ImportFrom) else ""
            assert "linnet.cli" not in names and module != "linnet.cli" and not (
                module == "linnet" and "cli" in names), path
