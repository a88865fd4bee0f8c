"""The report card of any optimizer (``linnet check``): the questions it is asked (``questions``), the
card itself (``card``: tuning, held-out runs, verdicts, standing against the built-ins), its figures
and self-contained HTML page (``page``) and the command (``command``).

Imports: linnet.core, linnet.problems, linnet.optimizers, linnet.runs, linnet.claims, linnet.sweeps, linnet.testing.
"""
