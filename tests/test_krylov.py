"""The row-space operator, its preconditioners and the CG solve against dense oracles (jacobian.dense_jacobian)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linnet.core.errors import LinnetError
from linnet.optimizers.linalg import krylov
from linnet.problems.jacobian import dense_jacobian


def vec(M):
    return M.ravel(order="F")


@st.composite
def layered(draw, min_depth=1, max_depth=4):
    """Random layers (depth and widths drawn), C (xdim, m) of full column rank or None (S = I), mu > 0."""
    depth = draw(st.integers(min_depth, max_depth))
    widths = [draw(st.integers(1, 5)) for _ in range(depth + 1)]
    rs = np.random.RandomState(draw(st.integers(0, 2**31 - 1)))
    weights = tuple(rs.randn(widths[k], widths[k + 1]) for k in range(depth))
    C = None if draw(st.booleans()) else rs.randn(widths[-1], draw(st.integers(1, widths[-1])))
    mu = draw(st.sampled_from([1e-3, 0.1, 1.0, 10.0]))
    return weights, C, mu, rs


def dense_operator(weights, C, mu):
    J = dense_jacobian(weights, C)
    return J, J @ J.T + mu * np.eye(J.shape[0])


def kron_oracle(system, mu):
    """Dense I kron R_1 + R_N kron L_N + mu I (column-major vec: vec(L V R) = (R kron L) vec(V), R symmetric)."""
    (_, R1), (LN, RN) = system.factors[0], system.factors[-1]
    ydim, m = system.Q.shape[0], system.m
    eye_y, eye_m = np.eye(ydim), np.eye(m)
    LN = eye_y if LN is None else LN
    RN = eye_m if RN is None else RN
    first = np.zeros((ydim * m, ydim * m)) if len(system.factors) == 1 else np.kron(R1, eye_y)
    return first + np.kron(RN, LN) + mu * np.eye(ydim * m)


@given(layered())
def test_operator_matches_the_dense_damped_gram(case):
    weights, C, mu, rs = case
    _, K = dense_operator(weights, C, mu)
    system = krylov.row_system(weights, C)
    V = rs.randn(weights[0].shape[0], system.m)
    np.testing.assert_allclose(vec(krylov.apply(system, V, mu)), K @ vec(V), rtol=1e-10, atol=1e-10)


@given(layered())
def test_kron_preconditioner_inverts_the_first_and_last_terms(case):
    """M^-1 is the exact inverse of V R_1 + L_N V R_N + mu V; for depth <= 2 that is the whole operator."""
    weights, C, mu, rs = case
    system = krylov.row_system(weights, C)
    V = rs.randn(weights[0].shape[0], system.m)
    M = kron_oracle(system, mu)
    out = krylov.preconditioner(system, mu, "kron")(V)
    np.testing.assert_allclose(M @ vec(out), vec(V), rtol=1e-7, atol=1e-7 * np.abs(V).max())
    if len(weights) <= 2:
        _, K = dense_operator(weights, C, mu)
        np.testing.assert_allclose(K @ vec(out), vec(V), rtol=1e-7, atol=1e-7 * np.abs(V).max())


@given(layered())
def test_jacobi_preconditioner_is_the_inverse_diagonal(case):
    weights, C, mu, rs = case
    _, K = dense_operator(weights, C, mu)
    system = krylov.row_system(weights, C)
    V = rs.randn(weights[0].shape[0], system.m)
    np.testing.assert_allclose(vec(krylov.preconditioner(system, mu, "jacobi")(V)), vec(V) / np.diag(K), rtol=1e-10)


@given(layered(), st.sampled_from(krylov.PRECONDITIONERS))
def test_tight_cg_step_equals_the_dense_lm_step(case, precond):
    """-J^T z from CG at rtol 1e-12 equals -(J^T J + mu I)^-1 J^T r solved in parameter space."""
    weights, C, mu, rs = case
    J, _ = dense_operator(weights, C, mu)
    system = krylov.row_system(weights, C)
    RC = rs.randn(weights[0].shape[0], system.m)
    Z, S, info = krylov.solve(system, RC, mu, 1e-12, precond=precond, maxiter=10 * RC.size)
    assert info.converged
    d = np.concatenate([vec(x) for x in krylov.step_from_row(system, weights, Z)])
    dense = -np.linalg.solve(J.T @ J + mu * np.eye(J.shape[1]), J.T @ vec(RC))
    np.testing.assert_allclose(d, dense, rtol=1e-7, atol=1e-8 * max(1.0, np.abs(dense).max()))
    # the residual the recurrence carries is the true residual
    np.testing.assert_allclose(S, RC - krylov.apply(system, Z, mu), atol=1e-9 * np.abs(RC).max())


@given(layered())
def test_direct_solve_is_the_dense_solve(case):
    weights, C, mu, rs = case
    _, K = dense_operator(weights, C, mu)
    system = krylov.row_system(weights, C)
    RC = rs.randn(weights[0].shape[0], system.m)
    np.testing.assert_allclose(krylov.dense_operator(system, mu), K, rtol=1e-12, atol=1e-12 * np.abs(K).max())
    Z, S, info = krylov.direct_solve(system, RC, mu)
    np.testing.assert_allclose(K @ vec(Z), vec(RC), rtol=1e-8, atol=1e-8 * np.abs(RC).max())
    assert info.iterations == 0 and np.abs(S).max() <= 1e-8 * np.abs(RC).max()


def test_kron_preconditioner_solves_two_layers_in_one_iteration():
    rs = np.random.RandomState(0)
    weights = (rs.randn(6, 9), rs.randn(9, 5))
    C = rs.randn(5, 5)
    system = krylov.row_system(weights, C)
    RC = rs.randn(6, 5)
    _, _, info = krylov.solve(system, RC, 0.1, 1e-10, precond="kron")
    _, _, plain = krylov.solve(system, RC, 0.1, 1e-10, precond="none")
    assert info.iterations == 1 and info.converged
    assert plain.iterations > 5  # negative control: without it CG needs many (measured 20)


def test_a_loose_tolerance_is_caught():
    """Negative control: a CG solve stopped early differs from the dense step by far more than the test's tolerance."""
    rs = np.random.RandomState(3)
    weights = (rs.randn(4, 6), rs.randn(6, 6), rs.randn(6, 4))
    system = krylov.row_system(weights, None)
    RC = rs.randn(4, 4)
    J = dense_jacobian(weights)
    Z, _, info = krylov.solve(system, RC, 1e-3, 0.5, precond="none")
    d = np.concatenate([vec(x) for x in krylov.step_from_row(system, weights, Z)])
    dense = -np.linalg.solve(J.T @ J + 1e-3 * np.eye(J.shape[1]), J.T @ vec(RC))
    assert not info.converged or info.relative_residual > 1e-7
    assert not np.allclose(d, dense, rtol=1e-7, atol=1e-8)


def test_forcing_terms():
    """Eisenstat-Walker choice 2: start 0.5, then 0.9 (ratio)^2, safeguarded, bounded by [eta_min, 0.9]."""
    assert krylov.forcing_term(1.0, None, None) == 0.5
    assert krylov.forcing_term(0.1, 1.0, 0.01) == pytest.approx(0.9 * 0.01)
    assert krylov.forcing_term(0.1, 1.0, 0.5) == pytest.approx(0.9 * 0.25)  # safeguard 0.225 > 0.009
    assert krylov.forcing_term(2.0, 1.0, 0.01) == 0.9  # the cap
    assert krylov.forcing_term(1e-9, 1.0, 1e-3, eta_min=1e-10) == 1e-10  # the floor


def test_unknown_preconditioner_is_one_clear_error():
    system = krylov.row_system((np.eye(2),), None)
    with pytest.raises(LinnetError, match="unknown preconditioner"):
        krylov.preconditioner(system, 1.0, "ilu")
