"""The traced TensorFlow program of one configuration: variables, a Keras optimizer, the step or loop.

See :mod:`linnet.runs.backends.tensorflow` for what it computes and why (the module docstring there
states the post's loss, the Keras optimizers' semantics and the modes).
"""

from __future__ import annotations

import math
import threading

import numpy as np

from linnet.optimizers import stopping
from linnet.runs import history
from linnet.runs.backends.tf_runtime import device


class Trainer:
    """Variables, a Keras optimizer and the traced step or loop for one configuration.

    The Keras optimizer is the one ``optimizer.keras_optimizer`` builds (the optimizer's declared
    tensorflow capability, :meth:`linnet.optimizers.base.Optimizer.keras_optimizer`), its learning
    rate a variable of the problem's dtype. A run assigns the problem's arrays and the learning rate
    to the variables, puts the Keras optimizer's state back to its values when built (zeros, or an
    initial accumulator such as Adagrad's), then calls the traced function, so one trace serves every
    run that shares the configuration. The lock keeps two threads from sharing the variables at once.
    """

    def __init__(self, tf, keras, optimizer, problem, mode):
        self.tf = tf
        self.mode = mode
        self.device = device(tf)  #: where the variables and the traced code run
        self.dtype = tf.as_dtype(problem.dtype.name)
        self.lock = threading.Lock()
        self.warm: set = set()
        zeros = lambda shape, name: tf.Variable(tf.zeros(shape, self.dtype), trainable=False, name=name)
        self.layers = tuple(tf.Variable(tf.zeros(w.shape, self.dtype), name=f"W{i + 1}")
                            for i, w in enumerate(problem.weights))
        self.lr = zeros((), "learning_rate")
        self.X = None if problem.X is None else zeros(problem.X.shape, "X")
        self.Y = zeros(problem.A.shape if problem.X is None else (problem.ydim, problem.nsamples), "Y")
        self.optimizer = optimizer.keras_optimizer(keras, lambda: self.lr, problem.dtype)
        self.optimizer.build(list(self.layers))
        self.built = [var.numpy() for var in self.optimizer.variables]  #: its state before any step
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
        for var, w in zip(self.layers, problem.weights):
            var.assign(w)
        self.lr.assign(optimizer.lr)
        if self.X is None:
            self.Y.assign(problem.A)
        else:
            self.X.assign(problem.X)
            self.Y.assign(problem.Y)
        for var, value in zip(self.optimizer.variables, self.built):
            var.assign(value)

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
        """The loop on the host, one traced call per step; its histories grow with the steps taken."""
        tf = self.tf
        yes, no = tf.constant(True), tf.constant(False)
        target_t = tf.constant(target_loss, self.dtype)
        losses = history.start(steps)
        norms = history.start(steps)
        step = self.step
        for k in range(steps + 1):
            if k == len(losses):
                losses, norms = history.grow(losses, steps), history.grow(norms, steps)
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
