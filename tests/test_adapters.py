"""The adapters to Keras, optax and torch (linnet.optimizers.adapters): each runs the linnet optimizer
with the same rule to round-off or bit for bit, keeps the optimizer contract, and refuses bad input
in one line.

Measured on the post problem, float64, seeds 0-2 (Keras 3.15 on TF 2.21, optax 0.2.8 on jax 0.10.2,
torch 2.13.0, numpy 2.4), largest relative difference of the loss histories:

=============================================  ==============================  =====  ==========
adapter                                        against                         steps  measured
=============================================  ==============================  =====  ==========
keras[optimizer=SGD,lr=1e-05] (tensorflow)     gd[lr=1e-05] on tensorflow      200    0 (equal)
keras[optimizer=Adam,lr=0.01,epsilon=1e-08]    adam[lr=0.01] on tensorflow     200    0 (equal)
the same two on tensorflow                     gd, adam on numpy               200    1.2e-15
optax[optimizer=sgd,lr=1e-05]                  gd[lr=1e-05]                    300    0 (equal)
optax[optimizer=sgd,lr=1e-06,momentum=0.9]     momentum[lr=1e-06,momentum=0.9] 300    0 (equal)
torch[optimizer=SGD,lr=1e-05]                  gd[lr=1e-05]                    300    1.3e-15
torch[optimizer=SGD,lr=1e-06,momentum=0.9]     momentum[lr=1e-06,momentum=0.9] 300    1.1e-15
=============================================  ==============================  =====  ==========

Asserted: 1e-13 (round-off; equality where the same Keras class runs with the same arguments).
Negative controls, each a rule that differs and is seen to differ: momentum against gd (relative
4 to 10 at 300 steps for the numpy adapters, 0.5 to 0.7 for Keras at 200), Keras' Adam with its own
epsilon 1e-7 (4.6e-10 at 200 steps, seed 0) or with its hyperparameters rounded through float32
(``exact=false``: 1.7e-5) against adam.

The libraries are optional: each test of one skips with one reason line where it is not installed,
and fails instead where LINNET_REQUIRE_ADAPTERS=1 (CI's main environment installs them all).
"""

from __future__ import annotations

import functools
import importlib
import os
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pytest

import linnet
from linnet.optimizers.help import describe_all
from linnet.optimizers.registry import REGISTRY, unregister
from linnet.problems.losses import evaluate
from linnet.runs.backends.tf_runtime import configure_environment
from linnet.testing import check_optimizer

SEEDS = (0, 1, 2)
NUMPY_STEPS = 300
TF_STEPS = 200
ROUND_OFF = 1e-13
REQUIRE = "LINNET_REQUIRE_ADAPTERS"


def library(name: str):
    """Import ``name``, or skip with one reason line where it is missing (fail where REQUIRE=1)."""
    if os.environ.get(REQUIRE) == "1":
        return importlib.import_module(name)
    extra = "tensorflow" if name == "tensorflow" else name
    return pytest.importorskip(name, reason=f"{name} is not installed (pip install 'linnet[{extra}]')")


@pytest.fixture(scope="module")
def optax():
    return library("optax")


@pytest.fixture(scope="module")
def torch():
    return library("torch")


@pytest.fixture(scope="module")
def tensorflow():
    configure_environment()  # before TensorFlow loads, as the backend does
    return pytest.importorskip("tensorflow")


