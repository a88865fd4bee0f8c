"""lm and gauss-newton in the row space (solver=cg, dense): the CG solve against the exact ones, at depth 2 and 3."""

import dataclasses
import tracemalloc

import numpy as np
import pytest

import linnet
from linnet.core.errors import LinnetError
from linnet.optimizers.linalg import gauss_newton, krylov
from linnet.optimizers.second_order import GaussNewton, LevenbergMarquardt


def deep_problem(depth, width, dim, *, kappa=100.0, nsamples=1000, seed=0):
    """A conditioned problem (rank dim) with depth layers of the given hidden width, fan-in scaled start."""
    p = linnet.conditioned_problem(kappa, seed, xdim=dim, wdim=width, ydim=dim, nsamples=nsamples, rank=dim)
    rs = np.random.RandomState(seed + 1)
    widths = [dim] + [width] * (depth - 1) + [dim]
    weights = tuple(rs.randn(widths[k], widths[k + 1]) / np.sqrt(widths[k + 1]) for k in range(depth))
    return dataclasses.replace(p, weights=weights, _cache={})


def relative_gap(a, b):
    return np.max(np.abs(a - b) / np.abs(b))


def test_tight_inner_tolerance_follows_the_direct_lm_at_depth_two():
    """Against linnet's direct lm (an independent implementation): the first 5 losses within 1e-6 relative."""
    problem = linnet.conditioned_problem(100.0, 0, xdim=6, wdim=8, ydim=10, nsamples=200, rank=6)
    direct = linnet.run(problem, "lm", 5).losses
    tight = linnet.run(problem, "lm[solver=cg,precond=none,rtol=1e-13,maxiter=2000]", 5).losses
    assert relative_gap(tight, direct) <= 1e-6  # measured 8e-13
    loose = linnet.run(problem, "lm[solver=cg,precond=none,rtol=0.5]", 5).losses
    assert relative_gap(loose, direct) > 1e-6  # negative control: a loose solve leaves the path (measured 129)


def test_tight_inner_tolerance_follows_the_direct_solve_at_depth_three():
    problem = deep_problem(3, 12, 6)
    direct = linnet.run(problem, "lm[solver=dense]", 5).losses
    tight = linnet.run(problem, "lm[solver=cg,rtol=1e-13]", 5).losses
    # measured 6e-15 .. 3e-12 on steps 1-4, 3e-8 on step 5 (whose loss is 1e-17 of the start: rounding)
    assert relative_gap(tight, direct) <= 1e-6
    loose = linnet.run(problem, "lm[solver=cg,rtol=0.5]", 5).losses
    assert relative_gap(loose, direct) > 1e-6  # negative control (measured 2e11)


@pytest.mark.parametrize("precond", krylov.PRECONDITIONERS)
def test_default_tolerance_reaches_machine_precision_at_depth_three(precond):
    """Eisenstat-Walker truncation keeps LM's fast local rate: relative 1e-20 at depth 3."""
    problem = deep_problem(3, 24, 8)
    result = linnet.run(problem, f"lm[solver=cg,precond={precond}]", 60, target=1e-20)
    assert result.final_loss / problem.y_norm2 <= 1e-20  # measured 8e-21 (kron, 5 steps), 2e-28, 7e-30 (6); floor 2e-31
    inner = result.traces["inner_iterations"]
    assert inner[0] == 0 and inner[1:].min() >= 1 and len(inner) == len(result.losses)
    assert np.all(np.diff(result.losses) <= 0)  # LM never increases the loss


def test_gauss_newton_follows_the_structured_step_at_depth_two():
    """gauss-newton[solver=cg] with a tight CG solve against linnet's two-layer gauss-newton (SVD, min-norm)."""
    problem = linnet.conditioned_problem(100.0, 0, xdim=6, wdim=8, ydim=10, nsamples=200, rank=6)
    direct = linnet.run(problem, "gauss-newton[step=0.5]", 5).losses
    tight = linnet.run(problem, "gauss-newton[step=0.5,solver=cg,rtol=1e-13,maxiter=2000]", 5).losses
    assert relative_gap(tight, direct) <= 1e-6  # measured 6e-14
    loose = linnet.run(problem, "gauss-newton[step=0.5,solver=cg,precond=none,rtol=0.5]", 5).losses
    assert relative_gap(loose, direct) > 1e-6  # negative control (measured 0.78)


