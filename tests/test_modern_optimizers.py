"""adamw, lion, adafactor, muon, schedule-free-adamw, shampoo and soap against their references.

The five with a Keras 3 class run on numpy and, through that class, on the tensorflow backend; over
200 steps of the post problem (seed 0, float64) the loss histories agree to round-off. Largest
relative difference measured (TF 2.21, Keras 3.15.1, numpy 2.4), and the bound asserted:

=====================================================================  ========  =======================
spec                                                                   measured  bound (margin)
=====================================================================  ========  =======================
adamw[lr=0.01,amsgrad=True,lr_decay=0.995]                             9.3e-16   1e-12 (> 1000x)
lion[lr=0.0001,weight_decay=0.1]                                       3.9e-16   1e-12 (> 2500x)
adafactor[lr=0.01,weight_decay=0.01]                                   8.4e-16   1e-12 (> 1000x)
schedule-free-adamw[lr=0.0025,warmup_steps=10,weight_decay=0.01]       2.1e-14   1e-11 (> 450x)
muon[lr=0.02]                                                          1.7e-15   1e-12 (> 550x)
muon[lr=0.02,nesterov=False,weight_decay=0.1,lr_decay=0.99]            1.4e-15   1e-12 (> 700x)
=====================================================================  ========  =======================

Each has a negative control: the numpy run with one hyperparameter changed (beta_2, weight_decay,
clip_threshold, warmup_steps, ns_steps, lr_decay) differs from the Keras run by 6.1e-3 to 0.25
(asserted: at least 1e-5, 10^6 times the bounds). Keras' own
ScheduleFreeAdamW on TensorFlow computes x from the updated z (:func:`linnet.optimizers.adaptive.anchored`):
that reading is measured here too.

Shampoo and SOAP are checked by identities: one Shampoo step from zero statistics (epsilon 0) is
the polar factor U V^T of each layer's gradient, which is muon[polar=exact]'s first direction over
sqrt(max(rows, cols)) * rms_rate, at depths 2-6; SOAP with frequency 1 is Adam in the eigenbasis
of Shampoo's factors, computed here independently from the gradient history; Shampoo with a root
frequency is its rule by hand. Newton-Schulz's singular values end in the band its coefficients
give, and linnet's iteration on the tall side equals Keras' order of operations to round-off.
"""

from __future__ import annotations

import functools
import math
import types
from dataclasses import dataclass

import numpy as np
import pytest

import linnet
from linnet.optimizers import adaptive, orthogonal, preconditioned
from linnet.optimizers.adaptive import ScheduleFreeAdamW
from linnet.optimizers.base import keras_hyperparameter
from linnet.optimizers.registry import unregister
from linnet.optimizers.schedules import keras_class, keras_schedule
from linnet.problems.losses import evaluate
from linnet.runs.backends.tf_runtime import configure_environment
from linnet.runs.batched import run_batched
from linnet.testing import check_optimizer

STEPS = 200
#: (spec, its Keras class, the bound on the loss histories' relative difference, a numpy spec that
#: changes one hyperparameter: the negative control)
KERAS = [
    ("adamw[lr=0.01,amsgrad=True,lr_decay=0.995]", "AdamW", 1e-12,
     "adamw[lr=0.01,beta_2=0.998,amsgrad=True,lr_decay=0.995]"),
    ("lion[lr=0.0001,weight_decay=0.1]", "Lion", 1e-12, "lion[lr=0.0001,weight_decay=0.2]"),
    ("adafactor[lr=0.01,weight_decay=0.01]", "Adafactor", 1e-12,
     "adafactor[lr=0.01,clip_threshold=0.9,weight_decay=0.01]"),
    ("schedule-free-adamw[lr=0.0025,warmup_steps=10,weight_decay=0.01]", "ScheduleFreeAdamW", 1e-11,
     "schedule-free-adamw[lr=0.0025,warmup_steps=11,weight_decay=0.01]"),
    ("muon[lr=0.02]", "Muon", 1e-12, "muon[lr=0.02,ns_steps=4]"),
    ("muon[lr=0.02,nesterov=False,weight_decay=0.1,lr_decay=0.99]", "Muon", 1e-12,
     "muon[lr=0.02,nesterov=False,weight_decay=0.1,lr_decay=0.991]"),
]
#: one spec of each new optimizer (muon twice: Newton-Schulz and the exact polar factor)
SPECS = ["adamw[lr=0.001]", "lion[lr=0.0001]", "adafactor[lr=0.01]", "schedule-free-adamw[lr=0.0025]",
         "muon[lr=0.02]", "muon[lr=0.02,polar=exact]", "shampoo[lr=0.1]", "soap[lr=0.003]"]
