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
* updates by Keras 3 optimizers configured to linnet's (TF1) semantics: ``gd`` and ``momentum`` are
  ``keras.optimizers.SGD`` (Keras keeps m = -lr v for linnet's v <- momentum v + g, the same
  recursion when lr is constant), ``adam`` is ``Adam(epsilon=1e-8)`` (Keras 3 folds the bias
  correction into the step size like TF1's AdamOptimizer), ``rmsprop`` is ``RMSprop`` without
  momentum or centering. Hyperparameters are exact in the problem's dtype: the learning rate is a
  variable of that dtype, the others numpy float64 scalars. Left to themselves, Keras (a float32
  learning-rate variable, ``tf.cast`` of Python floats) and TF1 (``convert_to_tensor``, then a
  cast) both round them through float32 -- lr=1e-5 moves by 2.5e-8 relative, momentum 0.9 by
  2.6e-8 -- which the post's float64 runs carried and which would put 5e-7 (momentum) to 2e-5
  (adam) between this backend and numpy instead of round-off.

The run loop has the numpy loop's semantics (:func:`linnet.run._loop`): ``losses[k]`` is the loss
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
import os
import sys
import threading
import time
from collections import OrderedDict

import numpy as np

from linnet import results, stopping
from linnet.errors import LinnetError
from linnet.optimizers.first_order import GD, Adam, Momentum, RMSprop
from linnet.results import Result
from linnet.validation import check_steps, check_target

MODES = ("per-step", "compiled", "xla")
DEFAULT_MODE = "compiled"
INSTALL_HINT = "pip install 'linnet[tensorflow]'"

#: the optimizers this backend runs, by spec name
SUPPORTED = {"gd": GD, "momentum": Momentum, "adam": Adam, "rmsprop": RMSprop}

#: at most this many traced configurations are kept (least recently used dropped first)
CACHE_SIZE = 16

_modules = None
_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()


def configure_environment() -> None:
    """Quieten TensorFlow's C++ start-up log before it is imported (where the environment does not
    say otherwise): ``TF_CPP_MIN_LOG_LEVEL=2``, and ``TF_ENABLE_ONEDNN_OPTS=0``, the only setting
    that silences TF 2.21's oneDNN banner; it also keeps oneDNN's reordered arithmetic out of the
    numbers. Has no effect once TensorFlow is imported."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


@contextlib.contextmanager
def _native_stderr_silenced():
    """Point file descriptor 2 at /dev/null for the duration (restored on exit, errors included).

    TensorFlow's C++ start-up messages ("All log messages before absl::InitializeLog() ...", the
    CUDA probe of the GPU build on a machine without a GPU) are written to fd 2 before any log
    level applies, so no environment variable silences them in TF 2.21. Python exceptions are
    unaffected: they propagate and print after the descriptor is restored.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr (embedded, some test runners)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _tensorflow():
    """Import TensorFlow and Keras 3 once, quietly; LinnetError naming the extra when missing."""
    global _modules
    if _modules is None:
        configure_environment()
        try:
            with _native_stderr_silenced():
                import tensorflow as tf

                tf.config.list_physical_devices()  # the device probe logs natively too
        except ImportError as err:
            raise LinnetError(f"the tensorflow backend needs TensorFlow: {INSTALL_HINT} ({err})") from None
        try:
            import keras
        except ImportError as err:  # missing, or KERAS_BACKEND names an absent framework
            raise LinnetError(f"the tensorflow backend needs Keras 3 on TensorFlow ({err}): {INSTALL_HINT}, "
                              "with KERAS_BACKEND unset or 'tensorflow'") from None
        if int(keras.__version__.split(".")[0]) < 3:
            raise LinnetError(f"the tensorflow backend needs Keras 3, found {keras.__version__}: {INSTALL_HINT}")
        if keras.backend.backend() != "tensorflow":
            raise LinnetError(f"the tensorflow backend needs Keras on TensorFlow, but KERAS_BACKEND is "
                              f"{keras.backend.backend()!r}; unset it or set KERAS_BACKEND=tensorflow")
        tf.get_logger().setLevel("ERROR")  # retracing and deprecation warnings
        try:
            from absl import logging as absl_logging

            absl_logging.set_verbosity(absl_logging.ERROR)
        except ImportError:  # pragma: no cover - absl comes with TensorFlow
            pass
        _modules = (tf, keras)
    return _modules


def check_optimizer(optimizer) -> None:
    """LinnetError unless this backend runs ``optimizer`` (gd, momentum, adam, rmsprop)."""
    backends = getattr(type(optimizer), "backends", ())
    if "tensorflow" not in backends or not isinstance(optimizer, SUPPORTED.get(optimizer.name, ())):
        spec = getattr(optimizer, "spec", repr(optimizer))
        raise LinnetError(f"{spec} is available on the numpy backend only; "
                          f"the tensorflow backend runs {', '.join(SUPPORTED)}")


