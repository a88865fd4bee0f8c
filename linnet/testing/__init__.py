"""The pytest side: the regression gate and its tolerances, what a benchmark stores about its run, the
claims verdict printed after ``pytest benchmarks``, and the machine calibration saved with each run.

Modules: :mod:`~linnet.testing.plugin` (the pytest plugin: options, the gate, required TensorFlow),
:mod:`~linnet.testing.gate` (the baseline), :mod:`~linnet.testing.tolerance` (the one rule for "a
figure changed"), :mod:`~linnet.testing.benchmarking` (``benchmark.extra_info``),
:mod:`~linnet.testing.verdicts` (the claims verdict), :mod:`~linnet.testing.user_optimizers` (which
benchmark runs which optimizer: a user's through ``--linnet-optimizer``), :mod:`~linnet.testing.calibration`,
and :mod:`~linnet.testing.conformance` (``check_optimizer``: the optimizer contract's rules, for any optimizer).

Imports: linnet.core, linnet.problems, linnet.optimizers, linnet.runs, linnet.claims, linnet.sweeps.
"""

from linnet.testing.conformance import check_optimizer, optimizer_checks

__all__ = ["check_optimizer", "optimizer_checks"]