MODULES = (adaptive, orthogonal, preconditioned)  # importing them registers the optimizers


def measured(request, name: str, value: float) -> None:
    request.node.user_properties.append((name, float(value)))


def rel_diff(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.abs(a)))


@pytest.fixture(scope="module")
def keras():
    """The keras module; a skip naming TensorFlow where it is missing (CI's LINNET_REQUIRE_TENSORFLOW=1
    turns that into a failure), while a Keras class an older Keras lacks is a plain skip."""
    configure_environment()  # before TensorFlow loads, as the backend does
    pytest.importorskip("tensorflow")
    return pytest.importorskip("keras")


@functools.cache
def numpy_run(spec: str, steps: int = STEPS):
    return linnet.run(linnet.post_problem(0), spec, steps)


# -- the Keras-backed five: numpy against the Keras class ---------------------------------------


def skip_unless_keras_builds(keras, spec: str, keras_name: str) -> None:
    """Skip where the installed Keras lacks the class (older Keras, e.g. with TensorFlow 2.16.1) or
    an argument linnet passes it."""
    if not hasattr(keras.optimizers, keras_name):
        pytest.skip(f"keras {keras.__version__} has no keras.optimizers.{keras_name}")
    try:
        linnet.parse(spec).keras_optimizer(keras, lambda: 0.1, np.dtype(np.float64))
    except TypeError as exc:
        pytest.skip(f"keras {keras.__version__}'s {keras_name} takes other arguments: {exc}")


@pytest.mark.parametrize("spec, keras_name, bound, changed", KERAS, ids=[k[0] for k in KERAS])
def test_numpy_agrees_with_the_keras_class(keras, spec, keras_name, bound, changed, request):
    skip_unless_keras_builds(keras, spec, keras_name)
    ref = numpy_run(spec)
    got = linnet.run(linnet.post_problem(0), spec, STEPS, backend="tensorflow")
    assert not ref.diverged and got.steps == ref.steps == STEPS
    agreement, control = rel_diff(ref.losses, got.losses), rel_diff(numpy_run(changed).losses, got.losses)
    measured(request, "history_rel_difference", agreement)
    measured(request, "negative_control_rel_difference", control)
    assert agreement <= bound
    assert control >= 1e-5  # measured 6.1e-3 to 0.25


def keras_as_is(keras, learning_rate, dtype):
    """Keras' ScheduleFreeAdamW as Keras 3.15 runs it on TensorFlow (x from the updated z)."""
    h = keras_hyperparameter
    cls = adaptive.anchored(keras, keras_class(keras, "ScheduleFreeAdamW"), read_z_first=False)
    return cls(learning_rate=keras_schedule(keras, learning_rate, 1.0), beta_1=h(0.9, dtype), beta_2=h(0.999, dtype),
               epsilon=h(1e-8, dtype))


def schedule_free_from_new_z(problem, lr, steps, b1=0.9, b2=0.999, eps=1e-8):
    """The loss history of the schedule-free rule with x computed from the updated z, by hand."""
    W = problem.weights
    z, v = W, tuple(np.zeros_like(w) for w in W)
    losses = []
    for t in range(1, steps + 2):
        ev = evaluate(problem, W)
        losses.append(ev.loss)
        if t == steps + 1:
            return np.array(losses)
        v = tuple(v_ + (g * g - v_) * (1 - b2) for v_, g in zip(v, ev.grads))
        z = tuple(z_ - lr * g / (np.sqrt(v_ / (1 - b2**t)) + eps) for z_, g, v_ in zip(z, ev.grads, v))
        W = tuple((1 - b1) * z_ + b1 * ((1 - 1 / t) * (y - (1 - b1) * z_) / b1 + z_ / t) for y, z_ in zip(W, z))


