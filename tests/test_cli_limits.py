"""The command line at its limits: a huge step budget, Ctrl-C during a run."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from linnet.cli import main
from linnet.optimizers.stopping import INTERRUPTED, TARGET_REACHED

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


# -- a step budget far beyond memory -------------------------------------------------------------

@pytest.mark.parametrize("steps", ["1e10", "1e12"])
def test_a_huge_budget_with_a_target_stops_at_the_target(capsys, steps):
    assert main(["run", "--steps", steps, "--target", "1e-6", "--optimizer", "lm", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == TARGET_REACHED and 0 < out["steps"] < 100 and out["relative_loss"] <= 1e-6


# -- Ctrl-C ----------------------------------------------------------------------------------------

def interrupt_a_run(*options):
    """Start a long ``linnet run``, wait until its progress bar shows a loss, then send SIGINT."""
    argv = [sys.executable, "-m", "linnet", "run", "--optimizer", "gd[lr=1e-5]", "--steps", "100000000",
            "--progress", *options]
    proc = subprocess.Popen(argv, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = b""
    while b"loss" not in seen:  # the bar's postfix: the loop is running
        chunk = os.read(proc.stderr.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out.decode(), (seen + err).decode()


def test_ctrl_c_prints_the_run_so_far_as_json():
    code, out, err = interrupt_a_run("--json")
    assert code == 130 and "Traceback" not in err, err
    record = json.loads(out)
    assert record["status"] == INTERRUPTED and record["steps"] > 0 and record["message"].startswith("interrupted")
    assert record["final_loss"] < record["initial_loss"]


def test_ctrl_c_prints_the_run_so_far_as_text():
    code, out, err = interrupt_a_run()
    assert code == 130 and "Traceback" not in err, err
    assert "interrupted" in out and "final loss" in out
    steps = int(next(line for line in out.splitlines() if line.strip().startswith("steps")).split()[1])
    assert steps > 0


def test_ctrl_c_outside_the_loop_is_one_line_and_130(capsys, monkeypatch):
    import linnet.cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(linnet.cli, "problem_from_args", interrupted)
    try:
        code = main(["run", "--optimizer", "lm"])
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped the command line as a traceback")
    assert code == 130
    assert capsys.readouterr().err == "linnet: interrupted\n"
