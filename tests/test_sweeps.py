"""Sweeps: grid and ids, value parsing, batched runs against one-at-a-time runs, the Parquet store
with resume, plots and the performance profile, the sweep and plot commands."""

import json
import math

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import linnet
from linnet.cli import main
from linnet.core.errors import LinnetError
from linnet.reports.figures.sweep import profile_curves
from linnet.runs.batched import run_batched
from linnet.runs.experiment import member_id
from linnet.sweeps.driver import plan_tasks, run_sweep
from linnet.sweeps.execute import run_members
from linnet.sweeps.grid import ROW_TARGETS, Grid, grid_from_dict, target_column
from linnet.sweeps.parse import parse_values, read_grid_file
from linnet.sweeps.rows import SCHEMA
from linnet.sweeps.store import load

CHEAP = settings(max_examples=30, derandomize=True, deadline=None)


# -- grid, ids, parsing ---------------------------------------------------------------------------


def test_member_ids_are_stable_and_distinct():
    grid = Grid({"seed": [0, 1], "kappa": [1.0, 100.0], "family": ["conditioned"]}, ("gd[lr=1e-05]", "lm"), 10)
    members = grid.members()
    assert len(members) == 8 and len({m["id"] for m in members}) == 8
    # the same parameters in another key order, and the spec spelled otherwise, give the same ids
    other = Grid({"family": ["conditioned"], "kappa": [1, 100], "seed": [0, 1]}, ("lm", "gd[lr=0.00001]"), 10)
    assert {m["id"] for m in other.members()} == {m["id"] for m in members}
    # pinned: ids must not change between versions, or resuming an old sweep would rerun it
    assert member_id({"seed": 0, "optimizer": "lm", "steps": 10, "target": None}) == "e661a6f6b1e00edd"


def test_kappa_implies_the_conditioned_family():
    grid = Grid({"seed": [0], "kappa": [10.0]}, ("lm",), 5)
    assert grid.problem["family"] == ["conditioned"]
    rows, _ = run_members(grid.members())
    assert rows[0]["error"] is None and rows[0]["family"] == "conditioned"


def test_grid_extends():
    small = Grid({"seed": [0, 1]}, ("gd[lr=1e-05]",), 10)
    assert Grid({"seed": [0, 1, 2]}, ("gd[lr=1e-05]", "lm"), 10).extends(small)
    assert not Grid({"seed": [0, 1]}, ("gd[lr=1e-05]",), 11).extends(small)


@pytest.mark.parametrize("key, text, values", [
    ("seed", "0-3,7", [0, 1, 2, 3, 7]),
    ("kappa", "1,1e2,1e4", [1.0, 100.0, 1e4]),
    ("cond", "1e-5", [1e-5]),
    ("widths", "6x6,8x8", [(6, 6), (8, 8)]),
    ("init", "gaussian,balanced", ["gaussian", "balanced"]),
])
def test_parse_values(key, text, values):
    assert parse_values(key, text) == values


@pytest.mark.parametrize("data, message", [
    ({"seeds": [0], "optimizer": ["gd[lr=1e-5]"], "kapa": [1]}, "unknown grid key 'kapa'"),
    ({"seeds": ["a"], "optimizer": ["gd[lr=1e-5]"]}, "grid key 'seed'"),
    ({"seeds": [0], "optimizer": []}, "at least one optimizer"),
    ({"seeds": [0], "optimizer": ["gd"]}, "missing parameter lr"),
    ({"seeds": [0], "optimizer": ["lm"], "steps": -1}, "grid key 'steps'"),
    ({"dtype": ["float16"], "optimizer": ["lm"]}, "grid key 'dtype'"),
])
def test_bad_grid_is_one_error_naming_it(data, message):
    with pytest.raises(LinnetError, match=message):
        grid_from_dict(data)