def test_keras_schedule_free_on_tensorflow_reads_the_updated_z(keras, request):
    """Keras 3.15's ScheduleFreeAdamW on TensorFlow equals the rule with x from the updated z (measured
    2.5e-14) and not Defazio et al.'s (measured 0.10): why linnet's Keras reference reads z first."""
    skip_unless_keras_builds(keras, "schedule-free-adamw[lr=0.0025]", "ScheduleFreeAdamW")

    @linnet.register("schedule-free-adamw-keras-as-is")
    @dataclass(frozen=True)
    class AsIs(ScheduleFreeAdamW):
        example = "schedule-free-adamw-keras-as-is[lr=0.0025]"

        def keras_optimizer(self, keras, learning_rate, dtype):
            return keras_as_is(keras, learning_rate, dtype)

    try:
        got = linnet.run(linnet.post_problem(0), AsIs(lr=0.0025), STEPS, backend="tensorflow")
    finally:
        unregister("schedule-free-adamw-keras-as-is")
    by_hand = schedule_free_from_new_z(linnet.post_problem(0), 0.0025, STEPS)
    linnet_rule = numpy_run("schedule-free-adamw[lr=0.0025]").losses
    measured(request, "keras_vs_new_z_rule", rel_diff(by_hand, got.losses))
    measured(request, "keras_vs_linnet", rel_diff(linnet_rule, got.losses))
    assert rel_diff(by_hand, got.losses) <= 1e-11
    assert rel_diff(linnet_rule, got.losses) >= 1e-2


def test_a_missing_keras_class_is_one_error_line():
    old = types.SimpleNamespace(__version__="3.3.3", optimizers=types.SimpleNamespace())
    for spec in ("muon[lr=0.02]", "schedule-free-adamw[lr=0.0025]", "lion[lr=0.0001]"):
        with pytest.raises(linnet.LinnetError, match=r"^keras 3\.3\.3 has no keras\.optimizers\.\w+; upgrade"):
            linnet.parse(spec).keras_optimizer(old, lambda: 0.1, np.dtype(np.float64))


@pytest.mark.parametrize("spec, message", [
    ("adamw[lr=-0.001]", "lr must be a positive number"),
    ("muon[lr=0.02,polar=qr]", "polar must be one of newton-schulz, exact"),
    ("muon[lr=0.02,ns_steps=-1]", "ns_steps must be an integer >= 0"),
    ("lion[lr=0.001,beta_1=0]", r"beta_1 must be in \(0, 1\]"),
    ("adafactor[lr=0.01,beta_2_decay=0.8]", "beta_2_decay must be a negative number"),
    ("schedule-free-adamw[lr=0.01,warmup_steps=-2]", "warmup_steps must be an integer >= 0"),
    ("shampoo[lr=0.1,epsilon=-1]", "epsilon must be a number >= 0"),
    ("soap[lr=0.1,frequency=0]", "frequency must be an integer >= 1"),
    ("shampoo[lr=0.1,frequency=0]", "frequency must be an integer >= 1"),
    ("adamw[lr=0.001,lr_decay=1.5]", r"lr_decay must be in \(0, 1\]"),
    ("adamw[lr=0.001,weight_decay=-1]", "weight_decay must be a number >= 0"),
])
def test_bad_input_is_one_error_line(spec, message):
    with pytest.raises(linnet.LinnetError, match=message):
        linnet.parse(spec)


def test_exact_polar_and_numpy_only_optimizers_are_refused_on_tensorflow():
    with pytest.raises(linnet.LinnetError, match="polar=exact runs on numpy"):
        linnet.parse("muon[lr=0.02,polar=exact]").keras_optimizer(None, None, np.dtype(np.float64))
    for spec in ("shampoo[lr=0.1]", "soap[lr=0.003]"):
        with pytest.raises(linnet.LinnetError, match="available on the numpy backend only"):
            linnet.run(linnet.post_problem(0), spec, 5, backend="tensorflow")


# -- the contract, batched runs, schedules -------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS)
def test_keeps_the_optimizer_contract(spec):
    check_optimizer(spec)


