"""Structured Jacobian products against the dense Jacobian and against finite differences."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from linnet.problems.jacobian import dense_jacobian, jvp, partial_products, row_factors, row_gram_apply, vjp


@st.composite
def layered(draw):
    """Random layers of depth 1-5 and widths 1-5, a random C (or None for S = I), a seed."""
    depth = draw(st.integers(1, 5))
    widths = [draw(st.integers(1, 5)) for _ in range(depth + 1)]
    seed = draw(st.integers(0, 2**31 - 1))
    rs = np.random.RandomState(seed)
    weights = tuple(rs.randn(widths[k], widths[k + 1]) for k in range(depth))
    C = None if draw(st.booleans()) else rs.randn(widths[-1], draw(st.integers(1, 6)))
    return weights, C, rs


def vec(M):
    return M.ravel(order="F")


def product(weights):
    P = weights[0]
    for W in weights[1:]:
        P = P @ W
    return P


@given(layered())
def test_products_match_the_dense_jacobian(case):
    weights, C, rs = case
    J = dense_jacobian(weights, C)
    deltas = tuple(rs.randn(*W.shape) for W in weights)
    out = jvp(weights, deltas, C)
    np.testing.assert_allclose(vec(out), J @ np.concatenate([vec(d) for d in deltas]), rtol=1e-10, atol=1e-10)
    V = rs.randn(*out.shape)
    back = vjp(weights, V, C)
    assert [b.shape for b in back] == [W.shape for W in weights]
    np.testing.assert_allclose(np.concatenate([vec(b) for b in back]), J.T @ vec(V), rtol=1e-10, atol=1e-10)
    gram = row_gram_apply(row_factors(weights, C), V)
    np.testing.assert_allclose(vec(gram), J @ (J.T @ vec(V)), rtol=1e-10, atol=1e-10)


@given(layered())
def test_jvp_is_the_derivative_of_the_residual(case):
    """Central differences of P(W + h dW) C: exact for the linear part, error O(h^2)."""
    weights, C, rs = case
    deltas = tuple(rs.randn(*W.shape) for W in weights)
    Cm = np.eye(weights[-1].shape[1]) if C is None else C
    h = 1e-5
    plus = product([W + h * d for W, d in zip(weights, deltas)]) @ Cm
    minus = product([W - h * d for W, d in zip(weights, deltas)]) @ Cm
    fd = (plus - minus) / (2 * h)
    exact = jvp(weights, deltas, C)
    scale = max(1.0, np.abs(exact).max())
    assert np.abs(fd - exact).max() <= 1e-6 * scale


def test_partial_products_of_three_layers():
    rs = np.random.RandomState(0)
    W = (rs.randn(4, 3), rs.randn(3, 2), rs.randn(2, 5))
    pre, suf = partial_products(W)
    assert pre[0] is None and suf[2] is None
    np.testing.assert_allclose(pre[2], W[0] @ W[1])
    np.testing.assert_allclose(suf[0], W[1] @ W[2])
    np.testing.assert_allclose(pre[1], W[0])
    np.testing.assert_allclose(suf[1], W[2])


def test_a_wrong_product_is_caught():
    """Negative control: a jvp that drops one layer's term disagrees with the dense Jacobian."""
    rs = np.random.RandomState(1)
    weights = (rs.randn(3, 2), rs.randn(2, 4))
    deltas = tuple(rs.randn(*W.shape) for W in weights)
    J = dense_jacobian(weights)
    full = J @ np.concatenate([vec(d) for d in deltas])
    dropped = jvp(weights, (deltas[0], np.zeros_like(deltas[1])))
    assert not np.allclose(vec(dropped), full)


def test_two_layers_agree_with_the_gauss_newton_module():
    from linnet.optimizers.linalg import gauss_newton

    rs = np.random.RandomState(2)
    weights, C = (rs.randn(5, 3), rs.randn(3, 4)), rs.randn(4, 4)
    np.testing.assert_array_equal(dense_jacobian(weights, C), gauss_newton.jacobian(C, weights))
