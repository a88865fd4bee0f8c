"""Hypothesis strategies shared by the property tests: small random problems and layers."""

import numpy as np
from hypothesis import strategies as st

import linnet

seeds = st.integers(min_value=0, max_value=2**31 - 1)
dims = st.integers(min_value=1, max_value=7)
sample_counts = st.sampled_from([0, 3, 17, 200])  # 0 = the expected loss


@st.composite
def problems(draw, nsamples=sample_counts):
    """A post-family or conditioned problem with random dims, seed and sample count."""
    xdim, wdim, ydim = draw(dims), draw(dims), draw(dims)
    seed, n = draw(seeds), draw(nsamples)
    if draw(st.booleans()):
        return linnet.post_problem(seed, xdim=xdim, wdim=wdim, ydim=ydim, nsamples=n)
    rank = min(xdim, ydim, wdim)
    kappa = 1.0 if rank == 1 else draw(st.floats(1.0, 1e6))
    return linnet.conditioned_problem(kappa, seed, xdim=xdim, wdim=wdim, ydim=ydim, nsamples=n)


def random_weights(problem, seed, scale=1.0):
    """Random layers shaped like the problem's, (ydim, wdim) and (wdim, xdim)."""
    rs = np.random.RandomState(seed)
    return tuple(scale * rs.randn(*w.shape) for w in problem.weights)
