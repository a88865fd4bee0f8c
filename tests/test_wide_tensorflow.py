"""TensorFlow's compiled loop on a wide, deep net: float64 and float32 against numpy; the device recorded."""

import dataclasses

import numpy as np
import pytest

import linnet
from linnet.runs.record import record

pytestmark = pytest.mark.tensorflow
pytest.importorskip("tensorflow")


def wide(depth=3, width=256, dim=16, seed=0):
    """A conditioned target with depth layers of one hidden width, fan-in scaled Gaussian start."""
    p = linnet.conditioned_problem(100.0, seed, xdim=dim, wdim=width, ydim=dim, nsamples=0, rank=dim)
    rs = np.random.RandomState(seed + 1)
    widths = [dim] + [width] * (depth - 1) + [dim]
    weights = tuple(rs.randn(widths[k], widths[k + 1]) / np.sqrt(widths[k + 1]) for k in range(depth))
    return dataclasses.replace(p, weights=weights, _cache={})


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-3)])
def test_compiled_loop_on_a_wide_deep_net_agrees_with_numpy(dtype, rtol):
    """30 compiled gd steps at depth 3, width 256 (lr = 0.005; 0.05 diverges): losses within rtol of numpy's."""
    problem = wide().astype(dtype)
    tf_run = linnet.run(problem, "gd[lr=0.005]", 30, backend="tensorflow", mode="compiled")
    np_run = linnet.run(problem, "gd[lr=0.005]", 30)
    assert tf_run.losses[-1] < 1e-2 * tf_run.losses[0]  # it learns
    gap = np.max(np.abs(tf_run.losses - np_run.losses) / np_run.losses)
    assert gap <= rtol  # measured 8e-14 (float64), 1e-5 (float32)


def test_the_device_is_recorded():
    import tensorflow as tf

    result = linnet.run(wide(depth=2, width=32, dim=4), "gd[lr=0.05]", 3, backend="tensorflow")
    expected = "GPU:0" if tf.config.list_physical_devices("GPU") else "CPU:0"
    assert result.device == expected and record(result)["device"] == expected
    assert linnet.run(wide(depth=2, width=32, dim=4), "gd[lr=0.05]", 3).device == "CPU"


def test_the_device_is_in_the_benchmark_machine_info():
    """Once TensorFlow is imported (as by a TensorFlow benchmark) the machine info names its device."""
    import tensorflow as tf

    from linnet.runs.backends.tf_runtime import device
    from linnet.runs.machine import machine_info

    assert machine_info()["tensorflow_device"] == device(tf)
