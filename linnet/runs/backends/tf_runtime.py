"""Importing TensorFlow for the TensorFlow backend: once, quietly, with one clear error when missing.

TensorFlow is imported on the first run that asks for the backend, with its start-up log quietened
(``TF_CPP_MIN_LOG_LEVEL=2``, ``TF_ENABLE_ONEDNN_OPTS=0``, which also keeps oneDNN's reordered
float32 arithmetic out of the numbers; both only where the environment does not set them).
"""

from __future__ import annotations

import contextlib
import os
import sys

from linnet.core.errors import LinnetError

INSTALL_HINT = "pip install 'linnet[tensorflow]'"

_modules = None


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


def device(tf) -> str:
    """The device the backend places its variables and loop on: the first GPU TensorFlow sees, else the CPU."""
    return "GPU:0" if tf.config.list_physical_devices("GPU") else "CPU:0"


def tensorflow_modules():
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