def test_toml_grid_file(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text('seeds = "0-2"\nfamily = "conditioned"\nkappa = [1, 1e2]\n'
                    'optimizer = ["gd[lr=1e-5]", "lm"]\nsteps = 50\ntarget = 1e-8\n')
    grid = read_grid_file(path)
    assert grid.problem == {"seed": [0, 1, 2], "family": ["conditioned"], "kappa": [1.0, 100.0]}
    assert grid.optimizers == ("gd[lr=1e-05]", "lm") and grid.steps == 50 and grid.target == 1e-8
    assert grid_from_dict(json.loads(json.dumps(grid.to_dict()))) == grid
    path.write_text("seeds = [0\n")
    with pytest.raises(LinnetError, match="not valid TOML"):
        read_grid_file(path)


# -- batched == one at a time ---------------------------------------------------------------------

SPECS = {
    "gd": lambda lr: f"gd[lr={lr!r}]",
    "momentum": lambda lr: f"momentum[lr={lr!r},momentum=0.9]",
    "adam": lambda lr: f"adam[lr={lr!r}]",
    "rmsprop": lambda lr: f"rmsprop[lr={lr!r}]",
}


def _agrees(row, result) -> bool:
    """A batched row against linnet.run's Result: status, steps, divergence, steps to targets, and
    the final loss to 1e-12 relative."""
    if (row["status"], row["steps"], row["diverged"]) != (result.status, result.steps, result.diverged):
        return False
    if any(row[target_column(t)] != result.steps_to(t) for t in ROW_TARGETS):
        return False
    if result.diverged:
        return row["divergence_step"] == result.divergence_step
    return math.isclose(row["final_loss"], result.final_loss, rel_tol=1e-12, abs_tol=1e-300)


@st.composite
def batch_members(draw):
    """2-4 members of one shape and optimizer kind with their own seeds, step sizes (some large
    enough to diverge), step limit and target."""
    dims = {k: draw(st.integers(1, 5)) for k in ("xdim", "wdim", "ydim")}
    kind = draw(st.sampled_from(sorted(SPECS)))
    steps = draw(st.integers(0, 60))
    target = draw(st.sampled_from([None, 1e-2, 1e-4]))
    n = draw(st.integers(2, 4))
    seeds = draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n, unique=True))
    members = []
    for seed in seeds:
        lr = draw(st.sampled_from([1e-4, 1e-3, 1e-2, 0.3, 3.0]))
        nsamples = draw(st.sampled_from([0, 20]))
        member = dict(dims, seed=seed, nsamples=nsamples, optimizer=SPECS[kind](lr), steps=steps, target=target)
        member["id"] = member_id(member)
        members.append(member)
    return members


@CHEAP
@given(batch_members())
def test_batched_rows_equal_single_runs(members):
    rows, _ = run_members(members)
    assert all(r["batched"] for r in rows)
    for member, row in zip(members, rows):
        problem = linnet.post_problem(member["seed"], xdim=member["xdim"], wdim=member["wdim"],
                                      ydim=member["ydim"], nsamples=member["nsamples"])
        result = linnet.run(problem, member["optimizer"], member["steps"], target=member["target"])
        assert _agrees(row, result), (member, row, result.status, result.steps, result.final_loss)


@st.composite
def second_order_members(draw):
    """2-4 members of one shape running lm or gauss-newton (steps 0.2, 1 and 100: the last diverges
    within ~60 steps) at depth 2 or 3, with their own seeds and sample counts."""
    dims = {k: draw(st.integers(1, 5)) for k in ("xdim", "wdim", "ydim")}
    spec = draw(st.sampled_from(["lm", "lm[tau=10.0]", "gauss-newton[step=0.2]", "gauss-newton[step=1.0]",
                                 "gauss-newton[step=100.0]", "gauss-newton[step=1.0,rcond=machine]"]))
    depth = draw(st.sampled_from([None, None, 3]))
    # long enough to stall (lm: NO_PROGRESS after 8-40 steps) or diverge (gauss-newton[step=100.0])
    steps, target = draw(st.sampled_from([0, 3, 80])), draw(st.sampled_from([None, None, 1e-6, 1e-20]))
    n = draw(st.integers(2, 4))
    seeds = draw(st.lists(st.integers(0, 10_000), min_size=n, max_size=n, unique=True))
    members = []
    for seed in seeds:
        member = dict(dims, depth=depth, seed=seed, nsamples=draw(st.sampled_from([0, 20])), optimizer=spec,
                      steps=steps, target=target)
        member["id"] = member_id(member)
        members.append(member)
    return members