@pytest.mark.parametrize("spec", ["muon[lr=0.02,lr_decay=0.99]", "shampoo[lr=0.1]", "soap[lr=0.003,frequency=3]",
                                  "adafactor[lr=0.01,lr_decay=0.99]", "shampoo[lr=0.1,frequency=3]"])
def test_batched_equals_one_by_one_with_own_step_sizes(spec, request):
    """Deep problems (depth 3, seeds 0-3), each member its own lr: measured 5e-16 at most (rtol 1e-9,
    the conformance kit's)."""
    problems = [linnet.post_problem(seed, depth=3) for seed in range(4)]
    optimizer = linnet.parse(spec)
    lrs = optimizer.lr * np.array([1.0, 0.5, 2.0, 0.25])
    batch = run_batched(problems, optimizer, 30, lrs=lrs)
    worst = 0.0
    for i, (problem, lr) in enumerate(zip(problems, lrs)):
        single = linnet.run(problem, linnet.parse(spec.replace(f"lr={optimizer.lr!r}", f"lr={float(lr)!r}")), 30)
        assert batch.status[i] == single.status and batch.steps[i] == single.steps
        worst = max(worst, abs(batch.final_loss[i] - single.final_loss) / single.final_loss)
    measured(request, "batched_rel_difference", worst)
    assert worst <= 1e-9


def test_exponential_schedule_sets_lion_step():
    """Lion moves every entry by exactly lr_t (a sign step): lr_t = lr * lr_decay**t, t the updates before."""
    problem = linnet.post_problem(0)
    optimizer = linnet.parse("lion[lr=0.001,lr_decay=0.5]")
    weights, state = problem.weights, optimizer.initial_state(problem.weights)
    for t in range(4):
        new, state = optimizer.step(weights, evaluate(problem, weights).grads, state, optimizer.lr)
        moves = np.abs(new[0] - weights[0])
        np.testing.assert_allclose(moves[moves > 0], 0.001 * 0.5**t, rtol=1e-9)
        assert not np.allclose(moves[moves > 0], 0.001 * 0.5 ** (t + 1), rtol=1e-3)  # negative control
        weights = new


# -- Newton-Schulz, the polar factor, Shampoo -----------------------------------------------------


#: singular values of X / ||X||_F at least this end in the band after Keras' 5 steps
NS_FLOOR = 2e-3
#: the band: min and max of p^5 over [NS_FLOOR, 1], p(s) = a s + b s^3 + c s^5 (computed below,
#: 0.6818 and 1.2024 to 4 digits)
NS_BAND = (0.6818, 1.2024)


def test_newton_schulz_singular_values_lie_in_its_band(request):
    a, b, c = orthogonal.NEWTON_SCHULZ
    s = np.geomspace(NS_FLOOR, 1, 100_001)
    for _ in range(5):
        s = a * s + b * s**3 + c * s**5
    assert NS_BAND[0] <= s.min() < NS_BAND[0] + 1e-4 and NS_BAND[1] - 1e-4 < s.max() <= NS_BAND[1]
    # 4000 random matrices of each shape, with log-uniform spectra down to NS_FLOOR relative
    rng = np.random.default_rng(0)
    lows, highs = [], []
    for rows, cols in ((10, 6), (6, 6), (6, 10)):
        k = min(rows, cols)
        U = np.linalg.qr(rng.standard_normal((4000, rows, k)))[0]
        V = np.linalg.qr(rng.standard_normal((4000, cols, k)))[0]
        spectrum = 10 ** rng.uniform(math.log10(NS_FLOOR), 0, (4000, k))
        spectrum[:, 0] = 1.0  # ||X||_F >= 1: each s / ||X||_F >= NS_FLOOR / sqrt(k)...
        spectrum /= np.linalg.norm(spectrum, axis=1, keepdims=True)  # ...so normalise: ||X||_F = 1
        keep = spectrum.min(axis=1) >= NS_FLOOR
        X = (U * spectrum[:, None, :]) @ np.swapaxes(V, -1, -2)
        out = np.linalg.svd(orthogonal.newton_schulz(X[keep]), compute_uv=False)
        lows.append(out.min())
        highs.append(out.max())
    measured(request, "band_low", min(lows))
    measured(request, "band_high", max(highs))
    assert NS_BAND[0] - 1e-9 <= min(lows) and max(highs) <= NS_BAND[1] + 1e-9
    # negative controls: a singular value below the floor, and three steps, leave the band
    X = np.diag([1.0, 1e-4, 0.5, 0.5, 0.5, 0.5])  # 1e-4 / ||X||_F is below NS_FLOOR
    assert np.linalg.svd(orthogonal.newton_schulz(X), compute_uv=False).min() < NS_BAND[0]
    assert np.linalg.svd(orthogonal.newton_schulz(np.diag([1.0, 0.005, 0.5]), 3), compute_uv=False).min() < NS_BAND[0]