@pytest.mark.parametrize("solver", ["cg", "dense"])
def test_gauss_newton_full_steps_converge_at_depth_three(solver):
    problem = deep_problem(3, 24, 8)
    result = linnet.run(problem, f"gauss-newton[step=1.0,solver={solver}]", 30, target=1e-20)
    assert result.relative_loss <= 1e-20  # measured 6e-25 (cg), 5e-21 (dense), in 5 steps


def test_memory_is_a_few_copies_of_the_layers():
    """Peak numpy allocation of one update (tracemalloc): a few copies of the layers plus output-sized blocks."""
    problem = deep_problem(3, 256, 32, nsamples=0)
    opt = LevenbergMarquardt(solver="cg")
    ev = linnet.problems.losses.evaluate(problem, problem.weights)
    state = opt.init(problem, problem.weights)
    tracemalloc.start()
    opt.update(problem, problem.weights, ev, state)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    params = sum(W.nbytes for W in problem.weights)
    dense_gram = (32 * 32) ** 2 * 8  # what the direct row-space solve would form
    assert peak <= 6 * params  # measured 2.4x the layers' bytes
    assert peak < dense_gram


def test_auto_switches_to_cg_above_the_row_space_threshold():
    """solver=auto, for lm and gauss-newton alike: the direct solve (no row-space traces) while
    ydim * rank(S) <= ROW_SPACE_MAX, cg beyond (traced inner iterations); solver=direct refuses beyond."""
    small = deep_problem(3, 12, 6)
    assert "inner_iterations" not in linnet.run(small, "lm", 3).traces
    assert "inner_iterations" not in linnet.run(small, "gauss-newton[step=1.0,solver=auto]", 3).traces
    big = deep_problem(2, 72, 65, nsamples=0)  # ydim m = 4225 > 4096
    assert big.ydim * big.S_factor.shape[1] > gauss_newton.ROW_SPACE_MAX
    for spec in ("lm", "gauss-newton[step=1.0,solver=auto]"):
        result = linnet.run(big, spec, 2)
        assert result.traces["inner_iterations"].max() > 0 and result.losses[-1] < result.losses[0]
    with pytest.raises(LinnetError, match="row-space matrix"):
        linnet.run(big, "gauss-newton[step=1.0]", 1)  # gauss-newton's default is solver=direct


def test_dense_is_the_cg_loop_with_an_exact_solve():
    """solver=dense spends no CG iterations and agrees with a tight CG solve (measured 1e-12 relative)."""
    problem = deep_problem(3, 12, 6)
    dense = linnet.run(problem, "lm[solver=dense]", 5)
    assert dense.traces["inner_iterations"].max() == 0
    tight = linnet.run(problem, "lm[solver=cg,rtol=1e-13]", 5)
    assert tight.traces["inner_iterations"].max() > 0
    assert relative_gap(tight.losses[:4], dense.losses[:4]) <= 1e-9


def test_bad_settings_are_one_clear_error():
    with pytest.raises(LinnetError, match="precond must be one of"):
        linnet.run(linnet.post_problem(0), "lm[precond=ilu]", 1)
    with pytest.raises(LinnetError, match="rtol must be in"):
        LevenbergMarquardt(rtol=2.0)
    with pytest.raises(LinnetError, match="solver must be one of"):
        LevenbergMarquardt(solver="lu")
    with pytest.raises(LinnetError, match="maxiter"):
        GaussNewton(step=1.0, solver="cg", maxiter=0)
    with pytest.raises(LinnetError, match="jacobian=kron is solved by lstsq"):
        GaussNewton(step=1.0, jacobian="kron", solver="cg")
    assert "rowspace" not in " ".join(linnet.optimizers.registry.REGISTRY)
