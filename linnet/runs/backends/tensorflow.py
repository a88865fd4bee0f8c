"""The TensorFlow backend: the post's loss, autodiff and TensorFlow's own optimizers.

    >>> import linnet
    >>> result = linnet.run(linnet.post_problem(0), "gd[lr=1e-05]", 3000, backend="tensorflow")
    >>> round(result.final_loss, 3)      # the numpy backend's number (see tests/test_tensorflow.py)
    73.063

What it computes, step for step as the post's TF1 notebook did:

* the loss over the samples, ``reduce_sum(squared_difference(W1 @ (W2 @ X), Y))`` (for the expected
  loss, ``nsamples=0``, ``reduce_sum(squared_difference(W1 @ W2, A))``), in the problem's dtype
  (float64 unless the problem was cast with ``problem.astype(np.float32)``);
* gradients by ``tf.GradientTape`` and the post's gradient magnitude sqrt(sum_k ||dL/dWk||^2);
* updates by the Keras 3 optimizer each optimizer builds with its ``keras_optimizer`` method (the
  capability that puts ``"tensorflow"`` in its ``backends``; docs/optimizers.md), configured to
  linnet's (TF1) semantics for the built-ins: ``gd`` and ``momentum`` are
  ``keras.optimizers.SGD`` (Keras keeps m = -lr v for linnet's v <- momentum v + g, the same
  recursion when lr is constant), ``adam`` is ``Adam(epsilon=1e-8)`` (Keras 3 folds the bias
  correction into the step size like TF1's AdamOptimizer), ``rmsprop`` is ``RMSprop`` without
  momentum or centering. Hyperparameters are exact in the problem's dtype: the learning rate is a
  variable of that dtype, the others numpy float64 scalars. Left to themselves, Keras (a float32
  learning-rate variable, ``tf.cast`` of Python floats) and TF1 (``convert_to_tensor``, then a
  cast) both round them through float32 -- lr=1e-5 moves by 2.5e-8 relative, momentum 0.9 by
  2.6e-8 -- which the post's float64 runs carried and which would put 5e-7 (momentum) to 2e-5
  (adam) between this backend and numpy instead of round-off. ``keras[optimizer=...]``
  (:mod:`linnet.optimizers.adapters.keras_class`) runs any other Keras optimizer the same way.

The run loop has the numpy loop's semantics (:func:`linnet.runs.loop._loop`): ``losses[k]`` is the loss
after k updates, the run stops at the first non-finite loss (``diverged``), at the optional target,
or after ``steps`` updates, and the final weights are those of the last loss recorded.

Modes (``mode=``):

* ``"per-step"``: one compiled ``tf.function`` call per step, which returns the loss and gradient
  magnitude and applies the update, then a host round trip to test the loss -- the post's
  ``sess.run([loss, gradient_magnitude, train_op])``. The timing baseline.
* ``"compiled"`` (default): the whole loop, history and stopping tests included, in one
  ``tf.function`` (a ``tf.while_loop`` writing TensorArrays).
* ``"xla"``: the same loop compiled with XLA (``jit_compile=True``); recompiled per step count.

Traced functions and their variables are cached per (optimizer and its hyperparameters except the
learning rate, layer and sample shapes, dtype, mode), so a sweep over seeds or learning rates
traces once. ``Result.seconds`` is the wall time of the loop after tracing and graph compilation.

TensorFlow is imported on the first run that asks for this backend, with its start-up log quietened
(``TF_CPP_MIN_LOG_LEVEL=2``, ``TF_ENABLE_ONEDNN_OPTS=0``, which also keeps oneDNN's reordered
float32 arithmetic out of the numbers; both only where the environment does not set them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
import time
from collections import OrderedDict

import numpy as np

from linnet.core.errors import LinnetError
from linnet.core.validation import check_steps, check_target
from linnet.optimizers.base import runs_on
from linnet.optimizers.registry import REGISTRY
from linnet.runs import result as results
from linnet.runs.backends.tf_runtime import device, tensorflow_modules
from linnet.runs.backends.tf_trainer import Trainer
from linnet.runs.result import Result

MODES = ("per-step", "compiled", "xla")
DEFAULT_MODE = "compiled"
#: the most steps of the compiled and XLA loops: their step count and TensorArrays are int32-sized
MAX_GRAPH_STEPS = 2**31 - 2

#: at most this many traced configurations are kept (least recently used dropped first)
CACHE_SIZE = 16
_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()


def __getattr__(name: str):
    """``SUPPORTED``: {spec name: class} of the registered optimizers this backend runs (those whose
    ``backends`` include ``"tensorflow"``), read from the registry when asked, so an optimizer
    registered after this module was imported is in it."""
    if name == "SUPPORTED":
        return {spec_name: REGISTRY[spec_name] for spec_name in runs_on("tensorflow")}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _trainer(optimizer, problem, mode) -> Trainer:
    hyper = tuple((f.name, getattr(optimizer, f.name)) for f in dataclasses.fields(optimizer) if f.name != "lr")
    key = (type(optimizer), hyper, tuple(w.shape for w in problem.weights),
           None if problem.X is None else problem.X.shape, problem.dtype.name, mode)
    with _cache_lock:
        trainer = _cache.get(key)
        if trainer is None:
            tf, keras = tensorflow_modules()
            with tf.device(device(tf)):  # variables and loop on the GPU when TensorFlow sees one
                trainer = _cache[key] = Trainer(tf, keras, optimizer, problem, mode)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
        _cache.move_to_end(key)
    return trainer


@contextlib.contextmanager
def _refused(optimizer):
    """One LinnetError line for a Keras optimizer that fails to build or trace on this backend's
    variables (a user's or an adapter's; e.g. one that needs Keras' own variables)."""
    try:
        yield
    except LinnetError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever Keras or TensorFlow raises, the optimizer is refused
        kind = type(exc).__name__
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()] or [kind]
        last = lines[-1] if lines[-1].startswith(kind) else f"{kind}: {lines[-1]}"  # TF ends with the cause
        raise LinnetError(f"{optimizer.spec}: its Keras optimizer fails on the tensorflow backend: {last}") from None