@settings(max_examples=40, derandomize=True, deadline=None)
@given(second_order_members())
def test_batched_second_order_rows_equal_single_runs(members):
    """Batched Gauss-Newton and lm rows agree with linnet.run: status, steps, divergence step, steps
    to every recorded target and the final loss to 1e-12 relative (they are bit for bit equal:
    tests/test_batched_second_order.py)."""
    rows, _ = run_members(members)
    assert all(r["batched"] for r in rows)
    for member, row in zip(members, rows):
        problem = linnet.post_problem(member["seed"], xdim=member["xdim"], wdim=member["wdim"], ydim=member["ydim"],
                                      nsamples=member["nsamples"], depth=member["depth"])
        result = linnet.run(problem, member["optimizer"], member["steps"], target=member["target"])
        assert _agrees(row, result), (member, row, result.status, result.steps, result.final_loss)


def test_batched_equality_check_can_fail():
    """Negative control: a member whose step size is off by 1e-6 relative no longer agrees."""
    problems = [linnet.post_problem(s) for s in (0, 1)]
    out = run_batched(problems, "gd[lr=1e-05]", 200, lrs=[1e-5, 1e-5 * (1 + 1e-6)])
    results = [linnet.run(p, "gd[lr=1e-05]", 200) for p in problems]
    assert math.isclose(out.final_loss[0], results[0].final_loss, rel_tol=1e-12)
    assert not math.isclose(out.final_loss[1], results[1].final_loss, rel_tol=1e-12)


def test_batched_three_layers_match_the_gradient_of_the_loss():
    """Depth 3: the batched gradient against central differences of the batched loss."""
    from linnet.runs.batched_steps import evaluate

    rs = np.random.RandomState(0)
    shapes = [(4, 3), (3, 5), (5, 2)]
    weights = tuple(rs.randn(2, *s) for s in shapes)
    A, X = rs.randn(2, 4, 2), rs.randn(2, 2, 7)
    S = X @ X.transpose(0, 2, 1)
    ev = evaluate(A, S, weights)
    h = 1e-6
    for k in range(len(weights)):
        for idx in [(0, 0, 0), (1, 1, 1), (1, 2, 0)]:
            plus = [w.copy() for w in weights]
            minus = [w.copy() for w in weights]
            plus[k][idx] += h
            minus[k][idx] -= h
            fd = (evaluate(A, S, plus).loss - evaluate(A, S, minus).loss)[idx[0]] / (2 * h)
            assert math.isclose(ev.grads[k][idx], fd, rel_tol=1e-6, abs_tol=1e-6)


def test_gd_steps_to_target_keeps_its_contract():
    from linnet.runs.batched import gd_steps_to_target

    problems = [linnet.post_problem(s) for s in (0, 1)]
    steps = gd_steps_to_target(problems, 1e-5, 5e-3, 20_000)
    single = [linnet.run(p, "gd[lr=1e-05]", 20_000, target=5e-3).steps_to(5e-3) for p in problems]
    assert list(steps) == single


def test_a_member_that_raises_is_a_failed_row_and_the_others_run():
    members = [dict(seed=0, optimizer="gd[lr=1e-05]", steps=5, target=None),
               dict(seed=1, family="conditioned", kappa=0.5, optimizer="gd[lr=1e-05]", steps=5, target=None),
               dict(seed=2, widths=(6, 0), optimizer="lm", steps=5, target=None)]
    for m in members:
        m["id"] = member_id(m)
    rows, _ = run_members(members)
    assert rows[0]["error"] is None and rows[0]["steps"] == 5
    assert "kappa must be" in rows[1]["error"] and rows[1]["status"] is None
    assert rows[2]["error"]  # a width of 0 is bad input


# -- store, resume, tasks -------------------------------------------------------------------------