def _keras_optimizer(keras, optimizer, learning_rate, dtype):
    """The Keras 3 optimizer with linnet's semantics (see the module docstring).

    Keras casts a Python-float hyperparameter with ``tf.cast``, which goes through float32 (0.9
    becomes 0.8999999761581421), as TF1's ``convert_to_tensor`` did; numpy float64 scalars (which
    are Python floats to Keras' checks) keep float64 problems' hyperparameters exact.
    """
    h = np.float64 if dtype == np.float64 else float
    name = optimizer.name
    if name == "gd":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.0)
    if name == "momentum":
        return keras.optimizers.SGD(learning_rate=learning_rate, momentum=h(optimizer.momentum),
                                    nesterov=False)
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=h(optimizer.beta1),
                                     beta_2=h(optimizer.beta2), epsilon=h(optimizer.eps), amsgrad=False)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=learning_rate, rho=h(optimizer.rho), momentum=0.0,
                                        epsilon=h(optimizer.eps), centered=False)
    raise AssertionError(name)  # pragma: no cover - check_optimizer ran first


class _Trainer:
    """Variables, a Keras optimizer and the traced step or loop for one configuration.

    A run assigns the problem's arrays and the learning rate to the variables, zeroes the
    optimizer's state, then calls the traced function, so one trace serves every run that shares
    the configuration. The lock keeps two threads from sharing the variables at once.
    """

    def __init__(self, tf, keras, optimizer, problem, mode):
        self.tf = tf
        self.mode = mode
        self.dtype = tf.as_dtype(problem.dtype.name)
        self.lock = threading.Lock()
        self.warm: set = set()
        zeros = lambda shape, name: tf.Variable(tf.zeros(shape, self.dtype), trainable=False, name=name)
        self.layers = tuple(tf.Variable(tf.zeros(w.shape, self.dtype), name=f"W{i + 1}")
                            for i, w in enumerate(problem.weights))
        self.lr = zeros((), "learning_rate")
        self.X = None if problem.X is None else zeros(problem.X.shape, "X")
        self.Y = zeros(problem.A.shape if problem.X is None else (problem.ydim, problem.nsamples), "Y")
        self.optimizer = _keras_optimizer(keras, optimizer, lambda: self.lr, problem.dtype)
        self.optimizer.build(list(self.layers))
        if mode == "per-step":
            self.step = tf.function(self._step)
        else:
            self.loop = tf.function(self._loop, jit_compile=mode == "xla")

    # -- graph code -----------------------------------------------------------------------------
    def _loss(self):
        """The post's loss: reduce_sum(squared_difference(W1 @ (W2 @ X), Y)); the expected loss
        ||W1 W2 - A||_F^2 when there are no samples (then Y holds A)."""
        tf = self.tf
        if self.X is None:
            Z = self.layers[0]
            for W in self.layers[1:]:
                Z = tf.matmul(Z, W)
        else:
            Z = self.X
            for W in reversed(self.layers):  # W1 @ (W2 @ X), as the post
                Z = tf.matmul(W, Z)
        return tf.reduce_sum(tf.math.squared_difference(Z, self.Y))

    def _evaluate(self):
        tf = self.tf
        with tf.GradientTape() as tape:
            loss = self._loss()
        grads = tape.gradient(loss, self.layers)
        grad_norm = tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(g)) for g in grads]))
        return loss, list(grads), grad_norm

    def _step(self, update, target_loss):
        """Loss and gradient magnitude at the current layers; then the update, if ``update`` and
        the loss is finite and above the target (the loop's stopping tests, so the layers stay at
        the last loss recorded)."""
        tf = self.tf
        loss, grads, grad_norm = self._evaluate()
        go = tf.logical_and(update, tf.logical_and(tf.math.is_finite(loss), loss > target_loss))
        tf.cond(go, lambda: self._apply(grads), lambda: tf.constant(False))
        return loss, grad_norm

    def _apply(self, grads):
        self.optimizer.apply(grads, list(self.layers))
        return self.tf.constant(True)

    def _loop(self, steps, target_loss):
        """The whole run: returns (updates applied, losses, gradient norms); histories have
        steps + 1 entries of which the first updates + 1 are written."""
        tf = self.tf
        loss, grads, grad_norm = self._evaluate()
        losses = tf.TensorArray(self.dtype, size=steps + 1, element_shape=[]).write(0, loss)
        norms = tf.TensorArray(self.dtype, size=steps + 1, element_shape=[]).write(0, grad_norm)

        def proceed(k, loss, grads, losses, norms):
            return (k < steps) & tf.math.is_finite(loss) & (loss > target_loss)

        def body(k, loss, grads, losses, norms):
            self.optimizer.apply(grads, list(self.layers))
            loss, grads, grad_norm = self._evaluate()
            return k + 1, loss, grads, losses.write(k + 1, loss), norms.write(k + 1, grad_norm)

        k, _, _, losses, norms = tf.while_loop(proceed, body, (tf.constant(0), loss, grads, losses, norms))
        return k, losses.stack(), norms.stack()

    # -- host side ------------------------------------------------------------------------------
    def reset(self, problem, optimizer):
        """Start from the problem's initial layers with fresh optimizer state."""
        tf = self.tf
        for var, w in zip(self.layers, problem.weights):
            var.assign(w)
        self.lr.assign(optimizer.lr)
        if self.X is None:
            self.Y.assign(problem.A)
        else:
            self.X.assign(problem.X)
            self.Y.assign(problem.Y)
        for var in self.optimizer.variables:
            var.assign(tf.zeros(var.shape, var.dtype))

    def warm_up(self, steps):
        """Trace and instantiate the function (XLA: compile for this step count) without timing
        it; a target of +inf stops before any update."""
        key = steps if self.mode == "xla" else None
        if key in self.warm:
            return
        tf = self.tf
        stop = tf.constant(math.inf, self.dtype)
        if self.mode == "per-step":
            self.step(tf.constant(False), stop)
        else:
            self.loop(tf.constant(steps, tf.int32), stop)
        self.warm.add(key)

    def run_per_step(self, steps, target_loss, callback):
        tf = self.tf
        yes, no = tf.constant(True), tf.constant(False)
        target_t = tf.constant(target_loss, self.dtype)
        losses = np.empty(steps + 1)
        norms = np.empty(steps + 1)
        step = self.step
        for k in range(steps + 1):
            loss_t, norm_t = step(yes if k < steps and callback is None else no, target_t)
            loss = losses[k] = float(loss_t)
            norms[k] = float(norm_t)
            status = stopping.decide(k, steps, loss, target_loss)
            if status is not None:
                break
            if callback is not None:
                if callback(k, self.weights(), loss):
                    status = stopping.STOPPED_BY_CALLBACK
                    break
                step(yes, target_t)  # the same point again (deterministic), now with the update
        return losses[: k + 1], norms[: k + 1], k, status

    def run_loop(self, steps, target_loss):
        tf = self.tf
        k, losses, norms = self.loop(tf.constant(steps, tf.int32), tf.constant(target_loss, self.dtype))
        k = int(k)
        losses = losses.numpy()[: k + 1].astype(np.float64)
        norms = norms.numpy()[: k + 1].astype(np.float64)
        # the graph stopped on the same tests; the shared rule names which one
        status = stopping.decide(k, steps, float(losses[k]), target_loss)
        return losses, norms, k, status

    def weights(self) -> tuple:
        return tuple(var.numpy() for var in self.layers)


