"""The claims about the optimizers researchers use now (README rows M1-M5, docs/modern.md), on the
development seeds 0-19, each with its negative control: Muon's equal-rate modes against GD's (Rhee,
Simon & Karkada 2026), Muon's stability above GD's threshold and its annealed steps against kappa
(GD the control), the quantity Muon flow conserves (GD's run the control), one Shampoo step as the
polar factor (Bernstein & Newhouse 2024; the square-root exponent the control), and the post's
experiment for every new optimizer at its tuned step (with the tuning recomputed by the report
card's protocol). The held-out verdicts are benchmarks/test_bench_held_out.py's."""

import numpy as np
import pytest
from helpers import EXACT, FLOOR, SENSITIVE, SENSITIVE_COUNT, figure

from linnet.claims.modern import conservation, modes, polar, post_experiment, stability
from linnet.claims.seeds import DEVELOPMENT
from linnet.testing.benchmarking import store
from linnet.testing.verdicts import report

#: seeds of the negative controls that cost as much as the claim's own runs
CONTROL_SEEDS = range(5)
#: the factor between two median losses of the tuning grid within which they are a near-tie
TIE = 2.0


@pytest.mark.claim("muon.modes")
def test_muon_learns_modes_at_one_rate(benchmark):
    benchmark.group = "modern claims"
    rows = benchmark.pedantic(modes.measure_modes, args=(DEVELOPMENT,), rounds=1, iterations=1)
    control = modes.measure_modes(DEVELOPMENT, "gd[lr=0.01]")
    claim, control_claim = modes.check_modes(rows), modes.check_modes(control)
    store(benchmark, factor_max=figure(claim.numbers["factor_max"], SENSITIVE),
          control_factor_min=figure(control_claim.numbers["factor_min"], SENSITIVE),
          control_holds=figure(control_claim.holds, EXACT))
    report(benchmark, claim)
    assert claim.holds and not control_claim.holds, (claim.numbers["factor_max"], control_claim.numbers["factor_min"])


@pytest.mark.claim("muon.stable")
def test_muon_is_stable_above_gds_threshold(benchmark):
    benchmark.group = "modern claims"
    rows = benchmark.pedantic(stability.measure_stable, args=(DEVELOPMENT,), rounds=1, iterations=1)
    claim = stability.check_stable(rows)
    control = stability.check_stable(stability.measure_stable(CONTROL_SEEDS, f"gd[lr={stability.STABLE_LR!r}]"))
    store(benchmark, above_min=figure(claim.numbers["above_min"], SENSITIVE),
          above_max=figure(claim.numbers["above_max"], SENSITIVE),
          gd_diverged=figure(claim.numbers["gd_diverged"], EXACT),
          control_holds=figure(control.holds, EXACT))
    report(benchmark, claim)
    assert claim.holds and claim.numbers["gd_diverged"] == claim.numbers["runs"] and not control.holds


@pytest.mark.claim("muon.kappa")
def test_annealed_muon_steps_do_not_grow_with_kappa(benchmark):
    """GD, the control, at its largest stable rate with ten times the budget: slope 0.14 on seeds 0-4,
    a lower bound (every run past kappa 1 censored at 1e5 steps)."""
    benchmark.group = "modern claims"
    rows = benchmark.pedantic(stability.measure_kappa, args=(DEVELOPMENT,), rounds=1, iterations=1)
    claim = stability.check_kappa(rows)
    gd_budget = 10 * stability.ANNEALED_BUDGET
    control = stability.measure_kappa(CONTROL_SEEDS, stability.GD_SPEC, budget=gd_budget)
    steps = [np.array([r[f"steps_kappa{k:g}"] or gd_budget for r in control], dtype=float) for k in stability.KAPPAS]
    control_slope = float(stability.kappa_slope(*steps))
    medians = dict(zip(stability.KAPPAS, claim.numbers["median_steps"], strict=True))
    store(benchmark, slope=figure(claim.numbers["slope"], SENSITIVE),
          **{f"median_steps_kappa{k:g}": figure(m, SENSITIVE) for k, m in medians.items()},
          control_slope=figure(control_slope, SENSITIVE))
    report(benchmark, claim)
    assert claim.holds and control_slope > stability.KAPPA_SLOPE, (claim.numbers, control_slope)


