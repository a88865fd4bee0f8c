"""The command line at its limits: a huge step budget, Ctrl-C during a run, output paths checked
before any work, and progress bars only on a terminal (or with --progress)."""

import functools
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


def one_error_line(capsys, *fragments):
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("linnet: error: "), err
    assert all(f in err for f in fragments), err


def never(*args, **kwargs):
    raise AssertionError("computed before the output paths were checked")


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
    # SIGINT back to its default in the child: a shell starts background jobs with it ignored, and
    # Python installs no KeyboardInterrupt handler for a signal ignored at its start
    proc = subprocess.Popen(argv, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=functools.partial(signal.signal, signal.SIGINT, signal.SIG_DFL))
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


# -- output paths checked before any work ------------------------------------------------------

@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "a-file"
    path.write_text("")
    return path


@pytest.mark.parametrize("where, message", [("file", "is not a folder"), ("under-file", "cannot create")])
def test_reproduce_checks_its_folder_before_the_runs(capsys, monkeypatch, a_file, where, message):
    from linnet.reports import reproduce

    monkeypatch.setattr(reproduce, "compute", never)
    out = a_file if where == "file" else a_file / "report"
    assert main(["reproduce", "--out", str(out)]) == 2
    one_error_line(capsys, message)


def test_reproduce_refuses_an_existing_file_before_the_runs(capsys, monkeypatch, tmp_path):
    from linnet.reports import reproduce

    monkeypatch.setattr(reproduce, "compute", never)
    (tmp_path / "summary.json").write_text("{}")
    assert main(["reproduce", "--out", str(tmp_path)]) == 2
    one_error_line(capsys, "summary.json exists", "--force")


def test_figures_check_their_folder_before_the_runs(capsys, monkeypatch, a_file):
    from linnet.reports import reproduction

    monkeypatch.setattr(reproduction, "compute", never)
    assert main(["figures", "post", "--out", str(a_file)]) == 2
    one_error_line(capsys, "is not a folder")


def test_plot_checks_its_output_before_reading_the_table(capsys, monkeypatch, tmp_path, a_file):
    from linnet.sweeps import store

    monkeypatch.setattr(store, "load", never)
    argv = ["plot", str(tmp_path), "--x", "kappa", "--y", "steps"]
    assert main([*argv, "--output", str(tmp_path)]) == 2  # a folder where the figure goes
    one_error_line(capsys, "is a folder")
    assert main([*argv, "--output", str(a_file / "figure.png")]) == 2
    one_error_line(capsys, "is not a folder")


@pytest.mark.parametrize("case, message", [("missing-parent", "does not exist"), ("exists", "--force"),
                                           ("folder", "is a folder")])
def test_compare_checks_its_out_file_before_comparing(capsys, monkeypatch, tmp_path, case, message):
    from linnet.reports import compare

    monkeypatch.setattr(compare, "report", never)
    out = {"missing-parent": tmp_path / "missing" / "runs.csv", "exists": tmp_path / "runs.csv",
           "folder": tmp_path}[case]
    if case == "exists":
        out.write_text("")
    assert main(["compare", "--output", "csv", "--out", str(out)]) == 2
    one_error_line(capsys, message)


def test_sweep_checks_its_folder_before_starting_workers(capsys, monkeypatch, a_file):
    from linnet.sweeps import executors

    monkeypatch.setattr(executors, "make_executor", never)
    assert main(["sweep", "--seeds", "0", "--optimizer", "lm", "--out", str(a_file / "sweep")]) == 2
    one_error_line(capsys, "cannot create", "is not a folder")


# -- progress bars -----------------------------------------------------------------------------

def sweep_stderr(out, *options):
    argv = [sys.executable, "-m", "linnet", "sweep", "--seeds", "0-1", "--optimizer", "gd[lr=1e-5]",
            "--steps", "10", "--out", str(out), *options]
    proc = subprocess.run(argv, env=ENV, capture_output=True, timeout=120)  # bytes: carriage returns kept
    assert proc.returncode == 0, proc.stderr
    return proc.stderr.decode()


def test_sweep_draws_no_bar_into_a_pipe_unless_asked(tmp_path):
    err = sweep_stderr(tmp_path / "a")
    assert "\r" not in err and "member" not in err and "sweep" not in err
    forced = sweep_stderr(tmp_path / "b", "--progress")
    assert "\r" in forced and "member" in forced
    assert sweep_stderr(tmp_path / "c", "--quiet") == ""


class Stream:
    def __init__(self, tty):
        self.tty = tty

    def isatty(self):
        return self.tty


@pytest.mark.parametrize("progress, quiet, tty, shown", [
    (False, False, True, True), (False, False, False, False), (True, False, False, True),
    (False, True, True, False)])
def test_one_progress_rule(progress, quiet, tty, shown):
    from argparse import Namespace

    from linnet.core.arguments import shows_progress

    assert shows_progress(Namespace(progress=progress, quiet=quiet), Stream(tty)) is shown


def test_a_closed_pipe_ends_quietly(tmp_path):
    """``linnet run ... | head -c 10``: the reader leaves early; no BrokenPipeError traceback."""
    import subprocess
    import sys

    code = ("import subprocess, sys\n"
            "p = subprocess.Popen([sys.executable, '-m', 'linnet', 'run', '--optimizer', 'gd[lr=1e-5]',"
            " '--steps', '3000', '--json', '--history'], stdout=subprocess.PIPE, stderr=subprocess.PIPE)\n"
            "p.stdout.read(10); p.stdout.close()\n"
            "err = p.stderr.read().decode(); p.wait()\n"
            "print(p.returncode); print(err)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    returncode, _, err = out.partition("\n")
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert int(returncode) in (0, 141), out


def test_the_command_line_imports_no_matplotlib_until_it_draws():
    """Building every command's parser (what each ``linnet`` call does first) leaves matplotlib
    unimported: a sweep or a run pays nothing for it, and a read-only HOME cannot make it warn."""
    import subprocess
    import sys

    code = ("import sys\nfrom linnet.cli import build_parser\nbuild_parser()\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'matplotlib'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
