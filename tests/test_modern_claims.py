"""The claims about the new optimizers (linnet.claims.modern) on a few development seeds, each
with its negative control, and the functions they are built from against known answers."""

import numpy as np
import pytest

from linnet.claims.modern import conservation, modes, polar, post_experiment, stability
from linnet.problems.jacobian import dense_jacobian
from linnet.problems.losses import product


def test_muon_modes_holds_and_gd_is_the_control():
    assert modes.predicted_ratios() == pytest.approx([1.0, 2**-0.5, 0.5])
    muon, gd = modes.measure_modes([0]), modes.measure_modes([0], "gd[lr=0.01]")
    assert muon[0]["holds"] and muon[0]["smaller_first"] and muon[0]["factor"] <= 1.05
    assert not gd[0]["holds"] and not gd[0]["smaller_first"] and gd[0]["factor"] > 5


def test_sharpness_is_the_gauss_newton_eigenvalue_at_a_solution():
    """At an exact solution (zero residual) the Hessian of ||P - A||_F^2 is 2 J^T J."""
    p = stability.kappa_problems([3], 10.0)[0]
    solved = (np.array(p.A), np.eye(p.A.shape[1]))  # W1 = A (10 x 6), W2 = I: the product is A
    assert np.array_equal(product(solved), p.A)
    J = dense_jacobian(solved)
    expected = np.linalg.eigvalsh(2 * J.T @ J)[-1]
    assert stability.sharpness(p, solved) == pytest.approx(expected, rel=1e-7)


def test_muon_is_stable_where_gd_diverges(monkeypatch):
    monkeypatch.setattr(stability, "STABLE_STEPS", 500)  # the claim's 3000 in the benchmarks
    (muon,), (gd,) = stability.measure_stable([1]), stability.measure_stable([1], "gd[lr=0.1]")
    assert muon["holds"] and all(muon[f"gd_diverged_kappa{k:g}"] for k in stability.KAPPAS)
    assert not gd["holds"]


def test_kappa_slope_recovers_a_power_law():
    steps = [np.full(5, 100.0 * k**0.5) for k in stability.KAPPAS]
    assert stability.kappa_slope(*steps) == pytest.approx(0.5)
    assert stability.kappa_slope(*[np.full(5, 4000.0)] * 4) == pytest.approx(0.0)


def test_conserved_quantities_on_an_exactly_aligned_start():
    """W1 = U diag(a) R^T, W2 = R diag(b) V^T: Muon's quantity is R diag(a - b) R^T, GD's R diag(a^2 - b^2) R^T."""
    p = conservation.aligned_problem(0, noise=0.0)
    rs = np.random.RandomState([0, 11])  # the draws of aligned_problem, in its order
    R = np.linalg.qr(rs.randn(6, 6))[0]
    a, b = rs.uniform(0.05, 0.5, 6), rs.uniform(0.05, 0.5, 6)
    assert np.allclose(conservation.muon_quantity(p.weights), (R * (a - b)) @ R.T, atol=1e-12)
    assert np.allclose(conservation.gd_quantity(p.weights), (R * (a**2 - b**2)) @ R.T, atol=1e-12)
    assert conservation.drift(conservation.muon_quantity, p.weights, p.weights) == 0.0


def test_muon_flow_conserves_its_quantity_and_gd_is_the_control():
    (row,) = conservation.measure_conservation([2])
    assert row["holds"] and row["flow_muon_drift"] < 0.05 < 0.25 < row["flow_gd_drift"]
    assert row["gd_gd_drift"] < 0.05 < 0.25 < row["gd_muon_drift"]
    (control,) = conservation.measure_conservation([2], flow=conservation.GD_FLOW_SPEC)
    assert not control["holds"]


def test_shampoo_polar_and_the_square_root_control():
    (row,) = polar.measure_polar([0])
    assert row["holds"] and row["error"] < 1e-13
    (control,) = polar.measure_polar([0], exponent=0.5)
    assert not control["holds"] and control["error"] > 0.1


def test_settled_floor_and_its_exponent():
    flat = np.full(7000, 3e-6)
    descending = np.geomspace(1.0, 1e-9, 7000)
    assert post_experiment.settled_floor(flat) == pytest.approx(3e-6)
    assert post_experiment.settled_floor(descending) is None
    assert post_experiment.settled_floor(np.r_[flat[:-1], np.inf]) is None
    assert post_experiment.settled_floor(flat[:100]) is None
    lrs = [1.0, 0.1, 0.01]
    assert post_experiment.floor_exponent(lrs, [1e-2, 1e-4, 1e-6]) == pytest.approx(2.0)
    assert post_experiment.floor_exponent(lrs, [1e-2, None, 1e-30]) is None  # one floor above machine precision


def test_post_experiment_check_counts_each_optimizer():
    rows = [{"a plateau": True, "b plateau": False}, {"a plateau": True, "b plateau": True}]
    claim = post_experiment.check_post_experiment(rows)
    assert not claim.holds and claim.numbers == {"a plateaus": 2, "b plateaus": 1}
    assert post_experiment.check_post_experiment(rows, ["a"]).holds


def test_readme_and_docs_show_the_recorded_post_experiment():
    """The table of the README and docs/modern.md is generated from docs/modern/post-experiment.json."""
    from pathlib import Path

    from linnet.reports.post_experiment import load, table

    root = Path(__file__).resolve().parents[1]
    rows = load(str(root / "docs/modern/post-experiment.json"))
    assert len(rows) == 20 and all("muon relative_loss" in r for r in rows)
    expected = table(rows)
    for doc in ("README.md", "docs/modern.md"):
        assert expected in (root / doc).read_text(), f"{doc}: paste the table of linnet.reports.post_experiment again"