@pytest.mark.claim("muon.conserved")
def test_muon_flow_conserves_its_quantity(benchmark):
    """The control: the same check on GD's run (GD conserves its own quantity, not Muon's)."""
    benchmark.group = "modern claims"
    rows = benchmark.pedantic(conservation.measure_conservation, args=(DEVELOPMENT,), rounds=1, iterations=1)
    claim = conservation.check_conservation(rows)
    control = conservation.check_conservation(
        conservation.measure_conservation(CONTROL_SEEDS, flow=conservation.GD_FLOW_SPEC))
    store(benchmark, **{f"{k}_{end}": figure(v[i], SENSITIVE) for k, v in claim.numbers.items()
                        for i, end in enumerate(("min", "max"))}, control_holds=figure(control.holds, EXACT))
    report(benchmark, claim)
    assert claim.holds and not control.holds, claim.numbers


@pytest.mark.claim("shampoo.polar")
def test_one_shampoo_step_is_the_polar_factor(benchmark):
    benchmark.group = "modern claims"
    rows = benchmark.pedantic(polar.measure_polar, args=(DEVELOPMENT,), rounds=1, iterations=1)
    claim = polar.check_polar(rows)
    control = polar.check_polar(polar.measure_polar(CONTROL_SEEDS, exponent=0.5))
    store(benchmark, relative_max=figure(claim.numbers["relative_max"], FLOOR),
          control_error_max=figure(control.numbers["error_max"], SENSITIVE), control_holds=figure(control.holds, EXACT))
    report(benchmark, claim)
    assert claim.holds and not control.holds, (claim.numbers, control.numbers)


@pytest.mark.claim("modern.plateau")
@pytest.mark.slow
@pytest.mark.expensive
def test_post_experiment_for_every_new_optimizer(benchmark):
    """The post's experiment at each new optimizer's tuned step (20 seeds; about 2.5 minutes on 2
    cores). The control: the check asked of lion and muon alone, which plateau on every seed, holds."""
    benchmark.group = "modern claims"
    rows = benchmark.pedantic(post_experiment.measure_post_experiment, args=(DEVELOPMENT,), rounds=1, iterations=1)
    claim = post_experiment.check_post_experiment(rows)
    control = post_experiment.check_post_experiment(rows, ("lion", "muon"))
    store(benchmark, **{k: figure(v, SENSITIVE_COUNT) for k, v in claim.numbers.items()})
    report(benchmark, claim)
    assert control.holds, control.numbers
    # the statement is false on these seeds (adamw ends below 1e-6 on 16 of 20): the verdict is
    # recorded as "does not hold", and the benchmark asserts the figures behind it, not a pass
    assert not claim.holds and claim.numbers["adamw plateaus"] < len(DEVELOPMENT)


@pytest.mark.slow
@pytest.mark.expensive
def test_tuned_rates_are_the_protocols_choice(benchmark):
    """TUNED_LR is what the report card's protocol chooses on the development seeds (recomputed): the
    recorded rate never diverges and its median loss is the grid's lowest, up to a near-tie within
    TIE (a tie that another machine's rounding may break either way: on the machine that recorded
    them, each recorded rate is the choice itself)."""
    import linnet
    from linnet.reports.card.questions import POST
    from linnet.sweeps.tuning import floored, tune_many

    benchmark.group = "modern claims"
    names = list(post_experiment.TUNED_LR)
    tuned = benchmark.pedantic(tune_many, args=([(linnet.parse(f"{n}[lr=0.001]"), POST) for n in names],),
                               rounds=1, iterations=1)
    store(benchmark, **{f"{n} lr": figure(t.lr, SENSITIVE) for n, t in zip(names, tuned, strict=True)})
    for n, t in zip(names, tuned, strict=True):
        recorded = t.scores[t.grid.index(post_experiment.TUNED_LR[n])]
        best = min(v for v in t.scores if v is not None)
        assert recorded is not None and floored(recorded) <= TIE * floored(best), (n, t.lr, recorded, best)