@pytest.mark.parametrize("depth", [2, 3, 4, 5, 6])
def test_one_shampoo_step_from_zero_statistics_is_the_polar_factor(depth, request):
    """L^{-1/4} G R^{-1/4} with L = G G^T, R = G^T G is U V^T for G = U S V^T; Muon's first exact step
    (m = g, so d = (1 + mu) g, whose polar factor is g's) is lr U V^T sqrt(max(rows, cols)) rms_rate.

    Forming G G^T squares G's condition number: the error is about eps kappa(G)^2 (measured 0.005 to
    0.7 times it), and directions below the eigenvalue cutoff (kappa > ~3e7) are dropped. So the
    identity is asserted from orthogonal starts (kappa(G) 4 to 9; measured 4.1e-15 at most, bound
    1e-13, 24x), and from the post's Gaussian start as the bound 2 eps kappa^2 on layers with
    kappa < 1e6 (measured ratios 0.012 to 0.33)."""
    eps = np.finfo(np.float64).eps
    worst = worst_muon = 0.0
    for init in ("orthogonal", "gaussian"):
        problem = linnet.post_problem(0, depth=depth, init=init)
        grads = evaluate(problem, problem.weights).grads
        shampoo = linnet.parse("shampoo[lr=1.0,epsilon=0.0]")
        moved = shampoo.step(problem.weights, grads, shampoo.initial_state(problem.weights), 1.0)[0]
        muon = linnet.parse("muon[lr=1.0,weight_decay=0.0,polar=exact]")
        moved_muon = muon.step(problem.weights, grads, muon.initial_state(problem.weights), 1.0)[0]
        for W, G, V, M in zip(problem.weights, grads, moved, moved_muon):
            U, s, Vt = np.linalg.svd(G, full_matrices=False)
            kappa = s[0] / s[-1]
            error = np.max(np.abs((W - V) - U @ Vt))
            error_muon = np.max(np.abs((W - M) / (math.sqrt(max(W.shape)) * 0.2) - U @ Vt))
            if init == "orthogonal":
                worst, worst_muon = max(worst, error), max(worst_muon, error_muon)
                assert error <= 1e-13 and error_muon <= 1e-13
            elif kappa < 1e6:
                assert error <= 2 * eps * kappa**2
    measured(request, "shampoo_vs_polar", worst)
    measured(request, "muon_vs_polar", worst_muon)
    # negative control: the square-root exponent (full-matrix AdaGrad's) is not the polar factor
    problem = linnet.post_problem(0, depth=depth, init="orthogonal")
    grads = evaluate(problem, problem.weights).grads
    half = linnet.parse("shampoo[lr=1.0,epsilon=0.0,exponent=0.5]")
    moved_half = half.step(problem.weights, grads, half.initial_state(problem.weights), 1.0)[0]
    assert max(np.max(np.abs(W - H - np.linalg.svd(G, full_matrices=False)[0]
                             @ np.linalg.svd(G, full_matrices=False)[2]))
               for W, G, H in zip(problem.weights, grads, moved_half)) > 1e-3


def keras_newton_schulz(X, steps=5, coefficients=orthogonal.NEWTON_SCHULZ):
    """Keras' zeropower_via_newtonschulz5 in Keras' own order: X made wide, X <- a X + (b A + c A A) X."""
    a, b, c = coefficients
    tall = X.shape[-2] > X.shape[-1]
    if tall:
        X = np.swapaxes(X, -1, -2)
    X = X / (np.linalg.norm(X, axis=(-2, -1), keepdims=True) + orthogonal.NORM_EPS)
    for _ in range(steps):
        A = X @ np.swapaxes(X, -1, -2)
        B = b * A + c * A @ A
        X = a * X + B @ X
    return np.swapaxes(X, -1, -2) if tall else X


