"""The claims linnet checks, as plain functions of measured results, under one id each.

:mod:`linnet.claims.registry` lists every claim (its id, README row, statement, source, check,
run producer and verdict-line numbers). Each ``check_*`` function takes results (or measured
numbers) and returns a :class:`~linnet.claims.claim.Claim`: whether it holds, and the numbers it
rests on. Benchmarks assert ``claim.holds`` and carry ``@pytest.mark.claim("<id>")``; the CLI and
reports print ``claim.numbers``: one definition of each claim.

Modules: :mod:`~linnet.claims.claim` (the Claim record), :mod:`~linnet.claims.registry`,
:mod:`~linnet.claims.seeds` (development and held-out seeds), :mod:`~linnet.claims.statistics`
(estimates with 95% intervals; holds, does not hold or inconclusive);
:mod:`linnet.claims.post` (the post's claims: constants, producers, measures, checks,
second_order, at_depth) and :mod:`linnet.claims.literature` (the deep-network literature's claims:
dynamics, margin, narrow, width). Import each name from its defining module.

    >>> from linnet.claims.post.checks import check_plateau
    >>> from linnet.claims.post.producers import post_runs
    >>> check_plateau(post_runs(seed=0)).key, check_plateau(post_runs(seed=0)).holds
    ('post.plateau', True)

Imports: linnet.core, linnet.problems, linnet.optimizers, linnet.runs.
"""
