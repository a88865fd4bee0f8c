"""The leaderboard (``linnet leaderboard``): every registered optimizer tuned by the report card's one
protocol on one problem family, then ranked on held-out seeds by the steps it takes to relative
1e-6, 1e-12 and 1e-24, with a performance profile in steps and in seconds. Its problem family and
budgets (``family``), who is entered and who is not, with why (``entrants``), the runs and their
figures (``board``), the table as text and Markdown (``table``) and the command (``command``).

Imports: linnet.core, linnet.problems, linnet.optimizers, linnet.runs, linnet.claims, linnet.sweeps, linnet.testing.
"""
