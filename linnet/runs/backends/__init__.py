"""Backends other than numpy's own loop (:mod:`linnet.runs.loop`).

* :mod:`linnet.runs.backends.tensorflow` -- the post's sample loss, TensorFlow autodiff and Keras 3
  optimizers, one compiled call per step or the whole loop compiled into one call.

Nothing here imports a backend's framework: :func:`linnet.run` imports the backend module when a
run asks for it, and that module imports its framework only then, so ``import linnet`` and numpy
runs never pay for TensorFlow.
"""