def test_newton_schulz_on_the_tall_side_is_keras_order(request):
    """linnet iterates on the tall side (Z <- a Z + Z B, the transpose of Keras' X <- a X + B X): the
    same iterates to round-off. Measured 1.2e-14 at most over stacks of 1000 random 10 x 6, 6 x 6 and
    6 x 10 matrices, a 4-d stack, single matrices, and the post problem's gradients at depths 2-4
    (bound 1e-13, 8x); 4 steps against Keras' 5 differ by 0.24 at least (negative control)."""
    rng = np.random.default_rng(0)
    matrices = [rng.standard_normal(shape) for shape in ((1000, 10, 6), (1000, 6, 6), (1000, 6, 10), (4, 5, 3, 7),
                                                         (10, 6), (6, 10))]
    for depth in (2, 3, 4):
        problem = linnet.post_problem(0, depth=depth)
        matrices += evaluate(problem, problem.weights).grads
    worst = max(np.max(np.abs(orthogonal.newton_schulz(X) - keras_newton_schulz(X))) for X in matrices)
    control = min(np.max(np.abs(orthogonal.newton_schulz(X, 4) - keras_newton_schulz(X))) for X in matrices[:6])
    measured(request, "tall_side_vs_keras_order", worst)
    measured(request, "four_steps_vs_five", control)
    assert worst <= 1e-13
    assert control >= 0.1


@pytest.mark.parametrize("steps", [0, 4, 5])
@pytest.mark.parametrize("shape", [(20, 10, 6), (4, 5, 6, 10)])
def test_newton_schulz_in_blocks_is_the_whole_stack(steps, shape, monkeypatch):
    """A stack runs in blocks of work arrays (orthogonal.NS_BLOCK_BYTES): blocks of one member and of
    three (the last one short) give the same bits as the whole stack, for even and odd step counts."""
    X = np.random.default_rng(1).standard_normal(shape)
    whole = orthogonal.newton_schulz(X, steps)
    rows, cols = max(shape[-2:]), min(shape[-2:])
    for members in (1, 3):
        monkeypatch.setattr(orthogonal, "NS_BLOCK_BYTES", members * (3 * rows * cols + 3 * cols * cols) * 8)
        assert np.array_equal(orthogonal.newton_schulz(X, steps), whole)


def shampoo_by_hand(problem, lr, steps, frequency, eps=1e-4):
    """Shampoo (Gupta et al. 2018, Algorithm 1) with L^{-1/4}, R^{-1/4} recomputed only at steps 1,
    frequency, 2 frequency, ...: the factors take every gradient; the roots by numpy's eigh, with the
    module's cutoff (eigenvalues at most n eps_machine times the largest dropped: the factors' largest
    eigenvalues reach 7e10 to 1e13 in 12 steps at depths 2-3, where the cutoff passes epsilon)."""
    def inverse_fourth_root(M):
        w, Q = np.linalg.eigh(M)
        keep = w > M.shape[0] * np.finfo(float).eps * w.max()
        return (Q[:, keep] * w[keep] ** -0.25) @ Q[:, keep].T
    W = list(problem.weights)
    L = [eps * np.eye(w.shape[0]) for w in W]
    R = [eps * np.eye(w.shape[1]) for w in W]
    roots: list = [None] * len(W)
    losses = []
    for t in range(1, steps + 2):
        ev = evaluate(problem, tuple(W))
        losses.append(ev.loss)
        if t == steps + 1:
            return np.array(losses)
        for k, G in enumerate(ev.grads):
            L[k], R[k] = L[k] + G @ G.T, R[k] + G.T @ G
            if t == 1 or t % frequency == 0:
                roots[k] = inverse_fourth_root(L[k]), inverse_fourth_root(R[k])
            W[k] = W[k] - lr * roots[k][0] @ G @ roots[k][1]