def _trainer(optimizer, problem, mode) -> _Trainer:
    hyper = tuple((f.name, getattr(optimizer, f.name)) for f in dataclasses.fields(optimizer) if f.name != "lr")
    key = (type(optimizer), hyper, tuple(w.shape for w in problem.weights),
           None if problem.X is None else problem.X.shape, problem.dtype.name, mode)
    with _cache_lock:
        trainer = _cache.get(key)
        if trainer is None:
            tf, keras = _tensorflow()
            trainer = _cache[key] = _Trainer(tf, keras, optimizer, problem, mode)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
        _cache.move_to_end(key)
    return trainer


def run(problem, optimizer, steps: int, *, target: float | None = None, mode: str = DEFAULT_MODE,
        callback=None, **options) -> Result:
    """Run a first-order optimizer on ``problem`` with TensorFlow; see the module docstring.

    Args:
        problem: a :class:`linnet.problems.Problem` (float64, or float32 via ``astype``).
        optimizer: a gd, momentum, adam or rmsprop instance (:func:`linnet.run` parses specs).
        steps: the most updates to apply.
        target: stop once the relative loss is at most this.
        mode: ``"per-step"``, ``"compiled"`` (default) or ``"xla"``.
        callback: ``callback(step, weights, loss)`` as for numpy; per-step mode only.

    Returns:
        The same :class:`linnet.results.Result` as the numpy loop, with ``backend="tensorflow"``.
    """
    if options:
        raise LinnetError(f"unknown tensorflow backend option {', '.join(sorted(options))}; it takes mode")
    if mode not in MODES:
        raise LinnetError(f"unknown tensorflow mode {mode!r}; choose one of {', '.join(MODES)}")
    check_optimizer(optimizer)
    steps = check_steps(steps)
    target = check_target(target)
    if problem.dtype not in (np.float32, np.float64):
        raise LinnetError(f"the tensorflow backend runs float32 or float64 problems, not {problem.dtype}")
    if callback is not None and mode != "per-step":
        raise LinnetError(f"a callback needs mode='per-step' on the tensorflow backend, not {mode!r}")
    # the stopping threshold in the variables' dtype, so host and graph tests agree
    target_loss = -math.inf if target is None else float(problem.dtype.type(target * problem.y_norm2))
    trainer = _trainer(optimizer, problem, mode)
    with trainer.lock:
        trainer.reset(problem, optimizer)
        trainer.warm_up(steps)
        trainer.reset(problem, optimizer)
        start = time.perf_counter()
        if mode == "per-step":
            losses, norms, k, status = trainer.run_per_step(steps, target_loss, callback)
        else:
            losses, norms, k, status = trainer.run_loop(steps, target_loss)
        seconds = time.perf_counter() - start
        weights = trainer.weights()
    return results.stopped(status, k, optimizer.spec, "tensorflow", problem, losses, norms, weights, seconds)