def test_sweep_writes_one_parquet_row_per_member_and_resumes(tmp_path):
    grid = Grid({"seed": [0, 1, 2]}, ("gd[lr=1e-05]", "gauss-newton[step=0.5]"), 20)
    first = run_sweep(grid, tmp_path, histories=True, progress=False, task_size=2)
    assert (first["members"], first["ran"], first["skipped"], first["failed"]) == (6, 6, 0, 0)
    table = pq.read_table(tmp_path / "results")
    assert table.num_rows == 6 and table.schema.equals(SCHEMA, check_metadata=False)
    df = load(tmp_path)
    assert sorted(df.id) == sorted(m["id"] for m in grid.members())
    assert (load(tmp_path, "histories").losses.map(len) == 21).all()
    assert json.loads((tmp_path / "sweep.json").read_text())["grid"] == grid.to_dict()
    again = run_sweep(grid, tmp_path, progress=False)
    assert (again["ran"], again["skipped"]) == (0, 6)
    bigger = Grid({"seed": [0, 1, 2, 3]}, grid.optimizers, 20)  # extends the old grid: runs only the new
    assert run_sweep(bigger, tmp_path, progress=False)["ran"] == 2
    with pytest.raises(LinnetError, match="different sweep"):
        run_sweep(Grid({"seed": [0]}, ("lm",), 5), tmp_path, progress=False)
    assert run_sweep(Grid({"seed": [0]}, ("lm",), 5), tmp_path, progress=False, force=True)["ran"] == 1
    assert len(load(tmp_path)) == 1


def test_tasks_keep_batchable_members_together():
    grid = Grid({"seed": list(range(1000))}, ("gd[lr=1e-05]", "gd[lr=2e-05]"), 3000)
    lm = Grid({"seed": list(range(8))}, ("lm", "lm[solver=cg]"), 3000)
    members = grid.members() + lm.members()
    tasks = plan_tasks(members, workers=2)
    batched = [t for t in tasks if t[0]["optimizer"].startswith("gd")]
    # both step sizes in one program, one batch per worker; batched lm in tasks of ~1 s (7 members
    # at 50e-6 s per member-step); lm[solver=cg] one by one, ~1 s (3 members) per task
    assert [len(t) for t in batched] == [1000, 1000]
    assert [len(t) for t in tasks if t[0]["optimizer"] == "lm"] == [7, 1]
    assert [len(t) for t in tasks if t[0]["optimizer"] == "lm[solver=cg]"] == [3, 3, 2]
    assert sorted(m["id"] for t in tasks for m in t) == sorted(m["id"] for m in members)
    assert [len(t) for t in plan_tasks(members[:40], workers=2)] == [40]  # small: one task of >= 1 s


# -- plots and the performance profile ------------------------------------------------------------


def test_performance_profile_of_a_known_cost_matrix():
    """Dolan & More (2002): rho_s(tau) = fraction of problems with t_ps <= tau min_s t_ps."""
    import pandas as pd

    costs = pd.DataFrame({"a": [1.0, 4.0, np.nan], "b": [2.0, 2.0, 3.0]})
    taus, curves = profile_curves(costs, np.array([1.0, 2.0, 10.0]))
    np.testing.assert_allclose(curves["a"], [1 / 3, 2 / 3, 2 / 3])
    np.testing.assert_allclose(curves["b"], [2 / 3, 1.0, 1.0])


def test_sweep_and_plot_commands(tmp_path, capsys):
    out = tmp_path / "s"
    argv = ["sweep", "--family", "conditioned", "--kappa", "1,1e2", "--seeds", "0-1", "--nsamples", "0",
            "--optimizer", "gd[lr=0.05]", "--optimizer", "lm", "--steps", "300", "--target", "1e-10",
            "--out", str(out), "--json", "--quiet"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {"members", "ran", "skipped", "failed", "seconds", "out"} and summary["ran"] == 8
    assert main(["plot", str(out), "--x", "kappa", "--y", "steps_to_1e-10"]) == 0
    assert main(["plot", str(out), "--profile"]) == 0
    assert {p.name for p in out.glob("*.png")} == {"steps_to_1e-10-vs-kappa.png", "profile-steps.png",
                                                  "profile-seconds.png"}
    capsys.readouterr()
    assert main(["plot", str(out), "--x", "kapa", "--y", "steps"]) == 2
    assert main(["sweep", "--seeds", "0-x", "--optimizer", "lm", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["linnet: error: no column 'kapa' in the sweep's table; columns: " + ", ".join(SCHEMA.names),
                   "linnet: error: grid key 'seed': expected a number, got '0-x'"]
