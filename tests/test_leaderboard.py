"""The leaderboard (``linnet leaderboard``): the recorded one is the README's, and a tiny one (two
optimizers, two seeds per setting, two rates, 3000 steps) holds the numbers direct runs give.

The tiny leaderboard costs about a second; the direct runs it is checked against another."""

import contextlib
import io
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

import linnet
from linnet.cli import main
from linnet.optimizers.registry import REGISTRY
from linnet.reports.card.questions import POST, REACH_TARGETS
from linnet.reports.figures.style import problems
from linnet.reports.leaderboard.board import leaderboard
from linnet.reports.leaderboard.command import paths
from linnet.reports.leaderboard.entrants import entrants
from linnet.reports.leaderboard.family import FAMILY
from linnet.reports.leaderboard.table import markdown

ROOT = Path(__file__).resolve().parent.parent
HELD, DEV, GRID, STEPS = (1000, 1001), (0, 1), (1e-5, 3.16228e-05), 3000
ARGV = ["leaderboard", "--optimizers", "gd", "lm", "--seeds", "1000-1001", "--development", "0-1",
        "--grid", "1e-5,3.16228e-05", "--steps", str(STEPS), "--json"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The command on a tiny configuration: (its JSON on stdout, the --out folder)."""
    out = tmp_path_factory.mktemp("leaderboard")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main([*ARGV, "--out", str(out)]) == 0
    return json.loads(printed.getvalue()), out


def _direct(data):
    """{(optimizer, setting, seed): linnet.run at the spec the leaderboard tuned for that setting}."""
    out = {}
    for entry in data["optimizers"]:
        for cell, setting in zip(entry["settings"], FAMILY, strict=True):
            for seed in HELD:
                problem = linnet.make_problem(**setting.params, seed=seed)
                out[entry["optimizer"], setting.name, seed] = linnet.run(problem, cell["spec"], STEPS,
                                                                         target=REACH_TARGETS[-1])
    return out


def test_the_table_has_every_optimizer_setting_and_target(tiny):
    data, out = tiny
    assert [e["optimizer"] for e in data["optimizers"]] == ["lm", "gd"]  # lm reaches 1e-6 in fewer steps
    assert data["held_out_seeds"] == "1000-1001" and data["development_seeds"] == "0-1" and data["grid"] == list(GRID)
    assert [f["setting"] for f in data["family"]] == [s.name for s in FAMILY] and data["problems"] == 2 * len(FAMILY)
    assert json.loads((out / "leaderboard.json").read_text()) == data  # what --out wrote is what was printed
    for entry in data["optimizers"]:
        assert list(entry["reached"]) == [f"{t:g}" for t in REACH_TARGETS]
        assert all(c["runs"] == data["problems"] for c in entry["reached"].values())
        assert [s["setting"] for s in entry["settings"]] == [s.name for s in FAMILY]
        assert set(entry["profile"]) == {"steps", "seconds"}
    gd = data["optimizers"][1]
    assert all(s["lr"] in GRID and s["spec"] == f"gd[lr={s['lr']!r}]" for s in gd["settings"])
    table = markdown(data).split("\n\n")[0].splitlines()
    assert len(table) == 2 + 2 and table[2].startswith("| 1 | `lm` | batched |") and table[3].startswith("| 2 | `gd` |")
    assert all(row.count("|") == table[0].count("|") for row in table)


def test_the_numbers_are_those_of_direct_runs(tiny):
    """Each cell is what linnet.run gives at the tuned spec, and the performance profile's rho(1)
    and rho(inf) in steps are those of the direct runs' steps to 1e-6."""
    data, _ = tiny
    runs = _direct(data)
    for entry in data["optimizers"]:
        name = entry["optimizer"]
        for cell, setting in zip(entry["settings"], FAMILY, strict=True):
            for t in REACH_TARGETS:
                firsts = [runs[name, setting.name, s].steps_to(t) for s in HELD]
                steps = np.array([math.inf if k is None else k for k in firsts], dtype=float)
                got = cell["reached"][f"{t:g}"]
                assert got["reached"] == int(np.isfinite(steps).sum()), (name, setting.name, t)
                assert (got["median"] if got["median"] is not None else math.inf) == float(np.median(steps))
    names = [e["optimizer"] for e in data["optimizers"]]
    firsts = [[runs[n, s.name, seed].steps_to(1e-6) for n in names] for s in FAMILY for seed in HELD]
    cost = np.array([[math.inf if k is None else k for k in row] for row in firsts], dtype=float)
    best = cost.min(axis=1, keepdims=True)
    for j, entry in enumerate(data["optimizers"]):
        assert entry["profile"]["steps"]["best"]["estimate"] == pytest.approx(
            np.mean(np.isfinite(cost[:, j]) & (cost[:, j] == best[:, 0])))
        assert entry["profile"]["steps"]["solved"]["estimate"] == pytest.approx(np.mean(np.isfinite(cost[:, j])))
        assert entry["profile"]["steps"]["solved"]["estimate"] == pytest.approx(
            entry["reached"]["1e-06"]["reached"] / data["problems"])


def test_the_figures_are_written_and_keep_the_style_rules(tiny):
    _, out = tiny
    for name, path in paths(out).items():
        assert path.exists(), name
        if name.endswith(".png"):
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from linnet.reports.figures import leaderboard as figures

    board = leaderboard(["lm", "als"], settings=(POST, FAMILY[1]), held_out=HELD, development=DEV, steps=100)
    drawn = figures.draw(board)
    assert sorted(drawn) == ["profile", "steps"]
    for name, fig in drawn.items():
        assert problems(fig) == [], name
    assert list(board.costs["steps"].columns) == [e.label for e in board.entries]
    assert board.costs["steps"].shape == (board.problems, 2)


def test_every_registered_optimizer_is_entered_or_listed_with_why():
    entered, absent = entrants()
    names = {linnet.parse(e.optimizer.spec).name for e in entered} | {a.name for a in absent}
    assert names == set(REGISTRY)
    assert {a.name for a in absent} == {"keras", "optax", "torch"} and all(a.why for a in absent)


def test_a_setting_an_optimizer_cannot_run_is_listed_and_counts_as_never():
    from dataclasses import dataclass

    from linnet.optimizers.registry import unregister
    from linnet.reports.card.questions import DEPTHS

    @linnet.register("board-two-layers")
    @dataclass(frozen=True)
    class TwoLayers(linnet.FirstOrder):
        lr: float
        max_layers = 2

        def step(self, weights, grads, state, lr):
            return tuple(W - lr * g for W, g in zip(weights, grads)), state

    try:
        board = leaderboard([TwoLayers(lr=1e-5), "lm"], settings=(POST, DEPTHS[0]), held_out=HELD, development=(0,),
                            grid=(1e-5,), steps=50)
    finally:
        unregister("board-two-layers")
    data = board.to_dict()
    mine = next(e for e in data["optimizers"] if e["optimizer"] == "board-two-layers")
    assert mine["settings"][1] == {"setting": "depth 3",
                                   "not_run": "board-two-layers handles at most 2 layers; depth 3 has 3"}
    assert all(c["runs"] == 4 and c["reached"] <= 2 for c in mine["reached"].values())
    assert mine["profile"]["steps"]["solved"]["estimate"] <= 0.5
    assert "board-two-layers not run on depth 3" in markdown(data)


@pytest.mark.parametrize("args, message", [
    (["--optimizers", "nosuch"], "unknown optimizer 'nosuch'"),
    (["--optimizers", "gd", "gd[lr=0.1]"], "gd is entered twice"),
    (["--optimizers", "keras"], "runs on the numpy backend"),
    (["--seeds", "5-30"], "must not overlap the development seeds 0-19"),
    (["--grid", "1e-3,x"], "--grid must be numbers"),
    (["--steps", "0"], "--steps must be a positive integer"),
    (["--processes", "0"], "--processes"),
    (["--processes", "2", "--scheduler", "local"], "not both"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, capsys):
    with contextlib.suppress(SystemExit):  # argparse's errors exit; linnet's return
        assert main(["leaderboard", *args]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and len(captured.err.strip().splitlines()) == 1 and not captured.out


def test_an_existing_output_is_refused_before_any_run(tmp_path, capsys):
    (tmp_path / "profile.png").write_text("mine")
    assert main(["leaderboard", "--optimizers", "lm", "--out", str(tmp_path)]) == 2
    assert "exists" in capsys.readouterr().err and (tmp_path / "profile.png").read_text() == "mine"
    assert not (tmp_path / "leaderboard.json").exists()


def test_the_readme_shows_the_recorded_leaderboard():
    """The README's table is generated from docs/leaderboard/leaderboard.json, which `linnet
    leaderboard --out docs/leaderboard` wrote with its figures; every registered built-in is on it
    or listed as not entered."""
    folder = ROOT / "docs" / "leaderboard"
    assert all(p.exists() for p in paths(folder).values())
    data = json.loads((folder / "leaderboard.json").read_text())
    assert data["held_out_seeds"] == "1000-1019" and data["development_seeds"] == "0-19" and len(data["grid"]) == 17
    builtin = {n for n, cls in REGISTRY.items() if cls.__module__.startswith("linnet.")}
    listed = {re.match(r"[a-z-]+", e["optimizer"]).group(0) for e in data["optimizers"]}
    assert listed | {a["optimizer"] for a in data["not_entered"]} == builtin
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- leaderboard table -->\n(.*?)\n<!-- end leaderboard table -->", readme, re.S)
    assert block and block.group(1).strip() == markdown(data)