@pytest.mark.parametrize("depth", [2, 3])
def test_shampoo_frequency_recomputes_the_roots_every_frequency_steps(depth, request):
    """``frequency`` k reuses the roots of steps 1, k, 2k, ... (the factors still take every gradient).
    Measured against the rule by hand over 12 steps at lr 0.01: 2.7e-15 at most for k = 1 and k = 3
    (bound 1e-12, > 350x); k = 3 against k = 1 by hand differs by 9.5e-3 at least (negative control)."""
    problem = linnet.post_problem(0, depth=depth)
    for k in (1, 3):
        got = linnet.run(problem, f"shampoo[lr=0.01,frequency={k}]", 12).losses
        difference = rel_diff(shampoo_by_hand(problem, 0.01, 12, k), got)
        measured(request, f"frequency_{k}_vs_by_hand", difference)
        assert difference <= 1e-12
    every_step = shampoo_by_hand(problem, 0.01, 12, 1)
    control = rel_diff(every_step, linnet.run(problem, "shampoo[lr=0.01,frequency=3]", 12).losses)
    measured(request, "frequency_3_vs_every_step", control)
    assert control >= 1e-3


# -- SOAP: Adam in Shampoo's eigenbasis ---------------------------------------------------------


def soap_by_hand(problem, lr, steps, b1=0.95, b2=0.95, bs=0.95, eps=1e-8):
    """SOAP with frequency 1, from the gradient history: at step t the basis is the eigenvectors of
    Shampoo's factors of the gradients before t (L_{t-1} = sum_s (1 - bs) bs^(t-1-s) G_s G_s^T;
    the identity at t = 1), M_t = sum_s (1 - b1) b1^(t-s) G_s, V_t = sum_s (1 - b2) b2^(t-s) (G'_s)^2 with
    each G'_s rotated in its own step's basis, and the step Adam's, bias corrected, in that basis."""
    W = list(problem.weights)
    history, rotated, losses = [], [], []
    for t in range(1, steps + 2):
        ev = evaluate(problem, tuple(W))
        losses.append(ev.loss)
        if t == steps + 1:
            return np.array(losses)
        history.append(ev.grads)
        rotated.append([])
        for k in range(len(W)):
            past = [h[k] for h in history[:-1]]
            if past:
                L = sum((1 - bs) * bs ** (t - 2 - s) * G @ G.T for s, G in enumerate(past))
                R = sum((1 - bs) * bs ** (t - 2 - s) * G.T @ G for s, G in enumerate(past))
                QL, QR = np.linalg.eigh(L)[1], np.linalg.eigh(R)[1]
            else:
                QL, QR = np.eye(W[k].shape[0]), np.eye(W[k].shape[1])
            rotated[-1].append(QL.T @ history[-1][k] @ QR)
            M = sum((1 - b1) * b1 ** (t - 1 - s) * h[k] for s, h in enumerate(history))
            V = sum((1 - b2) * b2 ** (t - 1 - s) * r[k] ** 2 for s, r in enumerate(rotated))
            step = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
            W[k] = W[k] - step * QL @ ((QL.T @ M @ QR) / (np.sqrt(V) + eps)) @ QR.T


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_soap_with_frequency_one_is_adam_in_shampoos_eigenbasis(depth, request):
    """Square layers (ydim = 6), whose factors have distinct eigenvalues: a 10 x 6 layer's left factor
    is singular at first, and eigh's basis of a repeated eigenvalue is arbitrary, which Adam's
    elementwise V is not invariant to. Measured 4.6e-16 to 1.3e-15 over 25 steps (bound 1e-12, 800x);
    frequency 2 differs by 3.5e-6 to 2.4e-4 (negative control)."""
    problem = linnet.post_problem(0, depth=depth, ydim=6)
    by_hand = soap_by_hand(problem, 0.003, 25)
    soap = linnet.run(problem, "soap[lr=0.003,frequency=1]", 25).losses
    other = linnet.run(problem, "soap[lr=0.003,frequency=2]", 25).losses
    measured(request, "soap_vs_by_hand", rel_diff(by_hand, soap))
    measured(request, "frequency_2_vs_by_hand", rel_diff(by_hand, other))
    assert rel_diff(by_hand, soap) <= 1e-12
    assert rel_diff(by_hand, other) >= 1e-7