def rel_diff(a, b) -> float:
    """max |a - b| / |a| over the loss histories."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    return float(np.max(np.abs(a - b) / np.abs(a)))


@functools.cache
def losses(spec: str, seed: int, steps: int, backend: str = "numpy"):
    result = linnet.run(linnet.post_problem(seed), spec, steps, backend=backend)
    assert not result.diverged and result.steps == steps
    return result.losses


# -- the same rule, the same numbers ----------------------------------------------------------------

NUMPY_PAIRS = [
    ("optax[optimizer=sgd,lr=1e-05]", "gd[lr=1e-05]"),
    ("optax[optimizer=sgd,lr=1e-06,momentum=0.9]", "momentum[lr=1e-06,momentum=0.9]"),
    ("torch[optimizer=SGD,lr=1e-05]", "gd[lr=1e-05]"),
    ("torch[optimizer=SGD,lr=1e-06,momentum=0.9]", "momentum[lr=1e-06,momentum=0.9]"),
]


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("adapter, same", NUMPY_PAIRS)
def test_numpy_adapters_are_the_linnet_rule(request, adapter, same, seed):
    library(adapter.split("[")[0])
    measured = rel_diff(losses(same, seed, NUMPY_STEPS), losses(adapter, seed, NUMPY_STEPS))
    request.node.user_properties.append(("rel_difference", measured))
    assert measured <= ROUND_OFF
    # negative control: heavy-ball momentum is not gd, and the comparison sees it
    other = "gd[lr=1e-05]" if same.startswith("momentum") else "momentum[lr=1e-06,momentum=0.9]"
    assert rel_diff(losses(other, seed, NUMPY_STEPS), losses(adapter, seed, NUMPY_STEPS)) > 1e-2


KERAS_PAIRS = [
    ("keras[optimizer=SGD,lr=1e-05]", "gd[lr=1e-05]"),
    ("keras[optimizer=Adam,lr=0.01,epsilon=1e-08]", "adam[lr=0.01]"),
]


@pytest.mark.tensorflow
@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("adapter, same", KERAS_PAIRS)
def test_keras_adapter_is_the_built_in_on_tensorflow(tensorflow, request, adapter, same, seed):
    got = losses(adapter, seed, TF_STEPS, "tensorflow")
    np.testing.assert_array_equal(got, losses(same, seed, TF_STEPS, "tensorflow"))  # the same Keras call
    measured = rel_diff(losses(same, seed, TF_STEPS), got)
    request.node.user_properties.append(("rel_difference_to_numpy", measured))
    assert measured <= ROUND_OFF


@pytest.mark.tensorflow
def test_keras_adapter_sees_a_different_rule(tensorflow):
    """Negative controls: momentum against gd; Adam with Keras' own epsilon (1e-7), or with its
    float hyperparameters rounded through float32 (``exact=false``), against adam."""
    gd, adam = losses("gd[lr=1e-05]", 0, TF_STEPS, "tensorflow"), losses("adam[lr=0.01]", 0, TF_STEPS, "tensorflow")
    assert rel_diff(gd, losses("keras[optimizer=SGD,lr=1e-05,momentum=0.5]", 0, TF_STEPS, "tensorflow")) > 0.1
    assert rel_diff(adam, losses("keras[optimizer=Adam,lr=0.01]", 0, TF_STEPS, "tensorflow")) > 1e-11
    rounded = losses("keras[optimizer=Adam,lr=0.01,exact=false,epsilon=1e-08]", 0, TF_STEPS, "tensorflow")
    assert rel_diff(adam, rounded) > 1e-6  # measured 1.7e-5: beta_1, beta_2 through float32


@pytest.mark.tensorflow
def test_a_reused_trace_restores_a_non_zero_initial_state(tensorflow):
    """Keras' Adagrad starts its accumulators at ``initial_accumulator_value``, not 0: the second run
    of a traced configuration is the numpy recursion from there (acc <- acc + g^2; W <- W - lr g /
    sqrt(acc + 1e-7)), and not the one from 0 (a reset to zeros: the negative control). The start,
    1e10, is above g^2 (|g| up to 6e4 here), so it shapes the steps."""
    problem, lr, steps, start = linnet.post_problem(0), 0.1, 50, 1e10
    spec = f"keras[optimizer=Adagrad,lr={lr},initial_accumulator_value={start!r}]"
    linnet.run(problem, spec, steps, backend="tensorflow")
    again = linnet.run(problem, spec, steps, backend="tensorflow")

    def adagrad(start):
        weights, acc, out = problem.weights, [np.full_like(W, start) for W in problem.weights], []
        for _ in range(steps + 1):
            ev = evaluate(problem, weights)
            out.append(ev.loss)
            acc = [a + g * g for a, g in zip(acc, ev.grads)]
            weights = tuple(W - lr * g / np.sqrt(a + 1e-7) for W, g, a in zip(weights, ev.grads, acc))
        return out

    assert rel_diff(adagrad(start), again.losses) <= ROUND_OFF
    assert rel_diff(adagrad(0.0), again.losses) > 1e-3


# -- the contract ---------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", ["optax[optimizer=adam,lr=0.01]", "optax[optimizer=sgd,lr=1e-05,momentum=0.9]",
                                  "torch[optimizer=SGD,lr=1e-05,momentum=0.9]", "torch[optimizer=Adam,lr=0.01]"])
def test_numpy_adapters_keep_the_contract(spec):
    library(spec.split("[")[0])
    check_optimizer(spec)


@pytest.mark.tensorflow
def test_keras_adapter_keeps_the_contract_on_tensorflow(tensorflow):
    check_optimizer("keras[optimizer=Adam,lr=0.01,epsilon=1e-08]")


@pytest.mark.tensorflow
def test_the_kit_runs_a_tensorflow_only_optimizer_on_tensorflow(tensorflow):
    """Negative control of the kit's backend choice: a tensorflow-only optimizer whose Keras optimizer
    cannot be built breaks every rule that runs it, with its own error, not "numpy only"."""

    @linnet.register("broken-keras")
    @dataclass(frozen=True)
    class BrokenKeras(linnet.Optimizer):
        lr: float
        first_order = True
        backends = ("tensorflow",)

        def keras_optimizer(self, keras, learning_rate, dtype):
            return keras.optimizers.SGD(learning_rate=learning_rate, no_such_argument=1)

    try:
        with pytest.raises(AssertionError) as caught:
            check_optimizer(BrokenKeras(lr=1e-5))
    finally:
        unregister("broken-keras")
    lines = str(caught.value).splitlines()[1:]
    assert [line.split(":")[0].strip() for line in lines] == ["deterministic", "shapes", "divergence"]
    assert all("LinnetError" in line and "backend only" not in line for line in lines)
    assert all("fails on the tensorflow backend: ValueError: Argument(s) not recognized" in line for line in lines[:2])


def test_a_backend_needs_its_method():
    """Listing tensorflow without ``keras_optimizer`` is refused in one line; with it, the class
    registers and the backend lists it."""

    @dataclass(frozen=True)
    class Velocity(linnet.FirstOrder):
        lr: float
        backends = ("numpy", "tensorflow")

        def step(self, weights, grads, state, lr):
            return tuple(W - lr * g for W, g in zip(weights, grads)), state

    with pytest.raises(linnet.LinnetError, match="defines no keras_optimizer") as caught:
        linnet.register("no-keras")(Velocity)
    assert len(str(caught.value).splitlines()) == 1

    class WithKeras(Velocity):
        def keras_optimizer(self, keras, learning_rate, dtype):
            return keras.optimizers.SGD(learning_rate=learning_rate)

    try:
        linnet.register("with-keras")(dataclass(frozen=True)(WithKeras))
        from linnet.runs.backends import tensorflow as tf_backend

        assert "with-keras" in tf_backend.SUPPORTED and "keras" in tf_backend.SUPPORTED
        assert "torch" not in tf_backend.SUPPORTED
    finally:
        unregister("with-keras")


# -- spec strings and errors ----------------------------------------------------------------------


@pytest.mark.parametrize("text, canonical", [
    ("keras[optimizer=Lion,lr=1e-3]", "keras[optimizer=Lion,lr=0.001]"),
    ("keras[optimizer=SGD, lr=1e-5, nesterov=true, momentum=0.9]",
     "keras[optimizer=SGD,lr=1e-05,momentum=0.9,nesterov=True]"),
    ("keras[momentum=0.9,optimizer=SGD,lr=1e-5]", "keras[optimizer=SGD,lr=1e-05,momentum=0.9]"),
    ("keras[optimizer=AdamW,lr=0.001,exact=false,weight_decay=0.01,use_ema=False,ema_overwrite_frequency=10,"
     "name=w]", "keras[optimizer=AdamW,lr=0.001,exact=False,ema_overwrite_frequency=10,name=w,use_ema=False,"
                "weight_decay=0.01]"),
])
def test_open_options_print_canonically(text, canonical):
    optimizer = linnet.parse(text)
    assert optimizer.spec == canonical and linnet.parse(canonical) == optimizer
    assert linnet.format_spec(linnet.parse(canonical)) == canonical


@pytest.mark.parametrize("text, message", [
    ("keras[lr=1e-5]", "missing parameter optimizer"),
    ("keras[optimizer=SGD]", "missing parameter lr"),
    ("keras[optimizer=SGD,lr=-1]", "lr must be a positive number"),
    ("keras[optimizer=SGD,lr=1e-5,learning_rate=0.1]", "give the step size as lr"),
    ("keras[optimizer=SGD,lr=1e-5,momentum=0.9,momentum=0.8]", "given twice"),
    ("keras[optimizer=SGD,lr=1e-5,momentum=nan]", "momentum must be a number, got nan"),
    ("keras[optimizer=keras.SGD,lr=1e-5]", "must name a class of keras.optimizers"),
    ("gd[lr=1e-5,momentum=0.9]", "unknown parameter 'momentum'"),  # a closed set stays closed
])
def test_bad_specs_are_one_line(text, message):
    with pytest.raises(linnet.LinnetError, match=message) as caught:
        linnet.parse(text)
    assert len(str(caught.value).splitlines()) == 1


def test_options_given_directly_are_checked():
    cls = type(linnet.parse("keras[optimizer=SGD,lr=1e-05]"))
    assert cls(optimizer="SGD", lr=1e-5, options={"nesterov": True, "momentum": 0.9}).spec == \
        "keras[optimizer=SGD,lr=1e-05,momentum=0.9,nesterov=True]"
    for options, message in [({"momentum": [0.9]}, "must be a number"), ({"name": "a b"}, "cannot be written"),
                             ({"name": "1e-5"}, "cannot be written"), ({"not a key": 1}, "not a keyword name")]:
        with pytest.raises(linnet.LinnetError, match=message):
            cls(optimizer="SGD", lr=1e-5, options=options)


@pytest.mark.parametrize("spec, message", [
    ("optax[optimizer=no_such_thing,lr=1e-05]", "optax has no gradient transformation 'no_such_thing'"),
    ("optax[optimizer=sgd,lr=1e-05,no_such_option=1]", "optax.sgd refused it: .*no_such_option"),
    ("optax[optimizer=sgd]", "optax.sgd refused it: .*learning_rate"),
    ("optax[optimizer=apply_updates,lr=1e-05]", "optax.apply_updates refused it"),
    ("torch[optimizer=Nope,lr=1e-05]", "torch.optim has no optimizer class 'Nope'"),
    ("torch[optimizer=SGD,lr=1e-05,no_such_option=1]", "torch.optim.SGD refused it: .*no_such_option"),
    ("torch[optimizer=SGD,lr=1e-05,nesterov=true]", "torch.optim.SGD refused it: Nesterov momentum"),
    ("torch[optimizer=LBFGS,lr=1e-05]", "torch.optim.LBFGS refused it"),
])
def test_library_errors_are_one_line_when_the_run_starts(spec, message):
    library(spec.split("[")[0])
    optimizer = linnet.parse(spec)  # parsing imports no library
    with pytest.raises(linnet.LinnetError, match=message) as caught:
        linnet.run(linnet.post_problem(0), optimizer, 5)
    assert len(str(caught.value).splitlines()) == 1


@pytest.mark.tensorflow
@pytest.mark.parametrize("spec, message", [
    ("keras[optimizer=Nope,lr=1e-05]", "keras.optimizers has no optimizer class 'Nope'"),
    ("keras[optimizer=schedules,lr=1e-05]", "keras.optimizers has no optimizer class 'schedules'"),
    ("keras[optimizer=SGD,lr=1e-05,no_such_option=1]", "keras.optimizers.SGD refused it: .*no_such_option"),
    ("keras[optimizer=SGD,lr=1e-05,momentum=2.0]", "keras.optimizers.SGD refused it: .*momentum"),
])
def test_keras_errors_are_one_line_when_the_run_starts(tensorflow, spec, message):
    with pytest.raises(linnet.LinnetError, match=message) as caught:
        linnet.run(linnet.post_problem(0), spec, 5, backend="tensorflow")
    assert len(str(caught.value).splitlines()) == 1
    with pytest.raises(linnet.LinnetError, match="keras is available on the tensorflow backend only"):
        linnet.run(linnet.post_problem(0), spec, 5)


@pytest.mark.parametrize("adapter, spec", [("optax", "optax[optimizer=sgd,lr=1e-05]"),
                                           ("torch", "torch[optimizer=SGD,lr=1e-05]")])
def test_a_missing_library_names_its_extra(monkeypatch, adapter, spec):
    monkeypatch.setitem(sys.modules, adapter, None)  # as if not installed
    optimizer = linnet.parse(spec)  # checked against the library only where it is installed
    with pytest.raises(linnet.LinnetError) as caught:
        linnet.run(linnet.post_problem(0), optimizer, 5)
    assert str(caught.value) == f"{adapter} adapter needs the optional extra: pip install 'linnet[{adapter}]'"


# -- optax's 64-bit numbers, help, laziness -------------------------------------------------------


def test_optax_keeps_float64_without_touching_jax_global_flag(optax):
    import jax

    before = jax.config.jax_enable_x64
    result = linnet.run(linnet.post_problem(0), "optax[optimizer=adam,lr=0.01]", 5)
    assert jax.config.jax_enable_x64 == before and all(W.dtype == np.float64 for W in result.weights)
    if not before:  # negative control: outside the adapter's context jax would compute in float32
        assert jax.numpy.asarray(result.weights[0]).dtype == np.float32


@pytest.mark.parametrize("name", ["keras", "optax", "torch"])
def test_help_lists_each_adapter(name):
    cls = REGISTRY[name]
    assert cls.__module__.startswith("linnet.optimizers.adapters.")
    assert f"  {cls.example} " in describe_all()


def test_neither_import_nor_parsing_imports_a_library():
    """A process that has started jax's threads cannot safely fork workers that use jax: a
    process-pool sweep of an optax spec hung when parsing imported jax in the parent."""
    code = ("import sys, linnet\n"
            "for spec in ('keras[optimizer=Lion,lr=0.001]', 'optax[optimizer=adam,lr=0.01]',\n"
            "             'torch[optimizer=Adam,lr=0.01]'):\n"
            "    assert linnet.parse(spec).spec == spec\n"
            "print(sorted(m for m in ('tensorflow', 'keras', 'jax', 'optax', 'torch') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
