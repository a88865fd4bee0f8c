"""Runs: the run loop, its result and the one run record; many problems of one shape as one batched
array program; the backends other than numpy; the machine a run ran on.

Modules: :mod:`~linnet.runs.loop` (:func:`linnet.run`), :mod:`~linnet.runs.result` (:class:`Result`),
:mod:`~linnet.runs.record` (the JSON-ready run record), :mod:`~linnet.runs.experiment` (an
experiment's runs keyed by :class:`Member`), :mod:`~linnet.runs.batched` (the batched
loop), :mod:`~linnet.runs.batched_steps` (its per-optimizer steps) and :mod:`~linnet.runs.batched_result`
(what a batched run produced),
:mod:`~linnet.runs.backends` (TensorFlow), :mod:`~linnet.runs.machine` (CPU, BLAS, versions).

Imports: linnet.core, linnet.problems, linnet.optimizers.
"""