def run(problem, optimizer, steps: int, *, target: float | None = None, mode: str = DEFAULT_MODE,
        callback=None, **options) -> Result:
    """Run a first-order optimizer on ``problem`` with TensorFlow; see the module docstring.

    Args:
        problem: a :class:`linnet.problems.problem.Problem` (float64, or float32 via ``astype``).
        optimizer: an optimizer whose ``backends`` include ``"tensorflow"`` (gd, momentum, adam,
            rmsprop, keras, or a user's with a ``keras_optimizer`` method; :func:`linnet.run`
            parses specs).
        steps: the most updates to apply.
        target: stop once the relative loss is at most this.
        mode: ``"per-step"``, ``"compiled"`` (default) or ``"xla"``.
        callback: ``callback(step, weights, loss)`` as for numpy; per-step mode only.

    Returns:
        The same :class:`linnet.runs.result.Result` as the numpy loop, with ``backend="tensorflow"``.
    """
    if options:
        raise LinnetError(f"unknown tensorflow backend option {', '.join(sorted(options))}; it takes mode")
    if mode not in MODES:
        raise LinnetError(f"unknown tensorflow mode {mode!r}; choose one of {', '.join(MODES)}")
    optimizer.check_backend("tensorflow")
    steps = check_steps(steps)
    target = check_target(target)
    if problem.dtype not in (np.float32, np.float64):
        raise LinnetError(f"the tensorflow backend runs float32 or float64 problems, not {problem.dtype}")
    if mode != "per-step" and steps > MAX_GRAPH_STEPS:
        raise LinnetError(f"the {mode} tensorflow loop holds at most {MAX_GRAPH_STEPS} steps (an int32 count, "
                          f"its history sized in the graph), got {steps}; use mode='per-step'")
    if callback is not None and mode != "per-step":
        raise LinnetError(f"a callback needs mode='per-step' on the tensorflow backend, not {mode!r}")
    # the stopping threshold in the variables' dtype, so host and graph tests agree
    target_loss = -math.inf if target is None else float(problem.dtype.type(target * problem.y_norm2))
    with _refused(optimizer):
        trainer = _trainer(optimizer, problem, mode)
    with trainer.lock, trainer.tf.device(trainer.device):
        trainer.reset(problem, optimizer)
        with _refused(optimizer):
            trainer.warm_up(steps)
        trainer.reset(problem, optimizer)
        start = time.perf_counter()
        if mode == "per-step":
            losses, norms, k, status = trainer.run_per_step(steps, target_loss, callback)
        else:
            losses, norms, k, status = trainer.run_loop(steps, target_loss)
        seconds = time.perf_counter() - start
        weights = trainer.weights()
    return results.stopped(status, k, optimizer.spec, "tensorflow", problem, losses, norms, weights, seconds,
                           device=trainer.device)
